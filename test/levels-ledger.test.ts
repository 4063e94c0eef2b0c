/**
 * Issue #24: the board and the year report of a scope, counted and cut in the ledger (access/board.ts boardView,
 * access/report.ts yearReport with migration 29's indexes), give the same rows as the reads they replace, on SQLite
 * and PostgreSQL: the counts of every unit, the most urgent rows colour by colour (a limit cuts across colours), the
 * periods done this year in each obligation's own zone, a scope of units, and the report of a county read alone.
 */
import { boardStates, boardView } from '../access/board';
import { yearReport } from '../access/report';
import { loadInputs } from '../config/load';
import type { BoardPeriod } from '../domain/tracker-state';
import { Ledger } from '../ledger';
import * as path from 'node:path';
import { tempLedgerFile } from './support/engine';
import { TestPostgres, startTestPostgres } from './support/postgres';

const levels = path.join(__dirname, 'fixtures', 'levels');
const inputs = loadInputs({
  catalog: path.join(levels, 'catalog.yaml'),
  directory: path.join(levels, 'directory.yaml'),
});
const at = (iso: string) => Date.parse(iso);
/** 2026-12-31 20:00 UTC: already 2027 in Shanghai, still 2026 in Los Angeles. */
const NOW = at('2026-12-31T20:00:00Z');

async function write(ledger: Ledger, obligation: string, unit: string, periods: Partial<BoardPeriod>[]) {
  const rows = periods.map((p) => ({
    period: '2026',
    colour: 'green' as const,
    due: '2027-02-28',
    dueAt: at('2027-02-28T15:59:59Z'),
    originalDue: '2027-02-28',
    endsAt: at('2028-02-28T00:00:00Z'),
    progressCount: 0,
    submitted: false,
    verification: 'not required',
    ...p,
  }));
  await ledger.applyWrite({
    trackerId: `${obligation}/${unit}`,
    obligation,
    unit,
    at: 1,
    events: [],
    red: [],
    board: {
      tracker: {
        colour: rows[0]!.colour,
        period: rows[0]!.period,
        due: rows[0]!.due,
        dueAt: rows[0]!.dueAt,
        openPeriods: rows.length,
        paused: false,
        active: true,
      },
      periods: rows,
    },
  });
}

