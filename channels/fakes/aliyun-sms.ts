/**
 * A loopback 阿里云 SendSms (channels/sms-aliyun.ts for the contract). It recomputes the signature from the form
 * (SignatureDoesNotMatch, HTTP 400), refuses an unknown AccessKeyId (InvalidAccessKeyId.NotFound, HTTP 404), a
 * Timestamp more than 15 minutes off (InvalidTimeStamp.Expired), a nonce used before (SignatureNonceUsed), a sign
 * name or template not approved (isv.SMS_SIGNATURE_ILLEGAL, isv.SMS_TEMPLATE_ILLEGAL), template parameters missing
 * or too long (isv.TEMPLATE_MISSING_PARAMETERS, isv.PARAM_LENGTH_LIMIT), a malformed mobile
 * (isv.MOBILE_NUMBER_ILLEGAL), and a second message to one number within a minute (isv.BUSINESS_LIMIT_CONTROL).
 * Every variable of the template must be given; parameters the template does not name are ignored (the fake's
 * choice: how 阿里云 answers them is not verified; duban's documented template uses all four it sends). A template whose variables 阿里云 would not approve
 * (the names email, mobile, id, nick, site) cannot be configured: such a template never reaches SendSms.
 */
import { randomUUID } from 'node:crypto';
import { aliyunSign } from '../sms-aliyun';
import { FakeAnswer, FakeRequest, Received, SlidingWindow } from './window';

export interface FakeSmsAccount {
  accessKeyId: string;
  accessKeySecret: string;
  /** Approved sign names. */
  signNames: string[];
  /** Approved templates: code → text with ${name} variables. */
  templates: Record<string, string>;
}

/** Variable names 阿里云's template review refuses (短信模板变量规范). */
const REFUSED_VARIABLES = new Set(['email', 'mobile', 'id', 'nick', 'site']);

function variablesOf(template: string): string[] {
  return [...template.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]!);
}

export class FakeAliyunSms {
  private nonces = new Set<string>();
  private perNumber = new Map<string, SlidingWindow>();

  constructor(
    private readonly accounts: Map<string, FakeSmsAccount>,
    private readonly store: (r: Received) => void,
  ) {
    for (const a of accounts.values())
      for (const [code, text] of Object.entries(a.templates)) {
        const refused = variablesOf(text).find((v) => REFUSED_VARIABLES.has(v));
        if (refused) throw new Error(`template ${code}: 阿里云 does not approve the variable \${${refused}}`);
      }
  }

  handle(req: FakeRequest, now: number): FakeAnswer {
    const requestId = randomUUID().toUpperCase();
    const answer = (Code: string, Message: string, status = 200): FakeAnswer => ({
      status,
      body: { Code, Message, RequestId: requestId },
    });
    const form = new URLSearchParams(req.method === 'POST' ? req.body : req.query.toString());
    const params: Record<string, string> = {};
    for (const [k, v] of form) params[k] = v;
    const account = this.accounts.get(params.AccessKeyId ?? '');
    if (!account) return answer('InvalidAccessKeyId.NotFound', 'Specified access key is not found.', 404);
    if (params.SignatureMethod !== 'HMAC-SHA1' || params.SignatureVersion !== '1.0')
      return answer('IncompleteSignature', 'The request signature does not conform to Aliyun standards.', 400);
    const method = req.method === 'POST' ? 'POST' : 'GET';
    if (aliyunSign(method, params, account.accessKeySecret) !== params.Signature)
      return answer('SignatureDoesNotMatch', 'Specified signature is not matched with our calculation.', 400);
    const ts = Date.parse(params.Timestamp ?? '');
    if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(params.Timestamp ?? '') || Math.abs(now - ts) > 15 * 60_000)
      return answer('InvalidTimeStamp.Expired', 'Specified time stamp or date value is expired.', 400);
    if (this.nonces.has(params.SignatureNonce ?? ''))
      return answer('SignatureNonceUsed', 'Specified signature nonce was used already.', 400);
    this.nonces.add(params.SignatureNonce ?? '');
    if (params.Action !== 'SendSms' || params.Version !== '2017-05-25')
      return answer('InvalidParameter', 'Action or Version is not valid.', 400);
    if (!account.signNames.includes(params.SignName ?? '')) return answer('isv.SMS_SIGNATURE_ILLEGAL', '签名不合法');
    const template = account.templates[params.TemplateCode ?? ''];
    if (template === undefined) return answer('isv.SMS_TEMPLATE_ILLEGAL', '模板不合法');
    let values: Record<string, unknown>;
    try {
      values = JSON.parse(params.TemplateParam ?? '{}');
    } catch {
      return answer('isv.INVALID_JSON_PARAM', 'JSON参数不合法，只接受字符串值');
    }
    for (const name of variablesOf(template)) {
      const v = values[name];
      if (typeof v !== 'string' || v === '') return answer('isv.TEMPLATE_MISSING_PARAMETERS', `模板缺少变量 ${name}`);
      if ([...v].length > 35) return answer('isv.PARAM_LENGTH_LIMIT', `参数超出长度限制 ${name}`);
    }
    const mobiles = (params.PhoneNumbers ?? '').split(',');
    if (mobiles.some((m) => !/^(\+?86)?1[3-9]\d{9}$/.test(m))) return answer('isv.MOBILE_NUMBER_ILLEGAL', '非法手机号');
    for (const m of mobiles) {
      let w = this.perNumber.get(m);
      if (!w) this.perNumber.set(m, (w = new SlidingWindow(1, 60_000)));
      if (!w.allows(now)) return answer('isv.BUSINESS_LIMIT_CONTROL', '业务限流');
    }
    const text = `【${params.SignName}】${template.replace(/\$\{(\w+)\}/g, (_, n: string) => String(values[n]))}`;
    for (const m of mobiles) {
      this.perNumber.get(m)!.take(now);
      this.store({ kind: 'sms', to: m, at: now, text, body: { ...params, Signature: undefined } });
    }
    return {
      status: 200,
      body: { Code: 'OK', Message: 'OK', BizId: `${now}^${requestId.slice(0, 8)}`, RequestId: requestId },
    };
  }
}
