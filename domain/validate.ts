/**
 * Validation of a directory and a catalog together, reporting every problem at once.
 *
 * Problems carry the document they are in and the path of the offending field; config/load.ts turns paths into
 * file lines. Nothing here reads files, so the same checks run on data from anywhere.
 */
import type { z } from 'zod';
import { isValidDate, parseDate } from './dates';
import {
  Catalog,
  DEFAULT_ESCALATION,
  Directory,
  LIMITS,
  Obligation,
  Unit,
  catalogSchema,
  directorySchema,
  obligationSchema,
} from './model';
import type { TrackerDefinition } from './trackers';
import { expandAssignees, expandCooperators, raiseOfficeOf } from './trackers';
import type { DocumentKind, Path, Problem } from './problems';
import { RosterEntry, RosterProblem, rosterOf } from './roster';
import { PERIOD_KIND_WORDS } from './words';
import { levelProblems } from './jurisdictions';
import { isKnownZone } from './zone';

/**
 * Bounds on the numbers of a catalog (docs/catalog.md, "Limits"): what the planner can run and an office can
 * mean. A ladder step of 100,000 working days or a due rule of 1e9 months validates as a number but cannot be
 * planned, so it is refused here rather than failing in a running tracker.
 */
export const BOUNDS = {
  /** Working days before due (about one working year). */
  reminder: 250,
  /** Working days after due. */
  escalationAfter: 250,
  /** after-period-end: months, and days. */
  months: 24,
  days: 730,
  quota: 1000,
  /** Fixed dates (one-offs) and calendar years: the span the working-day calendar is computed for. */
  firstYear: 2000,
  lastYear: 2100,
} as const;

/**
 * The most a tracker's definition may weigh, serialised as JSON (UTF-8). It is carried by the workflow's input,
 * by every notice activity's input and by each continue-as-new; Temporal refuses a payload above 2 MB and a
 * history above 50 MB, so 64 KB leaves room for the tracker's state and a year of notices in one history.
 */
export const DEFINITION_MAX_BYTES = 64 * 1024;

export type { DocumentKind, Path, Problem } from './problems';

export interface Validated {
  catalog?: Catalog;
  directory?: Directory;
  problems: Problem[];
}

/** Values are quoted in messages, never echoed whole: a 3 MB name or a binary blob stays out of the terminal. */
export function describeValue(v: unknown): string {
  if (v === null) return '空值 null';
  if (Array.isArray(v)) return '列表';
  if (typeof v === 'object') return '映射';
  return typeof v === 'string' ? `文本 ${quoteShort(v)}` : `${VALUE_TYPE_WORDS[typeof v] ?? typeof v} ${String(v)}`;
}

