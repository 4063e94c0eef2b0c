/**
 * Reading the directory, catalog and calendar files, with every problem reported against file, line and field.
 */
import { loadChannelSecrets, missingSecret } from './channels';
import { existsSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { Document, LineCounter, isMap, isPair, isScalar, isSeq, parseDocument, visit, Node as YamlNode } from 'yaml';
import { z } from 'zod';
import { WorkingCalendar } from '../domain/calendar';
import type { HolidayArrangement } from '../domain/calendar';
import { dayNumber, formatDate, parseDate } from '../domain/dates';
import { ID_PATTERN, LIMITS } from '../domain/model';
import type { Catalog, Directory } from '../domain/model';
import { TrackerDefinition, resolveTrackers } from '../domain/trackers';
import {
  BOUNDS,
  DocumentKind,
  Path,
  Problem,
  definitionProblems,
  quoteShort,
  rosterProblems,
  validateDocuments,
  zodProblems,
} from '../domain/validate';
import { RosterEntry, parseRosterCsv } from '../domain/roster';
import { EventEntry, eventObligations } from '../domain/events';

/** The project folder, found from this file whether it runs from the sources (tests) or from dist/. */
export const PROJECT_ROOT = ((): string => {
  let dir = __dirname;
  while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
})();
export const DEFAULTS_DIR = path.join(PROJECT_ROOT, 'config', 'defaults');
export const DEFAULT_CATALOG = path.join(DEFAULTS_DIR, 'catalog.yaml');
export const DEFAULT_DIRECTORY = path.join(DEFAULTS_DIR, 'directory.yaml');
/** The demo rosters of the built-in catalog's per-person quota; used with the built-in files only. */
export const DEFAULT_ROSTERS = path.join(DEFAULTS_DIR, 'rosters.csv');
/** The demo events of the built-in catalog's event-relative obligation; used with the built-in files only. */
export const DEFAULT_EVENTS = path.join(DEFAULTS_DIR, 'events.yaml');

export interface FileProblem {
  file: string;
  line: number;
  column: number;
  /** The field in plain words, e.g. obligations[2] (annual-report) › due.monthDay */
  field: string;
  message: string;
}

/** Problems listed at most; a file broken everywhere (a huge list of wrong types) is summarised after these. */
export const MAX_PROBLEMS_SHOWN = 100;

export class InvalidInputError extends Error {
  /** The first MAX_PROBLEMS_SHOWN problems, in file and line order. */
  readonly problems: FileProblem[];
  /** How many more were found and not listed. */
  readonly omitted: number;

  constructor(problems: FileProblem[]) {
    const shown = problems.slice(0, MAX_PROBLEMS_SHOWN);
    const omitted = problems.length - shown.length;
    super(
      `发现${problems.length}处问题：\n${shown.map(formatProblem).join('\n')}` +
        (omitted > 0 ? `\n……另有${omitted}处问题（请先修正以上问题后再运行）` : ''),
    );
    this.problems = shown;
    this.omitted = omitted;
    this.name = 'InvalidInputError';
  }
}

export function formatProblem(p: FileProblem): string {
  return `${p.file}:${p.line}:${p.column}: ${p.field ? `${p.field}: ` : ''}${p.message}`;
}

interface LoadedYaml {
  file: string;
  doc?: Document.Parsed;
  lines?: LineCounter;
  value?: unknown;
  problems: FileProblem[];
}

/** Paths in messages: relative to where the user stands when that is shorter, else absolute. */
function display(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative && !relative.startsWith('..') ? relative : path.resolve(file);
}

/**
 * Limits on a YAML file, checked before and while parsing (docs/catalog.md, "Limits"): a hostile or broken file
 * (ten megabytes of nested brackets, an alias bomb, a binary file) gets a clear problem, not minutes of parsing,
 * an out-of-memory crash or its bytes echoed to the terminal.
 */
export const YAML_LIMITS = {
  /**
   * The parser reads about 1 MB a second, so this bounds parsing to a few seconds. A directory of 10,000 units in
   * the demo's block style is about 3 MB; 20,000 fit in the compact flow style.
   */
  fileBytes: 4 * 1024 * 1024,
  /** Collections inside collections; the documents need 7 at most. */
  depth: 32,
  /** Aliases (*name) per file, and the nodes they may expand to (yaml's maxAliasCount). */
  aliases: 100,
} as const;

const fileProblem = (file: string, message: string, line = 1, column = 1): FileProblem => ({
  file,
  line,
  column,
  field: '',
  message,
});

/** The YAML parser's error kinds in words; its own (English) message follows in brackets for the detail. */
const YAML_ERROR_WORDS: Record<string, string> = {
  ALIAS_PROPS: '别名不能带锚点或标签',
  BAD_ALIAS: '别名有误',
  BAD_DIRECTIVE: '指令有误',
  BAD_DQ_ESCAPE: '双引号内的转义有误',
  BAD_INDENT: '缩进有误',
  BAD_PROP_ORDER: '锚点和标签的位置有误',
  BAD_SCALAR_START: '值的开头字符有误（含 : # 等字符的值请加引号）',
  BLOCK_AS_IMPLICIT_KEY: '多行内容不能作为键',
  BLOCK_IN_FLOW: '方括号或花括号内不能有多行块',
  DUPLICATE_KEY: '键重复',
  KEY_OVER_1024_CHARS: '键超过1024个字符',
  MISSING_CHAR: '缺少字符（引号或括号未闭合？）',
  MULTILINE_IMPLICIT_KEY: '键不能跨行',
  MULTIPLE_ANCHORS: '一个节点有多个锚点',
  MULTIPLE_DOCS: '一个文件中有多个文档',
  MULTIPLE_TAGS: '一个节点有多个标签',
  NON_STRING_KEY: '键须为文本',
  RESOURCE_EXHAUSTION: '内容过大或嵌套过深',
  TAB_AS_INDENT: '不能用制表符缩进',
  TAG_RESOLVE_FAILED: '无法识别的标签',
  UNEXPECTED_TOKEN: '意外的符号',
  BAD_COLLECTION_TYPE: '集合类型有误',
};

/** A YAML parser's error as a problem: 语法错误 in words, the parser's message kept in brackets for the detail. */
function yamlWords(message: string, code?: string): string {
  return `YAML 语法错误：${(code && YAML_ERROR_WORDS[code]) || '无法解析'}（${plainMessage(message)}）`;
}

/** A library's message, made safe to print: one line, control characters escaped, bounded. */
function plainMessage(message: string): string {
  const first = message.split('\n')[0] ?? '';
  const escaped = first.replace(
    /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return escaped.length > 200 ? `${escaped.slice(0, 200)}…` : escaped;
}

function readYaml(file: string): LoadedYaml {
  let bytes: Buffer;
  try {
    const stat = statSync(file);
    if (!stat.isFile()) return { file, problems: [fileProblem(file, '不是文件')] };
    if (stat.size > YAML_LIMITS.fileBytes) {
      return {
        file,
        problems: [
          fileProblem(
            file,
            `大小为 ${(stat.size / 1048576).toFixed(1)} MB，超过文件上限 ${YAML_LIMITS.fileBytes / 1048576} MB`,
          ),
        ],
      };
    }
    bytes = readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT' ? '文件不存在' : code === 'EACCES' ? '没有读取权限' : plainMessage((err as Error).message);
    return { file, problems: [fileProblem(file, reason)] };
  }
  // A binary file (an image, a spreadsheet, a file saved as UTF-16) is named as such; its bytes are never shown.
  const nul = bytes.indexOf(0);
  if (nul >= 0)
    return {
      file,
      problems: [
        fileProblem(
          file,
          `不是文本文件（偏移 ${nul} 处有零字节）；任务清单、单位名录和日历均为 UTF-8 编码的 YAML 文本`,
        ),
      ],
    };
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return {
      file,
      problems: [fileProblem(file, '不是 UTF-8 文本（请另存为 UTF-8；不读取 GBK 和 UTF-16 文件）')],
    };
  }
  const lines = new LineCounter();
  const deep = nestingBeyond(text, YAML_LIMITS.depth);
  if (deep !== undefined) {
    lines.addNewLine(0);
    for (let at = text.indexOf('\n'); at >= 0 && at < deep; at = text.indexOf('\n', at + 1)) lines.addNewLine(at + 1);
    const pos = lines.linePos(deep);
    return {
      file,
      problems: [fileProblem(file, `嵌套超过${YAML_LIMITS.depth}层；这些文件最多只需几层`, pos.line, pos.col)],
    };
  }
  let doc: Document.Parsed;
  try {
    doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  } catch (e) {
    return { file, problems: [fileProblem(file, yamlWords((e as Error).message))] };
  }
  const problems = doc.errors.map((e) => {
    const pos = lines.linePos(e.pos[0]);
    return fileProblem(file, yamlWords(e.message, e.code), pos.line, pos.col);
  });
  if (problems.length) return { file, doc, lines, problems };
  let aliases = 0;
  let tooMany: YamlNode | undefined;
  visit(doc, {
    Alias(_, node) {
      if (++aliases > YAML_LIMITS.aliases && !tooMany) tooMany = node;
    },
  });
  if (tooMany) {
    const pos = tooMany.range ? lines.linePos(tooMany.range[0]) : { line: 1, col: 1 };
    return {
      file,
      doc,
      lines,
      problems: [
        fileProblem(
          file,
          `YAML：${aliases}个别名（alias），超过每个文件上限${YAML_LIMITS.aliases}个`,
          pos.line,
          pos.col,
        ),
      ],
    };
  }
  try {
    return { file, doc, lines, value: doc.toJS({ maxAliasCount: YAML_LIMITS.aliases }), problems };
  } catch (e) {
    // An alias bomb (aliases of aliases expanding to millions of nodes) or an alias to no anchor.
    const message = (e as Error).message;
    let at: YamlNode | undefined;
    visit(doc, {
      Alias(_, node) {
        if (!at && node.resolve(doc) === undefined) at = node;
      },
    });
    const pos = at?.range ? lines.linePos(at.range[0]) : { line: 1, col: 1 };
    const reason = /excessive alias count/i.test(message)
      ? `YAML：别名展开后节点过多（“别名炸弹”）；每个文件最多${YAML_LIMITS.aliases}个别名节点`
      : yamlWords(message);
    return { file, doc, lines, problems: [fileProblem(file, reason, pos.line, pos.col)] };
  }
}

/** The node for a path, or the deepest existing ancestor when the field is missing. */
function locate(doc: Document.Parsed, path: Path, atKey: boolean): YamlNode | undefined {
  let node: unknown = doc.contents;
  let found = node as YamlNode | undefined;
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(key));
      if (!pair) return found;
      if (atKey && key === path[path.length - 1]) return pair.key as YamlNode;
      node = pair.value ?? pair.key;
    } else if (isSeq(node) && typeof key === 'number') {
      node = node.items[key];
      if (node === undefined) return found;
    } else {
      return found;
    }
    found = node as YamlNode;
  }
  return found;
}

