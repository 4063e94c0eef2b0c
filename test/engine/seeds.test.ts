/**
 * The seeds' new kinds of duty on the time-skipping server (issue 12): a rate below and then above its threshold,
 * a roster where one person falls short, and a two-yearly cycle. Real workflow, activities, SMTP and ledger; the
 * timeline is read off the planner, since the server starts at the real current time.
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { WorkingCalendar } from '../../domain/calendar';
import { formatDate } from '../../domain/dates';
import { PeriodPlan, firstPeriodNotYetDue, planPeriod } from '../../domain/planner';
import { localDay } from '../../domain/zone';
import type { TrackerDefinition } from '../../domain/trackers';
import { recordUpdate, reportUpdate, updateDefinitionUpdate } from '../../workflows/messages';
import {
  TimeSkippingHarness,
  expectRefusal,
  startTracker,
  statusOf,
  startTimeSkippingHarness,
} from '../support/engine';
import type { SmtpSink } from '../support/smtp';
import { tracker } from '../support/trackers';

jest.setTimeout(300_000);

const calendar = new WorkingCalendar();
const HOUR = 3_600_000;

const forUnit = (unit: string, def: TrackerDefinition): TrackerDefinition => ({
  ...def,
  trackerId: `${def.obligation.id}/${unit}`,
  unit: {
    ...def.unit,
    id: unit,
    name: `${unit}单位`,
    liaison: { name: '联络员', email: `${unit}.liaison@test.example.org` },
    head: { name: '负责人', email: `${unit}.head@test.example.org` },
  },
});

const defs = {
  rate: forUnit(
    'rate',
    tracker({
      obligation: {
        id: 'court-appearance-rate',
        period: 'year',
        due: { rule: 'next-month-end' },
        completion: 'rate',
        threshold: 90,
        measure: '行政机关负责人出庭应诉率',
      },
      reminders: [10, 3, 0],
    }),
  ),
  people: {
    ...forUnit(
      'people',
      tracker({
        obligation: {
          id: 'officer-training',
          period: 'year',
          due: { rule: 'period-end' },
          completion: 'per-person',
          quota: 8,
          roster: '执法人员',
          quotaUnit: 'hours',
        },
        reminders: [3, 0],
      }),
    ),
    people: [
      { id: 'P1', name: '王建国' },
      { id: 'P2', name: '李红' },
    ],
  },
  cycle: forUnit(
    'cycle',
    tracker({
      obligation: { id: 'cleanup', period: 'year', every: 2, anchor: 2025, due: { rule: 'period-end' } },
      reminders: [3, 0],
    }),
  ),
};

function noticeAt(plan: PeriodPlan, name: string): number {
  const n = plan.notices.find((x) =>
    name.startsWith('r')
      ? x.stage === 'reminder' && x.step === Number(name.slice(1))
      : x.stage === 'escalation' && x.level === Number(name.slice(1)) && x.step === 0,
  );
  if (!n) throw new Error(`no ${name} in the plan`);
  return n.at;
}

describe('rates, per-person quotas and cycles on the time-skipping server', () => {
  let harness: TimeSkippingHarness;
  let env: TestWorkflowEnvironment;
  let sink: SmtpSink;
  const taskQueue = 'seeds-test';
  const by = { by: '测试联络员' };

  beforeAll(async () => {
    harness = await startTimeSkippingHarness(taskQueue);
    ({ env, sink } = harness);
  });
  afterAll(async () => {
    await harness?.stop();
  });

  const sleepUntil = async (instant: number) => env.sleep(Math.max(1, instant - (await env.currentTimeMs())));
  const mailsOf = (unit: string) =>
    sink.messages.filter((m) => m.key.includes(`/${unit}/`)).sort((a, b) => a.date - b.date);

  test('a rate below then above its threshold; a roster with one person short; a two-yearly cycle', async () => {
    const now = await env.currentTimeMs();
    const plans = Object.fromEntries(
      Object.entries(defs).map(([k, d]) => [k, planPeriod(d, firstPeriodNotYetDue(d, calendar, now), calendar)]),
    ) as Record<keyof typeof defs, PeriodPlan>;
    const today = new Date(now + 8 * HOUR).toISOString().slice(0, 10);
    const h = {
      rate: await startTracker(env.client, taskQueue, defs.rate),
      people: await startTracker(env.client, taskQueue, defs.people),
      cycle: await startTracker(env.client, taskQueue, defs.cycle),
    };
    expect((await statusOf(h.cycle)).periods[0]!.period).toBe(plans.cycle.period.label);
    expect(plans.cycle.period.label).toMatch(/^\d{4}-\d{4}$/);

    // The rate: 17 of 20 is below 90%. Yellow at once, reminders go on, and after due it escalates.
    await expectRefusal(
      h.rate.executeUpdate(reportUpdate, { args: [{ ...by, count: 3 }] }),
      /为比率指标：请填写分子和分母/,
    );
    let s = await h.rate.executeUpdate(reportUpdate, { args: [{ ...by, numerator: 17, denominator: 20 }] });
    expect(s.periods[0]).toMatchObject({
      colour: 'yellow',
      report: expect.objectContaining({ value: 85, meets: false }),
    });

    // The roster: one person reaches 8 hours, the other has none.
    s = await h.people.executeUpdate(recordUpdate, {
      args: [{ ...by, person: 'P1', date: today, hours: 8, topic: '行政处罚法培训' }],
    });
    expect(s.periods[0]!.people).toEqual({
      total: 2,
      reached: 1,
      short: [{ id: 'P2', name: '李红', has: 0, short: 8 }],
    });

    // The reminder 3 working days before due lists who is short and by how much.
    await sleepUntil(noticeAt(plans.people, 'r3') + HOUR);
    const r3 = mailsOf('people').pop()!;
    expect(r3.key).toContain('/r3');
    expect(r3.parsed.text).toContain('本期每人须达到8学时，已达标1人/共2人；尚未达标：李红（差8学时）。');

    // The last person reaches the quota on the due day: on time.
    await sleepUntil(noticeAt(plans.people, 'r0') + HOUR);
    const dueDay = plans.people.notices.find((n) => n.stage === 'reminder' && n.step === 0)!;
    const dueDate = new Date(dueDay.at + 8 * HOUR).toISOString().slice(0, 10);
    await h.people.executeUpdate(recordUpdate, {
      args: [{ ...by, person: 'P2', date: dueDate, hours: 8, topic: '补训' }],
    });
    // The period settles in the workflow's next step, after the Update has answered.
    await env.sleep(HOUR);
    expect((await statusOf(h.people)).history).toEqual([
      expect.objectContaining({ period: plans.people.period.label, outcome: 'on_time' }),
    ]);

    // The cycle's due-day reminder names the cycle.
    await sleepUntil(noticeAt(plans.cycle, 'r0') + HOUR);
    expect(mailsOf('cycle').pop()!.parsed.subject).toContain(`（${plans.cycle.period.label.replace('-', '—')}年度）`);

    // The rate after due: red, escalated at level 1 like a missing report, and its notices say the threshold.
    await sleepUntil(noticeAt(plans.rate, 'e1') + HOUR);
    const rateMails = mailsOf('rate');
    expect(rateMails.map((m) => m.key.split('/').pop())).toEqual(['r10', 'r3', 'r0', 'e1.0']);
    expect(rateMails[0]!.parsed.text).toContain('本期行政机关负责人出庭应诉率须不低于90%');
    expect((await statusOf(h.rate)).periods[0]!.colour).toBe('red');
    // Better figures settle it, late.
    await h.rate.executeUpdate(reportUpdate, { args: [{ ...by, numerator: 19, denominator: 20, note: '补充统计' }] });
    await env.sleep(HOUR);
    expect((await statusOf(h.rate)).history).toEqual([
      expect.objectContaining({ period: plans.rate.period.label, outcome: 'late' }),
    ]);
    await sleepUntil(noticeAt(plans.rate, 'e2') + HOUR);
    expect(mailsOf('rate')).toHaveLength(4);
  });

  test('an event date entered late, moved earlier, moved later and cancelled: no notice lost, none repeated, none for the old date', async () => {
    const bill = (date?: string) =>
      forUnit(
        'bill',
        tracker({
          obligation: {
            id: 'legislative-bill',
            period: 'once',
            due: { rule: 'before-event', event: 'pc-session', days: 30, ...(date ? { date } : {}) },
          },
          reminders: [10, 3, 1, 0],
        }),
      );
    const h = await startTracker(env.client, taskQueue, bill());
    const redefine = (date?: string) =>
      h.executeUpdate(updateDefinitionUpdate, { args: [{ by: '管理员', definition: bill(date) }] });
    const today = () => env.currentTimeMs().then((t) => localDay(t, 'Asia/Shanghai'));
    const mails = () => mailsOf('bill');

    // Waiting: nothing for two weeks, and the status says for what.
    expect(await statusOf(h)).toMatchObject({ waitingFor: 'pc-session', colour: 'green', periods: [] });
    await env.sleep(14 * 24 * HOUR);
    expect(mails()).toEqual([]);

    // Entered late: due 8 days from now, so the 10-working-day reminder has passed: it goes out at once, alone.
    let due = (await today()) + 8;
    let s = await redefine(formatDate(due + 30));
    expect(s.periods[0]).toMatchObject({ period: 'once', due: formatDate(due) });
    await env.sleep(HOUR);
    expect(mails().map((m) => m.key.split('/').slice(-2).join('/'))).toEqual([`${formatDate(due)}/r10`]);

    // Moved earlier by 4 days: the steps now due collapse into one notice, for the new date.
    const before = mails().length;
    due -= 4;
    s = await redefine(formatDate(due + 30));
    expect(s.periods[0]!.due).toBe(formatDate(due));
    await env.sleep(HOUR);
    const afterEarlier = mails().slice(before);
    expect(afterEarlier.length).toBeLessThanOrEqual(1);
    expect(afterEarlier.every((m) => m.key.includes(`/${formatDate(due)}/`))).toBe(true);

    // Moved later by 20 days: nothing already due is sent again; the ladder resumes from the new date.
    const beforeLater = mails().length;
    due += 20;
    await redefine(formatDate(due + 30));
    await env.sleep(HOUR);
    expect(mails().length).toBe(beforeLater);

    // Cancelled: no notices at all, well past the date it had, and no outcome.
    await redefine(undefined);
    const beforeCancel = mails().length;
    await env.sleep(40 * 24 * HOUR);
    expect(mails().length).toBe(beforeCancel);
    expect(await statusOf(h)).toMatchObject({ waitingFor: 'pc-session', history: [] });

    // Every notice was sent once, each for the due date in force when it went out.
    const keys = mails().map((m) => m.key);
    expect(new Set(keys).size).toBe(keys.length);
    expect(mails().filter((m) => m.key.includes('/r10')).length).toBeGreaterThanOrEqual(1);
  });
});
