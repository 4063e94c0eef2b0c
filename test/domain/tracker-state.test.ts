/**
 * The tracker's state machine without a server: the driver (test/support/driver.ts) performs its steps the way the
 * workflow does (plan through the real planner, deliver by recording a Message-ID, settle, sleep until the next
 * wake), so every rule is tested on its own, in milliseconds.
 */
import fc from 'fast-check';
import { formatDate, parseDate } from '../../domain/dates';
import { noticeKey, planWindow, trackerPeriodPlan } from '../../domain/planner';
import { localDay, zonedInstant } from '../../domain/zone';
import { Driver, at, calendar } from '../support/driver';
import { tracker } from '../support/trackers';

const zone = 'Asia/Shanghai';

const annual = (overrides: Parameters<typeof tracker>[0] = {}) => tracker(overrides);
const monthly = (reminders: number[]) =>
  tracker({ obligation: { id: 'monthly-report', period: 'month', due: { rule: 'period-end' } }, reminders });
const quota = () =>
  tracker({
    obligation: { id: 'lectures', period: 'year', due: { rule: 'period-end' }, completion: 'quota', quota: 2 },
    reminders: [10, 0],
  });

describe('a period from registration to its outcome', () => {
  // Registered on 2 January 2026: the 2025 report is the first period not yet due (28 February 2026).
  const start = at('2026-01-02');

  test('on time: a submission before due stops the ladder and settles the period', () => {
    const d = Driver.start(annual(), start);
    // The 2025 report (due 28 February 2026) and the 2026 period, which began on 1 January.
    expect(d.t.periods.map((p) => p.label)).toEqual(['2025', '2026']);
    d.runUntil(at('2026-02-26'));
    expect(d.names()).toEqual(['2025 2026-02-09 r10', '2025 2026-02-25 r3']);
    d.act('submit', { by: '黄丽娟', evidence: { documentNumber: 'X司发〔2026〕3号' } });
    expect(d.t.history).toEqual([expect.objectContaining({ period: '2025', outcome: 'on_time' })]);
    // The next period (2026) is held at once, green, with nothing sent until it opens.
    expect(d.t.periods.map((p) => p.label)).toEqual(['2026']);
    expect(d.t.status(d.now).colour).toBe('green');
    d.runUntil(at('2026-12-31'));
    expect(d.names()).toHaveLength(2);
  });

  test('late: submitted after due, after level 1', () => {
    const d = Driver.start(annual(), start);
    d.runUntil(at('2026-03-03'));
    expect(d.names().slice(-1)).toEqual(['2025 2026-03-02 e1.0']);
    expect(d.t.status(d.now).colour).toBe('red');
    d.act('submit', { by: 'x', evidence: { text: '已报送' } });
    expect(d.t.history[0]!.outcome).toBe('late');
  });

  test('on time with an extension: approved before due, submitted after the original due and before the new one', () => {
    const d = Driver.start(annual(), start);
    d.runUntil(at('2026-02-20'));
    d.refused('decideExtension', { by: 'office', approve: true }, /没有待审批的延期申请/);
    d.refused('requestExtension', { by: 'x', newDue: '2026-02-27', reason: 'r' }, /不晚于现截止日期2026-02-28/);
    d.refused('requestExtension', { by: 'x', newDue: '2027-03-01', reason: 'r' }, /最多延期至2027-02-27/);
    d.act('requestExtension', { by: 'x', newDue: '2026-03-31', reason: '需等待统计数据' });
    d.refused('requestExtension', { by: 'x', newDue: '2026-03-30', reason: 'r' }, /的申请正待审批/);
    d.act('decideExtension', { by: 'office', approve: true });
    expect(d.t.status(d.now).periods[0]).toMatchObject({ due: '2026-03-31', originalDue: '2026-02-28' });
    d.runUntil(at('2026-03-20'));
    // Reminders count back from the new date; nothing was escalated in March.
    expect(d.names().filter((n) => n.includes(' e'))).toEqual([]);
    d.act('submit', { by: 'x', evidence: { link: 'https://example.org/report' } });
    expect(d.t.history[0]!.outcome).toBe('on_time_extended');
  });

  test('an extension is refused after due', () => {
    const d = Driver.start(annual(), start);
    d.runUntil(at('2026-03-01'));
    d.refused('requestExtension', { by: 'x', newDue: '2026-03-31', reason: 'r' }, /已过截止时间/);
  });

  test('missed: the ladder runs until the next period is itself overdue, then the period is missed', () => {
    const d = Driver.start(annual(), start);
    d.runUntil(at('2027-03-05'));
    expect(d.t.history.map((h) => [h.period, h.outcome])).toEqual([['2025', 'missed']]);
    // The 2025 report escalated all year, weekly at level 3, while the 2026 report ran its own ladder.
    const levels = d.sent.filter((n) => n.period === '2025').map((n) => n.level);
    expect(levels.filter((l) => l === 3).length).toBeGreaterThan(40);
    expect(d.sent.some((n) => n.period === '2026' && n.level === 1)).toBe(true);
    // The 2026 report, overdue, and the 2027 period, which began on 1 January 2027.
    expect(d.t.periods.map((p) => p.label)).toEqual(['2026', '2027']);
  });

  test('waived: no more notices, outcome waived', () => {
    const d = Driver.start(annual(), start);
    d.runUntil(at('2026-02-10'));
    d.refused('waive', { by: 'office', reason: '' }, /理由为必填项/);
    d.act('waive', { by: 'office', reason: '报告涉密，不予公开' });
    expect(d.t.history[0]!.outcome).toBe('waived');
    d.refused('submit', { by: 'x', evidence: { text: 'a' }, period: '2025' }, /2025年度已结束（已免除）/);
  });

  test('verification: returned work reopens the period, accepted work settles it by the submission time', () => {
    const d = Driver.start(annual({ obligation: { verification: true } }), start);
    d.runUntil(at('2026-02-20'));
    d.refused('verify', { by: 'office', decision: 'accept', rating: '良好' }, /无可核实/);
    d.act('submit', { by: 'x', evidence: { text: '报告' } });
    expect(d.t.status(d.now).periods[0]!.verification).toBe('pending');
    d.refused('submit', { by: 'x', evidence: { text: 'again' } }, /已报送/);
    d.refused('verify', { by: 'office', decision: 'accept' } as never, /须评定等次/);
    d.refused('verify', { by: 'office', decision: 'return' }, /退回理由为必填项/);
    d.act('verify', { by: 'office', decision: 'return', reason: '缺少佐证材料' });
    expect(d.t.status(d.now).periods[0]).toMatchObject({ verification: 'returned', colour: 'green' });
    d.runUntil(at('2026-02-27'));
    d.act('submit', { by: 'x', evidence: { text: '补充后的报告' } });
    d.runUntil(at('2026-03-10'));
    // Work waiting for verification gets no escalation.
    expect(d.names().filter((n) => n.includes(' e'))).toEqual([]);
    d.act('verify', { by: 'office', decision: 'accept', rating: '良好' });
    expect(d.t.history[0]!.outcome).toBe('on_time');
  });

  test('a quota completes with its N-th event, judged by the events dates', () => {
    const d = Driver.start(quota(), at('2026-06-01'));
    d.refused('submit', { by: 'x', evidence: { text: 'a' } }, /以登记活动完成/);
    d.refused('record', { by: 'x', date: '2026-13-01', topic: 't' }, /不是有效日期/);
    d.refused('record', { by: 'x', date: '2026-06-02', topic: 't' }, /尚未到来/);
    d.refused('record', { by: 'x', date: '2026-05-20', topic: '' }, /主题为必填项/);
    d.act('record', { by: 'x', date: '2026-05-20', topic: '行政处罚法' });
    expect(d.t.status(d.now).periods[0]!.recorded).toBe(1);
    d.runUntil(at('2027-01-05'));
    d.act('record', { by: 'x', date: '2026-12-30', topic: '民法典' });
    // Recorded after due, held before it: on time.
    expect(d.t.history[0]).toMatchObject({ period: '2026', outcome: 'on_time' });
  });

  test('pause holds every notice; resume sends only the latest one already due', () => {
    const d = Driver.start(annual(), start);
    d.runUntil(at('2026-02-01'));
    d.refused('resume', { by: 'admin' }, /督办任务未暂停/);
    d.act('pause', { by: 'admin' });
    d.refused('pause', { by: 'admin' }, /督办任务已暂停/);
    d.runUntil(at('2026-03-03'));
    expect(d.sent).toHaveLength(0);
    d.act('resume', { by: 'admin' });
    expect(d.names()).toEqual(['2025 2026-03-02 e1.0']);
  });

  test('retire ends the tracker and refuses what follows', () => {
    const d = Driver.start(annual(), start);
    d.refused('retire', { by: 'admin', reason: ' ' }, /理由为必填项/);
    d.act('retire', { by: 'admin', reason: '机构改革' });
    expect(d.t.next(d.now).kind).toBe('end');
    d.refused('submit', { by: 'x', evidence: { text: 'a' } }, /已停用/);
  });

  test('requests need who acts, and refuse bad addresses and unknown periods', () => {
    const d = Driver.start(annual(), start);
    d.refused('acknowledge', { by: '' }, /办理人为必填项/);
    d.refused('acknowledge', { by: 'x', email: 'not an address' }, /不是有效的电子邮箱地址/);
    d.refused('acknowledge', { by: 'x', period: '2031' }, /2031年度未开放；开放中的：2025年度/);
    d.refused('submit', { by: 'x', evidence: {} }, /须提供佐证材料/);
    d.refused('submit', { by: 'x', evidence: { link: 'ftp://x' } }, /不是 http\(s\) 网址/);
    d.refused(
      'submit',
      { by: 'x', evidence: { files: [{ name: 'a.pdf', type: 'application/pdf', size: 10, sha256: 'nothex' }] } },
      /缺少 SHA-256/,
    );
  });
});