/** obligations[2] (annual-report) › due.monthDay: names the entry by its id so people find it. */
function fieldName(value: unknown, path: Path): string {
  let out = '';
  let v: unknown = value;
  for (const key of path) {
    const child = v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[key] : undefined;
    if (typeof key === 'number') {
      const id = child !== null && typeof child === 'object' ? (child as { id?: unknown }).id : undefined;
      out += `[${key}]${typeof id === 'string' && ID_PATTERN.test(id) && id.length <= LIMITS.id ? ` (${id}) ›` : ''}`;
    } else {
      // Keys come from the file: a key that is not a plain word is quoted and cut, never echoed whole.
      const name = /^[A-Za-z0-9_.-]{1,64}$/.test(key) ? key : quoteShort(key, 40);
      out += `${out === '' || out.endsWith('›') ? (out === '' ? '' : ' ') : '.'}${name}`;
    }
    v = child;
  }
  return out.replace(/ ›$/, '');
}

function toFileProblem(loaded: LoadedYaml, p: Problem): FileProblem {
  const node = loaded.doc ? locate(loaded.doc, p.path, p.atKey ?? false) : undefined;
  const pos = node?.range && loaded.lines ? loaded.lines.linePos(node.range[0]) : { line: 1, col: 1 };
  return {
    file: loaded.file,
    line: pos.line,
    column: pos.col,
    field: fieldName(loaded.value, p.path),
    message: p.message,
  };
}

