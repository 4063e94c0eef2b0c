/**
 * Reliability under faults (issue 13): scripted, bounded in time and count, on loopback only. Each scenario runs
 * a storm of notices due at once (one-offs registered after their due date: each sends its level-1 escalation at
 * once) on a Temporal dev server of its own, with real worker processes and a real SMTP server, breaks something
 * in the middle, and prints its figures: delivered, lost, duplicated, and the latency of the last message after
 * the storm began. It asserts 0 lost, and 0 duplicated except the documented SMTP-transaction window: a repeat
 * must be traced to a claim another attempt took over after the first one's worker died (docs/reliability.md).
 *
 * Sizes: DUBAN_RELIABILITY_NOTICES (default 100 in `npm test`; `npm run test:reliability` runs 2,000).
 */
import { Client, Connection } from '@temporalio/client';
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Ledger } from '../../ledger';
import { spawnDevServer } from '../../client/start';
import { WorkingCalendar } from '../../domain/calendar';
import { formatDate } from '../../domain/dates';
import type { TrackerDefinition } from '../../domain/trackers';
import { localDay } from '../../domain/zone';
import { workflowIdFor } from '../../workflows/messages';
import { trackerWorkflow } from '../../workflows/tracker';
import { SmtpSink, startSmtpSink } from '../support/smtp';
import { tracker } from '../support/trackers';
import { startTestPostgres } from '../support/postgres';
import { syntheticDirectory } from '../../bench/synthetic';
import { stringify } from 'yaml';
import { WorkerProcess, spawnWorker } from '../support/worker-process';
import { freePort } from '../support/ports';

jest.setTimeout(900_000);

const N = Number(process.env.DUBAN_RELIABILITY_NOTICES ?? 100);
const calendar = new WorkingCalendar();
const dueDay = formatDate(calendar.addWorkingDays(calendar.onOrBefore(localDay(Date.now(), 'Asia/Shanghai') - 1), -1));

function overdue(scenario: string, i: number): TrackerDefinition {
  const base = tracker({
    obligation: { id: scenario, period: 'once', due: { rule: 'fixed-date', date: dueDay } },
    escalation: [
      { level: 1, after: 1, repeatWeekly: false },
      { level: 2, after: 5, repeatWeekly: false },
    ],
  });
  const unit = `u${i}`;
  return {
    ...base,
    trackerId: `${scenario}/${unit}`,
    unit: { ...base.unit, id: unit, head: { name: '负责人', email: `${unit}.head@test.example.org` } },
  };
}

