/**
 * duban's own metrics, recorded through the Temporal SDK's metric meter so that they appear in the worker's one
 * Prometheus endpoint (DUBAN_METRICS_ADDRESS) next to the SDK's own (docs/deployment.md, "Metrics and health").
 *
 * In an activity the meter is the activity context's (tagged with namespace, task queue and activity type); outside
 * one (a unit test calling the delivery code directly) nothing is recorded.
 */
import { Context } from '@temporalio/activity';
import type { MetricMeter } from '@temporalio/common';
import type { NoticeStage } from '../ledger';

/** What became of one send attempt of one message. */
export type NoticeResult = 'sent' | 'rejected' | 'superseded' | 'retried' | 'abandoned';

function activityMeter(): MetricMeter | undefined {
  try {
    return Context.current().metricMeter;
  } catch {
    return undefined;
  }
}

/**
 * Counts a message by stage (reminder, escalation, urge, digest, undeliverable), level (0 for reminders and digests) and
 * result: `duban_notices` for the final results, `duban_notice_retries` for transient failures Temporal retries.
 * Metrics never fail an activity: a broken meter is ignored.
 */
export function countNotice(stage: NoticeStage, level: number, result: NoticeResult): void {
  try {
    const meter = activityMeter();
    if (!meter) return;
    const tags = { stage, level: String(level) };
    if (result === 'retried')
      meter
        .createCounter('duban_notice_retries', undefined, 'send attempts that failed transiently and are retried')
        .add(1, tags);
    else if (result === 'abandoned')
      meter
        .createCounter(
          'duban_notice_abandoned',
          undefined,
          'send attempts that found their claim lost (paused past the lease) and sent nothing',
        )
        .add(1, tags);
    else
      meter
        .createCounter('duban_notices', undefined, 'messages by stage, level and result (sent, rejected, superseded)')
        .add(1, { ...tags, result });
  } catch {
    // metrics are an aid, never a reason to fail or retry a send
  }
}

/**
 * The dead-man's switch (DUBAN_HEARTBEAT_URL, e.g. a Healthchecks check): pinged after every digest run, so an
 * alert fires when the runs stop (docs/deployment.md). The URL is a secret: it is never logged, and a failed ping
 * only warns (a missed ping is what the switch is for). Returns whether the ping was answered with 2xx.
 */
export async function pingHeartbeat(
  url: string,
  body: string,
  warn: (message: string, meta: Record<string, unknown>) => void,
  timeoutMs = 10_000,
): Promise<boolean> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      body,
      signal: AbortSignal.timeout(timeoutMs),
      headers: { 'content-type': 'text/plain; charset=utf-8' },
    });
    if (res.ok) return true;
    warn('heartbeat ping refused (DUBAN_HEARTBEAT_URL)', { status: res.status });
  } catch (err) {
    const e = err as { name?: string; cause?: { code?: string } };
    warn('heartbeat ping failed (DUBAN_HEARTBEAT_URL)', { error: e.name, code: e.cause?.code });
  }
  return false;
}
