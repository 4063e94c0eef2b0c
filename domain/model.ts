import { z } from 'zod';

/**
 * Size limits of what the files may say (docs/catalog.md, "Limits"). A tracker's definition travels in Temporal
 * payloads (workflow input, every notice activity's input, continue-as-new), which Temporal refuses above 2 MB
 * and warns about above 512 KB, and a history above 50 MB ends the workflow; so every text and list is bounded
 * here, and the whole definition is checked against DEFINITION_MAX_BYTES (domain/validate.ts) before anything
 * starts. Names and titles are also one line: they go into subjects, CSV rows and board columns.
 */
export const LIMITS = {
  /** Ids go into workflow ids, Message-IDs and file names. */
  id: 64,
  /** Names, titles, document titles, articles, jurisdictions, time zones: one line. */
  line: 200,
  /** Tags: one line. */
  tag: 64,
  /** RFC 5321: an address is at most 254 octets. */
  email: 254,
  /** Quotes, deliverables, how to submit: may hold line breaks. */
  paragraph: 2000,
  units: 20_000,
  leadership: 50,
  deputies: 20,
  tagsPerUnit: 20,
  obligations: 500,
  basis: 10,
  assigneeUnits: 20_000,
  assigneeTags: 20,
  reminders: 20,
  escalationSteps: 10,
  channels: 2000,
  channelsPerUnit: 10,
  /** 协办: cooperating units of one obligation, after tags are expanded (each travels in every definition). */
  cooperators: 50,
  /** Nested jurisdictions of a directory of levels (a province's cities, counties and townships). */
  jurisdictions: 5000,
} as const;

/** Ids appear in workflow ids, Message-IDs and file names, so they stay ASCII. */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** 过长：N个字符，最多M个字符 (unit: 个字符, or 项 for lists). */
const tooLong = (max: number, unit: string) => ({
  error: (issue: { input?: unknown }) =>
    `过长：${typeof issue.input === 'string' || Array.isArray(issue.input) ? `${issue.input.length}${unit}，` : ''}最多${max}${unit}`,
});

/**
 * Line breaks, terminal escapes and other control characters, which a one-line text may not hold; with the
 * bidirectional overrides, which make a name read differently from what it says ("Trojan Source").
 */
const NOT_ONE_LINE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
/** What a paragraph may not hold: the same, except tab and line breaks. */
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

const id = z
  .string()
  .max(LIMITS.id, tooLong(LIMITS.id, '个字符'))
  .regex(ID_PATTERN, { message: '编号只能用英文字母、数字和“.”“_”“-”，并以字母或数字开头' });

/** A one-line text: names, titles. */
const line = (max: number = LIMITS.line) =>
  z
    .string()
    .trim()
    .min(1, { message: '不能为空' })
    .max(max, tooLong(max, '个字符'))
    .refine((s) => !NOT_ONE_LINE.test(s), {
      message: '须为一行，不能含换行、制表符或控制字符',
    });
const text = line();

/** A text that may run over several lines: quotes, deliverables. */
const paragraph = z
  .string()
  .trim()
  .min(1, { message: '不能为空' })
  .max(LIMITS.paragraph, tooLong(LIMITS.paragraph, '个字符'))
  .refine((s) => !CONTROL.test(s), { message: '不能含控制字符（换行和制表符可以）' });

const email = z.email({ message: '不是有效的邮箱地址' }).max(LIMITS.email, tooLong(LIMITS.email, '个字符'));

/** A list of at most `max` entries. */
const list = <T extends z.ZodType>(item: T, max: number) => z.array(item).max(max, tooLong(max, '项'));

/** A mainland mobile number, for SMS and robot mentions: 11 digits starting 13-19, optionally +86. */
export const MOBILE_PATTERN = /^(\+86)?1[3-9]\d{9}$/;
/**
 * Kept as the 11 digits: robots @-mention by the bare number (a "+86…" mention matches nobody) and one person
 * written both ways must be one recipient, so every use gets the same form from the directory on.
 */
const mobile = z
  .string()
  .regex(MOBILE_PATTERN, { message: '不是有效的大陆手机号码，如 13800138000' })
  .overwrite((m) => m.replace(/^\+86/, ''));

export const contactSchema = z.strictObject({
  name: text,
  email,
  /** For SMS and @-mentions in group robots (docs/channels.md). */
  mobile: mobile.optional(),
});

/** The kinds of channel beside email (DOMAIN.md 24, docs/channels.md). */
export const CHANNEL_KINDS = ['wecom', 'dingtalk', 'feishu', 'sms', 'webhook'] as const;
export type ChannelKind = (typeof CHANNEL_KINDS)[number];