/** JSON-quoted (control characters escaped) and cut to `max` characters. */
export function quoteShort(v: unknown, max = 60): string {
  const s = typeof v === 'string' ? v : String(v);
  const cut = [...s.slice(0, max + 1)];
  const quoted =
    cut.length > max ? `${JSON.stringify(cut.slice(0, max).join(''))}…（共${s.length}个字符）` : JSON.stringify(s);
  // JSON escapes C0 controls; terminals also act on C1 controls, and bidirectional overrides reorder what is shown.
  return quoted.replace(
    /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function valueAt(root: unknown, path: Path): unknown {
  let v: unknown = root;
  for (const k of path)
    v = v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[k] : undefined;
  return v;
}

const TYPE_WORDS: Record<string, string> = {
  string: '文本',
  number: '数字',
  int: '整数',
  boolean: 'true 或 false',
  array: '列表',
  object: '映射',
  record: '映射',
  map: '映射',
};

/** A value's type as describeValue names it: 数字 5, 布尔值 true. */
const VALUE_TYPE_WORDS: Record<string, string> = { number: '数字', boolean: '布尔值', bigint: '整数' };

/**
 * zod's own (English) message for a bound it checks without one of ours, said again from the issue's figures:
 * a whole number past 2^53, say. Our schemas give their own messages (domain/model.ts), which pass through.
 */
function boundWords(
  issue:
    | { code: 'too_big'; maximum: unknown; origin?: string; inclusive?: boolean }
    | { code: 'too_small'; minimum: unknown; origin?: string; inclusive?: boolean },
): string {
  const big = issue.code === 'too_big';
  const limit = String(issue.code === 'too_big' ? issue.maximum : issue.minimum);
  const unit = issue.origin === 'string' ? '个字符' : issue.origin === 'array' || issue.origin === 'set' ? '项' : '';
  if (unit) return big ? `过长：最多${limit}${unit}` : `过短：至少${limit}${unit}`;
  if (big) return issue.inclusive === false ? `过大：须小于${limit}` : `过大：最大为${limit}`;
  return issue.inclusive === false ? `过小：须大于${limit}` : `过小：最小为${limit}`;
}

/** Whether a message is zod's default (English), not one our schemas give (domain/model.ts, in Chinese). */
const zodDefault = (message: string) => !/[\u4e00-\u9fff]/.test(message);

/**
 * One zod issue in words, for schemas checked outside the catalog and directory (the settings): our own message
 * when the schema gives one, else words made from the issue's figures, never zod's English.
 */
export function issueWords(issue: z.core.$ZodIssue, value: unknown): string {
  if (!zodDefault(issue.message)) return issue.message;
  switch (issue.code) {
    case 'invalid_type':
      return value === undefined
        ? '缺失'
        : `须为${TYPE_WORDS[issue.expected] ?? issue.expected}，而不是${describeValue(value)}`;
    case 'invalid_value':
      return `须为 ${issue.values.map((v) => JSON.stringify(v)).join('、')} 之一，而不是${describeValue(value)}`;
    case 'too_big':
    case 'too_small':
      return boundWords(issue);
    case 'unrecognized_keys':
      return `未知的键 ${issue.keys.map((k) => quoteShort(k)).join('、')}`;
    default:
      return `${describeValue(value)} 无效`;
  }
}

/** zod's messages speak TypeScript; these speak to the administrator editing the file. */
export function zodProblems(document: DocumentKind, raw: unknown, error: z.ZodError): Problem[] {
  const problems: Problem[] = [];
  for (const issue of error.issues) {
    const path = issue.path.filter((k): k is string | number => typeof k !== 'symbol');
    const value = valueAt(raw, path);
    switch (issue.code) {
      case 'unrecognized_keys':
        for (const key of issue.keys.slice(0, 20)) {
          problems.push({
            document,
            path: [...path, key],
            atKey: true,
            message: `未知的键 ${quoteShort(key)}（拼写错误？）`,
          });
        }
        break;
      case 'invalid_type':
        problems.push({
          document,
          path,
          message:
            value === undefined
              ? '缺失'
              : `须为${TYPE_WORDS[issue.expected] ?? issue.expected}，而不是${describeValue(value)}`,
        });
        break;
      case 'invalid_value':
        problems.push({
          document,
          path,
          message: `须为 ${issue.values.map((v) => JSON.stringify(v)).join('、')} 之一，而不是${describeValue(value)}`,
        });
        break;
      case 'invalid_union':
        if ('discriminator' in issue && issue.discriminator) {
          const options = (issue as unknown as { options?: unknown[] }).options ?? [];
          problems.push({
            document,
            path,
            message:
              value === undefined
                ? `缺失（须为 ${options.map((o) => JSON.stringify(o)).join('、')} 之一）`
                : `须为 ${options.map((o) => JSON.stringify(o)).join('、')} 之一，而不是${describeValue(value)}`,
          });
        } else {
          problems.push({
            document,
            path,
            message: zodDefault(issue.message) ? `${describeValue(value)} 无效` : issue.message,
          });
        }
        break;
      case 'too_big':
        problems.push({
          document,
          path,
          message: zodDefault(issue.message) ? boundWords(issue) : issue.message,
        });
        break;
      case 'invalid_key': {
        const inner = issue.issues[0]?.message;
        problems.push({
          document,
          path,
          atKey: true,
          message: `键 ${quoteShort(path[path.length - 1])} ${inner && !zodDefault(inner) ? inner : '不允许出现在此处'}`,
        });
        break;
      }
      case 'too_small':
        problems.push({
          document,
          path,
          message: zodDefault(issue.message) ? boundWords(issue) : issue.message,
        });
        break;
      default:
        problems.push({
          document,
          path,
          message: `${describeValue(value)} ${zodDefault(issue.message) ? '无效' : issue.message}`,
        });
    }
  }
  return problems;
}

function ladderProblems(
  document: DocumentKind,
  base: Path,
  ladders: { reminders?: number[]; escalation?: { level: number; after: number; repeatWeekly: boolean }[] },
): Problem[] {
  const problems: Problem[] = [];
  ladders.reminders?.forEach((r, i) => {
    if (r < 0) {
      problems.push({
        document,
        path: [...base, 'reminders', i],
        message: `${r}将是截止后的提醒：提醒按截止前的工作日计（0为截止当日）；截止后的通知属于催办阶梯（escalation）`,
      });
    } else if (r > BOUNDS.reminder) {
      problems.push({
        document,
        path: [...base, 'reminders', i],
        message: `截止前${r}个工作日超过${BOUNDS.reminder}个（约一个工作年）：第一次提醒最早在截止前${BOUNDS.reminder}个工作日`,
      });
    } else if (i > 0 && r >= ladders.reminders![i - 1]!) {
      problems.push({
        document,
        path: [...base, 'reminders', i],
        message: `提醒须按截止前的工作日从多到少排列，如 [10, 3, 1, 0]；${r}排在${ladders.reminders![i - 1]}之后`,
      });
    }
  });
  const steps = ladders.escalation ?? [];
  steps.forEach((s, i) => {
    const at = [...base, 'escalation', i];
    if (s.level < 1 || s.level > 3)
      problems.push({
        document,
        path: [...at, 'level'],
        message: `没有第${s.level}级：催办分1、2、3级`,
      });
    if (s.after < 1) {
      problems.push({
        document,
        path: [...at, 'after'],
        message: `${s.after}不在截止之后：催办按截止后的工作日计，从1开始`,
      });
    }
    if (s.after > BOUNDS.escalationAfter) {
      problems.push({
        document,
        path: [...at, 'after'],
        message: `截止后${s.after}个工作日超过${BOUNDS.escalationAfter}个（约一个工作年）：请提前催办，或让期次到期结束`,
      });
    }
    const prev = steps[i - 1];
    if (prev && s.after <= prev.after) {
      problems.push({
        document,
        path: [...at, 'after'],
        message: `催办各步须依次后延；${s.after}不在${prev.after}之后`,
      });
    }
    if (prev && s.level < prev.level) {
      problems.push({
        document,
        path: [...at, 'level'],
        message: `催办级别不能降低；第${s.level}级排在第${prev.level}级之后`,
      });
    }
    if (s.repeatWeekly && i !== steps.length - 1) {
      problems.push({
        document,
        path: [...at, 'repeatWeekly'],
        message: '只有最后一步催办可以每周重复',
      });
    }
  });
  return problems;
}

/** What cross-checks need of the directory: ids and tags, read leniently so a directory with its own problems still serves. */
type UnitIndex = { id: string; tags: string[] }[];

function unitIndex(rawDirectory: unknown): UnitIndex | undefined {
  const units = (rawDirectory as { units?: unknown } | undefined)?.units;
  if (!Array.isArray(units)) return undefined;
  return units
    .filter(
      (u): u is { id: string; tags?: unknown } =>
        u !== null && typeof u === 'object' && typeof (u as { id?: unknown }).id === 'string',
    )
    .map((u) => ({
      id: u.id,
      tags: Array.isArray(u.tags) ? u.tags.filter((t): t is string => typeof t === 'string') : [],
    }));
}

function obligationProblems(o: Obligation, i: number, directory: UnitIndex | undefined): Problem[] {
  const base: Path = ['obligations', i];
  const problems: Problem[] = [];
  const add = (path: Path, message: string) =>
    problems.push({ document: 'catalog', path: [...base, ...path], message });

  const eventRule = o.due.rule === 'before-event' || o.due.rule === 'after-event';
  if ((o.period === 'once') !== (o.due.rule === 'fixed-date' || eventRule)) {
    add(
      ['due', 'rule'],
      o.period === 'once'
        ? '一次性任务（period: once）须用 rule: fixed-date（或 before-event/after-event）'
        : `rule: ${o.due.rule} 只用于 period: once，不能用于 period: ${o.period}`,
    );
  }
  switch (o.due.rule) {
    case 'fixed-date':
      if (parseDate(o.due.date) === undefined) {
        add(['due', 'date'], `“${o.due.date}”不是日历上的日期`);
      } else if (
        Number(o.due.date.slice(0, 4)) < BOUNDS.firstYear ||
        Number(o.due.date.slice(0, 4)) > BOUNDS.lastYear
      ) {
        add(['due', 'date'], `“${o.due.date}”超出 duban 可排期的年份（${BOUNDS.firstYear}-${BOUNDS.lastYear}）`);
      }
      break;
    case 'next-month-day': {
      if (o.period !== 'year') {
        add(
          ['due', 'rule'],
          `rule: next-month-day 只用于 period: year（否则两个${PERIOD_KIND_WORDS[o.period] ?? o.period}期次会在同一天截止）；请用 after-period-end`,
        );
      }
      const [m, d] = o.due.monthDay.split('-').map(Number) as [number, number];
      if (m === 2 && d === 29) {
        add(['due', 'monthDay'], '“02-29”只在闰年存在；“3月1日之前”请写 monthDay: "03-01" 并加 before: true');
      } else if (!isValidDate(2024, m, d)) {
        add(['due', 'monthDay'], `“${o.due.monthDay}”不是一年中的日期`);
      }
      break;
    }
    case 'after-period-end': {
      const { days, months } = o.due;
      if ((days === undefined) === (months === undefined)) add(['due'], 'days 和 months 须给出且只给出其中一个');
      if (days !== undefined && days < 0) add(['due', 'days'], `${days}为负数：截止日期在期次结束之后`);
      if (days !== undefined && days > BOUNDS.days)
        add(['due', 'days'], `期次结束后${days}天超过${BOUNDS.days}天（两年）`);
      if (months !== undefined && months < 1) add(['due', 'months'], `${months}须为1或更大`);
      if (months !== undefined && months > BOUNDS.months)
        add(['due', 'months'], `期次结束后${months}个月超过${BOUNDS.months}个月（两年）`);
      break;
    }
    case 'in-period-month-day': {
      if (o.period !== 'year')
        add(['due', 'rule'], `rule: in-period-month-day 只用于 period: year，不能用于 period: ${o.period}`);
      const [m, d] = o.due.monthDay.split('-').map(Number) as [number, number];
      if (!isValidDate(2024, m, d) || (m === 2 && d === 29))
        add(['due', 'monthDay'], `“${o.due.monthDay}”不是每年都有的日期`);
      break;
    }
    case 'before-event':
    case 'after-event': {
      const { days, months, date } = o.due;
      if ((days === undefined) === (months === undefined)) add(['due'], 'days 和 months 须给出且只给出其中一个');
      if (days !== undefined && (days < 0 || days > 3660)) add(['due', 'days'], `${days}须在0至3660天之间`);
      if (months !== undefined && (months < 1 || months > 120)) add(['due', 'months'], `${months}须在1至120个月之间`);
      if (date !== undefined)
        add(['due', 'date'], `事件${o.due.event}的日期来自事件文件（--events），不写在任务清单中`);
      break;
    }
    case 'next-month-end':
      if (o.period === 'once')
        add(['due', 'rule'], 'rule: next-month-end 只用于周期性任务；一次性任务须用 rule: fixed-date');
      break;
    case 'following-month-day':
      if (o.due.day < 1 || o.due.day > 31) {
        add(['due', 'day'], `${o.due.day}不是月中的日期（1-31；某月没有的日期按该月最后一天计）`);
      } else if (o.due.before && o.due.day === 1) {
        add(['due', 'day'], 'day 1 加 before: true 就是期次本身的最后一天：请写 rule: period-end');
      }
      break;
    case 'period-end':
      break;
  }
  cadenceProblems(o, add);
  if (o.completion === 'quota' && (o.quota === undefined || o.quota < 1)) {
    add(
      ['quota'],
      o.quota === undefined ? '缺失：completion: quota 须给出每个期次须登记的次数' : `${o.quota}须为1或更大`,
    );
  }
  if (o.quota !== undefined && o.quota > BOUNDS.quota) add(['quota'], `每个期次${o.quota}次超过${BOUNDS.quota}次`);
  if (o.completion === 'single' && o.quota !== undefined) add(['quota'], '只用于 completion: quota');
  if (o.noticeHour !== undefined && (o.noticeHour < 0 || o.noticeHour > 23))
    add(['noticeHour'], `${o.noticeHour}不是有效的小时（0-23）`);
  if (o.timeZone !== undefined && !isKnownZone(o.timeZone))
    add(['timeZone'], `“${o.timeZone}”不是有效的时区，如 Asia/Shanghai`);
  problems.push(...ladderProblems('catalog', base, o));

  if (o.assignees.units.length === 0 && o.assignees.tags.length === 0) {
    add(['assignees'], '没有指定任何承办单位：请给出 units 和/或 tags');
  }
  if (directory) {
    const unitIds = new Set(directory.map((u) => u.id));
    o.assignees.units.forEach((u, j) => {
      if (!unitIds.has(u)) add(['assignees', 'units', j], `未知的单位“${u}”：单位名录中没有此编号的单位`);
    });
    o.assignees.tags.forEach((tag, j) => {
      if (!directory.some((u) => u.tags.includes(tag))) {
        add(['assignees', 'tags', j], `标签“${tag}”没有选中任何单位：单位名录中没有单位带此标签`);
      }
    });
    if (o.lead !== undefined && !unitIds.has(o.lead))
      add(['lead'], `未知的单位“${o.lead}”：单位名录中没有此编号的单位`);
  }
  return problems;
}

/** Years a cycle may span: 每隔两年 and longer, up to a decade. */
const MAX_CYCLE_YEARS = 10;

/** Cycles of several years (every/anchor) and the figures of rate and count completions. */
function cadenceProblems(o: Obligation, add: (path: Path, message: string) => void): void {
  if (o.every !== undefined) {
    if (o.period !== 'year') add(['every'], `只用于 period: year（以年为周期），不能用于 period: ${o.period}`);
    if (o.every < 1 || o.every > MAX_CYCLE_YEARS) add(['every'], `${o.every}须在1至${MAX_CYCLE_YEARS}年之间`);
    if (o.anchor === undefined && o.every > 1)
      add(['anchor'], `缺失：every: ${o.every} 须给出周期的起始年份，如 anchor: 2025`);
  }
  if (o.anchor !== undefined) {
    if (o.every === undefined) add(['anchor'], '只用于多年一个周期的任务：请同时给出 every');
    if (o.anchor < 1900 || o.anchor > 2200) add(['anchor'], `${o.anchor}不是1900至2200之间的年份`);
  }
  if (o.completion === 'per-person') {
    if (o.roster === undefined)
      add(['roster'], '缺失：completion: per-person 须给出人员名单（其中每人都须达到要求），如 roster: 执法人员');
    if (o.quota === undefined || o.quota <= 0 || o.quota > 10_000) {
      add(
        ['quota'],
        o.quota === undefined
          ? '缺失：completion: per-person 须给出每人须达到的数量'
          : `${o.quota}须大于0且不超过10000`,
      );
    } else if ((o.quotaUnit ?? 'times') === 'times' && !Number.isInteger(o.quota)) {
      add(['quota'], `${o.quota}次不是整数；按学时计请写 quotaUnit: hours`);
    }
  } else {
    if (o.roster !== undefined) add(['roster'], '只用于 completion: per-person');
    if (o.quotaUnit !== undefined) add(['quotaUnit'], '只用于 completion: per-person');
  }
  const measured = o.completion === 'rate' || o.completion === 'count';
  if (measured) {
    if (o.threshold === undefined) {
      add(
        ['threshold'],
        `缺失：completion: ${o.completion} 须给出${o.completion === 'rate' ? '可接受的最低百分比，如 90' : '可接受的最低数量，如 3'}`,
      );
    } else if (o.completion === 'rate' && (o.threshold <= 0 || o.threshold > 100)) {
      add(['threshold'], `${o.threshold}不是大于0且不超过100的百分比（“不低于90%”写 90）`);
    } else if (
      o.completion === 'count' &&
      (!Number.isInteger(o.threshold) || o.threshold < 1 || o.threshold > 1_000_000)
    ) {
      add(['threshold'], `${o.threshold}须为1至1000000之间的整数`);
    }
    if (o.quota !== undefined) add(['quota'], `只用于 completion: quota；completion: ${o.completion} 用 threshold`);
  } else {
    if (o.threshold !== undefined) add(['threshold'], '只用于 completion: rate 或 count');
    if (o.measure !== undefined) add(['measure'], '只用于 completion: rate 或 count');
  }
}

function directoryProblems(directory: Directory): Problem[] {
  const problems: Problem[] = [];
  const seen = new Map<string, number>();
  directory.units.forEach((u, i) => {
    const first = seen.get(u.id);
    if (first !== undefined) {
      problems.push({
        document: 'directory',
        path: ['units', i, 'id'],
        message: `单位编号“${u.id}”重复（另见 units[${first}]）`,
      });
    } else {
      seen.set(u.id, i);
    }
  });
  problems.push(...channelProblems(directory));
  directory.units.forEach((u, i) => {
    if (u.supervisor === undefined) return;
    if (!seen.has(u.supervisor)) {
      problems.push({
        document: 'directory',
        path: ['units', i, 'supervisor'],
        message: `未知的单位“${u.supervisor}”：督察单位须是单位名录中的单位`,
      });
    } else if (u.supervisor === u.id) {
      problems.push({
        document: 'directory',
        path: ['units', i, 'supervisor'],
        message: '单位不能是自己的督察单位',
      });
    }
  });
  // Levels (DOMAIN.md 26): the jurisdictions' tree, and who may supervise whom across it.
  problems.push(...levelProblems(directory));
  return problems;
}

/** A catalog that asks for SMS by name needs the directory's SMS channel (the defaults' SMS is skipped without one). */
function smsRouteProblems(catalog: Catalog, directory: Directory): Problem[] {
  if (directory.channels.some((c) => c.kind === 'sms')) return [];
  const problems: Problem[] = [];
  const check = (steps: Catalog['defaults']['channels'], path: Path) => {
    for (const [step, list] of Object.entries(steps ?? {}))
      (list ?? []).forEach((r, j) => {
        if (r === 'sms')
          problems.push({
            document: 'catalog',
            path: [...path, 'channels', step, j],
            message: '使用了短信，但单位名录中没有 kind 为 sms 的渠道',
          });
      });
  };
  check(catalog.defaults.channels, ['defaults']);
  catalog.obligations.forEach((o, i) => check(o.channels, ['obligations', i]));
  return problems;
}

/** Whether a URL's host is this machine: the one place a webhook may use plain http (tests, a local gateway). */
export function isLoopbackUrl(u: URL): boolean {
  const h = u.hostname.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/**
 * The directory's channels (docs/channels.md): names unique, each used name defined, a webhook's URL https (http
 * only on loopback), an SMS account with its approved sign name and template, group channels not SMS.
 */
function channelProblems(directory: Directory): Problem[] {
  const problems: Problem[] = [];
  const add = (path: Path, message: string) => problems.push({ document: 'directory', path, message });
  const byName = new Map<string, number>();
  directory.channels.forEach((c, i) => {
    const first = byName.get(c.name);
    if (first !== undefined) add(['channels', i, 'name'], `渠道名称“${c.name}”重复（另见 channels[${first}]）`);
    else byName.set(c.name, i);
    if (c.kind === 'webhook') {
      if (c.url === undefined) add(['channels', i], 'webhook 须给出 url');
      else {
        let u: URL | undefined;
        try {
          u = new URL(c.url);
        } catch {
          add(['channels', i, 'url'], `“${c.url.slice(0, 80)}”不是有效的网址`);
        }
        if (u && u.protocol !== 'https:' && !(u.protocol === 'http:' && isLoopbackUrl(u)))
          add(['channels', i, 'url'], '须为 https://（只有发往本机回环地址如 127.0.0.1 时可用 http）');
        if (u && (u.username || u.password)) add(['channels', i, 'url'], '不能含用户名或密码：签名密钥写在设置中');
      }
    } else if (c.url !== undefined) add(['channels', i, 'url'], `只有 webhook 有 url；${c.kind} 渠道的地址来自设置`);
    if (c.kind === 'sms') {
      if (c.signName === undefined) add(['channels', i], '短信渠道须给出 signName（已审核的短信签名）');
      if (c.templateCode === undefined) add(['channels', i], '短信渠道须给出 templateCode（已审核的短信模板）');
    } else {
      if (c.signName !== undefined) add(['channels', i, 'signName'], '只有短信渠道有 signName');
      if (c.templateCode !== undefined) add(['channels', i, 'templateCode'], '只有短信渠道有 templateCode');
    }
  });
  if (directory.channels.filter((c) => c.kind === 'sms').length > 1)
    add(['channels'], '最多一个短信渠道：短信通过同一个账号发到收件人的手机');
  const use = (names: string[], path: Path) =>
    names.forEach((n, j) => {
      const i = byName.get(n);
      if (i === undefined) add([...path, j], `未知的渠道“${n}”：请先在 channels 下定义（name、kind）`);
      else if (directory.channels[i]!.kind === 'sms')
        add([...path, j], `“${n}”是短信渠道：短信发到手机，由任务清单中催办步骤的 "sms" 使用`);
    });
  use(directory.leadershipChannels, ['leadershipChannels']);
  directory.units.forEach((u, i) => use(u.channels, ['units', i, 'channels']));
  return problems;
}

/**
 * Validates both documents (either may be absent when it failed to parse) and returns the typed values only
 * when there is no problem at all.
 */
export function validateDocuments(rawCatalog: unknown, rawDirectory: unknown): Validated {
  const problems: Problem[] = [];
  let directory: Directory | undefined;
  let catalog: Catalog | undefined;

  if (rawDirectory !== undefined) {
    const parsed = directorySchema.safeParse(rawDirectory);
    if (parsed.success) {
      directory = parsed.data;
      problems.push(...directoryProblems(directory));
    } else {
      problems.push(...zodProblems('directory', rawDirectory, parsed.error));
    }
  }
  const units = directory ? directory.units : unitIndex(rawDirectory);
  if (rawCatalog !== undefined) {
    const parsed = catalogSchema.safeParse(rawCatalog);
    if (parsed.success) {
      catalog = parsed.data;
      problems.push(...catalogProblems(catalog, units, directory));
    } else {
      problems.push(...zodProblems('catalog', rawCatalog, parsed.error));
      // A typo must not hide the rest (#19 item 11): what parses once unknown keys are set aside is checked too.
      problems.push(...partialCatalogProblems(rawCatalog, parsed.error, units, directory));
    }
  }
  return problems.length === 0 ? { catalog, directory, problems } : { problems };
}

/** The checks of a catalog that has its shape: zone, hour, ladders, each obligation, offices and size. */
function catalogProblems(catalog: Catalog, units: UnitIndex | undefined, directory: Directory | undefined): Problem[] {
  const problems: Problem[] = [...catalogFieldProblems(catalog.timeZone, catalog.noticeHour)];
  problems.push(...ladderProblems('catalog', ['defaults'], catalog.defaults));
  const seen = new Map<string, number>();
  catalog.obligations.forEach((o, i) => {
    const first = seen.get(o.id);
    if (first !== undefined) {
      problems.push({
        document: 'catalog',
        path: ['obligations', i, 'id'],
        message: `任务编号“${o.id}”重复（另见 obligations[${first}]）`,
      });
    } else {
      seen.set(o.id, i);
    }
    problems.push(...obligationProblems(o, i, units));
  });
  if (directory)
    problems.push(
      ...supervisionProblems(catalog, directory),
      ...trackerCountProblems(catalog, directory),
      ...smsRouteProblems(catalog, directory),
      ...cooperationProblems(catalog, directory),
    );
  return problems;
}

function catalogFieldProblems(timeZone: unknown, noticeHour: unknown): Problem[] {
  const problems: Problem[] = [];
  if (typeof timeZone === 'string' && !isKnownZone(timeZone))
    problems.push({
      document: 'catalog',
      path: ['timeZone'],
      message: `“${timeZone}”不是有效的时区，如 Asia/Shanghai`,
    });
  if (typeof noticeHour === 'number' && Number.isInteger(noticeHour) && (noticeHour < 0 || noticeHour > 23))
    problems.push({ document: 'catalog', path: ['noticeHour'], message: `${noticeHour}不是有效的小时（0-23）` });
  return problems;
}

/** A copy of `raw` without the keys zod did not recognise (typos), so that the rest can be parsed and checked. */
function withoutUnknownKeys(raw: unknown, error: z.ZodError): unknown {
  const copy = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(copy)
      : v !== null && typeof v === 'object'
        ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, copy(x)]))
        : v;
  const root = copy(raw);
  for (const issue of error.issues) {
    if (issue.code !== 'unrecognized_keys') continue;
    const target = valueAt(
      root,
      issue.path.filter((k): k is string | number => typeof k !== 'symbol'),
    );
    if (target !== null && typeof target === 'object' && !Array.isArray(target))
      for (const key of issue.keys) delete (target as Record<string, unknown>)[key];
  }
  return root;
}

