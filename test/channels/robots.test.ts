/**
 * Contract tests of the three group robots against their loopback fakes (channels/fakes/): signatures, keys,
 * errors answered at HTTP 200, size limits, rate limits, mentions. A signature computed wrong, a limit exceeded
 * or an error code taken for success fails here.
 */
import { ChannelItem, mergeItems, robotMessage } from '../../channels/compose';
import { DINGTALK_THROTTLE_MS, dingtalkFits, dingtalkSign, sendDingtalk } from '../../channels/dingtalk';
import { ChannelFakes } from '../../channels/fakes';
import { feishuBody, feishuFits, feishuSign, sendFeishu } from '../../channels/feishu';
import { post } from '../../channels/transport';
import {
  WECOM_MARKDOWN_MAX_BYTES,
  WECOM_TEXT_MAX_BYTES,
  sendWecom,
  wecomAnswer,
  wecomBody,
  wecomFits,
} from '../../channels/wecom';

const item = (n: number, extra: Partial<ChannelItem> = {}): ChannelItem => ({
  key: `annual-report-dept/u${n}/2027/2027-03-01/r3`,
  obligationTitle: '法治政府建设年度报告',
  unitName: `第${n}局`,
  period: '2027',
  due: '2027-03-01',
  stage: 'reminder',
  level: 0,
  step: 3,
  links: [
    { label: '签收', url: `http://127.0.0.1:8080/a/tok${n}/acknowledge` },
    { label: '报送材料', url: `http://127.0.0.1:8080/a/tok${n}/submit` },
  ],
  ...extra,
});

let clock = Date.parse('2027-02-24T01:00:00Z');
const now = () => clock;
const fakes = new ChannelFakes({
  wecom: ['wk-1', 'wk-2'],
  dingtalk: [
    { token: 'dt-signed', secret: 'SECdingtalk' },
    { token: 'dt-keyword', keyword: '周报' },
    { token: 'dt-limit', secret: 'SEClimit' },
  ],
  feishu: [
    { hook: 'fs-1', secret: 'feishu-secret' },
    { hook: 'fs-2', secret: 'feishu-secret-2' },
    { hook: 'fs-minute', secret: 'feishu-secret-3' },
    { hook: 'fs-keyword', keyword: '督办' },
    { hook: 'fs-weekly', keyword: '周报' },
  ],
  now,
});
let urls: Awaited<ReturnType<ChannelFakes['start']>>;

beforeAll(async () => {
  urls = await fakes.start();
});
afterAll(() => fakes.stop());

