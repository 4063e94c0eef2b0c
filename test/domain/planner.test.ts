import fc from 'fast-check';
import { WorkingCalendar } from '../../domain/calendar';
import { formatDate, parseDate } from '../../domain/dates';
import type { DueRule, EscalationStep, PeriodKind } from '../../domain/model';
import { compareNotices, ladderOverlaps, noticeKey, planPeriod, planWindow } from '../../domain/planner';
import { parsePeriod } from '../../domain/periods';
import { formatLocal, localDay, zonedInstant } from '../../domain/zone';
import { tracker } from '../support/trackers';

const d = (s: string) => parseDate(s)!;
const calendar = new WorkingCalendar();
const local = (at: number) => formatLocal(at, 'Asia/Shanghai');

describe('planPeriod', () => {
  test('annual report about 2025: reminders across Spring Festival 2026, the due day on a make-up Saturday', () => {
    const plan = planPeriod(tracker(), parsePeriod('year', '2025')!, calendar);
    expect(formatDate(plan.due)).toBe('2026-02-28');
    expect(new Date(plan.dueAt).toISOString()).toBe('2026-02-28T15:59:59.000Z');
    const head = plan.notices.slice(0, 7).map((n) => [local(n.at), n.stage, n.level, n.step]);
    expect(head).toEqual([
      ['2026-02-09 09:00', 'reminder', 0, 10],
      ['2026-02-25 09:00', 'reminder', 0, 3],
      ['2026-02-27 09:00', 'reminder', 0, 1],
      ['2026-02-28 09:00', 'reminder', 0, 0],
      ['2026-03-02 09:00', 'escalation', 1, 0],
      ['2026-03-06 09:00', 'escalation', 2, 0],
      ['2026-03-13 09:00', 'escalation', 3, 0],
    ]);
    expect(new Date(plan.notices[0]!.at).toISOString()).toBe('2026-02-09T01:00:00.000Z');
    expect(plan.notices[0]).toMatchObject({
      trackerId: 'annual-report/unit',
      period: '2025',
      due: '2026-02-28',
      to: ['liaison@test.example.org'],
      cc: ['head@test.example.org'],
    });
    expect(noticeKey(plan.notices[0]!)).toBe('annual-report/unit/2025/2026-02-28/r10');
    expect(noticeKey(plan.notices[5]!)).toBe('annual-report/unit/2025/2026-02-28/e2.0');
  });

  test('the due day notice of a due date on a day off moves to the previous working day', () => {
    // 2027-02-28 is a Sunday; the due-day reminder goes out on Friday 26 February.
    const plan = planPeriod(tracker(), parsePeriod('year', '2026')!, calendar);
    expect(formatDate(plan.due)).toBe('2027-02-28');
    const dueDay = plan.notices.find((n) => n.stage === 'reminder' && n.step === 0)!;
    expect(local(dueDay.at)).toBe('2027-02-26 09:00');
    expect(local(plan.notices.find((n) => n.level === 1)!.at)).toBe('2027-03-01 09:00');
  });

  test('escalation recipients by level; the lead unit is copied on escalations only', () => {
    const lead = {
      id: 'justice',
      name: '市司法局',
      head: { name: 'h', email: 'lead-head@test.example.org' },
      liaison: { name: 'l', email: 'lead@test.example.org' },
      deputies: [],
    };
    const plan = planPeriod(tracker({ lead }), parsePeriod('year', '2025')!, calendar);
    const at = (level: number) => plan.notices.find((n) => n.level === level && n.step === 0)!;
    expect(plan.notices[0]!.cc).toEqual(['head@test.example.org']);
    // The office takes the daily digest (the default), so level 1 does not copy it item by item.
    expect(at(1)).toMatchObject({ to: ['head@test.example.org'], cc: ['lead@test.example.org'] });
    expect(at(2)).toMatchObject({
      to: ['head@test.example.org'],
      cc: ['office-head@test.example.org', 'office-liaison@test.example.org', 'lead@test.example.org'],
    });
    expect(at(3)).toMatchObject({
      to: ['leader@test.example.org'],
      cc: [
        'office-head@test.example.org',
        'office-liaison@test.example.org',
        'head@test.example.org',
        'lead@test.example.org',
      ],
    });
  });

  test('an office without the digest is copied on level 1, and so is every office when the deployment runs none', () => {
    const t = tracker();
    const plan = planPeriod(
      { ...t, supervisor: { ...t.supervisor, digest: false } },
      parsePeriod('year', '2025')!,
      calendar,
    );
    expect(plan.notices.find((n) => n.level === 1)!.cc).toEqual(['office-liaison@test.example.org']);
    const noDigest = planPeriod(t, parsePeriod('year', '2025')!, calendar, { digest: false });
    expect(noDigest.notices.find((n) => n.level === 1)!.cc).toEqual(['office-liaison@test.example.org']);
  });

  test('an overdue quarter stays open: weekly level-3 repeats run until the next quarter is itself overdue', () => {
    const t = tracker({
      obligation: { id: 'study', period: 'quarter', due: { rule: 'period-end' }, completion: 'quota', quota: 1 },
    });
    const q1 = planPeriod(t, parsePeriod('quarter', '2026-Q1')!, calendar);
    const q2 = planPeriod(t, parsePeriod('quarter', '2026-Q2')!, calendar);
    // The next quarter opens when it begins (its first reminder comes later).
    expect(local(q1.next!.opensAt)).toBe('2026-04-01 00:00');
    expect(q2.opensAt).toBeGreaterThan(q1.next!.opensAt);
    expect(q1.endsAt).toBe(q2.dueAt);
    // 30 June back ten working days, over 端午 (19-21 June): 15 June.
    expect(local(q2.opensAt)).toBe('2026-06-15 09:00');
    const escalations = q1.notices
      .filter((n) => n.stage === 'escalation')
      .map((n) => `${local(n.at).slice(0, 10)} L${n.level}#${n.step}`);
    expect(escalations).toEqual([
      '2026-04-01 L1#0',
      '2026-04-08 L2#0',
      '2026-04-15 L3#0',
      '2026-04-22 L3#1',
      '2026-04-29 L3#2',
      '2026-05-06 L3#3',
      '2026-05-13 L3#4',
      '2026-05-20 L3#5',
      '2026-05-27 L3#6',
      '2026-06-03 L3#7',
      '2026-06-10 L3#8',
      '2026-06-17 L3#9',
      '2026-06-24 L3#10',
    ]);
    // The overdue quarter keeps its ladder while the next one runs (DOMAIN.md 19).
    expect(q1.notices.some((n) => n.at > q2.opensAt)).toBe(true);
    expect(Math.max(...q1.notices.map((n) => n.at))).toBeLessThan(q1.endsAt);
  });

  test('a quarterly quota has no carry-over: every quarter is its own period with its own ladder', () => {
    const t = tracker({
      obligation: { id: 'study', period: 'quarter', due: { rule: 'period-end' }, completion: 'quota', quota: 1 },
    });
    const plans = ['2027-Q1', '2027-Q2', '2027-Q3', '2027-Q4'].map((p) =>
      planPeriod(t, parsePeriod('quarter', p)!, calendar),
    );
    expect(plans.map((p) => formatDate(p.due))).toEqual(['2027-03-31', '2027-06-30', '2027-09-30', '2027-12-31']);
    for (const p of plans) expect(p.notices.filter((n) => n.stage === 'reminder')).toHaveLength(4);
    expect(new Set(plans.flatMap((p) => p.notices.map(noticeKey))).size).toBe(
      plans.reduce((s, p) => s + p.notices.length, 0),
    );
  });

  test('a yearly quota of 4 due at year end escalates into the next year until that year is due', () => {
    const t = tracker({
      obligation: { id: 'lectures', period: 'year', due: { rule: 'period-end' }, completion: 'quota', quota: 4 },
      reminders: [60, 20, 10, 3, 0],
    });
    const plan = planPeriod(t, parsePeriod('year', '2026')!, calendar);
    expect(formatDate(plan.due)).toBe('2026-12-31');
    // Sixty working days before 31 December, counted over the National Day week.
    expect(local(plan.notices[0]!.at)).toBe('2026-10-09 09:00');
    expect(local(plan.notices.find((n) => n.level === 1)!.at)).toBe('2027-01-04 09:00');
    expect(local(plan.next!.opensAt)).toBe('2027-01-01 00:00');
    expect(plan.endsAt).toBe(planPeriod(t, parsePeriod('year', '2027')!, calendar).dueAt);
  });

  test('an urgent obligation starts at level 2', () => {
    const plan = planPeriod(tracker({ obligation: { urgent: true } }), parsePeriod('year', '2025')!, calendar);
    const firsts = plan.notices
      .filter((n) => n.stage === 'escalation' && n.step === 0)
      .map((n) => [local(n.at).slice(0, 10), n.level]);
    expect(firsts).toEqual([
      ['2026-03-02', 2],
      ['2026-03-13', 3],
    ]);
  });

  test('an approved extension moves the ladder and keeps the original due', () => {
    const plan = planPeriod(tracker(), parsePeriod('year', '2025')!, calendar, { extendedDue: d('2026-03-31') });
    expect(formatDate(plan.originalDue)).toBe('2026-02-28');
    expect(formatDate(plan.due)).toBe('2026-03-31');
    expect(plan.notices.every((n) => n.due === '2026-03-31')).toBe(true);
    expect(local(plan.notices.find((n) => n.level === 1)!.at)).toBe('2026-04-01 09:00');
  });

  test('a one-off has no next period; its weekly circular goes on for a year after due', () => {
    const t = tracker({
      obligation: { id: 'catalogue', period: 'once', due: { rule: 'fixed-date', date: '2027-06-30' } },
    });
    const plan = planPeriod(t, parsePeriod('once', 'once')!, calendar);
    expect(plan.next).toBeUndefined();
    expect(local(plan.endsAt)).toBe('2028-06-29 23:59');
    expect(plan.notices.filter((n) => n.level === 3).length).toBeGreaterThan(40);
    expect(plan.provisionalYears).toEqual([2027, 2028]);
  });
});

