/**
 * Submissions, quotas, verification, extensions, waivers, definition updates and retirement on the
 * time-skipping server, over one shared timeline. Every tracker runs the real workflow and activities against a
 * real SMTP server and a SQLite ledger.
 *
 * The time-skipping server starts at the real current time, so the timeline is read off the planner: the annual
 * report's first period not yet due, its reminders (10, 3, 1 and 0 working days before due) and escalations.
 */
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { Ledger } from '../../ledger';
import { WorkingCalendar } from '../../domain/calendar';
import { formatDate } from '../../domain/dates';
import { PeriodPlan, firstPeriodNotYetDue, planPeriod } from '../../domain/planner';
import { localDay } from '../../domain/zone';
import type { TrackerDefinition } from '../../domain/trackers';
import {
  decideExtensionUpdate,
  pauseUpdate,
  recordUpdate,
  resumeUpdate,
  requestExtensionUpdate,
  retireUpdate,
  submitUpdate,
  updateDefinitionUpdate,
  verifyUpdate,
  waiveUpdate,
} from '../../workflows/messages';
import type { PeriodStatus, TrackerStatus } from '../../workflows/messages';
import {
  TimeSkippingHarness,
  expectRefusal,
  startTracker,
  statusOf,
  startTimeSkippingHarness,
} from '../support/engine';
import type { SmtpSink } from '../support/smtp';
import { tracker } from '../support/trackers';
import { periodWords } from '../../domain/words';

jest.setTimeout(300_000);

type Handle = Awaited<ReturnType<typeof startTracker>>;
const HOUR = 3_600_000;
const calendar = new WorkingCalendar();

const unitTracker = (unit: string, overrides: Parameters<typeof tracker>[0] = {}): TrackerDefinition => {
  const base = tracker(overrides);
  return {
    ...base,
    trackerId: `${base.obligation.id}/${unit}`,
    unit: {
      ...base.unit,
      id: unit,
      name: `${unit}单位`,
      liaison: { name: '联络员', email: `${unit}.liaison@test.example.org` },
      head: { name: '负责人', email: `${unit}.head@test.example.org` },
    },
  };
};

/** The notice of a plan by its short name: r10, r3, r1, r0, e1, e2 ... */
function at(plan: PeriodPlan, name: string): number {
  const n = plan.notices.find((x) =>
    name.startsWith('r')
      ? x.stage === 'reminder' && x.step === Number(name.slice(1))
      : x.stage === 'escalation' && x.level === Number(name.slice(1)) && x.step === 0,
  );
  if (!n) throw new Error(`no ${name} in the plan`);
  return n.at;
}

