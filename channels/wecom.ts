/**
 * 企业微信 group robot (群机器人), developer.work.weixin.qq.com/document/path/91770: POST JSON to
 * `/cgi-bin/webhook/send?key=KEY`; the key in the URL is the robot's only credential. Markdown `content` at most
 * 4096 bytes, text `content` at most 2048 bytes; members are mentioned by mobile (`mentioned_mobile_list`) only in
 * text messages. Success is `errcode` 0, which an HTTP 200 answer may not carry; 45009 is the frequency limit
 * (20 messages a minute per robot), 93000 an invalid webhook key.
 */
import { RobotMessage, toMarkdown, toPlainText } from './compose';
import { RobotLimits, SendAnswer, byteLength, jsonOf, ok, permanent, post, transient, unexpected } from './transport';

export const WECOM_URL = 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send';
export const WECOM_MARKDOWN_MAX_BYTES = 4096;
export const WECOM_TEXT_MAX_BYTES = 2048;
export const WECOM_LIMITS: RobotLimits = { perMinute: 20 };
export const WECOM_TOO_FAST = 45009;

/** The request body: markdown (links), or text when members are to be mentioned by mobile. */
export function wecomBody(m: RobotMessage): Record<string, unknown> {
  if (m.mentionMobiles.length)
    return { msgtype: 'text', text: { content: toPlainText(m), mentioned_mobile_list: m.mentionMobiles } };
  return { msgtype: 'markdown', markdown: { content: toMarkdown(m) } };
}

/** Whether the message is within the limit of its message type. */
export function wecomFits(m: RobotMessage): boolean {
  const body = wecomBody(m) as { text?: { content: string }; markdown?: { content: string } };
  return body.text
    ? byteLength(body.text.content) <= WECOM_TEXT_MAX_BYTES
    : byteLength(body.markdown!.content) <= WECOM_MARKDOWN_MAX_BYTES;
}

/** The provider's answer as an outcome: only errcode 0 is success. */
export function wecomAnswer(status: number, body: string): SendAnswer {
  const j = jsonOf(body);
  if (!j || typeof j.errcode !== 'number') return unexpected({ status, body, headers: new Headers() }, '企业微信');
  const text = `errcode ${j.errcode}: ${String(j.errmsg ?? '')}`.slice(0, 300);
  if (j.errcode === 0) return ok(text);
  if (j.errcode === WECOM_TOO_FAST) return transient(text, 60_000);
  if (j.errcode === -1) return transient(text); // 系统繁忙
  // A message over the robot's size: this message alone is refused (merging keeps messages under it), the robot
  // itself is fine and the channel goes on.
  if (j.errcode === 40058) return permanent(text, false);
  return permanent(text);
}

export interface WecomTarget {
  key: string;
  /** The API's address; a loopback fake's in tests and `npm start`. */
  url?: string;
}

export async function sendWecom(t: WecomTarget, m: RobotMessage): Promise<SendAnswer> {
  const url = `${t.url ?? WECOM_URL}?key=${encodeURIComponent(t.key)}`;
  const a = await post(url, JSON.stringify(wecomBody(m)), { 'content-type': 'application/json' });
  if ('failed' in a) return transient(`企业微信: ${a.failed}`);
  return wecomAnswer(a.status, a.body);
}
