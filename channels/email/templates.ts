/**
 * The Chinese notices (DOMAIN.md 18): which obligation, which unit, which period, the due date and days left or
 * overdue, the legal basis with its quote, what to submit and how. Plain text plus an HTML alternative in which
 * every supplied text is escaped.
 */
import { periodWords } from '../../domain/words';
import { supervisionNumberText } from '../../domain/tracking';
import { DEFAULT_TIME_ZONE } from '../../domain/model';
import { parseDate } from '../../domain/dates';
import { parsePeriod, periodInChinese } from '../../domain/periods';
import type { PlannedNotice } from '../../domain/planner';
import type { PeopleProgress } from '../../domain/requests';
import type { TrackerDefinition } from '../../domain/trackers';

export interface NoticeContext {
  definition: TrackerDefinition;
  notice: PlannedNotice;
  period: { label: string; due: string; originalDue: string };
  /** The local day the notice goes out, YYYY-MM-DD. */
  sentOn: string;
  /** Per-person quotas: how many reached the quota and who is short (the first 20). */
  progress: { recorded: number; quota: number; people?: PeopleProgress };
  /** The 督办单 number of a level-2 notice, e.g. 督〔2027〕12号. */
  supervisionNumber?: string;
  /** Set when the notice goes out well after its planned time (an outage): the time it was due to go out. */
  lateSince?: string;
  /** A 催办 (stage urge): who in the supervising office sent it, and their note. */
  urge?: { by: string; note?: string };
  /** Signed action links, one block per recipient (DOMAIN.md 22); absent when the deployment has no link key. */
  links?: RecipientLinks[];
  /** Without links: the web service's address, where the recipient can sign in and act instead. */
  signInUrl?: string;
  /**
   * 协办: the copy is for a cooperating unit's person (their own copy, with their own links): it greets that unit's
   * liaison and says the unit cooperates (签收, 反馈进展) while the lead submits.
   */
  cooperating?: TrackerDefinition['unit'];
}

/** One recipient's links: each opens a page whose form, not the opening, records the action in their name. */
export interface RecipientLinks {
  name: string;
  email: string;
  links: { label: string; url: string }[];
}

