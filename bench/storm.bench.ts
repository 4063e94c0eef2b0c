/**
 * Storm benchmark: N notices due at one instant (default 2,000 and 10,000), delivered four ways to the same
 * real SMTP sink on loopback, in the same run:
 *   (a) duban: the real tracker workflow on the dev server with a real worker process (the worker's own settings:
 *       SMTP_MAX_CONNECTIONS, DUBAN_MAX_CONCURRENT_ACTIVITIES, DUBAN_MAX_CACHED_WORKFLOWS);
 *   (b) bare Temporal: N workflows that only sleep until the instant and send through one local activity
 *       (bench/bare-temporal), on the same server with the same worker limits: Temporal's own floor;
 *   (c) plain nodemailer, pooled, sending the same number of messages at once: the ceiling;
 *   (d) a queue-based peer: BullMQ delayed jobs on a local Redis (Debian's redis-server, started here), a BullMQ
 *       worker sending each with nodemailer through the same number of pooled connections.
 * For each: delivered per second from the instant, the time from the instant to the last delivery, lost and
 * duplicated messages at the sink; for duban also trackers started per second and the worker's peak RSS.
 * Prints one JSON object per N; asserts nothing.
 *
 *   npm run bench:storm                 (BENCH_TRACKERS=2000,10000 to choose the sizes, BENCH_ONLY=duban,bare)
 *
 * The trackers run the real workflow; only their first plan is handed over (shifted so that its first reminder
 * falls a few seconds after the last tracker has started), as `duban simulate` and the tests do.
 */
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { startMailSink } from '../channels/sink';
import { PROJECT_ROOT, loadInputs } from '../config/load';
import { devServerEnvironment } from '../config/servers';
import { WorkingCalendar } from '../domain/calendar';
import { trackerPeriodPlan } from '../domain/planner';
import { packPlan } from '../domain/plan-packing';
import type { TrackerDefinition } from '../domain/trackers';
import { SEARCH_ATTRIBUTES, workflowIdFor } from '../workflows/messages';
import { trackerWorkflow } from '../workflows/tracker';
import { PEER_CONNECTIONS, peerMessage, peerTransport } from './peers';
import { startRedis } from './redis';

const SIZES = (process.env.BENCH_TRACKERS ?? '2000,10000').split(',').map(Number);
/** BENCH_ONLY=duban,bare,plain,bullmq: the runs to make (all by default), e.g. to profile one alone. */
const ONLY = process.env.BENCH_ONLY?.split(',').map((x) => x.trim());
const runs = (name: string) => !ONLY || ONLY.includes(name);
/**
 * BENCH_PROFILE_DIR=/tmp/prof: CPU profiles of each worker process, every thread, from the instant to the last
 * delivery only (bench/profile-window.ts); summarise them with `node dist/bench/profile-summary.js /tmp/prof`.
 */
const PROFILE_DIR = process.env.BENCH_PROFILE_DIR;
const PROFILE_ARGS = PROFILE_DIR ? ['--require', path.join(PROJECT_ROOT, 'dist', 'bench', 'profile-window.js')] : [];

interface Sink {
  url: string;
  port: number;
  ids: Map<string, number>;
  deliveredAt: number[];
  /** Bytes of every message received, for the mean size (duban's real message against the peers' small one). */
  bytes: number;
  reset(): void;
  close(): Promise<void>;
}

/** The one local SMTP sink (channels/sink.ts), counting Message-IDs and delivery times, nothing else. */
async function startSink(): Promise<Sink> {
  const sink = { ids: new Map<string, number>(), deliveredAt: [] as number[], bytes: 0 } as Sink;
  const server = await startMailSink(0, (raw) => {
    const id =
      /^Message-ID:\s*(<[^>]+>)/im.exec(raw.subarray(0, 8192).toString('utf8'))?.[1] ??
      `missing-${sink.deliveredAt.length}`;
    sink.ids.set(id, (sink.ids.get(id) ?? 0) + 1);
    sink.deliveredAt.push(Date.now());
    sink.bytes += raw.length;
  });
  sink.url = server.url;
  sink.port = Number(new URL(server.url).port);
  sink.reset = () => {
    sink.ids.clear();
    sink.deliveredAt.length = 0;
    sink.bytes = 0;
  };
  sink.close = server.close;
  return sink;
}

