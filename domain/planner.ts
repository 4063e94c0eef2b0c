/**
 * The notice planner: what every tracker would receive, and when, if nobody ever submits.
 *
 * This is the one source of "when" in duban. The tracker workflows execute exactly this plan, one period at a
 * time (trackerPeriodPlan, which the workflow reaches through the `planTrackerPeriod` local activity); the
 * `duban plan` command shows it for many trackers over a window (planWindow), and `duban ics` and the CLI's
 * windows read their instants from here too. The digest is not planned here: a Temporal Schedule starts it at the
 * digest hour and the run asks the calendar whether the day is a working day (workflows/digest.ts). Everything
 * is pure and deterministic: the same inputs give the same notices in the same order.
 *
 * Rules (DOMAIN.md 7, 9, 10, 11, 19):
 * - notices go out at the notice hour, local time, on working days only;
 * - reminder N counts N working days back from the due day, which itself moves to the previous working day when
 *   it is a day off; escalation N counts N working days after the due date;
 * - level 3 repeats weekly (a day off moves it to the next working day) until done or the ladder ends;
 * - a period opens at its first notice and stays open, overlapping the next one when it is overdue, until its
 *   ladder ends: `escalationEndsAfter` days after due when the catalog sets it, else when the next period is
 *   itself overdue (its due instant), or one year after due for a one-off. Then an unfinished period is missed.
 */
import type { WorkingCalendar } from './calendar';
import { DayNumber, civil, formatDate, parseDate } from './dates';
import { dueDate, waitingForEvent } from './due';
import { Period, cadenceOf, nextPeriod, parsePeriod, periodContaining } from './periods';
import type { TrackerDefinition } from './trackers';
import { PERIOD_KIND_WORDS, periodWords } from './words';
import { localDay, zonedInstant } from './zone';

/**
 * `urge`: a 催办 the supervising office sends at once for an overdue period (not planned; see urgeNotice). `raise`:
 * the 提级督办 of a period still open N working days after its last escalation step, a numbered 督办单 from the
 * office above the unit's supervising office (planned once per period; see raiseNotice below).
 */
export type Stage = 'reminder' | 'escalation' | 'urge' | 'raise';

export interface PlannedNotice {
  /** Epoch milliseconds, UTC. */
  at: number;
  /** The local day the notice goes out (a working day). */
  day: DayNumber;
  trackerId: string;
  obligation: string;
  unit: string;
  period: string;
  /** The due date in force, YYYY-MM-DD. */
  due: string;
  stage: Stage;
  /** Escalation level; 0 for reminders; a raise: the level of the last escalation step it follows. */
  level: number;
  /**
   * Reminders: working days before due; escalations: 0 for the first notice of a level, then 1, 2 ... for repeats;
   * an urge: its local day (a DayNumber), so that a period has at most one a day; a raise: the last step's repeat
   * it follows (0 for the step's first notice), its place on the ladder (ladderRank).
   */
  step: number;
  to: string[];
  cc: string[];
}

/**
 * Stable identity of a notice: tracker, period, the due date in force, stage, level and step. Used for
 * Message-IDs and to send nothing twice. The due date is part of it so that after an approved extension the
 * reminders counted back from the new date are new notices.
 */
export function noticeKey(n: Pick<PlannedNotice, 'trackerId' | 'period' | 'due' | 'stage' | 'level' | 'step'>): string {
  // A tracker asks for the keys of its plan's notices at every step (which are handled, which comes next): each
  // notice's key is built once. Notices are never changed in place (an extension or a new plan makes new ones).
  let key = noticeKeys.get(n);
  if (key === undefined) {
    key = buildNoticeKey(n);
    noticeKeys.set(n, key);
  }
  return key;
}

const noticeKeys = new WeakMap<object, string>();

function buildNoticeKey(n: Pick<PlannedNotice, 'trackerId' | 'period' | 'due' | 'stage' | 'level' | 'step'>): string {
  // A raise is one per period and due date: its key names neither level nor step, which a calendar change may move.
  const tail =
    n.stage === 'reminder'
      ? `r${n.step}`
      : n.stage === 'urge'
        ? `u${formatDate(n.step)}`
        : n.stage === 'raise'
          ? 'x'
          : `e${n.level}.${n.step}`;
  return `${n.trackerId}/${n.period}/${n.due}/${tail}`;
}

