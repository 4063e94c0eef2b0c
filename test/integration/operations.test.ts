/**
 * What an operator watches (issue 11.3, 13.5), on the dev server with real worker processes, a real SMTP server
 * and the SQLite ledger: the Prometheus endpoint with duban's counters and gauges, /healthz and /readyz, and SMTP
 * that takes nothing (wrong credentials): one clear error naming SMTP_URL with the password redacted, readiness
 * and metrics showing it, an alert `duban status` prints, cleared when mail goes through again.
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { SMTPServer } from 'smtp-server';
import type { TrackerDefinition } from '../../domain/trackers';
import { trackerWorkflow } from '../../workflows/tracker';
import { workflowIdFor } from '../../workflows/messages';
import { devServerEnv } from '../support/engine';
import { SmtpSink, startSmtpSink } from '../support/smtp';
import { overdueOneOff } from '../support/trackers';
import { WorkerProcess, spawnWorker } from '../support/worker-process';
import { freePort } from '../support/ports';

jest.setTimeout(240_000);

const root = path.resolve(__dirname, '..', '..');

/** A one-off two working days overdue: its level-1 escalation goes out at once (as in devserver.test.ts). */
const { overdue } = overdueOneOff();

async function get(url: string): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(15_000) });
  return { status: res.status, text: await res.text() };
}

