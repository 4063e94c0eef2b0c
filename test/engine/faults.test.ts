/**
 * SMTP faults on the time-skipping server: a permanent rejection is recorded, reported to the supervising office
 * as undeliverable and never retried; a transient failure is retried with backoff until the message goes out,
 * once.
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Ledger } from '../../ledger';
import { WorkingCalendar } from '../../domain/calendar';
import { formatDate } from '../../domain/dates';
import { parsePeriod } from '../../domain/periods';
import { planPeriod } from '../../domain/planner';
import type { TrackerDefinition } from '../../domain/trackers';
import { localDay } from '../../domain/zone';
import { TimeSkippingHarness, startTracker, statusOf, startTimeSkippingHarness } from '../support/engine';
import type { SmtpSink } from '../support/smtp';
import { tracker } from '../support/trackers';
import { submitUpdate } from '../../workflows/messages';

jest.setTimeout(300_000);

// Due three weeks after the test runs (the time-skipping server starts at the real current time).
const dueDay = formatDate(localDay(Date.now(), 'Asia/Shanghai') + 21);
const oneOff = (unit: string): TrackerDefinition => {
  const base = tracker({
    obligation: { id: 'one-off', period: 'once', due: { rule: 'fixed-date', date: dueDay } },
    reminders: [3, 0],
    escalation: [{ level: 1, after: 1, repeatWeekly: false }],
  });
  return {
    ...base,
    trackerId: `one-off/${unit}`,
    unit: {
      ...base.unit,
      id: unit,
      liaison: { name: '联络员', email: `${unit}.liaison@test.example.org` },
      head: { name: '负责人', email: `${unit}.head@test.example.org` },
    },
  };
};

describe('SMTP faults', () => {
  let harness: TimeSkippingHarness;
  let env: TestWorkflowEnvironment;
  let sink: SmtpSink;
  let ledger: Ledger;
  const taskQueue = 'faults-test';

  beforeAll(async () => {
    harness = await startTimeSkippingHarness(taskQueue);
    ({ env, sink, ledger } = harness);
  });
  afterAll(async () => {
    await harness?.stop();
  });

  test('permanent rejections are recorded and reported, transient failures retried until delivered once', async () => {
    sink.rejectAddresses.add('partly.liaison@test.example.org');
    sink.rejectAddresses.add('wholly.liaison@test.example.org');
    sink.rejectAddresses.add('wholly.head@test.example.org');
    const partly = await startTracker(env.client, taskQueue, oneOff('partly'));
    const wholly = await startTracker(env.client, taskQueue, oneOff('wholly'));
    const flaky = await startTracker(env.client, taskQueue, oneOff('flaky'));
    for (const handle of [partly, wholly, flaky]) await statusOf(handle);

    // Just before the first reminder of each, the SMTP server starts failing the next 4 DATA commands.
    const plan = planPeriod(oneOff('flaky'), parsePeriod('once', 'once')!, new WorkingCalendar());
    const [first, second] = plan.notices;
    await env.sleep(first!.at - 60_000 - (await env.currentTimeMs()));
    sink.failNext = 4;
    await env.sleep(first!.at + 3_600_000 - (await env.currentTimeMs()));
    expect(sink.transientFailures).toBe(4);

    const r3 = (unit: string) => `one-off/${unit}/once/${dueDay}/r3`;
    const received = (key: string) => sink.messages.filter((m) => m.key === key);
    // Partly rejected: delivered to the head in copy, the liaison's address reported to the supervising office.
    expect(received(r3('partly'))).toHaveLength(1);
    expect(received(r3('partly'))[0]!.envelopeTo).toEqual(['partly.head@test.example.org']);
    // Wholly rejected: nothing delivered, nothing retried.
    expect(received(r3('wholly'))).toHaveLength(0);
    // Flaky or not, every notice arrived exactly once.
    expect(received(r3('flaky'))).toHaveLength(1);

    const rows = new Map((await ledger.notices()).map((r) => [r.send_key, r]));
    expect(rows.get(r3('partly'))).toMatchObject({
      status: 'sent',
      rejected: JSON.stringify(['partly.liaison@test.example.org']),
    });
    expect(rows.get(r3('wholly'))).toMatchObject({ status: 'rejected', attempts: 1 });
    expect(JSON.parse(rows.get(r3('wholly'))!.rejected!).sort()).toEqual([
      'wholly.head@test.example.org',
      'wholly.liaison@test.example.org',
    ]);
    // Each transient failure cost exactly one more attempt, on whichever notice or report it hit.
    const attempts = [...rows.values()].reduce((n, r) => n + r.attempts, 0);
    expect(rows.size).toBe(3 + 2);
    expect(attempts).toBe(rows.size + 4);

    for (const unit of ['partly', 'wholly']) {
      const reports = received(`${r3(unit)}/undeliverable`);
      expect(reports).toHaveLength(1);
      expect(reports[0]!.to).toEqual(['office-liaison@test.example.org']);
      expect(reports[0]!.parsed.subject).toContain('【督办退信】');
      expect(reports[0]!.parsed.text).toContain(`${unit}.liaison@test.example.org`);
    }
    expect(sink.messages.map((m) => m.messageId).length).toBe(new Set(sink.messages.map((m) => m.messageId)).size);

    // The rejected tracker goes on with its ladder: the due-day reminder is still planned.
    expect((await statusOf(wholly)).periods[0]!.nextNotice).toMatchObject({ stage: 'reminder', at: second!.at });
  });

  test('a day-long outage: a notice overtaken by the next one is superseded, a late one says when it was due', async () => {
    // Reminders 3, 1 and 0 working days before due. The mail system goes down just before r3 and stays down for a
    // day and a half: r3 is overtaken by r1 before it could go out (recorded superseded, not sent); r1 goes out
    // half a day late and says so; r0 goes out on time.
    // Due two months out, well after the first test's timeline (the server's clock only moves forward).
    const base = oneOff('outage');
    const def = {
      ...base,
      obligation: {
        ...base.obligation,
        due: { rule: 'fixed-date' as const, date: formatDate(localDay(Date.now(), 'Asia/Shanghai') + 60) },
      },
      reminders: [3, 1, 0],
      escalation: [],
    };
    const handle = await startTracker(env.client, taskQueue, def);
    await statusOf(handle);
    const plan = planPeriod(def, parsePeriod('once', 'once')!, new WorkingCalendar());
    const [r3, r1, r0] = plan.notices;
    expect(await env.currentTimeMs()).toBeLessThan(r3!.at - 60_000);
    await env.sleep(r3!.at - 60_000 - (await env.currentTimeMs()));
    sink.outageUntil = r1!.at + 12 * 3_600_000;
    await env.sleep(r0!.at + 3_600_000 - (await env.currentTimeMs()));
    const got = sink.messages.filter((m) => m.key.startsWith('one-off/outage/'));
    expect(got.map((m) => m.key.split('/').pop())).toEqual(['r1', 'r0']);
    const late = got[0]!;
    expect(late.date).toBeGreaterThanOrEqual(sink.outageUntil);
    expect(late.parsed.text).toMatch(/本通知原定于\d{4}-\d{2}-\d{2} 09:00发送，因系统故障或积压延迟送达/);
    expect(got[1]!.parsed.text).not.toMatch(/原定于/);
    const rows = await ledger.notices({ trackerId: def.trackerId });
    expect(rows.map((r) => [r.send_key.split('/').pop(), r.status])).toEqual([
      ['r3', 'superseded'],
      ['r1', 'sent'],
      ['r0', 'sent'],
    ]);
    sink.outageUntil = 0;
  });

  test('a submission during an outage calls off the notice that waits for the mail server', async () => {
    const base = oneOff('calledoff');
    const def = {
      ...base,
      obligation: {
        ...base.obligation,
        due: { rule: 'fixed-date' as const, date: formatDate(localDay(Date.now(), 'Asia/Shanghai') + 90) },
      },
      reminders: [3, 0],
      escalation: [],
    };
    const handle = await startTracker(env.client, taskQueue, def);
    await statusOf(handle);
    const plan = planPeriod(def, parsePeriod('once', 'once')!, new WorkingCalendar());
    const [r3] = plan.notices;
    expect(await env.currentTimeMs()).toBeLessThan(r3!.at - 60_000);
    await env.sleep(r3!.at - 60_000 - (await env.currentTimeMs()));
    sink.outageUntil = Number.MAX_SAFE_INTEGER;
    await env.sleep(3_600_000);
    expect(sink.messages.filter((m) => m.key.startsWith('one-off/calledoff/'))).toEqual([]);
    await handle.executeUpdate(submitUpdate, { args: [{ by: '联络员', evidence: { text: '已报送' } }] });
    sink.outageUntil = 0;
    await env.sleep(2 * 3_600_000);
    // The reminder that was waiting for the mail server is not sent after the work was done.
    expect(sink.messages.filter((m) => m.key.startsWith('one-off/calledoff/'))).toEqual([]);
    expect(await handle.result()).toMatchObject({ history: [expect.objectContaining({ outcome: 'on_time' })] });
  });
});