/**
 * A channel the directory names: a group robot, the SMS account, or a webhook. Its secret (robot key, signing
 * secret, SMS AccessKey) is never here: the settings hold it under the channel's name (config/channels.ts).
 */
export const channelSchema = z.strictObject({
  name: id,
  kind: z.enum(CHANNEL_KINDS),
  /** Webhook: where events are posted (https, or http on loopback). */
  url: z.string().max(2000, tooLong(2000, '个字符')).optional(),
  /** SMS: the approved sign name (签名) and template (模板) of the provider. */
  signName: line(64).optional(),
  templateCode: id.optional(),
  /** Robots: @-mention the recipients by mobile on escalations. */
  mention: z.boolean().default(false),
});

export const leaderSchema = z.strictObject({
  name: text,
  email,
  title: text.optional(),
});

export const UNIT_KINDS = ['government', 'department', 'county', 'street', 'office', 'other'] as const;
export const UNIT_LEVELS = ['province', 'city', 'county', 'township'] as const;

export const unitSchema = z.strictObject({
  id,
  name: text,
  kind: z.enum(UNIT_KINDS),
  level: z.enum(UNIT_LEVELS).optional(),
  tags: list(line(LIMITS.tag), LIMITS.tagsPerUnit).default([]),
  contacts: z.strictObject({
    head: contactSchema,
    liaison: contactSchema,
    deputies: list(contactSchema, LIMITS.deputies).default([]),
  }),
  /** The supervising office (督察单位) this unit answers to: the id of another unit. */
  supervisor: id.optional(),
  /**
   * As a supervising office: receive one digest a working day of what newly turned red (DOMAIN.md 12) instead of
   * a copy of every level-1 escalation. On by default.
   */
  digest: z.boolean().default(true),
  /** The group robots and webhooks of this unit (for its own notices, or as a supervising office): channel names. */
  channels: list(id, LIMITS.channelsPerUnit).default([]),
  /** Levels (DOMAIN.md 26): the id of the jurisdiction the unit belongs to; absent, the directory's root. */
  jurisdiction: id.optional(),
});

/**
 * Levels (DOMAIN.md 26, docs/catalog.md "A directory of several levels"): a jurisdiction nested under the root (the
 * directory's own `jurisdiction`) or under another one, with its own leadership, who receive the circular of the
 * units in it. Its supervising office is not named here: it is the unit (or units) in it that others answer to.
 */
export const jurisdictionSchema = z.strictObject({
  id,
  name: text,
  /** The jurisdiction this one is part of; absent (or `root`), the directory's root. */
  parent: id.optional(),
  level: z.enum(UNIT_LEVELS).optional(),
  /** Recipients of the circular (通报) of this jurisdiction's units; required where an office sits. */
  leadership: list(leaderSchema, LIMITS.leadership).default([]),
  leadershipChannels: list(id, LIMITS.channelsPerUnit).default([]),
});

export const directorySchema = z.strictObject({
  jurisdiction: text,
  /** Recipients of the circular (通报) to leadership, escalation level 3. */
  leadership: list(leaderSchema, LIMITS.leadership).min(1, { message: '须至少有一位通报收件人' }),
  /** The leadership's group robots and webhooks: channel names. */
  leadershipChannels: list(id, LIMITS.channelsPerUnit).default([]),
  /** Every channel the units, offices and leadership use (docs/channels.md). */
  channels: list(channelSchema, LIMITS.channels).default([]),
  /** Levels: the root's level (province, city, county, township), for the report's roll-up by level. */
  level: z.enum(UNIT_LEVELS).optional(),
  /** Levels: the jurisdictions nested under the root (region → city → county). Absent: one level. */
  jurisdictions: list(jurisdictionSchema, LIMITS.jurisdictions).optional(),
  units: list(unitSchema, LIMITS.units).min(1, { message: '须至少有一个单位' }),
});

export const PERIOD_KINDS = ['year', 'half-year', 'quarter', 'month', 'once'] as const;

/**
 * How a period is completed: one submission; a quota of N events; a rate (numerator/denominator) at or above a
 * threshold percentage; a count at or above a threshold (docs/catalog.md, "Completion").
 */
export const COMPLETION_KINDS = ['single', 'quota', 'rate', 'count', 'per-person'] as const;

/** What a per-person quota counts: occasions (至少一次) or hours (60学时). */
export const QUOTA_UNITS = ['times', 'hours'] as const;
export type CompletionKind = (typeof COMPLETION_KINDS)[number];
export type QuotaUnit = 'times' | 'hours';

const monthDay = z.string().regex(/^\d{2}-\d{2}$/, { message: '不是“03-01”这样的月日' });
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, { message: '不是“2027-06-30”这样的日期' });