/** The sum of a Prometheus metric's samples whose labels include all of `labels`. */
function sample(exposition: string, name: string, labels: Record<string, string>): number | undefined {
  let total: number | undefined;
  for (const line of exposition.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) total = (total ?? 0) + Number(m[3]);
  }
  return total;
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function duban(env: Record<string, string>, ...args: string[]) {
  const clean = { ...process.env };
  for (const k of ['TEMPORAL_ADDRESS', 'DATABASE_URL', 'DUBAN_DATA_DIR', 'DUBAN_CONFIG', 'SMTP_URL']) delete clean[k];
  const r = spawnSync(process.execPath, [path.join(root, 'bin', 'duban.js'), ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...clean, TZ: 'UTC', ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('operations on the dev server with worker processes', () => {
  let env: TestWorkflowEnvironment;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    env = await devServerEnv();
  });
  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null) await w.kill('SIGTERM');
    await env?.teardown();
  });

  const start = (definition: TrackerDefinition, taskQueue: string) =>
    env.client.workflow.start(trackerWorkflow, {
      workflowId: workflowIdFor(definition.trackerId),
      taskQueue,
      args: [{ definition }],
    });

  async function worker(taskQueue: string, smtpUrl: string, extra: Record<string, string> = {}) {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'duban-ops-'));
    const [metricsPort, healthPort] = [await freePort(), await freePort()];
    const logFile = path.join(dataDir, 'worker.log');
    const w = spawnWorker(
      {
        TEMPORAL_ADDRESS: env.address,
        TEMPORAL_NAMESPACE: env.namespace ?? 'default',
        SMTP_URL: smtpUrl,
        MAIL_FROM: '督办系统 <duban@test.example.org>',
        DUBAN_DATA_DIR: dataDir,
        DUBAN_TASK_QUEUE: taskQueue,
        DUBAN_DIGEST: 'false',
        DUBAN_METRICS_ADDRESS: `127.0.0.1:${metricsPort}`,
        DUBAN_HEALTH_ADDRESS: `127.0.0.1:${healthPort}`,
        DUBAN_METRICS_REFRESH_SECONDS: '1',
        ...extra,
      },
      logFile,
    );
    workers.push(w);
    const health = `http://127.0.0.1:${healthPort}`;
    await until('the health endpoint', async () => (await get(`${health}/healthz`)).status === 200);
    return { w, dataDir, logFile, metrics: `http://127.0.0.1:${metricsPort}/metrics`, health };
  }

  test("the worker's Prometheus endpoint counts duban's notices and board; /readyz turns unready when the SMTP server stops", async () => {
    const sink: SmtpSink = await startSmtpSink();
    const taskQueue = 'ops-metrics';
    const { w, metrics, health, dataDir } = await worker(taskQueue, sink.url);
    try {
      const ready = await get(`${health}/readyz`);
      expect(ready.status).toBe(200);
      expect(JSON.parse(ready.text)).toMatchObject({
        ready: true,
        checks: { temporal: { ok: true }, database: { ok: true }, smtp: { ok: true } },
      });

      for (const unit of ['m1', 'm2', 'm3']) await start(overdue(unit), taskQueue);
      await sink.waitFor(3, 60_000);

      const text = await until('duban_notices to count 3 and the board gauge 3 red', async () => {
        const t = (await get(metrics)).text;
        return (
          sample(t, 'duban_notices', { stage: 'escalation', level: '1', result: 'sent' }) === 3 &&
          sample(t, 'duban_trackers', { colour: 'red' }) === 3 &&
          t
        );
      });
      // Temporal's own worker metrics beside duban's: deliveries run as local activities.
      expect(text).toMatch(/^temporal_local_activity_execution_latency_count\{activity_type="deliverNotice"/m);
      expect(sample(text, 'duban_notices', { result: 'rejected' }) ?? 0).toBe(0);
      expect(sample(text, 'duban_notice_retries', {}) ?? 0).toBe(0);
      expect(sample(text, 'duban_smtp_up', {})).toBe(1);
      expect(sample(text, 'duban_trackers', { colour: 'green' })).toBe(0);

      // The SMTP server stops: the process is alive, but not ready.
      void sink.close();
      const unready = await until(
        '/readyz to turn unready',
        async () => {
          const r = await get(`${health}/readyz`);
          return r.status === 503 && JSON.parse(r.text);
        },
        30_000,
      );
      expect(unready).toMatchObject({
        ready: false,
        checks: { temporal: { ok: true }, database: { ok: true }, smtp: { ok: false, setting: 'SMTP_URL' } },
      });
      expect((await get(`${health}/healthz`)).status).toBe(200);
      // Nothing of this reaches the board.
      expect(duban({ DUBAN_DATA_DIR: dataDir }, 'status').stdout).not.toMatch(/警告/);
    } finally {
      expect(await w.kill('SIGTERM')).toBe(0);
    }
  });

  test('wrong SMTP credentials: one clear error naming SMTP_URL (password redacted), unready, counted, then a warning on the board until mail goes through', async () => {
    let acceptLogin = false;
    const received: string[] = [];
    const server = new SMTPServer({
      logger: false,
      disabledCommands: ['STARTTLS'],
      allowInsecureAuth: true,
      onAuth(auth, _session, cb) {
        if (acceptLogin && auth.username === 'duban') return cb(null, { user: auth.username });
        cb(new Error('Invalid username or password'));
      },
      onData(stream, _session, cb) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          received.push(Buffer.concat(chunks).toString('utf8'));
          cb();
        });
      },
    });
    server.on('error', () => undefined);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.server.address() as AddressInfo).port;
    const password = 'Wr0ng-Secret-9f3';
    const taskQueue = 'ops-auth';
    const { w, metrics, health, dataDir, logFile } = await worker(
      taskQueue,
      `smtp://duban:${password}@127.0.0.1:${port}`,
      { DUBAN_SMTP_ALERT_AFTER_SECONDS: '2', DUBAN_LOG_LEVEL: 'INFO' },
    );
    try {
      await start(overdue('auth'), taskQueue);
      // Temporal retries (5 s, 10 s, ...): wait for a few failed attempts.
      await until(
        'three failed attempts',
        async () =>
          (sample((await get(metrics)).text, 'duban_notice_retries', { stage: 'escalation', level: '1' }) ?? 0) >= 2,
        60_000,
      );
      const m = (await get(metrics)).text;
      expect(sample(m, 'duban_smtp_up', {})).toBe(0);
      expect(sample(m, 'duban_notices', { result: 'sent' }) ?? 0).toBe(0);

      const r = await get(`${health}/readyz`);
      expect(r.status).toBe(503);
      expect(JSON.parse(r.text).checks.smtp).toMatchObject({
        ok: false,
        setting: 'SMTP_URL',
        error: expect.stringMatching(/535|Invalid/),
      });

      // One error for the episode, however many attempts failed; the setting named, the password not written.
      const log = readFileSync(logFile, 'utf8');
      const errors = log.split('\n').filter((l) => l.includes('SMTP is not taking messages'));
      expect(errors).toHaveLength(1);
      const line = JSON.parse(errors[0]!);
      expect(line).toMatchObject({
        level: 'ERROR',
        setting: expect.stringMatching(/^SMTP_URL/),
        smtp: `smtp://duban:***@127.0.0.1:${port}`,
        code: 'EAUTH',
        responseCode: 535,
      });
      expect(log).not.toContain(password);

      // The board: `duban status` warns, naming the setting, without the password.
      const status = await until(
        'the SMTP warning on the board',
        async () => {
          const s = duban({ DUBAN_DATA_DIR: dataDir }, 'status');
          return /警告（smtp/.test(s.stdout) && s;
        },
        30_000,
      );
      expect(status.code).toBe(0);
      expect(status.stdout).toMatch(
        /SMTP 已有\d+分钟未接收任何邮件.*请检查 SMTP_URL（smtp:\/\/duban:\*\*\*@127\.0\.0\.1/,
      );
      expect(status.stdout).not.toContain(password);
      expect(duban({ DUBAN_DATA_DIR: dataDir }, 'status', '--json').stdout).toContain('"kind":"smtp"');

      // The operator fixes the mail server: the retry goes through once, the alert is cleared, readiness returns.
      acceptLogin = true;
      await until('the notice to go through', async () => received.length >= 1, 120_000);
      await until(
        'the warning to leave the board',
        async () => !/警告/.test(duban({ DUBAN_DATA_DIR: dataDir }, 'status').stdout),
        20_000,
      );
      await until('/readyz to be ready again', async () => (await get(`${health}/readyz`)).status === 200, 30_000);
      expect(received).toHaveLength(1);
      expect(readFileSync(logFile, 'utf8')).toContain('SMTP takes messages again');
    } finally {
      expect(await w.kill('SIGTERM')).toBe(0);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