export interface PeriodPlan {
  trackerId: string;
  period: Period;
  /** The due date in force (after roll-forward or an approved extension). */
  due: DayNumber;
  /** The date the due rule gives; differs from `due` after roll-forward or an extension. */
  originalDue: DayNumber;
  /** 23:59:59 local time on the due date, epoch ms (DOMAIN.md 4). */
  dueAt: number;
  /** The first notice of the period (its opening). */
  opensAt: number;
  /** When the ladder has run out: an unfinished period is recorded as missed then (DOMAIN.md 19). */
  endsAt: number;
  /** The next period and when it opens (when it begins, or its first notice if earlier); undefined for a one-off. */
  next?: { period: Period; opensAt: number };
  /** The latest due date an extension may move this period to: the day before the next period's due. */
  lastExtensionDue: DayNumber;
  notices: PlannedNotice[];
  /** Years this plan relies on whose holiday notice is not published (their dates may still move). */
  provisionalYears: number[];
}

export interface PlanOptions {
  /** An approved extension: the ladder moves to this date, the original due is kept for reporting (DOMAIN.md 13). */
  extendedDue?: DayNumber;
  /** Whether the deployment runs the supervisor digest (default true); without it offices are copied on level 1. */
  digest?: boolean;
}

interface Recipients {
  to: string[];
  cc: string[];
}

function recipients(to: string[], cc: string[]): Recipients {
  const uniqueTo = [...new Set(to)];
  return { to: uniqueTo, cc: [...new Set(cc)].filter((a) => !uniqueTo.includes(a)) };
}

/**
 * Who receives each stage (DOMAIN.md 9-10, 12): reminders go to the liaison with the head in copy; level 1 to the
 * head, copy to the supervising office unless the office takes the daily digest (the default), which lists the
 * item instead; level 2, the 督办单, to the head from the office (its head and liaison in copy); level 3 puts the
 * unit on the circular to leadership. The lead unit is copied on every escalation.
 */
export function noticeRecipients(t: TrackerDefinition, stage: Stage, level: number, digestRunning = true): Recipients {
  const lead = t.lead ? [t.lead.liaison.email] : [];
  if (stage === 'reminder')
    // 协办 (DOMAIN.md 28): each cooperating unit's liaison beside the lead's, its head in copy.
    return recipients(
      [t.unit.liaison.email, ...(t.cooperators ?? []).map((c) => c.liaison.email)],
      [t.unit.head.email, ...(t.cooperators ?? []).map((c) => c.head.email)],
    );
  if (stage === 'raise') return raiseRecipients(t);
  if (level <= 1)
    return recipients(
      [t.unit.head.email],
      [...(digestRunning && usesDigest(t) ? [] : [t.supervisor.liaison.email]), ...lead],
    );
  if (level === 2)
    return recipients([t.unit.head.email], [t.supervisor.head.email, t.supervisor.liaison.email, ...lead]);
  return recipients(
    t.leadership.map((l) => l.email),
    [t.supervisor.head.email, t.supervisor.liaison.email, t.unit.head.email, ...lead],
  );
}

/** Whether the tracker's supervising office takes the daily digest (DOMAIN.md 12: on by default). */
export function usesDigest(t: TrackerDefinition): boolean {
  return t.supervisor.digest !== false;
}

/** The day reminder `offset` goes out: counted back from the due day, itself moved back to a working day. */
function reminderDay(calendar: WorkingCalendar, due: DayNumber, offset: number): DayNumber {
  return calendar.addWorkingDays(calendar.onOrBefore(due), -offset);
}

/** The instant a period opens: its first reminder, or its due day's notice hour when it has no reminders. */
function opening(t: TrackerDefinition, calendar: WorkingCalendar, due: DayNumber): number {
  const first = t.reminders.length > 0 ? Math.max(...t.reminders) : 0;
  return zonedInstant(reminderDay(calendar, due, first), t.timeZone, t.noticeHour);
}

