/**
 * Generic outgoing webhook: duban's events as versioned JSON (compose.ts WebhookEvent, docs/channels.md
 * "Webhook events"), for an office that connects its own OA, 浙政钉 or 政务微信 gateway. Each request is signed:
 * `X-Duban-Timestamp` (Unix seconds) and `X-Duban-Signature: v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>`;
 * a receiver recomputes it and refuses a timestamp outside its tolerance (five minutes), so a captured request
 * cannot be replayed later. `X-Duban-Event-Id` is stable across retries: a receiver drops a repeat by it.
 * 2xx is success; 429 and 5xx are retried (after Retry-After when given); another 4xx marks the channel broken.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { WebhookEvent } from './compose';
import { SendAnswer, ok, permanent, post, transient, transientStatus } from './transport';

export const WEBHOOK_TOLERANCE_SECONDS = 300;

export function webhookSignature(secret: string, timestampSeconds: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestampSeconds}.${body}`, 'utf8').digest('hex')}`;
}

export function webhookHeaders(secret: string, event: WebhookEvent, body: string, now: number): Record<string, string> {
  const ts = Math.floor(now / 1000);
  return {
    'content-type': 'application/json; charset=utf-8',
    'user-agent': 'duban-webhook/1',
    'x-duban-event': event.type,
    'x-duban-event-id': event.id,
    'x-duban-timestamp': String(ts),
    'x-duban-signature': webhookSignature(secret, ts, body),
  };
}

/**
 * What a receiver does (and the fake in channels/fakes/ does): the reason a request is refused, or undefined when
 * it is genuine and fresh.
 */
export function verifyWebhook(
  secret: string,
  headers: Record<string, string | string[] | undefined>,
  body: string,
  now: number,
  toleranceSeconds = WEBHOOK_TOLERANCE_SECONDS,
): string | undefined {
  const ts = Number(headers['x-duban-timestamp']);
  const given = String(headers['x-duban-signature'] ?? '');
  if (!Number.isInteger(ts)) return 'no X-Duban-Timestamp';
  if (Math.abs(now / 1000 - ts) > toleranceSeconds) return 'timestamp outside the tolerance: a replay or a wrong clock';
  const want = Buffer.from(webhookSignature(secret, ts, body));
  const got = Buffer.from(given);
  if (want.length !== got.length || !timingSafeEqual(want, got)) return 'signature does not match';
  return undefined;
}

/** Seconds or an HTTP date, as Retry-After says; a minute when absent. */
function retryAfterMs(value: string | null, now: number): number {
  if (!value) return 60_000;
  const s = Number(value);
  if (Number.isFinite(s)) return Math.max(1_000, s * 1000);
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(1_000, at - now) : 60_000;
}

export interface WebhookTarget {
  url: string;
  secret: string;
  now?: () => number;
}

export async function sendWebhook(t: WebhookTarget, event: WebhookEvent): Promise<SendAnswer> {
  const now = (t.now ?? Date.now)();
  const body = JSON.stringify(event);
  const a = await post(t.url, body, webhookHeaders(t.secret, event, body, now));
  if ('failed' in a) return transient(`webhook: ${a.failed}`);
  const text = `HTTP ${a.status}: ${a.body.slice(0, 200)}`;
  if (a.status >= 200 && a.status < 300) return ok(text);
  if (transientStatus(a.status)) return transient(text, retryAfterMs(a.headers.get('retry-after'), now));
  return permanent(text);
}