export interface Inputs {
  catalog: Catalog;
  directory: Directory;
  calendar: WorkingCalendar;
  trackers: TrackerDefinition[];
  files: { catalog: string; directory: string; calendar?: string; rosters?: string; events?: string };
  /** Event-relative obligations: the events and their dates. */
  events?: EventEntry[];
}

/**
 * Loads and validates the three inputs. Throws InvalidInputError listing every problem, so a catalog with one
 * error registers nothing.
 */
export function loadInputs(files: {
  catalog?: string;
  directory?: string;
  calendar?: string;
  rosters?: string;
  events?: string;
  /**
   * Check that every channel has its secret, looked up here (config/channels.ts: the process's environment for
   * `validate` and `register`); absent, secrets are not checked.
   */
  env?: NodeJS.ProcessEnv;
}): Inputs {
  const catalogFile = files.catalog ?? DEFAULT_CATALOG;
  const directoryFile = files.directory ?? DEFAULT_DIRECTORY;
  const catalog = readYaml(catalogFile);
  const directory = readYaml(directoryFile);
  catalog.file = display(catalogFile);
  directory.file = display(directoryFile);
  const problems: FileProblem[] = [...directory.problems, ...catalog.problems];
  let arrangements: HolidayArrangement[] = [];
  if (files.calendar) {
    const cal = loadCalendarFile(files.calendar);
    problems.push(...cal.problems);
    arrangements = cal.arrangements;
  }
  const result = validateDocuments(catalog.value, directory.value);
  const byDocument: Record<DocumentKind, LoadedYaml> = { catalog, directory };
  problems.push(...result.problems.map((p) => toFileProblem(byDocument[p.document], p)));
  // A channel without its secret would fail at its first notice: `validate` and `register` refuse it here, before
  // anything is registered; reading commands (plan, ics, simulate, report) need no secret.
  if (files.env && result.directory && result.directory.channels.length > 0) {
    let secrets: ReturnType<typeof loadChannelSecrets> | undefined;
    try {
      secrets = loadChannelSecrets(files.env);
    } catch (err) {
      problems.push({ file: directory.file, line: 1, column: 1, field: 'channels', message: (err as Error).message });
    }
    result.directory.channels.forEach((c, i) => {
      const missing = secrets && missingSecret(c, secrets(c.name));
      if (missing)
        problems.push(
          toFileProblem(directory, { document: 'directory', path: ['channels', i, 'name'], message: missing }),
        );
    });
  }
  let rosters: RosterEntry[] | undefined;
  let rostersRead = true;
  const rostersFile =
    files.rosters ?? (files.catalog === undefined && files.directory === undefined ? DEFAULT_ROSTERS : undefined);
  if (rostersFile) {
    const loaded = loadRostersFile(rostersFile);
    problems.push(...loaded.problems);
    rosters = loaded.entries;
    rostersRead = loaded.problems.length === 0;
  }
  // Coverage is checked against a rosters file read without problems: a broken file is reported once, as such.
  if (result.catalog && result.directory && rostersRead) {
    const found = rosterProblems(result.catalog, result.directory, rosters);
    problems.push(...found.catalog.map((p) => toFileProblem(catalog, p)));
    const rosterFile = display(rostersFile ?? '');
    problems.push(
      ...found.rows.map((r) => ({
        file: rosterFile,
        line: r.line,
        column: 1,
        field: r.column ?? '',
        message: r.message,
      })),
    );
  }
  const builtIn = files.catalog === undefined && files.directory === undefined;
  const eventsFile = files.events ?? (builtIn && existsSync(DEFAULT_EVENTS) ? DEFAULT_EVENTS : undefined);
  let events: EventEntry[] | undefined;
  let eventsRead = true;
  if (eventsFile) {
    const loaded = loadEventsFile(eventsFile);
    problems.push(...loaded.problems);
    events = loaded.events;
    eventsRead = loaded.problems.length === 0;
  }
  // Events are looked up in a file read without problems: a broken file is reported once, as such.
  if (result.catalog && eventsRead) {
    for (const { index, event } of eventObligations(result.catalog)) {
      const path = ['obligations', index, 'due', 'event'];
      if (!events)
        problems.push(
          toFileProblem(catalog, {
            document: 'catalog',
            path,
            message: `事件${event}须有事件文件（用 --events events.yaml 给出；见 docs/catalog.md，“Event-relative deadlines”）`,
          }),
        );
      else if (!events.some((e) => e.id === event)) {
        problems.push(
          toFileProblem(catalog, {
            document: 'catalog',
            path,
            message: `未知的事件“${event}”：请在 ${display(eventsFile!)} 中声明（日期未定时可以不填）`,
          }),
        );
      }
    }
  }
  if (problems.length > 0 || !result.catalog || !result.directory) throw new InvalidInputError(sortProblems(problems));
  const trackers = resolveTrackers(result.catalog, result.directory, rosters, events);
  // Every definition must fit what Temporal carries, checked here so that validate refuses what register cannot start.
  const heavy = definitionProblems(trackers, result.catalog);
  if (heavy.length > 0) throw new InvalidInputError(sortProblems(heavy.map((p) => toFileProblem(catalog, p))));
  return {
    catalog: result.catalog,
    directory: result.directory,
    calendar: new WorkingCalendar(arrangements),
    trackers,
    ...(events ? { events } : {}),
    files: {
      catalog: catalogFile,
      directory: directoryFile,
      calendar: files.calendar,
      ...(rostersFile ? { rosters: rostersFile } : {}),
      ...(eventsFile ? { events: eventsFile } : {}),
    },
  };
}