describe('企业微信 group robot', () => {
  test('a markdown message with links reaches the robot; its text names the task and carries the links', async () => {
    const a = await sendWecom({ key: 'wk-1', url: urls.wecom }, robotMessage([item(1)]));
    expect(a).toEqual({ ok: true, response: 'errcode 0: ok' });
    const [r] = fakes.received({ kind: 'wecom', to: 'wk-1' });
    expect(r!.text).toContain('法治政府建设年度报告（第1局，2027）：截止 2027-03-01，距截止还有3个工作日');
    expect(r!.text).toContain('[签收](http://127.0.0.1:8080/a/tok1/acknowledge)');
  });

  test('an unknown key is errcode 93000 at HTTP 200: permanent, the channel is broken', async () => {
    const a = await sendWecom({ key: 'no-such-key', url: urls.wecom }, robotMessage([item(1)]));
    expect(a).toMatchObject({ ok: false, transient: false, channel: true });
    expect(a.response).toContain('93000');
  });

  test('HTTP 200 with a non-zero errcode is never success', () => {
    expect(wecomAnswer(200, '{"errcode":45009,"errmsg":"api freq out of limit"}')).toMatchObject({
      ok: false,
      transient: true,
    });
    expect(wecomAnswer(200, '{"errcode":40058,"errmsg":"too long"}')).toMatchObject({
      ok: false,
      transient: false,
      channel: false, // this message only: the robot goes on
    });
    expect(wecomAnswer(200, '<html>gateway</html>')).toMatchObject({ ok: false });
  });

  test('the 21st message within a minute is refused with 45009 and answered as "later", not as sent', async () => {
    for (let i = 0; i < 20; i++)
      expect(await sendWecom({ key: 'wk-2', url: urls.wecom }, robotMessage([item(i)]))).toMatchObject({ ok: true });
    const a = await sendWecom({ key: 'wk-2', url: urls.wecom }, robotMessage([item(21)]));
    expect(a).toMatchObject({ ok: false, transient: true, retryAfterMs: 60_000 });
    expect(a.response).toContain('45009');
    clock += 61_000;
    expect(await sendWecom({ key: 'wk-2', url: urls.wecom }, robotMessage([item(22)]))).toMatchObject({ ok: true });
  });

  test('markdown over 4096 bytes is refused by the robot (40058); merging keeps every message under it', async () => {
    const items = Array.from({ length: 40 }, (_, i) => item(i));
    const huge = robotMessage(items);
    expect(wecomFits(huge)).toBe(false);
    const raw = await post(`${urls.wecom}?key=wk-1`, JSON.stringify(wecomBody(huge)), {
      'content-type': 'application/json',
    });
    expect('body' in raw && JSON.parse(raw.body).errcode).toBe(40058);
    const merged = mergeItems(items, wecomFits);
    expect(merged.length).toBeGreaterThan(1);
    expect(merged.length).toBeLessThan(10);
    expect(merged.flatMap((m) => m.keys)).toEqual(items.map((i) => i.key));
    for (const m of merged)
      expect(
        Buffer.byteLength((wecomBody(m) as { markdown: { content: string } }).markdown.content),
      ).toBeLessThanOrEqual(WECOM_MARKDOWN_MAX_BYTES);
  });

  test('mentions by mobile go as a text message with mentioned_mobile_list', async () => {
    clock += 61_000;
    const a = await sendWecom({ key: 'wk-1', url: urls.wecom }, robotMessage([item(3)], ['13800000001']));
    expect(a.ok).toBe(true);
    const last = fakes.received({ kind: 'wecom', to: 'wk-1' }).pop()!;
    expect(last.body).toMatchObject({ msgtype: 'text', text: { mentioned_mobile_list: ['13800000001'] } });
    expect(last.text).toContain('签收 http://127.0.0.1:8080/a/tok3/acknowledge');
  });

  test('a text message (mentions) over 2048 bytes is refused (40058); merging keeps mentioned messages under it', async () => {
    clock += 61_000;
    const mobiles = ['13800000001', '13800000002'];
    const items = Array.from({ length: 30 }, (_, i) => item(i));
    const huge = robotMessage(items, mobiles);
    expect(wecomFits(huge)).toBe(false);
    const raw = await post(`${urls.wecom}?key=wk-2`, JSON.stringify(wecomBody(huge)), {
      'content-type': 'application/json',
    });
    expect('body' in raw && JSON.parse(raw.body)).toMatchObject({ errcode: 40058 });
    const merged = mergeItems(items, wecomFits, mobiles);
    expect(merged.flatMap((m) => m.keys)).toEqual(items.map((i) => i.key));
    expect(merged.length).toBeLessThan(20);
    for (const m of merged) {
      const body = wecomBody(m) as { msgtype: string; text: { content: string; mentioned_mobile_list: string[] } };
      expect(body).toMatchObject({ msgtype: 'text', text: { mentioned_mobile_list: mobiles } });
      expect(Buffer.byteLength(body.text.content)).toBeLessThanOrEqual(WECOM_TEXT_MAX_BYTES);
      expect((await sendWecom({ key: 'wk-2', url: urls.wecom }, m)).ok).toBe(true);
    }
  });

  test('a title cannot inject a link: markdown characters of user text are made inert', async () => {
    clock += 61_000;
    await sendWecom(
      { key: 'wk-1', url: urls.wecom },
      robotMessage([item(4, { obligationTitle: '[点我](http://evil)' })]),
    );
    const last = fakes.received({ kind: 'wecom', to: 'wk-1' }).pop()!;
    expect(last.text).not.toContain('](http://evil)');
    expect(last.text).toContain('［点我］（http://evil）');
  });
});

