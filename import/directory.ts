/**
 * `duban import directory`: a unit list as offices keep it (.xlsx or .csv, columns such as 单位名称, 简称/编号,
 * 类别/标签, 上级督察单位, 主要负责人, 邮箱, 手机, 联络员, headers matched flexibly) -> a directory YAML. Every bad
 * row is named by row and column; on any problem nothing is written (the caller writes only a clean result).
 * Each problem is said in Chinese, for the command line and the web service's page alike.
 */
import ExcelJS from 'exceljs';
import { parse, stringify } from 'yaml';
import { MOBILE_PATTERN, UNIT_KINDS } from '../domain/model';
import { validateDocuments } from '../domain/validate';

export interface SheetProblem {
  row: number;
  /** The column's header as the sheet writes it. */
  column?: string;
  /** The column's number, 1 for A. */
  columnNumber?: number;
  message: string;
}

export interface DirectoryImport {
  yaml: string;
  units: number;
  problems: SheetProblem[];
}

type Field =
  | 'name'
  | 'id'
  | 'kind'
  | 'tags'
  | 'supervisor'
  | 'head'
  | 'headEmail'
  | 'liaison'
  | 'liaisonEmail'
  | 'email'
  | 'headMobile'
  | 'liaisonMobile'
  | 'mobile';

// Header words -> field, tried in order: the first that fits a header wins (so 负责人邮箱 is an email, not a name).
// A mobile column that names no one (手机, 联系电话) is the liaison's: the liaison is whom reminders reach.
const HEADERS: [Field, RegExp][] = [
  ['headEmail', /(负责人|领导|主要负责).*(邮|e-?mail)/i],
  ['liaisonEmail', /联络.*(邮|e-?mail)/i],
  ['email', /^(电子)?邮箱$|^电子邮件$|^e-?mail$|^邮件地址$/i],
  ['headMobile', /(负责人|领导|主要负责).*(手机|电话|mobile|phone)/i],
  ['liaisonMobile', /(联络|联系人).*(手机|电话|mobile|phone)/i],
  ['mobile', /手机|电话|mobile|phone/i],
  ['supervisor', /上级|督察|督查|主管单位/],
  ['name', /^(单位)?(名称|全称)$|^单位$/],
  ['id', /简称|编号|代码|^id$/i],
  ['kind', /^(单位)?(类型|种类)$/],
  ['tags', /类别|标签|分组|分类/],
  ['head', /负责人|领导/],
  ['liaison', /联络员|联系人/],
];

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const EMAIL = /^[^\s@,;<>]+@[^\s@,;<>]+\.[^\s@,;<>]+$/;
const MOBILE_FIELDS: Field[] = ['headMobile', 'liaisonMobile', 'mobile'];

/** A mobile as offices write it (blanks, dashes, 86 or +86 in front) in the directory's form, 11 digits. */
export function normaliseMobile(raw: string): string {
  return raw.replace(/[\s-]/g, '').replace(/^(\+?86)(?=1\d{10}$)/, '');
}

/** A sheet that cannot be read at all. */
export class SheetReadError extends Error {
  override readonly name = 'SheetReadError';
}

function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v.trim();
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v instanceof Date) return v.toISOString().slice(0, 10);
  if (typeof v === 'object') {
    const o = v as { text?: unknown; richText?: { text: string }[]; result?: unknown; hyperlink?: string };
    if (o.richText)
      return o.richText
        .map((r) => r.text)
        .join('')
        .trim();
    if (o.text !== undefined) return cellText(o.text);
    if (o.result !== undefined) return cellText(o.result);
  }
  return String(v).trim();
}

/** Rows of cells from a sheet file: the first worksheet of an .xlsx, or a CSV (UTF-8, GB18030 as Excel saves it). */
export async function sheetRows(bytes: Uint8Array, fileName: string): Promise<string[][]> {
  const ext = fileName.toLowerCase().match(/\.([a-z0-9]+)$/)?.[1];
  if (ext === 'xlsx') {
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(Buffer.from(bytes) as unknown as ArrayBuffer);
    const ws = wb.worksheets[0];
    if (!ws) return [];
    const rows: string[][] = [];
    for (let r = 1; r <= ws.rowCount; r++) {
      const values = ws.getRow(r).values as unknown[];
      const cells: string[] = [];
      for (let c = 1; c < Math.max(values.length, 1); c++) cells.push(cellText(values[c]));
      rows.push(cells);
    }
    return rows;
  }
  if (ext === 'csv') {
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      text = new TextDecoder('gb18030').decode(bytes);
    }
    return csv(text.replace(/^\uFEFF/, ''));
  }
  throw new SheetReadError(`${fileName}：单位名录表请用 .xlsx 或 .csv 文件（.xls 工作簿请另存为 .xlsx）`);
}

function csv(text: string): string[][] {
  const rows: string[][] = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"' && cell === '') quoted = true;
    else if (ch === ',') {
      cells.push(cell.trim());
      cell = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      cells.push(cell.trim());
      rows.push(cells);
      cells = [];
      cell = '';
    } else cell += ch;
  }
  if (cell !== '' || cells.length) {
    cells.push(cell.trim());
    rows.push(cells);
  }
  return rows;
}