describe('签收 and 反馈 (DOMAIN.md 20)', () => {
  test('acknowledgement and progress are recorded with who and when, and reminders continue', () => {
    const d = Driver.start(annual(), at('2026-01-02'));
    d.runUntil(at('2026-02-10'));
    d.act('acknowledge', { by: '黄丽娟', email: 'huang@example.org' });
    d.refused('acknowledge', { by: '黄丽娟' }, /已由黄丽娟 <huang@example.org>签收/);
    d.refused('progress', { by: 'x', note: '' }, /进展情况为必填项/);
    d.refused('progress', { by: 'x', note: 'a\u0007b' }, /含有控制字符/);
    d.act('progress', { by: '黄丽娟', note: '初稿已完成', evidence: { link: 'https://example.org/draft' } });
    const p = d.t.status(d.now).periods[0]!;
    expect(p.acknowledged).toEqual({ by: '黄丽娟 <huang@example.org>', at: d.now });
    expect(p.progress).toEqual([{ by: '黄丽娟', at: d.now, note: '初稿已完成' }]);
    expect(d.t.takeEvents().map((e) => [e.kind, e.actor])).toEqual(
      expect.arrayContaining([
        ['acknowledged', '黄丽娟 <huang@example.org>'],
        ['progress', '黄丽娟'],
      ]),
    );
    expect(d.t.boardPeriods(d.now)[0]).toMatchObject({
      acknowledgedBy: '黄丽娟 <huang@example.org>',
      progressCount: 1,
    });
    d.runUntil(at('2026-02-28'));
    expect(d.names()).toContain('2025 2026-02-25 r3');
  });
});

