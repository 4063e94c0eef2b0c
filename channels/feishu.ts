/**
 * 飞书 custom bot (自定义机器人), open.feishu.cn/document/client-docs/bot-v3/add-custom-bot: POST JSON to
 * `/open-apis/bot/v2/hook/{hook id}`. Signature verification (签名校验): the timestamp in seconds, HMAC-SHA256
 * keyed by `timestamp + "\n" + secret` over an empty message, Base64; `timestamp` and `sign` go in the body, and
 * the timestamp must be within an hour. Answers carry `code` (0: success); 19021 a failed signature, 19022 an IP
 * not allowed, 19024 a missing keyword; 9499 (HTTP 400) over the bot's limits of 100 a minute and 5 a second; 11232
 * a system-wide frequency limit at peak hours. The body may be at most 20 KB. Rich text (`post`) carries links.
 */
import { createHmac } from 'node:crypto';
import { RobotMessage, toFeishuPost } from './compose';
import { RobotLimits, SendAnswer, byteLength, jsonOf, ok, permanent, post, transient, unexpected } from './transport';

export const FEISHU_URL = 'https://open.feishu.cn/open-apis/bot/v2/hook';
export const FEISHU_MAX_BYTES = 20 * 1024;
export const FEISHU_LIMITS: RobotLimits = { perMinute: 100, perSecond: 5 };
export const FEISHU_TOO_FAST = 9499;
export const FEISHU_BAD_SIGNATURE = 19021;

/** 签名校验: Base64 of HMAC-SHA256 keyed by `${timestampSeconds}\n${secret}` over nothing. */
export function feishuSign(secret: string, timestampSeconds: number): string {
  return createHmac('sha256', `${timestampSeconds}\n${secret}`).update('').digest('base64');
}

export function feishuBody(m: RobotMessage, signed?: { timestamp: number; sign: string }): Record<string, unknown> {
  return {
    ...(signed ? { timestamp: String(signed.timestamp), sign: signed.sign } : {}),
    msg_type: 'post',
    content: { post: { zh_cn: toFeishuPost(m) } },
  };
}

export function feishuFits(m: RobotMessage): boolean {
  // The signature's fields add under 100 bytes.
  return byteLength(JSON.stringify(feishuBody(m))) + 100 <= FEISHU_MAX_BYTES;
}

export function feishuAnswer(status: number, body: string): SendAnswer {
  const j = jsonOf(body);
  // Older answers carry StatusCode beside code.
  const code = typeof j?.code === 'number' ? j.code : typeof j?.StatusCode === 'number' ? j.StatusCode : undefined;
  if (code === undefined) return unexpected({ status, body, headers: new Headers() }, '飞书');
  const text = `code ${code}: ${String(j?.msg ?? j?.StatusMessage ?? '')}`.slice(0, 300);
  if (code === 0) return ok(text);
  if (code === FEISHU_TOO_FAST || code === 11232) return transient(text, 60_000);
  // A message over the robot's size: this message alone is refused (merging keeps messages under it), the robot
  // itself is fine and the channel goes on.
  if (code === 19002) return permanent(text, false);
  return permanent(text);
}

export interface FeishuTarget {
  /** The hook id, the last part of the webhook address. */
  key: string;
  secret?: string;
  url?: string;
  now?: () => number;
}

export async function sendFeishu(t: FeishuTarget, m: RobotMessage): Promise<SendAnswer> {
  const ts = Math.floor((t.now ?? Date.now)() / 1000);
  const signed = t.secret ? { timestamp: ts, sign: feishuSign(t.secret, ts) } : undefined;
  const url = `${t.url ?? FEISHU_URL}/${encodeURIComponent(t.key)}`;
  const a = await post(url, JSON.stringify(feishuBody(m, signed)), { 'content-type': 'application/json' });
  if ('failed' in a) return transient(`飞书: ${a.failed}`);
  return feishuAnswer(a.status, a.body);
}