/** A one-off's ladder runs for a year after due unless the catalog says otherwise (DOMAIN.md 19). */
export const ONE_OFF_LADDER_DAYS = 365;

/**
 * When a period's ladder ends (DOMAIN.md 19): `escalationEndsAfter` days after the due date in force when the
 * catalog sets it; else the next period's due instant (it is then itself overdue); a one-off after a year.
 */
function ladderEnd(t: TrackerDefinition, due: DayNumber, nextDue: DayNumber | undefined): number {
  const days = t.obligation.escalationEndsAfter;
  if (days !== undefined) return zonedInstant(due + days, t.timeZone, 23, 59, 59);
  if (nextDue !== undefined) return zonedInstant(nextDue, t.timeZone, 23, 59, 59);
  return zonedInstant(due + ONE_OFF_LADDER_DAYS, t.timeZone, 23, 59, 59);
}

/** Plans one period of one tracker. Notices are in time order. */
export function planPeriod(
  t: TrackerDefinition,
  period: Period,
  calendar: WorkingCalendar,
  options: PlanOptions = {},
): PeriodPlan {
  const o = t.obligation;
  const { due: ruleDue } = dueDate(o.due, period, o.rollForward, calendar);
  const due = options.extendedDue ?? ruleDue;
  const zone = t.timeZone;
  const hour = t.noticeHour;
  const dueText = formatDate(due);
  const days: DayNumber[] = [due];

  const next = nextPeriod(period);
  const nextDue = next ? dueDate(o.due, next, o.rollForward, calendar).due : undefined;
  const endsAt = ladderEnd(t, due, nextDue);
  const lastExtensionDue = nextDue !== undefined ? nextDue - 1 : ruleDue + ONE_OFF_LADDER_DAYS;

  const notices: PlannedNotice[] = [];
  const push = (day: DayNumber, stage: Stage, level: number, step: number, r: Recipients) => {
    days.push(day);
    notices.push({
      at: zonedInstant(day, zone, hour),
      day,
      trackerId: t.trackerId,
      obligation: o.id,
      unit: t.unit.id,
      period: period.label,
      due: dueText,
      stage,
      level,
      step,
      to: r.to,
      cc: r.cc,
    });
  };

  const reminderRecipients = noticeRecipients(t, 'reminder', 0, options.digest);
  for (const offset of t.reminders) push(reminderDay(calendar, due, offset), 'reminder', 0, offset, reminderRecipients);

  const beforeClose = (day: DayNumber) => zonedInstant(day, zone, hour) < endsAt;
  for (const step of t.escalation) {
    const r = noticeRecipients(t, 'escalation', step.level, options.digest);
    const first = calendar.addWorkingDays(due, step.after);
    if (!beforeClose(first)) break;
    push(first, 'escalation', step.level, 0, r);
    if (!step.repeatWeekly) continue;
    let last = first;
    for (let k = 1; ; k++) {
      const day = calendar.onOrAfter(first + 7 * k);
      if (!beforeClose(day)) break;
      // A holiday longer than a week (Spring Festival) can push two repeats onto the same day: send one.
      if (day === last) continue;
      push(day, 'escalation', step.level, k, r);
      last = day;
    }
  }

  const raised = raiseNotice(t, calendar, due, notices, beforeClose);
  if (raised) push(raised.day, 'raise', raised.level, raised.step, noticeRecipients(t, 'raise', raised.level));

  notices.sort((a, b) => a.at - b.at || stageOrder(a) - stageOrder(b));
  const lastDay = Math.max(...days);
  const firstDay = Math.min(...days);
  return {
    trackerId: t.trackerId,
    period,
    due,
    originalDue: ruleDue,
    dueAt: zonedInstant(due, zone, 23, 59, 59),
    opensAt: opening(t, calendar, due),
    endsAt,
    // The next period opens when it begins (a unit may record this year's lectures while last year's are overdue),
    // or at its first notice if that comes earlier (a period due before it ends, e.g. due on its first day).
    next:
      next && nextDue !== undefined
        ? { period: next, opensAt: Math.min(opening(t, calendar, nextDue), zonedInstant(next.start, zone, 0)) }
        : undefined,
    lastExtensionDue,
    notices,
    provisionalYears: calendar.provisionalYearsIn(firstDay, lastDay),
  };
}

