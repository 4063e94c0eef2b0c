/**
 * On the Temporal dev server (temporal server start-dev, installed from PyPI by npm install) with real worker
 * processes, a real SMTP server and the SQLite ledger the workers share.
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Ledger } from '../../ledger';
import type { TrackerDefinition } from '../../domain/trackers';
import { trackerWorkflow } from '../../workflows/tracker';
import { statusQuery, submitUpdate, workflowIdFor } from '../../workflows/messages';
import { devServerEnv } from '../support/engine';
import { SmtpSink, startSmtpSink } from '../support/smtp';
import { overdueOneOff } from '../support/trackers';
import { WorkerProcess, spawnWorker } from '../support/worker-process';

jest.setTimeout(300_000);

/**
 * A one-off registered after its due date, two working days ago: its level-1 escalation (one working day after
 * due, 09:00) is already due and goes out at once; level 2 (five working days after due) lies ahead.
 */
const { dueDay, overdue } = overdueOneOff();
const level1Key = (unit: string) => `overdue/${unit}/once/${dueDay}/e1.0`;

describe('on the dev server with worker processes', () => {
  let env: TestWorkflowEnvironment;
  let sink: SmtpSink;
  let dataDir: string;
  let workerEnv: Record<string, string>;

  beforeAll(async () => {
    env = await devServerEnv();
    sink = await startSmtpSink();
    dataDir = mkdtempSync(path.join(tmpdir(), 'duban-devserver-'));
    workerEnv = {
      TEMPORAL_ADDRESS: env.address,
      TEMPORAL_NAMESPACE: env.namespace ?? 'default',
      SMTP_URL: sink.url,
      MAIL_FROM: '督办系统 <duban@test.example.org>',
      DUBAN_DATA_DIR: dataDir,
    };
  });
  afterAll(async () => {
    await sink?.close();
    await env?.teardown();
  });

  const start = (definition: TrackerDefinition, taskQueue: string) =>
    env.client.workflow.start(trackerWorkflow, {
      workflowId: workflowIdFor(definition.trackerId),
      taskQueue,
      args: [{ definition }],
    });

  test('a worker process sends, records, answers updates and queries, is listed by search attributes, and stops on SIGTERM', async () => {
    const taskQueue = 'integration';
    const worker = spawnWorker(
      { ...workerEnv, DUBAN_TASK_QUEUE: taskQueue },
      path.join(dataDir, 'integration-worker.log'),
    );
    try {
      const handle = await start(overdue('integration'), taskQueue);
      await sink.waitFor(1, 60_000);
      const mail = sink.messages[0]!;
      expect(mail.key).toBe(level1Key('integration'));
      expect(mail.to).toEqual(['integration.head@test.example.org']);
      expect(mail.parsed.subject).toMatch(/^【督办催办通知】/);

      const status = await handle.query(statusQuery);
      expect(status).toMatchObject({
        colour: 'red',
        periods: [
          expect.objectContaining({
            period: 'once',
            lastNotice: expect.objectContaining({ stage: 'escalation', level: 1, messageId: mail.messageId }),
          }),
        ],
      });
      const after = await handle.executeUpdate(submitUpdate, {
        args: [{ by: '集成测试', evidence: { text: '已办结' } }],
      });
      expect(after.colour).toBe('done');
      expect(await handle.result()).toMatchObject({ retired: false, history: [{ period: 'once', outcome: 'late' }] });

      // Visibility: the tracker is found by unit and colour (eventually consistent, so poll briefly).
      let found = 0;
      for (let i = 0; i < 50 && found === 0; i++) {
        found = (await env.client.workflow.count(`DubanUnit = 'integration' AND DubanColour = 'done'`)).count;
        if (!found) await new Promise((r) => setTimeout(r, 200));
      }
      expect(found).toBe(1);

      const ledger = await Ledger.open({ sqliteFile: path.join(dataDir, 'ledger.sqlite') });
      expect((await ledger.notices({ trackerId: 'overdue/integration' })).map((n) => [n.status, n.message_id])).toEqual(
        [['sent', mail.messageId]],
      );
      expect((await ledger.outcomes({ trackerId: 'overdue/integration' }))[0]).toMatchObject({ outcome: 'late' });
      await ledger.close();
    } finally {
      expect(await worker.kill('SIGTERM')).toBe(0);
    }
  });

  test('a storm while workers are killed with SIGKILL and restarted: no notice lost, duplicates counted', async () => {
    const taskQueue = 'storm';
    const before = sink.messages.length;
    const count = Number(process.env.DUBAN_STORM_TRACKERS ?? 150);
    const log = path.join(dataDir, 'storm-workers.log');
    const workers: WorkerProcess[] = [
      spawnWorker({ ...workerEnv, DUBAN_TASK_QUEUE: taskQueue }, log),
      spawnWorker({ ...workerEnv, DUBAN_TASK_QUEUE: taskQueue }, log),
    ];
    const definitions = Array.from({ length: count }, (_, i) => overdue(`storm-${i}`));
    await Promise.all(definitions.map((d) => start(d, taskQueue)));

    let kills = 0;
    const deadline = Date.now() + 120_000;
    // Kill a worker every 1.5 s and start a new one, while the storm is being delivered, five times.
    while (kills < 5 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 1_500));
      const victim = workers[kills % 2]!;
      await victim.kill('SIGKILL');
      kills++;
      workers[kills % 2 === 1 ? 0 : 1] = spawnWorker({ ...workerEnv, DUBAN_TASK_QUEUE: taskQueue }, log);
    }
    try {
      const expected = new Set(definitions.map((d) => level1Key(d.unit.id)));
      const until = Date.now() + 180_000;
      const arrived = () => new Set(sink.messages.slice(before).map((m) => m.key));
      while ([...expected].some((k) => !arrived().has(k)) && Date.now() < until)
        await new Promise((r) => setTimeout(r, 200));
      const storm = sink.messages.slice(before);
      const lost = [...expected].filter((k) => !arrived().has(k));
      const duplicates = storm.length - new Set(storm.map((m) => m.messageId)).size;
      // The crash window (accepted by the server, not yet recorded) may repeat a message with its Message-ID. Each
      // repeat is traced to its cause: the ledger shows its claim taken over by a second attempt after the first
      // one's lease ran out, i.e. the first attempt's worker died between the server's 250 and the ledger write.
      const perId = new Map<string, number>();
      for (const m of storm) perId.set(m.messageId, (perId.get(m.messageId) ?? 0) + 1);
      const repeated = [...perId].filter(([, n]) => n > 1).map(([id]) => id);
      const ledger = await Ledger.open({ sqliteFile: path.join(dataDir, 'ledger.sqlite'), migrate: false });
      const rows = new Map((await ledger.notices()).map((r) => [r.message_id, r]));
      await ledger.close();
      const traced = repeated.map((id) => ({ messageId: id, attempts: rows.get(id)?.attempts ?? 0 }));
      console.log(
        JSON.stringify({
          storm: count,
          workerKills: kills,
          received: storm.length,
          lost: lost.length,
          duplicateMessageIds: duplicates,
          traced,
        }),
      );
      for (const t of traced) expect(t.attempts).toBeGreaterThanOrEqual(2);
      expect(lost).toEqual([]);
      expect(storm.every((m) => expected.has(m.key))).toBe(true);
      // At most one repeat a kill and SMTP connection (5 by default): each connection of the killed worker may have
      // had a message in that window.
      expect(duplicates).toBeLessThanOrEqual(kills * 5);
    } finally {
      for (const w of workers) await w.kill('SIGTERM');
    }
  });

  test('a slow mail server: every message is received once, however long the queue for its connection', async () => {
    // One connection and 3 s per message: the last of 16 waits 45 s for its turn, beyond the old 30 s activity
    // timeout and 45 s lease, which used to send some messages twice (28% at 3 s per message in a probe).
    const taskQueue = 'slow-smtp';
    const before = sink.messages.length;
    sink.delayMs = 3_000;
    const log = path.join(dataDir, 'slow-workers.log');
    const worker = spawnWorker({ ...workerEnv, DUBAN_TASK_QUEUE: taskQueue, SMTP_MAX_CONNECTIONS: '1' }, log);
    try {
      const definitions = Array.from({ length: 16 }, (_, i) => overdue(`slow-${i}`));
      await Promise.all(definitions.map((d) => start(d, taskQueue)));
      const expected = new Set(definitions.map((d) => level1Key(d.unit.id)));
      const until = Date.now() + 150_000;
      const arrived = () => new Set(sink.messages.slice(before).map((m) => m.key));
      while ([...expected].some((k) => !arrived().has(k)) && Date.now() < until)
        await new Promise((r) => setTimeout(r, 200));
      await new Promise((r) => setTimeout(r, 5_000)); // late repeats, if any
      const slow = sink.messages.slice(before);
      const ids = slow.map((m) => m.messageId);
      console.log(
        JSON.stringify({
          slowSmtp: definitions.length,
          delayMs: sink.delayMs,
          received: slow.length,
          distinct: new Set(ids).size,
        }),
      );
      expect([...expected].filter((k) => !arrived().has(k))).toEqual([]);
      expect(ids.length).toBe(new Set(ids).size);
      expect(slow.every((m) => expected.has(m.key))).toBe(true);
    } finally {
      sink.delayMs = 0;
      await worker.kill('SIGTERM');
    }
  });
});