/**
 * The checks that a catalog with shape problems can still have: with the typos set aside, the whole catalog if it
 * then parses; otherwise the zone, the hour, the default ladders and every obligation that parses on its own.
 * Parts with shape problems of their own are not checked further: their problems are already reported.
 */
function partialCatalogProblems(
  rawCatalog: unknown,
  error: z.ZodError,
  units: UnitIndex | undefined,
  directory: Directory | undefined,
): Problem[] {
  const lenient = withoutUnknownKeys(rawCatalog, error);
  const whole = catalogSchema.safeParse(lenient);
  if (whole.success) return catalogProblems(whole.data, units, directory);
  if (lenient === null || typeof lenient !== 'object' || Array.isArray(lenient)) return [];
  const raw = lenient as Record<string, unknown>;
  const problems = catalogFieldProblems(raw.timeZone, raw.noticeHour);
  const defaults = catalogSchema.shape.defaults.safeParse(raw.defaults);
  if (defaults.success) problems.push(...ladderProblems('catalog', ['defaults'], defaults.data));
  if (Array.isArray(raw.obligations))
    raw.obligations.forEach((o, i) => {
      const parsed = obligationSchema.safeParse(o);
      if (parsed.success) problems.push(...obligationProblems(parsed.data, i, units));
    });
  return problems;
}

