/**
 * The bare Temporal peer of the storm bench (bench/storm.bench.ts): one workflow a notice that sleeps on a durable
 * timer until the instant, sends one message through one local activity and sleeps again (a tracker waits for its
 * next notice), nothing else: no ledger, no state machine, no board, no search attributes. What a notice costs on
 * Temporal itself, on the same server and machine, beside what it costs in duban.
 */
import { proxyLocalActivities, sleep } from '@temporalio/workflow';
import type { BareActivities } from './worker';

const { send } = proxyLocalActivities<BareActivities>({ startToCloseTimeout: '3 minutes' });

export async function bareNotice(i: number, at: number): Promise<void> {
  await sleep(Math.max(1, at - Date.now()));
  await send(i);
  // Sleeps on instead of closing, so that the server's figure is a notice's, not a workflow's close.
  await sleep('30 days');
}
