/**
 * The yearly report (考核) from the ledger: per unit, periods due in the year, on time, on time with an extension,
 * late, missed, waived, and still open past due as of the report's date (逾期未完成), the on-time rate and a
 * ranking; and the draft circular (通报) naming the units with missed, open overdue or late items.
 *
 * Settled periods come from the outcomes; a period past due and not done is not settled until its ladder runs
 * out, so the open ones are read from the board's period rows, as of the report's date, which the report states.
 * `duban report` and the web's /report both build it here (yearReport).
 */
import { writeFile } from 'node:fs/promises';
import type { Ledger, OutcomeRow } from '../ledger';
import { DEFAULT_TIME_ZONE } from '../domain/model';
import { formatLocal } from '../domain/zone';
import { periodWords } from '../domain/words';

export interface UnitReport {
  rank: number;
  unit: string;
  unitName: string;
  due: number;
  onTime: number;
  onTimeExtended: number;
  late: number;
  missed: number;
  /** Open periods past due and not done as of the report's date (逾期未完成). */
  overdue: number;
  waived: number;
  /** (on time + on time with extension) / (due - waived); null when nothing counts. */
  onTimeRate: number | null;
  lateItems: string[];
  missedItems: string[];
  overdueItems: string[];
}

export interface Report {
  year: number;
  /** The local date (YYYY-MM-DD) the report is as of: open periods are counted as they stand that day. */
  asOf?: string;
  /** False while the year's due dates are still running: its figures can still change. */
  yearEnded?: boolean;
  units: UnitReport[];
  circular: string;
}

/** An open period as the board's rows hold it, for the report: past due and not done counts against its year. */
export interface OpenPeriod {
  obligation: string;
  unit: string;
  period: string;
  originalDue: string;
  dueAt: number;
  colour: string;
}

/** The report's reading of the open periods: as of which instant, and the date that instant is in the zone. */
export interface OpenWork {
  periods: OpenPeriod[];
  now: number;
  zone: string;
}