function rssMb(pid: number): number {
  try {
    return Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024);
  } catch {
    return -1;
  }
}

function peakRssMb(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Math.round(Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
  } catch {
    return -1;
  }
}

/** CPU seconds (user + system) a process has used so far, from /proc. */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // clock ticks: 100 a second on Linux
  } catch {
    return 0;
  }
}

/** The Temporal dev server's processes (the CLI the bench started), for the CPU it spends on the storm. */
function serverPids(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmd.includes('temporal') && cmd.includes('start-dev')) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

interface Figures {
  delivered: number;
  lost: number;
  duplicates: number;
  lastDeliveryAfterInstantSeconds: number;
  deliveredPerSecond: number;
  meanMessageBytes: number;
}

/** Waits until `n` distinct messages arrived (or the deadline), then reads the sink's figures from `instant`. */
async function collect(sink: Sink, n: number, instant: number, deadline: number): Promise<Figures> {
  while (sink.ids.size < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 2_000)); // late duplicates, if any
  const delivered = sink.deliveredAt.filter((t) => t >= instant);
  const last = delivered.length ? Math.max(...delivered) : instant;
  const seconds = Math.max(0.001, (last - instant) / 1000);
  return {
    delivered: delivered.length,
    lost: n - sink.ids.size,
    duplicates: [...sink.ids.values()].reduce((s, c) => s + c - 1, 0),
    lastDeliveryAfterInstantSeconds: Number(seconds.toFixed(2)),
    deliveredPerSecond: Math.round(delivered.length / seconds),
    meanMessageBytes: Math.round(sink.bytes / Math.max(1, sink.deliveredAt.length)),
  };
}

/**
 * The storm's instant for N workflows started now: time to start them all and let each reach its first sleep (a
 * tracker's start costs the worker a workflow task and the board's first write): at least 20 s, or 25 ms a
 * workflow (BENCH_START_MS_PER_TRACKER), on a whole second.
 */
function stormInstant(n: number): number {
  const window = Math.max(20_000, n * Number(process.env.BENCH_START_MS_PER_TRACKER ?? 25));
  return Math.ceil((Date.now() + window) / 1000) * 1000;
}

/** Starts workflows 0..n-1 through `start`, 50 at a time. */
async function startAll(n: number, start: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 50 }, async () => {
      while (next < n) await start(next++);
    }),
  );
}

/**
 * Waits for the instant, then collects the sink's figures and the CPU the worker process and the dev server spent
 * from the instant to the last delivery, a notice's share of each (on two cores shared by both, their sum is what
 * bounds the storm).
 */
async function measureStorm(workerPid: number, sink: Sink, n: number, instant: number) {
  const servers = serverPids();
  const cpuAt = () => ({ worker: cpuSeconds(workerPid), server: servers.reduce((s, p) => s + cpuSeconds(p), 0) });
  while (Date.now() < instant) await new Promise((r) => setTimeout(r, 5));
  if (PROFILE_DIR) {
    mkdirSync(PROFILE_DIR, { recursive: true });
    process.kill(workerPid, 'SIGWINCH');
  }
  const cpuBefore = cpuAt();
  let cpuLast = cpuBefore;
  let seen = 0;
  const sampler = setInterval(() => {
    // The figure at the last delivery, not at the end of collect's grace period.
    if (sink.ids.size > seen) {
      seen = sink.ids.size;
      cpuLast = cpuAt();
    }
  }, 100);
  const figures = await collect(sink, n, instant, instant + 300_000);
  clearInterval(sampler);
  if (PROFILE_DIR) {
    process.kill(workerPid, 'SIGWINCH');
    await new Promise((r) => setTimeout(r, 3_000)); // each thread writes its profile
  }
  const cpu = {
    workerCpuMsPerNotice: Number((((cpuLast.worker - cpuBefore.worker) * 1000) / n).toFixed(1)),
    serverCpuMsPerNotice: Number((((cpuLast.server - cpuBefore.server) * 1000) / n).toFixed(1)),
  };
  return { figures, cpu };
}