/**
 * A notice's position on its period's ladder: later steps rank higher (r10 < r3 < r0 < e1 < e2 < e3 repeats). A
 * raise ranks just after the last step's notice it follows (its level and step), where it falls in time: the
 * circulars repeated after it rank higher, so a move or a new event date after a raise still sends them.
 */
export function ladderRank(n: Pick<PlannedNotice, 'stage' | 'level' | 'step'>): number {
  return stageOrder(n);
}

function stageOrder(n: Pick<PlannedNotice, 'stage' | 'level' | 'step'>): number {
  // An urge is off the ladder: it ranks as nothing sent, so it never makes the ladder skip a step.
  if (n.stage === 'urge') return Number.NEGATIVE_INFINITY;
  if (n.stage === 'raise') return 100 + n.level * 1000 + n.step + 0.5;
  return n.stage === 'reminder' ? -n.step : 100 + n.level * 1000 + n.step;
}

/**
 * The period a tracker registered at `instant` starts with: the first one not yet due. Earlier periods are not
 * tracked: registering an obligation does not put a unit in the red for years nobody asked it about.
 */
export function firstPeriodNotYetDue(t: TrackerDefinition, calendar: WorkingCalendar, instant: number): Period {
  let p = periodContaining(cadenceOf(t.obligation), localDay(instant, t.timeZone) - lookbackDays(t));
  for (;;) {
    const due = dueDate(t.obligation.due, p, t.obligation.rollForward, calendar).due;
    const next = nextPeriod(p);
    if (!next || zonedInstant(due, t.timeZone, 23, 59, 59) >= instant) return p;
    p = next;
  }
}

/** How far before a window a period can start and still have notices in it. */
function lookbackDays(t: TrackerDefinition): number {
  const rule = t.obligation.due;
  const lag =
    rule.rule === 'after-period-end'
      ? (rule.days ?? 0) + 31 * (rule.months ?? 0)
      : rule.rule === 'next-month-day'
        ? 366
        : rule.rule === 'next-month-end' || rule.rule === 'following-month-day'
          ? 62
          : 0;
  const length = {
    year: 366 * Math.max(1, t.obligation.every ?? 1),
    'half-year': 184,
    quarter: 92,
    month: 31,
    once: 0,
  }[t.obligation.period];
  // A period's ladder runs until the next period is overdue, or escalationEndsAfter days after due.
  return lag + 2 * length + 60 + (t.obligation.escalationEndsAfter ?? 0);
}

export interface Window {
  /** First and last local day, inclusive. */
  from: DayNumber;
  to: DayNumber;
}

export interface WindowPlan {
  notices: PlannedNotice[];
  provisionalYears: number[];
  /** Trackers with nothing to plan yet: their event has no date (event-relative obligations). */
  waiting?: { trackerId: string; event: string }[];
}

/**
 * Every notice of every tracker whose local day falls in the window, ordered by instant, then tracker, then
 * period, then stage (reminders before escalations, lower levels first): the order of compareNotices.
 */