/**
 * Throws InvalidInputError unless every tracker definition can be started (each under DEFINITION_MAX_BYTES).
 * `register` calls it before it connects to Temporal, so a run that would fail on one definition starts none.
 * loadInputs already checks the same; this guards definitions that were changed or built after loading.
 */
export function assertRegistrable(inputs: Pick<Inputs, 'trackers' | 'catalog' | 'files'>): void {
  const problems = definitionProblems(inputs.trackers, inputs.catalog);
  if (problems.length === 0) return;
  const loaded = readYaml(inputs.files.catalog);
  loaded.file = display(inputs.files.catalog);
  throw new InvalidInputError(sortProblems(problems.map((p) => toFileProblem(loaded, p))));
}

/**
 * A rosters file (per-person quotas, docs/catalog.md): CSV with the columns unit, roster, person and name. Its
 * problems carry its lines and the column's name as the field.
 */
export function loadRostersFile(file: string): { entries: RosterEntry[]; problems: FileProblem[] } {
  const shown = display(file);
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    const reason =
      (err as NodeJS.ErrnoException).code === 'ENOENT' ? '文件不存在' : `无法读取：${(err as Error).message}`;
    return { entries: [], problems: [{ file: shown, line: 1, column: 1, field: '', message: reason }] };
  }
  // A spreadsheet saved as .xlsx, or any binary file, is named as such rather than echoed.
  if (bytes.includes(0) || bytes.subarray(0, 2).toString('latin1') === 'PK') {
    return {
      entries: [],
      problems: [
        {
          file: shown,
          line: 1,
          column: 1,
          field: '',
          message: '不是 CSV 文本文件（是 .xlsx 工作簿吗？请另存为“CSV UTF-8”）',
        },
      ],
    };
  }
  const parsed = parseRosterCsv(bytes.toString('utf8'));
  return {
    entries: parsed.entries,
    problems: parsed.problems.map((p) => ({
      file: shown,
      line: p.line,
      column: 1,
      field: p.column ?? '',
      message: p.message,
    })),
  };
}

