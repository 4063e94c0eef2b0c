import { WorkingCalendar } from '../../domain/calendar';
import { trackerPeriodPlan } from '../../domain/planner';
import { isPacked, packPlan, unpackPlan } from '../../domain/plan-packing';
import { TrackerState } from '../../domain/tracker-state';
import { loadInputs } from '../../config/load';

const calendar = new WorkingCalendar();
const now = Date.UTC(2026, 11, 7);
const trackers = loadInputs({}).trackers;

describe('a plan packed for Temporal payloads', () => {
  test('every built-in tracker: unpacked, its plan is the planner’s, and packed it is much smaller', () => {
    let plain = 0;
    let packed = 0;
    for (const t of trackers) {
      let plan;
      try {
        plan = trackerPeriodPlan(t, calendar, { now, catchUp: true });
      } catch {
        continue; // an event-relative tracker waiting for its date has nothing to plan
      }
      const stored = packPlan(plan);
      expect(isPacked(stored)).toBe(plan.notices.length > 0);
      // Through JSON, as Temporal carries it.
      const back = unpackPlan(JSON.parse(JSON.stringify(stored)));
      expect(back).toEqual(plan);
      plain += JSON.stringify(plan).length;
      packed += JSON.stringify(stored).length;
    }
    expect(plain).toBeGreaterThan(0);
    expect(packed).toBeLessThan(plain / 3);
  });

  test('a plan that was never packed (histories from before packing) is taken as it is', () => {
    const plan = trackerPeriodPlan(trackers[0]!, calendar, { now });
    expect(unpackPlan(plan)).toBe(plan);
  });

  test('a plan whose notices do not share their tracker, period and due date is kept plain, not packed wrongly', () => {
    const plan = trackerPeriodPlan(trackers[0]!, calendar, { now });
    const odd = { ...plan, notices: plan.notices.map((n, i) => (i === 1 ? { ...n, due: '2099-01-01' } : n)) };
    expect(packPlan(odd)).toBe(odd);
  });

  test('a tracker carried across continue-as-new keeps its periods exactly, with their plans packed', () => {
    const t = trackers.find((x) => x.obligation.id === 'annual-report-dept')!;
    const state = new TrackerState(t, undefined);
    const plan = trackerPeriodPlan(t, calendar, { now, catchUp: true });
    const step = state.next(now);
    expect(step.kind).toBe('plan');
    if (step.kind !== 'plan') return;
    state.planned(step, plan, now, true);
    const carried = JSON.parse(JSON.stringify(state.snapshot()));
    expect(isPacked(carried.periods[0].plan)).toBe(true);
    const next = new TrackerState(t, carried);
    expect(next.periods[0]!.s).toEqual(state.periods[0]!.s);
    expect(next.status(now)).toEqual(state.status(now));
  });
});
