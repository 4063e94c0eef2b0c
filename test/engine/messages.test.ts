/**
 * Submissions, quotas, verification, extensions, waivers, definition updates and retirement on the
 * time-skipping server, over one shared timeline. Every tracker runs the real workflow and activities against a
 * real SMTP server and a SQLite ledger.
 *
 * 2027 is provisional in the shipped calendar (its notice is not out): the annual report about 2026 is due
 * Sunday 2027-02-28; reminders go out on 12, 23, 25 and 26 February, escalations on 1, 5 and 12 March.
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Ledger } from '../../activities/ledger/ledger';
import type { TrackerDefinition } from '../../domain/trackers';
import {
  decideExtensionUpdate,
  recordUpdate,
  requestExtensionUpdate,
  retireUpdate,
  submitUpdate,
  updateDefinitionUpdate,
  verifyUpdate,
  waiveUpdate,
} from '../../workflows/tracker';
import { EngineWorker, expectRefusal, startEngineWorker, startTracker, statusOf, tempLedgerFile, timeSkippingEnv } from '../support/engine';
import { SmtpSink, startSmtpSink } from '../support/smtp';
import { tracker } from '../support/trackers';

jest.setTimeout(300_000);

type Handle = Awaited<ReturnType<typeof startTracker>>;

const unitTracker = (unit: string, overrides: Parameters<typeof tracker>[0] = {}): TrackerDefinition => {
  const base = tracker(overrides);
  const id = `${base.obligation.id}/${unit}`;
  return {
    ...base,
    trackerId: id,
    unit: { ...base.unit, id: unit, name: `${unit}单位`, liaison: { name: '联络员', email: `${unit}.liaison@test.example.org` }, head: { name: '负责人', email: `${unit}.head@test.example.org` } },
  };
};

describe('tracker messages on the time-skipping server', () => {
  let env: TestWorkflowEnvironment;
  let sink: SmtpSink;
  let engine: EngineWorker;
  let ledger: Ledger;
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
    retired: unitTracker('retired'),
    quota: unitTracker('quota', { obligation: { id: 'lectures', completion: 'quota', quota: 4, due: { rule: 'period-end' } }, reminders: [10, 0] }),
  };
  const sleepUntil = async (iso: string) => env.sleep(Date.parse(iso) - (await env.currentTimeMs()));
  const keysOf = (unit: string) => sink.messages.filter((m) => m.key.includes(`/${unit}/`)).sort((a, b) => a.date - b.date).map((m) => m.key.split('/').slice(-3).join('/'));
  const by = { by: '测试管理员' };

  beforeAll(async () => {
    env = await timeSkippingEnv();
    sink = await startSmtpSink();
    ledger = await Ledger.open({ sqliteFile: tempLedgerFile() });
    engine = await startEngineWorker({ connection: env.nativeConnection, taskQueue, sink, ledger });
    for (const [name, d] of Object.entries(defs)) {
      h[name] = await startTracker(env.client, taskQueue, d);
      firstRunIds[name] = h[name]!.firstExecutionRunId;
    }
    for (const name of Object.keys(defs)) await statusOf(h[name]!);
  });
  afterAll(async () => {
    await engine?.stop();
    await ledger?.close();
    await sink?.close();
    await env?.teardown();
  });

  test('a quota is met by the fourth event, not the third', async () => {
    // Registered on 2026-11-22: the lectures of 2026 are due 2026-12-31.
    const record = (date: string) => h.quota!.executeUpdate(recordUpdate, { args: [{ ...by, date, topic: `${date}学法讲座` }] });
    await record('2026-03-10');
    await record('2026-06-12');
    const third = await record('2026-09-18');
    expect(third).toMatchObject({ period: '2026', recorded: 3, quota: 4, colour: 'green' });
    await expectRefusal(record('2025-12-30'), /outside period 2026/);
    await expectRefusal(h.quota!.executeUpdate(submitUpdate, { args: [{ ...by, evidence: { text: '已完成' } }] }), /recording events/);
    await record('2026-11-20');
    await sleepUntil('2026-11-23T00:00:00Z');
    const status = await statusOf(h.quota!);
    // Settled on time, and continued as new with the next period carrying the record.
    expect(status.period).toBe('2027');
    expect(status.recorded).toBe(0);
    expect(status.history).toEqual([expect.objectContaining({ period: '2026', outcome: 'on_time' })]);
    expect(await ledger.outcomes({ trackerId: defs.quota!.trackerId })).toEqual([expect.objectContaining({ period: '2026', outcome: 'on_time' })]);
  });

  test('before due: submission, extension requested and decided, waiver, verification, definition update, retirement', async () => {
    await sleepUntil('2027-02-13T00:00:00Z');
    for (const name of ['onTime', 'late', 'extended', 'refused', 'waived', 'verified', 'redefined']) expect(keysOf(defs[name]!.unit.id)).toEqual(['2026/2027-02-28/r10']);

    const submitted = await h.onTime!.executeUpdate(submitUpdate, { args: [{ ...by, evidence: { documentNumber: '测政发〔2027〕3号', link: 'https://example.org/report' } }] });
    expect(submitted).toMatchObject({ colour: 'done', submitted: true });

    await h.extended!.executeUpdate(requestExtensionUpdate, { args: [{ ...by, newDue: '2027-03-31', reason: '需等待统计数据' }] });
    await expectRefusal(h.extended!.executeUpdate(requestExtensionUpdate, { args: [{ ...by, newDue: '2027-04-30', reason: '再次申请' }] }), /already waiting/);
    const approved = await h.extended!.executeUpdate(decideExtensionUpdate, { args: [{ ...by, approve: true }] });
    expect(approved.pendingExtension).toBeUndefined();

    await expectRefusal(h.refused!.executeUpdate(requestExtensionUpdate, { args: [{ ...by, newDue: '2027-02-20', reason: '太早' }] }), /not after the current due date/);
    await h.refused!.executeUpdate(requestExtensionUpdate, { args: [{ ...by, newDue: '2027-03-15', reason: '人手不足' }] });
    const refused = await h.refused!.executeUpdate(decideExtensionUpdate, { args: [{ ...by, approve: false, reason: '理由不充分' }] });
    expect(refused).toMatchObject({ due: '2027-02-28', originalDue: '2027-02-28' });

    await expectRefusal(h.waived!.executeUpdate(waiveUpdate, { args: [{ ...by, reason: '' }] }), /reason is required/);
    await h.waived!.executeUpdate(waiveUpdate, { args: [{ ...by, reason: '报告涉密，不予公开' }] });

    await expectRefusal(h.verified!.executeUpdate(submitUpdate, { args: [{ ...by, evidence: { link: 'javascript:alert(1)' } }] }), /not an http/);
    await h.verified!.executeUpdate(submitUpdate, { args: [{ ...by, evidence: { text: '报告已报送' } }] });
    expect(await statusOf(h.verified!)).toMatchObject({ verification: 'pending', colour: 'done', period: '2026' });

    const changed: TrackerDefinition = { ...defs.redefined!, reminders: [3, 0], unit: { ...defs.redefined!.unit, liaison: { name: '新联络员', email: 'redefined.new-liaison@test.example.org' } } };
    await h.redefined!.executeUpdate(updateDefinitionUpdate, { args: [{ ...by, definition: changed }] });
    await expectRefusal(h.redefined!.executeUpdate(updateDefinitionUpdate, { args: [{ ...by, definition: { ...changed, trackerId: 'other/x' } }] }), /is for other\/x/);

    await h.retired!.executeUpdate(retireUpdate, { args: [{ ...by, reason: '机构改革，职能划转' }] });
    expect(await h.retired!.result()).toMatchObject({ retired: true });
    await expect(h.retired!.executeUpdate(submitUpdate, { args: [{ ...by, evidence: { text: 'x' } }] })).rejects.toThrow();
  });

  test('verification return reopens the period with the due date unchanged', async () => {
    await sleepUntil('2027-02-24T00:00:00Z');
    // While submitted and awaiting verification, no reminder went out on 23 February.
    expect(keysOf('verified')).toEqual(['2026/2027-02-28/r10']);
    await expectRefusal(h.verified!.executeUpdate(verifyUpdate, { args: [{ ...by, decision: 'accept', rating: '很好' as never }] }), /needs a rating/);
    const returned = await h.verified!.executeUpdate(verifyUpdate, { args: [{ ...by, decision: 'return', reason: '缺少佐证材料' }] });
    expect(returned).toMatchObject({ verification: 'returned', due: '2027-02-28', colour: 'yellow' });
  });

  test('after due: late submission, late extension refused, verification accepted', async () => {
    await sleepUntil('2027-03-03T00:00:00Z');
    expect(keysOf('late')).toEqual(['2026/2027-02-28/r10', '2026/2027-02-28/r3', '2026/2027-02-28/r1', '2026/2027-02-28/r0', '2026/2027-02-28/e1.0']);
    await h.late!.executeUpdate(submitUpdate, { args: [{ ...by, evidence: { text: '逾期报送' } }] });

    await expectRefusal(h.refused!.executeUpdate(requestExtensionUpdate, { args: [{ ...by, newDue: '2027-03-31', reason: '来不及' }] }), /too late/);

    // Returned on 24 February, the ladder resumed: 25 and 26 February, 1 March.
    expect(keysOf('verified')).toEqual(['2026/2027-02-28/r10', '2026/2027-02-28/r1', '2026/2027-02-28/r0', '2026/2027-02-28/e1.0']);
    await h.verified!.executeUpdate(submitUpdate, { args: [{ ...by, evidence: { text: '补充材料后重新报送' } }] });
    await h.verified!.executeUpdate(verifyUpdate, { args: [{ ...by, decision: 'accept', rating: '良好' }] });

    // The redefined tracker followed its new ladder and its new liaison from the next notice on.
    expect(keysOf('redefined')).toEqual(['2026/2027-02-28/r10', '2026/2027-02-28/r3', '2026/2027-02-28/r0', '2026/2027-02-28/e1.0']);
    const r3 = sink.messages.find((m) => m.key === 'annual-report/redefined/2026/2027-02-28/r3')!;
    expect(r3.to).toEqual(['redefined.new-liaison@test.example.org']);
  });

  test('an approved extension moves the ladder and keeps the original due', async () => {
    await sleepUntil('2027-03-27T00:00:00Z');
    // No escalation on 1 March: reminders counted back from 31 March instead (17 March is r10, 26 March r3).
    expect(keysOf('extended')).toEqual(['2026/2027-02-28/r10', '2026/2027-03-31/r10', '2026/2027-03-31/r3']);
    expect(await statusOf(h.extended!)).toMatchObject({ due: '2027-03-31', originalDue: '2027-02-28', colour: 'yellow' });
    await h.extended!.executeUpdate(submitUpdate, { args: [{ ...by, evidence: { text: '按延期时限报送' } }] });
  });

  test('outcomes, the continue-as-new boundary and the ledger', async () => {
    await sleepUntil('2027-04-15T00:00:00Z');
    const outcome = async (name: string) => (await ledger.outcomes({ trackerId: defs[name]!.trackerId }))[0]?.outcome;
    expect(await outcome('onTime')).toBe('on_time');
    expect(await outcome('late')).toBe('late');
    expect(await outcome('extended')).toBe('on_time_extended');
    expect(await outcome('waived')).toBe('waived');
    expect(await outcome('verified')).toBe('late');
    expect(await outcome('refused')).toBeUndefined();

    // A settled period stops its ladder; the refused extension changed nothing.
    expect(keysOf('on-time')).toEqual(['2026/2027-02-28/r10']);
    expect(keysOf('waived')).toEqual(['2026/2027-02-28/r10']);
    expect(keysOf('late')).toHaveLength(5);
    expect(keysOf('refused')).toEqual(expect.arrayContaining(['2026/2027-02-28/e1.0', '2026/2027-02-28/e2.0', '2026/2027-02-28/e3.0', '2026/2027-02-28/e3.1']));

    const status = await statusOf(h.onTime!);
    expect(status.period).toBe('2027');
    expect(status.history).toEqual([expect.objectContaining({ period: '2026', outcome: 'on_time', originalDue: '2027-02-28' })]);
    const { runId } = await h.onTime!.describe();
    expect(runId).not.toBe(firstRunIds.onTime);
    await expectRefusal(h.onTime!.executeUpdate(submitUpdate, { args: [{ ...by, period: '2026', evidence: { text: '重复报送' } }] }), /period 2026 is closed \(on_time\)/);

    const verifiedStatus = await statusOf(h.verified!);
    expect(verifiedStatus.history[0]).toMatchObject({ outcome: 'late' });
    const events = await ledger.events({ trackerId: defs.verified!.trackerId });
    expect(events.map((e) => e.kind)).toEqual(['submission', 'verification_returned', 'submission', 'verification_accepted', 'outcome']);
    expect(JSON.parse(events[3]!.data!)).toMatchObject({ rating: '良好' });
    expect(events[0]!.actor).toBe('测试管理员');
  });
});