/**
 * An events file (event-relative deadlines, docs/catalog.md): `events:` a list of `{ id, date, note }`, the date
 * left out (or null) while it is not known.
 */
export function loadEventsFile(file: string): { events: EventEntry[]; problems: FileProblem[] } {
  const loaded = readYaml(file);
  loaded.file = display(file);
  if (loaded.problems.length) return { events: [], problems: loaded.problems };
  const problems: FileProblem[] = [];
  const add = (path: Path, message: string, atKey = false) =>
    problems.push(toFileProblem(loaded, { document: 'catalog', path, message, atKey }));
  const root = loaded.value as { events?: unknown } | null;
  if (root === null || typeof root !== 'object' || Array.isArray(root))
    return {
      events: [],
      problems: [toFileProblem(loaded, { document: 'catalog', path: [], message: '须为含列表“events:”的映射' })],
    };
  for (const key of Object.keys(root)) if (key !== 'events') add([key], `未知的键“${key}”（拼写错误？）`, true);
  if (!Array.isArray(root.events)) {
    add(['events'], '须为事件列表，如 - { id: pc-session-2027-06, date: 2027-06-20 }');
    return { events: [], problems };
  }
  const events: EventEntry[] = [];
  const seen = new Map<string, number>();
  root.events.forEach((raw: unknown, i: number) => {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
      return add(['events', i], '须为含 id、date 和 note 的映射');
    const e = raw as Record<string, unknown>;
    for (const key of Object.keys(e))
      if (!['id', 'date', 'note'].includes(key)) add(['events', i, key], `未知的键“${key}”（拼写错误？）`, true);
    if (typeof e.id !== 'string' || !ID_PATTERN.test(e.id))
      return add(['events', i, 'id'], '须为由英文字母、数字和“.”“_”“-”组成的编号，如 pc-session-2027-06');
    const first = seen.get(e.id);
    if (first !== undefined) return add(['events', i, 'id'], `事件编号“${e.id}”重复（另见 events[${first}]）`);
    seen.set(e.id, i);
    const date = e.date instanceof Date ? e.date.toISOString().slice(0, 10) : e.date;
    if (
      date !== undefined &&
      date !== null &&
      (typeof date !== 'string' || parseDate(date) === undefined || Number(date.slice(0, 4)) > 2200)
    ) {
      return add(['events', i, 'date'], `${JSON.stringify(date)}不是 2027-06-20 这样的日期（日期未定时不填）`);
    }
    if (e.note !== undefined && (typeof e.note !== 'string' || e.note.length > 500))
      return add(['events', i, 'note'], '须为不超过500个字符的文本');
    events.push({
      id: e.id,
      ...(typeof date === 'string' ? { date } : {}),
      ...(typeof e.note === 'string' ? { note: e.note } : {}),
    });
  });
  return { events, problems };
}

