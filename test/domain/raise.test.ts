/**
 * 提级督办 (DOMAIN.md 26) in the planner and the state machine, on the official PRC working-day calendar: a period
 * still open N working days after its last escalation step goes up to the office above the unit's supervising
 * office, once, as a 督办单 of that office. The planner is the only source of when; the raise sits on the ladder
 * where it falls in time, a catch-up never passes it over, and it is never sent twice.
 */
import { WorkingCalendar } from '../../domain/calendar';
import {
  catchUpOnStart,
  ladderRank,
  noticeConcerns,
  noticeKey,
  planPeriod,
  trackerPeriodPlan,
  urgeNotice,
} from '../../domain/planner';
import { parsePeriod } from '../../domain/periods';
import type { TrackerDefinition, UnitRef } from '../../domain/trackers';
import { formatLocal } from '../../domain/zone';
import { TrackerState } from '../../domain/tracker-state';
import { Driver, at } from '../support/driver';
import { tracker } from '../support/trackers';

const calendar = new WorkingCalendar();
const local = (t: number) => formatLocal(t, 'Asia/Shanghai');
const contact = (unit: string, who: string) => ({ name: `${unit}${who}`, email: `${unit}.${who}@test.example.org` });
const upper: UnitRef = {
  id: 'region-office',
  name: '自治区依法治区办',
  head: contact('region', 'head'),
  liaison: contact('region', 'liaison'),
  deputies: [],
};
/** The annual report about 2025 (due 2026-02-28), raised 16 working days after its level-3 circular. */
const raising = (after = 16, extra: Partial<TrackerDefinition> = {}): TrackerDefinition => ({
  ...tracker(),
  raise: { after, office: upper },
  ...extra,
});

describe('the planner plans the raise', () => {
  test('16 working days after the circular of 13 March 2026: across 清明 (4-6 April) to Tuesday 7 April', () => {
    const plan = planPeriod(raising(), parsePeriod('year', '2025')!, calendar);
    const x = plan.notices.filter((n) => n.stage === 'raise');
    expect(x).toHaveLength(1);
    expect(local(x[0]!.at)).toBe('2026-04-07 09:00');
    // It follows the circular's fourth notice (3 April, repeat 3) and comes before the fifth (10 April).
    expect(x[0]).toMatchObject({ level: 3, step: 3 });
    const around = plan.notices.filter((n) => n.at >= at('2026-04-01') && n.at <= at('2026-04-11'));
    expect(around.map((n) => [local(n.at).slice(0, 10), n.stage, n.step])).toEqual([
      ['2026-04-03', 'escalation', 3],
      ['2026-04-07', 'raise', 3],
      ['2026-04-10', 'escalation', 4],
    ]);
    const [e33, raise, e34] = around;
    expect(ladderRank(e33!)).toBeLessThan(ladderRank(raise!));
    expect(ladderRank(raise!)).toBeLessThan(ladderRank(e34!));
    // One key a period and due date: a calendar change that moves it keeps it the same notice.
    expect(noticeKey(raise!)).toBe('annual-report/unit/2025/2026-02-28/x');
    // From the office above to the unit head; the supervising office and the office above in copy.
    expect(raise).toMatchObject({
      to: ['head@test.example.org'],
      cc: ['office-head@test.example.org', 'office-liaison@test.example.org', upper.head.email, upper.liaison.email],
    });
  });

  test('a short raise: 1 working day after the last step; none when the ladder ends first, or nothing to follow', () => {
    const next = planPeriod(raising(1), parsePeriod('year', '2025')!, calendar).notices.find(
      (n) => n.stage === 'raise',
    );
    expect(local(next!.at)).toBe('2026-03-16 09:00');
    expect(next).toMatchObject({ level: 3, step: 0 });
    // escalationEndsAfter: 20 days ends the ladder on 20 March, before the raise of 7 April.
    const ended = raising(16, { obligation: { ...tracker().obligation, escalationEndsAfter: 20 } });
    expect(planPeriod(ended, parsePeriod('year', '2025')!, calendar).notices.some((n) => n.stage === 'raise')).toBe(
      false,
    );
    expect(
      planPeriod(raising(1, { escalation: [] }), parsePeriod('year', '2025')!, calendar).notices.some(
        (n) => n.stage === 'raise',
      ),
    ).toBe(false);
    // Without `raise` the plan is what it always was.
    expect(planPeriod(tracker(), parsePeriod('year', '2025')!, calendar).notices.some((n) => n.stage === 'raise')).toBe(
      false,
    );
  });

  test('a catch-up after the raise day sends the raise beside the latest notice; the office above concerns it alone', () => {
    const plan = trackerPeriodPlan(raising(), calendar, { period: '2025', now: at('2026-04-11'), catchUp: true });
    const c = catchUpOnStart(plan.notices, calendar, 'Asia/Shanghai', at('2026-04-11'))!;
    expect(c.notice).toBe('annual-report/unit/2025/2026-02-28/e3.4');
    expect(c.passOver).not.toContain('annual-report/unit/2025/2026-02-28/x');
    expect(c.passOver).toContain('annual-report/unit/2025/2026-02-28/e3.3');
    const t = raising();
    const raise = plan.notices.find((n) => n.stage === 'raise')!;
    expect(noticeConcerns(t, raise, 'region-office')).toBe(true);
    expect(noticeConcerns(t, plan.notices[0]!, 'region-office')).toBe(false);
    expect(noticeConcerns(t, raise, 'unit')).toBe(true);
  });
});