describe('钉钉 custom robot', () => {
  test('加签: HMAC-SHA256 of timestamp\\nsecret keyed by the secret, Base64', () => {
    // Computed independently: echo -ne '1700000000000\nSECx' | openssl dgst -sha256 -hmac SECx -binary | base64
    expect(dingtalkSign('SECx', 1700000000000)).toBe('rgcjbH+yFyES+S0llX+cAPCwVRpsr7sbiX5Lnyo/ocU=');
  });

  test('a signed markdown message with @mobile reaches the robot', async () => {
    const a = await sendDingtalk(
      { key: 'dt-signed', secret: 'SECdingtalk', url: urls.dingtalk, now },
      robotMessage([item(1, { stage: 'escalation', level: 1, step: 0 })], ['13800000002']),
    );
    expect(a).toEqual({ ok: true, response: 'errcode 0: ok' });
    const r = fakes.received({ kind: 'dingtalk', to: 'dt-signed' }).pop()!;
    expect(r.body).toMatchObject({ msgtype: 'markdown', at: { atMobiles: ['13800000002'], isAtAll: false } });
    expect(r.text).toContain('@13800000002');
    expect(r.text).toContain('已逾期，请单位负责人督促办理');
  });

  test('a wrong secret or a stale timestamp is 310000: permanent', async () => {
    const wrong = await sendDingtalk(
      { key: 'dt-signed', secret: 'SECwrong', url: urls.dingtalk, now },
      robotMessage([item(1)]),
    );
    expect(wrong).toMatchObject({ ok: false, transient: false, channel: true });
    expect(wrong.response).toContain('310000');
    const stale = await sendDingtalk(
      { key: 'dt-signed', secret: 'SECdingtalk', url: urls.dingtalk, now: () => clock - 2 * 3600_000 },
      robotMessage([item(1)]),
    );
    expect(stale.response).toContain('310000');
    expect(stale.ok).toBe(false);
  });

  test('a robot whose keyword is missing refuses with 310000; duban titles carry 督办', async () => {
    const a = await sendDingtalk({ key: 'dt-keyword', url: urls.dingtalk }, robotMessage([item(1)]));
    expect(a.response).toContain('keywords not in content');
    expect(robotMessage([item(1)]).title).toContain('督办');
  });

  test('over 20 a minute is 130101 and throttles ten minutes: transient, retried after the throttle', async () => {
    const t = { key: 'dt-limit', secret: 'SEClimit', url: urls.dingtalk, now };
    for (let i = 0; i < 20; i++) expect((await sendDingtalk(t, robotMessage([item(i)]))).ok).toBe(true);
    const a = await sendDingtalk(t, robotMessage([item(21)]));
    expect(a).toMatchObject({ ok: false, transient: true, retryAfterMs: DINGTALK_THROTTLE_MS });
    clock += 2 * 60_000;
    expect((await sendDingtalk(t, robotMessage([item(22)]))).ok).toBe(false);
    clock += DINGTALK_THROTTLE_MS;
    expect((await sendDingtalk(t, robotMessage([item(23)]))).ok).toBe(true);
  });

  test('bodies over 20,000 bytes are refused (460101); dingtalkFits keeps merged messages under', async () => {
    const items = Array.from({ length: 120 }, (_, i) => item(i));
    expect(dingtalkFits(robotMessage(items))).toBe(false);
    const merged = mergeItems(items, dingtalkFits);
    expect(merged.flatMap((m) => m.keys)).toHaveLength(120);
    clock += 11 * 60_000;
    const a = await sendDingtalk(
      { key: 'dt-signed', secret: 'SECdingtalk', url: urls.dingtalk, now },
      robotMessage(items),
    );
    expect(a.response).toContain('460101');
    expect(a).toMatchObject({ ok: false, transient: false, channel: false });
  });
});