/**
 * One deployment runs at most this many trackers (obligation x assigned unit). Far above a province's catalog, and
 * it keeps a directory of 20,000 units with 500 obligations each assigned to all of them (ten million trackers, a
 * few megabytes of YAML) from exhausting validate, plan and register.
 */
export const MAX_TRACKERS = 100_000;

function trackerCountProblems(catalog: Catalog, directory: Directory): Problem[] {
  let count = 0;
  for (const o of catalog.obligations) {
    const ids = new Set(o.assignees.units);
    const tags = new Set(o.assignees.tags);
    for (const u of directory.units) if (ids.has(u.id) || u.tags.some((t) => tags.has(t))) count++;
  }
  if (count <= MAX_TRACKERS) return [];
  return [
    {
      document: 'catalog',
      path: ['obligations'],
      message: `任务清单和单位名录将产生${count}项督办任务，超过一个部署可运行的${MAX_TRACKERS}项；请拆分任务清单或单位名录`,
    },
  ];
}

/**
 * Rosters against a valid catalog and directory (per-person quotas): every roster row names a unit of the
 * directory and a roster some obligation uses, and every unit assigned a per-person obligation has someone on its
 * roster. `entries` is undefined when no rosters file was given.
 */
export function rosterProblems(
  catalog: Catalog,
  directory: Directory,
  entries: readonly RosterEntry[] | undefined,
): { catalog: Problem[]; rows: RosterProblem[] } {
  const result = { catalog: [] as Problem[], rows: [] as RosterProblem[] };
  const perPerson = catalog.obligations.map((o, i) => ({ o, i })).filter(({ o }) => o.completion === 'per-person');
  if (entries === undefined) {
    for (const { i } of perPerson) {
      result.catalog.push({
        document: 'catalog',
        path: ['obligations', i, 'roster'],
        message:
          'completion: per-person 须有人员名单文件（用 --rosters rosters.csv 给出；见 docs/catalog.md，“Per-person quotas”）',
      });
    }
    return result;
  }
  const unitIds = new Set(directory.units.map((u) => u.id));
  const rosters = new Set(perPerson.map(({ o }) => o.roster));
  for (const e of entries) {
    if (!unitIds.has(e.unit))
      result.rows.push({
        line: e.line,
        column: 'unit',
        message: `未知的单位“${e.unit}”：单位名录中没有此编号的单位`,
      });
    else if (!rosters.has(e.roster)) {
      result.rows.push({
        line: e.line,
        column: 'roster',
        message: `名单“${e.roster}”没有被任务清单中任何按人计的任务使用（在用的名单：${[...rosters].join('、') || '无'}）`,
      });
    }
  }
  for (const { o, i } of perPerson) {
    const units = directory.units.filter(
      (u) => o.assignees.units.includes(u.id) || u.tags.some((t) => o.assignees.tags.includes(t)),
    );
    const empty = units.filter((u) => rosterOf(entries, u.id, o.roster!).length === 0).map((u) => u.id);
    if (empty.length) {
      result.catalog.push({
        document: 'catalog',
        path: ['obligations', i, 'roster'],
        message: `名单“${o.roster}”中没有 ${empty.join('、')} 的人员：请把人员加入名单文件，或不再给这些单位指派此任务`,
      });
    }
  }
  return result;
}