/** `obligationTitles`: the circular names obligations by their Chinese titles; an unknown id is kept as is. */
export function buildReport(
  year: number,
  outcomes: OutcomeRow[],
  unitNames: Map<string, string>,
  obligationTitles: Map<string, string> = new Map(),
  open?: OpenWork,
): Report {
  const byUnit = new Map<string, UnitReport>();
  const unitRow = (unit: string): UnitReport =>
    byUnit.get(unit) ?? {
      rank: 0,
      unit,
      unitName: unitNames.get(unit) ?? unit,
      due: 0,
      onTime: 0,
      onTimeExtended: 0,
      late: 0,
      missed: 0,
      overdue: 0,
      waived: 0,
      onTimeRate: null,
      lateItems: [],
      missedItems: [],
      overdueItems: [],
    };
  const itemOf = (o: { obligation: string; period: string }) =>
    `${obligationTitles.get(o.obligation) ?? o.obligation}（${periodWords(o.period)}）`;
  for (const o of outcomes) {
    const r = unitRow(o.unit);
    r.due++;
    const item = itemOf(o);
    if (o.outcome === 'on_time') r.onTime++;
    else if (o.outcome === 'on_time_extended') r.onTimeExtended++;
    else if (o.outcome === 'late') {
      r.late++;
      r.lateItems.push(item);
    } else if (o.outcome === 'missed') {
      r.missed++;
      r.missedItems.push(item);
    } else if (o.outcome === 'waived') r.waived++;
    byUnit.set(o.unit, r);
  }
  // Past due and not done (done work waiting for verification is done; waived work settles at once).
  const asOf = open ? formatLocal(open.now, open.zone).slice(0, 10) : undefined;
  for (const p of open?.periods ?? []) {
    if (Number(p.originalDue.slice(0, 4)) !== year || p.dueAt >= open!.now) continue;
    if (p.colour === 'done' || p.colour === 'waived') continue;
    const r = unitRow(p.unit);
    r.due++;
    r.overdue++;
    r.overdueItems.push(itemOf(p));
    byUnit.set(p.unit, r);
  }
  const units = [...byUnit.values()];
  for (const r of units) {
    const counted = r.due - r.waived;
    r.onTimeRate = counted > 0 ? (r.onTime + r.onTimeExtended) / counted : null;
  }
  units.sort(
    (a, b) =>
      (b.onTimeRate ?? -1) - (a.onTimeRate ?? -1) ||
      a.missed + a.overdue - (b.missed + b.overdue) ||
      a.late - b.late ||
      (a.unit < b.unit ? -1 : 1),
  );
  let rank = 0;
  units.forEach((r, i) => {
    const prev = units[i - 1];
    rank =
      prev &&
      prev.onTimeRate === r.onTimeRate &&
      prev.missed + prev.overdue === r.missed + r.overdue &&
      prev.late === r.late
        ? rank
        : i + 1;
    r.rank = rank;
  });
  const flagged = units.filter((u) => u.missed + u.overdue + u.late > 0);
  // The date the figures stand on, and whether the year can still change them.
  const yearEnded = asOf === undefined ? undefined : asOf > `${year}-12-31`;
  const asOfText = asOf === undefined ? '' : chineseDay(asOf);
  const since = asOf === undefined ? '' : `截至${asOfText}，`;
  const unfinished =
    asOf === undefined || yearEnded
      ? ''
      : asOf < `${year}-01-01`
        ? `${year}年度尚未开始，以上为截至${asOfText}的情况。`
        : `${year}年度尚未结束，以上为截至${asOfText}的情况，年度结束前仍会变化。`;
  const circular = flagged.length
    ? [
        `关于${year}年度法治政府建设任务落实情况的通报（草稿）`,
        '',
        `    根据督办系统台账，${since}${year}年度截止的任务中，下列单位存在逾期或未完成情况，现予通报：`,
        '',
        ...flagged.map(
          (u, i) =>
            `${i + 1}. ${u.unitName}：${[u.overdue ? `逾期未完成${u.overdue}项（${u.overdueItems.join('、')}）` : '', u.missed ? `未完成${u.missed}项（${u.missedItems.join('、')}）` : '', u.late ? `逾期完成${u.late}项（${u.lateItems.join('、')}）` : ''].filter(Boolean).join('；')}。`,
        ),
        '',
        '    请上述单位认真分析原因，限期整改，并将整改情况报送督察单位。',
        ...(unfinished ? ['', `    ${unfinished}`] : []),
      ].join('\n')
    : yearEnded === false
      ? `${since}${year}年度截止的任务暂无逾期或未完成情况。${unfinished}`
      : `${since}${year}年度截止的任务均已按时完成，无需通报。`;
  return { year, ...(asOf !== undefined ? { asOf, yearEnded } : {}), units, circular };
}

/** 2026-12-02 as 2026年12月2日. */
function chineseDay(date: string): string {
  return `${date.slice(0, 4)}年${Number(date.slice(5, 7))}月${Number(date.slice(8, 10))}日`;
}

/**
 * The report of a year from the ledger as of `now`: the outcomes of the periods due in it and its open periods past
 * due. `maySee` keeps a unit's rows to those allowed to read them (the web's roles).
 */
export async function yearReport(
  ledger: Ledger,
  year: number,
  names: { units: Map<string, string>; obligations?: Map<string, string> },
  options: { now?: number; zone?: string; maySee?: (unit: string) => boolean } = {},
): Promise<Report> {
  const maySee = options.maySee ?? (() => true);
  const [outcomes, open] = await Promise.all([ledger.outcomes({ year }), ledger.periodStates({ open: true })]);
  return buildReport(
    year,
    outcomes.filter((o) => maySee(o.unit)),
    names.units,
    names.obligations,
    {
      periods: open.filter((p) => maySee(p.unit)),
      now: options.now ?? Date.now(),
      zone: options.zone ?? DEFAULT_TIME_ZONE,
    },
  );
}

