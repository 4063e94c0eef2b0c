/** Contract tests of 阿里云 SendSms and the signed webhook against their loopback fakes. */
import { ChannelItem, noticeEvent, smsParams } from '../../channels/compose';
import { ChannelFakes } from '../../channels/fakes';
import { aliyunAnswer, aliyunSign, canonicalQuery, percentEncode, sendAliyunSms } from '../../channels/sms-aliyun';
import { post } from '../../channels/transport';
import { sendWebhook, verifyWebhook, webhookHeaders } from '../../channels/webhook';

const item: ChannelItem = {
  key: 'annual-report-dept/sfj/2027/2027-03-01/e2.0',
  obligationTitle: '法治政府建设年度报告',
  unitName: '市司法局',
  period: '2027',
  due: '2027-03-01',
  stage: 'escalation',
  level: 2,
  step: 0,
  supervisionNumber: '督〔2027〕12号',
  links: [{ label: '查看', url: 'http://127.0.0.1:8080/a/t/view' }],
};
// The platform's address is fixed text of the approved template, never a variable: here one over 35 characters.
const SITE = 'https://duban.fzzfjs.zhengwu.xx.gov.cn/portal';
const TEMPLATE = `您单位承担的\${task}已逾期（截止\${due}，\${stage}），请登录${SITE}办理。\${unit}`;
let clock = Date.parse('2027-03-09T01:00:00Z');
const now = () => clock;
const fakes = new ChannelFakes({
  sms: [
    {
      accessKeyId: 'LTAI-test',
      accessKeySecret: 'sms-secret',
      signNames: ['XX市依法治市办'],
      templates: { SMS_100: TEMPLATE },
    },
  ],
  webhooks: { oa: 'hook-secret' },
  now,
});
let urls: Awaited<ReturnType<ChannelFakes['start']>>;
const sms = () => ({
  accessKeyId: 'LTAI-test',
  accessKeySecret: 'sms-secret',
  signName: 'XX市依法治市办',
  templateCode: 'SMS_100',
  url: urls.aliyun,
  now,
});
const params = smsParams(item);

beforeAll(async () => {
  urls = await fakes.start();
});
afterAll(() => fakes.stop());

