/**
 * Registration benchmark (issue #4): on the dev server with a worker process and an SMTP sink, register 10,000
 * trackers (500 units x 20 obligations) from scratch, then again unchanged, and time `duban status` on them.
 * Targets: first registration under 5 minutes, the unchanged re-run under 1 minute, status under 2 seconds.
 * Beside it in the same run (issue #25), its floor: a plain loop of `client.workflow.start` of the bare Temporal
 * workflow (bench/bare-temporal/start-loop.ts), as many, 32 at a time, from a process of its own, on a dev server of
 * its own with the bare worker running; the first registration's target is at least 0.8 of that loop's rate.
 * Prints one JSON object; asserts nothing.
 *
 *   npm run bench:register      (BENCH_UNITS, BENCH_OBLIGATIONS to resize)
 */
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { SMTPServer } from 'smtp-server';
import { stringify } from 'yaml';
import { PROJECT_ROOT } from '../config/load';
import { devServerEnvironment } from '../config/servers';
import { SEARCH_ATTRIBUTES } from '../workflows/messages';
import { syntheticDirectory } from './synthetic';

const UNITS = Number(process.env.BENCH_UNITS ?? 500);
const OBLIGATIONS = Number(process.env.BENCH_OBLIGATIONS ?? 20);

function writeInputs(dir: string) {
  const directory = syntheticDirectory(UNITS);
  const shapes = [
    { period: 'year', due: { rule: 'next-month-day', monthDay: '03-01', before: true } },
    { period: 'half-year', due: { rule: 'after-period-end', days: 15 } },
    { period: 'quarter', due: { rule: 'period-end' }, completion: 'quota', quota: 1 },
    { period: 'year', due: { rule: 'period-end' }, completion: 'quota', quota: 4 },
  ];
  const catalog = {
    obligations: Array.from({ length: OBLIGATIONS }, (_, i) => ({
      id: `obligation-${i}`,
      title: `任务${i}`,
      basis: [{ document: '基准文件', quote: '基准' }],
      assignees: { tags: ['all'] },
      reminders: [3, 0],
      ...shapes[i % shapes.length],
    })),
  };
  writeFileSync(path.join(dir, 'catalog.yaml'), stringify(catalog));
  writeFileSync(path.join(dir, 'directory.yaml'), stringify(directory));
}

function timed(args: string[], env: NodeJS.ProcessEnv): { seconds: number; stdout: string; code: number | null } {
  const started = Date.now();
  const r = spawnSync(process.execPath, [path.join(PROJECT_ROOT, 'bin', 'duban.js'), ...args], {
    env,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  if (r.status !== 0) console.error(r.stderr);
  return { seconds: (Date.now() - started) / 1000, stdout: r.stdout, code: r.status };
}

async function main() {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const env = await devServerEnvironment(Object.values(SEARCH_ATTRIBUTES));
  const sink = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData: (s, _x, cb) => (s.on('data', () => undefined), s.on('end', () => cb())),
  });
  sink.on('error', () => undefined);
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
  const dir = mkdtempSync(path.join(tmpdir(), 'duban-register-bench-'));
  writeInputs(dir);
  const runEnv = {
    ...process.env,
    TZ: 'UTC',
    TEMPORAL_ADDRESS: env.address,
    DUBAN_TASK_QUEUE: 'register-bench',
    DUBAN_DATA_DIR: path.join(dir, 'data'),
    SMTP_URL: `smtp://127.0.0.1:${(sink.server.address() as AddressInfo).port}`,
    DUBAN_DIGEST: 'false',
    DUBAN_LOG_LEVEL: 'ERROR',
  };
  const worker = spawn(process.execPath, [path.join(PROJECT_ROOT, 'dist', 'worker', 'main.js')], {
    env: runEnv,
    stdio: 'inherit',
  });
  try {
    const files = [path.join(dir, 'catalog.yaml'), path.join(dir, 'directory.yaml')];
    const first = timed(['register', ...files, '--json'], runEnv);
    const firstSummary = JSON.parse(first.stdout);
    // Let visibility catch up and the workflows publish their colour before the unchanged run and the board.
    for (let i = 0; i < 600; i++) {
      const n = (
        await env.client.workflow.count(
          `WorkflowType = 'trackerWorkflow' AND ExecutionStatus = 'Running' AND DubanColour IS NOT NULL`,
        )
      ).count;
      if (n >= firstSummary.started.length) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const second = timed(['register', ...files, '--json'], runEnv);
    const secondSummary = JSON.parse(second.stdout);
    const status = timed(['status', '--json'], runEnv);
    const board = JSON.parse(status.stdout);
    const trackers = UNITS * OBLIGATIONS;
    const loop = await bareStartLoop(trackers, sink.server.address() as AddressInfo);
    console.log(
      JSON.stringify({
        benchmark: 'register',
        trackers,
        first: {
          seconds: first.seconds,
          started: firstSummary.started.length,
          trackersPerSecond: Math.round(trackers / first.seconds),
        },
        unchanged: {
          seconds: second.seconds,
          unchanged: secondSummary.unchanged.length,
          trackersPerSecond: Math.round(trackers / second.seconds),
        },
        status: { seconds: status.seconds, items: board.items.length },
        bareStartLoop: { seconds: loop, workflowsPerSecond: Math.round(trackers / loop) },
        firstToBareStartLoop: Number((loop / first.seconds).toFixed(3)),
        targets: { firstSeconds: 300, unchangedSeconds: 60, statusSeconds: 2, firstToBareStartLoop: 0.8 },
      }),
    );
  } finally {
    worker.kill('SIGTERM');
    await new Promise((r) => worker.once('exit', r));
    await new Promise<void>((r) => sink.close(() => r()));
    await env.teardown();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The peer: the bare worker on a fresh dev server, and the start loop timed as a child process, in seconds. */
async function bareStartLoop(n: number, sink: AddressInfo): Promise<number> {
  const env = await devServerEnvironment([]);
  const taskQueue = `bare-starts-${Date.now()}`;
  const childEnv = { ...process.env, TZ: 'UTC', TEMPORAL_ADDRESS: env.address, TASK_QUEUE: taskQueue };
  const worker = spawn(process.execPath, [path.join(PROJECT_ROOT, 'dist', 'bench', 'bare-temporal', 'worker.js')], {
    env: { ...childEnv, SINK_PORT: String(sink.port) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      worker.stdout!.on('data', (b: Buffer) => b.toString().includes('ready') && resolve());
      worker.once('exit', (code) => reject(new Error(`the bare Temporal peer's worker exited (${code})`)));
    });
    const started = Date.now();
    const r = spawnSync(
      process.execPath,
      [path.join(PROJECT_ROOT, 'dist', 'bench', 'bare-temporal', 'start-loop.js')],
      {
        env: { ...childEnv, BENCH_STARTS: String(n) },
        stdio: 'inherit',
      },
    );
    if (r.status !== 0) throw new Error(`the start loop exited with ${r.status}`);
    return (Date.now() - started) / 1000;
  } finally {
    worker.kill('SIGTERM');
    await new Promise((r) => worker.once('exit', r));
    await env.teardown();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