describe('overlapping periods of a monthly obligation (DOMAIN.md 19)', () => {
  test('reminders [20, 10, 3, 1, 0]: every month escalates to levels 2 and 3 while the next month runs', () => {
    const d = Driver.start(monthly([20, 10, 3, 1, 0]), at('2027-01-04'));
    d.runUntil(at('2027-12-31'));
    const escalated = (level: number) => new Set(d.sent.filter((n) => n.level === level).map((n) => n.period));
    // Before open periods, level 1 was reached in 5 months of 12 and levels 2 and 3 never.
    for (const month of ['2027-01', '2027-02', '2027-03', '2027-06', '2027-09', '2027-10']) {
      expect(escalated(1)).toContain(month);
      expect(escalated(2)).toContain(month);
      expect(escalated(3)).toContain(month);
    }
    // Each month's ladder ends when the next month is due; then it is missed.
    expect(d.t.history.filter((h) => h.outcome === 'missed').length).toBeGreaterThanOrEqual(10);
  });

  test('[25, 0] escalates too, and requests go to the period they name, or the oldest open one', () => {
    const d = Driver.start(monthly([25, 0]), at('2027-02-01'));
    d.runUntil(at('2027-03-10'));
    expect(d.t.periods.map((p) => p.label)).toEqual(['2027-02', '2027-03']);
    expect(d.sent.some((n) => n.period === '2027-02' && n.stage === 'escalation')).toBe(true);
    d.act('submit', { by: 'x', evidence: { text: '三月' }, period: '2027-03' });
    expect(d.t.history).toEqual([expect.objectContaining({ period: '2027-03', outcome: 'on_time' })]);
    // April is held from its first reminder on; February stays open, overdue.
    expect(d.t.periods.map((p) => p.label)).toEqual(['2027-02']);
    d.act('submit', { by: 'x', evidence: { text: '二月' } });
    expect(d.t.history.map((h) => [h.period, h.outcome])).toEqual([
      ['2027-03', 'on_time'],
      ['2027-02', 'late'],
    ]);
  });

  test('a quota event goes to the open period holding its date', () => {
    const t = tracker({
      obligation: { id: 'study', period: 'month', due: { rule: 'period-end' }, completion: 'quota', quota: 1 },
      reminders: [25, 0],
    });
    const d = Driver.start(t, at('2027-02-01'));
    d.runUntil(at('2027-03-10'));
    d.act('record', { by: 'x', date: '2027-02-26', topic: '二月学习' });
    expect(d.t.history).toEqual([expect.objectContaining({ period: '2027-02', outcome: 'on_time' })]);
  });
});

