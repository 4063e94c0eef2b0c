/**
 * Issue #19 items 2 and 10 on the time-skipping server, with the real workflow, activities, SMTP server and ledger:
 * a tracker registered mid-period sends one catch-up without a delay note (and no reminder the next working day
 * saying the same); a catch-up that really waited on the mail server says so; the supervising office's 催办 goes
 * out at once, is recorded with who sent it, and a second one the same working day is refused in Chinese.
 */
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { WorkingCalendar } from '../../domain/calendar';
import { formatDate, parseDate } from '../../domain/dates';
import { formatLocal, localDay, zonedInstant } from '../../domain/zone';
import type { TrackerDefinition } from '../../domain/trackers';
import { urgeUpdate } from '../../workflows/messages';
import { Ledger } from '../../ledger';
import {
  TimeSkippingHarness,
  expectRefusal,
  startTimeSkippingHarness,
  startTracker,
  statusOf,
} from '../support/engine';
import type { SmtpSink } from '../support/smtp';
import { overdueOneOff, tracker } from '../support/trackers';

jest.setTimeout(300_000);

const zone = 'Asia/Shanghai';
const calendar = new WorkingCalendar();
const HOUR = 3_600_000;
const DELAY_NOTE = /本通知原定于.*因系统故障或积压延迟送达/;

/** The working day after today (Beijing): a catch-up today stands for the reminders up to its end. */
const nextWorkingDay = calendar.addWorkingDays(localDay(Date.now(), zone), 1);
/** Due the working day after that: r10 and r3 have passed, r1 falls on nextWorkingDay, r0 on the due day. */
const dueDay = formatDate(calendar.addWorkingDays(nextWorkingDay, 1));

function dueSoon(unit: string): TrackerDefinition {
  const base = tracker({
    obligation: { id: 'soon', period: 'once', due: { rule: 'fixed-date', date: dueDay } },
    escalation: [],
  });
  return {
    ...base,
    trackerId: `soon/${unit}`,
    unit: {
      ...base.unit,
      id: unit,
      liaison: { name: '联络员', email: `${unit}.liaison@test.example.org` },
      head: { name: '负责人', email: `${unit}.head@test.example.org` },
    },
  };
}

