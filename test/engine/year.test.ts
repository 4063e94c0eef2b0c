/**
 * A year of a few units of the default catalog on the time-skipping server: every planned notice is sent at its
 * planned instant, in order, to the right recipients, received by a real SMTP server and parsed.
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Ledger } from '../../ledger';
import { loadInputs } from '../../config/load';
import { parseDate } from '../../domain/dates';
import { catchUpOnStart, noticeKey, planWindow, PlannedNotice } from '../../domain/planner';
import { localDay } from '../../domain/zone';
import { TimeSkippingHarness, statusOf, startTracker, startTimeSkippingHarness } from '../support/engine';
import type { SmtpSink } from '../support/smtp';

jest.setTimeout(300_000);

describe('a year of the default catalog on the time-skipping server', () => {
  let harness: TimeSkippingHarness;
  let env: TestWorkflowEnvironment;
  let sink: SmtpSink;
  let ledger: Ledger;
  const taskQueue = 'year-test';
  const inputs = loadInputs({});
  const trackers = inputs.trackers.filter((t) => ['county-a', 'sfj'].includes(t.unit.id));

  beforeAll(async () => {
    harness = await startTimeSkippingHarness(taskQueue);
    ({ env, sink, ledger } = harness);
  });
  afterAll(async () => {
    await harness?.stop();
  });

  test('every planned notice goes out at its instant, in order, to the right people, threaded per period', async () => {
    expect(trackers.length).toBeGreaterThan(8);
    const registeredAt = await env.currentTimeMs();
    const handles = await Promise.all(trackers.map((t) => startTracker(env.client, taskQueue, t)));
    const firstPeriods = new Map<string, string>();
    for (const [i, h] of handles.entries())
      firstPeriods.set(trackers[i]!.trackerId, (await statusOf(h)).periods[0]!.period);

    const end = Date.parse('2027-12-31T16:00:00Z'); // 2028-01-01 00:00 in Shanghai
    await env.sleep(end - (await env.currentTimeMs()));

    const zone = 'Asia/Shanghai';
    const window = planWindow(trackers, inputs.calendar, {
      from: localDay(registeredAt, zone) - 200,
      to: parseDate('2027-12-31')!,
    });
    // The trackers start with the first period not yet due; of the notices already due at registration, the
    // latest is sent at once (catch-up) and the others are skipped, as are the reminders up to the end of the next
    // working day, which the catch-up stands for (planner.catchUpOnStart).
    const tracked = window.notices.filter((n) => n.period >= firstPeriods.get(n.trackerId)!);
    const passedOver = new Set<string>();
    for (const t of trackers) {
      const first = tracked.filter((n) => n.trackerId === t.trackerId && n.period === firstPeriods.get(t.trackerId));
      for (const key of catchUpOnStart(first, inputs.calendar, zone, registeredAt)?.passOver ?? []) passedOver.add(key);
    }
    const expected = tracked.filter((n) => n.at > registeredAt && !passedOver.has(noticeKey(n)));
    const catchUps = new Map<string, PlannedNotice>();
    for (const n of tracked) if (n.at <= registeredAt) catchUps.set(n.trackerId, n);

    const received = sink.messages;
    const expectedKeys = new Set([...expected, ...catchUps.values()].map(noticeKey));
    expect(received.map((m) => m.key).filter((k) => !expectedKeys.has(k))).toEqual([]);
    expect(received.length).toBe(expected.length + catchUps.size);
    const byKey = new Map(received.map((m) => [m.key, m]));
    expect(byKey.size).toBe(received.length);
    for (const n of [...expected, ...catchUps.values()]) {
      const m = byKey.get(noticeKey(n));
      expect(m).toBeDefined();
      expect(m!.to).toEqual(n.to);
      expect(m!.cc).toEqual(n.cc);
      expect(m!.envelopeTo.sort()).toEqual([...n.to, ...n.cc].sort());
      // The Date header has whole seconds.
      if (n.at > registeredAt) expect(Math.floor(m!.date / 1000)).toBe(Math.floor(n.at / 1000));
      else expect(Math.abs(m!.date - registeredAt)).toBeLessThan(5_000);
    }
    // In order: per tracker, the messages arrive in the order of their planned instants.
    for (const t of trackers) {
      const mine = received.filter((m) => m.key.startsWith(`${t.trackerId}/`)).map((m) => m.date);
      expect(mine).toEqual([...mine].sort((a, b) => a - b));
    }
    // The ledger saw each fire at its planned instant (a durable timer fires a few milliseconds after it is due).
    const rows = await ledger.notices();
    expect(rows).toHaveLength(received.length);
    for (const r of rows.filter((r) => r.planned_at > registeredAt)) {
      expect(r.fired_at! - r.planned_at).toBeGreaterThanOrEqual(0);
      expect(r.fired_at! - r.planned_at).toBeLessThan(2_000);
    }
    expect(rows.every((r) => r.status === 'sent' && r.attempts === 1)).toBe(true);

    // Chinese subject and body, the legal basis, threading within a period.
    const sample = received.find((m) => m.key.startsWith('annual-report-gov/county-a/2026/') && m.key.endsWith('/r3'))!;
    expect(sample.parsed.subject).toMatch(/^【督办提醒】甲区：.*（2026年度）2027年2月26日截止|^【督办提醒】/);
    expect(sample.parsed.text).toContain('各级政府每年向同级党委、人大常委会和上一级政府报告法治政府建设情况');
    expect(sample.parsed.html).toContain('<table>');
    const thread = received
      .filter((m) => m.key.startsWith('annual-report-gov/county-a/2026/'))
      .sort((a, b) => a.date - b.date);
    expect(thread.length).toBeGreaterThan(5);
    expect(thread[0]!.parsed.inReplyTo).toBeUndefined();
    for (let i = 1; i < thread.length; i++) {
      expect(thread[i]!.parsed.inReplyTo).toBe(thread[i - 1]!.messageId);
      expect(thread[i]!.parsed.references).toContain(thread[0]!.messageId);
    }
    const level2 = received.find((m) => m.key.includes('/e2.0'))!;
    expect(level2.parsed.subject).toMatch(/督办单 督〔2027〕\d+号/);
  });
});
