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
  Obligation,
  catalogSchema,
  directorySchema,
  obligationSchema,
} from './model';
import type { TrackerDefinition } from './trackers';
import { RosterEntry, RosterProblem, rosterOf } from './roster';
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

export type DocumentKind = 'catalog' | 'directory';
export type Path = (string | number)[];

export interface Problem {
  document: DocumentKind;
  path: Path;
  message: string;
  /** True when the problem is about the key itself (an unknown key), not its value. */
  atKey?: boolean;
}

export interface Validated {
  catalog?: Catalog;
  directory?: Directory;
  problems: Problem[];
}

/** Values are quoted in messages, never echoed whole: a 3 MB name or a binary blob stays out of the terminal. */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return typeof v === 'string' ? `the text ${quoteShort(v)}` : `the ${typeof v} ${String(v)}`;
}

/** JSON-quoted (control characters escaped) and cut to `max` characters. */
export function quoteShort(v: unknown, max = 60): string {
  const s = typeof v === 'string' ? v : String(v);
  const cut = [...s.slice(0, max + 1)];
  const quoted =
    cut.length > max ? `${JSON.stringify(cut.slice(0, max).join(''))}… (${s.length} characters)` : JSON.stringify(s);
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
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  record: 'a mapping',
  map: 'a mapping',
};

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
            message: `unknown key ${quoteShort(key)} (a typo?)`,
          });
        }
        break;
      case 'invalid_type':
        problems.push({
          document,
          path,
          message:
            value === undefined
              ? 'is missing'
              : `must be ${TYPE_WORDS[issue.expected] ?? issue.expected}, not ${describeValue(value)}`,
        });
        break;
      case 'invalid_value':
        problems.push({
          document,
          path,
          message: `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, not ${describeValue(value)}`,
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
                ? `is missing (one of ${options.map((o) => JSON.stringify(o)).join(', ')})`
                : `must be one of ${options.map((o) => JSON.stringify(o)).join(', ')}, not ${describeValue(value)}`,
          });
        } else {
          problems.push({ document, path, message: issue.message });
        }
        break;
      case 'too_big':
        problems.push({
          document,
          path,
          message: issue.message.startsWith('Too big') ? `is too large (${issue.message})` : issue.message,
        });
        break;
      case 'invalid_key':
        problems.push({
          document,
          path,
          atKey: true,
          message: `the key ${quoteShort(path[path.length - 1])} ${issue.issues[0]?.message ?? 'is not allowed here'}`,
        });
        break;
      case 'too_small':
        problems.push({
          document,
          path,
          message: issue.message.startsWith('Too small') ? `is too small (${issue.message})` : issue.message,
        });
        break;
      default:
        problems.push({ document, path, message: `${describeValue(value)} ${issue.message}` });
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
        message: `${r} would be a reminder after due: reminders count working days before due (0 is the due day); notices after due belong in the escalation ladder`,
      });
    } else if (r > BOUNDS.reminder) {
      problems.push({
        document,
        path: [...base, 'reminders', i],
        message: `${r} working days before due is more than ${BOUNDS.reminder} (about a working year): the first reminder may come at most ${BOUNDS.reminder} working days ahead`,
      });
    } else if (i > 0 && r >= ladders.reminders![i - 1]!) {
      problems.push({
        document,
        path: [...base, 'reminders', i],
        message: `reminders must be in descending order of working days before due, e.g. [10, 3, 1, 0]; ${r} comes after ${ladders.reminders![i - 1]}`,
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
        message: `level ${s.level} does not exist: levels are 1, 2 and 3`,
      });
    if (s.after < 1) {
      problems.push({
        document,
        path: [...at, 'after'],
        message: `${s.after} is not after due: escalations count working days after due, starting at 1`,
      });
    }
    if (s.after > BOUNDS.escalationAfter) {
      problems.push({
        document,
        path: [...at, 'after'],
        message: `${s.after} working days after due is more than ${BOUNDS.escalationAfter} (about a working year): escalate sooner, or leave the period to close`,
      });
    }
    const prev = steps[i - 1];
    if (prev && s.after <= prev.after) {
      problems.push({
        document,
        path: [...at, 'after'],
        message: `escalation steps must come later one after another; ${s.after} is not after ${prev.after}`,
      });
    }
    if (prev && s.level < prev.level) {
      problems.push({
        document,
        path: [...at, 'level'],
        message: `escalation levels may not go down; level ${s.level} follows level ${prev.level}`,
      });
    }
    if (s.repeatWeekly && i !== steps.length - 1) {
      problems.push({
        document,
        path: [...at, 'repeatWeekly'],
        message: 'only the last escalation step can repeat weekly',
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
        ? 'a one-off (period: once) needs rule: fixed-date (or before-event/after-event)'
        : `rule: ${o.due.rule} is only for period: once, not period: ${o.period}`,
    );
  }
  switch (o.due.rule) {
    case 'fixed-date':
      if (parseDate(o.due.date) === undefined) {
        add(['due', 'date'], `"${o.due.date}" is not a date in the calendar`);
      } else if (
        Number(o.due.date.slice(0, 4)) < BOUNDS.firstYear ||
        Number(o.due.date.slice(0, 4)) > BOUNDS.lastYear
      ) {
        add(
          ['due', 'date'],
          `"${o.due.date}" is outside the years duban can plan (${BOUNDS.firstYear}-${BOUNDS.lastYear})`,
        );
      }
      break;
    case 'next-month-day': {
      if (o.period !== 'year') {
        add(
          ['due', 'rule'],
          `rule: next-month-day is for period: year (two ${o.period}s would fall due on the same day); use after-period-end`,
        );
      }
      const [m, d] = o.due.monthDay.split('-').map(Number) as [number, number];
      if (m === 2 && d === 29) {
        add(
          ['due', 'monthDay'],
          '"02-29" exists only in leap years; for "before 1 March" write monthDay: "03-01" with before: true',
        );
      } else if (!isValidDate(2024, m, d)) {
        add(['due', 'monthDay'], `"${o.due.monthDay}" is not a day of the year`);
      }
      break;
    }
    case 'after-period-end': {
      const { days, months } = o.due;
      if ((days === undefined) === (months === undefined)) add(['due'], 'give exactly one of days or months');
      if (days !== undefined && days < 0)
        add(['due', 'days'], `${days} is negative: the due date comes after the period ends`);
      if (days !== undefined && days > BOUNDS.days)
        add(['due', 'days'], `${days} days after the period is more than ${BOUNDS.days} (two years)`);
      if (months !== undefined && months < 1) add(['due', 'months'], `${months} must be 1 or more`);
      if (months !== undefined && months > BOUNDS.months)
        add(['due', 'months'], `${months} months after the period is more than ${BOUNDS.months} (two years)`);
      break;
    }
    case 'in-period-month-day': {
      if (o.period !== 'year')
        add(['due', 'rule'], `rule: in-period-month-day is for period: year, not period: ${o.period}`);
      const [m, d] = o.due.monthDay.split('-').map(Number) as [number, number];
      if (!isValidDate(2024, m, d) || (m === 2 && d === 29))
        add(['due', 'monthDay'], `"${o.due.monthDay}" is not a day of every year`);
      break;
    }
    case 'before-event':
    case 'after-event': {
      const { days, months, date } = o.due;
      if ((days === undefined) === (months === undefined)) add(['due'], 'give exactly one of days or months');
      if (days !== undefined && (days < 0 || days > 3660)) add(['due', 'days'], `${days} must be from 0 to 3660 days`);
      if (months !== undefined && (months < 1 || months > 120))
        add(['due', 'months'], `${months} must be from 1 to 120 months`);
      if (date !== undefined)
        add(['due', 'date'], `the date of event ${o.due.event} comes from the events file (--events), not the catalog`);
      break;
    }
    case 'next-month-end':
      if (o.period === 'once')
        add(['due', 'rule'], 'rule: next-month-end is for recurring periods; a one-off needs rule: fixed-date');
      break;
    case 'following-month-day':
      if (o.due.day < 1 || o.due.day > 31) {
        add(['due', 'day'], `${o.due.day} is not a day of the month (1-31; a day the month lacks is its last day)`);
      } else if (o.due.before && o.due.day === 1) {
        add(['due', 'day'], 'day 1 with before: true is the last day of the period itself: write rule: period-end');
      }
      break;
    case 'period-end':
      break;
  }
  cadenceProblems(o, add);
  if (o.completion === 'quota' && (o.quota === undefined || o.quota < 1)) {
    add(
      ['quota'],
      o.quota === undefined
        ? 'is missing: completion: quota needs the number of events per period'
        : `${o.quota} must be 1 or more`,
    );
  }
  if (o.quota !== undefined && o.quota > BOUNDS.quota)
    add(['quota'], `${o.quota} events per period is more than ${BOUNDS.quota}`);
  if (o.completion === 'single' && o.quota !== undefined) add(['quota'], 'is only for completion: quota');
  if (o.noticeHour !== undefined && (o.noticeHour < 0 || o.noticeHour > 23))
    add(['noticeHour'], `${o.noticeHour} is not an hour (0-23)`);
  if (o.timeZone !== undefined && !isKnownZone(o.timeZone))
    add(['timeZone'], `"${o.timeZone}" is not a time zone, e.g. Asia/Shanghai`);
  problems.push(...ladderProblems('catalog', base, o));

  if (o.assignees.units.length === 0 && o.assignees.tags.length === 0) {
    add(['assignees'], 'assigns nobody: give units and/or tags');
  }
  if (directory) {
    const unitIds = new Set(directory.map((u) => u.id));
    o.assignees.units.forEach((u, j) => {
      if (!unitIds.has(u)) add(['assignees', 'units', j], `unknown unit "${u}": no unit with this id in the directory`);
    });
    o.assignees.tags.forEach((tag, j) => {
      if (!directory.some((u) => u.tags.includes(tag))) {
        add(['assignees', 'tags', j], `tag "${tag}" selects no unit: no unit in the directory carries it`);
      }
    });
    if (o.lead !== undefined && !unitIds.has(o.lead))
      add(['lead'], `unknown unit "${o.lead}": no unit with this id in the directory`);
  }
  return problems;
}

/** Years a cycle may span: 每隔两年 and longer, up to a decade. */
const MAX_CYCLE_YEARS = 10;

/** Cycles of several years (every/anchor) and the figures of rate and count completions. */
function cadenceProblems(o: Obligation, add: (path: Path, message: string) => void): void {
  if (o.every !== undefined) {
    if (o.period !== 'year') add(['every'], `is for period: year (a cycle of years), not period: ${o.period}`);
    if (o.every < 1 || o.every > MAX_CYCLE_YEARS)
      add(['every'], `${o.every} must be between 1 and ${MAX_CYCLE_YEARS} years`);
    if (o.anchor === undefined && o.every > 1)
      add(['anchor'], `is missing: every: ${o.every} needs a year the cycle starts in, e.g. anchor: 2025`);
  }
  if (o.anchor !== undefined) {
    if (o.every === undefined) add(['anchor'], 'is only for cycles of several years: give every as well');
    if (o.anchor < 1900 || o.anchor > 2200) add(['anchor'], `${o.anchor} is not a year between 1900 and 2200`);
  }
  if (o.completion === 'per-person') {
    if (o.roster === undefined)
      add(
        ['roster'],
        'is missing: completion: per-person needs the roster whose every person must reach the quota, e.g. roster: 执法人员',
      );
    if (o.quota === undefined || o.quota <= 0 || o.quota > 10_000) {
      add(
        ['quota'],
        o.quota === undefined
          ? 'is missing: completion: per-person needs the quota each person must reach'
          : `${o.quota} must be above 0 and at most 10000`,
      );
    } else if ((o.quotaUnit ?? 'times') === 'times' && !Number.isInteger(o.quota)) {
      add(['quota'], `${o.quota} times is not a whole number; for hours write quotaUnit: hours`);
    }
  } else {
    if (o.roster !== undefined) add(['roster'], 'is only for completion: per-person');
    if (o.quotaUnit !== undefined) add(['quotaUnit'], 'is only for completion: per-person');
  }
  const measured = o.completion === 'rate' || o.completion === 'count';
  if (measured) {
    if (o.threshold === undefined) {
      add(
        ['threshold'],
        `is missing: completion: ${o.completion} needs ${o.completion === 'rate' ? 'the lowest acceptable percentage, e.g. 90' : 'the lowest acceptable count, e.g. 3'}`,
      );
    } else if (o.completion === 'rate' && (o.threshold <= 0 || o.threshold > 100)) {
      add(['threshold'], `${o.threshold} is not a percentage above 0 and at most 100 (不低于90% is 90)`);
    } else if (
      o.completion === 'count' &&
      (!Number.isInteger(o.threshold) || o.threshold < 1 || o.threshold > 1_000_000)
    ) {
      add(['threshold'], `${o.threshold} must be a whole number from 1 to 1000000`);
    }
    if (o.quota !== undefined)
      add(['quota'], `is only for completion: quota; completion: ${o.completion} uses threshold`);
  } else {
    if (o.threshold !== undefined) add(['threshold'], 'is only for completion: rate or count');
    if (o.measure !== undefined) add(['measure'], 'is only for completion: rate or count');
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
        message: `duplicate unit id "${u.id}" (also units[${first}])`,
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
        message: `unknown unit "${u.supervisor}": the supervising office must be a unit of the directory`,
      });
    } else if (u.supervisor === u.id) {
      problems.push({
        document: 'directory',
        path: ['units', i, 'supervisor'],
        message: 'a unit cannot be its own supervising office',
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
            message: 'uses SMS, but the directory defines no channel of kind sms',
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
    if (first !== undefined)
      add(['channels', i, 'name'], `duplicate channel name "${c.name}" (also channels[${first}])`);
    else byName.set(c.name, i);
    if (c.kind === 'webhook') {
      if (c.url === undefined) add(['channels', i], 'a webhook needs its url');
      else {
        let u: URL | undefined;
        try {
          u = new URL(c.url);
        } catch {
          add(['channels', i, 'url'], `"${c.url.slice(0, 80)}" is not a URL`);
        }
        if (u && u.protocol !== 'https:' && !(u.protocol === 'http:' && isLoopbackUrl(u)))
          add(['channels', i, 'url'], 'must be https:// (plain http only to a loopback address such as 127.0.0.1)');
        if (u && (u.username || u.password))
          add(['channels', i, 'url'], 'must not carry a user or password: the signing secret lives in the settings');
      }
    } else if (c.url !== undefined)
      add(['channels', i, 'url'], `only a webhook has a url; a ${c.kind} channel's address comes from the settings`);
    if (c.kind === 'sms') {
      if (c.signName === undefined) add(['channels', i], 'an SMS channel needs signName, the approved 短信签名');
      if (c.templateCode === undefined) add(['channels', i], 'an SMS channel needs templateCode, the approved 模板');
    } else {
      if (c.signName !== undefined) add(['channels', i, 'signName'], 'only an SMS channel has a signName');
      if (c.templateCode !== undefined) add(['channels', i, 'templateCode'], 'only an SMS channel has a templateCode');
    }
  });
  if (directory.channels.filter((c) => c.kind === 'sms').length > 1)
    add(['channels'], "at most one SMS channel: SMS goes to the recipients' mobiles through one account");
  const use = (names: string[], path: Path) =>
    names.forEach((n, j) => {
      const i = byName.get(n);
      if (i === undefined) add([...path, j], `unknown channel "${n}": define it under channels (name, kind) first`);
      else if (directory.channels[i]!.kind === 'sms')
        add([...path, j], `"${n}" is the SMS channel: SMS goes to mobiles, a step uses it with "sms" in the catalog`);
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
        message: `duplicate obligation id "${o.id}" (also obligations[${first}])`,
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
    );
  return problems;
}

function catalogFieldProblems(timeZone: unknown, noticeHour: unknown): Problem[] {
  const problems: Problem[] = [];
  if (typeof timeZone === 'string' && !isKnownZone(timeZone))
    problems.push({
      document: 'catalog',
      path: ['timeZone'],
      message: `"${timeZone}" is not a time zone, e.g. Asia/Shanghai`,
    });
  if (typeof noticeHour === 'number' && Number.isInteger(noticeHour) && (noticeHour < 0 || noticeHour > 23))
    problems.push({ document: 'catalog', path: ['noticeHour'], message: `${noticeHour} is not an hour (0-23)` });
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
      message: `the obligations and the directory make ${count} trackers, more than the ${MAX_TRACKERS} one deployment runs; split the catalog or the directory`,
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
          'completion: per-person needs a rosters file (give --rosters rosters.csv; docs/catalog.md, "Per-person quotas")',
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
        message: `unknown unit "${e.unit}": no unit with this id in the directory`,
      });
    else if (!rosters.has(e.roster)) {
      result.rows.push({
        line: e.line,
        column: 'roster',
        message: `roster "${e.roster}" is used by no per-person obligation of the catalog (${[...rosters].join(', ') || 'none'})`,
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
        message: `roster "${o.roster}" has nobody for ${empty.join(', ')}: add their people to the rosters file, or stop assigning them`,
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
        message: `unit "${u.id}" is assigned ${assigned.map((o) => o.id).join(', ')} but has no supervisor to escalate to`,
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
      ['the obligation (title, basis, deliverable, howToSubmit)', bytes(t.obligation)],
      [`unit "${t.unit.id}" (name and contacts)`, bytes(t.unit)],
      [`its supervising office "${t.supervisor.id}"`, bytes(t.supervisor)],
      ['the lead unit', bytes(t.lead)],
      ['the leadership list of the directory', bytes(t.leadership)],
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
        `the tracker ${t.trackerId} would carry ${kb(size)}, more than the ${kb(DEFINITION_MAX_BYTES)} a tracker may carry ` +
        `(Temporal's payload limits)${count > 1 ? `, and ${count - 1} more tracker${count > 2 ? 's' : ''} of this obligation too` : ''}; ` +
        `largest parts: ${largest.join(', ') || 'none above 1 KB'}. Shorten them.`,
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
