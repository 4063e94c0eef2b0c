/**
 * Operators told on time, by a second path (issue 21.2): with DUBAN_SMTP_ALERT_AFTER_SECONDS=N, the alert is raised
 * within N seconds plus one check interval (DUBAN_SMTP_ALERT_CHECK_SECONDS) after sends begin failing against a real
 * failing SMTP server on loopback; it is in the ledger (the board, `duban status`), in /readyz and in the log, and
 * reaches the operator channels once: a loopback HTTP receiver that verifies the webhook's HMAC-SHA256 signature
 * and timestamp, and a command that gets the alert as JSON on its standard input. Its clearing is sent too.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo, createServer as createTcpServer, Server as TcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ConnectionSlots, UnrecordedResults, sendOnce } from '../activities/delivery';
import { createSmtpTransport } from '../channels/email/smtp';
import { loadSettings } from '../config/settings';
import { Ledger, NoticeClaim } from '../ledger';
import { startOperations } from '../worker/operations';
import type { OperatorAlert } from '../worker/operator-alert';
import { tempLedgerFile } from './support/engine';
import { startSmtpSink } from './support/smtp';

jest.setTimeout(60_000);

const SECRET = 'test-webhook-secret-0123456789';
const AFTER_SECONDS = 3;
const CHECK_SECONDS = 1;

interface Received {
  at: number;
  alert: OperatorAlert;
}

/** A receiver as an operator would write it: refuses a bad signature or a stale timestamp with 401. */
async function startReceiver(): Promise<{ url: string; received: Received[]; refused: number; server: Server }> {
  const r = { url: '', received: [] as Received[], refused: 0, server: undefined as unknown as Server };
  r.server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const timestamp = String(req.headers['x-duban-timestamp'] ?? '');
      const given = Buffer.from(String(req.headers['x-duban-signature'] ?? ''));
      const expected = Buffer.from(
        `sha256=${createHmac('sha256', SECRET).update(`${timestamp}.${body}`).digest('hex')}`,
      );
      const fresh = Math.abs(Date.now() / 1000 - Number(timestamp)) < 300;
      if (!fresh || given.length !== expected.length || !timingSafeEqual(given, expected)) {
        r.refused++;
        res.writeHead(401).end('bad signature');
        return;
      }
      r.received.push({ at: Date.now(), alert: JSON.parse(body) as OperatorAlert });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => r.server.listen(0, '127.0.0.1', resolve));
  r.url = `http://127.0.0.1:${(r.server.address() as AddressInfo).port}/hooks/duban`;
  return r;
}

const claim = (sendKey: string): NoticeClaim => ({
  sendKey,
  trackerId: 'annual-report/justice',
  obligation: 'annual-report',
  unit: 'justice',
  period: '2027',
  stage: 'reminder',
  level: 0,
  step: 0,
  plannedAt: Date.UTC(2027, 1, 20, 1),
  firedAt: Date.UTC(2027, 1, 20, 1),
  due: '2027-03-01',
  messageId: `<${sendKey.replace(/\W/g, '.')}@duban.test>`,
  to: ['head@justice.test'],
  cc: [],
});

const message = async () => ({ from: 'duban@duban.test', to: ['head@justice.test'], subject: '提醒', text: '正文' });
const fakeConnection = { workflowService: { getSystemInfo: async () => ({}) } };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function collectingLog() {
  const lines: { level: string; message: string; meta?: Record<string, unknown> }[] = [];
  const at = (level: string) => (m: string, meta?: Record<string, unknown>) => lines.push({ level, message: m, meta });
  return {
    lines,
    log: {
      error: at('error'),
      warn: at('warn'),
      info: at('info'),
      debug: at('debug'),
      trace: at('trace'),
      log: at('log'),
    },
  };
}