/**
 * The events file's text with one event's date set (or cleared, `date` null), comments and order kept; an event
 * not in the file is added at the end. Used by `duban event set` and `duban event clear`.
 */
export function setEventDate(text: string, id: string, date: string | null, note?: string): string {
  if (!ID_PATTERN.test(id))
    throw new Error(`“${id}”不是有效的事件编号：只能用英文字母、数字和“.”“_”“-”，如 pc-session-2027-06`);
  if (date !== null && parseDate(date) === undefined)
    throw new Error(`“${date}”不是日期：请写作 YYYY-MM-DD，如 2027-06-20`);
  if (text.trim() === '') {
    if (date === null) throw new Error(`事件文件中没有事件${id}；无需清除`);
    return `events:\n  - id: ${id}\n    date: "${date}"\n${note !== undefined ? `    note: ${JSON.stringify(note)}\n` : ''}`;
  }
  const doc = parseDocument(text);
  if (doc.errors.length) throw new Error(`事件文件不是有效的 YAML：${doc.errors[0]!.message.split('\n')[0]}`);
  const events = doc.get('events');
  if (!isSeq(events)) throw new Error('事件文件中没有列表“events:”');
  const entry = events.items.find((item) => isMap(item) && item.get('id') === id);
  if (isMap(entry)) {
    if (date === null) entry.delete('date');
    else entry.set('date', doc.createNode(date));
    if (note !== undefined) entry.set('note', note);
  } else {
    if (date === null) throw new Error(`事件文件中没有事件${id}；无需清除`);
    events.add(doc.createNode({ id, date, ...(note !== undefined ? { note } : {}) }));
  }
  return doc.toString();
}

/** Loads and validates a directory on its own (for reports that only need unit names). */
export function loadDirectory(file: string = DEFAULT_DIRECTORY): Directory {
  const loaded = readYaml(file);
  loaded.file = display(file);
  const result = validateDocuments(undefined, loaded.value);
  const problems = [...loaded.problems, ...result.problems.map((p) => toFileProblem(loaded, p))];
  if (problems.length > 0 || !result.directory) throw new InvalidInputError(sortProblems(problems));
  return result.directory;
}

function sortProblems(problems: FileProblem[]): FileProblem[] {
  return [...problems].sort((a, b) =>
    a.file === b.file ? a.line - b.line || a.column - b.column : a.file < b.file ? -1 : 1,
  );
}

