/**
 * End to end: trackers on the time-skipping server, the real worker factory and activities, a SQLite ledger, a
 * real SMTP server, and the worker's channel dispatcher sending to the loopback fakes. An overdue one-off's
 * level-1 notice reaches the unit's 企业微信 robot; its 督办单 the unit's robot, the office's 钉钉 robot (with an
 * @ of the head) and the head's phone; its circular (level 3) the leadership's 飞书 bot, signed; each once, beside
 * its email. No secret is in the history or the ledger.
 */
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { ChannelDispatcher } from '../../activities/channels';
import { createSmtpTransport } from '../../channels/email/smtp';
import { ChannelFakes } from '../../channels/fakes';
import { loadChannelSecrets, secretVariable } from '../../config/channels';
import { WorkingCalendar } from '../../domain/calendar';
import type { TrackerDefinition } from '../../domain/trackers';
import { Ledger } from '../../ledger';
import { createEngineWorker } from '../../worker/factory';
import { startTracker, statusOf, tempLedgerFile, timeSkippingEnv, workflowBundle } from '../support/engine';
import { startSmtpSink } from '../support/smtp';
import { overdueOneOff } from '../support/trackers';

jest.setTimeout(240_000);

const SECRETS = {
  [secretVariable('unit-wecom', 'KEY')]: 'wk-e2e-secret-key',
  [secretVariable('office-ding', 'KEY')]: 'dt-e2e-token',
  [secretVariable('office-ding', 'SECRET')]: 'SECe2e-signing-secret',
  [secretVariable('sms', 'KEY')]: 'LTAI-e2e-id',
  [secretVariable('sms', 'SECRET')]: 'e2e-sms-access-secret',
  [secretVariable('oa', 'SECRET')]: 'e2e-webhook-signing-secret',
  [secretVariable('leaders-feishu', 'KEY')]: 'fs-e2e-hook-id',
  [secretVariable('leaders-feishu', 'SECRET')]: 'fs-e2e-signing-secret',
};