export function planWindow(
  trackers: readonly TrackerDefinition[],
  calendar: WorkingCalendar,
  window: Window,
): WindowPlan {
  // Notices cluster on few instants (the notice hour of working days). Filling one bucket per instant while
  // visiting trackers in id order and periods in time order yields compareNotices order without a global sort.
  const buckets = new Map<number, PlannedNotice[]>();
  const yearsUsed = new Set<number>();
  const sorted = [...trackers].sort((a, b) => (a.trackerId < b.trackerId ? -1 : a.trackerId > b.trackerId ? 1 : 0));
  const waiting: { trackerId: string; event: string }[] = [];
  for (const t of sorted) {
    const event = waitingForEvent(t.obligation.due);
    if (event !== undefined) {
      waiting.push({ trackerId: t.trackerId, event });
      continue;
    }
    const start = zonedInstant(window.from, t.timeZone, 0);
    const end = zonedInstant(window.to + 1, t.timeZone, 0);
    const opensAt = (p: Period) =>
      opening(t, calendar, dueDate(t.obligation.due, p, t.obligation.rollForward, calendar).due);
    let period: Period | undefined = periodContaining(cadenceOf(t.obligation), window.from - lookbackDays(t));
    let opens = opensAt(period);
    while (period && opens < end) {
      const next = nextPeriod(period);
      const nextOpens = next ? opensAt(next) : undefined;
      // Periods overlap (an overdue one stays open while the next runs): each is planned, and skipped when its
      // ladder ended before the window.
      const plan = planPeriod(t, period, calendar);
      if (plan.endsAt > start) {
        let used = false;
        for (const n of plan.notices) {
          if (n.at < start || n.at >= end) continue;
          let bucket = buckets.get(n.at);
          if (!bucket) buckets.set(n.at, (bucket = []));
          bucket.push(n);
          yearsUsed.add(civil(n.day).year);
          used = true;
        }
        if (used) yearsUsed.add(civil(plan.due).year);
      }
      period = next;
      opens = nextOpens ?? Number.POSITIVE_INFINITY;
    }
  }
  const notices: PlannedNotice[] = [];
  for (const at of [...buckets.keys()].sort((a, b) => a - b)) for (const n of buckets.get(at)!) notices.push(n);
  const provisionalYears = [...yearsUsed].filter((y) => calendar.yearStatus(y) === 'provisional').sort((a, b) => a - b);
  return { notices, provisionalYears, ...(waiting.length ? { waiting } : {}) };
}

export function compareNotices(a: PlannedNotice, b: PlannedNotice): number {
  if (a.at !== b.at) return a.at - b.at;
  if (a.trackerId !== b.trackerId) return a.trackerId < b.trackerId ? -1 : 1;
  if (a.period !== b.period) return a.period < b.period ? -1 : 1;
  return stageOrder(a) - stageOrder(b);
}

/**
 * One period's plan as the tracker workflow holds it: plain data (dates as YYYY-MM-DD, instants as epoch ms), so
 * it can travel through a local activity into history and across continue-as-new. Everything the state machine
 * needs to know about "when" is here; it computes no instant of its own.
 */
export interface TrackerPeriodPlan {
  period: string;
  /** First and last day of the period (YYYY-MM-DD); a one-off spans everything. */
  periodStart: string;
  periodEnd: string;
  /** The due date in force, and the one the rule gives (they differ after roll-forward or an extension). */
  due: string;
  originalDue: string;
  dueAt: number;
  originalDueAt: number;
  /** The board turns yellow 3 working days before due (DOMAIN.md 11), counted like the reminders. */
  yellowAt: number;
  opensAt: number;
  /** When the ladder has run out and an unfinished period is recorded as missed (DOMAIN.md 19). */
  endsAt: number;
  nextPeriod: string | null;
  /** When the next period opens (when it begins, or its first notice if earlier); null for a one-off. */
  nextOpensAt: number | null;
  /** The latest date an extension may ask for. */
  lastExtensionDue: string;
  /**
   * The zone's offset from UTC at the due instant, in ms: the state machine's "today" where the unit is, without a
   * time-zone database in the workflow (Chinese zones have no daylight saving time).
   */
  utcOffsetMs: number;
  notices: PlannedNotice[];
  /** Years this plan relies on whose holiday notice is not published (their dates may still move). */
  provisionalYears: number[];
  /** Whether offices hear of level 1 in the daily digest (the deployment runs it) rather than by copy. */
  digest: boolean;
  /** A tracker's first period planned after some of its notices were due (registered mid-period): see catchUpOnStart. */
  catchUp?: CatchUp;
}

/** How a period that starts late catches up: one notice at once, standing for the reminders it makes redundant. */
export interface CatchUp {
  /** When the period started: the catch-up is meant to go out then, so it is not late for having been planned earlier. */
  at: number;
  /** The notice sent at once: the latest already due. */
  notice: string;
  /** Keys of the notices passed over: the earlier ones already due, and reminders up to the next working day's end. */
  passOver: string[];
}

