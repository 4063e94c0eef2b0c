/**
 * The channels' exactly-once sending through the ledger (SQLite) against the loopback fakes: rows added once per
 * (notice, channel), merged per robot, never over a robot's limit with two dispatchers (two workers) at once, a
 * "too fast" answer backed off not dropped, a broken channel kept and told, the other channels going on.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createActivities } from '../../activities';
import { ChannelDispatcher, channelRows, webhookEventRows } from '../../activities/channels';
import { parseLinkKeys, verifyLink } from '../../channels/links';
import { ChannelFakes } from '../../channels/fakes';
import { DINGTALK_THROTTLE_MS, sendDingtalk } from '../../channels/dingtalk';
import { robotMessage } from '../../channels/compose';
import { loadChannelSecrets } from '../../config/channels';
import { loadInputs } from '../../config/load';
import { WorkingCalendar } from '../../domain/calendar';
import type { EventKind } from '../../domain/period-state';
import type { PlannedNotice } from '../../domain/planner';
import { standInDay } from '../../domain/stand-ins';
import type { TrackerDefinition } from '../../domain/trackers';
import { Ledger } from '../../ledger';
import { FAKE_ACCOUNTS, SECRETS, catalogFile, directoryWith, withChannels } from './support';

let clock = Date.parse('2027-02-24T01:00:00Z');
const now = () => clock;
const fakes = new ChannelFakes({ ...FAKE_ACCOUNTS, now });
let ledger: Ledger;
let urls: Awaited<ReturnType<ChannelFakes['start']>>;
const keys = parseLinkKeys(`k1:${Buffer.alloc(32, 7).toString('base64')}`);
const links = { keys, baseUrl: 'http://127.0.0.1:8080', graceMs: 0 };
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
let justice: TrackerDefinition;
let dataDir: string;

function notice(t: TrackerDefinition, over: Partial<PlannedNotice> = {}): PlannedNotice {
  return {
    at: clock,
    day: 0,
    trackerId: t.trackerId,
    obligation: t.obligation.id,
    unit: t.unit.id,
    period: '2027',
    due: '2027-03-01',
    stage: 'reminder',
    level: 0,
    step: 3,
    to: [t.unit.liaison.email],
    cc: [t.unit.head.email],
    ...over,
  };
}
const period = {
  label: '2027',
  due: '2027-03-01',
  dueAt: Date.parse('2027-03-01T01:00:00Z'),
  endsAt: Date.parse('2028-03-01T00:00:00Z'),
};

function dispatcher(
  env: Record<string, string> = SECRETS,
  over: Partial<ConstructorParameters<typeof ChannelDispatcher>[0]> = {},
) {
  return new ChannelDispatcher({
    ledger,
    links,
    secrets: loadChannelSecrets(env),
    endpoints: { wecom: urls.wecom, dingtalk: urls.dingtalk, feishu: urls.feishu, aliyun: urls.aliyun },
    log: silent,
    now,
    settleMs: 0,
    ...over,
  });
}

/** Runs rounds until nothing is due now. */
async function drain(...ds: ChannelDispatcher[]) {
  for (let i = 0; i < 100; i++) {
    const due = await ledger.channels.due(clock);
    if (due.length === 0) return;
    await Promise.all(ds.map((d) => d.tick()));
    const again = await ledger.channels.due(clock);
    if (again.length && JSON.stringify(again) === JSON.stringify(due)) {
      // Everything due is waiting for a slot: nothing more this instant.
      const pending = await ledger.channels.rows();
      if (pending.every((r) => r.status !== 'pending' || r.not_before > clock)) return;
      const stuck = await Promise.all(due.map((c) => ledger.channels.claim(c, clock, { max: 0 })));
      if (stuck.every((s) => s.state === 'wait')) return;
    }
  }
}

