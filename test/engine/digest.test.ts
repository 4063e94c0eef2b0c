/**
 * The supervisor digest (DOMAIN.md 12) on the time-skipping server: at most one email per office and working day,
 * listing what newly turned red; an office that opted out is copied on level 1 instead.
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { WorkingCalendar } from '../../domain/calendar';
import { formatDate, parseDate } from '../../domain/dates';
import type { TrackerDefinition } from '../../domain/trackers';
import { localDay, zonedInstant } from '../../domain/zone';
import { DIGEST_WORKFLOW_ID, digestWorkflow } from '../../workflows/digest';
import { TimeSkippingHarness, startTracker, statusOf, startTimeSkippingHarness } from '../support/engine';
import type { SmtpSink } from '../support/smtp';
import { tracker } from '../support/trackers';

jest.setTimeout(300_000);

const calendar = new WorkingCalendar();
const zone = 'Asia/Shanghai';
// Two due dates on consecutive working days, a few weeks after the test runs.
const firstDue = calendar.onOrAfter(localDay(Date.now(), zone) + 20);
const secondDue = calendar.addWorkingDays(firstDue, 1);

const oneOff = (unit: string, due: number, digest = true): TrackerDefinition => {
  const base = tracker({
    obligation: {
      id: 'task',
      title: `任务${unit}`,
      period: 'once',
      due: { rule: 'fixed-date', date: formatDate(due) },
    },
    reminders: [0],
    escalation: [{ level: 1, after: 1, repeatWeekly: false }],
  });
  return {
    ...base,
    trackerId: `task/${unit}`,
    unit: {
      ...base.unit,
      id: unit,
      name: `${unit}局`,
      head: { name: '负责人', email: `${unit}.head@test.example.org` },
    },
    supervisor: digest
      ? base.supervisor
      : {
          ...base.supervisor,
          id: 'quiet-office',
          name: '不收日报的办公室',
          digest: false,
          liaison: { name: '联络员', email: 'quiet.liaison@test.example.org' },
        },
  };
};

describe('supervisor digest', () => {
  let harness: TimeSkippingHarness;
  let env: TestWorkflowEnvironment;
  let sink: SmtpSink;
  const taskQueue = 'digest-test';

  beforeAll(async () => {
    harness = await startTimeSkippingHarness(taskQueue);
    ({ env, sink } = harness);
  });
  afterAll(async () => {
    await harness?.stop();
  });

  test('one email per office and working day, listing what newly turned red', async () => {
    await env.client.workflow.start(digestWorkflow, {
      workflowId: DIGEST_WORKFLOW_ID,
      taskQueue,
      args: [{ timeZone: zone, hour: 9 }],
    });
    const handles = await Promise.all([
      startTracker(env.client, taskQueue, oneOff('alpha', firstDue)),
      startTracker(env.client, taskQueue, oneOff('beta', firstDue)),
      startTracker(env.client, taskQueue, oneOff('gamma', secondDue)),
      startTracker(env.client, taskQueue, oneOff('quiet', firstDue, false)),
    ]);
    for (const h of handles) await statusOf(h);
    // 代办: on the second digest's day the office's liaison is away; the stand-in receives it, the liaison in copy.
    const secondDigestDay = formatDate(calendar.addWorkingDays(secondDue, 1));
    await harness.ledger.standIns.add('digest-away', {
      unit: 'office',
      absent: { name: '联络员', email: 'office-liaison@test.example.org' },
      standIn: { name: '代办人', email: 'office-deputy@test.example.org' },
      from: secondDigestDay,
      to: secondDigestDay,
      by: 'test',
      at: 0,
    });
    await env.sleep(zonedInstant(calendar.addWorkingDays(secondDue, 6), zone, 12) - (await env.currentTimeMs()));

    const digests = sink.messages.filter((m) => m.key.startsWith('digest/')).sort((a, b) => a.date - b.date);
    expect(digests.map((m) => m.key)).toEqual([
      `digest/office/${formatDate(calendar.addWorkingDays(firstDue, 1))}`,
      `digest/office/${formatDate(calendar.addWorkingDays(secondDue, 1))}`,
    ]);
    expect(digests[0]!.date).toBe(zonedInstant(calendar.addWorkingDays(firstDue, 1), zone, 9));
    expect(digests[0]!.to).toEqual(['office-liaison@test.example.org']);
    expect(digests[0]!.cc).toEqual(['office-head@test.example.org']);
    expect(digests[0]!.parsed.subject).toContain('2项任务新逾期');
    expect(digests[0]!.parsed.text).toMatch(/alpha局：任务alpha[\s\S]*beta局：任务beta/);
    expect(digests[0]!.parsed.text).not.toContain('gamma');
    expect(digests[1]!.parsed.subject).toContain('1项任务新逾期');
    expect(digests[1]!.to).toEqual(['office-deputy@test.example.org']);
    expect([...digests[1]!.cc].sort()).toEqual(['office-head@test.example.org', 'office-liaison@test.example.org']);
    expect(digests[1]!.parsed.text).toContain('gamma局');

    // Level 1 reached the heads without a copy to the digesting office; the office without the digest was copied.
    const level1 = (unit: string) =>
      sink.messages.find(
        (m) => m.key === `task/${unit}/once/${formatDate(unit === 'gamma' ? secondDue : firstDue)}/e1.0`,
      )!;
    expect(level1('alpha').cc).toEqual([]);
    expect(level1('quiet').cc).toEqual(['quiet.liaison@test.example.org']);
    expect(sink.messages.some((m) => m.key.startsWith('digest/quiet-office'))).toBe(false);
    expect(parseDate(formatDate(firstDue))).toBe(firstDue);
  });
});