/**
 * A period that starts at `now` after some of its notices were due (a tracker registered mid-period): only the
 * latest of them goes out, at once, and it is meant for `now`, not for its planned instant (nothing failed: the
 * tracker did not exist yet, so the notice carries no delay note). Its days-left text is computed on the day it
 * goes out, so it tells the unit where it stands; the reminders planned up to the end of the next working day
 * would only repeat it and are passed over (a catch-up today and a reminder tomorrow saying the same is noise).
 * Escalations are never passed over: each level is a step the unit must hear of. Undefined when nothing was due.
 */
export function catchUpOnStart(
  notices: readonly PlannedNotice[],
  calendar: WorkingCalendar,
  zone: string,
  now: number,
): CatchUp | undefined {
  const passed = notices.filter((n) => n.at <= now);
  const latest = passed[passed.length - 1];
  if (!latest) return undefined;
  const horizon = calendar.addWorkingDays(localDay(now, zone), 1);
  const redundant = notices.filter((n) => n.at > now && n.stage === 'reminder' && n.day <= horizon);
  return {
    at: now,
    notice: noticeKey(latest),
    passOver: [...passed.slice(0, -1).filter((n) => !sentAtCatchUp(n)), ...redundant].map(noticeKey),
  };
}

/**
 * A 催办 (DOMAIN.md vocabulary: an urge) the supervising office sends at `now` for an overdue period: not planned,
 * sent at once; to the unit's head and liaison, the office's liaison and the lead unit in copy. Its key names the
 * local day, so that a period has at most one a day whatever the retries.
 */
export function urgeNotice(
  t: TrackerDefinition,
  plan: Pick<TrackerPeriodPlan, 'period' | 'due' | 'utcOffsetMs'>,
  now: number,
  /** The period was raised (提级督办): the office above hears of every 催办 too. */
  raised = false,
): PlannedNotice {
  const day = Math.floor((now + plan.utcOffsetMs) / 86_400_000);
  const r = recipients(
    [t.unit.head.email, t.unit.liaison.email],
    [
      t.supervisor.liaison.email,
      ...(t.lead ? [t.lead.liaison.email] : []),
      ...(raised && t.raise ? [t.raise.office.liaison.email] : []),
    ],
  );
  return {
    at: now,
    day,
    trackerId: t.trackerId,
    obligation: t.obligation.id,
    unit: t.unit.id,
    period: plan.period,
    due: plan.due,
    stage: 'urge',
    level: 0,
    step: day,
    to: r.to,
    cc: r.cc,
  };
}

/** When the office may send its next 催办 of a period sent one at `at`: the start of the next working day. */
export function nextUrgeAt(calendar: WorkingCalendar, zone: string, at: number): number {
  return zonedInstant(calendar.addWorkingDays(localDay(at, zone), 1), zone, 0);
}

/** A definition the planner cannot run: shown on the board as broken until `duban register` fixes it. */
export class PlanningError extends Error {
  override readonly name = 'PlanningError';
}

/** Far beyond any real ladder; the validator refuses much less (docs/catalog.md), this guards the workflow. */
const MAX_LADDER_WORKING_DAYS = 1000;

export interface TrackerPlanRequest {
  /** Absent on registration: the first period not yet due at `now`. */
  period?: string;
  /** An approved extension's due date, YYYY-MM-DD. */
  extendedDue?: string;
  now: number;
  digest?: boolean;
  /** The tracker's first period, started with a catch-up (registration): the plan says how (catchUpOnStart). */
  catchUp?: boolean;
}

