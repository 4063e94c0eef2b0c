/**
 * The tracker state machine driven the way the workflow drives it (workflows/tracker.ts), without a server: plan
 * through the real planner, deliver by recording a Message-ID, settle, sleep until the next wake. Shared by the
 * state machine's tests and those of the seeds' completion kinds and cadences.
 */
import { WorkingCalendar } from '../../domain/calendar';
import { parseDate } from '../../domain/dates';
import { nextUrgeAt, noticeKey, trackerPeriodPlan, type PlannedNotice } from '../../domain/planner';
import { Refusal, type ArrivingPeriod, type RequestName, type Requests } from '../../domain/requests';
import { TrackerState } from '../../domain/tracker-state';
import type { TrackerDefinition } from '../../domain/trackers';
import { formatLocal, zonedInstant } from '../../domain/zone';

export const calendar = new WorkingCalendar();
const zone = 'Asia/Shanghai';
export const at = (date: string, hour = 12) => zonedInstant(parseDate(date)!, zone, hour);

/** Drives a TrackerState as the workflow does; records what it sent. */
export class Driver {
  now: number;
  sent: PlannedNotice[] = [];
  /** For each notice sent, when it was meant to go out (the step's meantAt): the delay note's reference. */
  meant: number[] = [];
  /** Periods handed to other trackers (转办), as the workflow would start or signal them. */
  departures: ArrivingPeriod[] = [];
  constructor(
    readonly t: TrackerState,
    start: number,
    readonly catchUp: boolean,
  ) {
    this.now = start;
  }
  static start(
    def: TrackerDefinition,
    startAt: number,
    options: { firstPeriod?: string; catchUp?: boolean } = {},
  ): Driver {
    const d = new Driver(
      new TrackerState(def, undefined, { firstPeriod: options.firstPeriod }),
      startAt,
      options.catchUp ?? true,
    );
    d.settle();
    return d;
  }
  /** Performs every step due at `now`. */
  settle(): void {
    for (let i = 0; i < 10_000; i++) {
      const step = this.t.next(this.now);
      if (step.kind === 'plan') {
        try {
          const plan = trackerPeriodPlan(this.t.definition, calendar, {
            period: step.period,
            extendedDue: step.extendedDue,
            now: this.now,
            // As the workflow asks: the first period says how it catches up.
            ...(step.purpose === 'first' && this.catchUp ? { catchUp: true } : {}),
          });
          this.t.planned(step, plan, this.now, step.purpose === 'first' ? this.catchUp : true);
        } catch (err) {
          this.t.planningFailed((err as Error).message);
        }
      } else if (step.kind === 'deliver') {
        this.sent.push(step.notice);
        this.meant.push(step.meantAt);
        const nextUrge = step.notice.stage === 'urge' ? nextUrgeAt(calendar, zone, step.notice.at) : undefined;
        this.t.delivered(step, `<${noticeKey(step.notice)}@test>`, nextUrge);
      } else if (step.kind === 'settle') {
        this.t.settled(step);
      } else if (step.kind === 'arrival') {
        const moved = step.arrival.period as unknown as { plan: { period: string }; extendedDue?: string };
        const plan = trackerPeriodPlan(this.t.definition, calendar, {
          period: moved.plan.period,
          extendedDue: moved.extendedDue,
          now: this.now,
        });
        this.t.arrivalPlanned(step, plan, this.now);
      } else if (step.kind === 'move') {
        this.departures.push(step.arrival);
        this.t.moved(step);
      } else return;
    }
    throw new Error('the state machine did not come to rest');
  }
  /** Sleeps until `until`, waking wherever the state machine asks. */
  runUntil(until: number): void {
    for (let i = 0; i < 100_000; i++) {
      const step = this.t.next(this.now);
      if (step.kind === 'end') return;
      const wake = step.kind === 'wait' ? step.until : this.now;
      if (wake === undefined || wake > until) {
        this.now = until;
        this.settle();
        return;
      }
      this.now = Math.max(this.now, wake);
      this.settle();
    }
    throw new Error('runUntil did not finish');
  }
  act<K extends RequestName>(name: K, req: Requests[K]): void {
    this.t.check(name, req, this.now);
    this.t.apply(name, req, this.now);
    this.settle();
  }
  refused<K extends RequestName>(name: K, req: Requests[K], reason: RegExp): void {
    const before = JSON.stringify(this.t.snapshot());
    let error: unknown;
    try {
      this.t.check(name, req, this.now);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(Refusal);
    expect((error as Error).message).toMatch(reason);
    expect(JSON.stringify(this.t.snapshot())).toBe(before);
  }
  names(): string[] {
    return this.sent.map(
      (n) =>
        `${n.period} ${formatLocal(n.at, zone).slice(0, 10)} ${n.stage === 'reminder' ? `r${n.step}` : n.stage === 'urge' ? 'urge' : n.stage === 'raise' ? 'x' : `e${n.level}.${n.step}`}`,
    );
  }
}
