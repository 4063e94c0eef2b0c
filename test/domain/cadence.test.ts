/**
 * Cadences and due rules the seeds need (issue 12.4): cycles of several years from an anchor year (001 L41
 * 每隔两年), and due dates at the end of, or on day N of, the month after a monthly or quarterly period.
 */
import { formatDate, parseDate } from '../../domain/dates';
import { dueDate } from '../../domain/due';
import type { DueRule, PeriodKind } from '../../domain/model';
import { nextPeriod, parsePeriod, periodContaining, periodInChinese, type Cadence } from '../../domain/periods';
import { planWindow, trackerPeriodPlan } from '../../domain/planner';
import { Driver, at, calendar } from '../support/driver';
import { tracker } from '../support/trackers';

const d = (s: string) => parseDate(s)!;
const due = (rule: DueRule, kind: PeriodKind | Cadence, label: string) =>
  formatDate(dueDate(rule, parsePeriod(kind, label)!, false, calendar).due);
const END: DueRule = { rule: 'next-month-end' };

describe('next-month-end (次月底前)', () => {
  test('every month of the leap year 2028 is due the last day of the month after it', () => {
    const months = Array.from({ length: 12 }, (_, i) => `2028-${String(i + 1).padStart(2, '0')}`);
    expect(months.map((m) => due(END, 'month', m))).toEqual([
      '2028-02-29',
      '2028-03-31',
      '2028-04-30',
      '2028-05-31',
      '2028-06-30',
      '2028-07-31',
      '2028-08-31',
      '2028-09-30',
      '2028-10-31',
      '2028-11-30',
      '2028-12-31',
      '2029-01-31',
    ]);
    // after-period-end months: 1 drifts with the period's last day; next-month-end does not.
    expect(due({ rule: 'after-period-end', months: 1 }, 'month', '2028-02')).toBe('2028-03-29');
    expect(due(END, 'month', '2027-01')).toBe('2027-02-28');
  });

  test('quarters, half-years and years', () => {
    expect(['2028-Q1', '2028-Q2', '2028-Q3', '2028-Q4'].map((q) => due(END, 'quarter', q))).toEqual([
      '2028-04-30',
      '2028-07-31',
      '2028-10-31',
      '2029-01-31',
    ]);
    expect(due(END, 'half-year', '2027-H1')).toBe('2027-07-31');
    expect(due(END, 'year', '2027')).toBe('2028-01-31');
  });
});

describe('following-month-day (次月N日)', () => {
  test('day N of the month after the period, clamped to its end; before: the day before', () => {
    expect(due({ rule: 'following-month-day', day: 15, before: false }, 'month', '2028-01')).toBe('2028-02-15');
    expect(due({ rule: 'following-month-day', day: 15, before: false }, 'quarter', '2027-Q4')).toBe('2028-01-15');
    expect(due({ rule: 'following-month-day', day: 31, before: false }, 'month', '2028-01')).toBe('2028-02-29');
    expect(due({ rule: 'following-month-day', day: 30, before: false }, 'month', '2027-01')).toBe('2027-02-28');
    expect(due({ rule: 'following-month-day', day: 10, before: true }, 'quarter', '2027-Q2')).toBe('2027-07-09');
  });

  test('a monthly tracker plans every month without drift, each due in the month after', () => {
    const t = tracker({
      obligation: { id: 'monthly', period: 'month', due: { rule: 'following-month-day', day: 15, before: false } },
      reminders: [3, 0],
    });
    const { notices } = planWindow([t], calendar, { from: d('2027-01-01'), to: d('2027-12-31') });
    const dues = [...new Set(notices.map((n) => `${n.period}→${n.due}`))];
    expect(dues).toEqual(
      expect.arrayContaining(['2026-12→2027-01-15', '2027-01→2027-02-15', '2027-02→2027-03-15', '2027-10→2027-11-15']),
    );
    expect(dues.every((x) => x.endsWith('-15'))).toBe(true);
  });
});

describe('in-period-month-day (年度目录: by 31 March of the year it is for)', () => {
  test('the month-day inside the yearly period, or in the first year of a cycle', () => {
    const rule: DueRule = { rule: 'in-period-month-day', monthDay: '03-31' };
    expect(due(rule, 'year', '2027')).toBe('2027-03-31');
    expect(due(rule, { kind: 'year', every: 2, anchor: 2025 }, '2027-2028')).toBe('2027-03-31');
    const t = tracker({ obligation: { id: 'decision-catalog', period: 'year', due: rule }, reminders: [10, 0] });
    // Registered in November 2026, after the 2026 catalogue was due: the first period is 2027.
    expect(trackerPeriodPlan(t, calendar, { now: at('2026-11-22') })).toMatchObject({
      period: '2027',
      due: '2027-03-31',
      nextPeriod: '2028',
    });
  });
});