/** The plan of one period of a tracker, as data; throws PlanningError with the reason when it cannot be planned. */
export function trackerPeriodPlan(
  t: TrackerDefinition,
  calendar: WorkingCalendar,
  req: TrackerPlanRequest,
): TrackerPeriodPlan {
  const longest = Math.max(0, ...t.reminders, ...t.escalation.map((s) => s.after));
  if (longest > MAX_LADDER_WORKING_DAYS) {
    throw new PlanningError(
      `提醒或催办阶梯中有一步为${longest}个工作日，超出可排期的范围（最多${MAX_LADDER_WORKING_DAYS}个）；请在任务清单中修正 reminders 或 escalation`,
    );
  }
  const event = waitingForEvent(t.obligation.due);
  if (event !== undefined) throw new PlanningError(`等待事件${event}确定日期（duban event set ${event} YYYY-MM-DD）`);
  let period: Period | undefined;
  try {
    period =
      req.period === undefined
        ? firstPeriodNotYetDue(t, calendar, req.now)
        : parsePeriod(cadenceOf(t.obligation), req.period);
  } catch (err) {
    throw new PlanningError(`截止规则无法排期：${(err as Error).message}`);
  }
  if (!period) throw new PlanningError(`“${req.period}”不是${PERIOD_KIND_WORDS[t.obligation.period]}期次`);
  const extendedDue = req.extendedDue === undefined ? undefined : parseDate(req.extendedDue);
  let plan: PeriodPlan;
  try {
    plan = planPeriod(t, period, calendar, { extendedDue, digest: req.digest });
  } catch (err) {
    throw new PlanningError(`${periodWords(period.label)}无法排期：${(err as Error).message}`);
  }
  if (!Number.isFinite(plan.dueAt) || civil(plan.due).year > MAX_PLAN_YEAR) {
    throw new PlanningError(
      `${periodWords(period.label)}的截止日期${formatDate(plan.due)}晚于${MAX_PLAN_YEAR}年；请修正截止规则`,
    );
  }
  const zone = t.timeZone;
  return {
    period: period.label,
    periodStart: period.kind === 'once' ? '0000-01-01' : formatDate(period.start),
    periodEnd: period.kind === 'once' ? '9999-12-31' : formatDate(period.end),
    due: formatDate(plan.due),
    originalDue: formatDate(plan.originalDue),
    dueAt: plan.dueAt,
    originalDueAt: zonedInstant(plan.originalDue, zone, 23, 59, 59),
    yellowAt: zonedInstant(reminderDay(calendar, plan.due, YELLOW_WORKING_DAYS), zone, 0),
    opensAt: plan.opensAt,
    endsAt: plan.endsAt,
    nextPeriod: plan.next ? plan.next.period.label : null,
    nextOpensAt: plan.next ? plan.next.opensAt : null,
    lastExtensionDue: formatDate(plan.lastExtensionDue),
    utcOffsetMs: (plan.due + 1) * 86_400_000 - 1000 - plan.dueAt,
    notices: plan.notices,
    provisionalYears: plan.provisionalYears,
    digest: req.digest !== false,
    ...(req.catchUp ? optional('catchUp', catchUpOnStart(plan.notices, calendar, zone, req.now)) : {}),
  };
}

function optional<K extends string, V>(key: K, value: V | undefined): { [k in K]?: V } {
  return value === undefined ? {} : ({ [key]: value } as { [k in K]: V });
}

/** The board turns yellow this many working days before due (DOMAIN.md 11). */
export const YELLOW_WORKING_DAYS = 3;
/** Plans reach no further than this year. */
const MAX_PLAN_YEAR = 2200;

/** The former digest loop's next instant (the Schedule replaced it): the given local hour of the first working day whose hour is after `now`. */
export function nextWorkingInstant(
  calendar: WorkingCalendar,
  now: number,
  zone: string,
  hour: number,
): { at: number; day: string } {
  let day = localDay(now, zone);
  if (zonedInstant(day, zone, hour) <= now || !calendar.isWorkingDay(day)) day = calendar.addWorkingDays(day, 1);
  return { at: zonedInstant(day, zone, hour), day: formatDate(day) };
}

/** The local date (YYYY-MM-DD) of an instant, in a plan's zone. */
export function localDateIn(plan: Pick<TrackerPeriodPlan, 'utcOffsetMs'>, instant: number): string {
  return formatDate(Math.floor((instant + plan.utcOffsetMs) / 86_400_000));
}

