/**
 * The supervisor digest as a Temporal Schedule (issue 11.4), on the dev server with a worker process: the worker
 * creates the deployment's schedule (and ends the sleeping loop of earlier versions); a run triggered by hand
 * sends the day's digest once, a second run the same day sends nothing and strands nothing; every run pings the
 * dead-man's switch; the schedule follows DUBAN_DIGEST_HOUR and is paused by DUBAN_DIGEST=false.
 *
 * The time-skipping server runs no schedules; `digestWorkflow` (the former loop) keeps its tests in
 * test/engine/digest.test.ts.
 */
import { ScheduleHandle } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { WorkingCalendar } from '../../domain/calendar';
import { formatDate } from '../../domain/dates';
import type { TrackerDefinition } from '../../domain/trackers';
import { localDay } from '../../domain/zone';
import { DIGEST_WORKFLOW_ID, digestScheduleId, digestWorkflow } from '../../workflows/digest';
import { workflowIdFor } from '../../workflows/messages';
import { trackerWorkflow } from '../../workflows/tracker';
import { devServerEnv } from '../support/engine';
import { SmtpSink, startSmtpSink } from '../support/smtp';
import { tracker } from '../support/trackers';
import { WorkerProcess, spawnWorker } from '../support/worker-process';

jest.setTimeout(240_000);