describe('planWindow', () => {
  test('orders by instant, then tracker, and keeps only the window', () => {
    const a = tracker({ trackerId: 'annual-report/a' });
    const b = tracker({ trackerId: 'annual-report/b' });
    const plan = planWindow([b, a], calendar, { from: d('2026-02-01'), to: d('2026-03-31') });
    // Per tracker: the 2024 report, still open, keeps its weekly circular until the 2025 report is itself overdue
    // (DOMAIN.md 19; the Spring Festival moves 20 February to the 24th), overlapping the 2025 report's four
    // reminders, three escalations and two repeats.
    const forA = plan.notices.filter((n) => n.trackerId === 'annual-report/a');
    expect(forA.map((n) => `${n.period} ${local(n.at).slice(0, 10)} ${n.stage[0]}${n.level}`)).toEqual([
      '2024 2026-02-06 e3',
      '2025 2026-02-09 r0',
      '2024 2026-02-13 e3',
      '2024 2026-02-24 e3',
      '2025 2026-02-25 r0',
      '2024 2026-02-27 e3',
      '2025 2026-02-27 r0',
      '2025 2026-02-28 r0',
      '2025 2026-03-02 e1',
      '2025 2026-03-06 e2',
      '2025 2026-03-13 e3',
      '2025 2026-03-20 e3',
      '2025 2026-03-27 e3',
    ]);
    expect(plan.notices).toHaveLength(26);
    expect([...plan.notices].sort(compareNotices)).toEqual(plan.notices);
    expect(plan.notices[0]!.trackerId).toBe('annual-report/a');
    expect(plan.provisionalYears).toEqual([]);
    const next = planWindow([a], calendar, { from: d('2027-01-01'), to: d('2027-12-31') });
    expect(next.provisionalYears).toEqual([2027]);
  });
});