async function runDuban(n: number, sink: Sink, env: Awaited<ReturnType<typeof devServerEnvironment>>) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'duban-storm-'));
  const taskQueue = `storm-${n}-${Date.now()}`;
  const worker = spawn(
    process.execPath,
    [
      ...(process.env.BENCH_WORKER_NODE_ARGS ?? '').split(' ').filter(Boolean),
      ...PROFILE_ARGS,
      path.join(PROJECT_ROOT, 'dist', 'worker', 'main.js'),
    ],
    {
      env: {
        ...process.env,
        TZ: 'UTC',
        TEMPORAL_ADDRESS: env.address,
        DUBAN_TASK_QUEUE: taskQueue,
        SMTP_URL: sink.url,
        DUBAN_DATA_DIR: dataDir,
        DUBAN_LOG_LEVEL: 'ERROR',
        DUBAN_DIGEST: 'false',
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  try {
    // One real catalog entry, copied for N units; its real plan, shifted to the storm's instant.
    const base = loadInputs({}).trackers.find((t) => t.obligation.id === 'annual-report-dept')!;
    const template = trackerPeriodPlan(base, new WorkingCalendar(), { now: Date.now() });
    const definitions: TrackerDefinition[] = Array.from({ length: n }, (_, i) => ({
      ...base,
      trackerId: `storm${n}/u${i}`,
      unit: {
        ...base.unit,
        id: `u${i}`,
        liaison: { name: '联络员', email: `u${i}.liaison@bench.example.org` },
        head: { name: '负责人', email: `u${i}.head@bench.example.org` },
      },
    }));
    // The bench checks below that they all slept before the instant; otherwise the storm would also measure the
    // starts' backlog.
    const instant = stormInstant(n);
    const shift = instant - template.notices[0]!.at;
    const plan = (d: TrackerDefinition) => ({
      ...template,
      notices: template.notices.map((x) => ({
        ...x,
        at: x.at + shift,
        trackerId: d.trackerId,
        unit: d.unit.id,
        to: [d.unit.liaison.email],
        cc: [d.unit.head.email],
      })),
      dueAt: template.dueAt + shift,
      originalDueAt: template.originalDueAt + shift,
      yellowAt: template.yellowAt + shift,
      opensAt: template.opensAt + shift,
      endsAt: template.endsAt + shift,
      // The next period begins before its first notice: keep its opening after the storm, which measures notices.
      nextOpensAt: template.nextOpensAt === null ? null : Math.max(template.nextOpensAt + shift, instant + 86_400_000),
    });
    const startedAt = Date.now();
    await startAll(n, (i) => {
      const d = definitions[i]!;
      return env.client.workflow.start(trackerWorkflow, {
        workflowId: workflowIdFor(d.trackerId),
        taskQueue,
        // Packed, as the planning activity's result is (domain/plan-packing.ts).
        args: [{ definition: d, period: template.period, plan: packPlan(plan(d)) }],
      });
    });
    const startSeconds = (Date.now() - startedAt) / 1000;
    const startedInTime = Date.now() <= instant;
    // Asleep: a tracker publishes its colour just before its first sleep.
    const query = `TaskQueue = '${taskQueue}' AND ${SEARCH_ATTRIBUTES.colour.name} IS NOT NULL`;
    let asleep = 0;
    while (Date.now() < instant) {
      asleep = (await env.client.workflow.count(query)).count;
      if (asleep >= n) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const asleepSeconds = (Date.now() - startedAt) / 1000;
    const asleepRssMb = rssMb(worker.pid!);
    if (asleep < n)
      console.error(
        `storm ${n}: only ${asleep} trackers asleep at the instant; the figure includes the starts' backlog (raise BENCH_START_MS_PER_TRACKER)`,
      );
    const { figures, cpu } = await measureStorm(worker.pid!, sink, n, instant);
    const history = await historyPerNotice(env, (i) => workflowIdFor(definitions[i]!.trackerId), n);
    return {
      ...figures,
      ...cpu,
      ...history,
      startedPerSecond: Math.round(n / startSeconds),
      startedBeforeInstant: startedInTime,
      asleepBeforeInstant: asleep >= n,
      asleepAfterSeconds: Number(asleepSeconds.toFixed(1)),
      workerRssAsleepMb: asleepRssMb,
      workerPeakRssMb: peakRssMb(worker.pid!),
    };
  } finally {
    worker.kill('SIGTERM');
    await new Promise((r) => worker.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * The bare Temporal peer: N workflows that sleep until the instant, send one message through one local activity
 * and sleep again (bench/bare-temporal), on the same dev server, with a worker process of their own and duban's
 * worker limits: what a notice costs on Temporal itself, the floor under duban's figure on this machine.
 */
async function runBareTemporal(n: number, sink: Sink, env: Awaited<ReturnType<typeof devServerEnvironment>>) {
  const taskQueue = `bare-${n}-${Date.now()}`;
  const worker = spawn(
    process.execPath,
    [...PROFILE_ARGS, path.join(PROJECT_ROOT, 'dist', 'bench', 'bare-temporal', 'worker.js')],
    {
      env: {
        ...process.env,
        TZ: 'UTC',
        TEMPORAL_ADDRESS: env.address,
        TASK_QUEUE: taskQueue,
        SINK_PORT: String(sink.port),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  try {
    await new Promise<void>((resolve, reject) => {
      worker.stdout!.on('data', (b: Buffer) => b.toString().includes('ready') && resolve());
      worker.once('exit', (code) => reject(new Error(`the bare Temporal peer's worker exited (${code})`)));
    });
    // The same window as duban's; a bare workflow's start costs far less than a tracker's, so all sleep in time.
    const instant = stormInstant(n);
    await startAll(n, (i) =>
      env.client.workflow.start('bareNotice', { workflowId: `${taskQueue}-${i}`, taskQueue, args: [i, instant] }),
    );
    const startedBeforeInstant = Date.now() <= instant;
    while (instant - Date.now() > 1_000) await new Promise((r) => setTimeout(r, 100));
    const asleepRssMb = rssMb(worker.pid!);
    const { figures, cpu } = await measureStorm(worker.pid!, sink, n, instant);
    const history = await historyPerNotice(env, (i) => `${taskQueue}-${i}`, n);
    return {
      ...figures,
      ...cpu,
      ...history,
      startedBeforeInstant,
      workerRssAsleepMb: asleepRssMb,
      workerPeakRssMb: peakRssMb(worker.pid!),
    };
  } finally {
    worker.kill('SIGTERM');
    await new Promise((r) => worker.once('exit', r));
  }
}

/**
 * What a workflow's history holds for its notice (the server's cost of it, event by event): of three workflows,
 * the events from the storm's timer firing to the end, and the events of the start before it.
 * BENCH_SHOW_HISTORY=1 also prints their event types.
 */
async function historyPerNotice(
  env: Awaited<ReturnType<typeof devServerEnvironment>>,
  workflowId: (i: number) => string,
  n: number,
): Promise<{ historyEventsPerNotice: number; historyEventsAtStart: number }> {
  let notice = 0;
  let start = 0;
  const samples = [0, Math.floor(n / 2), n - 1];
  for (const i of samples) {
    const events = (await env.client.workflow.getHandle(workflowId(i)).fetchHistory()).events ?? [];
    const types = events.map((e) => String(e.eventType));
    // EVENT_TYPE_TIMER_FIRED is 18: the first timer to fire is the storm's.
    const fired = types.findIndex((t) => t === '18' || t === 'EVENT_TYPE_TIMER_FIRED');
    notice += fired < 0 ? 0 : types.length - fired;
    start += fired < 0 ? types.length : fired;
    if (process.env.BENCH_SHOW_HISTORY) console.error(`${workflowId(i)}: ${types.join(' ')}`);
  }
  return {
    historyEventsPerNotice: Number((notice / samples.length).toFixed(1)),
    historyEventsAtStart: Number((start / samples.length).toFixed(1)),
  };
}

async function runPlain(n: number, sink: Sink) {
  const transport = peerTransport(sink.port);
  const instant = Date.now();
  await Promise.all(Array.from({ length: n }, (_, i) => transport.sendMail(peerMessage(i, `<plain.${n}.${i}@bench>`))));
  transport.close();
  return collect(sink, n, instant, instant + 300_000);
}

async function runBullmq(n: number, sink: Sink, redisPort: number) {
  // Loaded here: a dev dependency of the benchmark only.
  const { Queue, Worker } = require('bullmq') as typeof import('bullmq');
  const connection = { host: '127.0.0.1', port: redisPort, maxRetriesPerRequest: null };
  const name = `storm-${n}-${Date.now()}`;
  const queue = new Queue(name, { connection });
  const transport = peerTransport(sink.port);
  const worker = new Worker(
    name,
    async (job) => {
      const i = job.data.i as number;
      await transport.sendMail(peerMessage(i, `<bullmq.${n}.${i}@bench>`));
    },
    { connection, concurrency: PEER_CONNECTIONS * 4 },
  );
  try {
    const instant = Math.ceil((Date.now() + Math.max(10_000, n)) / 1000) * 1000;
    for (let i = 0; i < n; i += 1000) {
      const delay = instant - Date.now();
      await queue.addBulk(
        Array.from({ length: Math.min(1000, n - i) }, (_, k) => ({
          name: 'notice',
          data: { i: i + k },
          opts: { delay, jobId: `n${i + k}`, removeOnComplete: true },
        })),
      );
    }
    return await collect(sink, n, instant, instant + 300_000);
  } finally {
    await worker.close();
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    transport.close();
  }
}

async function main() {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const sink = await startSink();
  const redis = await startRedis();
  try {
    for (const n of SIZES) {
      sink.reset();
      const duban = runs('duban') ? await onFreshServer((env) => runDuban(n, sink, env)) : undefined;
      console.error(JSON.stringify({ notices: n, duban }));
      sink.reset();
      const bareTemporal = runs('bare') ? await onFreshServer((env) => runBareTemporal(n, sink, env)) : undefined;
      console.error(JSON.stringify({ notices: n, bareTemporal }));
      sink.reset();
      const plain = runs('plain') ? await runPlain(n, sink) : undefined;
      console.error(JSON.stringify({ notices: n, plainNodemailer: plain }));
      sink.reset();
      const bullmq = runs('bullmq') ? await runBullmq(n, sink, redis.port) : undefined;
      const toPlain = (x?: Figures) =>
        x && plain ? Number((x.deliveredPerSecond / plain.deliveredPerSecond).toFixed(3)) : undefined;
      console.log(
        JSON.stringify({
          benchmark: 'storm',
          notices: n,
          smtpConnections: PEER_CONNECTIONS,
          duban,
          bareTemporal,
          plainNodemailer: plain,
          bullmq,
          dubanToPlain: toPlain(duban),
          bareTemporalToPlain: toPlain(bareTemporal),
          bullmqToPlain: toPlain(bullmq),
          dubanToBareTemporal:
            duban && bareTemporal
              ? Number((duban.deliveredPerSecond / bareTemporal.deliveredPerSecond).toFixed(3))
              : undefined,
          target: { lastDeliveryAfterInstantSeconds: n <= 2000 ? 15 : 60, workerPeakRssMb: 500 },
        }),
      );
    }
  } finally {
    redis.child.kill('SIGTERM');
    await sink.close();
  }
}

/**
 * Each Temporal run on a dev server of its own: a server that still holds the other run's thousands of sleeping
 * workflows spends more a notice (its caches no longer hold them all), and the second run would pay for the first.
 */
async function onFreshServer<T>(run: (env: Awaited<ReturnType<typeof devServerEnvironment>>) => Promise<T>) {
  const env = await devServerEnvironment(Object.values(SEARCH_ATTRIBUTES));
  try {
    return await run(env);
  } finally {
    await env.teardown();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
