/**
 * The yearly report (考核) from the ledger's outcomes: per unit, periods due in the year, on time, on time with
 * an extension, late, missed and waived, the on-time rate and a ranking; and the draft circular (通报) naming the
 * units with missed or late items.
 */
import { writeFile } from 'node:fs/promises';
import type { OutcomeRow } from '../ledger';

export interface UnitReport {
  rank: number;
  unit: string;
  unitName: string;
  due: number;
  onTime: number;
  onTimeExtended: number;
  late: number;
  missed: number;
  waived: number;
  /** (on time + on time with extension) / (due - waived); null when nothing counts. */
  onTimeRate: number | null;
  lateItems: string[];
  missedItems: string[];
}

export interface Report {
  year: number;
  units: UnitReport[];
  circular: string;
}

/** `obligationTitles`: the circular names obligations by their Chinese titles; an unknown id is kept as is. */
export function buildReport(
  year: number,
  outcomes: OutcomeRow[],
  unitNames: Map<string, string>,
  obligationTitles: Map<string, string> = new Map(),
): Report {
  const byUnit = new Map<string, UnitReport>();
  for (const o of outcomes) {
    const r = byUnit.get(o.unit) ?? {
      rank: 0,
      unit: o.unit,
      unitName: unitNames.get(o.unit) ?? o.unit,
      due: 0,
      onTime: 0,
      onTimeExtended: 0,
      late: 0,
      missed: 0,
      waived: 0,
      onTimeRate: null,
      lateItems: [],
      missedItems: [],
    };
    r.due++;
    const item = `${obligationTitles.get(o.obligation) ?? o.obligation}（${o.period}）`;
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
  const units = [...byUnit.values()];
  for (const r of units) {
    const counted = r.due - r.waived;
    r.onTimeRate = counted > 0 ? (r.onTime + r.onTimeExtended) / counted : null;
  }
  units.sort(
    (a, b) =>
      (b.onTimeRate ?? -1) - (a.onTimeRate ?? -1) ||
      a.missed - b.missed ||
      a.late - b.late ||
      (a.unit < b.unit ? -1 : 1),
  );
  let rank = 0;
  units.forEach((r, i) => {
    const prev = units[i - 1];
    rank = prev && prev.onTimeRate === r.onTimeRate && prev.missed === r.missed && prev.late === r.late ? rank : i + 1;
    r.rank = rank;
  });
  const flagged = units.filter((u) => u.missed + u.late > 0);
  const circular = flagged.length
    ? [
        `关于${year}年度法治政府建设任务落实情况的通报（草稿）`,
        '',
        `    根据督办系统台账，${year}年度截止的任务中，下列单位存在逾期或未完成情况，现予通报：`,
        '',
        ...flagged.map(
          (u, i) =>
            `${i + 1}. ${u.unitName}：${[u.missed ? `未完成${u.missed}项（${u.missedItems.join('、')}）` : '', u.late ? `逾期完成${u.late}项（${u.lateItems.join('、')}）` : ''].filter(Boolean).join('；')}。`,
        ),
        '',
        '    请上述单位认真分析原因，限期整改，并将整改情况报送督察单位。',
      ].join('\n')
    : `${year}年度截止的任务均已按时完成，无需通报。`;
  return { year, units, circular };
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

const HEADER = ['排名', '单位', '单位名称', '应完成', '按时', '延期后按时', '逾期', '未完成', '免除', '按时率'];

/** A unit's row under HEADER, its rate as the format wants it (text, or a number the workbook formats). */
function unitCells<R>(u: Report['units'][number], rate: R): (string | number | R)[] {
  return [u.rank, u.unit, u.unitName, u.due, u.onTime, u.onTimeExtended, u.late, u.missed, u.waived, rate];
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
    `${report.year}年度考核`,
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
  sheet.addRow([`${report.year}年度考核`]);
  sheet.addRow(HEADER).font = { bold: true };
  for (const u of report.units) sheet.addRow(unitCells(u, u.onTimeRate ?? null));
  sheet.getColumn(10).numFmt = '0.0%';
  [6, 14, 28, 8, 8, 10, 8, 8, 8, 10].forEach((w, i) => (sheet.getColumn(i + 1).width = w));
  const circular = workbook.addWorksheet('通报');
  circular.getColumn(1).width = 100;
  for (const line of report.circular.split('\n')) circular.addRow([line]).alignment = { wrapText: true };
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

/** The workbook written to a file (`duban report --xlsx`). */
export async function writeWorkbook(report: Report, file: string): Promise<void> {
  await writeFile(file, await reportWorkbook(report));
}
