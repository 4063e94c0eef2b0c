/**
 * Rates and thresholds (issue 12.3): a unit reports its figures for the period (numerator and denominator, or a
 * count); figures at or above the threshold complete the period; figures below it keep it open, yellow before
 * due and red after, escalating like a missing report.
 */
import { Driver, at } from '../support/driver';
import { tracker } from '../support/trackers';

// 000 L103: 出庭應訴率不低於90%. Yearly figures, due at the end of January (assumption).
const courtRate = () =>
  tracker({
    obligation: {
      id: 'court-appearance-rate',
      period: 'year',
      due: { rule: 'next-month-end' },
      completion: 'rate',
      threshold: 90,
      measure: '行政机关负责人出庭应诉率',
    },
    reminders: [10, 3, 0],
  });
// 000 L99: 最少3人的行政復議辦案人員.
const handlers = () =>
  tracker({
    obligation: {
      id: 'reconsideration-handlers',
      period: 'year',
      due: { rule: 'period-end' },
      completion: 'count',
      threshold: 3,
    },
    reminders: [10, 0],
  });

describe('a rate against its threshold', () => {
  const start = at('2027-12-01');

  test('above the threshold: the report completes the period on time', () => {
    const d = Driver.start(courtRate(), start);
    expect(d.t.periods.map((p) => p.label)).toEqual(['2027']);
    expect(d.t.status(d.now)).toMatchObject({ completion: 'rate', threshold: 90, measure: '行政机关负责人出庭应诉率' });
    d.runUntil(at('2028-01-20'));
    d.act('report', { by: '市司法局', numerator: 19, denominator: 20, note: '全年应诉20件，负责人出庭19件' });
    expect(d.t.history).toEqual([expect.objectContaining({ period: '2027', outcome: 'on_time', due: '2028-01-31' })]);
    const events = d.t.takeEvents();
    expect(events.find((e) => e.kind === 'report')).toMatchObject({
      data: { numerator: 19, denominator: 20, value: 95, meets: true, threshold: 90 },
    });
    expect(events.find((e) => e.kind === 'outcome')).toMatchObject({
      data: { outcome: 'on_time', figures: expect.objectContaining({ value: 95, meets: true }) },
    });
  });

  test('exactly at the threshold meets it: 9 of 10 is 90%', () => {
    const d = Driver.start(courtRate(), start);
    d.act('report', { by: 'x', numerator: 9, denominator: 10 });
    expect(d.t.history[0]!.outcome).toBe('on_time');
  });

  test('below the threshold: yellow before due, reminders go on, red and escalated after due; better figures settle it late', () => {
    const d = Driver.start(courtRate(), start);
    expect(d.t.status(d.now).colour).toBe('green');
    d.act('report', { by: 'x', numerator: 17, denominator: 20 });
    expect(d.t.status(d.now).periods[0]).toMatchObject({
      colour: 'yellow',
      report: expect.objectContaining({ value: 85, meets: false }),
    });
    expect(d.t.history).toEqual([]);
    d.runUntil(at('2028-02-03'));
    // Spring Festival 2028 (25-28 January, provisional) pushes the reminders back.
    expect(d.names()).toEqual([
      '2027 2028-01-11 r10',
      '2027 2028-01-20 r3',
      '2027 2028-01-31 r0',
      '2027 2028-02-01 e1.0',
    ]);
    expect(d.t.status(d.now).colour).toBe('red');
    d.act('report', { by: 'x', numerator: 18, denominator: 20, note: '补充统计' });
    expect(d.t.history).toEqual([expect.objectContaining({ period: '2027', outcome: 'late' })]);
  });

  test('below the threshold until the ladder runs out: missed, with the last figures kept in the outcome', () => {
    const d = Driver.start(courtRate(), start);
    d.act('report', { by: 'x', numerator: 15, denominator: 20 });
    d.t.takeEvents();
    d.runUntil(at('2029-02-05'));
    expect(d.t.history[0]).toMatchObject({ period: '2027', outcome: 'missed' });
    const outcome = d.t.takeEvents().find((e) => e.kind === 'outcome' && e.period === '2027');
    expect(outcome).toMatchObject({
      data: {
        outcome: 'missed',
        figures: expect.objectContaining({ numerator: 15, denominator: 20, meets: false, threshold: 90 }),
      },
    });
    expect(d.sent.filter((n) => n.period === '2027' && n.level === 3).length).toBeGreaterThan(40);
  });

  test('what a rate refuses', () => {
    const d = Driver.start(courtRate(), start);
    d.refused('submit', { by: 'x', evidence: { text: 'a' } }, /以报送数据完成（duban figures）/);
    d.refused('record', { by: 'x', date: '2027-11-01', topic: 't' }, /以报送数据完成/);
    d.refused('report', { by: 'x', count: 3 }, /为比率指标：请填写分子和分母/);
    d.refused('report', { by: 'x', numerator: 21, denominator: 20 }, /分子21大于分母20/);
    d.refused('report', { by: 'x', numerator: -1, denominator: 20 }, /分子须为0至1000000之间的整数/);
    d.refused('report', { by: 'x', numerator: 1.5, denominator: 20 }, /分子须为0至1000000之间的整数/);
    d.refused('report', { by: 'x', denominator: 20 }, /分子须为0至1000000之间的整数/);
    // Nothing to count this period (no case at all): 0 of 0 meets the threshold.
    d.act('report', { by: 'x', numerator: 0, denominator: 0, note: '本年度无行政应诉案件' });
    expect(d.t.history[0]!.outcome).toBe('on_time');
  });

  test('with verification, figures at the threshold wait for the office; returned figures reopen the period', () => {
    const def = courtRate();
    def.obligation.verification = true;
    const d = Driver.start(def, start);
    d.act('report', { by: 'x', numerator: 19, denominator: 20 });
    expect(d.t.status(d.now).periods[0]).toMatchObject({ colour: 'done', verification: 'pending' });
    d.refused('report', { by: 'x', numerator: 20, denominator: 20 }, /已报送达标数据/);
    d.act('verify', { by: 'office', decision: 'return', reason: '数据与法院统计不符' });
    expect(d.t.status(d.now).periods[0]!.colour).toBe('green');
    d.act('report', { by: 'x', numerator: 18, denominator: 20 });
    d.act('verify', { by: 'office', decision: 'accept', rating: '合格' });
    expect(d.t.history[0]!.outcome).toBe('on_time');
  });
});

describe('a count against its threshold', () => {
  test('2 handlers is below 3: yellow; 3 completes the period', () => {
    const d = Driver.start(handlers(), at('2027-03-01'));
    d.refused('report', { by: 'x', numerator: 2, denominator: 3 }, /为数量指标：请填写数量/);
    d.act('report', { by: 'x', count: 2 });
    expect(d.t.status(d.now)).toMatchObject({ colour: 'yellow', threshold: 3 });
    d.act('report', { by: 'x', count: 3 });
    expect(d.t.history).toEqual([expect.objectContaining({ period: '2027', outcome: 'on_time' })]);
  });

  test('a single-submission obligation refuses figures', () => {
    const d = Driver.start(tracker(), at('2027-03-01'));
    d.refused('report', { by: 'x', count: 3 }, /以报送材料完成，无需报送数据/);
  });
});
