/**
 * The reliability suite's faults (test/reliability/faults.test.ts) run against a queue-based design, for
 * docs/reliability.md: N notices as BullMQ delayed jobs on a local Redis (Debian's redis-server, started here), due
 * at one instant, each sent with nodemailer by BullMQ workers in child processes to duban's own SMTP sink
 * (channels/sink.ts) on loopback. Two scenarios, as the suite runs them against duban:
 *   kills:  two worker processes; one of them SIGKILLed and restarted at once, alternately, BENCH_KILLS times
 *           (default 10) every BENCH_KILL_INTERVAL_MS (default 500) from just after the instant;
 *   outage: two worker processes; the SMTP server refuses every message (451) for BENCH_OUTAGE_MS (default
 *           20,000) from the instant.
 * For each: delivered, lost, duplicated (Message-IDs seen more than once), the jobs BullMQ failed for good, and the
 * latency of the messages after the instant (p50, p95, last). Prints one JSON object per scenario and size;
 * asserts nothing.
 *
 *   npm run bench:bullmq-faults            (BENCH_NOTICES=100,2000 to choose the sizes; default 2000)
 *   BENCH_SCENARIOS=outage BENCH_ATTEMPTS=1 npm run bench:bullmq-faults     (the outage with BullMQ's default attempts)
 *
 * The peer is configured as a careful queue-based design would be: a job id per notice (adding twice is a no-op),
 * 8 attempts with exponential backoff from 5 s (duban's own retry: 5 s, doubling), BullMQ's defaults for its lock
 * (30 s) and stalled-job check (every 30 s, a job stalled more than once fails), 5 pooled SMTP connections and 20
 * concurrent jobs per worker (the storm benchmark's peer).
 */
import { ChildProcess, spawn } from 'node:child_process';
import { MailFaults, noFaults, startMailSink } from '../channels/sink';
import { PEER_CONNECTIONS, peerMessage, peerTransport } from './peers';
import { startRedis } from './redis';

const WORKERS = 2;
/** BENCH_ATTEMPTS=1 is BullMQ's default: a job that fails once (a 451 in the outage) fails for good. */
const ATTEMPTS = Number(process.env.BENCH_ATTEMPTS ?? 8);
const BACKOFF_MS = 5_000;

/** A BullMQ worker process: `node bullmq-faults.bench.js worker` with the queue and ports in its environment. */
async function workerProcess() {
  const { Worker } = require('bullmq') as typeof import('bullmq');
  const connection = { host: '127.0.0.1', port: Number(process.env.BENCH_REDIS_PORT), maxRetriesPerRequest: null };
  const transport = peerTransport(Number(process.env.BENCH_SMTP_PORT));
  const worker = new Worker(
    process.env.BENCH_QUEUE!,
    async (job) => {
      const i = job.data.i as number;
      await transport.sendMail(peerMessage(i, `<${job.id}@bullmq.bench>`));
    },
    { connection, concurrency: PEER_CONNECTIONS * 4 },
  );
  worker.on('error', () => undefined);
  process.on('SIGTERM', () => void worker.close().then(() => process.exit(0)));
  await worker.waitUntilReady();
  process.send?.('ready');
}

interface Sink {
  port: number;
  faults: MailFaults;
  /** Message-ID to the times it was accepted. */
  received: Map<string, number[]>;
  close(): Promise<void>;
}

async function startSink(): Promise<Sink> {
  const faults = noFaults();
  const received = new Map<string, number[]>();
  const server = await startMailSink(
    0,
    (raw) => {
      const id =
        /^Message-ID:\s*(<[^>]+>)/im.exec(raw.subarray(0, 8192).toString('utf8'))?.[1] ?? `missing-${received.size}`;
      received.set(id, [...(received.get(id) ?? []), Date.now()]);
    },
    faults,
  );
  return { port: Number(new URL(server.url).port), faults, received, close: server.close };
}

function spawnWorker(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, [__filename, 'worker'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`a BullMQ worker exited with ${code} before it was ready`)));
  });
}

async function kill(child: ChildProcess, signal: NodeJS.Signals) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  await exited;
}

const percentile = (xs: number[], p: number) =>
  xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]! : 0;
const seconds = (ms: number) => Number((ms / 1000).toFixed(1));