describe('a definition that cannot be planned', () => {
  test('shows as broken with the reason, refuses work, and a corrected definition repairs it', () => {
    const bad = annual({ reminders: [1_000_000] });
    const d = Driver.start(bad, at('2026-01-02'));
    const s = d.t.status(d.now);
    expect(s.colour).toBe('broken');
    expect(s.problem).toMatch(/一步为1000000个工作日/);
    expect(d.t.boardTracker(d.now)).toMatchObject({ colour: 'broken', problem: s.problem });
    d.refused('submit', { by: 'x', evidence: { text: 'a' } }, /无法排期：.*duban register/);
    d.act('updateDefinition', { by: 'admin', definition: annual() });
    expect(d.t.status(d.now)).toMatchObject({ colour: 'green', problem: undefined });
    expect(d.t.periods.map((p) => p.label)).toEqual(['2025', '2026']);
  });
});

describe('property: with nobody answering, the state machine sends exactly what the planner lists', () => {
  const kinds = ['year', 'half-year', 'quarter', 'month'] as const;
  test('for random ladders and due rules over a year', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...kinds),
        fc.uniqueArray(fc.integer({ min: 0, max: 30 }), { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 0, max: 300 }),
        (kind, reminders, lag, startOffset) => {
          const t = tracker({
            obligation: {
              id: 'p',
              period: kind,
              due: lag === 0 ? { rule: 'period-end' } : { rule: 'after-period-end', days: lag },
            },
            reminders: [...reminders].sort((a, b) => b - a),
          });
          const startDay = parseDate('2026-01-05')! + startOffset;
          const start = zonedInstant(startDay, zone, 0);
          const d = Driver.start(t, start, { catchUp: false });
          const end = zonedInstant(startDay + 366, zone, 0);
          d.runUntil(end);
          // The plan over the same window, for the periods the tracker held (from its first period on).
          const first = [
            ...d.t.history.map((h) => h.period),
            ...d.t.periods.map((p) => p.label),
            ...d.sent.map((n) => n.period),
          ].sort()[0]!;
          const expected = planWindow([t], calendar, { from: startDay, to: localDay(end - 1, zone) })
            .notices.filter((n) => n.at > start && n.at < end && n.period >= first)
            .map(noticeKey);
          expect(d.sent.filter((n) => n.at > start).map(noticeKey)).toEqual(expected);
        },
      ),
      { numRuns: 60 },
    );
  });
});