beforeAll(async () => {
  urls = await fakes.start();
  dataDir = mkdtempSync(path.join(tmpdir(), 'duban-ch-'));
  ledger = await Ledger.open({ sqliteFile: path.join(dataDir, 'ledger.sqlite') });
  const url = `${urls.webhook}/oa`;
  const inputs = loadInputs({
    catalog: catalogFile,
    directory: directoryWith((t) => withChannels(t, url)),
    env: SECRETS,
  });
  justice = inputs.trackers.find((t) => t.unit.id === 'justice' && t.channels)!;
});
afterAll(async () => {
  await fakes.stop();
  await ledger.close();
});

test('a reminder goes to the unit robot once, with links that verify; a repeated step adds nothing', async () => {
  const req = { definition: justice, notice: notice(justice), period, firedAt: clock };
  const rows = channelRows(req, { graceMs: 0, links: true });
  expect(rows.map((r) => r.channel)).toEqual(['justice-wecom']);
  expect(await ledger.channels.add(rows, clock)).toBe(1);
  expect(await ledger.channels.add(rows, clock)).toBe(0);
  const d = dispatcher();
  await drain(d);
  await drain(d);
  const got = fakes.received({ kind: 'wecom' });
  expect(got).toHaveLength(1);
  expect(got[0]!.text).toContain(`${justice.obligation.title}（市司法局，2027）：截止 2027-03-01，距截止还有3个工作日`);
  const token = /\/a\/([^/]+)\/acknowledge/.exec(got[0]!.text)![1]!;
  expect(verifyLink(token, keys, clock)).toMatchObject({ ok: true, claims: { email: justice.unit.liaison.email } });
  const [row] = await ledger.channels.rows({ channel: 'justice-wecom' });
  expect(row).toMatchObject({ status: 'sent', attempts: 1, response: 'errcode 0: ok' });
  // The ledger keeps link claims, never a signed link or a secret.
  expect(row!.item).not.toContain(token);
  for (const s of Object.values(SECRETS)) expect(JSON.stringify(await ledger.channels.rows())).not.toContain(s);
});

test('a 督办单 goes to the unit robot, the office robot (@head) and webhook, and by SMS to the head', async () => {
  clock += 60 * 60_000;
  const n = notice(justice, { stage: 'escalation', level: 2, step: 0, to: [justice.unit.head.email], cc: [] });
  const rows = channelRows(
    { definition: justice, notice: n, period, firedAt: clock },
    { graceMs: 0, links: true, supervisionNumber: '督〔2027〕3号' },
  );
  expect(rows.map((r) => `${r.channel}:${r.target}`)).toEqual([
    'justice-wecom:',
    'office-ding:',
    'oa:',
    'sms:13800000001',
  ]);
  await ledger.channels.add(rows, clock);
  await drain(dispatcher());
  const ding = fakes.received({ kind: 'dingtalk' });
  expect(ding).toHaveLength(1);
  expect(ding[0]!.body).toMatchObject({ at: { atMobiles: ['13800000001'] } });
  expect(ding[0]!.text).toContain('督办单 督〔2027〕3号');
  expect(ding[0]!.text).toContain('[查看](http://127.0.0.1:8080/a/');
  const sms = fakes.received({ kind: 'sms' });
  expect(sms.map((s) => s.to)).toEqual(['13800000001']);
  expect(sms[0]!.text).toContain('督办单 督〔2027〕3号');
  expect(sms[0]!.text).not.toContain('/a/');
  expect(fakes.received({ kind: 'webhook' })[0]!.body).toMatchObject({ type: 'notice.sent', data: { level: 2 } });
});