describe('the state machine sends the raise once', () => {
  test('on its day, recorded with the office above; the circular repeats on; a 催办 after it copies that office', () => {
    const d = Driver.start(raising(), at('2026-01-02'));
    d.runUntil(at('2026-04-30'));
    expect(d.names().filter((n) => n.includes(' x'))).toEqual(['2025 2026-04-07 x']);
    expect(d.names().slice(-5)).toEqual([
      '2025 2026-04-03 e3.3',
      '2025 2026-04-07 x',
      '2025 2026-04-10 e3.4',
      '2025 2026-04-17 e3.5',
      '2025 2026-04-24 e3.6',
    ]);
    const status = d.t.status(d.now).periods.find((p) => p.period === '2025')!;
    expect(status.raised).toEqual({ at: at('2026-04-07', 9), office: 'region-office', officeName: '自治区依法治区办' });
    expect(d.t.boardPeriods(d.now).find((p) => p.period === '2025')).toMatchObject({ raisedTo: 'region-office' });

    // A 催办 of the raised period copies the office above; one of a period not raised does not.
    d.act('urge', { by: '王明', period: '2025' });
    const urge = d.sent[d.sent.length - 1]!;
    expect(urge.stage).toBe('urge');
    expect(urge.cc).toContain(upper.liaison.email);
    const plan = trackerPeriodPlan(raising(), calendar, { period: '2025', now: d.now });
    expect(urgeNotice(raising(), plan, d.now).cc).not.toContain(upper.liaison.email);

    // A new definition re-plans the period: the raise already sent is not sent again.
    d.act('updateDefinition', { by: 'admin', definition: raising(17) });
    d.runUntil(at('2026-05-10'));
    expect(d.names().filter((n) => n.includes(' x'))).toEqual(['2025 2026-04-07 x']);
  });

  test('registered after the raise day: the raise and the latest circular go out at once, the raise never overtaken', () => {
    const d = Driver.start(raising(), at('2026-04-11'), { firstPeriod: '2025' });
    expect(d.names()).toEqual(['2025 2026-04-07 x', '2025 2026-04-10 e3.4']);
    // A circular is overtaken only by the next circular (10 April), never by the raise between (7 April); the raise
    // itself, going to another office, is never overtaken.
    const t = new TrackerState(raising(), undefined, { firstPeriod: '2025' });
    const deliveries = (now: number) => {
      const seen: { stage: string; overtakenAt: string | null }[] = [];
      for (let i = 0; i < 20; i++) {
        const step = t.next(now);
        if (step.kind === 'plan')
          t.planned(step, trackerPeriodPlan(t.definition, calendar, { period: step.period, now }), now, true);
        else if (step.kind === 'deliver') {
          seen.push({
            stage: `${step.notice.stage}${step.notice.stage === 'escalation' ? `${step.notice.level}.${step.notice.step}` : ''}`,
            overtakenAt: step.overtakenAt === null ? null : local(step.overtakenAt),
          });
          t.delivered(step, `<${noticeKey(step.notice)}>`);
        } else return seen;
      }
      return seen;
    };
    expect(deliveries(at('2026-04-03', 10))).toEqual([{ stage: 'escalation3.3', overtakenAt: '2026-04-10 09:00' }]);
    expect(deliveries(at('2026-04-07', 10))).toEqual([{ stage: 'raise', overtakenAt: null }]);
  });
});