describe('飞书 custom bot', () => {
  test('签名校验: HMAC-SHA256 keyed by timestamp\\nsecret over nothing, Base64', () => {
    // echo -n '' | openssl dgst -sha256 -hmac $'1700000000\nsecret' -binary | base64
    expect(feishuSign('secret', 1700000000)).toBe('fiWS2+gh28DOydAv7hzONH/mDn9+b1Y4Y5ivXWXy8vA=');
  });

  test('a signed post with links reaches the bot', async () => {
    const a = await sendFeishu(
      { key: 'fs-1', secret: 'feishu-secret', url: urls.feishu, now },
      robotMessage([item(1)]),
    );
    expect(a).toEqual({ ok: true, response: 'code 0: success' });
    const r = fakes.received({ kind: 'feishu', to: 'fs-1' }).pop()!;
    expect(r.body).toMatchObject({
      msg_type: 'post',
      content: {
        post: {
          zh_cn: {
            content: expect.arrayContaining([
              expect.arrayContaining([{ tag: 'a', text: '签收', href: 'http://127.0.0.1:8080/a/tok1/acknowledge' }]),
            ]),
          },
        },
      },
    });
  });

  test('a wrong signature is 19021: permanent', async () => {
    const a = await sendFeishu({ key: 'fs-1', secret: 'not-it', url: urls.feishu, now }, robotMessage([item(1)]));
    expect(a).toMatchObject({ ok: false, transient: false });
    expect(a.response).toContain('19021');
  });

  test('a sixth message within a second is 9499 at HTTP 400: transient, not success', async () => {
    clock += 5_000;
    const t = { key: 'fs-2', secret: 'feishu-secret-2', url: urls.feishu, now };
    for (let i = 0; i < 5; i++) expect((await sendFeishu(t, robotMessage([item(i)]))).ok).toBe(true);
    const a = await sendFeishu(t, robotMessage([item(6)]));
    expect(a).toMatchObject({ ok: false, transient: true });
    expect(a.response).toContain('9499');
    expect(fakes.requests.at(-1)!.status).toBe(400);
    clock += 1_001;
    expect((await sendFeishu(t, robotMessage([item(7)]))).ok).toBe(true);
  });

  test('the 101st message within a minute (5 a second kept) is 9499: transient, sent a minute later', async () => {
    clock += 61_000;
    const t = { key: 'fs-minute', secret: 'feishu-secret-3', url: urls.feishu, now };
    for (let i = 0; i < 100; i++) {
      expect((await sendFeishu(t, robotMessage([item(i)]))).ok).toBe(true);
      clock += 250;
    }
    const a = await sendFeishu(t, robotMessage([item(100)]));
    expect(a).toMatchObject({ ok: false, transient: true, retryAfterMs: 60_000 });
    expect(a.response).toContain('9499');
    clock += 60_000;
    expect((await sendFeishu(t, robotMessage([item(101)]))).ok).toBe(true);
    expect(fakes.received({ kind: 'feishu', to: 'fs-minute' })).toHaveLength(101);
  });

  test("a bot's keyword missing is 19024 (permanent); duban's title carries 督办, so a 督办 keyword passes", async () => {
    const pass = await sendFeishu({ key: 'fs-keyword', url: urls.feishu, now }, robotMessage([item(1)]));
    expect(pass.ok).toBe(true);
    const a = await sendFeishu({ key: 'fs-weekly', url: urls.feishu, now }, robotMessage([item(1)]));
    expect(a).toMatchObject({ ok: false, transient: false, channel: true });
    expect(a.response).toContain('19024');
    expect(fakes.received({ kind: 'feishu', to: 'fs-weekly' })).toEqual([]);
  });

  test('a body over 20 KB is refused (19002); feishuFits measures the body duban sends', async () => {
    const items = Array.from({ length: 150 }, (_, i) => item(i));
    const huge = robotMessage(items);
    expect(feishuFits(huge)).toBe(false);
    const a = await sendFeishu({ key: 'fs-keyword', url: urls.feishu, now }, huge);
    expect(a).toMatchObject({ ok: false, transient: false, channel: false });
    expect(a.response).toContain('19002');
    // The largest merge that fits is accepted, signature fields and all.
    const [first] = mergeItems(items, feishuFits);
    const ts = Math.floor(clock / 1000);
    expect(
      Buffer.byteLength(JSON.stringify(feishuBody(first!, { timestamp: ts, sign: feishuSign('x', ts) }))),
    ).toBeLessThanOrEqual(20 * 1024);
    clock += 1_000;
    expect((await sendFeishu({ key: 'fs-minute', secret: 'feishu-secret-3', url: urls.feishu, now }, first!)).ok).toBe(
      true,
    );
  });

  test('merging keeps bodies under 20 KB', () => {
    const items = Array.from({ length: 150 }, (_, i) => item(i));
    expect(feishuFits(robotMessage(items))).toBe(false);
    const merged = mergeItems(items, feishuFits);
    expect(merged.flatMap((m) => m.keys)).toHaveLength(150);
    expect(merged.every(feishuFits)).toBe(true);
  });
});