test('40 notices for one robot at one instant: merged, all sent once, within 20 a minute across two workers', async () => {
  clock += 60 * 60_000;
  const before = fakes.received({ kind: 'wecom' }).length;
  const rows = Array.from({ length: 40 }, (_, i) =>
    channelRows(
      {
        definition: justice,
        notice: notice(justice, { period: `2027-${i}` }),
        period: { ...period, label: `2027-${i}` },
        firedAt: clock,
      },
      { graceMs: 0, links: true },
    ),
  ).flat();
  await ledger.channels.add(rows, clock);
  // Batches of 3 rows force many messages: two dispatchers race for the robot's slots.
  const a = dispatcher(SECRETS, { batch: 3 });
  const b = dispatcher(SECRETS, { batch: 3 });
  await drain(a, b);
  const first = fakes.received({ kind: 'wecom' }).length - before;
  expect(first).toBeLessThanOrEqual(20);
  for (let minute = 0; minute < 3; minute++) {
    clock += 61_000;
    await drain(a, b);
  }
  const sent = await ledger.channels.rows({ channel: 'justice-wecom' });
  expect(sent.filter((r) => r.status === 'sent')).toHaveLength(42);
  const messages = fakes.received({ kind: 'wecom' }).slice(before);
  // Three rows a claim, fewer when their links would pass 4096 bytes: never more than one message a row.
  expect(messages.length).toBeGreaterThanOrEqual(14);
  expect(messages.length).toBeLessThanOrEqual(40);
  // Each notice's period appears in exactly one message.
  for (let i = 0; i < 40; i++) expect(messages.filter((m) => m.text.includes(`，2027-${i}）`))).toHaveLength(1);
  // The robot never refused for speed: the ledger's slots kept both workers under its limit.
  expect(fakes.requests.filter((r) => (r.body as { errcode?: number }).errcode === 45009)).toHaveLength(0);
});

test('a broken channel keeps its rows, is told to the operator, and others go on; fixed, it sends what waited', async () => {
  clock += 60 * 60_000;
  const n = notice(justice, { stage: 'escalation', level: 2, step: 1, to: [justice.unit.head.email], cc: [] });
  const rows = channelRows({ definition: justice, notice: n, period, firedAt: clock }, { graceMs: 0, links: false });
  await ledger.channels.add(rows, clock);
  const wrong = { ...SECRETS, DUBAN_CHANNEL_OFFICE_DING_SECRET: 'SECwrong' };
  const alerts: string[] = [];
  const d = dispatcher(wrong, { notifyOperator: async (subject) => void alerts.push(subject) });
  await drain(d);
  const ding = (await ledger.channels.rows({ channel: 'office-ding' })).at(-1)!;
  expect(ding).toMatchObject({ status: 'pending' });
  expect(ding.response).toContain('310000');
  expect((await ledger.channels.broken()).map((b) => b.channel)).toEqual(['office-ding']);
  expect((await ledger.openAlerts()).map((a) => a.kind)).toContain('channel/office-ding');
  expect(alerts).toEqual(['督办渠道故障：office-ding']);
  // The other channels of the same notice went.
  expect((await ledger.channels.rows({ channel: 'justice-wecom' })).at(-1)!.status).toBe('sent');
  // Fixed settings, a worker start: the kept message goes, the alert clears.
  const fixed = dispatcher(SECRETS, { notifyOperator: async (subject) => void alerts.push(subject) });
  await fixed.start();
  await fixed.stop();
  await drain(fixed);
  expect((await ledger.channels.rows({ channel: 'office-ding' })).at(-1)!.status).toBe('sent');
  expect(await ledger.channels.broken()).toEqual([]);
  expect((await ledger.openAlerts()).map((a) => a.kind)).not.toContain('channel/office-ding');
  expect(alerts.at(-1)).toBe('督办渠道已恢复：office-ding');
});