async function until(what: string, check: () => boolean, ms = 30_000) {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('notices reach the robots and the phone once each, beside their emails; no secret in history or ledger', async () => {
  const env = await timeSkippingEnv();
  const sink = await startSmtpSink();
  const ledgerFile = tempLedgerFile();
  const ledger = await Ledger.open({ sqliteFile: ledgerFile });
  const fakes = new ChannelFakes({
    wecom: ['wk-e2e-secret-key'],
    dingtalk: [{ token: 'dt-e2e-token', secret: 'SECe2e-signing-secret', keyword: '督办' }],
    sms: [
      {
        accessKeyId: 'LTAI-e2e-id',
        accessKeySecret: 'e2e-sms-access-secret',
        signNames: ['测试市依法治市办'],
        templates: { SMS_1: '${unit}：${task}截止${due}，${stage}。请登录https://duban.test.example.org办理。' },
      },
    ],
    webhooks: { oa: 'e2e-webhook-signing-secret' },
    // 签名校验 on, and the keyword too: the fake refuses a wrong sign (19021) or a message without 督办 (19024).
    feishu: [{ hook: 'fs-e2e-hook-id', secret: 'fs-e2e-signing-secret', keyword: '督办' }],
  });
  const urls = await fakes.start();
  const logged: string[] = [];
  const log = (level: string) => (m: string, meta?: object) =>
    void logged.push(`${level} ${m} ${JSON.stringify(meta)}`);
  const dispatcher = new ChannelDispatcher({
    ledger,
    secrets: loadChannelSecrets(SECRETS),
    endpoints: { wecom: urls.wecom, dingtalk: urls.dingtalk, feishu: urls.feishu, aliyun: urls.aliyun },
    log: { info: log('info'), warn: log('warn'), error: log('error') },
    settleMs: 200,
    pollMs: 200,
  });
  const transport = createSmtpTransport({ url: sink.url, maxConnections: 2 });
  const taskQueue = 'channels-e2e';
  const worker = await createEngineWorker({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    ledger,
    transport,
    connections: 2,
    from: { name: '督办系统', address: 'duban@test.example.org' },
    calendar: new WorkingCalendar(),
    onChannelRows: () => dispatcher.kick(),
  });
  const running = worker.run();
  await dispatcher.start();
  try {
    const { overdue } = overdueOneOff();
    const base = overdue('caizheng');
    const definition: TrackerDefinition = {
      ...base,
      // The circular at +10 working days, to the leadership (once: not repeated weekly here).
      escalation: [...base.escalation, { level: 3, after: 10, repeatWeekly: false }],
      unit: { ...base.unit, head: { ...base.unit.head, mobile: '13900000001' } },
      channels: {
        unit: [
          { name: 'unit-wecom', kind: 'wecom', mention: false },
          { name: 'oa', kind: 'webhook', mention: false, url: `${urls.webhook}/oa` },
        ],
        office: [{ name: 'office-ding', kind: 'dingtalk', mention: true }],
        leadership: [{ name: 'leaders-feishu', kind: 'feishu', mention: false }],
        sms: { name: 'sms', kind: 'sms', mention: false, signName: '测试市依法治市办', templateCode: 'SMS_1' },
        steps: { reminders: ['unit'], level1: ['unit'], level2: ['unit', 'office', 'sms'], level3: ['leadership'] },
      },
    };
    const handle = await startTracker(env.client, taskQueue, definition);
    await statusOf(handle);
    // Level 1 is due already: its email, then the unit's robot.
    await until('the level-1 message on the unit robot', () => fakes.received({ kind: 'wecom' }).length === 1);
    expect(fakes.received({ kind: 'wecom' })[0]!.text).toContain('已逾期，请单位负责人督促办理');
    expect(fakes.received({ kind: 'dingtalk' })).toHaveLength(0);
    // Level 2, five working days after due: the 督办单 on three channels.
    await env.sleep(8 * 24 * 3600_000);
    await until('the 督办单 on the office robot and the phone', () => {
      return fakes.received({ kind: 'dingtalk' }).length === 1 && fakes.received({ kind: 'sms' }).length === 1;
    });
    await until('the 督办单 on the unit robot', () => fakes.received({ kind: 'wecom' }).length === 2);
    const ding = fakes.received({ kind: 'dingtalk' })[0]!;
    expect(ding.text).toMatch(/督办单 督〔\d{4}〕1号/);
    expect(ding.body).toMatchObject({ at: { atMobiles: ['13900000001'] } });
    const sms = fakes.received({ kind: 'sms' })[0]!;
    expect(sms.to).toBe('13900000001');
    expect(sms.text).toMatch(/^【测试市依法治市办】市财政局：/);
    // The unit's webhook heard the period turn red and each notice sent.
    const events = fakes.received({ kind: 'webhook' }).map((r) => (r.body as { type: string }).type);
    expect(events).toEqual(expect.arrayContaining(['period.red', 'notice.sent']));
    expect(events.filter((t) => t === 'period.red')).toHaveLength(1);
    expect(fakes.webhook.duplicates).toBe(0);
    // Emails went too, each once.
    const keys = () => sink.messages.map((m) => m.key);
    expect(new Set(keys()).size).toBe(keys().length);
    expect(keys().some((k) => k?.endsWith('/e1.0'))).toBe(true);
    expect(keys().some((k) => k?.endsWith('/e2.0'))).toBe(true);
    expect(fakes.received({ kind: 'feishu' })).toHaveLength(0);
    // Level 3, ten working days after due: the circular on the leadership's 飞书 bot, signed as 飞书 requires (two
    // weeks more: ten working days even across 春节 or 国庆).
    await env.sleep(14 * 24 * 3600_000);
    await until('the circular on the leadership 飞书 bot', () => fakes.received({ kind: 'feishu' }).length === 1);
    const circular = fakes.received({ kind: 'feishu' })[0]!;
    expect(circular.to).toBe('fs-e2e-hook-id');
    expect(circular.text).toMatch(/^【督办】/);
    expect(circular.text).toContain(`${definition.obligation.title}（市财政局，`);
    expect(circular.text).toContain('逾期未办，列入通报');
    expect(circular.body).toMatchObject({ msg_type: 'post', timestamp: expect.any(String), sign: expect.any(String) });
    expect(fakes.requests.filter((q) => q.path.startsWith('/feishu/') && q.status !== 200)).toEqual([]);
    expect(keys().some((k) => k?.endsWith('/e3.0'))).toBe(true);
    // Nothing twice: more time, more rounds, the same messages.
    await new Promise((r) => setTimeout(r, 1_000));
    expect(fakes.received({ kind: 'wecom' })).toHaveLength(2);
    expect(fakes.received({ kind: 'feishu' })).toHaveLength(1);
    const rows = await ledger.channels.rows();
    expect(rows.map((r) => [r.channel, r.status, r.attempts])).toEqual(
      expect.arrayContaining([
        ['unit-wecom', 'sent', 1],
        ['office-ding', 'sent', 1],
        ['sms', 'sent', 1],
        ['oa', 'sent', 1],
        ['leaders-feishu', 'sent', 1],
      ]),
    );
    expect(new Set(keys()).size).toBe(keys().length);
    // No secret in the workflow's history, the ledger's files, or the logs.
    const history = JSON.stringify(await handle.fetchHistory());
    const dir = path.dirname(ledgerFile);
    const files = readdirSync(dir).map((f) => readFileSync(path.join(dir, f)).toString('latin1'));
    for (const secret of Object.values(SECRETS)) {
      expect(history).not.toContain(secret);
      for (const f of files) expect(f).not.toContain(secret);
      expect(logged.join('\n')).not.toContain(secret);
    }
  } finally {
    await dispatcher.stop();
    worker.shutdown();
    await running;
    transport.close();
    await fakes.stop();
    await ledger.close();
    await sink.close();
    await env.teardown();
  }
});