const isoDay = z.string().refine((s) => parseDate(s) !== undefined, { message: '不是“2027-02-06”这样的日期' });
const calendarLine = z
  .string()
  .trim()
  .min(1, { message: '不能为空' })
  .max(LIMITS.line, { message: `过长：最多${LIMITS.line}个字符` })
  .refine((s) => !/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(s), {
    message: '须为一行，不能含换行或控制字符',
  });
const calendarFileSchema = z.strictObject({
  years: z.record(
    z.string().regex(/^\d{4}$/, { message: '不是年份：年份写作“2027”' }),
    z.strictObject({
      source: calendarLine,
      published: isoDay.optional(),
      holidays: z
        .array(z.strictObject({ name: calendarLine, from: isoDay, to: isoDay }))
        .max(50, { message: '假期区间超过50个' }),
      workdays: z.array(isoDay).max(50, { message: '调休上班日超过50个' }).default([]),
    }),
  ),
});

/** The longest holiday range a notice arranges is 8 or 9 days; a longer one is a typo in a date. */
const MAX_HOLIDAY_DAYS = 31;
/** Working-day arithmetic looks at most this far for a working day (domain/calendar); a longer gap is broken data. */
const MAX_DAYS_OFF = 45;

/**
 * An administrator's calendar file adds years or replaces shipped ones, e.g. when the State Council publishes
 * next year's notice before duban ships it (docs/calendar.md). A year's notice may arrange days of the
 * neighbouring years: 元旦 2023 began on 31 December 2022, and the 2019 notice made 29 December 2018 a working day.
 */
export function loadCalendarFile(file: string): { arrangements: HolidayArrangement[]; problems: FileProblem[] } {
  const loaded = readYaml(file);
  loaded.file = display(file);
  if (loaded.problems.length) return { arrangements: [], problems: loaded.problems };
  const parsed = calendarFileSchema.safeParse(loaded.value);
  if (!parsed.success) {
    const problems = zodProblems('catalog', loaded.value, parsed.error).map((p) => toFileProblem(loaded, p));
    return { arrangements: [], problems };
  }
  const problems: FileProblem[] = [];
  const add = (path: Path, message: string) =>
    problems.push(toFileProblem(loaded, { document: 'catalog', path, message }));
  const arrangements: HolidayArrangement[] = [];
  for (const [yearText, y] of Object.entries(parsed.data.years)) {
    const year = Number(yearText);
    const at: Path = ['years', yearText];
    if (year < BOUNDS.firstYear || year > BOUNDS.lastYear) {
      add(at, `${year}超出 duban 可排期的年份（${BOUNDS.firstYear}-${BOUNDS.lastYear}）`);
      continue;
    }
    const near = (d: string) => Math.abs(Number(d.slice(0, 4)) - year) <= 1;
    const nearWords = `${year}年或相邻年份（${year - 1}、${year + 1}）`;
    y.holidays.forEach((h, i) => {
      const from = parseDate(h.from)!;
      const to = parseDate(h.to)!;
      if (!near(h.from)) add([...at, 'holidays', i, 'from'], `${h.from}不在${nearWords}内`);
      else if (!near(h.to)) add([...at, 'holidays', i, 'to'], `${h.to}不在${nearWords}内`);
      else if (to < from) add([...at, 'holidays', i, 'to'], `结束早于开始（${h.from}）`);
      else if (to - from + 1 > MAX_HOLIDAY_DAYS)
        add([...at, 'holidays', i, 'to'], `一个区间放假${to - from + 1}天：假期区间最多${MAX_HOLIDAY_DAYS}天`);
    });
    y.workdays.forEach((w, i) => {
      if (!near(w)) add([...at, 'workdays', i], `${w}不在${nearWords}内`);
    });
    arrangements.push({ year, source: y.source, published: y.published, holidays: y.holidays, workdays: y.workdays });
  }
  if (problems.length === 0 && arrangements.length > 0) {
    // Ranges that chain into weeks without a working day would leave the planner unable to count working days.
    const calendar = new WorkingCalendar(arrangements);
    for (const n of arrangements) {
      let run = 0;
      for (let d = dayNumber(n.year - 1, 1, 1); d <= dayNumber(n.year + 1, 12, 31); d++) {
        run = calendar.isWorkingDay(d) ? 0 : run + 1;
        if (run > MAX_DAYS_OFF) {
          add(
            ['years', String(n.year), 'holidays'],
            `连续超过${MAX_DAYS_OFF}天没有工作日（至${formatDate(d)}）：请检查假期区间`,
          );
          break;
        }
      }
    }
  }
  return { arrangements, problems };
}

