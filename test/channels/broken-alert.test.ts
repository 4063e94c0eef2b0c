/**
 * A channel broken for good (issue 22.4), told everywhere it must be: the dispatcher wired as the worker wires it
 * (worker/main.ts) marks 钉钉 with a wrong signing secret broken, and
 * - the operator's signed webhook receives a `channel.broken` alert naming the channel, the provider's answer and
 *   the setting to fix; the operator's 企业微信 robot (DUBAN_OPERATOR_ROBOT, issue 21.2) the same text;
 * - the board shows which channel is broken and what to fix, in Chinese;
 * - the worker's /readyz lists it under `checks.channels` and stays ready;
 * fixed, each hears it works again once, and the board and /readyz no longer show it. Against the loopback fakes,
 * a real SQLite ledger, a real SMTP server and the web service over HTTP.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { ChannelDispatcher, channelRows } from '../../activities/channels';
import { brokenChannelText } from '../../channels/broken';
import type { Duban } from '../../access/temporal';
import { createSmtpTransport } from '../../channels/email/smtp';
import { ChannelFakes } from '../../channels/fakes';
import { loadChannelSecrets, secretVariable } from '../../config/channels';
import { loadInputs } from '../../config/load';
import { SettingsError, loadSettings } from '../../config/settings';
import type { TrackerDefinition } from '../../domain/trackers';
import { Ledger } from '../../ledger';
import { buildWebServer } from '../../web/server';
import { sha256, token } from '../../web/session';
import { startOperations } from '../../worker/operations';
import {
  OperatorAlert,
  channelBrokenAlert,
  notifyOperators,
  operatorChannels,
  robotChannel,
} from '../../worker/operator-alert';
import { startSmtpSink } from '../support/smtp';
import { FAKE_ACCOUNTS, SECRETS, catalogFile, directoryWith, withChannels } from './support';

jest.setTimeout(60_000);

const HOOK_SECRET = 'operator-webhook-secret-0123456789';
const OPS_KEY = 'ops-robot-key-0009';
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** The operator's webhook receiver: checks the signature as docs/deployment.md tells a receiver to. */
async function startReceiver(): Promise<{ url: string; alerts: OperatorAlert[]; refused: number; server: Server }> {
  const r = { url: '', alerts: [] as OperatorAlert[], refused: 0, server: undefined as unknown as Server };
  r.server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const ts = String(req.headers['x-duban-timestamp'] ?? '');
      const given = Buffer.from(String(req.headers['x-duban-signature'] ?? ''));
      const want = Buffer.from(`sha256=${createHmac('sha256', HOOK_SECRET).update(`${ts}.${body}`).digest('hex')}`);
      if (given.length !== want.length || !timingSafeEqual(given, want)) {
        r.refused++;
        res.writeHead(401).end();
        return;
      }
      r.alerts.push(JSON.parse(body) as OperatorAlert);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => r.server.listen(0, '127.0.0.1', resolve));
  r.url = `http://127.0.0.1:${(r.server.address() as AddressInfo).port}/ops`;
  return r;
}

const fakes = new ChannelFakes({ ...FAKE_ACCOUNTS, wecom: [...FAKE_ACCOUNTS.wecom, OPS_KEY] });
let urls: Awaited<ReturnType<ChannelFakes['start']>>;

beforeAll(async () => {
  urls = await fakes.start();
});
afterAll(async () => {
  await fakes.stop();
});

