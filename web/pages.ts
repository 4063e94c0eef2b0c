/**
 * The pages of the web service, in Chinese, server-rendered, no JavaScript. Every value goes through the `html`
 * template, which escapes it; every form carries the CSRF token.
 */
import { actionLabel, eventLabel, isAction, isLinkAction, offeredActions } from '../domain/actions';
import {
  NOTICE_WORDS,
  OUTCOME_WORDS,
  VERIFICATION_WORDS,
  Verification,
  daysLeftWords,
  handBackPendingWords,
  handBackWords,
  periodWords,
  raisedWords,
  stateWords,
  transferWords,
} from '../domain/words';
import { formatLocal } from '../domain/zone';
import { DEFAULT_TIME_ZONE } from '../domain/model';
import type { EventRow, NoticeRow, OutcomeRow, TrackerState } from '../ledger';
import type { GroupFigures, Report } from '../access/report';
import type { Obligation, Unit } from '../domain/model';
import { parseDate } from '../domain/dates';
import { parsePeriod, periodInChinese } from '../domain/periods';
import { RATINGS, supervisionNumberText } from '../domain/tracking';
import type { Outcome } from '../domain/tracking';
import type { PeriodStatus, TrackerStatus } from '../workflows/messages';
import type { BoardItem, EvidenceFileRow, SupervisionRow } from './data';
import { formatSize } from './evidence';
import { HtmlValue, SafeHtml, html } from './html';
import type { Person, WebAction } from './roles';

export const COLOURS = ['red', 'yellow', 'green', 'done', 'waived'] as const;
export const COLOUR_LABEL: Record<string, string> = {
  red: '红灯（逾期）',
  yellow: '黄灯（临近）',
  green: '绿灯',
  done: '已办结',
  waived: '已免除',
  broken: '无法排期',
};
/** The light's label: its colour, except that work handed in or returned says where it stands (domain/words.ts). */
function lightLabel(colour: string, verification: string | undefined): string {
  if (colour === 'done' || verification === 'returned') return stateWords({ colour, verification });
  return COLOUR_LABEL[colour] ?? colour;
}
const COLOUR_SHORT: Record<string, string> = { red: '红', yellow: '黄', green: '绿', done: '办结', waived: '免除' };

/** An instant as the people of the tracker's zone read it (the page's zone, else the catalog's default). */
const dateTime = (ms: number | null | undefined, timeZone: string): HtmlValue =>
  ms === null || ms === undefined || Number.isNaN(ms)
    ? ''
    : // A span that does not wrap: a narrow column never breaks a date in the middle (issue 19.8).
      html`<span class="when">${new Intl.DateTimeFormat('zh-CN', {
        timeZone,
        dateStyle: 'short',
        timeStyle: 'medium',
        hour12: false,
      }).format(new Date(ms))}</span>`;

/** A due date that does not wrap mid-date. */
const day = (d: string): SafeHtml => html`<span class="when">${d}</span>`;

export interface PageContext {
  person?: Person;
  csrf?: string;
  /** The embedded `npm start` mode: the mail catcher's messages are linked. */
  mailbox?: boolean;
  /** The embedded `npm start` mode with the local robot and SMS fakes: what they received is linked. */
  channels?: boolean;
  /** The zone times are shown in: the tracker's on its pages; absent, the catalog's default (Asia/Shanghai). */
  timeZone?: string;
}

const zoneOf = (ctx: PageContext) => ctx.timeZone ?? DEFAULT_TIME_ZONE;

export function csrfField(ctx: PageContext): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${ctx.csrf ?? ''}">`;
}

export function layout(ctx: PageContext, title: string, body: HtmlValue): string {
  const p = ctx.person;
  return html`<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · 法治政府建设督办系统</title>
<link rel="stylesheet" href="/static/duban.css">
</head>
<body>
<header>
<a class="brand" href="/">法治政府建设督办系统</a>
<nav>${p ? html`<a href="/">亮灯</a> <a href="/report">年度考核</a> <a href="/supervision">督办单登记</a>` : ''}${p?.admin ? html` <a href="/import">导入</a>` : ''}${ctx.mailbox ? html` <a href="/mail">本地邮件</a>` : ''}${ctx.channels ? html` <a href="/channels">本地群消息和短信</a>` : ''}</nav>
${
  p
    ? html`<form class="who" method="post" action="/logout">${csrfField(ctx)}<span>${p.name}（${p.roles.join(
        '、',
      )}）</span> <button type="submit">退出</button></form>`
    : ''
}
</header>
<main>
<h1>${title}</h1>
${body}
</main>
</body>
</html>`.value;
}