/**
 * Obligations whose reminder ladder reaches back past the previous period's due date: their periods' notices
 * interleave (DOMAIN.md 19 allows it; `duban validate` warns, since it is rarely meant). One line per obligation,
 * with the first example from `from` on.
 */
export function ladderOverlaps(
  trackers: readonly TrackerDefinition[],
  calendar: WorkingCalendar,
  from: DayNumber,
): string[] {
  const seen = new Set<string>();
  const warnings: string[] = [];
  for (const t of trackers) {
    const o = t.obligation;
    if (seen.has(o.id) || o.period === 'once') continue;
    seen.add(o.id);
    let prev = periodContaining(o.period, from);
    for (let i = 0; i < 12; i++) {
      const p = nextPeriod(prev);
      if (!p) break;
      const prevDue = dueDate(o.due, prev, o.rollForward, calendar).due;
      const opens = opening(t, calendar, dueDate(o.due, p, o.rollForward, calendar).due);
      if (opens <= zonedInstant(prevDue, t.timeZone, 23, 59, 59)) {
        warnings.push(
          `任务${o.id}：${periodWords(p.label)}的第一次提醒（${formatDate(localDay(opens, t.timeZone))}）早于${periodWords(prev.label)}的截止日期（${formatDate(prevDue)}）；` +
            '两个期次将同时进行，通知交错发送。如非本意，请缩短提醒。',
        );
        break;
      }
      prev = p;
    }
  }
  return warnings;
}

// --- 提级督办 (DOMAIN.md 26) ------------------------------------------------------------------------------------

/**
 * Who receives a raise: the unit head, from the office above (its head and liaison in copy), with the unit's
 * supervising office (head and liaison) and the lead unit in copy.
 */
function raiseRecipients(t: TrackerDefinition): Recipients {
  const office = t.raise?.office ?? t.supervisor;
  return recipients(
    [t.unit.head.email],
    [
      t.supervisor.head.email,
      t.supervisor.liaison.email,
      office.head.email,
      office.liaison.email,
      ...(t.lead ? [t.lead.liaison.email] : []),
    ],
  );
}

/**
 * The raise of a period (提级督办): `raise.after` working days after the first notice of the last escalation step,
 * before the ladder ends; placed after the last step's notice planned on or before that day (its level and step).
 * Undefined when the tracker does not raise, has no escalation step, or the ladder ends first.
 */
function raiseNotice(
  t: TrackerDefinition,
  calendar: WorkingCalendar,
  due: DayNumber,
  planned: readonly PlannedNotice[],
  beforeClose: (day: DayNumber) => boolean,
): { day: DayNumber; level: number; step: number } | undefined {
  const last = t.escalation[t.escalation.length - 1];
  if (!t.raise || !last) return undefined;
  const day = calendar.addWorkingDays(calendar.addWorkingDays(due, last.after), t.raise.after);
  if (!beforeClose(day)) return undefined;
  const before = planned.filter((n) => n.stage === 'escalation' && n.level === last.level && n.day <= day);
  return { day, level: last.level, step: Math.max(0, ...before.map((n) => n.step)) };
}

/**
 * Notices a catch-up (registration mid-period, resume, an arrival, a new event date) never passes over: a raise
 * already due and not yet sent goes out beside the latest notice, since it is another office's act, numbered in
 * its register, which nothing later stands for. Sent once: the period remembers it (PeriodSnapshot.raised).
 */
export function sentAtCatchUp(n: Pick<PlannedNotice, 'stage'>): boolean {
  return n.stage === 'raise';
}

/**
 * Whether a notice concerns a unit, for `duban plan --unit` and `duban ics --unit`: the tracker's own unit; a
 * cooperating unit (协办) for the reminders it receives; the office above for the raise it sends.
 */
export function noticeConcerns(t: TrackerDefinition, n: Pick<PlannedNotice, 'stage'>, unit: string): boolean {
  if (t.unit.id === unit) return true;
  if (n.stage === 'reminder') return (t.cooperators ?? []).some((c) => c.id === unit);
  if (n.stage === 'raise') return t.raise?.office.id === unit;
  return false;
}