test('formatDate sanity for the driver', () => {
  expect(formatDate(parseDate('2026-02-28')!)).toBe('2026-02-28');
});

describe('found in review', () => {
  test("this year's events can be recorded while last year's quota is still open", () => {
    const t = tracker({
      obligation: { id: 'lectures', period: 'year', due: { rule: 'period-end' }, completion: 'quota', quota: 4 },
      reminders: [10, 0],
    });
    const d = Driver.start(t, at('2026-03-02'));
    d.act('record', { by: 'x', date: '2026-03-01', topic: '一' });
    d.runUntil(at('2027-03-10'));
    expect(d.t.periods.map((p) => p.label)).toEqual(['2026', '2027']);
    // The date decides the period; naming it works too.
    d.act('record', { by: 'x', date: '2027-03-09', topic: '二' });
    d.act('record', { by: 'x', date: '2027-03-09', topic: '三', period: '2027' });
    expect(d.t.status(d.now).periods.map((p) => [p.period, p.recorded])).toEqual([
      ['2026', 1],
      ['2027', 2],
    ]);
  });

  test('a broken definition pushed to a running tracker answers at once, with the problem', () => {
    const d = Driver.start(annual(), at('2026-01-02'));
    d.act('updateDefinition', { by: 'admin', definition: annual({ reminders: [1_000_000] }) });
    expect(d.t.replanning).toBe(false);
    expect(d.t.status(d.now).problem).toMatch(/一步为1000000个工作日/);
  });

  test('a request after the ladder ran out is refused, even before the period is recorded as missed', () => {
    const d = Driver.start(annual(), at('2026-01-02'));
    d.runUntil(at('2027-02-20'));
    const endsAt = d.t.periods[0]!.plan.endsAt;
    d.now = endsAt + 60_000; // the timer has not fired yet
    d.refused('submit', { by: 'x', evidence: { text: '迟交' }, period: '2025' }, /2025年度已结束：督办已到期/);
  });

  test('a tracker whose last period was missed is red, not done', () => {
    const t = tracker({
      obligation: { id: 'one-off', period: 'once', due: { rule: 'fixed-date', date: '2026-03-31' } },
    });
    const d = Driver.start(t, at('2026-01-05'));
    d.runUntil(at('2027-06-01'));
    expect(d.t.history.map((h) => h.outcome)).toEqual(['missed']);
    expect(d.t.colour(d.now)).toBe('red');
  });

  test('a definition that changes while a plan is being made is planned again with the new one', () => {
    const d = Driver.start(annual(), at('2026-01-02'));
    d.runUntil(at('2026-02-20'));
    d.act('requestExtension', { by: 'x', newDue: '2026-03-31', reason: '需等待统计数据' });
    d.t.check('decideExtension', { by: 'office', approve: true }, d.now);
    d.t.apply('decideExtension', { by: 'office', approve: true }, d.now);
    const step = d.t.next(d.now);
    expect(step).toMatchObject({ kind: 'plan', purpose: 'replan', period: '2025' });
    // The plan is being made with the old definition when the new one arrives.
    const plan = trackerPeriodPlan(d.t.definition, calendar, { period: '2025', extendedDue: '2026-03-31', now: d.now });
    d.t.apply('updateDefinition', { by: 'admin', definition: annual({ reminders: [5, 2] }) }, d.now);
    d.t.planned(step as Extract<typeof step, { kind: 'plan' }>, plan, d.now);
    expect(d.t.replanning).toBe(true);
    d.settle();
    expect(d.t.periods[0]!.plan.notices.filter((n) => n.stage === 'reminder').map((n) => n.step)).toEqual([5, 2]);
  });
});
