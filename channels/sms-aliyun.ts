/**
 * 阿里云 短信服务 SendSms (dysmsapi, version 2017-05-25), help.aliyun.com/document_detail/101414 (SendSms) and
 * /101343 (签名机制, RPC style): the request's parameters, common (AccessKeyId, Action, Format, RegionId,
 * SignatureMethod HMAC-SHA1, SignatureNonce, SignatureVersion 1.0, Timestamp in ISO 8601 UTC, Version) and the
 * action's (PhoneNumbers, SignName, TemplateCode, TemplateParam as JSON), sorted by name and percent-encoded per
 * RFC 3986 (space %20, `*` %2A, `~` kept), joined as `k=v&…`; the string to sign is
 * `POST&%2F&` + percentEncode(that); the signature is Base64 of HMAC-SHA1 keyed by `AccessKeySecret + "&"`.
 * The answer's `Code` is "OK" on success (BizId names the send), or an error code: isv.* for the business
 * (unapproved sign name or template, malformed mobile, flow control), SignatureDoesNotMatch, InvalidAccessKeyId.*.
 * duban sends one number a request, so each number has its own result.
 *
 * 腾讯云 SendSms (2021-01-11) is documented in docs/channels.md, not implemented.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { SendAnswer, jsonOf, ok, permanent, post, transient } from './transport';

export const ALIYUN_SMS_URL = 'https://dysmsapi.aliyuncs.com/';

/** RFC 3986 percent-encoding, as 阿里云's signature wants it. */
export function percentEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The sorted, encoded query string of `params` (the Signature excluded). */
export function canonicalQuery(params: Record<string, string>): string {
  return Object.keys(params)
    .filter((k) => k !== 'Signature')
    .sort()
    .map((k) => `${percentEncode(k)}=${percentEncode(params[k]!)}`)
    .join('&');
}

export function aliyunSign(method: 'GET' | 'POST', params: Record<string, string>, accessKeySecret: string): string {
  const toSign = `${method}&${percentEncode('/')}&${percentEncode(canonicalQuery(params))}`;
  return createHmac('sha1', `${accessKeySecret}&`).update(toSign, 'utf8').digest('base64');
}

export interface AliyunSmsTarget {
  accessKeyId: string;
  accessKeySecret: string;
  signName: string;
  templateCode: string;
  url?: string;
  now?: () => number;
  nonce?: () => string;
}

/** The signed form parameters of one SendSms. */
export function aliyunSmsParams(
  t: AliyunSmsTarget,
  mobile: string,
  templateParam: Record<string, string>,
): Record<string, string> {
  const params: Record<string, string> = {
    AccessKeyId: t.accessKeyId,
    Action: 'SendSms',
    Format: 'JSON',
    PhoneNumbers: mobile,
    RegionId: 'cn-hangzhou',
    SignName: t.signName,
    SignatureMethod: 'HMAC-SHA1',
    SignatureNonce: (t.nonce ?? randomUUID)(),
    SignatureVersion: '1.0',
    TemplateCode: t.templateCode,
    TemplateParam: JSON.stringify(templateParam),
    Timestamp: new Date((t.now ?? Date.now)()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    Version: '2017-05-25',
  };
  return { ...params, Signature: aliyunSign('POST', params, t.accessKeySecret) };
}

/** Codes that are this number's or this moment's, not the channel's: the channel goes on. */
const NUMBER_CODES = new Set([
  'isv.MOBILE_NUMBER_ILLEGAL',
  'isv.MOBILE_COUNT_OVER_LIMIT',
  'isv.BLACK_KEY_CONTROL_LIMIT',
]);
const TRANSIENT_CODES = new Map([
  // Per-number flow control (a number takes few messages a minute, an hour, a day): later, not never.
  ['isv.BUSINESS_LIMIT_CONTROL', 60 * 60_000],
  ['Throttling.User', 60_000],
  ['isp.SYSTEM_ERROR', 60_000],
  ['SignatureNonceUsed', 1_000],
]);

export function aliyunAnswer(status: number, body: string): SendAnswer {
  const j = jsonOf(body);
  const code = typeof j?.Code === 'string' ? j.Code : undefined;
  if (!code)
    return status >= 500
      ? transient(`阿里云 HTTP ${status}`)
      : permanent(`阿里云 HTTP ${status}: ${body.slice(0, 200)}`);
  const text = `${code}: ${String(j?.Message ?? '')}${j?.BizId ? ` (BizId ${String(j.BizId)})` : ''}`.slice(0, 300);
  if (code === 'OK') return ok(text);
  const retry = TRANSIENT_CODES.get(code);
  if (retry !== undefined) return transient(text, retry);
  return permanent(text, !NUMBER_CODES.has(code));
}

export async function sendAliyunSms(
  t: AliyunSmsTarget,
  mobile: string,
  templateParam: Record<string, string>,
): Promise<SendAnswer> {
  const form = new URLSearchParams(aliyunSmsParams(t, mobile, templateParam)).toString();
  const a = await post(t.url ?? ALIYUN_SMS_URL, form, { 'content-type': 'application/x-www-form-urlencoded' });
  if ('failed' in a) return transient(`阿里云: ${a.failed}`);
  return aliyunAnswer(a.status, a.body);
}