describe('tracker messages on the time-skipping server', () => {
  let harness: TimeSkippingHarness;
  let env: TestWorkflowEnvironment;
  let sink: SmtpSink;
  let ledger: Ledger;
  let plan: PeriodPlan;
  let label: string;
  let due: string;
  const taskQueue = 'messages-test';
  const h: Record<string, Handle> = {};
  const firstRunIds: Record<string, string> = {};
  const defs: Record<string, TrackerDefinition> = {
    onTime: unitTracker('on-time'),
    late: unitTracker('late'),
    extended: unitTracker('extended'),
    refused: unitTracker('refused'),
    waived: unitTracker('waived'),
    verified: unitTracker('verified', { obligation: { verification: true } }),
    redefined: unitTracker('redefined'),
    paused: unitTracker('paused'),
    retired: unitTracker('retired'),
    quota: unitTracker('quota', {
      obligation: { id: 'lectures', completion: 'quota', quota: 4, due: { rule: 'period-end' } },
      reminders: [10, 0],
    }),
  };
  const sleepUntil = async (instant: number) => env.sleep(Math.max(1, instant - (await env.currentTimeMs())));
  /** The keys of the messages a unit received, in time order, as period/due/notice. */
  const keysOf = (unit: string) =>
    sink.messages
      .filter((m) => m.key.includes(`/${unit}/`))
      .sort((a, b) => a.date - b.date)
      .map((m) => m.key.split('/').slice(-3).join('/'));
  const k = (name: string, d = due) => `${label}/${d}/${name.startsWith('e') ? `${name}.0` : name}`;
  const by = { by: '测试管理员' };

  beforeAll(async () => {
    harness = await startTimeSkippingHarness(taskQueue);
    ({ env, sink, ledger } = harness);
    const now = await env.currentTimeMs();
    plan = planPeriod(defs.onTime!, firstPeriodNotYetDue(defs.onTime!, calendar, now), calendar);
    label = plan.period.label;
    due = formatDate(plan.due);
    // The scenario needs the whole ladder ahead; a run in the last days before a due date looks one period on.
    if (at(plan, 'r10') <= now) plan = planPeriod(defs.onTime!, { ...plan.period, ...nextYear(plan.period) }, calendar);
    label = plan.period.label;
    due = formatDate(plan.due);
    for (const [name, d] of Object.entries(defs)) {
      h[name] = await startTracker(env.client, taskQueue, d, name === 'quota' ? {} : { period: label });
      firstRunIds[name] = h[name]!.firstExecutionRunId;
    }
    for (const name of Object.keys(defs)) await statusOf(h[name]!);
  });
  afterAll(async () => {
    // `npm run record-histories` keeps these runs as replay fixtures (test/histories), so that a change to the
    // workflow that would break running trackers fails test/engine/replay.test.ts.
    if (process.env.DUBAN_RECORD_HISTORIES === '1') {
      for (const name of ['onTime', 'verified', 'extended', 'redefined', 'quota', 'refused', 'retired']) {
        const history = await env.client.workflow.getHandle(h[name]!.workflowId, firstRunIds[name]).fetchHistory();
        writeFileSync(path.join(__dirname, '..', 'histories', `${name}.json`), historyToJSON(history));
      }
    }
    await harness?.stop();
  });

  test('a quota is met by the fourth event, not the third', async () => {
    const status = flat(await statusOf(h.quota!));
    const today = formatDate(localDay(await env.currentTimeMs(), 'Asia/Shanghai'));
    const start = `${status.period}-01-01`;
    const record = (date: string) =>
      h.quota!.executeUpdate(recordUpdate, { args: [{ ...by, date, topic: `${date}学法讲座` }] });
    await record(start);
    await record(start);
    const third = flat(await record(today));
    expect(third).toMatchObject({ recorded: 3, quota: 4, colour: expect.stringMatching(/green|yellow/) });
    await expectRefusal(
      record(`${Number(status.period) - 1}-12-31`),
      new RegExp(`不在${periodWords(status.period)}内`),
    );
    await expectRefusal(
      h.quota!.executeUpdate(submitUpdate, { args: [{ ...by, evidence: { text: '已完成' } }] }),
      /以登记活动完成/,
    );
    await record(today);
    await env.sleep(HOUR);
    const after = flat(await statusOf(h.quota!));
    // Settled on time, and continued as new with the next period, carrying the record.
    expect(after.period).toBe(String(Number(status.period) + 1));
    expect(after.recorded).toBe(0);
    expect(after.history).toEqual([expect.objectContaining({ period: status.period, outcome: 'on_time' })]);
    expect(await ledger.outcomes({ trackerId: defs.quota!.trackerId })).toEqual([
      expect.objectContaining({ period: status.period, outcome: 'on_time' }),
    ]);
  });

  test('before due: submission, extension requested and decided, waiver, verification, definition update, retirement', async () => {
    await sleepUntil(at(plan, 'r10') + HOUR);
    for (const name of ['onTime', 'late', 'extended', 'refused', 'waived', 'verified', 'redefined', 'paused'])
      expect(keysOf(defs[name]!.unit.id)).toEqual([k('r10')]);
    expect(await h.paused!.executeUpdate(pauseUpdate, { args: [by] })).toMatchObject({ paused: true });

    const submitted = await h.onTime!.executeUpdate(submitUpdate, {
      args: [{ ...by, evidence: { documentNumber: '测政发〔2027〕3号', link: 'https://example.org/report' } }],
    });
    expect(flat(submitted)).toMatchObject({ colour: 'done', submitted: true, period: label });

    const newDue = formatDate(plan.due + 31);
    await h.extended!.executeUpdate(requestExtensionUpdate, { args: [{ ...by, newDue, reason: '需等待统计数据' }] });
    await expectRefusal(
      h.extended!.executeUpdate(requestExtensionUpdate, {
        args: [{ ...by, newDue: formatDate(plan.due + 60), reason: '再次申请' }],
      }),
      /的申请正待审批/,
    );
    const approved = flat(await h.extended!.executeUpdate(decideExtensionUpdate, { args: [{ ...by, approve: true }] }));
    expect(approved).toMatchObject({ due: newDue, originalDue: due });
    expect(approved.pendingExtension).toBeUndefined();

    await expectRefusal(
      h.refused!.executeUpdate(requestExtensionUpdate, {
        args: [{ ...by, newDue: formatDate(plan.due - 1), reason: '太早' }],
      }),
      /不晚于现截止日期/,
    );
    await expectRefusal(
      h.refused!.executeUpdate(requestExtensionUpdate, {
        args: [{ ...by, newDue: formatDate(plan.due + 400), reason: '太晚' }],
      }),
      /最多延期至/,
    );
    await h.refused!.executeUpdate(requestExtensionUpdate, {
      args: [{ ...by, newDue: formatDate(plan.due + 15), reason: '人手不足' }],
    });
    const refused = flat(
      await h.refused!.executeUpdate(decideExtensionUpdate, {
        args: [{ ...by, approve: false, reason: '理由不充分' }],
      }),
    );
    expect(refused).toMatchObject({ due, originalDue: due });

    await expectRefusal(h.waived!.executeUpdate(waiveUpdate, { args: [{ ...by, reason: '' }] }), /理由为必填项/);
    await h.waived!.executeUpdate(waiveUpdate, { args: [{ ...by, reason: '报告涉密，不予公开' }] });

    await expectRefusal(
      h.verified!.executeUpdate(submitUpdate, { args: [{ ...by, evidence: { link: 'javascript:alert(1)' } }] }),
      /不是 http/,
    );
    await h.verified!.executeUpdate(submitUpdate, { args: [{ ...by, evidence: { text: '报告已报送' } }] });
    expect(flat(await statusOf(h.verified!))).toMatchObject({ verification: 'pending', colour: 'done', period: label });

    const changed: TrackerDefinition = {
      ...defs.redefined!,
      reminders: [3, 0],
      unit: { ...defs.redefined!.unit, liaison: { name: '新联络员', email: 'redefined.new-liaison@test.example.org' } },
    };
    await h.redefined!.executeUpdate(updateDefinitionUpdate, { args: [{ ...by, definition: changed }] });
    await expectRefusal(
      h.redefined!.executeUpdate(updateDefinitionUpdate, {
        args: [{ ...by, definition: { ...changed, trackerId: 'other/x' } }],
      }),
      /任务定义属于other\/x/,
    );

    await h.retired!.executeUpdate(retireUpdate, { args: [{ ...by, reason: '机构改革，职能划转' }] });
    expect(await h.retired!.result()).toMatchObject({ retired: true });
    await expect(
      h.retired!.executeUpdate(submitUpdate, { args: [{ ...by, evidence: { text: 'x' } }] }),
    ).rejects.toThrow();
  });

  test('verification return reopens the period with the due date unchanged', async () => {
    await sleepUntil(at(plan, 'r3') + HOUR);
    // While submitted and awaiting verification, no reminder went out.
    expect(keysOf('verified')).toEqual([k('r10')]);
    await expectRefusal(
      h.verified!.executeUpdate(verifyUpdate, { args: [{ ...by, decision: 'accept', rating: '很好' as never }] }),
      /须评定等次/,
    );
    const returned = flat(
      await h.verified!.executeUpdate(verifyUpdate, { args: [{ ...by, decision: 'return', reason: '缺少佐证材料' }] }),
    );
    expect(returned).toMatchObject({ verification: 'returned', due, colour: 'yellow' });
  });

  test('after due: late submission, late extension refused, verification accepted', async () => {
    await sleepUntil(at(plan, 'e1') + HOUR);
    expect(keysOf('late')).toEqual([k('r10'), k('r3'), k('r1'), k('r0'), k('e1')]);
    await h.late!.executeUpdate(submitUpdate, { args: [{ ...by, evidence: { text: '逾期报送' } }] });

    await expectRefusal(
      h.refused!.executeUpdate(requestExtensionUpdate, {
        args: [{ ...by, newDue: formatDate(plan.due + 30), reason: '来不及' }],
      }),
      /已过截止时间/,
    );

    // Returned after r3, the ladder resumed with r1, r0 and e1.
    expect(keysOf('verified')).toEqual([k('r10'), k('r1'), k('r0'), k('e1')]);
    await h.verified!.executeUpdate(submitUpdate, { args: [{ ...by, evidence: { text: '补充材料后重新报送' } }] });
    await h.verified!.executeUpdate(verifyUpdate, { args: [{ ...by, decision: 'accept', rating: '良好' }] });

    // Paused since r10, nothing went out; on resume the latest notice already due (e1) goes out at once.
    expect(keysOf('paused')).toEqual([k('r10')]);
    await h.paused!.executeUpdate(resumeUpdate, { args: [by] });
    await env.sleep(60_000);
    expect(keysOf('paused')).toEqual([k('r10'), k('e1')]);

    // The redefined tracker followed its new ladder and its new liaison from the next notice on.
    expect(keysOf('redefined')).toEqual([k('r10'), k('r3'), k('r0'), k('e1')]);
    const r3 = sink.messages.find((m) => m.key === `annual-report/redefined/${k('r3')}`)!;
    expect(r3.to).toEqual(['redefined.new-liaison@test.example.org']);
  });

  test('an approved extension moves the ladder and keeps the original due', async () => {
    const newDue = formatDate(plan.due + 31);
    const extended = planPeriod(defs.extended!, plan.period, calendar, { extendedDue: plan.due + 31 });
    await sleepUntil(at(extended, 'r3') + HOUR);
    // No escalation after the original due: the reminders count back from the new date instead.
    expect(keysOf('extended')).toEqual([k('r10'), k('r10', newDue), k('r3', newDue)]);
    expect(flat(await statusOf(h.extended!))).toMatchObject({ due: newDue, originalDue: due, colour: 'yellow' });
    await h.extended!.executeUpdate(submitUpdate, { args: [{ ...by, evidence: { text: '按延期时限报送' } }] });
  });

  test('outcomes, the continue-as-new boundary and the ledger', async () => {
    await sleepUntil(plan.dueAt + 40 * 24 * HOUR);
    const outcome = async (name: string) => (await ledger.outcomes({ trackerId: defs[name]!.trackerId }))[0]?.outcome;
    expect(await outcome('onTime')).toBe('on_time');
    expect(await outcome('late')).toBe('late');
    expect(await outcome('extended')).toBe('on_time_extended');
    expect(await outcome('waived')).toBe('waived');
    expect(await outcome('verified')).toBe('late');
    expect(await outcome('refused')).toBeUndefined();

    // A settled period stops its ladder; the refused extension changed nothing.
    expect(keysOf('on-time')).toEqual([k('r10')]);
    expect(keysOf('waived')).toEqual([k('r10')]);
    expect(keysOf('late')).toHaveLength(5);
    expect(keysOf('refused').slice(0, 7)).toEqual([k('r10'), k('r3'), k('r1'), k('r0'), k('e1'), k('e2'), k('e3')]);

    const status = flat(await statusOf(h.onTime!));
    expect(status.period).toBe(String(Number(label) + 1));
    expect(status.history).toEqual([expect.objectContaining({ period: label, outcome: 'on_time', originalDue: due })]);
    const { runId } = await h.onTime!.describe();
    expect(runId).not.toBe(firstRunIds.onTime);
    await expectRefusal(
      h.onTime!.executeUpdate(submitUpdate, { args: [{ ...by, period: label, evidence: { text: '重复报送' } }] }),
      new RegExp(`${periodWords(label)}已结束（按时完成）`),
    );

    const verifiedStatus = await statusOf(h.verified!);
    expect(verifiedStatus.history[0]).toMatchObject({ outcome: 'late' });
    const events = await ledger.events({ trackerId: defs.verified!.trackerId });
    const actions = events.filter((e) => e.kind !== 'period_opened');
    expect(actions.map((e) => e.kind)).toEqual([
      'submission',
      'verification_returned',
      'submission',
      'verification_accepted',
      'outcome',
    ]);
    expect(JSON.parse(actions[3]!.data!)).toMatchObject({ rating: '良好' });
    expect(actions[0]!.actor).toBe('测试管理员');
    expect(events.filter((e) => e.kind === 'period_opened').map((e) => e.period)).toEqual([
      label,
      String(Number(label) + 1),
    ]);
  });
});

/** The tracker's status with its oldest open period's fields alongside (most trackers here hold one period). */
function flat(s: TrackerStatus): Omit<TrackerStatus, 'colour'> & PeriodStatus {
  return { ...s, ...s.periods[0]! };
}

function nextYear(p: PeriodPlan['period']) {
  const year = Number(p.label) + 1;
  const start = p.end + 1;
  return { label: String(year), start, end: start + (Number.isInteger(year / 4) ? 365 : 364) };
}
