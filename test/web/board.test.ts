/**
 * The web board reads what the trackers keep in the ledger: every open period with its 签收, the periods done or
 * waived this year, and trackers that cannot plan (broken), with the reason, escaped.
 */
import { Ledger } from '../../ledger';
import { boardPage, daysLeft, mailListPage, trackerPage } from '../../web/pages';
import { periodWords } from '../../domain/words';
import { boardStates } from '../../web/data';
import { tempLedgerFile } from '../support/engine';

/** A period row of the board as a tracker writes it: open, due on the 28th, nothing done yet. */
const periodRow = (label: string, colour: 'red' | 'yellow', extra: Record<string, unknown> = {}) => ({
  period: label,
  colour,
  due: `${label}-28`,
  dueAt: 1,
  originalDue: `${label}-28`,
  endsAt: 2,
  progressCount: 0,
  submitted: false,
  verification: 'not required',
  ...extra,
});

/** The tracker's row of a red monthly tracker with two open periods. */
const redTracker = {
  colour: 'red' as const,
  period: '2031-01',
  due: '2031-01-28',
  dueAt: 1,
  openPeriods: 2,
  paused: false,
  active: true,
};

test('the board lists open periods with their acknowledgement, and broken trackers with the reason', async () => {
  const ledger = await Ledger.open({ sqliteFile: tempLedgerFile() });
  try {
    const period = (label: string, colour: 'red' | 'yellow', acknowledged: boolean) =>
      periodRow(label, colour, acknowledged ? { acknowledgedBy: '联络员 <l@example.org>', acknowledgedAt: 1 } : {});
    const ref = { trackerId: 'monthly/u', obligation: 'monthly', unit: 'u' };
    await ledger.applyWrite({
      ...ref,
      at: 10,
      events: [],
      red: [],
      board: {
        tracker: redTracker,
        periods: [period('2031-01', 'red', false), period('2031-02', 'yellow', true)],
      },
    });
    const broken = { trackerId: 'bad/u', obligation: 'bad', unit: 'u' };
    await ledger.applyWrite({
      ...broken,
      at: 10,
      events: [],
      red: [],
      board: {
        tracker: {
          colour: 'broken',
          period: '-',
          due: '',
          dueAt: 0,
          openPeriods: 0,
          paused: false,
          active: true,
          problem: 'a ladder step of 1000000 working days <b>',
        },
        periods: [],
      },
    });

    const items = await boardStates(ledger);
    expect(items.map((i) => [i.trackerId, i.period, i.colour, i.acknowledged ?? null])).toEqual([
      ['bad/u', '-', 'broken', null],
      ['monthly/u', '2031-01', 'red', false],
      ['monthly/u', '2031-02', 'yellow', true],
    ]);
    const html = boardPage(
      {},
      {
        units: [],
        items: items.map((i) => ({ ...i, obligationTitle: i.obligation, unitName: i.unit })),
        total: items.length,
        filter: {},
        unitChoices: [],
        obligationChoices: [],
        shownLimit: 100,
      },
    );
    expect(html).toContain('无法排期：a ladder step of 1000000 working days &lt;b&gt;');
    expect(html).toMatch(/data-period="2031-01">.*<b class="unack">未签收<\/b>/s);
    expect(html).toMatch(/data-period="2031-02">.*已签收/s);
  } finally {
    await ledger.close();
  }
});

test('a tracker page shows the figures of a rate, who is short on a per-person quota, what a tracker waits for, and the right forms', () => {
  const period = {
    period: '2027',
    due: '2027-12-31',
    originalDue: '2027-12-31',
    dueAt: 1,
    endsAt: 2,
    colour: 'yellow' as const,
    recorded: 0,
    submitted: false,
    verification: 'not required' as const,
    progress: [],
    progressCount: 0,
    provisionalYears: [],
  };
  const base = {
    trackerId: 'appearance-rate/sfj',
    obligation: 'appearance-rate',
    unit: 'sfj',
    paused: false,
    retired: false,
    quota: 1,
    history: [],
  };
  const view = (status: Record<string, unknown>, actions: string[]) =>
    trackerPage(
      { csrf: 'c' },
      {
        trackerId: base.trackerId,
        status: status as never,
        notices: [],
        events: [],
        outcomes: [],
        files: [],
        actions: actions as never,
        limits: { maxFileBytes: 1, maxFiles: 1 },
      },
    );
  const rate = view(
    {
      ...base,
      colour: 'yellow',
      completion: 'rate',
      threshold: 90,
      measure: '负责人出庭应诉率',
      periods: [{ ...period, report: { numerator: 8, denominator: 10, value: 80, meets: false, by: 'x', at: 1 } }],
    },
    ['report', 'submit'],
  );
  expect(rate).toContain('已报送数据：8/10（80%），未达到要求（90%）');
  expect(rate).toContain('id="form-report"');
  expect(rate).toContain('name="numerator"');
  expect(rate).not.toContain('id="form-submit"');
  const people = view(
    {
      ...base,
      colour: 'yellow',
      completion: 'per-person',
      periods: [
        { ...period, people: { total: 3, reached: 2, short: [{ id: 'p3', name: '李红', has: 52, short: 8 }] } },
      ],
    },
    ['record'],
  );
  expect(people).toContain('2/3 人达标；尚未达标：李红（差8）');
  expect(people).toContain('name="person"');
  const waiting = view(
    { ...base, colour: 'green', completion: 'single', waitingFor: 'pc-session-2027-06', periods: [] },
    [],
  );
  expect(waiting).toContain('等待事项日期</b>：pc-session-2027-06');
});

