/**
 * What a channel says, as pure functions (no I/O, no Node built-ins): the Chinese text of one notice as a chat
 * item, several items merged into as few robot messages as the provider's size limit allows, the markdown of
 * 企业微信 and 钉钉, 飞书's rich text ("post"), an SMS's template parameters, and a webhook event.
 *
 * User text (titles, unit names) is written into markdown with the characters markdown acts on replaced by their
 * full-width forms, so a title cannot make a link, a heading or a mention of its own.
 */

/** One notice as a channel tells it. */
export interface ChannelItem {
  /** The notice's send key (domain/planner.ts noticeKey): names it in webhook events and the ledger. */
  key: string;
  obligationTitle: string;
  unitName: string;
  period: string;
  /** YYYY-MM-DD. */
  due: string;
  /** `raise`: 提级督办, the 督办单 of the office above the supervising office. */
  stage: 'reminder' | 'escalation' | 'raise';
  level: number;
  /** Reminders: working days before due (0: the due day). */
  step: number;
  /** 督〔2027〕12号, for a level-2 notice once numbered. */
  supervisionNumber?: string;
  /** The recipient unit's signed action links (DOMAIN.md 22), already signed. */
  links: { label: string; url: string }[];
}

/** A run of text, or a link. */
export type Segment = { text: string } | { text: string; href: string };

/** A robot message before it is put in a provider's shape: a title and lines of segments. */
export interface RobotMessage {
  title: string;
  lines: Segment[][];
  /** Send keys of the items it carries. */
  keys: string[];
  /** Mobiles to @-mention (企业微信 mentioned_mobile_list, 钉钉 at.atMobiles). */
  mentionMobiles: string[];
}

/** What the item is, in the words of the notice. */
export function stageText(i: Pick<ChannelItem, 'stage' | 'level' | 'step' | 'supervisionNumber'>): string {
  if (i.stage === 'reminder') return i.step === 0 ? '今日截止' : `距截止还有${i.step}个工作日`;
  if (i.stage === 'raise') return i.supervisionNumber ? `提级督办单 ${i.supervisionNumber}` : '提级督办单';
  if (i.level === 1) return '已逾期，请单位负责人督促办理';
  if (i.level === 2) return i.supervisionNumber ? `督办单 ${i.supervisionNumber}` : '督办单';
  return '逾期未办，列入通报';
}

const FULL_WIDTH: Record<string, string> = {
  '[': '［',
  ']': '］',
  '(': '（',
  ')': '）',
  '*': '＊',
  _: '＿',
  '`': '｀',
  '<': '＜',
  '>': '＞',
  '#': '＃',
  '@': '＠',
  '~': '～',
  '|': '｜',
  '\\': '＼',
};