test('a broken 钉钉 robot: the operator webhook and robot told (channel.broken), the board and /readyz show it; fixed, all cleared', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'duban-broken-'));
  const sink = await startSmtpSink();
  const receiver = await startReceiver();
  const ledger = await Ledger.open({ sqliteFile: path.join(dir, 'ledger.sqlite') });
  const inputs = loadInputs({ catalog: catalogFile, directory: directoryWith((t) => withChannels(t)), env: SECRETS });
  await ledger.saveDirectorySnapshot({ directory: inputs.directory, catalog: inputs.catalog, by: 'test' });
  const justice: TrackerDefinition = inputs.trackers.find((t) => t.unit.id === 'justice' && t.channels)!;
  const settings = loadSettings({
    DUBAN_DATA_DIR: dir,
    SMTP_URL: sink.url,
    DUBAN_WEB_PORT: '0',
    DUBAN_HEALTH_ADDRESS: '127.0.0.1:0',
    DUBAN_OPERATOR_WEBHOOK_URL: receiver.url,
    DUBAN_OPERATOR_WEBHOOK_SECRET: HOOK_SECRET,
    DUBAN_OPERATOR_ROBOT: 'wecom:ops-robot',
  });
  const env = { ...SECRETS, [secretVariable('ops-robot', 'KEY')]: OPS_KEY };
  const wrong = { ...env, [secretVariable('office-ding', 'SECRET')]: 'SECwrong' };
  const endpoints = { wecom: urls.wecom, dingtalk: urls.dingtalk, feishu: urls.feishu, aliyun: urls.aliyun };
  // As worker/main.ts wires them: one list of operator channels for the SMTP alert and the channel.broken alert.
  const operators = operatorChannels(settings.operations, { secrets: loadChannelSecrets(env), endpoints });
  expect(operators.map((c) => c.name)).toEqual([
    expect.stringMatching(/^webhook http:\/\/127\.0\.0\.1:\d+\/\*\*\*$/),
    'wecom robot ops-robot',
  ]);
  const dispatcher = (secrets: Record<string, string>) =>
    new ChannelDispatcher({
      ledger,
      secrets: loadChannelSecrets(secrets),
      endpoints,
      log: quiet,
      settleMs: 0,
      alertOperators: (a) => notifyOperators(operators, channelBrokenAlert(a, 'duban'), quiet, 2, 10),
    });
  const transport = createSmtpTransport({ url: sink.url, maxConnections: 1 });
  const connection = { workflowService: { getSystemInfo: async () => ({}) } };
  const ops = await startOperations({
    settings,
    ledger,
    transport,
    connection,
    log: quiet as never,
    channels: operators,
  });
  const web: FastifyInstance = await buildWebServer({ settings, duban: {} as Duban, ledger, log: () => undefined });
  const webUrl = await web.listen({ host: '127.0.0.1', port: 0 });
  // A signed-in liaison of 市司法局 (the session as the sign-in route makes it).
  const secret = token();
  await ledger.web.createSession({
    sessionHash: sha256(secret),
    email: 'justice.liaison@test.example.org',
    csrf: token(),
    now: Date.now(),
  });
  const board = async () =>
    (await fetch(`${webUrl}/`, { headers: { cookie: `duban_session=${secret}` }, redirect: 'manual' })).text();
  const readyz = async () =>
    (await (await fetch(`http://${ops.healthAddress}/readyz`)).json()) as {
      ready: boolean;
      checks: { channels?: { ok: boolean; broken: { channel: string; reason: string }[] } };
    };
  try {
    expect((await readyz()).checks.channels).toBeUndefined();
    const now = Date.now();
    const notice = {
      at: now,
      day: 0,
      trackerId: justice.trackerId,
      obligation: justice.obligation.id,
      unit: 'justice',
      period: '2027',
      due: '2027-03-01',
      stage: 'escalation' as const,
      level: 2,
      step: 0,
      to: [justice.unit.head.email],
      cc: [],
    };
    const period = { label: '2027', due: '2027-03-01', dueAt: now - 86_400_000, endsAt: now + 86_400_000 };
    const rows = channelRows({ definition: justice, notice, period, firedAt: now }, { graceMs: 0, links: false });
    await ledger.channels.add(
      rows.filter((r) => r.channel === 'office-ding'),
      now,
    );
    const broken = dispatcher(wrong);
    await broken.tick();
    await broken.settled();
    expect((await ledger.channels.broken()).map((b) => b.channel)).toEqual(['office-ding']);

    // The operator webhook: one signed channel.broken alert, naming the channel, the answer and the setting.
    expect(receiver.refused).toBe(0);
    expect(receiver.alerts).toHaveLength(1);
    const raised = receiver.alerts[0]!;
    expect(raised).toMatchObject({
      kind: 'channel.broken',
      state: 'raised',
      taskQueue: 'duban',
      channel: { name: 'office-ding', kind: 'dingtalk' },
    });
    expect(raised.reason).toContain('310000');
    expect(raised.text).toMatch(/^【督办系统告警】钉钉群机器人渠道 office-ding 无法发送（errcode 310000/);
    expect(raised.text).toContain('DUBAN_CHANNEL_OFFICE_DING_SECRET');
    for (const s of Object.values(wrong)) expect(JSON.stringify(raised)).not.toContain(s);
    // The operator's robot: the same words, once, through the 企业微信 fake (which checked its key).
    const toOps = () => fakes.received({ kind: 'wecom', to: OPS_KEY });
    expect(toOps()).toHaveLength(1);
    expect(toOps()[0]!.text).toContain('督办系统告警');
    expect(toOps()[0]!.text).toContain('office-ding');

    // The board: which channel, what to fix, in Chinese.
    const page = await board();
    expect(page).toContain('data-alert="channel" data-channel="office-ding"');
    expect(page).toContain('钉钉群机器人渠道 office-ding 无法发送（errcode 310000');
    expect(page).toContain(
      '钉钉安全校验未通过：机器人“安全设置”选择加签时，请把加签密钥（SEC 开头）填入 DUBAN_CHANNEL_OFFICE_DING_SECRET',
    );
    expect(page).not.toContain('工作进程报告了一个问题');

    // /readyz: the channel under checks.channels; a broken robot does not take the worker out of service.
    const r = await readyz();
    expect(r.ready).toBe(true);
    expect(r.checks.channels).toMatchObject({ ok: false, broken: [{ channel: 'office-ding' }] });
    expect(r.checks.channels!.broken[0]!.reason).toContain('310000');

    // Another round of the broken dispatcher tells no one again.
    await ledger.channels.retryBroken(Date.now());
    await broken.tick();
    await broken.settled();
    expect(receiver.alerts).toHaveLength(1);
    expect(toOps()).toHaveLength(1);

    // Fixed settings, a worker start: the kept message goes, and the clearing is told once.
    const fixed = dispatcher(env);
    await ledger.channels.retryBroken(Date.now());
    await fixed.tick();
    await fixed.settled();
    expect((await ledger.channels.rows({ channel: 'office-ding' })).at(-1)!.status).toBe('sent');
    expect(receiver.alerts.map((a) => [a.kind, a.state])).toEqual([
      ['channel.broken', 'raised'],
      ['channel.broken', 'cleared'],
    ]);
    expect(receiver.alerts[1]!.since).toBe(raised.since);
    expect(toOps()).toHaveLength(2);
    expect(toOps()[1]!.text).toContain('督办系统告警解除');
    expect(await board()).not.toContain('data-alert=');
    expect((await readyz()).checks.channels).toBeUndefined();
  } finally {
    await web.close();
    await ops.close();
    transport.close();
    await ledger.close();
    await sink.close();
    await new Promise((r) => receiver.server.close(r));
  }
});