test('the board counts calendar days left or overdue; periods read in words; /mail shows Beijing time', () => {
  expect(daysLeft('2026-12-10', '2026-12-02', 'green')).toBe('还剩8天');
  expect(daysLeft('2026-12-02', '2026-12-02', 'yellow')).toBe('今天截止');
  expect(daysLeft('2026-11-20', '2026-12-02', 'red')).toBe('已逾期12天');
  expect(daysLeft('2026-11-20', '2026-12-02', 'done')).toBe('—');
  expect(['2026', '2026-H2', '2026-Q2', '2026-05', '2025-2026', 'once', '?'].map(periodWords)).toEqual([
    '2026年度',
    '2026年下半年',
    '2026年第二季度',
    '2026年5月',
    '2025—2026年度',
    '一次性',
    '?',
  ]);
  const html = mailListPage({}, [
    { name: 'a.eml', subject: '提醒', to: 'x@example.org', date: 'Wed, 02 Dec 2026 01:00:00 +0000' },
  ]);
  expect(html).not.toContain('+0000');
  expect(html).toContain('2026/12/2 09:00:00');
});

test('退回 and 转办 on the pages: the waiting 退回 in its period row and on the board, each side of a 转办 names the other unit', async () => {
  // The board: a period handed back carries who did it through the ledger to its row; the others carry nothing.
  const ledger = await Ledger.open({ sqliteFile: tempLedgerFile() });
  try {
    const period = (label: string, handBackBy?: string) =>
      periodRow(label, 'red', handBackBy ? { handBackBy, handBackAt: 5 } : {});
    const write = (at: number, periods: ReturnType<typeof period>[]) =>
      ledger.applyWrite({
        trackerId: 'monthly/u',
        obligation: 'monthly',
        unit: 'u',
        at,
        events: [],
        red: [],
        board: { tracker: redTracker, periods },
      });
    await write(10, [period('2031-01', '联络员<b>'), period('2031-02')]);
    let items = await boardStates(ledger);
    expect(items.map((i) => [i.period, i.handBackBy ?? null])).toEqual([
      ['2031-01', '联络员<b>'],
      ['2031-02', null],
    ]);
    expect(Object.keys(items[1]!)).not.toContain('handBackBy');
    const page = boardPage(
      {},
      {
        units: [],
        items: items.map((i) => ({ ...i, obligationTitle: i.obligation, unitName: i.unit })),
        total: items.length,
        filter: {},
        unitChoices: [],
        obligationChoices: [],
        shownLimit: 100,
      },
    );
    expect(page).toMatch(/data-period="2031-01">.*待处理退回（联络员&lt;b&gt;）/s);
    expect(page).not.toMatch(/data-period="2031-02">.*待处理退回/s);
    // The office answered (转办 or 不同意退回): the mark leaves the row.
    await write(11, [period('2031-01'), period('2031-02')]);
    items = await boardStates(ledger);
    expect(items.every((i) => i.handBackBy === undefined)).toBe(true);
  } finally {
    await ledger.close();
  }

  // The tracker page: the waiting 退回 in its period row, in the tracker's zone, escaped; the 转办 events' words.
  const handedBackAt = Date.UTC(2026, 2, 2, 17, 0); // 2026-03-03 01:00 in Shanghai
  const page = trackerPage(
    { csrf: 'c' },
    {
      trackerId: 'annual-report/jyj',
      status: {
        trackerId: 'annual-report/jyj',
        obligation: 'annual-report',
        unit: 'jyj',
        paused: false,
        retired: false,
        quota: 1,
        history: [],
        colour: 'red',
        completion: 'single',
        periods: [
          {
            period: '2025',
            due: '2026-02-28',
            originalDue: '2026-02-28',
            dueAt: 1,
            endsAt: 2,
            colour: 'red',
            recorded: 0,
            submitted: false,
            verification: 'not required',
            progress: [],
            progressCount: 0,
            provisionalYears: [],
            handBack: { by: '教育局联络员', at: handedBackAt, reason: '不属<本单位>' },
          },
        ],
      } as never,
      notices: [],
      events: [
        {
          at: 3,
          period: '2025',
          kind: 'transferred_out',
          actor: '王明',
          data: JSON.stringify({
            to: 'scjgj',
            toName: '市市场监管局',
            toTracker: 'annual-report/scjgj',
            reason: '职责',
          }),
        },
        {
          at: 4,
          period: '2025',
          kind: 'transferred_in',
          actor: '王明',
          data: JSON.stringify({
            from: 'fgw',
            fromName: '市发展改革委',
            fromTracker: 'annual-report/fgw',
            reason: '职责',
          }),
        },
      ] as never,
      outcomes: [],
      files: [],
      actions: ['transfer', 'refuseHandBack'] as never,
      limits: { maxFileBytes: 1, maxFiles: 1 },
    },
  );
  expect(page).toMatch(
    /<tr data-period="2025">((?!<\/tr>)[\s\S])*待处理的退回：教育局联络员于2026-03-03退回，理由：不属&lt;本单位&gt;/,
  );
  expect(page).toContain('id="form-transfer"');
  expect(page).toContain('id="form-refuseHandBack"');
  expect(page).toMatch(/data-kind="transferred_out">.*转办给市市场监管局/s);
  expect(page).toMatch(/data-kind="transferred_in">.*由市发展改革委转来/s);
});
