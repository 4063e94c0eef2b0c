/**
 * The supervisor digest (DOMAIN.md 12): one workflow for the deployment that wakes at the notice hour of every
 * working day and sends each supervising office one email listing what newly turned red in its scope, instead of
 * one email per item. Level 2 and 3 notices are still sent item by item by the trackers.
 */
import { continueAsNew, proxyActivities, proxyLocalActivities, sleep } from '@temporalio/workflow';
import type { Activities } from '../activities';

export const DIGEST_WORKFLOW_ID = 'duban/digest';

export interface DigestInput {
  timeZone: string;
  /** Local hour of the digest, 0-23. */
  hour: number;
}

const { sendDigests } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes' },
});
const { nextDigestAt } = proxyLocalActivities<Activities>({ startToCloseTimeout: '30 seconds' });

/** Working days per run: a run's history stays small, and the loop continues as new. */
const DAYS_PER_RUN = 30;

export async function digestWorkflow(input: DigestInput): Promise<void> {
  for (let i = 0; i < DAYS_PER_RUN; i++) {
    const next = await nextDigestAt({ now: Date.now(), timeZone: input.timeZone, hour: input.hour });
    await sleep(Math.max(1, next.at - Date.now()));
    await sendDigests({ day: next.day, firedAt: Date.now() });
  }
  await continueAsNew<typeof digestWorkflow>(input);
}