export interface RenderedNotice {
  subject: string;
  text: string;
  html: string;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Header values never carry line breaks, whatever a file or a user supplied. */
export function oneLine(s: string): string {
  return s.replace(/[\r\n\u2028\u2029]+/g, ' ').trim();
}

function chineseDate(iso: string): string {
  const [y, m, d] = iso.split('-').map(Number);
  return `${y}年${m}月${d}日`;
}

function daysWord(sentOn: string, due: string): string {
  const days = parseDate(due)! - parseDate(sentOn)!;
  if (days > 0) return `距截止还有${days}天`;
  if (days === 0) return '今天截止';
  return `已逾期${-days}天`;
}

const LEVEL_TITLES: Record<number, string> = { 1: '催办通知', 2: '督办单', 3: '通报' };

/** 本期每人须达到60学时，已达标48人/共52人；尚未达标：赵强（差12学时）、… 等N人。 */
function perPersonProgress(
  quota: number,
  unit: 'times' | 'hours' | undefined,
  people: PeopleProgress | undefined,
): string {
  const u = unit === 'hours' ? '学时' : '次';
  const head = `本期每人须达到${quota}${u}`;
  if (!people) return `${head}。`;
  const shortCount = people.total - people.reached;
  const names = people.short.map((s) => `${s.name}（差${s.short}${u}）`).join('、');
  const more = shortCount > people.short.length ? `等${shortCount}人` : '';
  return `${head}，已达标${people.reached}人/共${people.total}人${shortCount ? `；尚未达标：${names}${more}` : ''}。`;
}

export function renderNotice(c: NoticeContext): RenderedNotice {
  const { definition: t, notice: n, period } = c;
  const o = t.obligation;
  const p = parsePeriod(o.period, period.label);
  const periodText = p ? periodInChinese(p) : period.label;
  const dueText = chineseDate(period.due);
  const extended = period.due !== period.originalDue ? `（经批准由${chineseDate(period.originalDue)}延期）` : '';
  const days = daysWord(c.sentOn, period.due);
  const raise = n.stage === 'raise';
  const kind =
    n.stage === 'reminder'
      ? '提醒'
      : n.stage === 'urge'
        ? '催办'
        : raise
          ? '提级督办单'
          : (LEVEL_TITLES[n.level] ?? '催办');
  // Who urged, by name: the ledger keeps the address (actorName), the message needs none.
  const urgedBy = c.urge ? oneLine(c.urge.by.replace(/\s*<[^>]*>$/, '')) : undefined;
  const number = c.supervisionNumber ? ` ${c.supervisionNumber}` : '';
  const subject = oneLine(
    `【${raise ? kind : `督办${kind}`}${number}】${t.unit.name}：${o.title}（${periodText}）${dueText}截止，${days}`,
  );
  const upper = t.raise?.office;
  const cooperators = (t.cooperators ?? []).map((u) => u.name);

  const progress =
    o.completion === 'quota'
      ? `本期要求完成${o.quota}次，已登记${c.progress.recorded}次。`
      : o.completion === 'rate'
        ? `本期${o.measure ?? '比率'}须不低于${o.threshold}%，请报送分子、分母数据。`
        : o.completion === 'count'
          ? `本期${o.measure ?? '数量'}须不少于${o.threshold}。`
          : o.completion === 'per-person'
            ? perPersonProgress(o.quota, o.quotaUnit, c.progress.people)
            : undefined;
  const greeting =
    n.stage === 'reminder'
      ? `${oneLine((c.cooperating ?? t.unit).liaison.name)}同志：`
      : n.stage === 'urge'
        ? `${[...new Set([t.unit.head.name, t.unit.liaison.name].map(oneLine))].join('、')}同志：`
        : n.level >= 3 && !raise
          ? '各位领导：'
          : `${oneLine(t.unit.head.name)}同志：`;
  const opening =
    n.stage === 'reminder' && c.cooperating
      ? `${c.cooperating.name}是以下任务的协办单位，该任务由${t.unit.name}主办，将于${dueText}截止（${days}）。请配合主办单位办理，签收并反馈进展；材料由主办单位报送。`
      : n.stage === 'reminder'
        ? `${t.unit.name}承担的以下任务将于${dueText}截止（${days}），请按时完成并报送。`
        : n.stage === 'urge'
          ? `${t.supervisor.name}${urgedBy ? `（${urgedBy}）` : ''}现就${t.unit.name}逾期未完成的以下任务进行催办（${days}），请主要负责人督促落实，尽快办理并报送。`
          : raise
            ? `${upper?.name ?? t.supervisor.name}现就${t.unit.name}逾期未完成的以下任务提级督办，发出督办单${number}：${t.supervisor.name}督办后该任务仍未完成（${days}）。请主要负责人督促落实，并于收到后尽快向${upper?.name ?? t.supervisor.name}和${t.supervisor.name}报送办理情况。`
            : n.level === 1
              ? `${t.unit.name}承担的以下任务已于${dueText}截止，目前尚未完成（${days}），请抓紧办理并报送。`
              : n.level === 2
                ? `${t.supervisor.name}现就${t.unit.name}逾期未完成的以下任务发出督办单${number}，请主要负责人督促落实，并于收到后尽快报送办理情况。`
                : `${t.unit.name}承担的以下任务已于${dueText}截止，逾期仍未完成（${days}），现列入通报，报请领导督促。`;
  const basis = o.basis.map((b) => `《${b.document}》${b.article ? b.article : ''}：“${b.quote}”`);
  const lines: [string, string][] = [
    ['任务', o.title],
    [cooperators.length ? '主办单位' : '承办单位', t.unit.name],
    ...(cooperators.length ? [['协办单位', cooperators.join('、')] as [string, string]] : []),
    ['期次', periodText],
    ['截止时间', `${dueText} 24时前${t.timeZone === DEFAULT_TIME_ZONE ? '' : `（${t.timeZone}时间）`}${extended}`],
    ['状态', days],
    ...(c.urge?.note ? [['催办意见', c.urge.note] as [string, string]] : []),
    ...(progress ? [['完成要求', progress] as [string, string]] : []),
    ...basis.map((b, i) => [i === 0 ? '依据' : '', b] as [string, string]),
    [
      '报送内容',
      o.deliverable ??
        (o.completion === 'quota' ? '每次活动的日期、主题和佐证材料' : '完成情况及佐证材料（文号、链接或说明）'),
    ],
    ['报送方式', o.howToSubmit ?? `请回复本邮件或联系${t.supervisor.name}。`],
    ['督办单位', t.supervisor.name],
    ...(raise && upper ? [['提级督办单位', upper.name] as [string, string]] : []),
  ];
  const linkBlocks = (c.links ?? []).filter((r) => r.links.length > 0);
  const linkIntro = linkBlocks.length
    ? `可直接点击以下链接办理（${linkBlocks.length === 1 ? '链接仅供您本人使用，以您的名义记入台账，请勿转发' : '每人一组，以本人名义记入台账'}）。打开链接只显示办理页面，不改变任何状态；在页面上提交后才记录。链接在本期办结或督办结束后失效。如无法使用链接，请登录督办系统或联系${t.supervisor.liaison.name}（${t.supervisor.liaison.email}）。`
    : undefined;
  const signIn =
    !linkIntro && c.signInUrl
      ? `也可登录督办系统办理签收、反馈进展和报送：${c.signInUrl}/login（使用本邮箱地址登录）。`
      : undefined;
  const late = c.lateSince
    ? `本通知原定于${c.lateSince}发送，因系统故障或积压延迟送达；上文天数按实际发送日计算。`
    : undefined;
  const code = n.stage === 'reminder' ? 'R' : n.stage === 'urge' ? 'U' : raise ? 'X' : `E${n.level}`;
  const footer = `本通知由督办系统（duban）依据任务清单自动发送。编号：${code}-${period.label}`;

  const text = [
    greeting,
    '',
    `    ${opening}`,
    '',
    ...lines.map(([k, v]) => (k ? `${k}：${v}` : `      ${v}`)),
    '',
    ...(linkIntro
      ? [
          linkIntro,
          ...linkBlocks.flatMap((r) => [`${oneLine(r.name)}：`, ...r.links.map((l) => `  ${l.label}：${l.url}`)]),
          '',
        ]
      : []),
    ...(signIn ? [signIn, ''] : []),
    ...(late ? [late, ''] : []),
    footer,
  ].join('\n');

  const rows = lines
    .map(
      ([k, v]) =>
        `<tr><th style="text-align:left;vertical-align:top;padding:4px 12px 4px 0;white-space:nowrap">${escapeHtml(k)}</th><td style="padding:4px 0">${escapeHtml(v)}</td></tr>`,
    )
    .join('\n');
  const html = `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head>
<body style="font-family:'PingFang SC','Microsoft YaHei',sans-serif;font-size:14px;line-height:1.6">
<p>${escapeHtml(greeting)}</p>
<p>${escapeHtml(opening)}</p>
<table>
${rows}
</table>
${linkIntro ? `<p>${escapeHtml(linkIntro)}</p>\n${linkBlocks.map((r) => `<p>${escapeHtml(oneLine(r.name))}：${r.links.map((l) => `<a href="${escapeHtml(l.url)}">${escapeHtml(l.label)}</a>`).join(' ｜ ')}</p>`).join('\n')}\n` : ''}${signIn && c.signInUrl ? `<p>也可登录督办系统办理签收、反馈进展和报送：<a href="${escapeHtml(c.signInUrl)}/login">${escapeHtml(c.signInUrl)}/login</a>（使用本邮箱地址登录）。</p>\n` : ''}${late ? `<p style="color:#a40">${escapeHtml(late)}</p>\n` : ''}<p style="color:#666;font-size:12px">${escapeHtml(footer)}</p>
</body></html>`;
  return { subject, text, html };
}

/** The report to the supervising office that a notice could not be delivered (a permanent rejection). */
export function renderUndeliverable(c: {
  definition: TrackerDefinition;
  period: string;
  subject: string;
  rejected: string[];
  reason: string;
  sentOn: string;
}): RenderedNotice {
  const t = c.definition;
  const subject = oneLine(`【督办退信】${t.unit.name}：通知无法送达（${c.rejected.join('、')}）`);
  const lines: [string, string][] = [
    ['原通知', c.subject],
    ['任务', t.obligation.title],
    ['承办单位', t.unit.name],
    ['期次', periodWords(c.period)],
    ['无法送达的地址', c.rejected.join('、')],
    ['邮件服务器答复', c.reason],
    ['日期', chineseDate(c.sentOn)],
  ];
  const text = [
    `${t.supervisor.liaison.name}同志：`,
    '',
    '    以下督办通知被收件方邮件服务器永久拒收，请核实单位名录中的联系人邮箱并更正。',
    '',
    ...lines.map(([k, v]) => `${k}：${v}`),
  ].join('\n');
  const html = `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head>
<body style="font-family:'PingFang SC','Microsoft YaHei',sans-serif;font-size:14px;line-height:1.6">
<p>${escapeHtml(t.supervisor.liaison.name)}同志：</p>
<p>以下督办通知被收件方邮件服务器永久拒收，请核实单位名录中的联系人邮箱并更正。</p>
<table>${lines.map(([k, v]) => `<tr><th style="text-align:left;padding:4px 12px 4px 0">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('')}</table>
</body></html>`;
  return { subject, text, html };
}

/** The supervising office's daily digest of items that newly turned red (DOMAIN.md 12). */
export function renderDigest(c: {
  supervisorName: string;
  day: string;
  /** Each item's tracker page in the web service, when the deployment has one (no sign-in is implied by it). */
  items: { unitName: string; obligationTitle: string; period: string; due: string; url?: string }[];
}): RenderedNotice {
  const subject = oneLine(`【督办日报】${c.supervisorName}：${c.items.length}项任务新逾期（${chineseDate(c.day)}）`);
  const overdue = (due: string) => daysWord(c.day, due);
  const lines = c.items.map(
    (i, n) =>
      `${n + 1}. ${oneLine(i.unitName)}：${oneLine(i.obligationTitle)}（${periodWords(i.period)}），${chineseDate(i.due)}截止，${overdue(i.due)}${i.url ? `\n   查看：${i.url}` : ''}`,
  );
  const text = [
    `${c.supervisorName}：`,
    '',
    `    截至${chineseDate(c.day)}，以下${c.items.length}项任务新近逾期未完成，已向承办单位主要负责人发出催办通知：`,
    '',
    ...lines,
    '',
    ...(c.items.some((i) => i.url) ? ['各项后的链接打开督办系统中的跟踪项页面（需登录）。'] : []),
    '本日报由督办系统（duban）自动汇总，每个工作日至多一份；二级督办单和通报仍逐项发送。',
  ].join('\n');
  const rows = c.items
    .map(
      (i) =>
        `<tr><td>${escapeHtml(i.unitName)}</td><td>${i.url ? `<a href="${escapeHtml(i.url)}">${escapeHtml(i.obligationTitle)}</a>` : escapeHtml(i.obligationTitle)}</td><td>${escapeHtml(periodWords(i.period))}</td><td>${escapeHtml(chineseDate(i.due))}</td><td>${escapeHtml(overdue(i.due))}</td></tr>`,
    )
    .join('\n');
  const html = `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head>
<body style="font-family:'PingFang SC','Microsoft YaHei',sans-serif;font-size:14px;line-height:1.6">
<p>${escapeHtml(c.supervisorName)}：</p>
<p>截至${escapeHtml(chineseDate(c.day))}，以下${c.items.length}项任务新近逾期未完成，已向承办单位主要负责人发出催办通知：</p>
<table border="1" cellspacing="0" cellpadding="4"><tr><th>承办单位</th><th>任务</th><th>期次</th><th>截止日期</th><th>状态</th></tr>
${rows}
</table>
<p style="color:#666;font-size:12px">本日报由督办系统（duban）自动汇总，每个工作日至多一份；二级督办单和通报仍逐项发送。</p>
</body></html>`;
  return { subject, text, html };
}

export { supervisionNumberText };