/** Every assigned unit needs a supervising office to escalate to. */
function supervisionProblems(catalog: Catalog, directory: Directory): Problem[] {
  const problems: Problem[] = [];
  directory.units.forEach((u, i) => {
    if (u.supervisor !== undefined) return;
    const assigned = catalog.obligations.filter(
      (o) => o.assignees.units.includes(u.id) || u.tags.some((t) => o.assignees.tags.includes(t)),
    );
    if (assigned.length > 0) {
      problems.push({
        document: 'directory',
        path: ['units', i],
        message: `单位“${u.id}”承办 ${assigned.map((o) => o.id).join('、')}，但没有可接收催办的督察单位（supervisor）`,
      });
    }
  });
  return problems;
}

const utf8 = new TextEncoder();
const bytes = (v: unknown) => (v === undefined ? 0 : utf8.encode(JSON.stringify(v)).length);
const kb = (n: number) => `${Math.ceil(n / 1024)} KB`;

/**
 * Trackers whose definition is heavier than DEFINITION_MAX_BYTES, one problem per obligation (naming the
 * heaviest unit and how many are affected). Pure, and cheap enough to run on every load: `register` runs it on
 * every definition before it starts any, so a run that would fail half-way starts nothing.
 */
export function definitionProblems(
  trackers: readonly TrackerDefinition[],
  catalog?: Pick<Catalog, 'obligations'>,
): Problem[] {
  const heavy = new Map<string, { count: number; size: number; t: TrackerDefinition }>();
  for (const t of trackers) {
    const size = bytes(t);
    if (size <= DEFINITION_MAX_BYTES) continue;
    const seen = heavy.get(t.obligation.id);
    if (!seen) heavy.set(t.obligation.id, { count: 1, size, t });
    else {
      seen.count++;
      if (size > seen.size) Object.assign(seen, { size, t });
    }
  }
  const problems: Problem[] = [];
  for (const [obligation, { count, size, t }] of heavy) {
    const parts: [string, number][] = [
      ['任务本身（title、basis、deliverable、howToSubmit）', bytes(t.obligation)],
      [`单位“${t.unit.id}”（名称和联系人）`, bytes(t.unit)],
      [`其督察单位“${t.supervisor.id}”`, bytes(t.supervisor)],
      ['牵头单位', bytes(t.lead)],
      ['协办单位', bytes(t.cooperators)],
      ['单位名录的领导名单', bytes(t.leadership)],
    ];
    const largest = parts
      .filter(([, n]) => n > 1024)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([what, n]) => `${what} ${kb(n)}`);
    const index = catalog?.obligations.findIndex((o) => o.id === obligation) ?? -1;
    problems.push({
      document: 'catalog',
      path: index >= 0 ? ['obligations', index] : [],
      message:
        `督办任务 ${t.trackerId} 将有${kb(size)}，超过一项督办任务可承载的${kb(DEFINITION_MAX_BYTES)}` +
        `（Temporal 的数据大小限制）${count > 1 ? `，此任务的另外${count - 1}项督办任务也是如此` : ''}；` +
        `最大的部分：${largest.join('、') || '都不超过 1 KB'}。请缩短。`,
    });
  }
  return problems;
}