/**
 * The deepest nesting of collections in a YAML text, estimated in one pass over the characters without parsing,
 * so that a hostile file (ten million "[" or "- - - -") is refused before the parser spends minutes and
 * gigabytes on it. It follows block indentation, "- " and "? " entries and flow brackets, and skips quoted
 * scalars, comments and block scalars. Unusual layouts may be overestimated by a level or two, never
 * underestimated by much. Returns the offset where the depth first exceeds `max`, or undefined.
 */
export function nestingBeyond(text: string, max: number): number | undefined {
  const n = text.length;
  const stack: number[] = []; // columns of the open block collections
  let flow = 0;
  let scalarParent = -1; // inside a block scalar (| or >) whose header line was indented this much
  let i = 0;
  let lineIndent = 0;
  let prev = ''; // the last non-blank character seen on this line, '' at its start
  const isBlank = (c: string | undefined) => c === ' ' || c === '\t' || c === '\r' || c === '\n' || c === undefined;
  /** A quoted scalar starts only where a value can start, so an apostrophe in O'Brien is text. */
  const valueStart = () =>
    prev === '' || prev === ':' || prev === '-' || prev === '?' || prev === '[' || prev === '{' || prev === ',';
  const skipQuoted = (start: number): number => {
    const q = text[start];
    for (let j = start + 1; j < n; j++) {
      const c = text[j];
      if (q === '"' && c === '\\') j++;
      else if (c === q) {
        if (q === "'" && text[j + 1] === "'") j++;
        else return j + 1;
      }
    }
    return n;
  };
  while (i < n) {
    if (prev === '' && flow === 0) {
      // The start of a line in block context: indentation decides which block collections are still open.
      let col = 0;
      while (i < n && text[i] === ' ') {
        i++;
        col++;
      }
      lineIndent = col;
      const c = text[i];
      if (c === '\n' || c === '\r' || c === '#' || i >= n) {
        const end = text.indexOf('\n', i);
        i = end < 0 ? n : end + 1;
        continue;
      }
      if (scalarParent >= 0) {
        if (col > scalarParent) {
          const end = text.indexOf('\n', i);
          i = end < 0 ? n : end + 1;
          continue;
        }
        scalarParent = -1;
      }
      if (col === 0 && (text.startsWith('---', i) || text.startsWith('...', i))) stack.length = 0;
      while (stack.length > 0 && stack[stack.length - 1]! > col) stack.pop();
      const open = (column: number) => {
        if (stack.length === 0 || stack[stack.length - 1]! < column) stack.push(column);
        return stack.length + flow > max;
      };
      if (open(col)) return i;
      // "- - - x": every entry indicator on the line opens one more level.
      while ((text[i] === '-' || text[i] === '?') && isBlank(text[i + 1]) && text[i + 1] !== undefined) {
        i++;
        col++;
        while (text[i] === ' ') {
          i++;
          col++;
        }
        if (i < n && text[i] !== '\n' && text[i] !== '#' && open(col)) return i;
        prev = '-';
      }
      if (prev === '') prev = '-'; // the first token of the line is at a value start
      continue;
    }
    const c = text[i]!;
    if (c === '\n') {
      i++;
      if (flow === 0) prev = '';
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    if (c === '#' && isBlank(text[i - 1])) {
      const end = text.indexOf('\n', i);
      i = end < 0 ? n : end;
      continue;
    }
    if ((c === '"' || c === "'") && valueStart()) {
      i = skipQuoted(i);
      prev = c;
      continue;
    }
    if (c === '[' || c === '{') {
      if (flow > 0 || valueStart()) {
        flow++;
        if (stack.length + flow > max) return i;
      }
    } else if ((c === ']' || c === '}') && flow > 0) {
      flow--;
    } else if ((c === '|' || c === '>') && flow === 0 && valueStart()) {
      scalarParent = lineIndent;
      const end = text.indexOf('\n', i);
      i = end < 0 ? n : end;
      continue;
    }
    prev = c;
    i++;
  }
  return undefined;
}
