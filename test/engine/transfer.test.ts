/**
 * Issue #24 item 4 on the time-skipping server, with the real workflow, activities, SMTP server and ledger: a unit
 * hands an overdue task back (退回), its supervising office refuses once, then moves it to another unit (转办). The
 * period moves with what the first unit did (签收, the thread of messages, the ladder's position): the new unit's
 * tracker is started with it and sends none of the notices already sent, only the next step of the ladder, in the
 * same mail thread; the first tracker sends nothing more; both trackers' records show the move. A second move to a
 * tracker that already runs reaches it by signal and is merged with the period it holds.
 */
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { TrackerDefinition } from '../../domain/trackers';
import {
  acknowledgeUpdate,
  handBackUpdate,
  refuseHandBackUpdate,
  submitUpdate,
  transferUpdate,
  workflowIdFor,
} from '../../workflows/messages';
import { Ledger } from '../../ledger';
import {
  TimeSkippingHarness,
  expectRefusal,
  startTimeSkippingHarness,
  startTracker,
  statusOf,
} from '../support/engine';
import type { SmtpSink } from '../support/smtp';
import { overdueOneOff } from '../support/trackers';

jest.setTimeout(300_000);

describe('退回 and 转办 on the time-skipping server', () => {
  let harness: TimeSkippingHarness;
  let env: TestWorkflowEnvironment;
  let sink: SmtpSink;
  let ledger: Ledger;
  const taskQueue = 'transfer-test';
  const of = (trackerId: string) => sink.messages.filter((m) => m.key.startsWith(`${trackerId}/`));
  const waitFor = async (what: () => boolean, label: string) => {
    for (let i = 0; i < 300 && !what(); i++) await new Promise((r) => setTimeout(r, 100));
    if (!what()) throw new Error(`timed out waiting for ${label}`);
  };

  /** The source tracker ended once its only period left (polled: awaiting a result would skip time). */
  const ended = async (workflowId: string) => {
    for (let i = 0; i < 100; i++) {
      const d = await env.client.workflow.getHandle(workflowId).describe();
      if (d.status.name === 'COMPLETED') return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${workflowId} did not end`);
  };
  /** The target's status once the moved period is there (the move follows the Update's answer, in the loop). */
  const whenMoved = async (workflowId: string) => {
    const handle = env.client.workflow.getHandle(workflowId);
    for (let i = 0; i < 300; i++) {
      const status = await statusOf(handle).catch((err: Error) => {
        if (err.name === 'WorkflowNotFoundError' || /not found/i.test(err.message)) return undefined;
        throw err;
      });
      if (status?.periods.some((p) => p.movedFrom)) return status;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`no period arrived at ${workflowId}`);
  };

  beforeAll(async () => {
    harness = await startTimeSkippingHarness(taskQueue);
    ({ env, sink, ledger } = harness);
  });
  /** Runs kept as replay fixtures by `npm run record-histories` (test/histories): a move out, an arrival. */
  const recorded: { name: string; workflowId: string }[] = [];
  afterAll(async () => {
    if (process.env.DUBAN_RECORD_HISTORIES === '1') {
      for (const r of recorded) {
        const history = await env.client.workflow.getHandle(r.workflowId).fetchHistory();
        writeFileSync(path.join(__dirname, '..', 'histories', `${r.name}.json`), historyToJSON(history));
      }
    }
    await harness?.stop();
  });

  /** The one-off of overdueOneOff for a unit, with its own liaison's address. */
  const { dueDay, overdue } = overdueOneOff();
  const forUnit = (unit: string, name: string): TrackerDefinition => {
    const d = overdue(unit);
    return {
      ...d,
      unit: { ...d.unit, name, liaison: { name: `${name}联络员`, email: `${unit}.liaison@test.example.org` } },
    };
  };

  test('handed back, refused, handed back again and moved: the new unit goes on from the ladder step reached, nothing sent twice', async () => {
    const from = forUnit('jyj', '市教育局');
    const to = forUnit('scjgj', '市市场监管局');
    const handle = await startTracker(env.client, taskQueue, from);
    await statusOf(handle);
    await waitFor(() => of(from.trackerId).length === 1, 'the level-1 catch-up');
    const [first] = of(from.trackerId);
    expect(first!.key).toMatch(/\/e1\.0$/);

    const liaison = { by: '市教育局联络员', email: from.unit.liaison.email };
    const office = { by: '王明', email: from.supervisor.liaison.email };
    await handle.executeUpdate(acknowledgeUpdate, { args: [liaison] });
    await expectRefusal(
      handle.executeUpdate(handBackUpdate, { args: [{ ...liaison, reason: ' ' }] }),
      /请填写退回理由/,
    );
    await expectRefusal(
      handle.executeUpdate(refuseHandBackUpdate, { args: [{ ...office, reason: '本事项属教育局职责' }] }),
      /该一次性任务没有待处理的退回/,
    );
    let status = await handle.executeUpdate(handBackUpdate, {
      args: [{ ...liaison, reason: '该事项由市场监管局负责' }],
    });
    expect(status.periods[0]!.handBack).toMatchObject({ reason: '该事项由市场监管局负责' });
    await expectRefusal(
      handle.executeUpdate(handBackUpdate, { args: [{ ...liaison, reason: '再次退回' }] }),
      /已于\d{4}-\d{2}-\d{2}由市教育局联络员 <jyj\.liaison@test\.example\.org>退回，等待督察单位处理/,
    );
    status = await handle.executeUpdate(refuseHandBackUpdate, { args: [{ ...office, reason: '请先核实职责' }] });
    expect(status.periods[0]!.handBack).toBeUndefined();
    await handle.executeUpdate(handBackUpdate, { args: [{ ...liaison, reason: '三定方案规定由市场监管局负责' }] });

    // Refusals of the move change nothing.
    await expectRefusal(
      handle.executeUpdate(transferUpdate, { args: [{ ...office, to: 'jyj', reason: '转办', target: from }] }),
      /不能转办给本单位/,
    );
    await expectRefusal(
      handle.executeUpdate(transferUpdate, {
        args: [
          { ...office, to: 'scjgj', reason: '转办', target: { ...to, obligation: { ...to.obligation, id: 'x' } } },
        ],
      }),
      /转办目标须为单位scjgj的同一任务（overdue）/,
    );
    await handle.executeUpdate(transferUpdate, {
      args: [{ ...office, to: 'scjgj', reason: '经核实属市场监管局职责', target: to }],
    });

    // The target tracker was started with the period; the source's only period left it, so the source ended.
    const target = env.client.workflow.getHandle(workflowIdFor(to.trackerId));
    const moved = await whenMoved(target.workflowId);
    expect(moved.periods).toHaveLength(1);
    expect(moved.periods[0]).toMatchObject({
      period: 'once',
      due: dueDay,
      colour: 'red',
      movedFrom: { unit: 'jyj', unitName: '市教育局' },
      acknowledged: { by: '市教育局联络员 <jyj.liaison@test.example.org>' },
      lastNotice: { stage: 'escalation', level: 1 },
      nextNotice: { stage: 'escalation', level: 2 },
    });
    await ended(handle.workflowId);
    recorded.push(
      { name: 'transferredOut', workflowId: handle.workflowId },
      { name: 'transferredIn', workflowId: target.workflowId },
    );
    // The move sent nothing: level 1 went out once, from the first tracker, and none from the new one.
    await new Promise((r) => setTimeout(r, 500));
    expect(of(to.trackerId)).toEqual([]);

    // The next step of the ladder (level 2, 5 working days after due) is the new unit's, in the period's thread
    // (test/domain/transfer.test.ts follows the ladder there day by day).
    expect(of(from.trackerId)).toHaveLength(1);

    // Both records show the move, with who did it and why.
    const sourceEvents = await ledger.events({ trackerId: from.trackerId });
    expect(sourceEvents.map((e) => e.kind)).toEqual(
      expect.arrayContaining(['handed_back', 'hand_back_refused', 'transfer_started', 'transferred_out']),
    );
    const out = sourceEvents.find((e) => e.kind === 'transferred_out')!;
    expect(out.actor).toBe('王明 <office-liaison@test.example.org>');
    expect(JSON.parse(out.data ?? '{}')).toMatchObject({ to: 'scjgj', reason: '经核实属市场监管局职责' });
    const targetEvents = await ledger.events({ trackerId: to.trackerId });
    const arrived = targetEvents.find((e) => e.kind === 'transferred_in')!;
    expect(JSON.parse(arrived.data ?? '{}')).toMatchObject({ from: 'jyj', fromName: '市教育局' });
    expect(await ledger.notices({ trackerId: to.trackerId })).toEqual([]);
    expect((await ledger.notices({ trackerId: from.trackerId })).map((c) => c.send_key.split('/').pop())).toEqual([
      'e1.0',
    ]);

    // The new unit completes it.
    const done = await target.executeUpdate(submitUpdate, {
      args: [{ by: '市场监管局联络员', evidence: { documentNumber: '市监发〔2027〕1号' } }],
    });
    expect(done.colour).toBe('done');
  });

  test('moved to a tracker that already runs: a signal, merged with the period it holds, its sent notices counted', async () => {
    const from = forUnit('fgw', '市发展改革委');
    const to = forUnit('tjj', '市统计局');
    const running = await startTracker(env.client, taskQueue, to);
    const source = await startTracker(env.client, taskQueue, from);
    await statusOf(running);
    await statusOf(source);
    await waitFor(() => of(from.trackerId).length === 1 && of(to.trackerId).length === 1, 'both catch-ups');
    await source.executeUpdate(transferUpdate, {
      args: [{ by: '王明', to: 'tjj', reason: '由统计局统一报送', target: to }],
    });
    await ended(source.workflowId);
    const status = await whenMoved(running.workflowId);
    expect(status.periods).toHaveLength(1);
    expect(status.periods[0]!.movedFrom).toMatchObject({ unit: 'fgw' });
    await new Promise((r) => setTimeout(r, 500));
    expect(of(to.trackerId)).toHaveLength(1);
    const events = await ledger.events({ trackerId: to.trackerId });
    expect(events.filter((e) => e.kind === 'transferred_in')).toHaveLength(1);
  });
});
