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
import {
  JurisdictionTree,
  ROOT_JURISDICTION,
  circularRecipientsOf,
  jurisdictionPath,
  jurisdictionTree,
  reportLevelOf,
  subtreeOf,
} from '../domain/jurisdictions';
import { DEFAULT_TIME_ZONE, Directory } from '../domain/model';
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
  /** Levels: the unit's jurisdiction (id) and its name with the names above it (XX市 › 乙县). */
  jurisdiction?: string;
  jurisdictionName?: string;
}

/** Levels: the figures of a group of units (a jurisdiction with everything beneath it, or a level). */
export interface GroupFigures {
  /** The jurisdiction's id, or the level's key (county, depth-2). */
  key: string;
  /** 乙县 (with the names above it for a jurisdiction: XX市 › 乙县), or 县级. */
  name: string;
  /** Units with a period due in the year. */
  units: number;
  due: number;
  onTime: number;
  onTimeExtended: number;
  late: number;
  missed: number;
  overdue: number;
  waived: number;
  onTimeRate: number | null;
}

export interface JurisdictionFigures extends GroupFigures {
  depth: number;
  /** The draft circular to this jurisdiction's leadership: the units whose level-3 circular goes to them. */
  circular: string;
}

export interface Report {
  year: number;
  /** The local date (YYYY-MM-DD) the report is as of: open periods are counted as they stand that day. */
  asOf?: string;
  /** False while the year's due dates are still running: its figures can still change. */
  yearEnded?: boolean;
  units: UnitReport[];
  circular: string;
  /** Levels (issue 24): per jurisdiction (its whole subtree), top down; only for a directory of levels. */
  jurisdictions?: JurisdictionFigures[];
  /** Levels: per level (省级, 市级, 县级 …). */
  levels?: GroupFigures[];
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

/**
 * The outcomes of a year as the ledger counts them: per unit and outcome, with the periods that were late or missed
 * (the circular names them). yearReport reads these instead of every outcome row (docs/performance.md, "Levels").
 */
export interface OutcomeTallies {
  counts: { unit: string; outcome: string; n: number }[];
  items: { unit: string; obligation: string; period: string; outcome: string }[];
}

/** Levels: the directory whose tree the report rolls up by, and which of its jurisdictions to roll up. */
export interface ReportLevels {
  directory: Directory;
  /** The jurisdictions whose figures the report gives (those the reader reads whole); absent, all. */
  jurisdictions?: (id: string) => boolean;
}

/**
 * `obligationTitles`: the circular names obligations by their Chinese titles; an unknown id is kept as is.
 * `levels`: for a directory of levels, the roll-up per jurisdiction and per level and the circular of each
 * jurisdiction.
 */
export function buildReport(
  year: number,
  outcomes: OutcomeRow[] | OutcomeTallies,
  unitNames: Map<string, string>,
  obligationTitles: Map<string, string> = new Map(),
  open?: OpenWork,
  levels?: ReportLevels,
): Report {
  const byUnit = new Map<string, UnitReport>();
  const unitRow = (unit: string): UnitReport => {
    let r = byUnit.get(unit);
    if (!r) {
      r = {
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
      byUnit.set(unit, r);
    }
    return r;
  };
  const itemOf = (o: { obligation: string; period: string }) =>
    `${obligationTitles.get(o.obligation) ?? o.obligation}（${periodWords(o.period)}）`;
  const tallies = Array.isArray(outcomes) ? tally(outcomes) : outcomes;
  for (const c of tallies.counts) {
    const r = unitRow(c.unit);
    r.due += c.n;
    if (c.outcome === 'on_time') r.onTime += c.n;
    else if (c.outcome === 'on_time_extended') r.onTimeExtended += c.n;
    else if (c.outcome === 'late') r.late += c.n;
    else if (c.outcome === 'missed') r.missed += c.n;
    else if (c.outcome === 'waived') r.waived += c.n;
  }
  for (const o of tallies.items) {
    if (o.outcome === 'late') unitRow(o.unit).lateItems.push(itemOf(o));
    else if (o.outcome === 'missed') unitRow(o.unit).missedItems.push(itemOf(o));
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
  }
  const units = [...byUnit.values()];
  for (const r of units) r.onTimeRate = rateOf(r);
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
  // The date the figures stand on, and whether the year can still change them.
  const yearEnded = asOf === undefined ? undefined : asOf > `${year}-12-31`;
  const circular = circularText(year, units, asOf, yearEnded);
  const report: Report = { year, ...(asOf !== undefined ? { asOf, yearEnded } : {}), units, circular };
  if (levels && jurisdictionTree(levels.directory).nested) Object.assign(report, rollUp(report, levels));
  return report;
}

/** Outcome rows counted as the ledger counts them (a caller that holds the rows: tests, older callers). */
function tally(rows: OutcomeRow[]): OutcomeTallies {
  const counts = new Map<string, { unit: string; outcome: string; n: number }>();
  for (const o of rows) {
    const key = `${o.unit}\u0000${o.outcome}`;
    const c = counts.get(key) ?? { unit: o.unit, outcome: o.outcome, n: 0 };
    c.n++;
    counts.set(key, c);
  }
  return {
    counts: [...counts.values()],
    items: rows.filter((o) => o.outcome === 'late' || o.outcome === 'missed'),
  };
}

/** (on time + on time with extension) / (due - waived); null when nothing counts. */
function rateOf(r: { due: number; waived: number; onTime: number; onTimeExtended: number }): number | null {
  const counted = r.due - r.waived;
  return counted > 0 ? (r.onTime + r.onTimeExtended) / counted : null;
}

/** The draft circular naming the units with missed, open overdue or late items; `of` names a jurisdiction. */
function circularText(
  year: number,
  units: UnitReport[],
  asOf: string | undefined,
  yearEnded: boolean | undefined,
  of = '',
): string {
  const flagged = units.filter((u) => u.missed + u.overdue + u.late > 0);
  const asOfText = asOf === undefined ? '' : chineseDay(asOf);
  const since = asOf === undefined ? '' : `截至${asOfText}，`;
  const unfinished =
    asOf === undefined || yearEnded
      ? ''
      : asOf < `${year}-01-01`
        ? `${year}年度尚未开始，以上为截至${asOfText}的情况。`
        : `${year}年度尚未结束，以上为截至${asOfText}的情况，年度结束前仍会变化。`;
  return flagged.length
    ? [
        `关于${year}年度${of}法治政府建设任务落实情况的通报（草稿）`,
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
      ? `${since}${of}${year}年度截止的任务暂无逾期或未完成情况。${unfinished}`
      : `${since}${of}${year}年度截止的任务均已按时完成，无需通报。`;
}

/**
 * Levels: each unit's jurisdiction; the figures of every jurisdiction over its whole subtree (top down, only those
 * the reader reads whole and that have units in the report); the figures of every level; and each jurisdiction's
 * draft circular, naming the units whose level-3 circular goes to its leadership.
 */
function rollUp(report: Report, levels: ReportLevels): Pick<Report, 'jurisdictions' | 'levels'> {
  const { directory } = levels;
  const tree: JurisdictionTree = jurisdictionTree(directory);
  const unitsById = new Map(directory.units.map((u) => [u.id, u]));
  for (const u of report.units) {
    const j = tree.unitJurisdiction.get(u.unit);
    if (j === undefined) continue;
    u.jurisdiction = j;
    u.jurisdictionName = jurisdictionPath(tree, j);
  }
  const empty = (key: string, name: string): GroupFigures => ({
    key,
    name,
    units: 0,
    due: 0,
    onTime: 0,
    onTimeExtended: 0,
    late: 0,
    missed: 0,
    overdue: 0,
    waived: 0,
    onTimeRate: null,
  });
  const addTo = (g: GroupFigures, u: UnitReport) => {
    g.units++;
    g.due += u.due;
    g.onTime += u.onTime;
    g.onTimeExtended += u.onTimeExtended;
    g.late += u.late;
    g.missed += u.missed;
    g.overdue += u.overdue;
    g.waived += u.waived;
  };
  // Each unit's figures go to its jurisdiction and every one above it.
  const own = new Map<string, GroupFigures>();
  const circularOf = new Map<string, UnitReport[]>();
  const byLevel = new Map<string, GroupFigures & { order: number }>();
  for (const u of report.units) {
    const j = u.jurisdiction;
    if (j === undefined) continue;
    for (let n = tree.nodes.get(j); n; n = n.parent === undefined ? undefined : tree.nodes.get(n.parent)) {
      const g = own.get(n.id) ?? empty(n.id, jurisdictionPath(tree, n.id));
      addTo(g, u);
      own.set(n.id, g);
    }
    const to = circularRecipientsOf(directory, u.unit).jurisdiction;
    circularOf.set(to, [...(circularOf.get(to) ?? []), u]);
    const level = reportLevelOf(tree, unitsById.get(u.unit) ?? { id: u.unit });
    const g = byLevel.get(level.key) ?? { ...empty(level.key, level.words), order: level.order };
    addTo(g, u);
    byLevel.set(level.key, g);
  }
  const wanted = levels.jurisdictions ?? (() => true);
  const jurisdictions: JurisdictionFigures[] = subtreeOf(tree, ROOT_JURISDICTION)
    .filter((n) => own.has(n.id) && wanted(n.id))
    .map((n) => {
      const g = own.get(n.id)!;
      return {
        ...g,
        onTimeRate: rateOf(g),
        depth: n.depth,
        circular: circularText(report.year, circularOf.get(n.id) ?? [], report.asOf, report.yearEnded, n.name),
      };
    });
  const levelFigures = [...byLevel.values()]
    .sort((a, b) => a.order - b.order)
    .map(({ order: _order, ...g }) => ({ ...g, onTimeRate: rateOf(g) }));
  return { jurisdictions, levels: levelFigures };
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
  options: {
    now?: number;
    zone?: string;
    maySee?: (unit: string) => boolean;
    /** The units to read, when the reader's scope is a part of the directory (a county): the ledger reads only them. */
    units?: readonly string[];
    levels?: ReportLevels;
  } = {},
): Promise<Report> {
  const maySee = options.maySee ?? (() => true);
  const now = options.now ?? Date.now();
  // Counted in the ledger: a region's hundreds of thousands of outcomes are a few thousand rows here.
  const [outcomes, open] = await Promise.all([
    ledger.outcomeTallies(year, options.units),
    ledger.overduePeriods(year, now, options.units),
  ]);
  return buildReport(
    year,
    { counts: outcomes.counts.filter((o) => maySee(o.unit)), items: outcomes.items.filter((o) => maySee(o.unit)) },
    names.units,
    names.obligations,
    { periods: open.filter((p) => maySee(p.unit)), now, zone: options.zone ?? DEFAULT_TIME_ZONE },
    options.levels,
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

/** Levels: the unit rows name the unit's jurisdiction after its name. */
const headerOf = (report: Report) =>
  report.jurisdictions ? [...HEADER.slice(0, 3), '所属辖区', ...HEADER.slice(3)] : HEADER;

/** A unit's row under headerOf(report), its rate as the format wants it (text, or a number the workbook formats). */
function unitCells<R>(report: Report, u: Report['units'][number], rate: R): (string | number | R)[] {
  const figures = [u.due, u.onTime, u.onTimeExtended, u.late, u.missed, u.overdue, u.waived, rate];
  return report.jurisdictions
    ? [u.rank, u.unit, u.unitName, u.jurisdictionName ?? '', ...figures]
    : [u.rank, u.unit, u.unitName, ...figures];
}

/** Levels: the roll-up tables, per jurisdiction (with everything beneath it) and per level. */
const GROUP_FIGURES = ['单位数', '应完成', '按时', '延期后按时', '逾期', '未完成', '逾期未完成', '免除', '按时率'];
const JURISDICTION_TITLE = '按辖区汇总（含下级辖区）';
const LEVEL_TITLE = '按层级汇总';

function groupCells<R>(g: GroupFigures, rate: R): (string | number | R)[] {
  return [g.name, g.units, g.due, g.onTime, g.onTimeExtended, g.late, g.missed, g.overdue, g.waived, rate];
}

/** The roll-up tables as rows of cells: a title, a header and one row per group; none without levels. */
function rollUpTables<R>(report: Report, rate: (r: number | null) => R): (string | number | R)[][][] {
  if (!report.jurisdictions || !report.levels) return [];
  return [
    [
      [JURISDICTION_TITLE],
      ['辖区', ...GROUP_FIGURES],
      ...report.jurisdictions.map((g) => groupCells(g, rate(g.onTimeRate))),
    ],
    [[LEVEL_TITLE], ['层级', ...GROUP_FIGURES], ...report.levels.map((g) => groupCells(g, rate(g.onTimeRate)))],
  ];
}

/** Levels: every jurisdiction's own draft circular after the report's, each under its name. */
function jurisdictionCirculars(report: Report): string[] {
  return (report.jurisdictions ?? []).flatMap((j) => ['', `【${j.name}】`, j.circular]);
}

/** The report as CSV: UTF-8 with a byte-order mark and CRLF; every text cell through csvField. */
export function reportCsv(report: Report): string {
  // UTF-8 with a byte-order mark and CRLF, so Excel and WPS open the Chinese text correctly. No rate: empty.
  const rate = (r: number | null) => (r === null ? '' : percent(r));
  const cells = report.units.map((u) => unitCells(report, u, rate(u.onTimeRate)));
  // Levels: the roll-up tables follow the units' table, each after an empty line.
  const tables = rollUpTables(report, rate).flatMap((t) => [[], ...t]);
  return `\uFEFF${[headerOf(report), ...cells, ...tables].map((r) => r.map(csvField).join(',')).join('\r\n')}\r\n`;
}

export function renderReport(report: Report, format: 'table' | 'csv' | 'json'): string {
  if (format === 'json') return `${JSON.stringify(report)}\n`;
  if (format === 'csv') return reportCsv(report);
  const rows = report.units.map((u) => unitCells(report, u, percent(u.onTimeRate)));
  const lines = [
    `${report.year}年度考核${report.asOf ? `（截至${chineseDay(report.asOf)}${report.yearEnded ? '' : '，年度未结束'}）` : ''}`,
    '',
    headerOf(report).join('\t'),
    ...rows.map((r) => r.join('\t')),
    ...rollUpTables(report, percent).flatMap((t) => ['', ...t.map((r) => r.join('\t'))]),
    '',
    report.circular,
    ...jurisdictionCirculars(report),
    '',
  ];
  return lines.join('\n');
}

/**
 * The report as an Excel workbook (opens in Excel and WPS): sheet 考核 with numbers as numbers and the rate as a
 * percentage, sheet 通报 with the draft circular, one paragraph a row; with levels, sheets 辖区汇总 and 层级汇总, and
 * each jurisdiction's circular after the report's. Cells are written as values, never formulas.
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
  const header = headerOf(report);
  sheet.addRow(header).font = { bold: true };
  for (const u of report.units) sheet.addRow(unitCells(report, u, u.onTimeRate ?? null));
  sheet.getColumn(header.length).numFmt = '0.0%';
  const widths = [6, 14, 28, ...(report.jurisdictions ? [28] : []), 8, 8, 10, 8, 8, 10, 8, 10];
  widths.forEach((w, i) => (sheet.getColumn(i + 1).width = w));
  for (const [titleRow, head, ...rows] of rollUpTables(report, (r) => r)) {
    const title = String(titleRow?.[0]);
    const t = workbook.addWorksheet(title === LEVEL_TITLE ? '层级汇总' : '辖区汇总', {
      views: [{ state: 'frozen', ySplit: 2 }],
    });
    t.addRow([`${report.year}年度考核：${title}`]);
    t.addRow(head!).font = { bold: true };
    for (const r of rows) t.addRow(r);
    t.getColumn(head!.length).numFmt = '0.0%';
    [28, 8, 8, 8, 10, 8, 8, 10, 8, 10].forEach((w, i) => (t.getColumn(i + 1).width = w));
  }
  const circular = workbook.addWorksheet('通报');
  circular.getColumn(1).width = 100;
  for (const line of [...report.circular.split('\n'), ...jurisdictionCirculars(report).flatMap((c) => c.split('\n'))])
    circular.addRow([line]).alignment = { wrapText: true };
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

/** The workbook written to a file (`duban report --xlsx`). */
export async function writeWorkbook(report: Report, file: string): Promise<void> {
  await writeFile(file, await reportWorkbook(report));
}
