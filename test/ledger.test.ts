/**
 * The ledger on both back ends it supports: SQLite (embedded default) and PostgreSQL (a real server from
 * Debian's packages, started for the test).
 */
import { Ledger, MIGRATION_VERSIONS, NoticeClaim, SEND_LEASE_MS } from '../ledger';
import { tempLedgerFile } from './support/engine';
import { TestPostgres, startTestPostgres } from './support/postgres';

jest.setTimeout(120_000);

const claim = (sendKey: string, over: Partial<NoticeClaim> = {}): NoticeClaim => ({
  sendKey,
  trackerId: 'annual-report/sfj',
  obligation: 'annual-report',
  unit: 'sfj',
  period: '2026',
  stage: 'escalation',
  level: 2,
  step: 0,
  plannedAt: 1_800_000_000_000,
  firedAt: 1_800_000_000_020,
  due: '2027-02-28',
  messageId: `<${sendKey}@test>`,
  to: ['head@test.example.org'],
  cc: ['office@test.example.org'],
  ...over,
});

describe.each(['sqlite', 'postgres'] as const)('ledger on %s', (dialect) => {
  let pg: TestPostgres | undefined;
  let ledger: Ledger;
  let open: () => Promise<Ledger>;

  beforeAll(async () => {
    if (dialect === 'postgres') {
      pg = await startTestPostgres();
      open = () => Ledger.open({ databaseUrl: pg!.url });
    } else {
      const file = tempLedgerFile();
      open = () => Ledger.open({ sqliteFile: file });
    }
    ledger = await open();
  });
  afterAll(async () => {
    await ledger?.close();
    await pg?.stop();
  });

  test('migrations run once, however often and from however many processes the ledger is opened', async () => {
    const others = await Promise.all([open(), open(), open()]);
    for (const o of others) await o.close();
    const rows = await ledger.db.all<{ version: number }>('SELECT version FROM ledger_migrations');
    expect(rows.map((r) => Number(r.version)).sort((a, b) => a - b)).toEqual(MIGRATION_VERSIONS);
    expect(ledger.dialect).toBe(dialect);
  });

  test('the fence: a claim taken over refuses the stale token its renewal, release, final write; an expired one its renewal', async () => {
    const t0 = 1_950_000_000_000;
    const lease = 4_000;
    const stale = await ledger.beginNotice(claim('fenced', { trackerId: 'fence/sfj' }), t0, lease);
    expect(stale).toMatchObject({ state: 'send' });
    const staleToken = (stale as { token: string }).token;
    // While it holds the claim, its renewal (the check before sending) succeeds.
    expect(await ledger.renewNotice('fenced', staleToken, t0 + 1_000 + lease, t0 + 1_000)).toBe(true);
    // It stands still past its lease; a second attempt takes the claim over with a token of its own.
    const taker = await ledger.beginNotice(claim('fenced', { trackerId: 'fence/sfj' }), t0 + 1_000 + lease + 1, lease);
    expect(taker).toMatchObject({ state: 'send' });
    const takerToken = (taker as { token: string }).token;
    expect(takerToken).not.toBe(staleToken);
    const now = t0 + 1_000 + lease + 2;
    // The stale attempt wakes: its renewal (so: its send), its release and its final write are refused.
    expect(await ledger.renewNotice('fenced', staleToken, now + lease, now)).toBe(false);
    await ledger.releaseNotice('fenced', staleToken);
    expect(await ledger.beginNotice(claim('fenced', { trackerId: 'fence/sfj' }), now + 1, lease)).toMatchObject({
      state: 'in-flight',
    });
    const result = { status: 'sent' as const, subject: '旧', accepted: ['a@b.c'], rejected: [], response: '250 stale' };
    expect(await ledger.finishNotice('fenced', result, staleToken)).toBe(false);
    expect(await ledger.noticeStatus('fenced')).toBe('sending');
    // The holder's renewal succeeds, and an expired claim is not renewed even by its own token.
    expect(await ledger.renewNotice('fenced', takerToken, now + lease, now)).toBe(true);
    expect(await ledger.renewNotice('fenced', takerToken, now + 3 * lease, now + lease + 1)).toBe(false);
    // Nobody else took it: the holder may still record what it sent.
    expect(await ledger.finishNotice('fenced', { ...result, response: '250 new' }, takerToken)).toBe(true);
    await ledger.abandonNotice('fenced', 'test: stale attempt');
    const [row] = await ledger.notices({ trackerId: 'fence/sfj' });
    expect(row).toMatchObject({
      status: 'sent',
      response: '250 new',
      attempts: 2,
      claim_token: takerToken,
      abandoned: 1,
      abandoned_reason: 'test: stale attempt',
    });
  });

  test('a notice is claimed once; a retry waits out the lease, counts an attempt; a finished notice is never sent again', async () => {
    const t0 = 1_900_000_000_000;
    const first = await ledger.beginNotice(claim('n1'), t0);
    expect(first).toMatchObject({ state: 'send', token: expect.any(String) });
    // Another attempt while the first may still be talking to the SMTP server: not yet.
    expect(await ledger.beginNotice(claim('n1'), t0 + 1_000)).toEqual({
      state: 'in-flight',
      until: t0 + SEND_LEASE_MS,
    });
    // The first attempt died: once its lease has run out, the retry sends.
    const second = await ledger.beginNotice(claim('n1'), t0 + SEND_LEASE_MS + 1);
    expect(second).toMatchObject({ state: 'send' });
    // A failed attempt releases its lease at once.
    await ledger.releaseNotice('n1', (second as { token: string }).token);
    const third = await ledger.beginNotice(claim('n1'), t0 + SEND_LEASE_MS + 2);
    expect(third).toMatchObject({ state: 'send' });
    await ledger.finishNotice('n1', {
      status: 'sent',
      subject: '【督办提醒】测试',
      accepted: ['head@test.example.org'],
      rejected: [],
      response: '250 OK',
    });
    const again = await ledger.beginNotice(claim('n1'));
    expect(again).toMatchObject({
      state: 'done',
      row: {
        send_key: 'n1',
        status: 'sent',
        attempts: 3,
        planned_at: 1_800_000_000_000,
        fired_at: 1_800_000_000_020,
        subject: '【督办提醒】测试',
      },
    });
    // Finishing twice changes nothing.
    await ledger.finishNotice('n1', {
      status: 'rejected',
      subject: 'x',
      accepted: [],
      rejected: ['a@b.c'],
      response: '550',
    });
    expect((await ledger.notices({ trackerId: 'annual-report/sfj' }))[0]).toMatchObject({
      status: 'sent',
      response: '250 OK',
    });
  });

  test('督办单 numbers are unique per office and year, and stable for a notice', async () => {
    const keys = Array.from({ length: 20 }, (_, i) => `s${i}`);
    for (const k of keys) await ledger.beginNotice(claim(k));
    const numbers = (await Promise.all(keys.map((k) => ledger.supervisionNumber(k, 'office', 2027)))).map(
      (n) => n.number,
    );
    expect([...numbers].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(await ledger.supervisionNumber('s3', 'office', 2027)).toEqual({ number: numbers[3], year: 2027 });
    // A retry in the new year keeps the number and the year it was given in.
    expect(await ledger.supervisionNumber('s3', 'office', 2028)).toEqual({ number: numbers[3], year: 2027 });
    await ledger.beginNotice(claim('other-office'));
    expect(await ledger.supervisionNumber('other-office', 'office-b', 2027)).toEqual({ number: 1, year: 2027 });
    await ledger.beginNotice(claim('next-year'));
    expect(await ledger.supervisionNumber('next-year', 'office', 2028)).toEqual({ number: 1, year: 2028 });
  });

  test("red items wait for their supervisor's digest; one queued by a worker before the rename (office fields) still lands", async () => {
    const item = {
      trackerId: 'r/u',
      obligation: 'r',
      unit: 'u',
      period: '2027',
      obligationTitle: '年度报告',
      unitName: '甲县',
      due: '2028-02-29',
      turnedRedAt: 100,
    };
    await ledger.noteRed({
      ...item,
      itemKey: 'red-new',
      supervisor: 'sup',
      supervisorName: '依法治市办',
      supervisorTo: ['l@x'],
      supervisorCc: ['h@x'],
    });
    const legacy = {
      ...item,
      itemKey: 'red-old',
      office: 'sup',
      officeName: '依法治市办',
      officeTo: ['l@x'],
      officeCc: [],
    };
    await ledger.noteRed(legacy as unknown as Parameters<Ledger['noteRed']>[0]);
    expect(await ledger.supervisorsForDigest('2027-01-01', 200)).toContain('sup');
    const taken = await ledger.takeRedItems('sup', 'digest/sup/2027-01-01', 200);
    expect(
      taken.map((r) => [r.item_key, r.office, r.office_name, JSON.parse(r.office_to), JSON.parse(r.office_cc)]),
    ).toEqual([
      ['red-new', 'sup', '依法治市办', ['l@x'], ['h@x']],
      ['red-old', 'sup', '依法治市办', ['l@x'], []],
    ]);
  });

  test("the board's rows: the newest state wins, inactive trackers leave the board", async () => {
    const state = {
      trackerId: 't/u',
      obligation: 't',
      unit: 'u',
      period: '2027',
      colour: 'green',
      due: '2028-02-29',
      dueAt: 1_835_000_000_000,
      active: true,
      updatedAt: 100,
    };
    await ledger.saveTrackerState(state);
    await ledger.saveTrackerState({ ...state, colour: 'red', updatedAt: 300 });
    await ledger.saveTrackerState({ ...state, colour: 'yellow', updatedAt: 200 });
    expect(await ledger.trackerStates({ unit: 'u' })).toEqual([
      expect.objectContaining({ ...state, colour: 'red', updatedAt: 300 }),
    ]);
    expect(await ledger.trackerStates({ colour: 'green' })).toEqual([]);
    await ledger.saveTrackerState({ ...state, colour: 'done', active: false, updatedAt: 400 });
    expect(await ledger.trackerStates({ unit: 'u' })).toEqual([]);
  });

  test('one step of a tracker in one write: events, board rows of its open periods, a settled period', async () => {
    const ref = { trackerId: 'monthly/u', obligation: 'monthly', unit: 'u' };
    const period = (label: string, colour: 'red' | 'green') => ({
      period: label,
      colour,
      due: `${label}-28`,
      dueAt: 1,
      originalDue: `${label}-28`,
      endsAt: 2,
      progressCount: 0,
      submitted: false,
      verification: 'not required',
    });
    const board = {
      tracker: {
        colour: 'red' as const,
        period: '2031-01',
        due: '2031-01-28',
        dueAt: 1,
        openPeriods: 2,
        paused: false,
        active: true,
      },
      periods: [period('2031-01', 'red'), period('2031-02', 'green')],
    };
    const write = {
      ...ref,
      at: 100,
      events: [
        {
          ...ref,
          eventKey: 'w1',
          period: '2031-01',
          kind: 'acknowledged' as const,
          at: 100,
          actor: '联络员 <l@example.org>',
        },
      ],
      board,
      red: [],
    };
    await ledger.applyWrite(write);
    await ledger.applyWrite(write);
    expect((await ledger.periodStates({ open: true, unit: 'u' })).map((p) => [p.period, p.colour])).toEqual([
      ['2031-01', 'red'],
      ['2031-02', 'green'],
    ]);
    expect(await ledger.events({ trackerId: ref.trackerId })).toHaveLength(1);
    const settled = {
      ...ref,
      period: '2031-01',
      outcome: 'missed' as const,
      originalDue: '2031-01-28',
      due: '2031-01-28',
      settledAt: 200,
    };
    await ledger.applyWrite({
      ...ref,
      at: 200,
      events: [],
      board: {
        tracker: { ...board.tracker, colour: 'green', period: '2031-02', openPeriods: 1 },
        periods: [period('2031-02', 'green')],
      },
      red: [],
      settled: [settled],
    });
    // An older step arriving late changes nothing.
    await ledger.applyWrite({ ...write, at: 150 });
    expect((await ledger.periodStates({ open: true, unit: 'u' })).map((p) => p.period)).toEqual(['2031-02']);
    expect(await ledger.periodStates({ open: false, unit: 'u' })).toEqual([
      expect.objectContaining({ period: '2031-01', outcome: 'missed', colour: 'red' }),
    ]);
    expect(await ledger.trackerStates({ trackerId: ref.trackerId })).toEqual([
      expect.objectContaining({ period: '2031-02', colour: 'green', openPeriods: 1 }),
    ]);
    expect(await ledger.outcomes({ trackerId: ref.trackerId })).toEqual([
      expect.objectContaining({ outcome: 'missed' }),
    ]);
  });

  test('events are written once per key, outcomes once per period', async () => {
    const event = {
      eventKey: 'e1',
      trackerId: 'annual-report/sfj',
      obligation: 'annual-report',
      unit: 'sfj',
      period: '2026',
      kind: 'submission' as const,
      at: 1_800_000_000_000,
      actor: '王联络员',
      data: { evidence: { text: '已报送' } },
    };
    await ledger.recordEvents([
      event,
      { ...event, eventKey: 'e2', kind: 'outcome' as const, data: undefined, actor: undefined },
    ]);
    await ledger.recordEvents([event]);
    const events = await ledger.events({ trackerId: 'annual-report/sfj' });
    expect(events.map((e) => e.kind)).toEqual(['submission', 'outcome']);
    expect(JSON.parse(events[0]!.data!)).toEqual({ evidence: { text: '已报送' } });
    expect(events[0]!.at).toBe(1_800_000_000_000);

    const outcome = {
      trackerId: 'annual-report/sfj',
      obligation: 'annual-report',
      unit: 'sfj',
      period: '2026',
      outcome: 'late' as const,
      originalDue: '2027-02-28',
      due: '2027-02-28',
      completedAt: 1_800_000_000_000,
      settledAt: 1_800_000_000_000,
    };
    await ledger.recordOutcome(outcome);
    await ledger.recordOutcome({ ...outcome, outcome: 'on_time' });
    expect(await ledger.outcomes({ year: 2027 })).toEqual([
      expect.objectContaining({
        tracker_id: 'annual-report/sfj',
        outcome: 'late',
        due_year: 2027,
        completed_at: 1_800_000_000_000,
      }),
    ]);
    expect(await ledger.outcomes({ year: 2028 })).toEqual([]);
  });
});