describe('cycles of several years (每隔两年, 001 L41)', () => {
  const two: Cadence = { kind: 'year', every: 2, anchor: 2025 };

  test('periods across the anchor year: before, at and after it', () => {
    expect(periodContaining(two, d('2024-06-01'))).toMatchObject({
      label: '2023-2024',
      start: d('2023-01-01'),
      end: d('2024-12-31'),
      years: 2,
    });
    expect(periodContaining(two, d('2025-01-01')).label).toBe('2025-2026');
    expect(periodContaining(two, d('2026-12-31')).label).toBe('2025-2026');
    expect(periodContaining(two, d('2027-01-01')).label).toBe('2027-2028');
    expect(nextPeriod(periodContaining(two, d('2024-01-01')))!.label).toBe('2025-2026');
    expect(periodContaining({ kind: 'year', every: 3, anchor: 2025 }, d('2031-05-05')).label).toBe('2031-2033');
  });

  test('labels: only the cycle own periods parse; notices say 2025—2026年度', () => {
    expect(parsePeriod(two, '2027-2028')).toMatchObject({ label: '2027-2028', years: 2 });
    expect(parsePeriod(two, '2026-2027')).toBeUndefined();
    expect(parsePeriod(two, '2027')).toBeUndefined();
    expect(parsePeriod(two, '2027-2029')).toBeUndefined();
    // Without the cadence (templates, calendars), a cycle label still names its years.
    expect(parsePeriod('year', '2025-2026')!.end).toBe(d('2026-12-31'));
    expect(periodInChinese(parsePeriod(two, '2025-2026')!)).toBe('2025—2026年度');
    // A yearly obligation is unchanged.
    expect(parsePeriod({ kind: 'year' }, '2027')!.label).toBe('2027');
  });

  const cleanup = () =>
    tracker({
      obligation: { id: 'cleanup', period: 'year', every: 2, anchor: 2025, due: { rule: 'period-end' } },
      reminders: [20, 3, 0],
    });

  test('the planner: due the last day of the cycle, then the next cycle two years on', () => {
    const plan = trackerPeriodPlan(cleanup(), calendar, { now: at('2025-03-01') });
    expect(plan).toMatchObject({
      period: '2025-2026',
      periodStart: '2025-01-01',
      periodEnd: '2026-12-31',
      due: '2026-12-31',
      nextPeriod: '2027-2028',
    });
    const { notices } = planWindow([cleanup()], calendar, { from: d('2025-01-01'), to: d('2029-01-31') });
    // Reminders only in the cycles' closing Decembers: none in 2025 or 2027.
    expect([...new Set(notices.filter((n) => n.stage === 'reminder').map((n) => `${n.period} ${n.due}`))]).toEqual([
      '2025-2026 2026-12-31',
      '2027-2028 2028-12-31',
    ]);
    // The 2023-2024 cycle escalates until 2025-2026 is itself overdue; 2025-2026 has nothing before November 2026.
    expect(notices.filter((n) => n.period === '2025-2026').every((n) => n.day >= d('2026-11-01'))).toBe(true);
    expect(
      notices
        .filter((n) => n.period === '2023-2024')
        .every((n) => n.stage === 'escalation' && n.at <= at('2026-12-31', 23)),
    ).toBe(true);
  });

  test('a two-yearly cycle with a yearly-style due rule: the report of 2025-2026 is due before 1 March 2027', () => {
    const t = tracker({
      obligation: {
        id: 'cleanup',
        period: 'year',
        every: 2,
        anchor: 2025,
        due: { rule: 'next-month-day', monthDay: '03-01', before: true },
      },
    });
    expect(trackerPeriodPlan(t, calendar, { now: at('2026-05-01'), period: '2023-2024' }).due).toBe('2025-02-28');
    expect(trackerPeriodPlan(t, calendar, { now: at('2026-05-01') }).due).toBe('2027-02-28');
  });

  test('the state machine across the anchor: registered in 2024, the 2023-2024 cycle, then 2025-2026', () => {
    const dr = Driver.start(cleanup(), at('2024-03-01'));
    expect(dr.t.periods.map((p) => p.label)).toEqual(['2023-2024']);
    dr.runUntil(at('2024-12-30'));
    dr.act('submit', { by: '市司法局', evidence: { link: 'https://example.org/cleanup-2024' } });
    expect(dr.t.history).toEqual([
      expect.objectContaining({ period: '2023-2024', outcome: 'on_time', due: '2024-12-31' }),
    ]);
    expect(dr.t.periods.map((p) => p.label)).toEqual(['2025-2026']);
    dr.runUntil(at('2026-11-01'));
    // Nothing at all in 2025: the cycle's ladder opens 20 working days before 31 December 2026.
    expect(dr.names()).toEqual(['2023-2024 2024-12-03 r20', '2023-2024 2024-12-26 r3']);
    dr.runUntil(at('2027-01-06'));
    expect(dr.names().slice(2)).toEqual([
      '2025-2026 2026-12-03 r20',
      '2025-2026 2026-12-28 r3',
      '2025-2026 2026-12-31 r0',
      '2025-2026 2027-01-04 e1.0',
    ]);
    expect(dr.t.status(dr.now).periods[0]).toMatchObject({ period: '2025-2026', colour: 'red' });
    dr.refused(
      'submit',
      { by: 'x', evidence: { text: 'a' }, period: '2026' },
      /2026年度未开放；开放中的：2025—2026年度/,
    );
  });

  test('the cycle cannot change on a running tracker', () => {
    const dr = Driver.start(cleanup(), at('2025-03-01'));
    const changed = cleanup();
    changed.obligation.anchor = 2026;
    dr.refused(
      'updateDefinition',
      { by: 'admin', definition: changed },
      /运行中的督办任务不能改变周期（自2025年起每2年改为自2026年起每2年）/,
    );
  });
});
