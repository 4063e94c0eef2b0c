/**
 * Storm benchmark (issue #3): on the dev server with a real worker process and a real SMTP sink on loopback,
 * start N trackers (default 2,000) whose first reminder falls at the same instant, and measure
 *   (a) trackers started per second,
 *   (b) notices delivered per second through the storm, and the time from the instant to the last delivery,
 *   (c) the same number of emails sent by plain nodemailer to the same sink (the ceiling),
 *   (d) the worker's peak memory,
 * counting lost and duplicated messages at the sink. Prints one JSON object; asserts nothing.
 *
 *   npm run bench:storm            (BENCH_TRACKERS, DUBAN_MAX_CONCURRENT_ACTIVITIES, SMTP_MAX_CONNECTIONS to tune)
 *
 * The trackers run the real workflow; only their first plan is handed over (shifted so that its first reminder
 * falls a few seconds after the last tracker has started), the way a previous period's run hands over the next.
 */
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { createActivities } from '../activities';
import { Ledger } from '../activities/ledger/ledger';
import { PROJECT_ROOT, loadInputs } from '../config/load';
import { devServerEnvironment } from '../config/servers';
import { WorkingCalendar } from '../domain/calendar';
import type { TrackerDefinition } from '../domain/trackers';
import { trackerWorkflow } from '../workflows/tracker';
import { SEARCH_ATTRIBUTES, workflowIdFor } from '../workflows/messages';

const N = Number(process.env.BENCH_TRACKERS ?? 2000);

interface Sink {
  url: string;
  ids: Map<string, number>;
  deliveredAt: number[];
  close(): Promise<void>;
}

/** A lean SMTP sink: counts Message-IDs and delivery times, nothing else, so it is not the bottleneck. */
async function startSink(): Promise<Sink> {
  const ids = new Map<string, number>();
  const deliveredAt: number[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, cb) {
      let head = '';
      stream.on('data', (c: Buffer) => {
        if (head.length < 8192) head += c.toString('utf8');
      });
      stream.on('end', () => {
        const id = /^Message-ID:\s*(<[^>]+>)/im.exec(head)?.[1] ?? `missing-${deliveredAt.length}`;
        ids.set(id, (ids.get(id) ?? 0) + 1);
        deliveredAt.push(Date.now());
        cb();
      });
    },
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return { url: `smtp://127.0.0.1:${port}`, ids, deliveredAt, close: () => new Promise((r) => server.close(() => r())) };
}

function peakRssMb(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Math.round(Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
  } catch {
    return -1;
  }
}