test('each robot kind carries an operator alert (钉钉 加签, 飞书 签名 checked by the fakes); a refused one is logged', async () => {
  const alert: OperatorAlert = {
    kind: 'smtp',
    state: 'raised',
    since: '2027-03-01T01:00:00.000Z',
    at: '2027-03-01T01:30:00.000Z',
    taskQueue: 'duban',
    message: 'SMTP has taken no message for 30 min',
    text: '【督办系统告警】邮件发送失败已约30分钟。[链接](http://x) <b>',
  };
  const secrets = loadChannelSecrets(SECRETS);
  const endpoints = { wecom: urls.wecom, dingtalk: urls.dingtalk, feishu: urls.feishu };
  const channels = [
    robotChannel('wecom', 'justice-wecom', secrets('justice-wecom'), endpoints),
    robotChannel('dingtalk', 'office-ding', secrets('office-ding'), endpoints),
    robotChannel('feishu', 'leaders-feishu', secrets('leaders-feishu'), endpoints),
  ];
  const before = { wecom: 0, dingtalk: 0, feishu: 0 };
  for (const k of ['wecom', 'dingtalk', 'feishu'] as const) before[k] = fakes.received({ kind: k }).length;
  const lines: string[] = [];
  const log = { info: (m: string) => void lines.push(`info ${m}`), warn: (m: string) => void lines.push(`warn ${m}`) };
  await notifyOperators(channels, alert, log, 1, 0);
  for (const k of ['wecom', 'dingtalk', 'feishu'] as const) {
    const got = fakes.received({ kind: k }).slice(before[k]);
    expect(got).toHaveLength(1);
    expect(got[0]!.text).toContain('邮件发送失败已约30分钟');
    // Markdown's characters in the alert's text are inert (飞书's rich text never reads markdown).
    if (k !== 'feishu') expect(got[0]!.text).not.toContain('](http://x)');
  }
  expect(lines.filter((l) => l.startsWith('info operator alert sent'))).toHaveLength(3);
  // A robot with a wrong key: tried, refused (企业微信 93000), logged; never thrown.
  const bad = robotChannel('wecom', 'nobody', { key: 'not-a-key' }, endpoints);
  await notifyOperators([bad], alert, log, 2, 0);
  expect(lines.at(-1)).toBe('warn operator alert could not be sent; it stands on the board and in /readyz');
});

