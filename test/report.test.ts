/**
 * The year report counts open overdue work (#19 item 1): a period past due and not done is 逾期未完成 in the year it
 * fell due, as of the report's date, which the report states; the draft 通报 names it; a year not yet ended (or not
 * yet begun) says so. Against a real SQLite ledger, written the way the worker writes it (applyWrite).
 */
import { renderReport, reportCsv, yearReport } from '../access/report';
import { Ledger } from '../ledger';
import type { BoardPeriod } from '../domain/tracker-state';
import { tempLedgerFile } from './support/engine';

const at = (iso: string) => Date.parse(iso);
const units = new Map([
  ['sfj', '市司法局'],
  ['fgw', '市发展改革委'],
]);
const obligations = new Map([
  ['special-task', '专项整治任务'],
  ['annual-report', '法治政府建设年度报告'],
]);

/** One tracker's board rows after a step: its open periods, as the worker writes them. */
async function open(ledger: Ledger, obligation: string, unit: string, periods: Partial<BoardPeriod>[]) {
  const rows: BoardPeriod[] = periods.map((p) => ({
    period: 'once',
    colour: 'red',
    due: '2026-11-20',
    dueAt: at('2026-11-20T15:59:59Z'),
    originalDue: '2026-11-20',
    endsAt: at('2027-11-20T00:00:00Z'),
    progressCount: 0,
    submitted: false,
    verification: 'not required',
    ...p,
  }));
  await ledger.applyWrite({
    trackerId: `${obligation}/${unit}`,
    obligation,
    unit,
    at: at('2026-11-21T00:00:00Z'),
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

describe('the year report and open overdue work', () => {
  let ledger: Ledger;
  beforeAll(async () => {
    ledger = await Ledger.open({ sqliteFile: tempLedgerFile(), migrate: true });
    // A one-off due 2026-11-20, 12 days overdue on 2 December, red, nothing submitted.
    await open(ledger, 'special-task', 'sfj', [{}]);
    // The same one-off at another unit, submitted and waiting for verification: done work, not overdue.
    await open(ledger, 'special-task', 'fgw', [{ colour: 'done', submitted: true, verification: 'pending' }]);
    // The 2026 annual report (due 2027-02-28) is open and not yet due: it counts for 2027, and not yet.
    await open(ledger, 'annual-report', 'sfj', [
      {
        period: '2026',
        colour: 'green',
        due: '2027-02-28',
        originalDue: '2027-02-28',
        dueAt: at('2027-02-28T15:59:59Z'),
      },
    ]);
    await ledger.recordOutcome({
      trackerId: 'annual-report/fgw',
      obligation: 'annual-report',
      unit: 'fgw',
      period: '2025',
      outcome: 'on_time',
      originalDue: '2026-02-28',
      due: '2026-02-28',
      completedAt: at('2026-02-20T00:00:00Z'),
      settledAt: at('2026-02-20T00:00:00Z'),
    });
  });
  afterAll(() => ledger.close());

  const zone = 'Asia/Shanghai';

  test('2026 as of 2 December: the open one-off is 逾期未完成, named in the 通报, and the year is not over', async () => {
    const report = await yearReport(ledger, 2026, { units, obligations }, { now: at('2026-12-02T02:00:00Z'), zone });
    expect(report).toMatchObject({ year: 2026, asOf: '2026-12-02', yearEnded: false });
    const sfj = report.units.find((u) => u.unit === 'sfj')!;
    expect(sfj).toMatchObject({ due: 1, overdue: 1, missed: 0, onTimeRate: 0 });
    expect(sfj.overdueItems).toEqual(['专项整治任务（一次性）']);
    expect(report.units.find((u) => u.unit === 'fgw')).toMatchObject({ due: 1, onTime: 1, overdue: 0 });
    // Ranked below the unit that was on time.
    expect(report.units.map((u) => u.unit)).toEqual(['fgw', 'sfj']);
    expect(report.circular).not.toContain('无需通报');
    expect(report.circular).toContain('市司法局：逾期未完成1项（专项整治任务（一次性））。');
    expect(report.circular).toContain('根据督办系统台账，截至2026年12月2日，2026年度截止的任务中');
    expect(report.circular).toContain('2026年度尚未结束，以上为截至2026年12月2日的情况，年度结束前仍会变化。');
    const table = renderReport(report, 'table');
    expect(table.split('\n')[0]).toBe('2026年度考核（截至2026年12月2日，年度未结束）');
    expect(reportCsv(report)).toContain('\r\n2,sfj,市司法局,1,0,0,0,0,1,0,0.0%\r\n');
  });

  test('before its due date a period is not overdue; a filter by unit keeps to what the reader may see', async () => {
    const early = await yearReport(ledger, 2026, { units, obligations }, { now: at('2026-11-20T10:00:00Z'), zone });
    expect(early.units.find((u) => u.unit === 'sfj')).toBeUndefined();
    expect(early.circular).toBe(
      '截至2026年11月20日，2026年度截止的任务暂无逾期或未完成情况。2026年度尚未结束，以上为截至2026年11月20日的情况，年度结束前仍会变化。',
    );
    const own = await yearReport(
      ledger,
      2026,
      { units, obligations },
      { now: at('2026-12-02T02:00:00Z'), zone, maySee: (u) => u === 'fgw' },
    );
    expect(own.units.map((u) => u.unit)).toEqual(['fgw']);
  });

  test('2027 before it began says so; once it has ended the 通报 states the date it stands on', async () => {
    const before = await yearReport(ledger, 2027, { units, obligations }, { now: at('2026-12-02T02:00:00Z'), zone });
    expect(before.units).toEqual([]);
    expect(before.circular).toBe(
      '截至2026年12月2日，2027年度截止的任务暂无逾期或未完成情况。2027年度尚未开始，以上为截至2026年12月2日的情况。',
    );
    expect(before.circular).not.toContain('均已按时完成');
    const after = await yearReport(ledger, 2026, { units, obligations }, { now: at('2027-01-05T02:00:00Z'), zone });
    expect(after).toMatchObject({ asOf: '2027-01-05', yearEnded: true });
    expect(after.circular).toContain('根据督办系统台账，截至2027年1月5日，2026年度截止的任务中');
    expect(after.circular).not.toContain('尚未结束');
    expect(after.circular).toContain('市司法局：逾期未完成1项');
  });
});