/** User text made inert in markdown: one line, the characters markdown acts on in their full-width forms. */
export function inert(s: string): string {
  return s.replace(/[\r\n\t]+/g, ' ').replace(/[[\]()*_`<>#@~|\\]/g, (c) => FULL_WIDTH[c] ?? c);
}

/** The lines of one item: what, for whom, until when, then its links. */
export function itemLines(i: ChannelItem, index?: number): Segment[][] {
  const head = `${index === undefined ? '' : `${index}. `}${i.obligationTitle}（${i.unitName}，${i.period}）`;
  const lines: Segment[][] = [[{ text: `${head}：截止 ${i.due}，${stageText(i)}` }]];
  if (i.links.length) {
    const row: Segment[] = [];
    i.links.forEach((l, n) => {
      if (n > 0) row.push({ text: ' ' });
      row.push({ text: l.label, href: l.url });
    });
    lines.push(row);
  }
  return lines;
}

function titleOf(items: ChannelItem[]): string {
  const escalations = items.filter((i) => i.stage !== 'reminder').length;
  // Every title says 督办: the keyword a 钉钉 robot's administrator sets for its security check (docs/channels.md).
  const what = escalations === items.length ? '督办' : escalations === 0 ? '督办提醒' : '督办提醒与督办';
  return items.length === 1 ? `【${what}】${items[0]!.obligationTitle}` : `【${what}】共${items.length}项待办`;
}

/** One message listing `items`. */
export function robotMessage(items: ChannelItem[], mentionMobiles: string[] = []): RobotMessage {
  const numbered = items.length > 1;
  return {
    title: titleOf(items),
    lines: items.flatMap((i, n) => itemLines(i, numbered ? n + 1 : undefined)),
    keys: items.map((i) => i.key),
    mentionMobiles,
  };
}

/**
 * Several notices for one robot as few messages as fit: items in order, each message as large as `fits` allows
 * (the provider's size limit, measured on the request it would send). An item too large alone goes alone with its
 * links dropped, and then its title cut, so that nothing is refused for its size.
 */
export function mergeItems(
  items: ChannelItem[],
  fits: (m: RobotMessage) => boolean,
  mentionMobiles: string[] = [],
): RobotMessage[] {
  const out: RobotMessage[] = [];
  let batch: ChannelItem[] = [];
  const flush = () => {
    if (batch.length) out.push(robotMessage(batch, mentionMobiles));
    batch = [];
  };
  for (const item of items) {
    if (fits(robotMessage([...batch, item], mentionMobiles))) {
      batch.push(item);
      continue;
    }
    flush();
    let alone = item;
    if (!fits(robotMessage([alone], mentionMobiles))) alone = { ...alone, links: [] };
    while (!fits(robotMessage([alone], mentionMobiles)) && alone.obligationTitle.length > 10)
      alone = { ...alone, obligationTitle: `${alone.obligationTitle.slice(0, alone.obligationTitle.length >> 1)}…` };
    batch = [alone];
  }
  flush();
  return out;
}

/** 企业微信 and 钉钉 markdown: a bold title, then the lines; links as [label](url). */
export function toMarkdown(m: RobotMessage, options: { mentionInText?: boolean } = {}): string {
  const lines = m.lines.map((segments) =>
    segments.map((s) => ('href' in s ? `[${inert(s.text)}](${s.href})` : inert(s.text))).join(''),
  );
  // 钉钉 notifies a mentioned member only when "@mobile" is also in the markdown text.
  const mentions =
    options.mentionInText && m.mentionMobiles.length ? [m.mentionMobiles.map((p) => `@${p}`).join(' ')] : [];
  return [`**${inert(m.title)}**`, ...lines, ...mentions].join('\n\n');
}

/** Plain text, links written out (企业微信 mentions members by mobile only in text messages). */
export function toPlainText(m: RobotMessage): string {
  const lines = m.lines.map((segments) => segments.map((s) => ('href' in s ? `${s.text} ${s.href}` : s.text)).join(''));
  return [m.title, ...lines].join('\n');
}

/** 飞书's rich text: `content.post.zh_cn` with text and `a` tags; its text is never read as markdown. */
export function toFeishuPost(m: RobotMessage): { title: string; content: Record<string, string>[][] } {
  return {
    title: m.title,
    content: m.lines.map((segments) =>
      segments.map((s): Record<string, string> =>
        'href' in s ? { tag: 'a', text: s.text, href: s.href } : { tag: 'text', text: s.text },
      ),
    ),
  };
}

/** 阿里云 caps a template variable's value (35 characters for most variable kinds): longer names are cut. */
export const SMS_PARAM_MAX = 35;

function cut(s: string, max = SMS_PARAM_MAX): string {
  return [...s].length <= max ? s : `${[...s].slice(0, max - 1).join('')}…`;
}

/**
 * An SMS's template parameters (DOMAIN.md 24): the unit, the task, its due date and what the notice is. Never a link
 * nor the platform's address: 阿里云 refuses links in variables (and `site` as a variable name), so the approved
 * template carries the address as fixed text (docs/channels.md, "阿里云 SMS"); a variable would also cut it at 35
 * characters.
 */
export function smsParams(i: ChannelItem): Record<string, string> {
  return {
    task: cut(`${i.obligationTitle}（${i.period}）`),
    unit: cut(i.unitName),
    due: i.due,
    stage: cut(stageText(i)),
  };
}

/** The version of the webhook events' schema (docs/channels.md, "Webhook events"). */
export const WEBHOOK_SCHEMA = 'duban.event/v1';

export type WebhookEventType =
  | 'notice.sent'
  | 'period.red'
  | 'period.submitted'
  | 'period.verified'
  | 'period.returned'
  | 'extension.decided'
  | 'period.waived'
  | 'channel.broken';

export interface WebhookEvent {
  schema: typeof WEBHOOK_SCHEMA;
  /** Unique per event and stable across retries: a receiver drops a repeat by it. */
  id: string;
  type: WebhookEventType;
  /** ISO 8601, UTC. */
  occurredAt: string;
  data: Record<string, unknown>;
}

/** A notice as a webhook event. */
export function noticeEvent(i: ChannelItem, occurredAt: number, trackerId: string): WebhookEvent {
  return {
    schema: WEBHOOK_SCHEMA,
    id: `notice/${i.key}`,
    type: 'notice.sent',
    occurredAt: new Date(occurredAt).toISOString(),
    data: {
      trackerId,
      obligationTitle: i.obligationTitle,
      unitName: i.unitName,
      period: i.period,
      due: i.due,
      stage: i.stage,
      level: i.level,
      step: i.step,
      text: stageText(i),
      ...(i.supervisionNumber ? { supervisionNumber: i.supervisionNumber } : {}),
      links: i.links,
    },
  };
}
