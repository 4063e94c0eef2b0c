/**
 * `duban urge` (issue #19 item 10) through the installed command: its help names what it does, with an example and
 * --json; its options are checked before anything connects; against a running service (a Temporal dev server, a
 * worker with the real activities, a real SMTP server) it sends the 催办 mail at once, and a second 催办 the same
 * working day is refused in Chinese, exit 2, nothing sent. The Update's rules are also tested on the time-skipping
 * server (test/engine/catch-up-urge.test.ts).
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Ledger } from '../ledger';
import { EngineWorker, devServerEnv, startEngineWorker, startTracker, statusOf } from './support/engine';
import { freePort } from './support/ports';
import { SmtpSink, startSmtpSink } from './support/smtp';
import { overdueOneOff } from './support/trackers';

jest.setTimeout(120_000);

const root = path.resolve(__dirname, '..');
const duban = (env: Record<string, string>, ...args: string[]) => {
  const r = spawnSync(process.execPath, [path.join(root, 'bin', 'duban.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, TZ: 'UTC', ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

test('duban urge --help: what it does, an example, --by, --period, --note and --json', () => {
  const h = duban({}, 'urge', '--help');
  expect(h.code).toBe(0);
  expect(h.stdout).toMatch(/用法：duban urge \[options\] <obligation> <unit>/);
  expect(h.stdout).toMatch(/督察单位对逾期（红灯）期次立即发出催办/);
  expect(h.stdout.replace(/\s+/g, ' ')).toMatch(/每个期次每个工作日至多一次/);
  for (const option of ['--by <name>', '--period <label>', '--note <text>', '--json'])
    expect(h.stdout).toContain(option);
  expect(h.stdout).toMatch(/示例：\n\s+duban urge annual-report-dept sfj --by \S+/);
});

test('duban urge with Temporal unreachable: exit 1, naming where it looked, no stack trace', async () => {
  const port = await freePort();
  const r = duban({ TEMPORAL_ADDRESS: `127.0.0.1:${port}` }, 'urge', 'annual-report-dept', 'sfj', '--by', '王明');
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`127.0.0.1:${port}`);
  expect(r.stderr).not.toMatch(/\n\s+at /);
});

describe('duban urge against a running service', () => {
  let env: TestWorkflowEnvironment;
  let sink: SmtpSink;
  let ledger: Ledger;
  let engine: EngineWorker;
  const taskQueue = 'cli-urge';
  const data = mkdtempSync(path.join(tmpdir(), 'duban-cli-urge-'));

  beforeAll(async () => {
    env = await devServerEnv();
    sink = await startSmtpSink();
    ledger = await Ledger.open({ sqliteFile: path.join(data, 'ledger.sqlite') });
    engine = await startEngineWorker({ connection: env.nativeConnection, taskQueue, sink, ledger });
  });
  afterAll(async () => {
    await engine?.stop();
    await ledger?.close();
    await sink?.close();
    await env?.teardown();
  });

  /** The command in a process of its own, not blocking this one (whose worker answers its Update). */
  const run = (...args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(
        process.execPath,
        [path.join(root, 'bin', 'duban.js'), ...args],
        {
          encoding: 'utf8',
          env: {
            ...process.env,
            TZ: 'UTC',
            TEMPORAL_ADDRESS: env.address,
            DUBAN_TASK_QUEUE: taskQueue,
            DUBAN_DATA_DIR: data,
          },
        },
        (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
      ),
    );

  const until = async (what: string, check: () => boolean) => {
    for (let i = 0; i < 300 && !check(); i++) await new Promise((r) => setTimeout(r, 100));
    if (!check()) throw new Error(`timed out waiting for ${what}`);
  };

  test('the 催办 mail goes at once; a second the same working day is refused in Chinese and sends nothing', async () => {
    const { overdue } = overdueOneOff();
    const definition = overdue('caizheng');
    await statusOf(await startTracker(env.client, taskQueue, definition));
    // The overdue period's level-1 escalation goes first, on its own.
    await until('the level-1 escalation', () => sink.messages.some((m) => m.key.endsWith('/e1.0')));
    const urges = () => sink.messages.filter((m) => /\/urge/.test(m.key) || /催办/.test(m.parsed.subject ?? ''));
    const before = urges().length;

    const first = await run('urge', 'overdue', 'caizheng', '--by', '依法治市办王明', '--note', '请于本周五前报送');
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('已受理依法治市办王明的催办，催办通知即时发给承办单位负责人和联络员');
    await until('the 催办 mail', () => urges().length > before);
    const mail = urges().at(-1)!;
    expect(mail.parsed.subject).toContain('催办');
    expect(mail.to).toEqual(expect.arrayContaining([definition.unit.head.email, definition.unit.liaison.email]));
    expect(mail.parsed.text).toContain('依法治市办王明');
    expect(mail.parsed.text).toContain('催办意见');
    expect(mail.parsed.text).toContain('请于本周五前报送');
    const sentBefore = sink.messages.length;

    const second = await run('urge', 'overdue', 'caizheng', '--by', '依法治市办王明');
    expect(second.code).toBe(2);
    expect(second.stdout).toBe('');
    expect(second.stderr).toMatch(
      /^错误：overdue\/caizheng: .*由依法治市办王明催办过，每个工作日最多催办一次；\d{4}-\d{2}-\d{2}起可再次催办\n$/,
    );
    expect(second.stderr).not.toMatch(/\n\s+at /);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(sink.messages.length).toBe(sentBefore);
  });
});