export const dueRuleSchema = z.discriminatedUnion('rule', [
  /** The last day of the period: activities such as study sessions. */
  z.strictObject({ rule: z.literal('period-end') }),
  /** N days, or N months, after the period ends. */
  z.strictObject({
    rule: z.literal('after-period-end'),
    days: z.number().int().optional(),
    months: z.number().int().optional(),
  }),
  /** The first given month-day after the period ends; `before: true` reads "X之前": the day before X. */
  z.strictObject({ rule: z.literal('next-month-day'), monthDay, before: z.boolean().default(false) }),
  /** A fixed date, for one-off obligations. */
  z.strictObject({ rule: z.literal('fixed-date'), date: isoDate }),
  /** The last day of the month after the period ends (次月底前): 2027-Q1 is due 30 April, 2028-01 on 29 February. */
  z.strictObject({ rule: z.literal('next-month-end') }),
  /**
   * Day N of the month after the period ends (次月15日前), clamped to that month's end; `before: true` reads
   * "X之前": the day before.
   */
  z.strictObject({ rule: z.literal('following-month-day'), day: z.number().int(), before: z.boolean().default(false) }),
  /**
   * A month-day inside a yearly period (年度目录 drawn up by 31 March of the year it is for): period 2027 is due
   * 2027-03-31. For a cycle of years, the month-day of its first year.
   */
  z.strictObject({ rule: z.literal('in-period-month-day'), monthDay }),
  /**
   * Event-relative (period: once): N months or days before an event whose date another body sets (the session of
   * the people's congress standing committee). `date` is the event's date, filled in from the events file at
   * registration, never written in the catalog; without it the tracker waits.
   */
  z.strictObject({
    rule: z.literal('before-event'),
    event: id,
    months: z.number().int().optional(),
    days: z.number().int().optional(),
    date: isoDate.optional(),
  }),
  /** N months or days after an event (the city publishes its annual edition). */
  z.strictObject({
    rule: z.literal('after-event'),
    event: id,
    months: z.number().int().optional(),
    days: z.number().int().optional(),
    date: isoDate.optional(),
  }),
]);

export const escalationStepSchema = z.strictObject({
  level: z.number().int(),
  /** Working days after due. */
  after: z.number().int(),
  /** Repeat every week until done or the period closes (the circular, DOMAIN.md 10). */
  repeatWeekly: z.boolean().default(false),
});

/**
 * Whose channels a ladder step uses beside email (docs/channels.md): the unit's, its supervising office's, the
 * leadership's group robots and webhooks, and SMS to the notice's recipients' mobiles.
 */
export const CHANNEL_ROUTES = ['unit', 'office', 'leadership', 'sms'] as const;
export type ChannelRoute = (typeof CHANNEL_ROUTES)[number];
const routes = list(z.enum(CHANNEL_ROUTES), CHANNEL_ROUTES.length).optional();
export const channelStepsSchema = z.strictObject({
  reminders: routes,
  /** Escalation levels: 1 the unit head, 2 the 督办单, 3 the circular. */
  level1: routes,
  level2: routes,
  level3: routes,
});
export type ChannelSteps = z.infer<typeof channelStepsSchema>;

/** DOMAIN.md 24, the issue's example: reminders to the unit's robot, a 督办单 also by SMS, the circular to leadership. */
export const DEFAULT_CHANNEL_STEPS: Required<{ [K in keyof ChannelSteps]: ChannelRoute[] }> = {
  reminders: ['unit'],
  level1: ['unit'],
  level2: ['unit', 'office', 'sms'],
  level3: ['leadership'],
};

const ladders = {
  /** Working days before due; 0 is the due day. */
  reminders: list(z.number().int(), LIMITS.reminders).optional(),
  escalation: list(escalationStepSchema, LIMITS.escalationSteps).optional(),
  /** Which channels each step uses beside email; unset steps take the catalog's defaults, then DEFAULT_CHANNEL_STEPS. */
  channels: channelStepsSchema.optional(),
};

export const basisSchema = z.strictObject({
  document: text,
  article: text.optional(),
  quote: paragraph,
});

// --- 协办 and 提级督办 (DOMAIN.md 28, 26) -----------------------------------------------------------------------

/**
 * The obligation's fields for cooperation across units: the cooperating units (协办单位) of every tracker, whose
 * unit is the lead (主办), and the raise of a period left open after the last escalation step to the office above
 * the unit's supervising office (提级督办). docs/catalog.md, "协办单位" and "提级督办".
 */
