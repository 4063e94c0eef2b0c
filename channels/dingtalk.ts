/**
 * 钉钉 custom robot (自定义机器人), open.dingtalk.com/document/orgapp/custom-robot-access and
 * .../customize-robot-security-settings: POST JSON to `/robot/send?access_token=TOKEN`, with 加签: the string
 * `timestamp + "\n" + secret` (timestamp in milliseconds) signed with HMAC-SHA256 keyed by the secret, Base64, then
 * URL-encoded, as `&timestamp=…&sign=…`; the timestamp must be within an hour of the server's clock. A robot may
 * also require a keyword in every message (duban's titles all say 督办). Mentions: `at.atMobiles`, and in markdown
 * the `@mobile` text in the body too. 20 messages a minute per robot; over it errcode 130101 and the robot is
 * throttled for 10 minutes; 310000 is a failed security check (signature, timestamp, keyword, IP); 300001 an
 * unknown token; 460101 a body over 20,000 bytes.
 */
import { createHmac } from 'node:crypto';
import { RobotMessage, toMarkdown } from './compose';
import { RobotLimits, SendAnswer, byteLength, jsonOf, ok, permanent, post, transient, unexpected } from './transport';

export const DINGTALK_URL = 'https://oapi.dingtalk.com/robot/send';
export const DINGTALK_MAX_BYTES = 20_000;
export const DINGTALK_LIMITS: RobotLimits = { perMinute: 20 };
export const DINGTALK_TOO_FAST = 130101;
export const DINGTALK_SECURITY = 310000;
/** After a 130101 the robot stays throttled this long. */
export const DINGTALK_THROTTLE_MS = 10 * 60_000;

/** 加签: Base64 of HMAC-SHA256(secret, `${timestampMs}\n${secret}`), not yet URL-encoded. */
export function dingtalkSign(secret: string, timestampMs: number): string {
  return createHmac('sha256', secret).update(`${timestampMs}\n${secret}`, 'utf8').digest('base64');
}

export function dingtalkBody(m: RobotMessage): Record<string, unknown> {
  return {
    msgtype: 'markdown',
    markdown: { title: m.title, text: toMarkdown(m, { mentionInText: true }) },
    at: { atMobiles: m.mentionMobiles, isAtAll: false },
  };
}

export function dingtalkFits(m: RobotMessage): boolean {
  return byteLength(JSON.stringify(dingtalkBody(m))) <= DINGTALK_MAX_BYTES;
}

export function dingtalkAnswer(status: number, body: string): SendAnswer {
  const j = jsonOf(body);
  if (!j || typeof j.errcode !== 'number') return unexpected({ status, body, headers: new Headers() }, '钉钉');
  const text = `errcode ${j.errcode}: ${String(j.errmsg ?? '')}`.slice(0, 300);
  if (j.errcode === 0) return ok(text);
  if (j.errcode === DINGTALK_TOO_FAST || j.errcode === 410100) return transient(text, DINGTALK_THROTTLE_MS);
  if (j.errcode === -1) return transient(text);
  // A message over the robot's size: this message alone is refused (merging keeps messages under it), the robot
  // itself is fine and the channel goes on.
  if (j.errcode === 460101) return permanent(text, false);
  return permanent(text);
}

export interface DingtalkTarget {
  /** access_token. */
  key: string;
  /** 加签 secret (SEC…); absent when the robot uses keywords or an IP list only. */
  secret?: string;
  url?: string;
  now?: () => number;
}

export function dingtalkUrl(t: DingtalkTarget): string {
  let url = `${t.url ?? DINGTALK_URL}?access_token=${encodeURIComponent(t.key)}`;
  if (t.secret) {
    const ts = (t.now ?? Date.now)();
    url += `&timestamp=${ts}&sign=${encodeURIComponent(dingtalkSign(t.secret, ts))}`;
  }
  return url;
}

export async function sendDingtalk(t: DingtalkTarget, m: RobotMessage): Promise<SendAnswer> {
  const a = await post(dingtalkUrl(t), JSON.stringify(dingtalkBody(m)), { 'content-type': 'application/json' });
  if ('failed' in a) return transient(`钉钉: ${a.failed}`);
  return dingtalkAnswer(a.status, a.body);
}