/**
 * One-offs (period: once) whose fixed date is already past on `today` (the catalog's zone): allowed, since an
 * office may register a task that is late, but such a tracker starts red and sends, of the notices already due,
 * only the latest (perhaps an escalation): validate says so before register does it.
 */
export function pastOneOffWarnings(catalog: Catalog, today: string): string[] {
  const warnings: string[] = [];
  for (const o of catalog.obligations) {
    if (o.period !== 'once' || o.due.rule !== 'fixed-date' || o.due.date >= today) continue;
    warnings.push(
      `一次性任务 ${o.id}（${o.title}）截止日期 ${o.due.date} 已过（今天 ${today}）：登记后即为逾期（红灯），只补发最近一次已到期的通知`,
    );
  }
  return warnings;
}

/**
 * Warnings (not refusals) about escalation ladders that cannot run: `escalationEndsAfter` counts calendar days
 * after due, escalation steps count working days, so a period recorded as missed before the first step's day is
 * never escalated at all. N working days span at least N calendar days, and more when weekends fall between.
 */
export function escalationEndWarnings(catalog: Catalog): string[] {
  const warnings: string[] = [];
  for (const o of catalog.obligations) {
    const ends = o.escalationEndsAfter;
    if (ends === undefined) continue;
    const first = (o.escalation ?? catalog.defaults.escalation ?? DEFAULT_ESCALATION)[0];
    if (!first) continue;
    // The shortest calendar span of N working days: N, plus a weekend for every full working week.
    const shortest = first.after + 2 * Math.floor((first.after - 1) / 5);
    if (ends < first.after)
      warnings.push(
        `任务 ${o.id}：escalationEndsAfter（${ends}天）早于第一级催办（第${first.level}级，截止后${first.after}个工作日）：逾期的期次将不经任何催办即记为未完成。请加大 escalationEndsAfter 或提前该级催办。`,
      );
    else if (ends < shortest + 2)
      warnings.push(
        `任务 ${o.id}：escalationEndsAfter（${ends}天）在遇到周末或节假日时可能早于第一级催办（第${first.level}级，截止后${first.after}个工作日）：escalationEndsAfter 按日历日计算，催办各级按工作日计算。`,
      );
  }
  return warnings;
}