/** A dev server of the scenario's own, its state in a file so that it can be killed and restarted. */
class Server {
  child!: ChildProcess;
  constructor(
    readonly dir: string,
    readonly port: number,
    readonly uiPort: number,
  ) {}
  get address() {
    return `127.0.0.1:${this.port}`;
  }
  async start(): Promise<void> {
    this.child = spawnDevServer(this.dir, this.port, this.uiPort);
    for (let i = 0; i < 300; i++) {
      try {
        const c = await Connection.connect({ address: this.address, connectTimeout: '1 second' });
        await c.close();
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    throw new Error('the dev server did not start');
  }
  async kill(signal: NodeJS.Signals): Promise<void> {
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill(signal);
    await exited;
  }
}

interface Scenario {
  server: Server;
  client: Client;
  connection: Connection;
  sink: SmtpSink;
  dataDir: string;
  workerEnv: Record<string, string>;
  /** What the workers printed: shown when a scenario loses notices, to say why. */
  workersLog: string;
  workers: WorkerProcess[];
  spawn(): WorkerProcess;
  stop(): Promise<void>;
}

async function scenario(
  name: string,
  options: { workers?: number; extraEnv?: Record<string, string> } = {},
): Promise<Scenario> {
  const dir = mkdtempSync(path.join(tmpdir(), `duban-reliability-${name}-`));
  const server = new Server(dir, await freePort(), await freePort());
  await server.start();
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const sink = await startSmtpSink();
  const workerEnv = {
    TEMPORAL_ADDRESS: server.address,
    DUBAN_TASK_QUEUE: name,
    SMTP_URL: sink.url,
    MAIL_FROM: '督办系统 <duban@test.example.org>',
    DUBAN_DATA_DIR: path.join(dir, 'data'),
    DUBAN_DIGEST: 'false',
    ...options.extraEnv,
  };
  const s: Scenario = {
    server,
    client,
    connection,
    sink,
    dataDir: workerEnv.DUBAN_DATA_DIR,
    workerEnv,
    workersLog: path.join(dir, 'workers.log'),
    workers: [],
    spawn: () => spawnWorker(workerEnv, path.join(dir, 'workers.log')),
    async stop() {
      for (const w of s.workers) await w.kill('SIGTERM');
      await connection.close();
      await sink.close();
      await server.kill('SIGTERM').catch(() => undefined);
    },
  };
  for (let i = 0; i < (options.workers ?? 2); i++) s.workers.push(s.spawn());
  return s;
}

async function storm(s: Scenario, name: string, count = N): Promise<{ keys: Set<string>; startedAt: number }> {
  const definitions = Array.from({ length: count }, (_, i) => overdue(name, i));
  const startedAt = Date.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 20 }, async () => {
      while (next < definitions.length) {
        const d = definitions[next++]!;
        await s.client.workflow.start(trackerWorkflow, {
          workflowId: workflowIdFor(d.trackerId),
          taskQueue: name,
          args: [{ definition: d }],
        });
      }
    }),
  );
  return { keys: new Set(definitions.map((d) => `${d.trackerId}/once/${dueDay}/e1.0`)), startedAt };
}

/** Waits for every expected message (or the deadline), then counts, traces repeats in the ledger, and prints. */
async function settle(
  s: Scenario,
  name: string,
  expected: Set<string>,
  startedAt: number,
  extra: Record<string, unknown> = {},
) {
  const until = Date.now() + 600_000;
  const arrived = () => new Set(s.sink.messages.map((m) => m.key));
  while ([...expected].some((k) => !arrived().has(k)) && Date.now() < until)
    await new Promise((r) => setTimeout(r, 250));
  await new Promise((r) => setTimeout(r, 3_000)); // late repeats, if any
  const got = s.sink.messages.filter((m) => expected.has(m.key));
  const perId = new Map<string, number>();
  for (const m of got) perId.set(m.messageId, (perId.get(m.messageId) ?? 0) + 1);
  const repeated = [...perId].filter(([, n]) => n > 1).map(([id]) => id);
  const ledger = await Ledger.open({
    ...(s.workerEnv.DATABASE_URL
      ? { databaseUrl: s.workerEnv.DATABASE_URL }
      : { sqliteFile: path.join(s.dataDir, 'ledger.sqlite') }),
    migrate: false,
  });
  const rows = new Map((await ledger.notices()).map((r) => [r.message_id, r]));
  await ledger.close();
  const lost = [...expected].filter((k) => !arrived().has(k));
  const figures = {
    scenario: name,
    notices: expected.size,
    delivered: new Set(got.map((m) => m.key)).size,
    lost: lost.length,
    duplicated: got.length - perId.size,
    repeatsTracedToATakenOverClaim: repeated.filter((id) => (rows.get(id)?.attempts ?? 0) >= 2).length,
    lastAfterStartSeconds: Number(((Math.max(...got.map((m) => m.receivedAt)) - startedAt) / 1000).toFixed(1)),
    ...extra,
  };
  console.log(JSON.stringify(figures));
  if (lost.length && existsSync(s.workersLog))
    console.error(`${name}: the workers' log ends with\n${readFileSync(s.workersLog, 'utf8').slice(-6000)}`);
  expect(lost).toEqual([]);
  for (const id of repeated) expect(rows.get(id)?.attempts ?? 0).toBeGreaterThanOrEqual(2);
  return figures;
}