test("a robot's too-fast answer (钉钉 130101, another system used it up) is backed off ten minutes, not dropped", async () => {
  clock += 60 * 60_000;
  const other = { key: 'ding-token-0002', secret: 'SECding0003', url: urls.dingtalk, now };
  const filler = robotMessage([
    {
      key: 'x',
      obligationTitle: '其他系统的督办',
      unitName: 'x',
      period: 'x',
      due: 'x',
      stage: 'reminder',
      level: 0,
      step: 1,
      links: [],
    },
  ]);
  for (let i = 0; i < 20; i++) expect((await sendDingtalk(other, filler)).ok).toBe(true);
  const n = notice(justice, { stage: 'escalation', level: 2, step: 2, to: [justice.unit.head.email], cc: [] });
  const rows = channelRows(
    { definition: justice, notice: n, period, firedAt: clock },
    { graceMs: 0, links: false },
  ).filter((r) => r.channel === 'office-ding');
  await ledger.channels.add(rows, clock);
  const d = dispatcher();
  await drain(d);
  const row = (await ledger.channels.rows({ channel: 'office-ding' })).at(-1)!;
  expect(row).toMatchObject({ status: 'pending', not_before: clock + DINGTALK_THROTTLE_MS });
  expect(row.response).toContain('130101');
  clock += 5 * 60_000;
  await drain(d);
  expect((await ledger.channels.rows({ channel: 'office-ding' })).at(-1)!.status).toBe('pending');
  clock += 6 * 60_000;
  await drain(d);
  expect((await ledger.channels.rows({ channel: 'office-ding' })).at(-1)).toMatchObject({
    status: 'sent',
    attempts: 2,
  });
  expect(await ledger.channels.broken()).toEqual([]);
});

test("a step's submission and a period turned red reach the webhooks as signed events, once", async () => {
  clock += 60 * 60_000;
  const write = {
    trackerId: justice.trackerId,
    obligation: justice.obligation.id,
    unit: justice.unit.id,
    at: clock,
    events: [
      {
        eventKey: `${justice.trackerId}/run-1/7`,
        trackerId: justice.trackerId,
        obligation: justice.obligation.id,
        unit: justice.unit.id,
        period: '2027',
        kind: 'submission' as const,
        at: clock,
        actor: '王联络员',
      },
      {
        eventKey: `${justice.trackerId}/run-1/8`,
        trackerId: justice.trackerId,
        obligation: justice.obligation.id,
        unit: justice.unit.id,
        period: '2027',
        kind: 'progress' as const,
        at: clock,
      },
    ],
    red: [
      {
        itemKey: `${justice.trackerId}/2026/2026-12-31`,
        supervisor: 'office',
        supervisorName: '市委依法治市办',
        supervisorTo: [],
        supervisorCc: [],
        trackerId: justice.trackerId,
        obligation: justice.obligation.id,
        obligationTitle: justice.obligation.title,
        unit: justice.unit.id,
        unitName: justice.unit.name,
        period: '2026',
        due: '2026-12-31',
        turnedRedAt: clock,
      },
    ],
    webhooks: {
      channels: [{ name: 'oa', kind: 'webhook' as const, url: `${urls.webhook}/oa`, mention: false }],
      obligationTitle: justice.obligation.title,
      unitName: justice.unit.name,
    },
  };
  const rows = webhookEventRows(write);
  expect(rows.map((r) => r.sendKey)).toEqual([
    `${justice.trackerId}/run-1/7#oa`,
    `red/${justice.trackerId}/2026/2026-12-31#oa`,
  ]);
  expect(await ledger.channels.add(rows, clock)).toBe(2);
  expect(await ledger.channels.add(webhookEventRows(write), clock)).toBe(0);
  const before = fakes.received({ kind: 'webhook' }).length;
  await drain(dispatcher());
  const got = fakes
    .received({ kind: 'webhook' })
    .slice(before)
    .map((r) => r.body as { type: string; data: Record<string, unknown> });
  expect(got.map((e) => e.type)).toEqual(['period.submitted', 'period.red']);
  expect(got[0]!.data).toMatchObject({
    trackerId: justice.trackerId,
    period: '2027',
    actor: '王联络员',
    unitName: '市司法局',
  });
  expect(got[1]!.data).toMatchObject({ period: '2026', due: '2026-12-31' });
});