/** The assigned units whose supervising office has no office above it (no 提级督办 for them), by that office. */
function stuckRaises(assigned: readonly Unit[], units: ReadonlyMap<string, Unit>): Map<string, string[]> {
  const stuck = new Map<string, string[]>();
  for (const u of assigned) {
    const office = units.get(u.supervisor ?? '');
    if (!office || raiseOfficeOf(office, units)) continue;
    stuck.set(office.id, [...(stuck.get(office.id) ?? []), u.name]);
  }
  return stuck;
}

/**
 * Warnings (not refusals) for an obligation with `raiseAfter` whose units sit under offices at different levels:
 * the units whose office has nothing above it are not raised (their ladder runs as usual).
 */
export function raiseWarnings(catalog: Catalog, directory: Directory): string[] {
  const units = new Map(directory.units.map((u) => [u.id, u]));
  const warnings: string[] = [];
  for (const o of catalog.obligations) {
    if (o.raiseAfter === undefined) continue;
    const assigned = expandAssignees(o, directory);
    const stuck = stuckRaises(assigned, units);
    const count = [...stuck.values()].reduce((n, names) => n + names.length, 0);
    if (count === 0 || count === assigned.length) continue;
    for (const [officeId, names] of stuck) {
      const shown = names.slice(0, 5).join('、') + (names.length > 5 ? `等${names.length}个单位` : '');
      warnings.push(
        `任务 ${o.id}：${shown}的督察单位“${units.get(officeId)?.name ?? officeId}”（${officeId}）没有上级督察单位，这些单位的期次不会提级督办；其余单位照常提级。`,
      );
    }
  }
  return warnings;
}