describe('property: any catalog entry', () => {
  const kinds: PeriodKind[] = ['year', 'half-year', 'quarter', 'month'];
  const dueRule = (period: PeriodKind): fc.Arbitrary<DueRule> => {
    const options: fc.Arbitrary<DueRule>[] = [
      fc.constant<DueRule>({ rule: 'period-end' }),
      fc.integer({ min: 0, max: 60 }).map((days): DueRule => ({ rule: 'after-period-end', days })),
      fc.integer({ min: 1, max: 3 }).map((months): DueRule => ({ rule: 'after-period-end', months })),
    ];
    // next-month-day is valid only for yearly periods (validation refuses it elsewhere).
    if (period === 'year') {
      options.push(
        fc
          .record({
            month: fc.integer({ min: 1, max: 12 }),
            day: fc.integer({ min: 1, max: 28 }),
            before: fc.boolean(),
          })
          .map(({ month, day, before }): DueRule => ({
            rule: 'next-month-day',
            monthDay: `${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`,
            before,
          })),
      );
    }
    return fc.oneof(...options);
  };
  const periodAndRule = fc.constantFrom(...kinds).chain((period) => dueRule(period).map((due) => ({ period, due })));
  const reminders = fc
    .uniqueArray(fc.integer({ min: 0, max: 30 }), { maxLength: 5 })
    .map((r) => r.sort((x, y) => y - x));
  const escalation = fc.uniqueArray(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 4 }).chain((afters) =>
    fc.boolean().map((repeat): EscalationStep[] =>
      afters
        .sort((x, y) => x - y)
        .map((after, i, all) => ({
          level: Math.min(3, i + 1),
          after,
          repeatWeekly: repeat && i === all.length - 1,
        })),
    ),
  );

  test('notices are ordered, on working days at the notice hour, reminders before due and escalations after', () => {
    fc.assert(
      fc.property(
        periodAndRule,
        fc.boolean(),
        reminders,
        escalation,
        fc.integer({ min: 7, max: 18 }),
        fc.integer({ min: 2025, max: 2029 }),
        fc.integer({ min: 1, max: 12 }),
        ({ period, due }, rollForward, rem, esc, hour, year, month) => {
          const t = tracker({
            obligation: { period, due, rollForward },
            reminders: rem,
            escalation: esc,
            noticeHour: hour,
          });
          const from = d(`${year}-${String(month).padStart(2, '0')}-01`);
          const plan = planWindow([t], calendar, { from, to: from + 200 });
          for (let i = 1; i < plan.notices.length; i++)
            expect(compareNotices(plan.notices[i - 1]!, plan.notices[i]!)).toBeLessThan(0);
          for (const n of plan.notices) {
            const day = localDay(n.at, 'Asia/Shanghai');
            expect(calendar.isWorkingDay(day)).toBe(true);
            expect(n.at).toBe(zonedInstant(day, 'Asia/Shanghai', hour));
            const dueDay = d(n.due);
            if (n.stage === 'reminder') expect(day).toBeLessThanOrEqual(dueDay);
            else expect(day).toBeGreaterThan(dueDay);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('ladderOverlaps', () => {
  test('warns when a reminder ladder reaches back past the previous period due date, once per obligation', () => {
    const monthly = tracker({
      obligation: { id: 'monthly', period: 'month', due: { rule: 'period-end' } },
      reminders: [20, 10, 3, 1, 0],
    });
    const quarterly = tracker({ obligation: { id: 'quarterly', period: 'quarter', due: { rule: 'period-end' } } });
    const warnings = ladderOverlaps(
      [monthly, { ...monthly, trackerId: 'monthly/other' }, quarterly],
      calendar,
      d('2027-01-01'),
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^任务monthly：2027年2月的第一次提醒（2027-01-\d\d）早于2027年1月的截止日期（2027-01-31）/,
    );
  });
});