describe('阿里云 SendSms', () => {
  test('RFC 3986 encoding: space %20, * %2A, ~ kept, UTF-8 bytes', () => {
    expect(percentEncode('a b*~/督')).toBe('a%20b%2A~%2F%E7%9D%A3');
    expect(canonicalQuery({ b: '2', a: '1 1', Signature: 'x' })).toBe('a=1%201&b=2');
  });

  test('the documented example signature (help.aliyun.com 101343)', () => {
    // The signing example's parameters and secret "testSecret"; its published signature.
    const p = {
      AccessKeyId: 'testId',
      Action: 'SendSms',
      Format: 'XML',
      OutId: '123',
      PhoneNumbers: '15300000001',
      RegionId: 'cn-hangzhou',
      SignName: '阿里云短信测试专用',
      SignatureMethod: 'HMAC-SHA1',
      SignatureNonce: '45e25e9b-0a6f-4070-8c85-2956eda1b466',
      SignatureVersion: '1.0',
      TemplateCode: 'SMS_71390007',
      TemplateParam: '{"customer":"test"}',
      Timestamp: '2017-07-12T02:42:19Z',
      Version: '2017-05-25',
    };
    expect(aliyunSign('GET', p, 'testSecret')).toBe('zJDF+Lrzhj/ThnlvIToysFRq6t4=');
  });

  test('a signed SendSms with an approved sign and template reaches the phone, without a link', async () => {
    const a = await sendAliyunSms(sms(), '13800000003', params);
    expect(a.ok).toBe(true);
    expect(a.response).toMatch(/^OK: OK \(BizId /);
    const r = fakes.received({ kind: 'sms', to: '13800000003' }).pop()!;
    expect(r.text).toBe(
      '【XX市依法治市办】您单位承担的法治政府建设年度报告（2027）已逾期（截止2027-03-01，督办单 督〔2027〕12号），请登录https://duban.fzzfjs.zhengwu.xx.gov.cn/portal办理。市司法局',
    );
    expect(r.text).not.toContain('/a/');
  });

  test('a wrong secret is SignatureDoesNotMatch (HTTP 400): the channel is broken', async () => {
    const a = await sendAliyunSms({ ...sms(), accessKeySecret: 'wrong' }, '13800000004', params);
    expect(a).toMatchObject({ ok: false, transient: false, channel: true });
    expect(a.response).toContain('SignatureDoesNotMatch');
  });

  test('an unapproved sign name or template breaks the channel; a malformed number only its message', async () => {
    const sign = await sendAliyunSms({ ...sms(), signName: '未审核签名' }, '13800000005', params);
    expect(sign).toMatchObject({ ok: false, transient: false, channel: true });
    expect(sign.response).toContain('isv.SMS_SIGNATURE_ILLEGAL');
    const template = await sendAliyunSms({ ...sms(), templateCode: 'SMS_999' }, '13800000005', params);
    expect(template.response).toContain('isv.SMS_TEMPLATE_ILLEGAL');
    const number = await sendAliyunSms(sms(), '1380000', params);
    expect(number).toMatchObject({ ok: false, transient: false, channel: false });
    expect(number.response).toContain('isv.MOBILE_NUMBER_ILLEGAL');
  });

  test('template parameters missing or over 35 characters are refused; smsParams keeps them within', async () => {
    const missing = await sendAliyunSms(sms(), '13800000006', { task: 'x' });
    expect(missing.response).toContain('isv.TEMPLATE_MISSING_PARAMETERS');
    const long = smsParams({ ...item, obligationTitle: '很长'.repeat(40) });
    expect([...long.task!].length).toBeLessThanOrEqual(35);
    expect((await sendAliyunSms(sms(), '13800000006', long)).ok).toBe(true);
  });

  test('duban sends exactly the four variables; the address stays whole in the template; ${site} is not approved', async () => {
    expect(Object.keys(params).sort()).toEqual(['due', 'stage', 'task', 'unit']);
    expect(Object.values(params).join('')).not.toContain('http');
    expect([...SITE].length).toBeGreaterThan(35);
    // A parameter the template does not name is ignored, as by 阿里云.
    expect((await sendAliyunSms(sms(), '13800000008', { ...params, extra: 'x' })).ok).toBe(true);
    expect(fakes.received({ kind: 'sms', to: '13800000008' }).pop()!.text).toContain(`请登录${SITE}办理。`);
    const account = {
      accessKeyId: 'k',
      accessKeySecret: 's',
      signNames: ['x'],
      templates: { SMS_1: '请登录${site}办理' },
    };
    expect(() => new ChannelFakes({ sms: [account] })).toThrow('${site}');
  });

  test('a RAM user without SMS rights breaks the channel (told to the operator), not retried for ever', () => {
    const body = JSON.stringify({ Code: 'isp.RAM_PERMISSION_DENY', Message: 'You are not authorized', RequestId: 'x' });
    expect(aliyunAnswer(200, body)).toMatchObject({ ok: false, transient: false, channel: true });
  });

  test("a number's flow control (isv.BUSINESS_LIMIT_CONTROL) is transient: later, not dropped", async () => {
    clock += 61_000;
    expect((await sendAliyunSms(sms(), '13800000007', params)).ok).toBe(true);
    const again = await sendAliyunSms(sms(), '13800000007', params);
    expect(again).toMatchObject({ ok: false, transient: true });
  });
});

describe('signed webhook', () => {
  const event = noticeEvent(item, Date.parse('2027-03-09T01:00:00Z'), 'annual-report-dept/sfj');

  test('a signed event is accepted, once by its id', async () => {
    const t = { url: `${urls.webhook}/oa`, secret: 'hook-secret', now };
    expect((await sendWebhook(t, event)).ok).toBe(true);
    expect((await sendWebhook(t, event)).ok).toBe(true);
    expect(fakes.received({ kind: 'webhook', to: 'oa' })).toHaveLength(1);
    expect(fakes.webhook.duplicates).toBe(1);
    expect(fakes.received({ kind: 'webhook' })[0]!.body).toMatchObject({
      schema: 'duban.event/v1',
      type: 'notice.sent',
      id: 'notice/annual-report-dept/sfj/2027/2027-03-01/e2.0',
      data: { supervisionNumber: '督〔2027〕12号', level: 2 },
    });
  });

  test('the signature is pinned: HMAC-SHA256 of "<timestamp>.<body>" in hex (computed with openssl)', () => {
    // printf '%s' '1804554000.<body>' | openssl dgst -sha256 -hmac hook-secret
    const body = '{"schema":"duban.event/v1","id":"event/x","type":"period.verified"}';
    const verified = { ...event, id: 'event/x', type: 'period.verified' as const };
    expect(webhookHeaders('hook-secret', verified, body, 1_804_554_000_999)).toMatchObject({
      'x-duban-event': 'period.verified',
      'x-duban-event-id': 'event/x',
      'x-duban-timestamp': '1804554000',
      'x-duban-signature': 'v1=376904031a13ff2e7496f9e274efd811975172f919f6d0d16f2a1f1cb7dfdce4',
    });
  });

  test('a wrong secret is 401: permanent, the channel is broken', async () => {
    const a = await sendWebhook({ url: `${urls.webhook}/oa`, secret: 'nope', now }, event);
    expect(a).toMatchObject({ ok: false, transient: false, channel: true });
  });

  test('a captured request replayed after the tolerance is refused', async () => {
    const body = JSON.stringify({ ...event, id: 'replayed' });
    const headers = webhookHeaders('hook-secret', event, body, clock - 10 * 60_000);
    expect(verifyWebhook('hook-secret', headers, body, clock)).toMatch(/tolerance/);
    const a = await post(`${urls.webhook}/oa`, body, headers);
    expect('status' in a && a.status).toBe(401);
    // The body changed after signing: refused.
    const fresh = webhookHeaders('hook-secret', event, body, clock);
    expect(verifyWebhook('hook-secret', fresh, body.replace('replayed', 'other'), clock)).toMatch(/signature/);
  });
});
