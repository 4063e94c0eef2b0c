/**
 * A worker paused past its lease (issue 21): one of two worker processes is stopped with SIGSTOP for longer than the
 * notices' lease (shortened by DUBAN_SEND_LEASE_SECONDS) and than the workflow task timeout, at two points of a
 * storm against a slow SMTP server (1 s a message), then continued with SIGCONT. The paused worker has attempts
 * waiting for a connection, attempts holding a claim, and messages the server is slow to answer. Asserted: 0 lost;
 * repeats only of messages the server had already accepted from the paused worker (the first copy arrived while
 * it stood still), counted and bounded by its connections for each pause. Printed: the figures, and how many
 * attempts woke to find their claim lost and sent nothing (the fence).
 *
 * Size: DUBAN_PAUSE_NOTICES (default 100).
 */
import { Client, Connection } from '@temporalio/client';
import { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { spawnDevServer } from '../../client/start';
import { WorkingCalendar } from '../../domain/calendar';
import { formatDate } from '../../domain/dates';
import type { TrackerDefinition } from '../../domain/trackers';
import { localDay } from '../../domain/zone';
import { Ledger } from '../../ledger';
import { workflowIdFor } from '../../workflows/messages';
import { trackerWorkflow } from '../../workflows/tracker';
import { freePort } from '../support/ports';
import { startSmtpSink } from '../support/smtp';
import { tracker } from '../support/trackers';
import { WorkerProcess, spawnWorker } from '../support/worker-process';

jest.setTimeout(240_000);

const N = Number(process.env.DUBAN_PAUSE_NOTICES ?? 100);
const LEASE_SECONDS = 3;
const CONNECTIONS = 3;
/** Longer than the lease and than the tracker's workflow task timeout (10 s), after which the other worker retries. */
const PAUSE_MS = 14_000;
const calendar = new WorkingCalendar();
const dueDay = formatDate(calendar.addWorkingDays(calendar.onOrBefore(localDay(Date.now(), 'Asia/Shanghai') - 1), -1));

function overdue(i: number): TrackerDefinition {
  const base = tracker({
    obligation: { id: 'pause', period: 'once', due: { rule: 'fixed-date', date: dueDay } },
    escalation: [
      { level: 1, after: 1, repeatWeekly: false },
      { level: 2, after: 5, repeatWeekly: false },
    ],
  });
  const unit = `u${i}`;
  return {
    ...base,
    trackerId: `pause/${unit}`,
    unit: { ...base.unit, id: unit, head: { name: '负责人', email: `${unit}.head@test.example.org` } },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a worker stopped past its lease twice in a storm: nothing lost, repeats only of what the server had taken', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'duban-reliability-pause-'));
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const server: ChildProcess = spawnDevServer(dir, port, await freePort());
  let connection: Connection | undefined;
  for (let i = 0; i < 300 && !connection; i++) {
    connection = await Connection.connect({ address, connectTimeout: '1 second' }).catch(async () => {
      await sleep(200);
      return undefined;
    });
  }
  if (!connection) throw new Error('the dev server did not start');
  const client = new Client({ connection });
  const sink = await startSmtpSink();
  const env = {
    TEMPORAL_ADDRESS: address,
    DUBAN_TASK_QUEUE: 'pause',
    SMTP_URL: sink.url,
    SMTP_MAX_CONNECTIONS: String(CONNECTIONS),
    DUBAN_SEND_LEASE_SECONDS: String(LEASE_SECONDS),
    MAIL_FROM: '督办系统 <duban@test.example.org>',
    DUBAN_DATA_DIR: path.join(dir, 'data'),
    DUBAN_DIGEST: 'false',
  };
  const workers: WorkerProcess[] = [0, 1].map(() => spawnWorker(env, path.join(dir, 'workers.log')));
  const pauses: { worker: number; stoppedAt: number; continuedAt: number }[] = [];
  try {
    sink.delayMs = 1_000; // slow to answer: most of a message's time is spent waiting for the server's 250
    const definitions = Array.from({ length: N }, (_, i) => overdue(i));
    const expected = new Set(definitions.map((d) => `${d.trackerId}/once/${dueDay}/e1.0`));
    const startedAt = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        while (next < definitions.length) {
          const d = definitions[next++]!;
          await client.workflow.start(trackerWorkflow, {
            workflowId: workflowIdFor(d.trackerId),
            taskQueue: 'pause',
            args: [{ definition: d }],
          });
        }
      }),
    );
    const pause = async (worker: number) => {
      const stoppedAt = Date.now();
      workers[worker]!.child.kill('SIGSTOP');
      await sleep(PAUSE_MS);
      workers[worker]!.child.kill('SIGCONT');
      pauses.push({ worker, stoppedAt, continuedAt: Date.now() });
    };
    // First while the storm is young (the worker has attempts queued for its connections and messages at the
    // server), then the other worker once the first is back.
    await sleep(1_500);
    await pause(0);
    await sleep(2_000);
    await pause(1);

    const keys = () => new Set(sink.messages.map((m) => m.key));
    const until = Date.now() + 150_000;
    while ([...expected].some((k) => !keys().has(k)) && Date.now() < until) await sleep(250);
    await sleep(4_000); // late repeats, if any
    const got = sink.messages.filter((m) => expected.has(m.key));
    const byId = new Map<string, number[]>();
    for (const m of got) byId.set(m.messageId, [...(byId.get(m.messageId) ?? []), m.receivedAt]);
    const repeated = [...byId].filter(([, at]) => at.length > 1);
    const ledger = await Ledger.open({ sqliteFile: path.join(env.DUBAN_DATA_DIR, 'ledger.sqlite'), migrate: false });
    const rows = await ledger.notices();
    await ledger.close();
    const byMessageId = new Map(rows.map((r) => [r.message_id, r]));
    const lost = [...expected].filter((k) => !keys().has(k));
    // A repeat is of a message the server had already accepted from the paused worker: its first copy arrived
    // while that worker stood still (it had handed the message over before it was stopped).
    const acceptedDuringAPause = (at: number) => pauses.some((p) => at >= p.stoppedAt && at <= p.continuedAt);
    const figures = {
      scenario: 'pause',
      notices: expected.size,
      delivered: new Set(got.map((m) => m.key)).size,
      lost: lost.length,
      duplicated: got.length - byId.size,
      repeatsOfMessagesAcceptedDuringAPause: repeated.filter(([, at]) => acceptedDuringAPause(Math.min(...at))).length,
      abandonedAttempts: rows.reduce((n, r) => n + r.abandoned, 0),
      takenOverClaims: rows.filter((r) => r.attempts >= 2).length,
      pauses: pauses.length,
      pauseSeconds: PAUSE_MS / 1000,
      leaseSeconds: LEASE_SECONDS,
      connections: CONNECTIONS,
      lastAfterStartSeconds: Number(((Math.max(...got.map((m) => m.receivedAt)) - startedAt) / 1000).toFixed(1)),
    };
    console.log(JSON.stringify(figures));
    expect(lost).toEqual([]);
    for (const [id, at] of repeated) {
      expect(acceptedDuringAPause(Math.min(...at))).toBe(true);
      expect(at).toHaveLength(2);
      expect(byMessageId.get(id)?.attempts ?? 0).toBeGreaterThanOrEqual(2);
    }
    // At most one message a connection of the paused worker was in the server's hands when it stopped.
    expect(figures.duplicated).toBeLessThanOrEqual(pauses.length * CONNECTIONS);
  } finally {
    for (const w of workers) {
      w.child.kill('SIGCONT');
      await w.kill('SIGTERM');
    }
    await connection.close();
    await sink.close();
    const exited = new Promise((r) => server.once('exit', r));
    server.kill('SIGTERM');
    await exited;
  }
});