async function scenario(name: 'kills' | 'outage', n: number, redisPort: number, sink: Sink) {
  const { Queue } = require('bullmq') as typeof import('bullmq');
  const connection = { host: '127.0.0.1', port: redisPort, maxRetriesPerRequest: null };
  const queueName = `${name}-${n}-${Date.now()}`;
  const queue = new Queue(queueName, { connection });
  const env = { BENCH_REDIS_PORT: String(redisPort), BENCH_SMTP_PORT: String(sink.port), BENCH_QUEUE: queueName };
  sink.received.clear();
  sink.faults.refuse = undefined;
  sink.faults.transientFailures = 0;
  const workers = await Promise.all(Array.from({ length: WORKERS }, () => spawnWorker(env)));
  const extra: Record<string, number> = {};
  try {
    // Every notice due at one instant, a few seconds after the last job is added.
    const instant = Math.ceil((Date.now() + 3_000 + n) / 1000) * 1000;
    for (let i = 0; i < n; i += 1000) {
      const delay = instant - Date.now();
      await queue.addBulk(
        Array.from({ length: Math.min(1000, n - i) }, (_, k) => ({
          name: 'notice',
          data: { i: i + k },
          opts: {
            delay,
            jobId: `${name}.${n}.${i + k}`,
            attempts: ATTEMPTS,
            backoff: { type: 'exponential', delay: BACKOFF_MS },
            removeOnComplete: true,
            removeOnFail: false,
          },
        })),
      );
    }
    await new Promise((r) => setTimeout(r, Math.max(0, instant - Date.now())));
    if (name === 'outage') {
      const until = instant + Number(process.env.BENCH_OUTAGE_MS ?? 20_000);
      sink.faults.refuse = () => Date.now() < until;
      extra.outageSeconds = seconds(until - instant);
    } else {
      const kills = Number(process.env.BENCH_KILLS ?? 10);
      const interval = Number(process.env.BENCH_KILL_INTERVAL_MS ?? 500);
      await new Promise((r) => setTimeout(r, 250));
      for (let k = 0; k < kills; k++) {
        if (k > 0) await new Promise((r) => setTimeout(r, interval));
        await kill(workers[k % WORKERS]!, 'SIGKILL');
        workers[k % WORKERS] = await spawnWorker(env);
      }
      extra.workerKills = kills;
      extra.killIntervalMs = interval;
      // Each restarted worker is waited for before the next kill: the kills end later than kills x interval.
      extra.lastKillAfterInstantSeconds = seconds(Date.now() - instant);
    }
    // Until every notice arrived, or nothing is left to run (what failed for good is lost), or 10 minutes.
    const deadline = instant + 600_000;
    for (;;) {
      if (sink.received.size >= n || Date.now() > deadline) break;
      const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children');
      if (Object.values(c).every((x) => x === 0)) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    await new Promise((r) => setTimeout(r, 3_000)); // late repeats, if any
    const failed = await queue.getJobCounts('failed');
    const first = [...sink.received.values()].map((ts) => ts[0]! - instant);
    const all = [...sink.received.values()].flat();
    const figures = {
      design: 'BullMQ',
      scenario: name,
      notices: n,
      workers: WORKERS,
      attempts: ATTEMPTS,
      ...extra,
      delivered: sink.received.size,
      lost: n - sink.received.size,
      duplicated: all.length - sink.received.size,
      failedForGood: failed.failed ?? 0,
      refusedDuringOutage: sink.faults.transientFailures,
      firstDeliveryLatencySeconds: {
        p50: seconds(percentile(first, 50)),
        p95: seconds(percentile(first, 95)),
        last: seconds(Math.max(0, ...first)),
      },
      lastMessageAfterInstantSeconds: seconds(Math.max(instant, ...all) - instant),
    };
    console.log(JSON.stringify(figures));
    return figures;
  } finally {
    await Promise.all(workers.map((w) => kill(w, 'SIGKILL')));
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
  }
}

async function main() {
  const sizes = (process.env.BENCH_NOTICES ?? '2000').split(',').map(Number);
  const scenarios = (process.env.BENCH_SCENARIOS ?? 'kills,outage').split(',');
  const redis = await startRedis();
  const sink = await startSink();
  try {
    for (const n of sizes) {
      if (scenarios.includes('kills')) await scenario('kills', n, redis.port, sink);
      if (scenarios.includes('outage')) await scenario('outage', n, redis.port, sink);
    }
  } finally {
    await sink.close();
    redis.child.kill('SIGTERM');
  }
}

(process.argv[2] === 'worker' ? workerProcess() : main()).catch((err) => {
  console.error(err);
  process.exit(1);
});
