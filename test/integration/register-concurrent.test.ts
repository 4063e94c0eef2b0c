/**
 * Two registrations at once (issue 13.6): each tracker is started once, and each run's report says what happened.
 * A tracker the other run started between this run's look and its own start is "started by another
 * registration", never "ended for good" (已永久结束, which tells an administrator to act on trackers that are fine).
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Duban, RegisterSummary } from '../../access/temporal';
import { loadSettings } from '../../config/settings';
import { devServerEnv } from '../support/engine';
import { tracker } from '../support/trackers';

jest.setTimeout(240_000);

const root = path.resolve(__dirname, '..', '..');

function runCli(
  env: Record<string, string>,
  ...args: string[]
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(root, 'bin', 'duban.js'), ...args], {
      cwd: root,
      env: { ...process.env, TZ: 'UTC', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Every tracker started exactly once between the two runs, and none called ended. */
function expectConsistent(a: RegisterSummary, b: RegisterSummary, all: string[]) {
  expect(a.ended).toEqual([]);
  expect(b.ended).toEqual([]);
  for (const id of all) {
    const starts = [a, b].filter((s) => s.started.includes(id)).length;
    expect({ id, starts }).toEqual({ id, starts: 1 });
    // The run that did not start it saw it running: already (unchanged) or just started by the other run.
    const other = a.started.includes(id) ? b : a;
    expect({ id, seen: other.unchanged.includes(id) || other.startedByOther.includes(id) }).toEqual({ id, seen: true });
  }
}

describe('two registrations at once', () => {
  let env: TestWorkflowEnvironment;
  let dir: string;

  beforeAll(async () => {
    env = await devServerEnv();
    dir = mkdtempSync(path.join(tmpdir(), 'duban-register-concurrent-'));
  });
  afterAll(async () => {
    await env?.teardown();
  });

  test('two `duban register` processes on the built-in catalog: each tracker started once, each report true', async () => {
    const cliEnv = {
      TEMPORAL_ADDRESS: env.address,
      TEMPORAL_NAMESPACE: env.namespace ?? 'default',
      DUBAN_TASK_QUEUE: 'register-cli',
      DUBAN_DATA_DIR: path.join(dir, 'cli'),
      DUBAN_USER: '测试管理员',
    };
    // Registration reads the ledger; without a worker, `duban migrate` creates it.
    expect(
      spawnSync(process.execPath, [path.join(root, 'bin', 'duban.js'), 'migrate'], {
        cwd: root,
        env: { ...process.env, ...cliEnv },
        encoding: 'utf8',
      }).status,
    ).toBe(0);
    const [a, b] = await Promise.all([runCli(cliEnv, 'register', '--json'), runCli(cliEnv, 'register', '--json')]);
    expect([a.code, b.code, a.stderr, b.stderr]).toEqual([0, 0, '', '']);
    const [sa, sb] = [JSON.parse(a.stdout) as RegisterSummary, JSON.parse(b.stdout) as RegisterSummary];
    const all = [
      ...new Set([
        ...sa.started,
        ...sb.started,
        ...sa.unchanged,
        ...sb.unchanged,
        ...sa.startedByOther,
        ...sb.startedByOther,
      ]),
    ].sort();
    expect(all.length).toBeGreaterThan(50);
    expectConsistent(sa, sb, all);
    // The text report says it in words.
    const again = await runCli(cliEnv, 'register');
    expect(again.stdout).toMatch(/^已新建0项，已更新0项，未变\d+项，已停用0项$/m);
    expect(again.stdout).not.toMatch(/已永久结束/);
  });

  test('two registrations racing on the same trackers in one process: the loser reports them as started by another registration', async () => {
    const settings = loadSettings({
      TEMPORAL_ADDRESS: env.address,
      TEMPORAL_NAMESPACE: env.namespace ?? 'default',
      DUBAN_TASK_QUEUE: 'register-race',
      DUBAN_DATA_DIR: path.join(dir, 'race'),
    });
    expect(
      spawnSync(process.execPath, [path.join(root, 'bin', 'duban.js'), 'migrate'], {
        cwd: root,
        env: { ...process.env, DUBAN_DATA_DIR: path.join(dir, 'race') },
        encoding: 'utf8',
      }).status,
    ).toBe(0);
    const trackers = Array.from({ length: 20 }, (_, i) => ({
      ...tracker(),
      trackerId: `race/u${i}`,
      unit: { ...tracker().unit, id: `u${i}` },
    }));
    const [d1, d2] = [await Duban.connect(settings), await Duban.connect(settings)];
    try {
      const [s1, s2] = await Promise.all([d1.register(trackers, { by: 'a' }), d2.register(trackers, { by: 'b' })]);
      const ids = trackers.map((t) => t.trackerId).sort();
      expectConsistent(s1, s2, ids);
      // Both looked before either started: the race happened, and was reported as what it was.
      expect(s1.startedByOther.length + s2.startedByOther.length).toBeGreaterThan(0);
      expect([...s1.started, ...s2.started].sort()).toEqual(ids);
      expect([...s1.updated, ...s2.updated]).toEqual([]);
    } finally {
      await d1.close();
      await d2.close();
    }
  });
});