test('a server that refuses every message: the alert within the delay plus one check, on the board, /readyz, the log, the webhook once; cleared once', async () => {
  const sink = await startSmtpSink();
  sink.failNext = 1_000_000; // 451 for every message
  const receiver = await startReceiver();
  const dir = mkdtempSync(path.join(tmpdir(), 'duban-alert-'));
  const commandOut = path.join(dir, 'alerts.jsonl');
  const settings = loadSettings({
    SMTP_URL: sink.url,
    DUBAN_SMTP_ALERT_AFTER_SECONDS: String(AFTER_SECONDS),
    DUBAN_SMTP_ALERT_CHECK_SECONDS: String(CHECK_SECONDS),
    DUBAN_OPERATOR_WEBHOOK_URL: receiver.url,
    DUBAN_OPERATOR_WEBHOOK_SECRET: SECRET,
    DUBAN_OPERATOR_ALERT_COMMAND: `cat >> '${commandOut}'`,
    DUBAN_HEALTH_ADDRESS: '127.0.0.1:0',
  });
  const ledger = await Ledger.open({ sqliteFile: tempLedgerFile() });
  const transport = createSmtpTransport({ url: sink.url, maxConnections: 1 });
  const { lines, log } = collectingLog();
  const ops = await startOperations({ settings, ledger, transport, connection: fakeConnection, log: log as never });
  const quiet = { info: () => undefined, warn: () => undefined };
  const d = {
    ledger,
    transport,
    slots: new ConnectionSlots(1),
    unrecorded: new UnrecordedResults(ledger, () => quiet),
    log: quiet,
  };
  let retrying = true;
  try {
    // The tracker's retries, one a second, while the server refuses.
    const firstAttemptAt = Date.now();
    const retries = (async () => {
      for (let i = 0; retrying; i++) {
        await sendOnce(d, claim(`k${i % 3}`), message, { heartbeat: () => undefined }).catch(() => undefined);
        await sleep(1_000);
      }
    })();
    for (let i = 0; i < 200 && receiver.received.length === 0; i++) await sleep(50);
    const delaySeconds = (receiver.received[0]!.at - firstAttemptAt) / 1000;
    console.log(
      JSON.stringify({ alertAfterSeconds: AFTER_SECONDS, checkSeconds: CHECK_SECONDS, toldAfterSeconds: delaySeconds }),
    );
    expect(delaySeconds).toBeGreaterThanOrEqual(AFTER_SECONDS);
    expect(delaySeconds).toBeLessThanOrEqual(AFTER_SECONDS + CHECK_SECONDS + 1); // + the HTTP round trip and a send
    expect(receiver.refused).toBe(0);
    expect(receiver.received[0]!.alert).toMatchObject({
      kind: 'smtp',
      state: 'raised',
      taskQueue: 'duban',
      text: expect.stringMatching(/^【督办系统告警】邮件发送失败.*451.*SMTP_URL/),
    });
    // The board (the ledger's alert, `duban status`), /readyz and the log.
    expect(await ledger.openAlerts()).toEqual([
      expect.objectContaining({ kind: 'smtp', message: expect.stringMatching(/451/) }),
    ]);
    const ready = (await (await fetch(`http://${ops.healthAddress}/readyz`)).json()) as {
      ready: boolean;
      checks: { smtp: { ok: boolean; alert?: { message: string } } };
    };
    expect(ready.ready).toBe(false);
    expect(ready.checks.smtp.alert?.message).toMatch(/SMTP 已有\d+分钟未接收任何邮件/);
    expect(lines.filter((l) => l.level === 'error' && /SMTP alert raised/.test(l.message))).toHaveLength(1);
    // The command got the same alert as JSON on its input.
    await ops.settled();
    const fromCommand = readFileSync(commandOut, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as OperatorAlert);
    expect(fromCommand).toEqual([receiver.received[0]!.alert]);

    // Further checks while it still fails tell nobody again.
    await sleep(3 * CHECK_SECONDS * 1000);
    expect(receiver.received).toHaveLength(1);

    // The server takes messages again: the alert is cleared, and that is said once.
    sink.failNext = 0;
    for (let i = 0; i < 100 && receiver.received.length < 2; i++) await sleep(100);
    retrying = false;
    await retries;
    await ops.settled();
    expect(receiver.received.map((r) => r.alert.state)).toEqual(['raised', 'cleared']);
    expect(receiver.received[1]!.alert.text).toMatch(/^【督办系统告警解除】/);
    expect(await ledger.openAlerts()).toEqual([]);
    expect(readFileSync(commandOut, 'utf8').trim().split('\n')).toHaveLength(2);
  } finally {
    retrying = false;
    await ops.close();
    transport.close();
    await ledger.close();
    await sink.close();
    await new Promise((r) => receiver.server.close(r));
  }
});