const percent = (r: number | null) => (r === null ? '-' : `${(r * 100).toFixed(1)}%`);

/**
 * One CSV cell. Text that a spreadsheet would read as a formula (=, +, -, @, or a tab or carriage return first)
 * gets a leading apostrophe, as OWASP advises against CSV injection: a unit named "=HYPERLINK(...)" stays text.
 */
export function csvField(v: string | number): string {
  let s = String(v);
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** 逾期 is late but done; 未完成, settled undone (its ladder ran out); 逾期未完成, past due and still open. */
const HEADER = [
  '排名',
  '单位',
  '单位名称',
  '应完成',
  '按时',
  '延期后按时',
  '逾期',
  '未完成',
  '逾期未完成',
  '免除',
  '按时率',
];

/** A unit's row under HEADER, its rate as the format wants it (text, or a number the workbook formats). */
function unitCells<R>(u: Report['units'][number], rate: R): (string | number | R)[] {
  return [u.rank, u.unit, u.unitName, u.due, u.onTime, u.onTimeExtended, u.late, u.missed, u.overdue, u.waived, rate];
}

/** The report as CSV: UTF-8 with a byte-order mark and CRLF; every text cell through csvField. */
export function reportCsv(report: Report): string {
  const header = HEADER;
  // UTF-8 with a byte-order mark and CRLF, so Excel and WPS open the Chinese text correctly. No rate: empty.
  const cells = report.units.map((u) => unitCells(u, u.onTimeRate === null ? '' : percent(u.onTimeRate)));
  return `\uFEFF${[header, ...cells].map((r) => r.map(csvField).join(',')).join('\r\n')}\r\n`;
}

export function renderReport(report: Report, format: 'table' | 'csv' | 'json'): string {
  if (format === 'json') return `${JSON.stringify(report)}\n`;
  const header = HEADER;
  if (format === 'csv') return reportCsv(report);
  const rows = report.units.map((u) => unitCells(u, percent(u.onTimeRate)));
  const lines = [
    `${report.year}年度考核${report.asOf ? `（截至${chineseDay(report.asOf)}${report.yearEnded ? '' : '，年度未结束'}）` : ''}`,
    '',
    header.join('\t'),
    ...rows.map((r) => r.join('\t')),
    '',
    report.circular,
    '',
  ];
  return lines.join('\n');
}

/**
 * The report as an Excel workbook (opens in Excel and WPS): sheet 考核 with numbers as numbers and the rate as a
 * percentage, sheet 通报 with the draft circular, one paragraph a row. Cells are written as values, never formulas.
 */
export async function reportWorkbook(report: Report): Promise<Buffer> {
  // Loaded here: every other command starts faster without it.
  const { default: ExcelJS } = await import('exceljs');
  const workbook = new ExcelJS.Workbook();
  workbook.creator = 'duban';
  workbook.created = new Date();
  const sheet = workbook.addWorksheet('考核', { views: [{ state: 'frozen', ySplit: 2 }] });
  sheet.addRow([
    `${report.year}年度考核${report.asOf ? `（截至${chineseDay(report.asOf)}${report.yearEnded ? '' : '，年度未结束'}）` : ''}`,
  ]);
  sheet.addRow(HEADER).font = { bold: true };
  for (const u of report.units) sheet.addRow(unitCells(u, u.onTimeRate ?? null));
  sheet.getColumn(11).numFmt = '0.0%';
  [6, 14, 28, 8, 8, 10, 8, 8, 10, 8, 10].forEach((w, i) => (sheet.getColumn(i + 1).width = w));
  const circular = workbook.addWorksheet('通报');
  circular.getColumn(1).width = 100;
  for (const line of report.circular.split('\n')) circular.addRow([line]).alignment = { wrapText: true };
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

/** The workbook written to a file (`duban report --xlsx`). */
export async function writeWorkbook(report: Report, file: string): Promise<void> {
  await writeFile(file, await reportWorkbook(report));
}