describe.each(['sqlite', 'postgres'] as const)('the board and report of a scope on %s', (dialect) => {
  let pg: TestPostgres | undefined;
  let ledger: Ledger;
  beforeAll(async () => {
    if (dialect === 'postgres') pg = await startTestPostgres();
    ledger = await Ledger.open(pg ? { databaseUrl: pg.url } : { sqliteFile: tempLedgerFile() });
    // A second obligation in Los Angeles, where 2026 has not ended at NOW.
    const catalog = {
      ...inputs.catalog,
      obligations: [
        ...inputs.catalog.obligations,
        { ...inputs.catalog.obligations[0]!, id: 'la-report', timeZone: 'America/Los_Angeles' },
      ],
    };
    await ledger.saveDirectorySnapshot({ directory: inputs.directory, catalog, by: 'test' });
    await write(ledger, 'annual-report', 'province-justice', [{}]);
    await write(ledger, 'annual-report', 'city-justice', [
      {
        period: '2025',
        colour: 'red',
        due: '2026-02-28',
        originalDue: '2026-02-28',
        dueAt: at('2026-02-28T15:59:59Z'),
      },
      {},
    ]);
    // Done in 2026 and settled: on the board in Los Angeles, where it is still 2026; not in Shanghai, already 2027.
    const done2025 = {
      period: '2025',
      colour: 'done' as const,
      due: '2026-02-28',
      originalDue: '2026-02-28',
      dueAt: at('2026-02-28T15:59:59Z'),
      submitted: true,
    };
    await write(ledger, 'annual-report', 'county-justice', [
      { colour: 'yellow', dueAt: at('2027-01-04T15:59:59Z') },
      done2025,
    ]);
    await write(ledger, 'la-report', 'county-justice', [done2025]);
    await write(ledger, 'annual-report', 'county-finance', [
      { colour: 'red', dueAt: at('2026-12-01T15:59:59Z'), due: '2026-12-01', originalDue: '2026-12-01' },
    ]);
    for (const obligation of ['annual-report', 'la-report']) {
      const trackerId = `${obligation}/county-justice`;
      await ledger.applyWrite({
        trackerId,
        obligation,
        unit: 'county-justice',
        at: 2,
        events: [],
        red: [],
        settled: [
          {
            trackerId,
            obligation,
            unit: 'county-justice',
            period: '2025',
            outcome: 'on_time',
            originalDue: '2026-02-28',
            due: '2026-02-28',
            completedAt: at('2026-02-20T00:00:00Z'),
            settledAt: at('2026-02-20T00:00:00Z'),
          },
        ],
      });
    }
    await ledger.recordOutcome({
      trackerId: 'annual-report/county-finance',
      obligation: 'annual-report',
      unit: 'county-finance',
      period: '2025',
      outcome: 'late',
      originalDue: '2026-02-28',
      due: '2026-02-28',
      completedAt: at('2026-03-20T00:00:00Z'),
      settledAt: at('2026-03-20T00:00:00Z'),
    });
  });
  afterAll(async () => {
    await ledger?.close();
    await pg?.stop();
  });

  test('the counts and the most urgent rows match the full board, for everything and for a county', async () => {
    const all = await boardStates(ledger, {}, NOW);
    const view = await boardView(ledger, {}, 300, NOW);
    expect(view.total).toBe(all.length);
    const key = (i: { trackerId: string; period: string }) => `${i.trackerId} ${i.period}`;
    expect(view.items.map(key).sort()).toEqual(all.map(key).sort());
    // Most urgent first: red by due, then yellow, then green.
    expect(view.items.map((i) => i.colour)).toEqual(['red', 'red', 'yellow', 'green', 'green', 'done']);
    expect(view.items[0]).toMatchObject({ trackerId: 'annual-report/city-justice', period: '2025' });
    // The period done in Los Angeles' 2026 is on the board; Shanghai's is not (2027 there).
    expect(view.items.find((i) => i.colour === 'done')).toMatchObject({ trackerId: 'la-report/county-justice' });
    expect(Object.fromEntries(view.counts)).toEqual({
      'province-justice': { red: 0, yellow: 0, green: 1, done: 0, waived: 0 },
      'city-justice': { red: 1, yellow: 0, green: 1, done: 0, waived: 0 },
      'county-justice': { red: 0, yellow: 1, green: 0, done: 1, waived: 0 },
      'county-finance': { red: 1, yellow: 0, green: 0, done: 0, waived: 0 },
    });
    // A limit cuts across colours, in order.
    expect((await boardView(ledger, {}, 3, NOW)).items.map((i) => i.colour)).toEqual(['red', 'red', 'yellow']);
    const county = await boardView(ledger, { units: ['county-justice', 'county-finance'] }, 300, NOW);
    expect(county.items.map((i) => i.unit).sort()).toEqual(['county-finance', 'county-justice', 'county-justice']);
    expect(county.total).toBe(3);
    expect((await boardView(ledger, { units: [] }, 300, NOW)).total).toBe(0);
    expect((await boardView(ledger, { colour: 'red', units: ['city-justice'] }, 300, NOW)).items).toHaveLength(1);
  });

  test("a county's report reads its units alone and rolls up to the county", async () => {
    const units = new Map(inputs.directory.units.map((u) => [u.id, u.name]));
    const whole = await yearReport(ledger, 2026, { units }, { now: NOW, levels: { directory: inputs.directory } });
    expect(whole.units.map((u) => [u.unit, u.due, u.onTime, u.late, u.overdue]).sort()).toEqual([
      ['city-justice', 1, 0, 0, 1],
      ['county-finance', 2, 0, 1, 1],
      ['county-justice', 2, 2, 0, 0],
    ]);
    const scope = ['county-justice', 'county-finance', 'county-office'];
    const county = await yearReport(
      ledger,
      2026,
      { units },
      { now: NOW, units: scope, levels: { directory: inputs.directory, jurisdictions: (j) => j === 'county' } },
    );
    expect(county.units.map((u) => u.unit).sort()).toEqual(['county-finance', 'county-justice']);
    expect(county.jurisdictions).toEqual([
      expect.objectContaining({ key: 'county', units: 2, due: 4, onTime: 2, late: 1, overdue: 1, onTimeRate: 0.5 }),
    ]);
    expect(county.jurisdictions![0]!.circular).toContain('甲县财政局：逾期未完成1项');
  });
});