test('a listener that refuses at the greeting (421): told through the command in time; a failing channel is logged, not fatal', async () => {
  // Answers every connection with 421 and closes it: a mail server that is up and refusing service.
  const refusing: TcpServer = createTcpServer((socket) => socket.end('421 4.3.2 service not available\r\n'));
  await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
  const url = `smtp://127.0.0.1:${(refusing.address() as AddressInfo).port}`;
  const dir = mkdtempSync(path.join(tmpdir(), 'duban-alert-'));
  const commandOut = path.join(dir, 'alert.json');
  const settings = loadSettings({
    SMTP_URL: url,
    DUBAN_SMTP_ALERT_AFTER_SECONDS: '2',
    DUBAN_SMTP_ALERT_CHECK_SECONDS: '1',
    DUBAN_OPERATOR_ALERT_COMMAND: `cat > '${commandOut}'`,
    // Nobody listens here: the webhook fails, and the command still tells.
    DUBAN_OPERATOR_WEBHOOK_URL: 'http://127.0.0.1:9/hook',
    DUBAN_OPERATOR_WEBHOOK_SECRET: SECRET,
  });
  const ledger = await Ledger.open({ sqliteFile: tempLedgerFile() });
  const transport = createSmtpTransport({ url, maxConnections: 1 });
  const { lines, log } = collectingLog();
  const ops = await startOperations({ settings, ledger, transport, connection: fakeConnection, log: log as never });
  const quiet = { info: () => undefined, warn: () => undefined };
  const d = {
    ledger,
    transport,
    slots: new ConnectionSlots(1),
    unrecorded: new UnrecordedResults(ledger, () => quiet),
    log: quiet,
  };
  try {
    const firstAttemptAt = Date.now();
    await sendOnce(d, claim('greeting'), message, { heartbeat: () => undefined }).catch(() => undefined);
    for (let i = 0; i < 100 && !existsSync(commandOut); i++) await sleep(50);
    const delaySeconds = (Date.now() - firstAttemptAt) / 1000;
    expect(delaySeconds).toBeLessThanOrEqual(2 + 1 + 1);
    await sleep(200); // the command's output is flushed when it exits
    expect(JSON.parse(readFileSync(commandOut, 'utf8'))).toMatchObject({ kind: 'smtp', state: 'raised' });
    await ops.settled();
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        message: expect.stringMatching(/operator alert could not be sent/),
        meta: expect.objectContaining({ channel: 'webhook http://127.0.0.1:9/***' }),
      }),
    );
    // The secret is in no log line.
    expect(JSON.stringify(lines)).not.toContain(SECRET);
  } finally {
    await ops.close();
    transport.close();
    await ledger.close();
    await new Promise((r) => refusing.close(r));
  }
});

test('a webhook without its secret is refused at start, naming both settings', () => {
  expect(() => loadSettings({ DUBAN_OPERATOR_WEBHOOK_URL: 'https://ops.example.org/hook' })).toThrow(
    /DUBAN_OPERATOR_WEBHOOK_SECRET.*就须有 DUBAN_OPERATOR_WEBHOOK_SECRET/,
  );
});
