/**
 * Due rules (DOMAIN.md 3, 4, 8): from a period to its due date.
 */
import { DayNumber, addMonths, civil, dayNumber, daysInMonth, isValidDate, lastDayOfMonth, parseDate } from './dates';
import type { WorkingCalendar } from './calendar';
import type { DueRule } from './model';
import type { Period } from './periods';

/** An event-relative due rule whose event has no date yet: nothing can be planned, the tracker waits. */
export class WaitingForEvent extends Error {
  override readonly name = 'WaitingForEvent';
  constructor(readonly event: string) {
    super(`等待事件${event}确定日期`);
  }
}

/** The event an event-relative rule waits for, when it has no date yet; undefined otherwise. */
export function waitingForEvent(rule: DueRule): string | undefined {
  return (rule.rule === 'before-event' || rule.rule === 'after-event') && rule.date === undefined
    ? rule.event
    : undefined;
}

export interface DueDate {
  /** The date the rule gives. */
  nominal: DayNumber;
  /** The date in force: the nominal one, or with roll-forward the next working day when it falls on a day off. */
  due: DayNumber;
}

/** The due date the rule gives for a period, before any roll-forward. */
export function nominalDue(rule: DueRule, period: Period): DayNumber {
  switch (rule.rule) {
    case 'period-end':
      return period.end;
    case 'after-period-end':
      return rule.months !== undefined ? addMonths(period.end, rule.months) : period.end + (rule.days ?? 0);
    case 'next-month-day': {
      const [month, day] = rule.monthDay.split('-').map(Number) as [number, number];
      let year = civil(period.end).year;
      if (!isValidDate(year, month, day) || dayNumber(year, month, day) <= period.end) year += 1;
      const date = dayNumber(year, month, day);
      return rule.before ? date - 1 : date;
    }
    case 'next-month-end': {
      const next = civil(period.end + 1);
      return lastDayOfMonth(next.year, next.month);
    }
    case 'following-month-day': {
      // The month after the period ends; a day it lacks (31 in April) is clamped to its last day.
      const next = civil(period.end + 1);
      const date = dayNumber(
        next.year,
        next.month,
        Math.min(Math.max(rule.day, 1), daysInMonth(next.year, next.month)),
      );
      return rule.before ? date - 1 : date;
    }
    case 'in-period-month-day': {
      const [month, day] = rule.monthDay.split('-').map(Number) as [number, number];
      const year = civil(period.start).year;
      return dayNumber(year, month, Math.min(day, daysInMonth(year, month)));
    }
    case 'before-event':
    case 'after-event': {
      const date = rule.date === undefined ? undefined : parseDate(rule.date);
      if (date === undefined) throw new WaitingForEvent(rule.event);
      const sign = rule.rule === 'before-event' ? -1 : 1;
      return rule.months !== undefined ? addMonths(date, sign * rule.months) : date + sign * (rule.days ?? 0);
    }
    case 'fixed-date': {
      const d = parseDate(rule.date);
      if (d === undefined) throw new Error(`固定日期截止规则（fixed-date）：“${rule.date}”不是日期`);
      return d;
    }
  }
}

/**
 * Roll-forward reads 《民法典》第二百零三条 "期间的最后一日是法定休假日的，以法定休假日结束的次日为期间的最后一日" with
 * 法定休假日 covering the weekly rest days too, as Chinese courts apply it; a make-up working day (调休) is a working
 * day and does not roll.
 */
export function dueDate(rule: DueRule, period: Period, rollForward: boolean, calendar: WorkingCalendar): DueDate {
  const nominal = nominalDue(rule, period);
  return { nominal, due: rollForward ? calendar.onOrAfter(nominal) : nominal };
}