test('代办: in a stand-in’s range the SMS goes to the stand-in’s phone and the unit robot’s links are bound to them, for the head', async () => {
  clock += 60 * 60_000;
  // The stand-in is of another unit: their mobile comes from the registered directory, not the tracker's people.
  const inputs = loadInputs({
    catalog: catalogFile,
    directory: directoryWith((t) =>
      withChannels(t).replace(
        '{ name: 褚副局长, email: finance.deputy@test.example.org }',
        '{ name: 褚副局长, email: finance.deputy@test.example.org, mobile: "13800000009" }',
      ),
    ),
    env: SECRETS,
  });
  await ledger.saveDirectorySnapshot({ directory: inputs.directory, catalog: inputs.catalog, by: 'test' });
  const head = justice.unit.head;
  const deputy = { name: '褚副局长', email: 'finance.deputy@test.example.org' };
  const day = standInDay(clock, justice.timeZone);
  await ledger.standIns.add('dispatch-away', {
    unit: 'justice',
    absent: { name: head.name, email: head.email },
    standIn: deputy,
    from: day,
    to: day,
    by: '王联络员',
    at: 1,
  });
  const activities = createActivities({
    ledger,
    transport: {} as never,
    from: { name: '督办系统', address: 'duban@test.example.org' },
    calendar: new WorkingCalendar(),
    links,
  });
  const n = notice(justice, { stage: 'escalation', level: 2, step: 7, to: [head.email], cc: [] });
  const smsBefore = fakes.received({ kind: 'sms' }).length;
  const wecomBefore = fakes.received({ kind: 'wecom' }).length;
  const dingBefore = fakes.received({ kind: 'dingtalk' }).length;
  await new MockActivityEnvironment().run(activities.enqueueChannels, {
    definition: justice,
    notice: n,
    period,
    firedAt: clock,
  });
  await drain(dispatcher());
  // SMS: the stand-in's phone, not the absent head's.
  expect(
    fakes
      .received({ kind: 'sms' })
      .slice(smsBefore)
      .map((s) => s.to),
  ).toEqual(['13800000009']);
  // The unit robot's links: bound to the stand-in, with the head's actions, for the head.
  const [wecom] = fakes.received({ kind: 'wecom' }).slice(wecomBefore);
  const token = /\/a\/([^/]+)\/acknowledge/.exec(wecom!.text)![1]!;
  expect(verifyLink(token, keys, clock)).toMatchObject({
    ok: true,
    claims: { email: deputy.email, name: deputy.name, onBehalfOf: { name: head.name, email: head.email } },
  });
  // The office robot's @ names the stand-in too.
  const [ding] = fakes.received({ kind: 'dingtalk' }).slice(dingBefore);
  expect(ding!.body).toMatchObject({ at: { atMobiles: ['13800000009'] } });
  // The range cancelled, the same notice's rows (as a new step) go to the head again.
  await ledger.standIns.cancel('dispatch-away', clock);
  const after = channelRows(
    { definition: justice, notice: { ...n, step: 8 }, period, firedAt: clock },
    { graceMs: 0, links: true, standIns: { list: await ledger.standIns.forUnits(['justice'], day), day } },
  );
  expect(after.filter((r) => r.kind === 'sms').map((r) => r.target)).toEqual(['13800000001']);
});

