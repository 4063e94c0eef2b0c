/**
 * What every channel's transport has in common (docs/channels.md): one transport per kind of channel, each turning
 * a composed message into the provider's request and the provider's answer into one of three outcomes, the way
 * Healthchecks' transports do:
 * - `ok`: the provider took it;
 * - `transient`: try again later, no sooner than `retryAfterMs` (a "too fast" answer, a timeout, a 5xx);
 * - `permanent`: it will fail the same way until someone fixes the configuration (a bad key or signature, an
 *   unknown template): the channel is marked broken and the operator told.
 * A provider that answers HTTP 200 with a non-zero error code has refused: only its own success code is `ok`.
 */

export type SendAnswer =
  | { ok: true; response: string }
  | { ok: false; transient: true; retryAfterMs: number; response: string }
  /**
   * `channel`: the channel itself is broken (bad key, failed signature, unknown template) and stays so until fixed;
   * otherwise only this message was refused (one malformed mobile) and the channel goes on.
   */
  | { ok: false; transient: false; channel: boolean; response: string };

export { CHANNEL_KINDS } from '../domain/model';
export type { ChannelKind } from '../domain/model';

/** How long an HTTP request to a provider may take before it counts as a transient failure. */
export const HTTP_TIMEOUT_MS = 30_000;

export const ok = (response: string): SendAnswer => ({ ok: true, response });
export const transient = (response: string, retryAfterMs = 60_000): SendAnswer => ({
  ok: false,
  transient: true,
  retryAfterMs,
  response,
});
export const permanent = (response: string, channel = true): SendAnswer => ({
  ok: false,
  transient: false,
  channel,
  response,
});

/** A robot's limits as its provider documents them (docs/channels.md). */
export interface RobotLimits {
  perMinute: number;
  perSecond?: number;
}

export interface HttpAnswer {
  status: number;
  body: string;
  headers: Headers;
}

/**
 * One POST; a network error or a timeout is returned as `undefined` with its reason, for the caller to answer
 * `transient`. The URL carries secrets for some providers (企业微信's key): it is never put in the reason.
 */
export async function post(
  url: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs = HTTP_TIMEOUT_MS,
): Promise<HttpAnswer | { failed: string }> {
  try {
    const res = await fetch(url, { method: 'POST', body, headers, signal: AbortSignal.timeout(timeoutMs) });
    return { status: res.status, body: await res.text(), headers: res.headers };
  } catch (err) {
    const e = err as { name?: string; cause?: { code?: string }; message?: string };
    const reason = e.name === 'TimeoutError' ? `${timeoutMs} 毫秒内无应答` : (e.cause?.code ?? e.name ?? '网络错误');
    return { failed: `请求失败：${reason}` };
  }
}

/** The JSON of an answer, or undefined when it is not JSON (a proxy's HTML page). */
export function jsonOf(body: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(body);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** An HTTP status that is the provider's or a proxy's trouble rather than ours: worth trying again. */
export function transientStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** The answer to an HTTP exchange that did not reach the provider's JSON: a transient failure, or a permanent 4xx. */
export function unexpected(a: HttpAnswer, provider: string): SendAnswer {
  const text = `${provider} 返回 HTTP ${a.status}：${a.body.slice(0, 200)}`;
  return transientStatus(a.status) ? transient(text) : permanent(text);
}

/** UTF-8 length: providers count their limits in bytes. */
export function byteLength(s: string): number {
  return new TextEncoder().encode(s).length;
}
