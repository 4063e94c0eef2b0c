/**
 * A period's plan as it travels in Temporal payloads: the local activity's result that records it in history, and
 * the open periods a run carries into the next (continue-as-new). A yearly report's plan holds 57 notices, each
 * naming the same tracker, obligation, unit, period and due date and one of three pairs of recipient lists: about
 * 21 KB as plain JSON, decoded again every time an evicted tracker wakes and replays its run. Packed, each notice
 * is six numbers and the shared values are written once (about a fifth of the size); unpacked, notices share their
 * recipient lists, so a cached tracker holds less too.
 *
 * `unpackPlan` also takes a plan that was never packed (histories and runs from before packing), so packing needs
 * no patch: the workflow's commands do not change, only the payloads' shape.
 */
import type { PlannedNotice, Stage, TrackerPeriodPlan } from './planner';

/** A notice packed: its instant, local day, stage (an index into `stages`), level, step and recipients' index. */
type PackedNotice = [at: number, day: number, stage: number, level: number, step: number, recipients: number];

export interface PackedPeriodPlan extends Omit<TrackerPeriodPlan, 'notices'> {
  packed: {
    trackerId: string;
    obligation: string;
    unit: string;
    /** The due date in force every notice names (the plan's own `due`). */
    due: string;
    stages: Stage[];
    recipients: { to: string[]; cc: string[] }[];
    notices: PackedNotice[];
  };
}

/** A plan as stored: packed, or plain (written before packing, or one whose notices do not share their fields). */
export type StoredPlan = TrackerPeriodPlan | PackedPeriodPlan;

export function isPacked(plan: StoredPlan): plan is PackedPeriodPlan {
  return (plan as PackedPeriodPlan).packed !== undefined;
}

/**
 * The plan packed; a plan whose notices do not all name the same tracker, obligation, unit, period and due date (none
 * that the planner makes today) is kept as it is rather than packed wrongly.
 */
export function packPlan(plan: TrackerPeriodPlan): StoredPlan {
  const first = plan.notices[0];
  if (!first) return plan;
  const same = plan.notices.every(
    (n) =>
      n.trackerId === first.trackerId &&
      n.obligation === first.obligation &&
      n.unit === first.unit &&
      n.period === plan.period &&
      n.due === first.due,
  );
  if (!same) return plan;
  const stages: Stage[] = [];
  const recipients: { to: string[]; cc: string[] }[] = [];
  const recipientIndex = new Map<string, number>();
  const notices = plan.notices.map((n): PackedNotice => {
    let stage = stages.indexOf(n.stage);
    if (stage < 0) stage = stages.push(n.stage) - 1;
    const key = JSON.stringify([n.to, n.cc]);
    let r = recipientIndex.get(key);
    if (r === undefined) {
      r = recipients.push({ to: n.to, cc: n.cc }) - 1;
      recipientIndex.set(key, r);
    }
    return [n.at, n.day, stage, n.level, n.step, r];
  });
  const { notices: _plain, ...rest } = plan;
  return {
    ...rest,
    packed: {
      trackerId: first.trackerId,
      obligation: first.obligation,
      unit: first.unit,
      due: first.due,
      stages,
      recipients,
      notices,
    },
  };
}

/** The plan with its notices, whichever way it was stored. */
export function unpackPlan(plan: StoredPlan): TrackerPeriodPlan {
  if (!isPacked(plan)) return plan;
  const { packed, ...rest } = plan;
  const { trackerId, obligation, unit, due, stages, recipients } = packed;
  const notices = packed.notices.map(([at, day, stage, level, step, r]): PlannedNotice => ({
    at,
    day,
    trackerId,
    obligation,
    unit,
    period: plan.period,
    due,
    stage: stages[stage]!,
    level,
    step,
    to: recipients[r]!.to,
    cc: recipients[r]!.cc,
  }));
  return { ...rest, notices };
}