// --- 协办 and 提级督办 (DOMAIN.md 28, 26) -----------------------------------------------------------------------

/**
 * The cooperating units (协办) and the raise (提级督办) of each obligation against the directory, in Chinese: an
 * unknown unit, a tag that selects no unit, a list that names nobody but the lead, more than LIMITS.cooperators;
 * a raise without an escalation ladder to follow, outside its bounds, or for a unit whose supervising office has
 * no supervising office of its own (nothing to raise to).
 */
export function cooperationProblems(catalog: Catalog, directory: Directory): Problem[] {
  const problems: Problem[] = [];
  const units = new Map(directory.units.map((u) => [u.id, u]));
  catalog.obligations.forEach((o, i) => {
    const add = (path: Path, message: string) =>
      problems.push({ document: 'catalog', path: ['obligations', i, ...path], message });
    const c = o.cooperators;
    if (c) {
      c.units.forEach((id, j) => {
        if (!units.has(id)) add(['cooperators', 'units', j], `单位名录中没有编号为“${id}”的单位，无法作为协办单位`);
      });
      c.tags.forEach((tag, j) => {
        if (!directory.units.some((u) => u.tags.includes(tag)))
          add(['cooperators', 'tags', j], `标签“${tag}”在单位名录中没有对应的单位，协办单位展开为空`);
      });
      const expanded = expandCooperators(o, directory);
      const assigned = expandAssignees(o, directory);
      if (c.units.length === 0 && c.tags.length === 0)
        add(
          ['cooperators'],
          '协办单位为空：请在 units 中列出单位编号，或在 tags 中列出标签；没有协办单位时请删去 cooperators',
        );
      else if (expanded.length > LIMITS.cooperators)
        add(
          ['cooperators'],
          `协办单位展开后共${expanded.length}个，超过上限${LIMITS.cooperators}个：协办单位随每个跟踪项发送，请缩小范围`,
        );
      else if (
        expanded.length > 0 &&
        assigned.length > 0 &&
        assigned.every((a) => expanded.every((x) => x.id === a.id))
      )
        add(['cooperators'], '协办单位展开后只有主办单位本身：主办单位不能同时是自己的协办单位');
    }
    if (o.raiseAfter === undefined) return;
    if (o.raiseAfter < 1 || o.raiseAfter > BOUNDS.escalationAfter) {
      add(
        ['raiseAfter'],
        `${o.raiseAfter}不在1至${BOUNDS.escalationAfter}之间：提级督办在最后一级督办后的第几个工作日发出`,
      );
      return;
    }
    const ladder = o.escalation ?? catalog.defaults.escalation ?? DEFAULT_ESCALATION;
    if (ladder.length === 0) {
      add(['raiseAfter'], '提级督办在最后一级督办之后计算，但该任务没有督办阶梯（escalation 为空）');
      return;
    }
    // A raise that reaches none of the assigned units is refused, one problem per supervising office that has
    // nothing above it; units under offices at different levels are allowed (raiseWarnings names those not raised).
    const assigned = expandAssignees(o, directory);
    const stuck = stuckRaises(assigned, units);
    const stuckCount = [...stuck.values()].reduce((n, names) => n + names.length, 0);
    if (stuckCount < assigned.length) return;
    for (const [officeId, names] of stuck) {
      const office = units.get(officeId)!;
      const shown = names.slice(0, 5).join('、') + (names.length > 5 ? `等${names.length}个单位` : '');
      add(
        ['raiseAfter'],
        `无从提级督办：${shown}的督察单位“${office.name}”（${office.id}）在单位名录中没有上级督察单位（该单位未设 supervisor）。` +
          `请在单位名录中为${office.id}设置 supervisor，或不对这些单位设置 raiseAfter`,
      );
    }
  });
  return problems;
}