describe('catch-up and 催办 on the time-skipping server', () => {
  let harness: TimeSkippingHarness;
  let env: TestWorkflowEnvironment;
  let sink: SmtpSink;
  let ledger: Ledger;
  const taskQueue = 'catch-up-urge-test';
  const of = (trackerId: string) => sink.messages.filter((m) => m.key.startsWith(`${trackerId}/`));
  const waitForMail = async (trackerId: string, count: number) => {
    for (let i = 0; i < 300 && of(trackerId).length < count; i++) await new Promise((r) => setTimeout(r, 100));
    expect(of(trackerId).length).toBeGreaterThanOrEqual(count);
  };

  beforeAll(async () => {
    harness = await startTimeSkippingHarness(taskQueue);
    ({ env, sink, ledger } = harness);
  });
  /** Runs kept as replay fixtures by `npm run record-histories` (test/histories): a catch-up plan, a 催办. */
  const recorded: { name: string; workflowId: string; runId?: string }[] = [];
  afterAll(async () => {
    if (process.env.DUBAN_RECORD_HISTORIES === '1') {
      for (const r of recorded) {
        const history = await env.client.workflow.getHandle(r.workflowId, r.runId).fetchHistory();
        writeFileSync(path.join(__dirname, '..', 'histories', `${r.name}.json`), historyToJSON(history));
      }
    }
    await harness?.stop();
  });

  test('registered mid-period: one catch-up, no delay note, nothing the next working day; a catch-up held by a mail outage says so', async () => {
    const quiet = dueSoon('quiet');
    const held = dueSoon('held');
    const handle = await startTracker(env.client, taskQueue, quiet);
    recorded.push({ name: 'caughtUp', workflowId: handle.workflowId, runId: handle.firstExecutionRunId });
    await statusOf(handle);
    await waitForMail(quiet.trackerId, 1);
    const [catchUp] = of(quiet.trackerId);
    expect(catchUp!.key.split('/').pop()).toBe('r3');
    expect(catchUp!.parsed.text).not.toMatch(DELAY_NOTE);
    expect(catchUp!.parsed.html).not.toMatch(DELAY_NOTE);

    // The mail server refuses everything for two hours from now: the second tracker's catch-up waits on it, and
    // says so, naming the moment it was meant for (its registration), not the reminder's planned day.
    const registeredAt = await env.currentTimeMs();
    sink.outageUntil = registeredAt + 2 * HOUR;
    const heldHandle = await startTracker(env.client, taskQueue, held);
    await statusOf(heldHandle);
    await env.sleep(2 * HOUR + 60_000);
    await waitForMail(held.trackerId, 1);
    const late = of(held.trackerId)[0]!;
    expect(late.date).toBeGreaterThanOrEqual(sink.outageUntil);
    expect(late.parsed.text).toContain(`本通知原定于${formatLocal(registeredAt, zone).slice(0, 13)}`);
    expect(late.parsed.text).toMatch(DELAY_NOTE);

    // Past the due day: the next message is the due day's reminder; nothing went out on the working day after the
    // registration (r1 would repeat the catch-up's news a day later).
    await env.sleep(zonedInstant(parseDate(dueDay)!, zone, 23) - (await env.currentTimeMs()));
    const got = of(quiet.trackerId);
    expect(got.map((m) => m.key.split('/').pop())).toEqual(['r3', 'r0']);
    expect(got.filter((m) => localDay(m.date, zone) === nextWorkingDay)).toEqual([]);
    expect(got[1]!.parsed.text).not.toMatch(DELAY_NOTE);
    // The passed-over reminders were never claimed: nothing to send, nothing sent twice.
    const rows = await ledger.notices({ trackerId: quiet.trackerId });
    expect(rows.map((r) => r.send_key.split('/').pop()).sort()).toEqual(['r0', 'r3']);
    expect(of(held.trackerId).map((m) => m.key.split('/').pop())).toEqual(['r3', 'r0']);
  });

  test('催办: at once for a red period, recorded with who sent it; a second the same working day is refused in Chinese', async () => {
    const { overdue } = overdueOneOff();
    const def = overdue('urged');
    const handle = await startTracker(env.client, taskQueue, def);
    expect((await statusOf(handle)).colour).toBe('red');
    await waitForMail(def.trackerId, 1); // level 1, caught up at registration
    const before = of(def.trackerId).length;
    const status = await handle.executeUpdate(urgeUpdate, {
      args: [{ by: '王明', email: 'office-liaison@test.example.org', note: '请于本周五前报送' }],
    });
    expect(status.colour).toBe('red');
    await waitForMail(def.trackerId, before + 1);
    const urge = of(def.trackerId)[before]!;
    expect(urge.key).toMatch(/\/u\d{4}-\d{2}-\d{2}$/);
    expect(urge.parsed.subject).toMatch(/^【督办催办】/);
    expect(urge.parsed.text).toContain('市委依法治市办（王明）现就');
    expect(urge.parsed.text).toContain('催办意见：请于本周五前报送');
    expect(urge.to.sort()).toEqual([def.unit.head.email, def.unit.liaison.email].sort());
    expect(urge.cc).toEqual(['office-liaison@test.example.org']);
    // One thread per period: the 催办 answers the period's earlier notice.
    expect(urge.parsed.inReplyTo).toBe(of(def.trackerId)[before - 1]!.messageId);

    await expectRefusal(
      handle.executeUpdate(urgeUpdate, { args: [{ by: '李华' }] }),
      /已于\d{4}-\d{2}-\d{2}由王明 <office-liaison@test\.example\.org>催办过，每个工作日最多催办一次；\d{4}-\d{2}-\d{2}起可再次催办/,
    );
    const events = await ledger.events({ trackerId: def.trackerId });
    expect(events.filter((e) => e.kind === 'urged')).toEqual([
      expect.objectContaining({ actor: '王明 <office-liaison@test.example.org>' }),
    ]);
    const rows = (await ledger.notices({ trackerId: def.trackerId })).filter((r) => r.stage === 'urge');
    expect(rows).toHaveLength(1);
    expect(rows[0]!.status).toBe('sent');
    expect((await statusOf(handle)).periods[0]!.lastUrge).toMatchObject({
      by: '王明 <office-liaison@test.example.org>',
    });

    // The next working day, the office may urge again.
    const nextFrom = (await statusOf(handle)).periods[0]!.lastUrge!.nextFrom;
    await env.sleep(nextFrom + HOUR - (await env.currentTimeMs()));
    const count = of(def.trackerId).length;
    await handle.executeUpdate(urgeUpdate, { args: [{ by: '李华' }] });
    await waitForMail(def.trackerId, count + 1);
    expect(of(def.trackerId).filter((m) => /\/u\d{4}-\d{2}-\d{2}$/.test(m.key))).toHaveLength(2);
    // The run that took both 催办 (the first run ended when the period opened).
    recorded.push({ name: 'urged', workflowId: handle.workflowId, runId: (await handle.describe()).runId });
  });
});
