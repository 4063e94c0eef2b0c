/**
 * 代办 through the real delivery path (DOMAIN.md 29): with a stand-in kept in the ledger for today, the tracker's
 * notice to the unit head goes to the stand-in with the head in copy (the SMTP server's envelope and headers say so,
 * and so does the ledger's claim); the stand-in's action links are bound to the stand-in and name for whom they act;
 * on a day outside the range nothing is rerouted.
 */
import { randomBytes } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { recipientLinks } from '../../activities';
import { verifyLink } from '../../channels/links';
import { StandIn, routeToStandIns, standInDay } from '../../domain/stand-ins';
import { Ledger } from '../../ledger';
import { TimeSkippingHarness, startTimeSkippingHarness, startTracker, statusOf } from '../support/engine';
import type { SmtpSink } from '../support/smtp';
import { overdueOneOff } from '../support/trackers';

jest.setTimeout(300_000);

const zone = 'Asia/Shanghai';

describe('代办 on the time-skipping server', () => {
  let harness: TimeSkippingHarness;
  let env: TestWorkflowEnvironment;
  let sink: SmtpSink;
  let ledger: Ledger;
  const taskQueue = 'stand-in-test';

  beforeAll(async () => {
    harness = await startTimeSkippingHarness(taskQueue);
    ({ env, sink, ledger } = harness);
  });
  afterAll(async () => {
    await harness?.stop();
  });

  const { overdue } = overdueOneOff();
  const def = overdue('sa');
  const deputy = { name: '李副局长', email: 'sa.deputy@test.example.org' };

  test('a notice in the range goes to the stand-in, the absent head in copy; the ledger keeps who received it', async () => {
    const today = standInDay(await env.currentTimeMs(), zone);
    const away: StandIn = {
      unit: 'sa',
      absent: def.unit.head,
      standIn: deputy,
      from: today,
      to: today,
      by: '联络员',
      at: 1,
    };
    await ledger.standIns.add('away-today', away);
    await ledger.standIns.add('away-today', away); // a repeat keeps one row
    expect(await ledger.standIns.all()).toHaveLength(1);

    const handle = await startTracker(env.client, taskQueue, def);
    await statusOf(handle);
    for (let i = 0; i < 300 && sink.messages.filter((m) => m.key.startsWith(`${def.trackerId}/`)).length < 1; i++)
      await new Promise((r) => setTimeout(r, 100));
    const [level1] = sink.messages.filter((m) => m.key.startsWith(`${def.trackerId}/`));
    expect(level1!.key).toMatch(/\/e1\.0$/);
    expect(level1!.to).toContain(deputy.email);
    expect(level1!.to).not.toContain(def.unit.head.email);
    expect(level1!.cc).toContain(def.unit.head.email);
    const [claim] = await ledger.notices({ trackerId: def.trackerId });
    expect(JSON.parse(claim!.recipients_to)).toContain(deputy.email);
    expect(JSON.parse(claim!.recipients_cc)).toContain(def.unit.head.email);
  });

  test('the stand-in’s links are bound to the stand-in, with the absent person’s actions and for whom', () => {
    const keys = [{ id: 'k1', secret: randomBytes(32) }];
    const away: StandIn = {
      unit: 'sa',
      absent: def.unit.head,
      standIn: deputy,
      from: '2027-02-01',
      to: '2027-02-10',
      by: '联络员',
      at: 1,
    };
    const now = Date.parse('2027-02-05T02:00:00Z');
    const rcpt = routeToStandIns({ to: [def.unit.head.email], cc: [] }, [away], standInDay(now, zone));
    const [links] = recipientLinks(
      def,
      rcpt.to,
      { label: 'once', dueAt: now + 86_400_000, endsAt: now + 30 * 86_400_000 },
      now,
      { keys, baseUrl: 'http://127.0.0.1:8080', graceMs: 0 },
      rcpt.behalf,
    );
    expect(links!.email).toBe(deputy.email);
    expect(links!.name).toBe(deputy.name);
    const labels = links!.links.map((l) => l.label);
    expect(labels).toEqual(expect.arrayContaining(['签收', '报送材料', '退回', '查看']));
    const token = links!.links[0]!.url.split('/a/')[1]!.split('/')[0]!;
    const check = verifyLink(token, keys, now);
    expect(check.ok && check.claims).toMatchObject({
      email: deputy.email,
      name: deputy.name,
      onBehalfOf: { name: def.unit.head.name, email: def.unit.head.email },
    });
    // The next day outside the range (Beijing), nothing is rerouted.
    const after = routeToStandIns(
      { to: [def.unit.head.email], cc: [] },
      [away],
      standInDay(Date.parse('2027-02-10T16:00:00Z'), zone),
    );
    expect(after.to).toEqual([def.unit.head.email]);
  });
});
