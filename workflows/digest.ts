/**
 * The supervisor digest (DOMAIN.md 12): each supervising office gets at most one email per working day listing
 * what newly turned red in its scope, instead of one email per item. Level 2 and 3 notices are still sent item by
 * item by the trackers.
 *
 * A Temporal Schedule per deployment (`duban/digest/<taskQueue>`, created by the workers: worker/main.ts) starts
 * `digestDayWorkflow` every day at the digest hour in the digest's time zone; the run decides whether that day is a
 * working day of the PRC calendar (which no schedule spec can express: 调休 make-up Saturdays, administrators'
 * calendar files), sends the day's digests if so, and pings the dead-man's switch either way. Why a Schedule:
 * docs/engine.md, "The supervisor digest".
 *
 * `digestWorkflow`, the sleeping loop that preceded the Schedule, stays for the runs already started: a worker of
 * this version ends it once the schedule exists, and until then both are harmless together (a digest's send key
 * names the office and the day).
 */
import { SearchAttributeType, defineSearchAttributeKey } from '@temporalio/common';
import { continueAsNew, proxyActivities, proxyLocalActivities, sleep, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';

/** The workflow id of the former sleeping loop (one per namespace). */
export const DIGEST_WORKFLOW_ID = 'duban/digest';

/** The Schedule of a deployment's digest, and the workflow id its runs start from. */
export const digestScheduleId = (taskQueue: string) => `duban/digest/${taskQueue}`;

export interface DigestInput {
  timeZone: string;
  /** Local hour of the digest, 0-23. */
  hour: number;
}

const { sendDigests, digestRan } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes' },
});
const { nextDigestAt, digestDay } = proxyLocalActivities<Activities>({ startToCloseTimeout: '30 seconds' });

const SCHEDULED_START = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

/**
 * One run of the digest schedule. The day is the one whose digest hour is the latest at or before the run's
 * scheduled time (a run caught up after an outage keeps its day; one triggered by hand before today's hour belongs
 * to the previous day). Items that turned red up to the run's start go out; an office whose digest of that day went
 * out already is passed over, so a manual trigger never sends twice and never strands an item.
 */
export async function digestDayWorkflow(
  input: DigestInput,
): Promise<{ day: string; working: boolean; offices: number }> {
  // The scheduled time names the day (it is the digest hour, or the moment of a manual trigger, in whole seconds);
  // the items are those red by the time the run started, which is never before it.
  const startedAt = Date.now();
  const scheduled = workflowInfo().typedSearchAttributes.get(SCHEDULED_START);
  const at = scheduled ? Math.min(scheduled.getTime(), startedAt) : startedAt;
  const { day, working } = await digestDay({ at, timeZone: input.timeZone, hour: input.hour });
  const sent = working ? await sendDigests({ day, firedAt: startedAt }) : [];
  await digestRan({ day, working, offices: sent.length });
  return { day, working, offices: sent.length };
}

/** Working days per run: a run's history stays small, and the loop continues as new. */
const DAYS_PER_RUN = 30;

/** The former sleeping loop (see above): kept so that runs started by earlier versions replay. */
export async function digestWorkflow(input: DigestInput): Promise<void> {
  for (let i = 0; i < DAYS_PER_RUN; i++) {
    const next = await nextDigestAt({ now: Date.now(), timeZone: input.timeZone, hour: input.hour });
    await sleep(Math.max(1, next.at - Date.now()));
    await sendDigests({ day: next.day, firedAt: Date.now() });
  }
  await continueAsNew<typeof digestWorkflow>(input);
}
