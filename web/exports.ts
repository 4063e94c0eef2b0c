/**
 * The year report as CSV and XLSX downloads. CSV cells that a spreadsheet would read as a formula (starting with
 * =, +, -, @, a tab or a carriage return) are prefixed with an apostrophe (OWASP's advice), so a unit name can
 * never run in Excel or WPS.
 */
import ExcelJS from 'exceljs';
import type { Report } from '../access/report';

const HEADER = ['排名', '单位', '单位名称', '应完成', '按时', '延期后按时', '逾期', '未完成', '免除', '按时率'];

const percent = (r: number | null) => (r === null ? '-' : `${(r * 100).toFixed(1)}%`);

function rows(report: Report): (string | number)[][] {
  return report.units.map((u) => [
    u.rank,
    u.unit,
    u.unitName,
    u.due,
    u.onTime,
    u.onTimeExtended,
    u.late,
    u.missed,
    u.waived,
    percent(u.onTimeRate),
  ]);
}

export function neutraliseFormula(s: string): string {
  return s !== '-' && /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
}

function csvField(v: string | number): string {
  const s = typeof v === 'number' ? String(v) : neutraliseFormula(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function reportCsv(report: Report): string {
  // UTF-8 with a byte-order mark and CRLF, so Excel and WPS open the Chinese text correctly.
  return `\uFEFF${[HEADER, ...rows(report)].map((r) => r.map(csvField).join(',')).join('\r\n')}\r\n`;
}

export async function reportXlsx(report: Report): Promise<Buffer> {
  const book = new ExcelJS.Workbook();
  book.creator = 'duban';
  const sheet = book.addWorksheet(`${report.year}年度考核`);
  sheet.addRow(HEADER);
  // Cells are written as text or numbers, never as formulas.
  for (const r of rows(report)) sheet.addRow(r);
  sheet.getRow(1).font = { bold: true };
  sheet.columns.forEach((c, i) => (c.width = i === 2 ? 24 : 12));
  const circular = book.addWorksheet('通报草稿');
  for (const line of report.circular.split('\n')) circular.addRow([line]);
  circular.getColumn(1).width = 100;
  return Buffer.from(await book.xlsx.writeBuffer());
}