export function messagePage(ctx: PageContext, title: string, message: string, extra: HtmlValue = ''): string {
  return layout(ctx, title, html`<p class="message">${message}</p>${extra}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Sign-in.

export function signInPage(ctx: PageContext, notice?: string): string {
  return layout(
    ctx,
    '登录',
    html`${notice ? html`<p class="message">${notice}</p>` : ''}
<p>请输入您在单位名录中登记的电子邮箱，系统将向该邮箱发送一次性登录链接（${'15'}分钟内有效，只能使用一次）。</p>
<form method="post" action="/login">${csrfField(ctx)}
<label>电子邮箱 <input type="email" name="email" required autocomplete="email"></label>
<button type="submit">发送登录链接</button>
</form>`,
  );
}

export function signInSentPage(ctx: PageContext, minutes: number): string {
  return messagePage(
    ctx,
    '请查收邮件',
    `如果该邮箱已在单位名录中登记，我们已向其发送登录链接，${minutes}分钟内有效，只能使用一次。请打开邮件中的链接完成登录。`,
  );
}

export function signInConfirmPage(ctx: PageContext, token: string): string {
  return layout(
    ctx,
    '确认登录',
    html`<p>请点击下面的按钮完成登录。（为防止邮件安全网关预先打开链接，登录需要您确认。）</p>
<form method="post" action="/login/confirm">${csrfField(ctx)}<input type="hidden" name="token" value="${token}">
<button type="submit">登录</button></form>`,
  );
}

// ---------------------------------------------------------------------------------------------------------------
// The board.

export interface BoardView {
  units: { unit: string; name: string; red: number; yellow: number; green: number; done: number; waived: number }[];
  /** Each item with its names; `names`: unit names by id, for its cooperating units (协办) and the office raised to. */
  items: (BoardItem & { obligationTitle: string; unitName: string; names?: ReadonlyMap<string, string> })[];
  total: number;
  filter: { unit?: string; obligation?: string; colour?: string };
  unitChoices: { id: string; name: string }[];
  obligationChoices: { id: string; title: string }[];
  shownLimit: number;
  /** The workers' open operator alerts (issue 21.2: SMTP taking nothing; 22.4: a broken channel), above the board. */
  alerts?: BoardAlert[];
  /** Today in the catalog's zone (YYYY-MM-DD): the days-left column counts calendar days from it. */
  today?: string;
  /** Levels (issue 24): the jurisdiction the board stands in, the way up, and the totals of the ones beneath. */
  levels?: BoardLevels;
}

/**
 * Calendar days left to the due date (剩余), or past it (逾期), counted from today in the catalog's zone; a period
 * done or waived shows none. Calendar days, not working days: the column says so in its heading.
 */
export function daysLeft(due: string, today: string | undefined, colour: string): string {
  const d = parseDate(due);
  const t = today ? parseDate(today) : undefined;
  if (d === undefined || t === undefined || colour === 'done' || colour === 'waived' || colour === 'broken') return '—';
  return daysLeftWords(d - t, colour) || '—';
}

/** An open operator alert: its kind (`smtp`, `channel`), since when, and for a channel its name and Chinese text. */
export interface BoardAlert {
  kind: string;
  since: number;
  channel?: string;
  text?: string;
}

/** What an open alert means for the people on the board, in their words (the log and /readyz have the detail). */
const ALERT_TEXT: Record<string, string> = {
  smtp: '邮件系统未能发送通知。通知均已保留，恢复后自动补发；请系统管理员检查邮件服务器设置（SMTP_URL）。',
};

const option = (value: string, label: string, selected: string | undefined) =>
  html`<option value="${value}"${selected === value ? html` selected` : ''}>${label}</option>`;

export function boardPage(ctx: PageContext, v: BoardView): string {
  const f = v.filter;
  return layout(
    ctx,
    '亮灯',
    html`${(v.alerts ?? []).map((a) => html`<p class="error" role="alert" data-alert="${a.kind}"${a.channel ? html` data-channel="${a.channel}"` : ''}>系统告警（自${dateTime(a.since, zoneOf(ctx))}起）：${ALERT_TEXT[a.kind] ?? a.text ?? '工作进程报告了一个问题，请系统管理员查看日志。'}</p>`)}<form class="filters" method="get" action="/">
<label>单位 <select name="unit"><option value="">全部</option>${v.unitChoices.map((u) => option(u.id, u.name, f.unit))}</select></label>
<label>任务 <select name="obligation"><option value="">全部</option>${v.obligationChoices.map((o) => option(o.id, o.title, f.obligation))}</select></label>
<label>灯色 <select name="colour"><option value="">全部</option>${COLOURS.map((c) => option(c, COLOUR_LABEL[c]!, f.colour))}</select></label>
${v.levels ? html`<input type="hidden" name="jurisdiction" value="${v.levels.current.id}">` : ''}<button type="submit">筛选</button>
</form>
${v.levels ? levelsBlock(v.levels, f) : ''}<div class="scroll"><table class="units">
<thead><tr><th>${v.levels?.children.length ? '本级单位' : '单位'}</th>${COLOURS.map((c) => html`<th class="c-${c}">${COLOUR_SHORT[c]}</th>`)}<th>合计</th></tr></thead>
<tbody>
${v.units.map(
  (u) =>
    html`<tr data-unit="${u.unit}"><td><a href="/?unit=${encodeURIComponent(u.unit)}">${u.name}</a></td>
${COLOURS.map((c) => html`<td class="n c-${c}${u[c] ? '' : ' zero'}" data-colour="${c}">${u[c]}</td>`)}
<td class="n total">${COLOURS.reduce((n, c) => n + u[c], 0)}</td></tr>`,
)}
</tbody>
${
  v.units.length
    ? html`<tfoot><tr class="totals"><th>合计</th>
${COLOURS.map((c) => html`<td class="n c-${c}" data-colour="${c}">${v.units.reduce((n, u) => n + u[c], 0)}</td>`)}
<td class="n total">${v.units.reduce((n, u) => n + COLOURS.reduce((m, c) => m + u[c], 0), 0)}</td></tr></tfoot>`
    : ''
}
</table></div>
<h2>跟踪项（最紧急的在前）</h2>
<div class="scroll"><table class="items">
<thead><tr><th>灯色</th><th>任务</th><th>单位</th><th>期次</th><th>截止</th><th>剩余/逾期（日历日）</th><th>签收</th></tr></thead>
<tbody>
${v.items.map(
  (i) =>
    html`<tr data-tracker="${i.trackerId}" data-period="${i.period}">
<td><span class="light c-${i.colour}">${lightLabel(i.colour, i.verification)}</span>${
      i.raisedTo ? html`<div class="k raised">${raisedWords(i.names?.get(i.raisedTo) ?? i.raisedTo)}</div>` : ''
    }${i.handBackBy ? html`<div class="k handback">${handBackPendingWords(i.handBackBy)}</div>` : ''}</td>
<td><a href="${trackerHref(i.trackerId)}">${i.obligationTitle}</a></td><td>${boardUnits(i)}</td><td>${periodWords(i.period)}</td>
<td>${day(i.due)}</td><td class="days">${daysLeft(i.due, v.today, i.colour)}</td>
<td>${i.problem ? html`无法排期：${i.problem}` : i.acknowledged ? '已签收' : i.colour === 'yellow' || i.colour === 'red' ? html`<b class="unack">未签收</b>` : '—'}</td>
</tr>`,
)}
</tbody>
</table></div>
<p class="note">${v.total > v.shownLimit ? `共 ${v.total} 项，显示最紧急的 ${v.shownLimit} 项；请用筛选缩小范围。` : `共 ${v.total} 项。`}</p>`,
  );
}

/** The board's unit cell: the lead (主办) and, when the tracker has them, its cooperating units (协办) with their 签收. */
function boardUnits(i: BoardView['items'][number]): SafeHtml {
  if (!i.cooperators?.length) return html`${i.unitName}`;
  return html`${i.unitName}<span class="k">（主办）</span><div class="k cooperators">协办：${i.cooperators.map(
    (c, n) =>
      html`${n ? '、' : ''}<span data-cooperator="${c.unit}">${i.names?.get(c.unit) ?? c.unit}${
        c.acknowledgedAt !== undefined ? '（已签收）' : html`（<b class="unack">未签收</b>）`
      }</span>`,
  )}</div>`;
}

// ---- Levels (issue 24): the board's drill-down, region → city → county ------------------------------------------

type Counts = { red: number; yellow: number; green: number; done: number; waived: number };

export interface BoardLevels {
  current: { id: string; name: string };
  /** From the top down to the current jurisdiction; a link where the person reads that level. */
  trail: { id: string; name: string; link: boolean }[];
  /** The totals of the current jurisdiction and every one beneath it. */
  totals: Counts;
  /** The jurisdictions directly beneath, each with the totals of its own subtree. */
  children: { id: string; name: string; counts: Counts }[];
}

/** The board's place in the tree: a trail up, the totals of this level, and one row per jurisdiction beneath. */
function levelsBlock(l: BoardLevels, f: BoardView['filter']): HtmlValue {
  const keep = `${f.obligation ? `&obligation=${encodeURIComponent(f.obligation)}` : ''}${f.colour ? `&colour=${encodeURIComponent(f.colour)}` : ''}`;
  const href = (id: string) => `/?jurisdiction=${encodeURIComponent(id)}${keep}`;
  const sum = (c: Counts) => COLOURS.reduce((n, k) => n + c[k], 0);
  const cells = (c: Counts) =>
    COLOURS.map((k) => html`<td class="n c-${k}${c[k] ? '' : ' zero'}" data-colour="${k}">${c[k]}</td>`);
  return html`<nav class="trail" aria-label="辖区">辖区：${l.trail.map(
    (t, i) =>
      html`${i ? ' › ' : ''}${t.link && t.id !== l.current.id ? html`<a href="${href(t.id)}" data-jurisdiction="${t.id}">${t.name}</a>` : html`<b data-jurisdiction="${t.id}">${t.name}</b>`}`,
  )}</nav>
<div class="scroll"><table class="jurisdictions">
<thead><tr><th>辖区</th>${COLOURS.map((c) => html`<th class="c-${c}">${COLOUR_SHORT[c]}</th>`)}<th>合计</th></tr></thead>
<tbody>
${l.children.map(
  (c) =>
    html`<tr data-jurisdiction="${c.id}"><td><a href="${href(c.id)}">${c.name}</a></td>
${cells(c.counts)}<td class="n total">${sum(c.counts)}</td></tr>`,
)}
</tbody>
<tfoot><tr class="totals" data-jurisdiction-total="${l.current.id}"><th>${l.current.name}合计</th>
${cells(l.totals)}<td class="n total">${sum(l.totals)}</td></tr></tfoot>
</table></div>
`;
}

export function trackerHref(trackerId: string, suffix = ''): string {
  return `/t/${trackerId.split('/').map(encodeURIComponent).join('/')}${suffix}`;
}

// ---------------------------------------------------------------------------------------------------------------
// A tracker.

export interface TrackerView {
  trackerId: string;
  obligation?: Obligation;
  unit?: Unit;
  state?: TrackerState;
  status?: TrackerStatus;
  notices: NoticeRow[];
  events: EventRow[];
  outcomes: OutcomeRow[];
  files: EvidenceFileRow[];
  actions: WebAction[];
  /** The page's clock (tests pin it); absent, now. */
  now?: number;
  /** A fresh one-time token for each form rendered (a replayed or double-clicked form is answered once). */
  formToken?: () => string;
  /** A refusal or a problem with the last request, shown above the forms. */
  error?: string;
  done?: string;
  limits: { maxFileBytes: number; maxFiles: number };
  /** 协办: the tracker's cooperating units, from the registered catalog (the lead is the tracker's unit). */
  cooperators?: { id: string; name: string }[];
  /** 协办: the reader acts for this cooperating unit of the tracker (签收 and 反馈进展 only). */
  cooperating?: { id: string; name: string };
  /** 代办: the unit's stand-in ranges not cancelled and not over, for its staff to see and cancel. */
  standIns?: { id: string; absent: string; standIn: string; from: string; to: string }[];
}

function describeData(
  kind: string,
  data: Record<string, unknown> | undefined,
  files: Map<string, EvidenceFileRow>,
  trackerId: string,
): HtmlValue {
  if (!data) return '';
  const parts: HtmlValue[] = [];
  const ev = (data.evidence ?? (kind === 'progress' ? data : undefined)) as Record<string, unknown> | undefined;
  const add = (label: string, value: unknown) => {
    if (value === undefined || value === null || value === '') return;
    parts.push(html`<div><span class="k">${label}</span> ${String(value)}</div>`);
  };
  if (data.cooperator === true) add('协办单位', data.unitName);
  add('说明', data.note);
  if (ev && typeof ev === 'object') {
    add('文号', ev.documentNumber);
    add('说明', ev.text);
    if (typeof ev.link === 'string' && /^https?:\/\//i.test(ev.link))
      parts.push(
        html`<div><span class="k">链接</span> <a href="${ev.link}" rel="noopener noreferrer nofollow">${ev.link}</a></div>`,
      );
    const list = Array.isArray(ev.files) ? (ev.files as { name?: unknown; sha256?: unknown; size?: unknown }[]) : [];
    for (const f of list) {
      const sha = String(f.sha256 ?? '');
      const known = files.get(sha);
      parts.push(
        html`<div><span class="k">附件</span> ${
          known
            ? html`<a href="${trackerHref(trackerId, `/files/${sha}`)}">${String(f.name ?? known.name)}</a>`
            : String(f.name ?? '')
        } <span class="hash">校验值（SHA-256） ${sha}</span></div>`,
      );
    }
  }
  // 转办: each side's record names the other unit (转办给…, 由…转来).
  const moved = transferWords(kind, data);
  if (moved) parts.push(html`<div class="transfer">${moved}</div>`);
  add('日期', data.date);
  add('主题', data.topic);
  if (data.count !== undefined) add('进度', `${String(data.count)}/${String(data.quota)}`);
  add('评定', data.rating);
  add('新截止日期', data.newDue);
  add('理由', data.reason);
  add('结果', typeof data.outcome === 'string' ? (OUTCOME_WORDS[data.outcome as Outcome] ?? data.outcome) : undefined);
  return parts;
}

export function trackerPage(ctx: PageContext, v: TrackerView): string {
  const zone = zoneOf(ctx);
  const s = v.status;
  const title = `${v.obligation?.title ?? v.trackerId.split('/')[0]} · ${v.unit?.name ?? v.trackerId.split('/')[1]}`;
  const colour = s?.colour ?? v.state?.colour;
  const fileMap = new Map(v.files.map((f) => [f.sha256, f]));
  const timeline = [
    ...v.notices.map((n) => ({ at: n.sent_at ?? n.fired_at ?? n.planned_at, row: noticeRow(n, zone) })),
    ...v.events.map((e) => ({ at: e.at, row: eventRow(e, fileMap, v.trackerId, zone) })),
  ].sort((a, b) => a.at - b.at);
  return layout(
    ctx,
    title,
    html`${v.error ? html`<p class="error" role="alert">未办理：${v.error}</p>` : ''}${v.done ? html`<p class="message" role="status">${v.done}</p>` : ''}
<section class="summary">
<p><span class="light c-${colour ?? 'none'}">${colour ? lightLabel(colour, s?.periods.find((p) => p.colour === colour)?.verification) : '无状态'}</span>
${s && s.history.length ? lastOutcome(s) : ''}${s?.waitingFor ? html` <b>等待事项日期</b>：${s.waitingFor}（日期确定后开始提醒）` : ''}${
      s?.problem ? html` <b>无法排期</b>：${s.problem}（请更正任务清单后重新登记）` : ''
    }${!s && v.state ? html` 期次 <b>${periodWords(v.state.period)}</b>，截止 <b>${v.state.due}</b>` : ''}
${s?.paused ? '，已暂停' : ''}${s?.retired || (v.state && !v.state.active) ? '，已停用' : ''}</p>
${cooperationSummary(v)}
${
  s && s.periods.length
    ? html`<table class="periods"><tr><th>期次</th><th>状态</th><th>截止</th><th>办理情况</th><th>签收</th><th>进展</th>
${columnsOf(s).cooperators ? html`<th>协办单位签收</th>` : ''}${columnsOf(s).raised ? html`<th>提级督办</th>` : ''}
</tr>${s.periods.map((p) => periodRow(s, p, zone))}</table>`
    : ''
}
${v.obligation ? html`<p><span class="k">依据</span> ${v.obligation.basis.map((b) => html`《${b.document}》${b.article ?? ''}：“${b.quote}” `)}</p>` : ''}
${v.obligation?.deliverable ? html`<p><span class="k">报送内容</span> ${v.obligation.deliverable}</p>` : ''}
</section>
${v.actions.length ? actionForms(ctx, v) : ''}
<h2>往期结果</h2>
${
  v.outcomes.length
    ? html`<table class="outcomes"><thead><tr><th>期次</th><th>结果</th><th>截止</th><th>完成时间</th></tr></thead><tbody>${v.outcomes.map(
        (o) =>
          html`<tr><td>${periodWords(o.period)}</td><td>${OUTCOME_WORDS[o.outcome] ?? o.outcome}</td>
<td>${day(o.original_due)}${o.due !== o.original_due ? `（延至 ${o.due}）` : ''}</td><td>${dateTime(o.completed_at, zone)}</td></tr>`,
      )}</tbody></table>`
    : html`<p class="note">暂无。</p>`
}
<h2>通知与办理记录</h2>
<table class="timeline"><thead><tr><th>时间</th><th>期次</th><th>事项</th><th>详情</th></tr></thead><tbody>${timeline.map((t) => t.row)}</tbody></table>
${
  v.files.length
    ? html`<h2>佐证材料</h2><ul class="files">${v.files.map(
        (f) =>
          html`<li><a href="${trackerHref(v.trackerId, `/files/${f.sha256}`)}">${f.name}</a> ${f.type} ${formatSize(f.size)} · ${periodWords(
            f.period,
          )} · ${f.uploadedBy} ${dateTime(f.uploadedAt, zone)} <span class="hash">校验值（SHA-256） ${f.sha256}</span></li>`,
      )}</ul>`
    : ''
}`,
  );
}

function noticeRow(n: NoticeRow, zone: string): SafeHtml {
  const to = safeList(n.recipients_to);
  const cc = safeList(n.recipients_cc);
  return html`<tr class="notice"><td>${dateTime(n.sent_at ?? n.fired_at ?? n.planned_at, zone)}</td><td>${periodWords(n.period)}</td>
<td>${NOTICE_WORDS[n.stage] ?? n.stage}${n.stage === 'escalation' ? ` ${n.level}级` : ''}${
    n.supervision_no
      ? html` <b class="docno">${supervisionNumberText(Number(n.supervision_year), Number(n.supervision_no))}</b>`
      : ''
  }</td>
<td>${n.subject ?? ''}<div class="k">邮件编号 ${n.message_id}</div>
<div class="k">收件 ${to.join('，')}${cc.length ? `；抄送 ${cc.join('，')}` : ''} · ${n.status === 'sent' ? '已发送' : n.status === 'rejected' ? '被拒收' : '发送中'}</div></td>
</tr>`;
}

function safeList(json: string): string[] {
  try {
    const v = JSON.parse(json) as unknown;
    return Array.isArray(v) ? v.map(String) : [];
  } catch {
    return [];
  }
}

function eventRow(e: EventRow, files: Map<string, EvidenceFileRow>, trackerId: string, zone: string): SafeHtml {
  let data: Record<string, unknown> | undefined;
  try {
    data = e.data ? (JSON.parse(e.data) as Record<string, unknown>) : undefined;
  } catch {
    data = undefined;
  }
  return html`<tr class="event" data-kind="${e.kind}"><td>${dateTime(e.at, zone)}</td><td>${periodWords(e.period)}</td>
<td>${eventLabel(e.kind)}${e.actor ? html`<div class="k">${e.actor}</div>` : ''}</td><td>${describeData(e.kind, data, files, trackerId)}</td></tr>`;
}

/** The latest settled period, as a person reads it: 已办结, 已免除 or 未完成, with the outcome. */
function lastOutcome(s: TrackerStatus): SafeHtml {
  const h = s.history[s.history.length - 1]!;
  const word = h.outcome === 'waived' ? '已免除' : h.outcome === 'missed' ? '未完成' : '已办结';
  return html` 最近一期 <b>${periodWords(h.period)}</b> ${word}（${OUTCOME_WORDS[h.outcome] ?? h.outcome}）；`;
}

/** One open period of a tracker: overdue ones stay open beside the current one (DOMAIN.md 19). */
function periodRow(s: TrackerStatus, p: PeriodStatus, zone: string): SafeHtml {
  const work =
    s.completion === 'quota'
      ? `已登记 ${p.recorded}/${s.quota} 次`
      : s.completion === 'per-person' && p.people
        ? `${p.people.reached}/${p.people.total} 人达标${p.people.short.length ? `；尚未达标：${p.people.short.map((x) => `${x.name}（差${x.short}）`).join('、')}` : ''}`
        : s.completion === 'rate' || s.completion === 'count'
          ? p.report
            ? `已报送数据：${s.completion === 'rate' ? `${p.report.numerator}/${p.report.denominator}（${p.report.value}%）` : p.report.value}，${
                p.report.meets ? '达到' : '未达到'
              }要求（${s.threshold}${s.completion === 'rate' ? '%' : ''}）`
            : `未报送数据（要求 ${s.threshold}${s.completion === 'rate' ? '%' : ''}${s.measure ? `，${s.measure}` : ''}）`
          : p.submitted
            ? '已报送'
            : '未报送';
  const check =
    p.verification !== 'not required'
      ? `，核实：${VERIFICATION_WORDS[p.verification as Verification] ?? p.verification}${p.rating ? `（${p.rating}）` : ''}`
      : '';
  const ext = p.pendingExtension
    ? `，延期申请待审批（至 ${p.pendingExtension.newDue}，理由：${p.pendingExtension.reason}）`
    : '';
  // 退回 waiting for the office (DOMAIN.md 27): said in the row, beside the office's 转办 and 不同意退回 forms.
  const handBack = p.handBack
    ? html`<div class="handback">${handBackWords(p.handBack, formatLocal(p.handBack.at, zone).slice(0, 10))}</div>`
    : '';
  const last = p.progress[p.progress.length - 1];
  return html`<tr data-period="${p.period}"><td>${periodWords(p.period)}</td>
<td><span class="light c-${p.colour}">${stateWords(p)}</span></td>
<td>${day(p.due)}${p.due !== p.originalDue ? `（原截止 ${p.originalDue}，已延期）` : ''}</td><td>${work}${check}${ext}${handBack}</td>
<td>${p.acknowledged ? html`${p.acknowledged.by} ${dateTime(p.acknowledged.at, zone)}` : html`<b class="unack">未签收</b>`}</td>
<td>${last ? html`${p.progressCount} 次；最近 ${dateTime(last.at, zone)} ${last.unitName ? `（协办：${last.unitName}）` : ''}${last.by}：${last.note}` : '—'}</td>
${columnsOf(s).cooperators ? html`<td class="cooperators">${cooperatorCells(p, zone)}</td>` : ''}${
    columnsOf(s).raised
      ? html`<td class="raised">${p.raised ? `已提级至${p.raised.officeName}（${dateTime(p.raised.at, zone)}）` : '—'}</td>`
      : ''
  }</tr>`;
}

/** The periods table's columns of 协办 and 提级督办: shown when any open period has them. */
function columnsOf(s: TrackerStatus): { cooperators: boolean; raised: boolean } {
  return {
    cooperators: s.periods.some((p) => (p.cooperators?.length ?? 0) > 0),
    raised: s.periods.some((p) => p.raised !== undefined),
  };
}

// --- 协办 and 提级督办 (DOMAIN.md 28, 26) -----------------------------------------------------------------------

/** Each cooperating unit of a period: who acknowledged for it and when, or 未签收. */
function cooperatorCells(p: PeriodStatus, zone: string): SafeHtml[] {
  return (p.cooperators ?? []).map(
    (c) =>
      html`<div data-cooperator="${c.unit}">${c.name}：${
        c.acknowledged
          ? html`已签收（${c.acknowledged.by} ${dateTime(c.acknowledged.at, zone)}）`
          : html`<b class="unack">未签收</b>`
      }${c.progressCount ? `，反馈进展 ${c.progressCount} 次` : ''}</div>`,
  );
}

/** The lead (主办) and the cooperating units (协办) of a tracker page, and what the reader may do as a cooperator. */
function cooperationSummary(v: TrackerView): SafeHtml | string {
  const cooperators = v.cooperators ?? [];
  if (!cooperators.length && !v.cooperating) return '';
  const lead = v.unit?.name ?? v.trackerId.split('/')[1];
  return html`<p class="cooperation"><span class="k">主办单位</span> ${lead}${
    cooperators.length ? html` <span class="k">协办单位</span> ${cooperators.map((c) => c.name).join('、')}` : ''
  }</p>${
    v.cooperating
      ? html`<p class="note" data-cooperating="${v.cooperating.id}">您是协办单位${v.cooperating.name}的人员：可签收和反馈进展，并查看主办单位的报送；材料由主办单位${lead}报送。</p>`
      : ''
  }`;
}

/** 协办 on the link page's status: each cooperating unit's 签收. */
function cooperatorsText(p: PeriodStatus): string {
  if (!p.cooperators?.length) return '';
  return `；协办单位：${p.cooperators.map((c) => `${c.name}${c.acknowledged ? '已签收' : '未签收'}`).join('、')}`;
}

/** What every form of the tracker page is given: where to post, its period field, the CSRF field, the tracker. */
interface FormParts {
  ctx: PageContext;
  v: TrackerView;
  href: (a: WebAction) => string;
  periodField: SafeHtml;
  fileField: SafeHtml;
  kind: TrackerStatus['completion'] | undefined;
  pending: PeriodStatus | undefined;
}

const FORM_BODIES: Record<WebAction, (f: FormParts) => SafeHtml> = {
  urge: (f) =>
    html`${f.periodField}
<label>催办说明（可选） <textarea name="note" maxlength="2000"></textarea></label><button type="submit">立即催办</button>`,
  acknowledge: (f) => html`${f.periodField}<button type="submit">签收</button>`,
  progress: (f) =>
    html`${f.periodField}
<label>进展情况 <textarea name="note" required maxlength="2000"></textarea></label>${f.fileField}<button type="submit">提交进展</button>`,
  submit: (f) =>
    html`${f.periodField}
<label>文号 <input name="documentNumber" maxlength="200"></label>
<label>链接 <input name="link" type="url" maxlength="2000" placeholder="https://"></label>
<label>说明 <textarea name="text" maxlength="2000"></textarea></label>${f.fileField}<button type="submit">报送</button>`,
  record: (f) =>
    html`${f.periodField}
${
  f.kind === 'per-person'
    ? html`<label>人员编号（名册） <input name="person" required maxlength="64"></label>
<label>学时 <input name="hours" type="number" min="0" step="0.5"></label>`
    : ''
}
<label>日期 <input name="date" type="date" required></label>
<label>主题 <input name="topic" required maxlength="2000"></label><button type="submit">登记</button>`,
  report: (f) =>
    html`${f.periodField}
${
  f.kind === 'rate'
    ? html`<label>分子 <input name="numerator" type="number" min="0" required></label>
<label>分母 <input name="denominator" type="number" min="0" required></label>`
    : html`<label>数量 <input name="count" type="number" min="0" required></label>`
}
<label>说明 <textarea name="note" maxlength="2000"></textarea></label><button type="submit">报送</button>`,
  requestExtension: (f) =>
    html`${f.periodField}
<label>新截止日期 <input name="newDue" type="date" required></label>
<label>理由 <textarea name="reason" required maxlength="2000"></textarea></label><button type="submit">申请延期</button>`,
  verify: (f) =>
    html`${f.periodField}
<label>评定 <select name="rating"><option value="">（退回时不填）</option>${RATINGS.map((r) => html`<option value="${r}">${r}</option>`)}</select></label>
<label>理由（退回时必填） <textarea name="reason" maxlength="2000"></textarea></label>
<button type="submit" name="decision" value="accept">核实通过</button>
<button type="submit" name="decision" value="return">退回重办</button>`,
  decideExtension: (f) => {
    const p = f.pending!;
    const ext = p.pendingExtension!;
    return html`<input type="hidden" name="period" value="${p.period}">
<p>${periodWords(p.period)}：申请延期至 ${ext.newDue}，理由：${ext.reason}（${ext.by}）</p>
<label>意见 <textarea name="reason" maxlength="2000"></textarea></label>
<button type="submit" name="approve" value="yes">批准</button> <button type="submit" name="approve" value="no">驳回</button>`;
  },
  waive: (f) =>
    html`${f.periodField}
<label>理由 <textarea name="reason" required maxlength="2000"></textarea></label><button type="submit">免除</button>`,
  handBack: (f) =>
    html`${f.periodField}
<label>退回理由（为何不属于本单位） <textarea name="reason" required maxlength="2000"></textarea></label><button type="submit">退回督察单位</button>`,
  refuseHandBack: (f) =>
    html`${f.periodField}
<label>不同意退回的理由 <textarea name="reason" required maxlength="2000"></textarea></label><button type="submit">不同意退回</button>`,
  transfer: (f) =>
    html`${f.periodField}
<label>转办给（单位编号） <input name="to" required maxlength="64"></label>
<label>转办理由 <textarea name="reason" required maxlength="2000"></textarea></label><button type="submit">转办</button>`,
  pause: () => html`<button type="submit">暂停提醒</button>`,
  resume: () => html`<button type="submit">恢复提醒</button>`,
  retire: () =>
    html`<label>理由 <textarea name="reason" required maxlength="2000"></textarea></label>
<button type="submit">停用此跟踪项</button>`,
};

/** A form's heading where it differs from the action's label. */
const FORM_TITLE: Partial<Record<WebAction, string>> = { waive: '免除本期' };
const MULTIPART: readonly WebAction[] = ['progress', 'submit'];

/**
 * The forms the person may use now: the same rule as the emails' links (domain/actions.ts `offeredActions`); a
 * form that belongs to the person but cannot apply now is shown without its fields, with the reason.
 */
function actionForms(ctx: PageContext, v: TrackerView): SafeHtml {
  const kind = v.status?.completion ?? v.obligation?.completion;
  const open = v.status?.periods ?? [];
  const verification = v.obligation?.verification ?? (open[0] ? open[0].verification !== 'not required' : true);
  const period = open[0]?.period ?? v.state?.period ?? '';
  // Several open periods (an overdue one beside the current one): the form says which; the oldest by default.
  const periodField =
    open.length > 1
      ? html`<label>期次 <select name="period">${open.map(
          (p) => html`<option value="${p.period}">${periodWords(p.period)}（截止 ${p.due}）</option>`,
        )}</select></label>`
      : html`<input type="hidden" name="period" value="${period}">`;
  const fileField = html`<label>附件（PDF、OFD、DOC/DOCX、XLS/XLSX、JPG/PNG，每个不超过 ${formatSize(v.limits.maxFileBytes)}，最多 ${v.limits.maxFiles} 个）
<input type="file" name="files" multiple accept=".pdf,.ofd,.doc,.docx,.xls,.xlsx,.jpg,.jpeg,.png"></label>`;
  const parts: FormParts = {
    ctx,
    v,
    href: (a) => trackerHref(v.trackerId, `/${a}`),
    periodField,
    fileField,
    kind,
    pending: open.find((p) => p.pendingExtension),
  };
  const offers = offeredActions(v.actions, {
    completion: kind,
    verification,
    open: v.status?.periods,
    paused: v.status?.paused,
    ...(v.cooperating ? { cooperator: v.cooperating.id } : {}),
    now: v.now ?? Date.now(),
    timeZone: zoneOf(ctx),
  });
  const forms = offers.map(({ action, unavailable }) => {
    const title = FORM_TITLE[action] ?? actionLabel(action);
    if (unavailable)
      return html`<section class="act unavailable" data-action="${action}"><h3>${title}</h3><p class="note">${unavailable}</p></section>`;
    const enctype = MULTIPART.includes(action) ? html` enctype="multipart/form-data"` : '';
    const once = v.formToken ? html`<input type="hidden" name="_form" value="${v.formToken()}">` : '';
    return html`<form method="post" action="${parts.href(action)}"${enctype} class="act" id="form-${action}">
<h3>${title}</h3>${csrfField(ctx)}${once}${FORM_BODIES[action](parts)}</form>`;
  });
  return html`<h2>办理</h2><div class="forms">${forms}${standInForm(ctx, v)}</div>`;
}

/** 代办: the unit's staff name a stand-in for its head or liaison (docs/engine.md); the range's days are inclusive. */
function standInForm(ctx: PageContext, v: TrackerView): SafeHtml | string {
  const u = v.unit;
  // A cooperating unit's staff name stand-ins for their own unit, not for the lead's.
  if (!u || !v.actions.includes('acknowledge') || v.cooperating) return '';
  const people = [u.contacts.head, u.contacts.liaison];
  const ranges = (v.standIns ?? []).map(
    (r) =>
      html`<li data-stand-in="${r.id}">${r.from} 至 ${r.to}：${r.absent}的通知改发${r.standIn}
<form method="post" action="${trackerHref(v.trackerId, '/stand-in/cancel')}" class="inline">${csrfField(ctx)}<input type="hidden" name="id" value="${r.id}"><button type="submit">取消代办</button></form></li>`,
  );
  const list = ranges.length ? html`<div class="act" id="stand-ins"><h3>本单位的代办</h3><ul>${ranges}</ul></div>` : '';
  return html`${list}<form method="post" action="${trackerHref(v.trackerId, '/stand-in')}" class="act" id="form-stand-in"><h3>代办（负责人或联络员不在岗）</h3>${csrfField(ctx)}
<label>不在岗人员 <select name="absent">${people.map((c) => html`<option value="${c.email}">${c.name}（${c.email}）</option>`)}</select></label>
<label>代办人邮箱（单位名录中的人员） <input name="standIn" type="email" required maxlength="254"></label>
<label>起始日期（含） <input name="from" type="date" required></label>
<label>结束日期（含） <input name="to" type="date" required></label><button type="submit">设置代办</button></form>`;
}

// ---------------------------------------------------------------------------------------------------------------
// The year report and the 督办单 register.

export function reportPage(ctx: PageContext, report: Report, years: number[], jurisdiction?: string): string {
  const percent = (r: number | null) => (r === null ? '-' : `${(r * 100).toFixed(1)}%`);
  // Levels: the downloads and the year's choice keep the jurisdiction the report is of.
  const of = jurisdiction ? `&jurisdiction=${encodeURIComponent(jurisdiction)}` : '';
  return layout(
    ctx,
    `${report.year}年度考核`,
    html`${report.asOf ? html`<p class="note">统计截至${report.asOf}${report.yearEnded ? '' : '，年度尚未结束'}。</p>` : ''}<form class="filters" method="get" action="/report"><label>年度 <select name="year">${years.map(
      (y) => option(String(y), `${y}年`, String(report.year)),
    )}</select></label>${jurisdiction ? html`<input type="hidden" name="jurisdiction" value="${jurisdiction}">` : ''} <button type="submit">查看</button>
<a href="/report.csv?year=${report.year}${of}">下载 CSV</a> <a href="/report.xlsx?year=${report.year}${of}">下载 Excel</a></form>
${reportLevelsBlock(report)}<table class="report"><thead><tr><th>排名</th><th>单位</th>${report.jurisdictions ? html`<th>所属辖区</th>` : ''}<th>应完成</th><th>按时</th><th>延期后按时</th><th>逾期</th><th>未完成</th><th>逾期未完成</th><th>免除</th><th>按时率</th></tr></thead><tbody>
${report.units.map(
  (
    u,
  ) => html`<tr data-unit="${u.unit}"><td>${u.rank}</td><td>${u.unitName}</td>${report.jurisdictions ? html`<td>${u.jurisdictionName ?? ''}</td>` : ''}<td>${u.due}</td><td>${u.onTime}</td><td>${u.onTimeExtended}</td>
<td>${u.late}</td><td>${u.missed}</td><td>${u.overdue}</td><td>${u.waived}</td><td>${percent(u.onTimeRate)}</td></tr>`,
)}
</tbody></table>
${report.units.length ? '' : html`<p class="note">该年度没有截止的期次。</p>`}
<h2>通报（草稿）</h2><pre class="circular">${report.circular}</pre>
${(report.jurisdictions ?? []).map((j) => html`<h3>${j.name}</h3><pre class="circular" data-jurisdiction="${j.key}">${j.circular}</pre>`)}`,
  );
}

/** Levels (issue 24): the year's figures per jurisdiction (with everything beneath it, a link down) and per level. */
function reportLevelsBlock(report: Report): HtmlValue {
  if (!report.jurisdictions || !report.levels) return '';
  const percent = (r: number | null) => (r === null ? '-' : `${(r * 100).toFixed(1)}%`);
  const head = html`<th>单位数</th><th>应完成</th><th>按时</th><th>延期后按时</th><th>逾期</th><th>未完成</th><th>逾期未完成</th><th>免除</th><th>按时率</th>`;
  const cells = (g: GroupFigures) =>
    html`<td>${g.units}</td><td>${g.due}</td><td>${g.onTime}</td><td>${g.onTimeExtended}</td><td>${g.late}</td><td>${g.missed}</td><td>${g.overdue}</td><td>${g.waived}</td><td>${percent(g.onTimeRate)}</td>`;
  return html`<h2>按辖区汇总（含下级辖区）</h2>
<table class="report rollup"><thead><tr><th>辖区</th>${head}</tr></thead><tbody>
${report.jurisdictions.map(
  (j) =>
    html`<tr data-jurisdiction="${j.key}"><td><a href="/report?year=${report.year}&jurisdiction=${encodeURIComponent(j.key)}">${j.name}</a></td>${cells(j)}</tr>`,
)}
</tbody></table>
<h2>按层级汇总</h2>
<table class="report rollup"><thead><tr><th>层级</th>${head}</tr></thead><tbody>
${report.levels.map((g) => html`<tr data-level="${g.key}"><td>${g.name}</td>${cells(g)}</tr>`)}
</tbody></table>
<h2>各单位</h2>
`;
}

export function supervisionPage(
  ctx: PageContext,
  rows: (SupervisionRow & { supervisorName: string; unitName: string; obligationTitle: string })[],
  filter: { supervisor?: string; year?: number },
  supervisors: { id: string; name: string }[],
): string {
  return layout(
    ctx,
    '督办单登记',
    html`<form class="filters" method="get" action="/supervision"><label>督察单位 <select name="office"><option value="">全部</option>${supervisors.map(
      (o) => option(o.id, o.name, filter.supervisor),
    )}</select></label>
<label>年度 <input name="year" inputmode="numeric" pattern="[0-9]{4}" size="5" value="${filter.year ?? ''}"></label> <button type="submit">查看</button></form>
<table class="register"><thead><tr><th>编号</th><th>督察单位</th><th>单位</th><th>任务</th><th>期次</th><th>截止</th><th>发出时间</th></tr></thead><tbody>
${rows.map(
  (
    r,
  ) => html`<tr data-stage="${r.stage}"><td>${supervisionNumberText(r.year, r.number)}${r.stage === 'raise' ? '（提级督办）' : ''}</td><td>${r.supervisorName}</td><td>${r.unitName}</td>
<td><a href="${trackerHref(r.trackerId)}">${r.obligationTitle}</a></td><td>${periodWords(r.period)}</td><td>${day(r.due)}</td>
<td>${dateTime(r.sentAt, zoneOf(ctx))}</td></tr>`,
)}
</tbody></table>
${rows.length ? '' : html`<p class="note">暂无督办单。</p>`}`,
  );
}

// ---------------------------------------------------------------------------------------------------------------
// The embedded mailbox (npm start only).

export function mailListPage(
  ctx: PageContext,
  mails: { name: string; subject: string; to: string; date: string }[],
): string {
  return layout(
    ctx,
    '本地邮件',
    html`<p class="note">仅在本机试用（npm start）时提供：邮件捕获器收到的所有邮件。正式部署的 duban web 不提供此页面。</p>
<table class="mail"><thead><tr><th>时间</th><th>收件人</th><th>主题</th></tr></thead><tbody>
${mails.map(
  (m) =>
    html`<tr><td>${mailDate(m.date, zoneOf(ctx))}</td><td>${m.to}</td>
<td><a href="/mail/${encodeURIComponent(m.name)}">${m.subject || '（无主题）'}</a></td></tr>`,
)}
</tbody></table>`,
  );
}

/** One message a local fake of a robot or an SMS provider received (`npm start`). */
export interface ChannelMessage {
  at: string;
  kind: string;
  /** The channel's name, or the mobile for an SMS. */
  to: string;
  text: string;
}

const CHANNEL_KIND_WORDS: Record<string, string> = {
  wecom: '企业微信群机器人',
  dingtalk: '钉钉群机器人',
  feishu: '飞书群机器人',
  sms: '短信',
  webhook: 'Webhook',
};

/** What each local robot and phone received, newest first: the channels working with no account anywhere. */
export function channelListPage(ctx: PageContext, messages: ChannelMessage[]): string {
  const rows = [...messages].reverse();
  return layout(
    ctx,
    '本地群消息和短信',
    html`<p class="note">仅在本机试用（npm start）时提供：企业微信、钉钉、飞书群机器人和短信的本地模拟服务收到的全部消息（共 ${
      messages.length
    } 条）。正式部署的 duban web 不提供此页面。</p>
<div class="scroll"><table class="mail channels"><thead><tr><th>时间</th><th>渠道</th><th>接收方</th><th>内容</th></tr></thead><tbody>
${rows.map(
  (m) =>
    html`<tr data-kind="${m.kind}"><td>${mailDate(m.at, zoneOf(ctx))}</td><td>${CHANNEL_KIND_WORDS[m.kind] ?? m.kind}</td>
<td>${m.to}</td><td><pre class="text">${m.text}</pre></td></tr>`,
)}
</tbody></table></div>`,
  );
}

/** A message's Date header as the catalog's zone reads it (the header itself says +0000); unreadable, as given. */
function mailDate(header: string, zone: string): HtmlValue {
  const ms = Date.parse(header);
  return Number.isNaN(ms) ? header : dateTime(ms, zone);
}

export function mailPage(
  ctx: PageContext,
  m: { subject: string; from: string; to: string; cc: string; date: string; text: string },
): string {
  // Links in the text become clickable; everything else is escaped text.
  const parts: HtmlValue[] = [];
  let last = 0;
  for (const match of m.text.matchAll(/https?:\/\/[^\s<>"'）】]+/g)) {
    parts.push(m.text.slice(last, match.index));
    parts.push(html`<a href="${match[0]}">${match[0]}</a>`);
    last = match.index! + match[0].length;
  }
  parts.push(m.text.slice(last));
  return layout(
    ctx,
    m.subject || '（无主题）',
    html`<dl class="headers"><dt>发件人</dt><dd>${m.from}</dd><dt>收件人</dt><dd>${m.to}</dd>${m.cc ? html`<dt>抄送</dt><dd>${m.cc}</dd>` : ''}<dt>时间</dt>
<dd>${mailDate(m.date, zoneOf(ctx))}</dd></dl>
<pre class="mailtext">${parts}</pre><p><a href="/mail">返回邮件列表</a></p>`,
  );
}

export const STYLESHEET = `
*{box-sizing:border-box}
body{margin:0;font:15px/1.6 "PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif;color:#222;background:#f6f6f4}
header{display:flex;flex-wrap:wrap;gap:1em;align-items:center;padding:.6em 1em;background:#8b1a1a;color:#fff}
header a{color:#fff;text-decoration:none;margin-right:.8em}
header .brand{font-weight:bold;font-size:1.1em}
header .who{margin-left:auto;display:flex;gap:.5em;align-items:center}
main{max-width:1100px;margin:0 auto;padding:1em}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}h3{font-size:1em;margin:.2em 0 .5em}
table{border-collapse:collapse;width:100%;background:#fff;margin:.5em 0}
th,td{border:1px solid #ddd;padding:.35em .5em;text-align:left;vertical-align:top}
td.n{text-align:right}td.zero{color:#bbb}
.light{display:inline-block;padding:0 .5em;border-radius:3px;color:#fff;white-space:nowrap}
.c-red.light,th.c-red{background:#c62828;color:#fff}.c-yellow.light,th.c-yellow{background:#f9a825;color:#222}
.c-green.light,th.c-green{background:#2e7d32;color:#fff}.c-done.light,th.c-done{background:#1565c0;color:#fff}
.c-waived.light,th.c-waived{background:#757575;color:#fff}
.filters{display:flex;flex-wrap:wrap;gap:.8em;align-items:end;margin:.5em 0}
.forms{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:1em}
form.act{background:#fff;border:1px solid #ddd;padding:.8em}
section.act.unavailable{background:#f6f6f6;border:1px dashed #ccc;padding:.8em;color:#666}
form.act label{display:block;margin:.4em 0}
form.act input:not([type=hidden]):not([type=file]),form.act textarea,form.act select{width:100%;font:inherit;padding:.3em}
textarea{min-height:4em}
button{font:inherit;padding:.3em 1em;cursor:pointer}
.error{background:#fdecea;border:1px solid #c62828;padding:.6em}
.message{background:#e8f4fd;border:1px solid #1565c0;padding:.6em}
.k{color:#666;font-size:.9em}.hash{color:#999;font-size:.8em;word-break:break-all}
.note{color:#666}.docno{color:#8b1a1a}
pre{white-space:pre-wrap;background:#fff;border:1px solid #ddd;padding:.8em}
dl.headers{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em}dl.headers dt{color:#666}
table.facts th{white-space:nowrap;width:6em;background:#fafafa}
.others a{margin-right:1em}
.when{white-space:nowrap}
.scroll{overflow-x:auto;max-width:100%}table.channels pre{white-space:pre-wrap;margin:0;font:inherit}.scroll>table{margin:0}.scroll{margin:.5em 0}
tfoot th,tfoot td{font-weight:bold;background:#fafafa}td.total{font-weight:bold}td.days{white-space:nowrap}
/* A phone (issue 19.8): nothing wider than the screen; a wide table scrolls inside its own box, never the page. */
@media (max-width:600px){
main{padding:.6em}header{gap:.4em}header .who{margin-left:0}
table.facts th{width:4.5em}
table.periods,table.outcomes,table.timeline,table.report,table.register,table.mail{display:block;overflow-x:auto;max-width:100%}
.forms{grid-template-columns:minmax(0,1fr)}
.filters select{max-width:100%}.filters label{max-width:100%}
.k{overflow-wrap:anywhere}td{overflow-wrap:anywhere}
}
`;

/** The label of a link's action as it arrived (an unknown one is shown as given, escaped). */
export function linkActionLabel(a: string): string {
  return isLinkAction(a) || isAction(a) ? actionLabel(a) : a;
}

// ---------------------------------------------------------------------------------------------------------------
// The pages of the signed action links in notices (DOMAIN.md 22): no sign-in; the person is the link's recipient.

export interface LinkView {
  /** The form's address: `/a/<token>/<action>`. */
  formAction: string;
  action: string;
  trackerId: string;
  period: string;
  recipient: { name: string; email: string };
  obligation?: Obligation;
  unitName: string;
  /** The period as the tracker has it: open, or settled (then `outcome`), or unknown to it. */
  open?: PeriodStatus;
  outcome?: string;
  completion?: TrackerStatus['completion'];
  quota?: number;
  /** The supervising office, whom to contact when the link does not help. */
  supervisor?: { name: string; contact?: string };
  /** The one-time nonce of the form (a double submit is answered once). */
  nonce: string;
  events: EventRow[];
  limits: { maxFileBytes: number; maxFiles: number };
  error?: string;
  /** The other actions of the same link, for a person who opened the wrong one. */
  others: { label: string; href: string }[];
  /** 协办: the recipient's cooperating unit (they act for it: 签收 and 反馈进展), by id and name. */
  cooperating?: { id: string; name: string };
}

export function linkPage(ctx: PageContext, v: LinkView): string {
  const o = v.obligation;
  const p = v.open;
  const kind = v.completion ?? o?.completion ?? 'single';
  const quota = kind === 'quota' || kind === 'per-person';
  const status = p
    ? html`<span class="light c-${p.colour}">${stateWords(p)}</span> ${
        kind === 'quota'
          ? `已登记 ${p.recorded}/${v.quota ?? o?.quota ?? ''} 次`
          : p.submitted
            ? '已报送'
            : quota
              ? `已登记 ${p.recorded} 次`
              : '未报送'
      }${
        p.verification !== 'not required'
          ? `，核实：${VERIFICATION_WORDS[p.verification as Verification] ?? p.verification}`
          : ''
      }；${p.acknowledged ? `已签收（${p.acknowledged.by}）` : '未签收'}；反馈进展 ${p.progressCount} 次${cooperatorsText(p)}`
    : v.outcome
      ? html`<b>本期已结束</b>：${OUTCOME_WORDS[v.outcome as Outcome] ?? v.outcome}`
      : html`<b>本期不在办理中</b>`;
  const title = `${linkActionLabel(v.action)} · ${o?.title ?? v.trackerId.split('/')[0]}`;
  return layout(
    ctx,
    title,
    html`${v.error ? html`<p class="error" role="alert">未办理：${v.error}</p>` : ''}
<section class="summary link">
<table class="facts">
<tr><th>任务</th><td>${o?.title ?? v.trackerId}</td></tr>
<tr><th>${p?.cooperators?.length ? '主办单位' : '承办单位'}</th><td>${v.unitName}</td></tr>
${v.cooperating ? html`<tr><th>协办单位</th><td>${v.cooperating.name}（您所在单位）</td></tr>` : ''}
<tr><th>期次</th><td>${periodText(o, v.period)}</td></tr>
<tr><th>截止时间</th><td>${p ? html`${p.due} 24时前${p.due !== p.originalDue ? `（原截止 ${p.originalDue}，已延期）` : ''}` : '—'}</td></tr>
<tr><th>状态</th><td class="status">${status}</td></tr>
${o ? html`<tr><th>依据</th><td>${o.basis.map((b) => html`<div>《${b.document}》${b.article ?? ''}：“${b.quote}”</div>`)}</td></tr>` : ''}
<tr><th>报送内容</th><td>${o?.deliverable ?? (quota ? '每次活动的日期、主题和佐证材料' : kind === 'rate' || kind === 'count' ? '本期数据及说明' : '完成情况及佐证材料（文号、链接或说明）')}</td></tr>
${v.supervisor ? html`<tr><th>督办单位</th><td>${v.supervisor.name}${v.supervisor.contact ? `（${v.supervisor.contact}）` : ''}</td></tr>` : ''}
</table>
${v.cooperating ? html`<p class="note" data-cooperating="${v.cooperating.id}">您以协办单位${v.cooperating.name}的名义办理：可签收和反馈进展；材料由主办单位${v.unitName}报送。</p>` : ''}
<p class="note">办理人：<b>${v.recipient.name}</b>（${v.recipient.email}）。打开本页不会改变任何状态；点击下方按钮提交后才记入台账。如非本人，请勿提交，并联系督办单位。</p>
</section>
${
  v.action === 'view'
    ? html`<h2>本期办理记录</h2>${
        v.events.length
          ? html`<table class="timeline"><thead><tr><th>时间</th><th>期次</th><th>事项</th><th>详情</th>
</tr></thead>
<tbody>${v.events.map((e) => eventRow(e, new Map(), v.trackerId, zoneOf(ctx)))}</tbody></table>`
          : html`<p class="note">暂无。</p>`
      }`
    : linkForm(ctx, v, kind)
}
${v.others.length ? html`<p class="others">${v.others.map((x) => html`<a href="${x.href}">${x.label}</a> `)}</p>` : ''}
<p class="note">如无法在此办理，可 <a href="/login">登录督办系统</a> 或联系督办单位。</p>`,
  );
}

/** A period as people read it, with its label: 2026年度（2026）. */
export function periodText(o: Obligation | undefined, label: string): string {
  const p = o ? parsePeriod(o.period, label) : undefined;
  return p ? `${periodInChinese(p)}（${label}）` : label;
}

function linkForm(ctx: PageContext, v: LinkView, kind: string): SafeHtml {
  const hidden = html`${csrfField(ctx)}<input type="hidden" name="_nonce" value="${v.nonce}">`;
  const fileField = html`<label>附件（PDF、OFD、DOC/DOCX、XLS/XLSX、JPG/PNG，每个不超过 ${formatSize(v.limits.maxFileBytes)}，最多 ${
    v.limits.maxFiles
  } 个）<input type="file" name="files" multiple accept=".pdf,.ofd,.doc,.docx,.xls,.xlsx,.jpg,.jpeg,.png"></label>`;
  const id = `form-${v.action}`;
  switch (v.action) {
    case 'acknowledge':
      return html`<form method="post" action="${v.formAction}" class="act" id="${id}">${hidden}<p>确认已收到本期任务，将按时办理。</p><button type="submit">签收</button></form>`;
    case 'progress':
      return html`<form method="post" action="${v.formAction}" enctype="multipart/form-data" class="act" id="${id}">${hidden}
<label>进展情况 <textarea name="note" required maxlength="2000"></textarea></label>${fileField}<button type="submit">提交进展</button></form>`;
    case 'submit':
      return html`<form method="post" action="${v.formAction}" enctype="multipart/form-data" class="act" id="${id}">${hidden}
<label>文号 <input name="documentNumber" maxlength="200"></label>
<label>链接 <input name="link" type="url" maxlength="2000" placeholder="https://"></label>
<label>说明 <textarea name="text" maxlength="2000"></textarea></label>${fileField}<button type="submit">报送</button></form>`;
    case 'record':
      return html`<form method="post" action="${v.formAction}" class="act" id="${id}">${hidden}
${
  kind === 'per-person'
    ? html`<label>人员编号（名册） <input name="person" required maxlength="64"></label>
<label>学时 <input name="hours" type="number" min="0" step="0.5"></label>`
    : ''
}
<label>日期 <input name="date" type="date" required></label><label>主题 <input name="topic" required maxlength="2000"></label>
<button type="submit">登记</button></form>`;
    case 'report':
      return html`<form method="post" action="${v.formAction}" class="act" id="${id}">${hidden}
${
  kind === 'rate'
    ? html`<label>分子 <input name="numerator" type="number" min="0" required></label>
<label>分母 <input name="denominator" type="number" min="0" required></label>`
    : html`<label>数量 <input name="count" type="number" min="0" required></label>`
}
<label>说明 <textarea name="note" maxlength="2000"></textarea></label><button type="submit">报送</button></form>`;
    case 'requestExtension':
      return html`<form method="post" action="${v.formAction}" class="act" id="${id}">${hidden}
<label>新截止日期 <input name="newDue" type="date" required></label><label>理由 <textarea name="reason" required maxlength="2000"></textarea></label>
<button type="submit">申请延期</button></form>`;
    default:
      return html``;
  }
}

/** What an action link's form recorded: shown once, and again (without a second action) on a repeat submit. */
export interface LinkReceipt {
  action: string;
  trackerId: string;
  title: string;
  unitName: string;
  period: string;
  by: string;
  at: number;
  details: [string, string][];
  files: { name: string; sha256: string; size: number }[];
}

export function linkDonePage(ctx: PageContext, r: LinkReceipt, repeat: boolean): string {
  return layout(
    ctx,
    `已${linkActionLabel(r.action)}`,
    html`<p class="message" role="status">${repeat ? '该表单已提交过，未重复办理。以下是当时记录的内容。' : '已记入台账。'}</p>
<table class="facts receipt">
<tr><th>事项</th><td>${linkActionLabel(r.action)}</td></tr>
<tr><th>任务</th><td>${r.title}</td></tr>
<tr><th>承办单位</th><td>${r.unitName}</td></tr>
<tr><th>期次</th><td>${periodWords(r.period)}</td></tr>
<tr><th>办理人</th><td class="by">${r.by}</td></tr>
<tr><th>时间</th><td>${dateTime(r.at, zoneOf(ctx))}</td></tr>
${r.details.map(([k, v]) => html`<tr><th>${k}</th><td>${v}</td></tr>`)}
${r.files.map((f) => html`<tr><th>附件</th><td>${f.name} ${formatSize(f.size)} <span class="hash">校验值（SHA-256） ${f.sha256}</span></td></tr>`)}
</table>
<p class="note">${r.action === 'submit' ? '' : '提醒仍按计划发送，直至本期办结。'}可随时 <a href="/login">登录督办系统</a> 查看。</p>`,
  );
}
