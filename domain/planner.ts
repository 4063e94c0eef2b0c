/**
 * The notice planner: what every tracker would receive, and when, if nobody ever submits.
 *
 * The tracker workflows execute exactly this plan, one period at a time (planPeriod, nextNoticeAfter); the
 * `duban plan` command shows it for many trackers over a window (planWindow). Everything is pure and
 * deterministic: the same inputs give the same notices in the same order.
 *
 * Rules (DOMAIN.md 7, 9, 10, 11):
 * - notices go out at the notice hour, local time, on working days only;
 * - reminder N counts N working days back from the due day, which itself moves to the previous working day when
 *   it is a day off; escalation N counts N working days after the due date;
 * - level 3 repeats weekly (a day off moves it to the next working day) until done or the period closes;
 * - a period closes when the next period opens, i.e. at the next period's first notice, and no escalation of a
 *   period is sent once the next one has opened. A one-off period never closes.
 */
import type { WorkingCalendar } from './calendar';
import { DayNumber, civil, formatDate } from './dates';
import { dueDate } from './due';
import { Period, nextPeriod, periodContaining } from './periods';
import type { TrackerDefinition } from './trackers';
import { localDay, zonedInstant } from './zone';

export type Stage = 'reminder' | 'escalation';

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
  /** Escalation level; 0 for reminders. */
  level: number;
  /** Reminders: working days before due; escalations: 0 for the first notice of a level, then 1, 2 ... for repeats. */
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
  return `${n.trackerId}/${n.period}/${n.due}/${n.stage === 'reminder' ? `r${n.step}` : `e${n.level}.${n.step}`}`;
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
  /** When the next period opens; undefined for a one-off. */
  closesAt?: number;
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
  if (stage === 'reminder') return recipients([t.unit.liaison.email], [t.unit.head.email]);
  if (level <= 1) return recipients([t.unit.head.email], [...(digestRunning && usesDigest(t) ? [] : [t.supervisor.liaison.email]), ...lead]);
  if (level === 2) return recipients([t.unit.head.email], [t.supervisor.head.email, t.supervisor.liaison.email, ...lead]);
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
  let closesAt: number | undefined;
  if (next) {
    const nextDue = dueDate(o.due, next, o.rollForward, calendar).due;
    closesAt = opening(t, calendar, nextDue);
  }

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

  const beforeClose = (day: DayNumber) => closesAt === undefined || zonedInstant(day, zone, hour) < closesAt;
  // The last step repeats weekly with no end for a one-off; a year of repeats is as far as any plan looks.
  const repeatHorizon = due + 400;
  for (const step of t.escalation) {
    const r = noticeRecipients(t, 'escalation', step.level, options.digest);
    const first = calendar.addWorkingDays(due, step.after);
    if (!beforeClose(first)) break;
    push(first, 'escalation', step.level, 0, r);
    if (!step.repeatWeekly) continue;
    let last = first;
    for (let k = 1; ; k++) {
      const day = calendar.onOrAfter(first + 7 * k);
      if (!beforeClose(day) || day > repeatHorizon) break;
      // A holiday longer than a week (Spring Festival) can push two repeats onto the same day: send one.
      if (day === last) continue;
      push(day, 'escalation', step.level, k, r);
      last = day;
    }
  }

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
    closesAt,
    notices,
    provisionalYears: calendar.provisionalYearsIn(firstDay, lastDay),
  };
}

function stageOrder(n: PlannedNotice): number {
  return n.stage === 'reminder' ? -n.step : 100 + n.level * 1000 + n.step;
}

/** The next notice strictly after instant `after`, or undefined when the period has no more. */
export function nextNoticeAfter(plan: PeriodPlan, after: number): PlannedNotice | undefined {
  return plan.notices.find((n) => n.at > after);
}

/** The period a tracker is in at a given instant: the latest period that has opened, or the first one. */
export function currentPeriod(t: TrackerDefinition, calendar: WorkingCalendar, at: number): Period {
  let p = periodContaining(t.obligation.period, localDay(at, t.timeZone) - lookbackDays(t));
  for (;;) {
    const next = nextPeriod(p);
    if (!next) return p;
    const nextOpens = opening(t, calendar, dueDate(t.obligation.due, next, t.obligation.rollForward, calendar).due);
    if (nextOpens > at) return p;
    p = next;
  }
}

/**
 * The period a tracker registered at `instant` starts with: the first one not yet due. Earlier periods are not
 * tracked: registering an obligation does not put a unit in the red for years nobody asked it about.
 */
export function firstPeriodNotYetDue(t: TrackerDefinition, calendar: WorkingCalendar, instant: number): Period {
  let p = periodContaining(t.obligation.period, localDay(instant, t.timeZone) - lookbackDays(t));
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
    rule.rule === 'after-period-end' ? (rule.days ?? 0) + 31 * (rule.months ?? 0) : rule.rule === 'next-month-day' ? 366 : 0;
  const length = { year: 366, 'half-year': 184, quarter: 92, month: 31, once: 0 }[t.obligation.period];
  return lag + 2 * length + 60;
}

export interface Window {
  /** First and last local day, inclusive. */
  from: DayNumber;
  to: DayNumber;
}

export interface WindowPlan {
  notices: PlannedNotice[];
  provisionalYears: number[];
}

/**
 * Every notice of every tracker whose local day falls in the window, ordered by instant, then tracker, then
 * period, then stage (reminders before escalations, lower levels first): the order of compareNotices.
 */
export function planWindow(trackers: readonly TrackerDefinition[], calendar: WorkingCalendar, window: Window): WindowPlan {
  // Notices cluster on few instants (the notice hour of working days). Filling one bucket per instant while
  // visiting trackers in id order and periods in time order yields compareNotices order without a global sort.
  const buckets = new Map<number, PlannedNotice[]>();
  const yearsUsed = new Set<number>();
  const sorted = [...trackers].sort((a, b) => (a.trackerId < b.trackerId ? -1 : a.trackerId > b.trackerId ? 1 : 0));
  for (const t of sorted) {
    const start = zonedInstant(window.from, t.timeZone, 0);
    const end = zonedInstant(window.to + 1, t.timeZone, 0);
    const opensAt = (p: Period) => opening(t, calendar, dueDate(t.obligation.due, p, t.obligation.rollForward, calendar).due);
    let period: Period | undefined = periodContaining(t.obligation.period, window.from - lookbackDays(t));
    let opens = opensAt(period);
    while (period && opens < end) {
      const next = nextPeriod(period);
      const nextOpens = next ? opensAt(next) : undefined;
      // A period's notices all come before the next one opens: skip periods that closed before the window.
      if (nextOpens === undefined || nextOpens > start) {
        const plan = planPeriod(t, period, calendar);
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
  return { notices, provisionalYears };
}

export function compareNotices(a: PlannedNotice, b: PlannedNotice): number {
  if (a.at !== b.at) return a.at - b.at;
  if (a.trackerId !== b.trackerId) return a.trackerId < b.trackerId ? -1 : 1;
  if (a.period !== b.period) return a.period < b.period ? -1 : 1;
  return stageOrder(a) - stageOrder(b);
}