async function main() {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const env = await devServerEnvironment(Object.values(SEARCH_ATTRIBUTES));
  const sink = await startSink();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'duban-storm-'));
  const taskQueue = 'storm-bench';
  const worker = spawn(process.execPath, [path.join(PROJECT_ROOT, 'dist', 'worker', 'main.js')], {
    env: { ...process.env, TZ: 'UTC', TEMPORAL_ADDRESS: env.address, DUBAN_TASK_QUEUE: taskQueue, SMTP_URL: sink.url, DUBAN_DATA_DIR: dataDir, DUBAN_LOG_LEVEL: 'ERROR' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  try {
    // One real catalog entry, copied for N units; its real plan, shifted to the storm's instant.
    const base = loadInputs({}).trackers.find((t) => t.obligation.id === 'annual-report-dept')!;
    const calendar = new WorkingCalendar();
    const ledger = await Ledger.open({ sqliteFile: ':memory:' });
    const planner = createActivities({ ledger, transport: nodemailer.createTransport({ jsonTransport: true }), from: { name: 'bench', address: 'bench@example.org' }, calendar });
    const template = await planner.planTrackerPeriod({ definition: base, now: Date.now() });
    await ledger.close();
    const definitions: TrackerDefinition[] = Array.from({ length: N }, (_, i) => ({
      ...base,
      trackerId: `storm/u${i}`,
      unit: { ...base.unit, id: `u${i}`, liaison: { name: '联络员', email: `u${i}.liaison@bench.example.org` }, head: { name: '负责人', email: `u${i}.head@bench.example.org` } },
    }));
    // Leave time to start them all: at least 20 s, or twice the time starting takes at 200 per second.
    const startWindow = Math.max(20_000, (N / 200) * 2_000);
    const instant = Math.ceil((Date.now() + startWindow) / 1000) * 1000;
    const shift = instant - template.notices[0]!.at;
    const plan = (d: TrackerDefinition) => ({
      ...template,
      notices: template.notices.map((n) => ({ ...n, at: n.at + shift, trackerId: d.trackerId, unit: d.unit.id, to: [d.unit.liaison.email], cc: [d.unit.head.email] })),
      dueAt: template.dueAt + shift,
      originalDueAt: template.originalDueAt + shift,
      yellowAt: template.yellowAt + shift,
      opensAt: template.opensAt + shift,
      endsAt: template.endsAt + shift,
      nextOpensAt: template.nextOpensAt === null ? null : template.nextOpensAt + shift,
    });

    const startedAt = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        while (next < N) {
          const d = definitions[next++]!;
          await env.client.workflow.start(trackerWorkflow, { workflowId: workflowIdFor(d.trackerId), taskQueue, args: [{ definition: d, period: template.period, plan: plan(d) }] });
        }
      }),
    );
    const startSeconds = (Date.now() - startedAt) / 1000;
    if (Date.now() > instant) console.error('warning: starting took longer than the window; the storm began while trackers were still starting');

    const deadline = instant + 180_000;
    while (sink.deliveredAt.length < N && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 2_000)); // late duplicates, if any
    const workerPeak = peakRssMb(worker.pid!);
    const delivered = sink.deliveredAt.filter((t) => t >= instant);
    const first = Math.min(...delivered);
    const last = Math.max(...delivered);
    const unique = sink.ids.size;
    const duplicates = [...sink.ids.values()].reduce((n, c) => n + c - 1, 0);

    // (c) The ceiling: plain nodemailer, pooled, to the same sink.
    const before = sink.deliveredAt.length;
    const transport = nodemailer.createTransport({ pool: true, maxConnections: Number(process.env.SMTP_MAX_CONNECTIONS ?? 5), host: '127.0.0.1', port: Number(new URL(sink.url).port), secure: false, maxMessages: Infinity });
    const plainStarted = Date.now();
    await Promise.all(
      Array.from({ length: N }, (_, i) =>
        transport.sendMail({ from: 'bench@example.org', to: `u${i}.liaison@bench.example.org`, cc: `u${i}.head@bench.example.org`, subject: '【督办提醒】基准测试', text: '基准测试正文', messageId: `<plain.${i}@bench>` }),
      ),
    );
    const plainSeconds = (Date.now() - plainStarted) / 1000;
    transport.close();

    const deliveredPerSecond = delivered.length / Math.max(0.001, (last - instant) / 1000);
    const plainPerSecond = (sink.deliveredAt.length - before) / plainSeconds;
    console.log(
      JSON.stringify({
        benchmark: 'storm',
        trackers: N,
        startedPerSecond: Math.round(N / startSeconds),
        delivered: delivered.length,
        lost: N - unique,
        duplicates,
        firstDeliveryAfterInstantSeconds: Number(((first - instant) / 1000).toFixed(2)),
        lastDeliveryAfterInstantSeconds: Number(((last - instant) / 1000).toFixed(2)),
        deliveredPerSecond: Math.round(deliveredPerSecond),
        plainNodemailerPerSecond: Math.round(plainPerSecond),
        ratio: Number((deliveredPerSecond / plainPerSecond).toFixed(3)),
        workerPeakRssMb: workerPeak,
        settings: {
          maxConcurrentActivities: Number(process.env.DUBAN_MAX_CONCURRENT_ACTIVITIES ?? 100),
          smtpMaxConnections: Number(process.env.SMTP_MAX_CONNECTIONS ?? 5),
        },
        target: { lastDeliveryAfterInstantSeconds: 60 },
      }),
    );
  } finally {
    worker.kill('SIGTERM');
    await new Promise((r) => worker.once('exit', r));
    await sink.close();
    await env.teardown();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