const cooperation = {
  /** Units (ids) and tags whose units cooperate: they receive the reminders, may 签收 and 反馈进展; the lead submits. */
  cooperators: z
    .strictObject({
      units: list(id, LIMITS.cooperators).default([]),
      tags: list(line(LIMITS.tag), LIMITS.assigneeTags).default([]),
    })
    .optional(),
  /**
   * Working days after the last escalation step's first notice: a period still open then goes up to the
   * supervising office of the unit's supervising office, a numbered 督办单 from that office.
   */
  raiseAfter: z.number().int().optional(),
};

export const obligationSchema = z.strictObject({
  id,
  title: text,
  basis: list(basisSchema, LIMITS.basis).min(1, { message: '须至少有一项法律依据' }),
  assignees: z.strictObject({
    units: list(id, LIMITS.assigneeUnits).default([]),
    tags: list(line(LIMITS.tag), LIMITS.assigneeTags).default([]),
  }),
  lead: id.optional(),
  completion: z.enum(COMPLETION_KINDS).default('single'),
  /** For completion: quota, the number of events required in each period. */
  quota: z.number().int().optional(),
  period: z.enum(PERIOD_KINDS),
  /** For period: year, a cycle of this many years (每隔两年: 2), counted from `anchor`. */
  every: z.number().int().optional(),
  /** A year a cycle starts in (e.g. 2025 for 2025-2026, 2027-2028, ...); required with `every`. */
  anchor: z.number().int().optional(),
  /**
   * For completion: rate, the lowest acceptable percentage (不低于90%: 90); for completion: count, the lowest
   * acceptable count (最少3人: 3).
   */
  threshold: z.number().optional(),
  /** For completion: rate or count, what the figures are, in the words of the notice (出庭应诉率, 办案人员人数). */
  measure: text.optional(),
  /** For completion: per-person, the roster (a name in the rosters file) whose every person must reach `quota`. */
  roster: text.optional(),
  /** For completion: per-person, what `quota` counts: times (default) or hours. */
  quotaUnit: z.enum(QUOTA_UNITS).optional(),
  due: dueRuleSchema,
  /** 《民法典》第二百零三条: a due date on a day off moves to the next working day. Off by default (DOMAIN.md 8). */
  rollForward: z.boolean().default(false),
  /** What the unit must hand in, in the words of the notice. */
  deliverable: paragraph.optional(),
  verification: z.boolean().default(false),
  urgent: z.boolean().default(false),
  /**
   * Days after due the escalation ladder runs for an unfinished period, which then is missed (DOMAIN.md 19).
   * Default: until the next period of the obligation is itself overdue; a year for a one-off.
   */
  escalationEndsAfter: z
    .number()
    .int()
    .min(1, { message: '须至少为1天' })
    .max(730, { message: '最多为730天' })
    .optional(),
  noticeHour: z.number().int().optional(),
  timeZone: text.optional(),
  ...ladders,
  ...cooperation,
});

/** The catalog's zone when it names none; obligations may name their own (timeZoneOf in trackers.ts). */
export const DEFAULT_TIME_ZONE = 'Asia/Shanghai';

export const catalogSchema = z.strictObject({
  timeZone: text.default(DEFAULT_TIME_ZONE),
  noticeHour: z.number().int().default(9),
  /** How units submit, in the words of the notice (a system, an address, a form). */
  howToSubmit: paragraph.optional(),
  defaults: z.strictObject(ladders).default({}),
  obligations: list(obligationSchema, LIMITS.obligations).min(1, { message: '须至少有一项任务' }),
});

export type Contact = z.infer<typeof contactSchema>;
export type Leader = z.infer<typeof leaderSchema>;
export type Unit = z.infer<typeof unitSchema>;
export type Directory = z.infer<typeof directorySchema>;
export type Jurisdiction = z.infer<typeof jurisdictionSchema>;
export type UnitLevel = (typeof UNIT_LEVELS)[number];
export type PeriodKind = (typeof PERIOD_KINDS)[number];
export type DueRule = z.infer<typeof dueRuleSchema>;
export type EscalationStep = z.infer<typeof escalationStepSchema>;
export type Basis = z.infer<typeof basisSchema>;
export type Obligation = z.infer<typeof obligationSchema>;
export type Catalog = z.infer<typeof catalogSchema>;
export type Channel = z.infer<typeof channelSchema>;

/** DOMAIN.md 9: 10, 3 and 1 working days before due, and on the due day. */
export const DEFAULT_REMINDERS: readonly number[] = [10, 3, 1, 0];

/** DOMAIN.md 10: +1 unit head, +5 督办单, +10 circular repeated weekly. */
export const DEFAULT_ESCALATION: readonly EscalationStep[] = [
  { level: 1, after: 1, repeatWeekly: false },
  { level: 2, after: 5, repeatWeekly: false },
  { level: 3, after: 10, repeatWeekly: true },
];
