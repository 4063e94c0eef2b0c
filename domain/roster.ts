/**
 * Rosters (人员名单) for per-person quotas (docs/catalog.md, "Per-person quotas"): who in a unit must reach a quota
 * (every law-enforcement officer, 60 hours a year). Read from a CSV file with the columns unit, roster, person and
 * name; this module parses the text and checks it against the directory, and reads no file itself.
 */

export interface Person {
  /** Unique within the unit and roster: an 执法证号 or a staff number. */
  id: string;
  name: string;
}

export interface RosterEntry extends Person {
  unit: string;
  roster: string;
  /** The 1-based line of the file the entry is on, for problems found later. */
  line: number;
}

export interface RosterProblem {
  line: number;
  column?: string;
  message: string;
}

export const ROSTER_COLUMNS = ['unit', 'roster', 'person', 'name'] as const;

/** Splits CSV text into rows of cells (RFC 4180: quoted cells may hold commas, quotes and line breaks). */
function csvRows(text: string): { cells: string[]; line: number }[] {
  const rows: { cells: string[]; line: number }[] = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  const endRow = () => {
    cells.push(cell);
    if (!(cells.length === 1 && cells[0]!.trim() === '')) rows.push({ cells, line: rowLine });
    cells = [];
    cell = '';
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') {
        quoted = false;
      } else {
        if (ch === '\n') line++;
        cell += ch;
      }
    } else if (ch === '"' && cell === '') {
      quoted = true;
    } else if (ch === ',') {
      cells.push(cell);
      cell = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      endRow();
      line++;
      rowLine = line;
    } else {
      cell += ch;
    }
  }
  if (cell !== '' || cells.length > 0) endRow();
  return rows;
}

const MAX_CELL = 200;

/** Parses a roster CSV file's text: every entry, and every problem with its line and column. */
export function parseRosterCsv(text: string): { entries: RosterEntry[]; problems: RosterProblem[] } {
  const problems: RosterProblem[] = [];
  const rows = csvRows(text.replace(/^\uFEFF/, ''));
  const header = rows.shift();
  if (!header)
    return {
      entries: [],
      problems: [{ line: 1, message: `文件为空：第一行应为列名 ${ROSTER_COLUMNS.join(',')}` }],
    };
  const names = header.cells.map((c) => c.trim());
  const index = new Map(names.map((n, i) => [n, i]));
  const missing = ROSTER_COLUMNS.filter((c) => !index.has(c));
  const unknown = names.filter((n) => !(ROSTER_COLUMNS as readonly string[]).includes(n));
  if (missing.length || unknown.length) {
    const parts = [
      missing.length ? `缺少列 ${missing.join(', ')}` : '',
      unknown.length ? `未知的列 ${unknown.map((u) => JSON.stringify(u.slice(0, 40))).join(', ')}` : '',
    ];
    return {
      entries: [],
      problems: [
        {
          line: header.line,
          message: `${parts.filter(Boolean).join('；')}：列应为 ${ROSTER_COLUMNS.join(',')}`,
        },
      ],
    };
  }
  const entries: RosterEntry[] = [];
  const seen = new Map<string, number>();
  for (const row of rows) {
    const value = (c: (typeof ROSTER_COLUMNS)[number]) => (row.cells[index.get(c)!] ?? '').trim();
    let bad = false;
    for (const c of ROSTER_COLUMNS) {
      const v = value(c);
      const problem =
        v === ''
          ? '为空'
          : v.length > MAX_CELL
            ? `超过${MAX_CELL}个字符`
            : /[\u0000-\u001f\u007f\u2028\u2029]/.test(v)
              ? '含控制字符或换行'
              : /^[=+\-@]/.test(v)
                ? `“${v.slice(0, 40)}”以电子表格公式的字符开头（=、+、-、@）`
                : undefined;
      if (problem) {
        problems.push({ line: row.line, column: c, message: problem });
        bad = true;
      }
    }
    if (row.cells.length > names.length) {
      problems.push({
        line: row.line,
        message: `有${row.cells.length}个单元格，但表头只有${names.length}列（名称中的逗号须加引号）`,
      });
      bad = true;
    }
    if (bad) continue;
    const key = `${value('unit')}\u0000${value('roster')}\u0000${value('person')}`;
    const first = seen.get(key);
    if (first !== undefined) {
      problems.push({
        line: row.line,
        column: 'person',
        message: `人员“${value('person')}”已在单位 ${value('unit')} 的名单 ${value('roster')} 中（第${first}行）`,
      });
      continue;
    }
    seen.set(key, row.line);
    entries.push({
      unit: value('unit'),
      roster: value('roster'),
      id: value('person'),
      name: value('name'),
      line: row.line,
    });
  }
  return { entries, problems };
}

/** The people on one roster of one unit, in file order. */
export function rosterOf(entries: readonly RosterEntry[], unit: string, roster: string): Person[] {
  return entries.filter((e) => e.unit === unit && e.roster === roster).map((e) => ({ id: e.id, name: e.name }));
}