describe('reliability under faults', () => {
  test('workers killed with SIGKILL ten times during a storm, two workers on one task queue', async () => {
    const s = await scenario('kills');
    try {
      const { keys, startedAt } = await storm(s, 'kills');
      let kills = 0;
      while (kills < 10) {
        await new Promise((r) => setTimeout(r, 1_000));
        await s.workers[kills % 2]!.kill('SIGKILL');
        s.workers[kills % 2] = s.spawn();
        kills++;
      }
      const f = await settle(s, 'kills', keys, startedAt, { workerKills: kills });
      // The window no SMTP client can close (the server has the whole message, the ledger not yet its 250) is open
      // on each of a worker's SMTP connections at once (5 by default): a kill repeats at most one message a
      // connection, and each repeat is traced to a taken-over claim (settle checks it).
      expect(f.duplicated).toBeLessThanOrEqual(kills * 5);
    } finally {
      await s.stop();
    }
  });

  test('the Temporal server killed with SIGKILL mid-storm and restarted from its database', async () => {
    const s = await scenario('server-kill');
    try {
      const { keys, startedAt } = await storm(s, 'server-kill');
      await new Promise((r) => setTimeout(r, 1_500));
      const killedAt = Date.now();
      await s.server.kill('SIGKILL');
      await new Promise((r) => setTimeout(r, 2_000));
      await s.server.start();
      const f = await settle(s, 'server-kill', keys, startedAt, {
        serverDownSeconds: Number(((Date.now() - killedAt) / 1000).toFixed(1)),
      });
      expect(f.duplicated).toBe(0);
    } finally {
      await s.stop();
    }
  });

  test('an SMTP outage over the instant: every notice is delivered once after it', async () => {
    const s = await scenario('outage');
    try {
      // The mail system refuses everything (451) for 20 seconds from the storm's start.
      s.sink.outageUntil = Date.now() + 20_000;
      const { keys, startedAt } = await storm(s, 'outage');
      const f = await settle(s, 'outage', keys, startedAt, { outageSeconds: 20 });
      console.log(JSON.stringify({ scenario: 'outage', refusedDuringOutage: s.sink.transientFailures }));
      expect(f.duplicated).toBe(0);
      expect(s.sink.transientFailures).toBeGreaterThan(0);
    } finally {
      await s.stop();
    }
  });

  test('a flapping SMTP server (down 3 s, up 3 s) and a slow one (1 s a message): every notice once', async () => {
    const s = await scenario('flapping', { extraEnv: { SMTP_MAX_CONNECTIONS: '3' } });
    const flap = setInterval(() => {
      s.sink.outageUntil = s.sink.outageUntil > Date.now() ? 0 : Date.now() + 3_000;
    }, 3_000);
    try {
      s.sink.delayMs = 1_000;
      const { keys, startedAt } = await storm(s, 'flapping');
      await new Promise((r) => setTimeout(r, 15_000));
      clearInterval(flap);
      s.sink.outageUntil = 0;
      s.sink.delayMs = 0;
      const f = await settle(s, 'flapping', keys, startedAt);
      expect(f.duplicated).toBe(0);
    } finally {
      clearInterval(flap);
      await s.stop();
    }
  });

  test('PostgreSQL restarted under the ledger mid-storm: every notice once', async () => {
    const pg = await startTestPostgres();
    if (!pg.restart) return void (await pg.stop()); // an external database (DUBAN_TEST_DATABASE_URL) is not ours to restart
    const s = await scenario('pg-restart', { extraEnv: { DATABASE_URL: pg.url } });
    try {
      const { keys, startedAt } = await storm(s, 'pg-restart');
      await new Promise((r) => setTimeout(r, 1_500));
      const restartedAt = Date.now();
      await pg.restart();
      const f = await settle(s, 'pg-restart', keys, startedAt, {
        databaseDownSeconds: Number(((Date.now() - restartedAt) / 1000).toFixed(1)),
      });
      expect(f.duplicated).toBe(0);
    } finally {
      await s.stop();
      await pg.stop();
    }
  });

  test('a register killed half-way, then run again, starts every tracker once', async () => {
    const s = await scenario('register-kill');
    const dir = mkdtempSync(path.join(tmpdir(), 'duban-register-kill-'));
    try {
      // 300 trackers: one obligation for every unit of a synthetic directory.
      const units = 300;
      writeFileSync(path.join(dir, 'directory.yaml'), stringify(syntheticDirectory(units)));
      writeFileSync(
        path.join(dir, 'catalog.yaml'),
        stringify({
          obligations: [
            {
              id: 'annual',
              title: '年度报告',
              basis: [{ document: '测试文件', quote: '每年报告' }],
              assignees: { tags: ['all'] },
              period: 'year',
              due: { rule: 'next-month-day', monthDay: '03-01', before: true },
            },
          ],
        }),
      );
      const env = { ...process.env, ...s.workerEnv, TZ: 'UTC', DUBAN_USER: '测试' };
      // The workers create the ledger when they start; register reads it.
      for (let i = 0; i < 300; i++) {
        const q = await s.client.workflowService.describeTaskQueue({
          namespace: 'default',
          taskQueue: { name: 'register-kill' },
          taskQueueType: 1,
        });
        if ((q.pollers?.length ?? 0) > 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const cli = path.resolve(__dirname, '..', '..', 'bin', 'duban.js');
      const first = spawn(
        process.execPath,
        [cli, 'register', path.join(dir, 'catalog.yaml'), path.join(dir, 'directory.yaml'), '--json'],
        { env, stdio: 'ignore' },
      );
      const running = async () =>
        (await s.client.workflow.count(`WorkflowType = 'trackerWorkflow' AND TaskQueue = 'register-kill'`)).count;
      // Kill it once some trackers have started, and before all have.
      for (let i = 0; i < 300 && (await running()) < 20; i++) await new Promise((r) => setTimeout(r, 50));
      first.kill('SIGKILL');
      const startedBefore = await running();
      const second = spawnSync(
        process.execPath,
        [cli, 'register', path.join(dir, 'catalog.yaml'), path.join(dir, 'directory.yaml'), '--json'],
        { env, encoding: 'utf8' },
      );
      expect(second.status).toBe(0);
      const summary = JSON.parse(second.stdout) as { started: string[]; unchanged: string[]; ended: string[] };
      let total = 0;
      for (let i = 0; i < 100 && total < units; i++) {
        total = await running();
        if (total < units) await new Promise((r) => setTimeout(r, 200));
      }
      console.log(
        JSON.stringify({
          scenario: 'register-kill',
          trackers: units,
          startedBeforeTheKill: startedBefore,
          startedByTheSecondRun: summary.started.length,
          alreadyThere: summary.unchanged.length,
          endedForGood: summary.ended.length,
          running: total,
        }),
      );
      expect(startedBefore).toBeLessThan(units);
      expect(summary.ended).toEqual([]);
      expect(summary.started.length + summary.unchanged.length).toBe(units);
      expect(total).toBe(units);
    } finally {
      await s.stop();
    }
  });

  test('a very slow SMTP server (10 s a message) through two connections: every notice once', async () => {
    const s = await scenario('very-slow', { workers: 1, extraEnv: { SMTP_MAX_CONNECTIONS: '2' } });
    try {
      s.sink.delayMs = 10_000;
      const { keys, startedAt } = await storm(s, 'very-slow', 8);
      const f = await settle(s, 'very-slow', keys, startedAt, { delayMs: 10_000, connections: 2 });
      expect(f.duplicated).toBe(0);
    } finally {
      s.sink.delayMs = 0;
      await s.stop();
    }
  });
});
