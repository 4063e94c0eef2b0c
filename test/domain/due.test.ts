import { WorkingCalendar } from '../../domain/calendar';
import { addMonths, formatDate, parseDate } from '../../domain/dates';
import { dueDate, nominalDue } from '../../domain/due';
import type { DueRule } from '../../domain/model';
import { parsePeriod, periodContaining, nextPeriod, periodInChinese } from '../../domain/periods';
import type { PeriodKind } from '../../domain/model';

const d = (s: string) => parseDate(s)!;
const calendar = new WorkingCalendar();
const due = (rule: DueRule, kind: PeriodKind, label: string, rollForward = false) =>
  formatDate(dueDate(rule, parsePeriod(kind, label)!, rollForward, calendar).due);
const BEFORE_MARCH: DueRule = { rule: 'next-month-day', monthDay: '03-01', before: true };

describe('periods', () => {
  test('labels and boundaries', () => {
    expect(periodContaining('year', d('2027-06-15'))).toMatchObject({
      label: '2027',
      start: d('2027-01-01'),
      end: d('2027-12-31'),
    });
    expect(periodContaining('half-year', d('2027-06-30')).label).toBe('2027-H1');
    expect(periodContaining('half-year', d('2027-07-01'))).toMatchObject({
      label: '2027-H2',
      start: d('2027-07-01'),
      end: d('2027-12-31'),
    });
    expect(periodContaining('quarter', d('2027-03-31'))).toMatchObject({ label: '2027-Q1', end: d('2027-03-31') });
    expect(periodContaining('quarter', d('2027-04-01'))).toMatchObject({
      label: '2027-Q2',
      start: d('2027-04-01'),
      end: d('2027-06-30'),
    });
    expect(periodContaining('month', d('2028-02-10'))).toMatchObject({ label: '2028-02', end: d('2028-02-29') });
    expect(nextPeriod(parsePeriod('quarter', '2027-Q4')!)!.label).toBe('2028-Q1');
    expect(nextPeriod(parsePeriod('once', 'once')!)).toBeUndefined();
    expect(parsePeriod('quarter', '2027-Q5')).toBeUndefined();
    expect(parsePeriod('month', '2027-13')).toBeUndefined();
    expect(periodInChinese(parsePeriod('quarter', '2027-Q2')!)).toBe('2027年第二季度');
    expect(periodInChinese(parsePeriod('half-year', '2027-H2')!)).toBe('2027年下半年');
  });
});

describe('due rules', () => {
  test('"before 1 March" is the last day of February, 29 in leap years', () => {
    expect(due(BEFORE_MARCH, 'year', '2026')).toBe('2027-02-28');
    expect(due(BEFORE_MARCH, 'year', '2027')).toBe('2028-02-29');
    expect(due({ rule: 'next-month-day', monthDay: '04-01', before: true }, 'year', '2027')).toBe('2028-03-31');
  });

  test('a period about one year is due the next year', () => {
    const p = parsePeriod('year', '2026')!;
    expect(nominalDue(BEFORE_MARCH, p)).toBeGreaterThan(p.end);
    expect(due({ rule: 'next-month-day', monthDay: '01-31', before: false }, 'half-year', '2026-H2')).toBe(
      '2027-01-31',
    );
    expect(due({ rule: 'next-month-day', monthDay: '07-31', before: false }, 'half-year', '2026-H1')).toBe(
      '2026-07-31',
    );
  });

  test('period end at quarter and half boundaries', () => {
    const end: DueRule = { rule: 'period-end' };
    expect(due(end, 'quarter', '2027-Q1')).toBe('2027-03-31');
    expect(due(end, 'quarter', '2027-Q2')).toBe('2027-06-30');
    expect(due(end, 'quarter', '2027-Q3')).toBe('2027-09-30');
    expect(due(end, 'quarter', '2027-Q4')).toBe('2027-12-31');
    expect(due(end, 'half-year', '2027-H1')).toBe('2027-06-30');
    expect(due(end, 'month', '2028-02')).toBe('2028-02-29');
  });

  test('days and months after the period, months clamped to month end', () => {
    expect(due({ rule: 'after-period-end', days: 15 }, 'half-year', '2027-H1')).toBe('2027-07-15');
    expect(due({ rule: 'after-period-end', days: 15 }, 'half-year', '2027-H2')).toBe('2028-01-15');
    expect(due({ rule: 'after-period-end', months: 1 }, 'month', '2027-01')).toBe('2027-02-28');
    expect(due({ rule: 'after-period-end', months: 1 }, 'month', '2028-01')).toBe('2028-02-29');
    expect(due({ rule: 'after-period-end', months: 2 }, 'quarter', '2027-Q4')).toBe('2028-02-29');
    expect(formatDate(addMonths(d('2027-01-31'), 1))).toBe('2027-02-28');
    expect(formatDate(addMonths(d('2027-03-31'), -1))).toBe('2027-02-28');
    expect(formatDate(addMonths(d('2027-06-30'), 1))).toBe('2027-07-30');
    expect(formatDate(addMonths(d('2027-12-15'), 2))).toBe('2028-02-15');
  });

  test('a due date on a holiday stays put, or rolls to the next working day when the obligation opts in', () => {
    const national: DueRule = { rule: 'fixed-date', date: '2026-10-03' };
    expect(due(national, 'once', 'once')).toBe('2026-10-03');
    expect(due(national, 'once', 'once', true)).toBe('2026-10-08');
    // A Sunday rolls to Monday.
    expect(due({ rule: 'fixed-date', date: '2026-03-01' }, 'once', 'once', true)).toBe('2026-03-02');
    // 28 February 2026 is a Saturday but a make-up working day: nothing to roll.
    expect(due(BEFORE_MARCH, 'year', '2025', true)).toBe('2026-02-28');
    // 2027-02-28 is a Sunday.
    expect(due(BEFORE_MARCH, 'year', '2026', true)).toBe('2027-03-01');
  });
});