/** A unit's kind from what its name says, when the sheet has no 类型 column. */
function kindOf(name: string, written: string): (typeof UNIT_KINDS)[number] {
  const w = written.toLowerCase();
  if ((UNIT_KINDS as readonly string[]).includes(w)) return w as (typeof UNIT_KINDS)[number];
  const s = `${written} ${name}`;
  if (/人民政府$|^政府$/.test(name) || /政府/.test(written)) return 'government';
  if (/街道|乡|镇/.test(s)) return 'street';
  if (/县|区|旗/.test(written) || /[县区旗]$/.test(name)) return 'county';
  if (/办公室$|办$|督察|督查/.test(name)) return 'office';
  return 'department';
}

export interface DirectoryOptions {
  jurisdiction?: string;
}

/** Builds the directory from a sheet's rows. Rows are numbered as the spreadsheet shows them (header = 1). */
export function directoryFromRows(rows: string[][], options: DirectoryOptions = {}): DirectoryImport {
  const problems: SheetProblem[] = [];
  const headerIndex = rows.findIndex((r) => r.some((c) => c !== ''));
  if (headerIndex < 0) return { yaml: '', units: 0, problems: [{ row: 1, message: '表格是空的' }] };
  const header = rows[headerIndex]!;
  const columns = new Map<Field, { index: number; title: string }>();
  header.forEach((title, index) => {
    const t = title.replace(/\s+/g, '');
    if (t === '') return;
    const hit = HEADERS.find(([f, re]) => re.test(t) && !columns.has(f));
    if (hit) columns.set(hit[0], { index, title });
  });
  for (const need of ['name', 'head'] as Field[]) {
    const title = need === 'name' ? '单位名称' : '主要负责人';
    if (!columns.has(need))
      problems.push({
        row: headerIndex + 1,
        message: `表头中没有“${title}”列（现有表头：${header.filter(Boolean).join('、')}）`,
      });
  }
  if (!columns.has('headEmail') && !columns.has('email') && !columns.has('liaisonEmail'))
    problems.push({
      row: headerIndex + 1,
      message: '表头中没有邮箱列（邮箱、负责人邮箱或联络员邮箱）',
    });
  if (problems.length) return { yaml: '', units: 0, problems };

  const get = (row: string[], f: Field) => {
    const c = columns.get(f);
    return c ? (row[c.index] ?? '').trim() : '';
  };
  const col = (f: Field) => columns.get(f)?.title;
  const num = (f: Field) => (columns.has(f) ? columns.get(f)!.index + 1 : undefined);
  interface Row {
    row: number;
    id: string;
    idMade: boolean;
    name: string;
    kind: (typeof UNIT_KINDS)[number];
    tags: string[];
    supervisor: string;
    head: { name: string; email: string };
    liaison: { name: string; email: string };
    headMobile?: string;
    liaisonMobile?: string;
  }
  const units: Row[] = [];
  const byName = new Map<string, number>();
  const byId = new Map<string, number>();
  rows.slice(headerIndex + 1).forEach((cells, k) => {
    const row = headerIndex + 2 + k;
    if (cells.every((c) => c.trim() === '')) return;
    const name = get(cells, 'name');
    const bad = (field: Field, message: string) =>
      problems.push({ row, column: col(field), ...(num(field) ? { columnNumber: num(field) } : {}), message });
    if (!name) return bad('name', '为空：每个单位都要有名称');
    for (const f of Object.keys(Object.fromEntries(columns)) as Field[]) {
      const v = get(cells, f);
      // A mobile may start with +86; anything else starting so is a formula Excel would run.
      if (/^[=+\-@]/.test(v) && !(MOBILE_FIELDS.includes(f) && /^\+\d/.test(v)))
        bad(f, `以公式符号开头（“${v.slice(0, 20)}”）：请填写文字本身`);
    }
    if (byName.has(name)) bad('name', `单位“${name}”重复（另见第${byName.get(name)}行）`);
    else byName.set(name, row);
    const written = get(cells, 'id');
    let id = written;
    let idMade = false;
    if (!ID.test(id)) {
      if (written && /^[\x20-\x7e]+$/.test(written)) bad('id', `“${written}”不能作编号：只能用英文字母、数字和 . _ -`);
      id = `u${String(units.length + 1).padStart(3, '0')}`;
      idMade = true;
    }
    if (byId.has(id)) bad('id', `编号“${id}”重复（另见第${byId.get(id)}行）`);
    else byId.set(id, row);
    const headName = get(cells, 'head');
    if (!headName) bad('head', '为空：主要负责人接收督办通知');
    const email = get(cells, 'email');
    const headEmail = get(cells, 'headEmail') || email;
    const liaisonEmail = get(cells, 'liaisonEmail') || email || headEmail;
    for (const [f, v] of [
      ['headEmail', headEmail],
      ['liaisonEmail', liaisonEmail],
    ] as [Field, string][]) {
      const field: Field = columns.has(f) ? f : 'email';
      if (!v) bad(field, '为空：通知要发到电子邮箱');
      else if (!EMAIL.test(v)) bad(field, `“${v}”不是有效的邮箱地址`);
    }
    // Mobiles go into the directory (contact `mobile`: SMS and robot mentions), checked as its schema checks them.
    const mobileOf = (f: Field): string | undefined => {
      const raw = get(cells, f);
      if (!raw) return undefined;
      const m = normaliseMobile(raw);
      if (MOBILE_PATTERN.test(m)) return m;
      bad(f, `“${raw}”不是有效的大陆手机号码（以1开头的11位数字，如13800138000）`);
      return undefined;
    };
    const headMobile = mobileOf('headMobile');
    const namedLiaison = mobileOf('liaisonMobile');
    const unnamed = mobileOf('mobile');
    const liaisonMobile = namedLiaison ?? unnamed;
    units.push({
      row,
      id,
      idMade,
      name,
      kind: kindOf(name, get(cells, 'kind') || get(cells, 'tags')),
      tags: get(cells, 'tags')
        .split(/[、,，;；/\s]+/)
        .filter(Boolean),
      supervisor: get(cells, 'supervisor'),
      head: { name: headName, email: headEmail },
      liaison: { name: get(cells, 'liaison') || headName, email: liaisonEmail },
      ...(headMobile ? { headMobile } : {}),
      ...(liaisonMobile ? { liaisonMobile } : {}),
    });
  });
  // Supervisors by name or id, checked once every row is known.
  const idOf = (s: string) => units.find((u) => u.name === s || u.id === s)?.id;
  for (const u of units) {
    if (!u.supervisor) continue;
    const sid = idOf(u.supervisor);
    if (!sid)
      problems.push({
        row: u.row,
        column: col('supervisor'),
        columnNumber: num('supervisor'),
        message: `未知的上级督察单位“${u.supervisor}”：表格中没有此名称或编号的单位`,
      });
    else if (sid === u.id)
      problems.push({
        row: u.row,
        column: col('supervisor'),
        columnNumber: num('supervisor'),
        message: '单位不能是自己的上级督察单位',
      });
  }
  if (units.length === 0 && problems.length === 0) problems.push({ row: headerIndex + 2, message: '表头下没有单位' });
  if (problems.length) return { yaml: '', units: 0, problems: problems.sort((a, b) => a.row - b.row) };

  const supervisors = new Set(units.map((u) => idOf(u.supervisor)).filter(Boolean));
  const lead = units.find((u) => supervisors.has(u.id)) ?? units[0]!;
  const q = (v: unknown) => stringify(v, { lineWidth: 0 }).trimEnd();
  const lines = [
    '# 单位名录 (directory) imported by `duban import directory`. Check every `# review:` line, then run duban validate.',
    '',
    '# review: the jurisdiction and the leadership (circular recipients) are not in the sheet: set them',
    `jurisdiction: ${q(options.jurisdiction ?? '本级')}`,
    'leadership:',
    `  - { name: ${q(lead.head.name)}, email: ${q(lead.head.email)}, title: ${q(`${lead.name}主要负责人`)} }`,
    '',
    'units:',
  ];
  for (const u of units) {
    lines.push(`  # row ${u.row}`);
    if (u.idMade)
      lines.push('  # review: id made up (the sheet has no ASCII 编号): a short pinyin abbreviation reads better');
    lines.push(`  - id: ${u.id}`, `    name: ${q(u.name)}`, `    kind: ${u.kind}`);
    if (u.tags.length) lines.push(`    tags: [${u.tags.map(q).join(', ')}]`);
    const sid = idOf(u.supervisor);
    if (sid) lines.push(`    supervisor: ${sid}`);
    lines.push('    contacts:');
    // Without a liaison column the head is the liaison: one person, one mobile.
    const same = u.liaison.email === u.head.email && u.liaison.name === u.head.name;
    const headMobile = u.headMobile ?? (same ? u.liaisonMobile : undefined);
    const liaisonMobile = u.liaisonMobile ?? (same ? u.headMobile : undefined);
    const contact = (c: { name: string; email: string }, m?: string) =>
      `{ name: ${q(c.name)}, email: ${q(c.email)}${m ? `, mobile: ${q(m)}` : ''} }`;
    lines.push(`      head: ${contact(u.head, headMobile)}`);
    lines.push(`      liaison: ${contact(u.liaison, liaisonMobile)}`);
  }
  const yaml = `${lines.join('\n')}\n`;
  // The result must be a directory duban accepts; anything the checks above missed is reported, not written.
  const checked = validateDocuments(undefined, parse(yaml));
  if (checked.problems.length)
    return {
      yaml: '',
      units: 0,
      problems: checked.problems.map((p) => ({
        row: 0,
        message: `生成的单位名录未通过检查（${p.path.join('.')}）：${p.message}`,
      })),
    };
  return { yaml, units: units.length, problems: [] };
}

export async function importDirectory(bytes: Uint8Array, fileName: string, options: DirectoryOptions = {}) {
  return directoryFromRows(await sheetRows(bytes, fileName), options);
}