const calendar = new WorkingCalendar();
const dueDay = formatDate(calendar.addWorkingDays(calendar.onOrBefore(localDay(Date.now(), 'Asia/Shanghai') - 1), -1));
const overdue = (unit: string): TrackerDefinition => {
  const base = tracker({
    obligation: { id: 'overdue', title: '逾期任务', period: 'once', due: { rule: 'fixed-date', date: dueDay } },
    escalation: [
      { level: 1, after: 1, repeatWeekly: false },
      { level: 2, after: 5, repeatWeekly: false },
    ],
  });
  return {
    ...base,
    trackerId: `overdue/${unit}`,
    unit: {
      ...base.unit,
      id: unit,
      name: `${unit}局`,
      head: { name: '负责人', email: `${unit}.head@test.example.org` },
    },
  };
};

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch {
      // not yet
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('the digest as a Temporal Schedule', () => {
  let env: TestWorkflowEnvironment;
  let sink: SmtpSink;
  let pingServer: Server;
  const pings: string[] = [];
  let dir: string;
  const workers: WorkerProcess[] = [];
  const taskQueue = 'digest-schedule';

  beforeAll(async () => {
    env = await devServerEnv();
    sink = await startSmtpSink();
    dir = mkdtempSync(path.join(tmpdir(), 'duban-digest-schedule-'));
    pingServer = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        pings.push(`${req.method} ${req.url} ${body}`);
        res.end('OK');
      });
    });
    await new Promise<void>((resolve) => pingServer.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null) await w.kill('SIGTERM');
    pingServer?.close();
    await sink?.close();
    await env?.teardown();
  });

  function worker(extra: Record<string, string>, name: string) {
    // Today (UTC) is a working day in this deployment's calendar, whatever day the test runs: a make-up working day.
    const today = formatDate(localDay(Date.now(), 'UTC'));
    const year = today.slice(0, 4);
    const calendarFile = path.join(dir, 'calendar.yaml');
    writeFileSync(
      calendarFile,
      `years:\n  "${year}":\n    source: test\n    holidays: []\n    workdays: ["${today}"]\n`,
    );
    const w = spawnWorker(
      {
        TEMPORAL_ADDRESS: env.address,
        TEMPORAL_NAMESPACE: env.namespace ?? 'default',
        SMTP_URL: sink.url,
        MAIL_FROM: '督办系统 <duban@test.example.org>',
        DUBAN_DATA_DIR: path.join(dir, 'data'),
        DUBAN_TASK_QUEUE: taskQueue,
        DUBAN_CALENDAR: calendarFile,
        DUBAN_DIGEST_TIME_ZONE: 'UTC',
        DUBAN_DIGEST_HOUR: '0',
        DUBAN_HEARTBEAT_URL: `http://127.0.0.1:${(pingServer.address() as AddressInfo).port}/ping/check-key`,
        ...extra,
      },
      path.join(dir, `${name}.log`),
    );
    workers.push(w);
    return w;
  }

  const describeSchedule = (h: ScheduleHandle) => h.describe();

  test("the worker creates the schedule and ends the old loop; a triggered run sends the day's digest once and pings; a second run sends nothing", async () => {
    // A deployment of the previous version: the sleeping loop runs on this task queue.
    const legacy = await env.client.workflow.start(digestWorkflow, {
      workflowId: DIGEST_WORKFLOW_ID,
      taskQueue,
      args: [{ timeZone: 'UTC', hour: 0 }],
    });
    const w = worker({}, 'worker');
    const handle = env.client.schedule.getHandle(digestScheduleId(taskQueue));
    const d = await until('the schedule', () => describeSchedule(handle));
    expect(d.spec.timezone).toBe('UTC');
    expect(d.spec.calendars?.[0]?.hour).toEqual([{ start: 0, end: 0, step: 1 }]);
    expect(d.action).toMatchObject({
      type: 'startWorkflow',
      workflowType: 'digestDayWorkflow',
      taskQueue,
      args: [{ timeZone: 'UTC', hour: 0 }],
    });
    expect(d.state.paused).toBe(false);
    // The next run is the next midnight UTC.
    const next = d.info.nextActionTimes[0]!.getTime();
    expect(next % 86_400_000).toBe(0);
    expect(next).toBeGreaterThan(Date.now());
    await until('the old loop to be ended', async () => (await legacy.describe()).status.name === 'TERMINATED');

    for (const unit of ['d1', 'd2'])
      await env.client.workflow.start(trackerWorkflow, {
        workflowId: workflowIdFor(`overdue/${unit}`),
        taskQueue,
        args: [{ definition: overdue(unit) }],
      });
    await sink.waitFor(2, 60_000);

    const today = formatDate(localDay(Date.now(), 'UTC'));
    await handle.trigger();
    // The run's own account: its day, a working day, one office sent.
    const firstRun = await until(
      'the first run',
      async () => (await describeSchedule(handle)).info.recentActions[0]?.action.workflow.workflowId,
    );
    expect(await env.client.workflow.getHandle(firstRun).result()).toEqual({ day: today, working: true, offices: 1 });
    await until('the digest', async () => sink.messages.some((m) => m.key === `digest/office/${today}`));
    const digest = sink.messages.find((m) => m.key === `digest/office/${today}`)!;
    expect(digest.to).toEqual(['office-liaison@test.example.org']);
    expect(digest.parsed.subject).toMatch(/^【督办日报】市委依法治市办：2项任务新逾期/);
    expect(digest.parsed.text).toContain('d1局');
    expect(digest.parsed.text).toContain('d2局');
    await until('the first ping', async () => pings.length >= 1);
    expect(pings[0]).toBe(`POST /ping/check-key duban digest ${today}: 1 offices`);

    // A second run of the same day: the office's digest went out already; nothing is sent, the switch is pinged.
    // (The schedule skips a run while one is running: wait until it has seen the first one finish.)
    await until(
      'the first run to be done',
      async () => (await describeSchedule(handle)).info.runningActions.length === 0,
    );
    await handle.trigger();
    await until('the second ping', async () => pings.length >= 2, 60_000);
    expect(pings[1]).toBe(`POST /ping/check-key duban digest ${today}: 0 offices`);
    expect(sink.messages.filter((m) => m.key.startsWith('digest/'))).toHaveLength(1);
    const runs = (await describeSchedule(handle)).info.recentActions;
    expect(runs.length).toBe(2);
    expect(await w.kill('SIGTERM')).toBe(0);
  });

  test("the schedule follows the workers' settings: a new hour updates it, DUBAN_DIGEST=false pauses it", async () => {
    const handle = env.client.schedule.getHandle(digestScheduleId(taskQueue));
    const w7 = worker({ DUBAN_DIGEST_HOUR: '7' }, 'worker-7');
    await until(
      'the hour to be 7',
      async () => (await describeSchedule(handle)).spec.calendars?.[0]?.hour?.[0]?.start === 7,
    );
    expect((await describeSchedule(handle)).action).toMatchObject({ args: [{ timeZone: 'UTC', hour: 7 }] });
    expect(await w7.kill('SIGTERM')).toBe(0);
    const off = worker({ DUBAN_DIGEST: 'false' }, 'worker-off');
    await until('the schedule to be paused', async () => (await describeSchedule(handle)).state.paused);
    expect((await describeSchedule(handle)).state.note).toMatch(/DUBAN_DIGEST=false/);
    expect(await off.kill('SIGTERM')).toBe(0);
    const on = worker({}, 'worker-on');
    await until('the schedule to run again', async () => !(await describeSchedule(handle)).state.paused);
    expect(await on.kill('SIGTERM')).toBe(0);
  });
});
