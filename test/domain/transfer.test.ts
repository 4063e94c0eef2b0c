/**
 * 退回 and 转办 in the state machine (DOMAIN.md 27), driven as the workflow drives it: the unit hands a period back,
 * the office refuses or moves it; the moved period arrives at the other unit's tracker planned for that unit, with
 * its 签收, progress, thread and ladder position, so nothing already sent is sent again and the ladder goes on.
 */
import { colours, statusLines } from '../../client/format';
import { Driver, at } from '../support/driver';
import { tracker } from '../support/trackers';
import { TrackerState } from '../../domain/tracker-state';
import { transferWords } from '../../domain/words';
import type { TrackerDefinition } from '../../domain/trackers';

const contact = (unit: string, who: string) => ({ name: `${unit}${who}`, email: `${unit}.${who}@test.example.org` });
const forUnit = (unit: string, name: string): TrackerDefinition => {
  const base = tracker();
  return {
    ...base,
    trackerId: `annual-report/${unit}`,
    unit: { id: unit, name, head: contact(unit, 'head'), liaison: contact(unit, 'liaison'), deputies: [] },
  };
};

describe('退回 and 转办', () => {
  const start = at('2026-01-02');
  const liaison = { by: '教育局联络员' };
  const office = { by: '王明' };

  test('handed back, refused, moved: the new unit goes on from the ladder step reached', () => {
    const from = forUnit('jyj', '市教育局');
    const to = forUnit('scjgj', '市市场监管局');
    const d = Driver.start(from, start);
    d.runUntil(at('2026-03-03'));
    expect(d.names().slice(-1)).toEqual(['2025 2026-03-02 e1.0']);
    d.act('acknowledge', liaison);
    d.act('progress', { ...liaison, note: '已转市场监管局' });

    d.refused('refuseHandBack', { ...office, reason: '属本单位职责' }, /^2025期没有待处理的退回$/);
    d.refused('handBack', { ...liaison, reason: '' }, /请填写退回理由/);
    expect(Object.keys(d.t.boardPeriods(d.now)[0]!)).not.toContain('handBackBy');
    d.act('handBack', { ...liaison, reason: '该事项由市场监管局负责', period: '2025' });
    // The board row says a 退回 waits (who, when) until the office answers; other rows carry nothing of it.
    expect(d.t.boardPeriods(d.now)[0]).toMatchObject({ period: '2025', handBackBy: '教育局联络员', handBackAt: d.now });
    d.refused('handBack', { ...liaison, reason: '再次', period: '2025' }, /由教育局联络员退回，等待督察单位处理/);
    d.act('refuseHandBack', { ...office, reason: '请先核实', period: '2025' });
    expect(d.t.status(d.now).periods[0]!.handBack).toBeUndefined();
    expect(Object.keys(d.t.boardPeriods(d.now)[0]!)).not.toContain('handBackBy');

    d.refused('transfer', { ...office, to: 'jyj', reason: '转', target: from, period: '2025' }, /不能转办给本单位/);
    d.refused(
      'transfer',
      { ...office, to: 'x', reason: '转', target: to, period: '2025' },
      /转办目标须为单位x的同一任务（annual-report）/,
    );
    d.act('transfer', { ...office, to: 'scjgj', reason: '经核实属市场监管局职责', target: to, period: '2025' });
    // The period left; the 2026 period stays with the unit (the catalog still assigns it).
    expect(d.t.periods.map((p) => p.label)).toEqual(['2026']);
    expect(d.departures).toHaveLength(1);
    const recorded = d.t.takeEvents();
    const events = recorded.map((e) => e.kind);
    // The record of the unit it left names where it went, in the words the page and the CLI show.
    const out = recorded.find((e) => e.kind === 'transferred_out')!;
    expect(transferWords(out.kind, out.data)).toBe('转办给市市场监管局');
    expect(events).toEqual(
      expect.arrayContaining(['handed_back', 'hand_back_refused', 'transfer_started', 'transferred_out']),
    );

    // The new unit's tracker, started with the period (as the workflow's startChild does).
    const t = new TrackerState(to, undefined);
    t.arrive(d.departures[0]!);
    t.arrive(d.departures[0]!); // a repeated hand-over changes nothing
    const n = new Driver(t, d.now, true);
    n.settle();
    expect(t.periods.map((p) => p.label)).toEqual(['2025', '2026']);
    const moved = t.status(n.now).periods[0]!;
    expect(moved).toMatchObject({
      period: '2025',
      movedFrom: { unit: 'jyj', unitName: '市教育局' },
      acknowledged: { by: '教育局联络员' },
      progressCount: 1,
      lastNotice: { stage: 'escalation', level: 1 },
      nextNotice: { stage: 'escalation', level: 2 },
    });
    // Nothing sent at the move; level 2 (5 working days after due) goes to the new unit's head.
    expect(n.sent).toEqual([]);
    n.runUntil(at('2026-03-07'));
    expect(n.names()).toEqual(['2025 2026-03-06 e2.0']);
    expect(n.sent[0]!.to).toContain('scjgj.head@test.example.org');
    expect(n.sent[0]!.to).not.toContain('jyj.head@test.example.org');
    const arrived = t.takeEvents().filter((e) => e.kind === 'transferred_in');
    expect(arrived).toEqual([
      expect.objectContaining({ period: '2025', data: expect.objectContaining({ from: 'jyj' }) }),
    ]);
    expect(transferWords(arrived[0]!.kind, arrived[0]!.data)).toBe('由市教育局转来');
    expect(statusLines(t.status(n.now), colours(false))[1]).toContain('，由市教育局转来');
    // The first unit sends nothing more for 2025.
    d.runUntil(at('2026-03-07'));
    expect(d.names().filter((x) => x.startsWith('2025') && x > '2025 2026-03-03')).toEqual([]);
  });

  test('a period moving takes no request; a submitted one cannot move', () => {
    const from = forUnit('jyj', '市教育局');
    const to = forUnit('scjgj', '市市场监管局');
    const d = Driver.start(from, start);
    d.runUntil(at('2026-03-03'));
    d.t.check('transfer', { ...office, to: 'scjgj', reason: '转', target: to }, d.now);
    d.t.apply('transfer', { ...office, to: 'scjgj', reason: '转', target: to }, d.now);
    d.refused('acknowledge', liaison, /2025年度正在转办给单位scjgj/);
    d.settle();
    const e = Driver.start(from, start);
    e.runUntil(at('2026-02-20'));
    e.act('submit', { ...liaison, evidence: { text: '已报送' } });
    e.refused('transfer', { ...office, to: 'scjgj', reason: '转', target: to, period: '2025' }, /已结束（按时完成）/);
  });

  test('moved to a tracker holding the same period: merged, its sent notices counted once', () => {
    const from = forUnit('fgw', '市发展改革委');
    const to = forUnit('tjj', '市统计局');
    const d = Driver.start(from, start);
    const n = Driver.start(to, start);
    d.runUntil(at('2026-03-03'));
    n.runUntil(at('2026-03-03'));
    expect(n.names().slice(-1)).toEqual(['2025 2026-03-02 e1.0']);
    d.act('acknowledge', liaison);
    d.act('transfer', { ...office, to: 'tjj', reason: '统一报送', target: to, period: '2025' });
    n.t.arrive(d.departures[0]!);
    n.settle();
    const sentBefore = n.sent.length;
    expect(n.t.periods.map((p) => p.label)).toEqual(['2025', '2026']);
    expect(n.t.status(n.now).periods[0]).toMatchObject({
      movedFrom: { unit: 'fgw' },
      acknowledged: { by: '教育局联络员' },
    });
    n.runUntil(at('2026-03-07'));
    expect(n.names().slice(sentBefore)).toEqual(['2025 2026-03-06 e2.0']);
  });
});

describe('duban show and status name the moves', () => {
  test('退回 waiting, 转办 under way, moved here', () => {
    const from = forUnit('jyj', '市教育局');
    const d = Driver.start(from, at('2026-01-02'));
    d.runUntil(at('2026-03-03'));
    d.act('handBack', { by: '教育局联络员', reason: '不属本单位', period: '2025' });
    const text = statusLines(d.t.status(d.now), colours(false)).join('\n');
    expect(text).toContain('待处理的退回：教育局联络员于2026-03-03退回，理由：不属本单位');
    d.t.apply('transfer', { by: '王明', to: 'scjgj', reason: '转', target: forUnit('scjgj', '市市场监管局') }, d.now);
    expect(statusLines(d.t.status(d.now), colours(false)).join('\n')).toContain('正在转办给scjgj');
  });
});