test('verification, return, extension decisions and waiver reach the webhooks as their events', async () => {
  clock += 60 * 60_000;
  const event = (n: number, kind: EventKind, actor: string, data?: Record<string, unknown>) => ({
    eventKey: `${justice.trackerId}/run-1/${n}`,
    trackerId: justice.trackerId,
    obligation: justice.obligation.id,
    unit: justice.unit.id,
    period: '2027',
    kind,
    at: clock,
    actor,
    ...(data ? { data } : {}),
  });
  const write = {
    trackerId: justice.trackerId,
    obligation: justice.obligation.id,
    unit: justice.unit.id,
    at: clock,
    events: [
      event(20, 'verification_accepted', '督察科'),
      event(21, 'verification_returned', '督察科', { reason: '材料缺少签章' }),
      event(22, 'extension_approved', '主任', { until: '2027-03-15' }),
      event(23, 'extension_rejected', '主任'),
      event(24, 'waived', '主任', { reason: '机构改革，任务取消' }),
      // Not a webhook event: it adds no row.
      event(25, 'extension_requested', '王联络员'),
    ],
    red: [],
    webhooks: {
      channels: [{ name: 'oa', kind: 'webhook' as const, url: `${urls.webhook}/oa`, mention: false }],
      obligationTitle: justice.obligation.title,
      unitName: justice.unit.name,
    },
  };
  const rows = webhookEventRows(write);
  expect(rows).toHaveLength(5);
  expect(await ledger.channels.add(rows, clock)).toBe(5);
  const before = fakes.received({ kind: 'webhook' }).length;
  await drain(dispatcher());
  const got = fakes
    .received({ kind: 'webhook' })
    .slice(before)
    .map((r) => r.body as { id: string; type: string; occurredAt: string; data: Record<string, unknown> });
  expect(got.map((e) => e.type)).toEqual([
    'period.verified',
    'period.returned',
    'extension.decided',
    'extension.decided',
    'period.waived',
  ]);
  const base = { trackerId: justice.trackerId, period: '2027', unitName: '市司法局' };
  expect(got[0]).toMatchObject({
    id: `event/${justice.trackerId}/run-1/20`,
    occurredAt: new Date(clock).toISOString(),
    data: { ...base, obligationTitle: justice.obligation.title, actor: '督察科' },
  });
  expect(got[1]!.data).toMatchObject({ ...base, details: { reason: '材料缺少签章' } });
  expect(got[2]!.data).toMatchObject({ ...base, approved: true, details: { until: '2027-03-15' } });
  expect(got[3]!.data).toMatchObject({ ...base, approved: false, actor: '主任' });
  expect(got[4]!.data).toMatchObject({ ...base, details: { reason: '机构改革，任务取消' } });
});

test('duban show lists each channel send with its answer and attempts, and no secret', () => {
  const root = path.join(__dirname, '..', '..');
  const [obligation, unit] = justice.trackerId.split('/');
  const r = spawnSync(process.execPath, [path.join(root, 'bin', 'duban.js'), 'show', obligation!, unit!, '--json'], {
    encoding: 'utf8',
    env: { ...process.env, DUBAN_DATA_DIR: dataDir, TEMPORAL_ADDRESS: '127.0.0.1:1', TZ: 'UTC' },
  });
  expect([r.status, r.stderr]).toEqual([0, '']);
  const shown = JSON.parse(r.stdout) as {
    channels: { channel: string; status: string; attempts: number; answer: string }[];
  };
  expect(shown.channels).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ channel: 'justice-wecom', status: 'sent', attempts: 1, answer: 'errcode 0: ok' }),
      expect.objectContaining({ channel: 'sms', kind: 'sms', to: '13800000001', status: 'sent' }),
      expect.objectContaining({ channel: 'office-ding', status: 'sent', attempts: 2 }),
    ]),
  );
  const text = spawnSync(process.execPath, [path.join(root, 'bin', 'duban.js'), 'show', obligation!, unit!], {
    encoding: 'utf8',
    env: { ...process.env, DUBAN_DATA_DIR: dataDir, TEMPORAL_ADDRESS: '127.0.0.1:1', TZ: 'UTC', NO_COLOR: '1' },
  });
  expect(text.stdout).toMatch(/渠道 justice-wecom（wecom）已发送，尝试1次：errcode 0: ok/);
  for (const secret of Object.values(SECRETS)) expect(r.stdout + text.stdout + text.stderr).not.toContain(secret);
});