test('DUBAN_OPERATOR_ROBOT: <kind>:<name> checked at start; a robot without its key named by the setting to set', () => {
  expect(() => loadSettings({ DUBAN_OPERATOR_ROBOT: 'sms:ops' })).toThrow(
    /DUBAN_OPERATOR_ROBOT.*wecom、dingtalk 或 feishu/,
  );
  const settings = loadSettings({ DUBAN_OPERATOR_ROBOT: 'dingtalk:ops-ding' });
  expect(() => operatorChannels(settings.operations, { secrets: loadChannelSecrets({}) })).toThrow(SettingsError);
  expect(() => operatorChannels(settings.operations, { secrets: loadChannelSecrets({}) })).toThrow(
    /DUBAN_OPERATOR_ROBOT=dingtalk:ops-ding：.*请设置 DUBAN_CHANNEL_OPS_DING_KEY/,
  );
  const ok = operatorChannels(settings.operations, {
    secrets: loadChannelSecrets({ DUBAN_CHANNEL_OPS_DING_KEY: 'token' }),
  });
  expect(ok.map((c) => c.name)).toEqual(['dingtalk robot ops-ding']);
});

test('what to fix, by kind and answer: the setting named, in Chinese', () => {
  expect(
    brokenChannelText(
      'sfj-wecom',
      'wecom',
      'channel "sfj-wecom" (wecom) has no secret in the settings: set DUBAN_CHANNEL_SFJ_WECOM_KEY, or give it under "sfj-wecom" in the file DUBAN_CHANNEL_SECRETS_FILE names',
    ),
  ).toContain('该渠道缺少密钥：请在工作进程的设置中填写 DUBAN_CHANNEL_SFJ_WECOM_KEY');
  expect(brokenChannelText('sfj-wecom', 'wecom', 'errcode 93000: invalid webhook url')).toContain(
    '复制其 webhook 地址中 key= 之后的部分，填入 DUBAN_CHANNEL_SFJ_WECOM_KEY',
  );
  expect(brokenChannelText('ding', 'dingtalk', 'errcode 300001: token is not exist')).toContain(
    'access_token= 之后的部分，填入 DUBAN_CHANNEL_DING_KEY',
  );
  expect(brokenChannelText('fs', 'feishu', 'code 19021: sign match fail')).toContain('DUBAN_CHANNEL_FS_SECRET');
  expect(brokenChannelText('fs', 'feishu', 'code 19024: Key Words Not Found')).toContain('自定义关键词设为“督办”');
  expect(brokenChannelText('sms', 'sms', 'isv.SMS_TEMPLATE_ILLEGAL: 模板不合法')).toContain('templateCode');
  expect(brokenChannelText('sms', 'sms', 'isv.SMS_SIGNATURE_ILLEGAL: 签名不合法')).toContain('signName');
  expect(brokenChannelText('sms', 'sms', 'InvalidAccessKeyId.NotFound: x')).toContain('DUBAN_CHANNEL_SMS_SECRET');
  expect(brokenChannelText('oa', 'webhook', 'HTTP 401: bad signature')).toMatch(
    /^Webhook渠道 oa 无法发送（HTTP 401: bad signature）。接收方拒绝了消息：.*DUBAN_CHANNEL_OA_SECRET。该渠道的消息均已保留/,
  );
});
