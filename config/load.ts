/**
 * Reading the directory, catalog and calendar files, with every problem reported against file, line and field.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Document, LineCounter, isMap, isPair, isScalar, isSeq, parseDocument, Node as YamlNode } from 'yaml';
import { z } from 'zod';
import { WorkingCalendar } from '../domain/calendar';
import type { HolidayNotice } from '../domain/calendar';
import { parseDate } from '../domain/dates';
import type { Catalog, Directory } from '../domain/model';
import { TrackerDefinition, resolveTrackers } from '../domain/trackers';
import { DocumentKind, Path, Problem, rosterProblems, validateDocuments } from '../domain/validate';
import { RosterEntry, parseRosterCsv } from '../domain/roster';
import { EventEntry, eventObligations } from '../domain/events';
import { ID_PATTERN } from '../domain/model';

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

export class InvalidInputError extends Error {
  constructor(readonly problems: FileProblem[]) {
    super(`${problems.length} problem${problems.length === 1 ? '' : 's'} found:\n${problems.map(formatProblem).join('\n')}`);
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

function readYaml(file: string): LoadedYaml {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (err as Error).message;
    return { file, problems: [{ file, line: 1, column: 1, field: '', message: reason }] };
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const problems = doc.errors.map((e) => {
    const pos = lines.linePos(e.pos[0]);
    return { file, line: pos.line, column: pos.col, field: '', message: `YAML: ${e.message.split('\n')[0]}` };
  });
  return { file, doc, lines, value: problems.length ? undefined : doc.toJS(), problems };
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
      out += `[${key}]${typeof id === 'string' ? ` (${id}) ›` : ''}`;
    } else {
      out += `${out === '' || out.endsWith('›') ? (out === '' ? '' : ' ') : '.'}${key}`;
    }
    v = child;
  }
  return out.replace(/ ›$/, '');
}

function toFileProblem(loaded: LoadedYaml, p: Problem): FileProblem {
  const node = loaded.doc ? locate(loaded.doc, p.path, p.atKey ?? false) : undefined;
  const pos = node?.range && loaded.lines ? loaded.lines.linePos(node.range[0]) : { line: 1, col: 1 };
  return { file: loaded.file, line: pos.line, column: pos.col, field: fieldName(loaded.value, p.path), message: p.message };
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
export function loadInputs(files: { catalog?: string; directory?: string; calendar?: string; rosters?: string; events?: string }): Inputs {
  const catalogFile = files.catalog ?? DEFAULT_CATALOG;
  const directoryFile = files.directory ?? DEFAULT_DIRECTORY;
  const catalog = readYaml(catalogFile);
  const directory = readYaml(directoryFile);
  catalog.file = display(catalogFile);
  directory.file = display(directoryFile);
  const problems: FileProblem[] = [...directory.problems, ...catalog.problems];
  let notices: HolidayNotice[] = [];
  if (files.calendar) {
    const cal = loadCalendarFile(files.calendar);
    problems.push(...cal.problems);
    notices = cal.notices;
  }
  const result = validateDocuments(catalog.value, directory.value);
  const byDocument: Record<DocumentKind, LoadedYaml> = { catalog, directory };
  problems.push(...result.problems.map((p) => toFileProblem(byDocument[p.document], p)));
  let rosters: RosterEntry[] | undefined;
  let rostersRead = true;
  const rostersFile = files.rosters ?? (files.catalog === undefined && files.directory === undefined ? DEFAULT_ROSTERS : undefined);
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
    problems.push(...found.rows.map((r) => ({ file: rosterFile, line: r.line, column: 1, field: r.column ?? '', message: r.message })));
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
      if (!events) problems.push(toFileProblem(catalog, { document: 'catalog', path, message: `event ${event} needs an events file (give --events events.yaml; docs/catalog.md, "Event-relative deadlines")` }));
      else if (!events.some((e) => e.id === event)) {
        problems.push(toFileProblem(catalog, { document: 'catalog', path, message: `unknown event "${event}": declare it in ${display(eventsFile!)} (its date may stay empty until known)` }));
      }
    }
  }
  if (problems.length > 0 || !result.catalog || !result.directory) throw new InvalidInputError(sortProblems(problems));
  return {
    catalog: result.catalog,
    directory: result.directory,
    calendar: new WorkingCalendar(notices),
    trackers: resolveTrackers(result.catalog, result.directory, rosters, events),
    ...(events ? { events } : {}),
    files: { catalog: catalogFile, directory: directoryFile, calendar: files.calendar, ...(rostersFile ? { rosters: rostersFile } : {}), ...(eventsFile ? { events: eventsFile } : {}) },
  };
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
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (err as Error).message;
    return { entries: [], problems: [{ file: shown, line: 1, column: 1, field: '', message: reason }] };
  }
  // A spreadsheet saved as .xlsx, or any binary file, is named as such rather than echoed.
  if (bytes.includes(0) || bytes.subarray(0, 2).toString('latin1') === 'PK') {
    return { entries: [], problems: [{ file: shown, line: 1, column: 1, field: '', message: 'is not a CSV text file (an .xlsx workbook? save it as CSV UTF-8)' }] };
  }
  const parsed = parseRosterCsv(bytes.toString('utf8'));
  return { entries: parsed.entries, problems: parsed.problems.map((p) => ({ file: shown, line: p.line, column: 1, field: p.column ?? '', message: p.message })) };
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
  const add = (path: Path, message: string, atKey = false) => problems.push(toFileProblem(loaded, { document: 'catalog', path, message, atKey }));
  const root = loaded.value as { events?: unknown } | null;
  if (root === null || typeof root !== 'object' || Array.isArray(root)) return { events: [], problems: [toFileProblem(loaded, { document: 'catalog', path: [], message: 'must be a mapping with a list "events:"' })] };
  for (const key of Object.keys(root)) if (key !== 'events') add([key], `unknown key "${key}" (a typo?)`, true);
  if (!Array.isArray(root.events)) {
    add(['events'], 'must be a list of events, e.g. - { id: pc-session-2027-06, date: 2027-06-20 }');
    return { events: [], problems };
  }
  const events: EventEntry[] = [];
  const seen = new Map<string, number>();
  root.events.forEach((raw: unknown, i: number) => {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return add(['events', i], 'must be a mapping with id, date and note');
    const e = raw as Record<string, unknown>;
    for (const key of Object.keys(e)) if (!['id', 'date', 'note'].includes(key)) add(['events', i, key], `unknown key "${key}" (a typo?)`, true);
    if (typeof e.id !== 'string' || !ID_PATTERN.test(e.id)) return add(['events', i, 'id'], 'must be an id of letters, digits, ".", "_" and "-", e.g. pc-session-2027-06');
    const first = seen.get(e.id);
    if (first !== undefined) return add(['events', i, 'id'], `duplicate event id "${e.id}" (also events[${first}])`);
    seen.set(e.id, i);
    const date = e.date instanceof Date ? e.date.toISOString().slice(0, 10) : e.date;
    if (date !== undefined && date !== null && (typeof date !== 'string' || parseDate(date) === undefined || Number(date.slice(0, 4)) > 2200)) {
      return add(['events', i, 'date'], `${JSON.stringify(date)} is not a date such as 2027-06-20 (leave it out while the date is not known)`);
    }
    if (e.note !== undefined && (typeof e.note !== 'string' || e.note.length > 500)) return add(['events', i, 'note'], 'must be text of at most 500 characters');
    events.push({ id: e.id, ...(typeof date === 'string' ? { date } : {}), ...(typeof e.note === 'string' ? { note: e.note } : {}) });
  });
  return { events, problems };
}

/**
 * The events file's text with one event's date set (or cleared, `date` null), comments and order kept; an event
 * not in the file is added at the end. Used by `duban event set` and `duban event clear`.
 */
export function setEventDate(text: string, id: string, date: string | null, note?: string): string {
  if (!ID_PATTERN.test(id)) throw new Error(`"${id}" is not an event id: letters, digits, ".", "_" and "-", e.g. pc-session-2027-06`);
  if (date !== null && parseDate(date) === undefined) throw new Error(`"${date}" is not a date: write YYYY-MM-DD, e.g. 2027-06-20`);
  if (text.trim() === '') {
    if (date === null) throw new Error(`event ${id} is not in the events file; nothing to clear`);
    return `events:\n  - id: ${id}\n    date: "${date}"\n${note !== undefined ? `    note: ${JSON.stringify(note)}\n` : ''}`;
  }
  const doc = parseDocument(text);
  if (doc.errors.length) throw new Error(`the events file is not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
  const events = doc.get('events');
  if (!isSeq(events)) throw new Error('the events file has no list "events:"');
  const entry = events.items.find((item) => isMap(item) && item.get('id') === id);
  if (isMap(entry)) {
    if (date === null) entry.delete('date');
    else entry.set('date', doc.createNode(date));
    if (note !== undefined) entry.set('note', note);
  } else {
    if (date === null) throw new Error(`event ${id} is not in the events file; nothing to clear`);
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
  return [...problems].sort((a, b) => (a.file === b.file ? a.line - b.line || a.column - b.column : a.file < b.file ? -1 : 1));
}

const isoDay = z.string().refine((s) => parseDate(s) !== undefined, { message: 'is not a date such as "2027-02-06"' });
const calendarFileSchema = z.strictObject({
  years: z.record(
    z.string().regex(/^\d{4}$/, { message: 'years are written as 2027' }),
    z.strictObject({
      source: z.string().min(1),
      published: isoDay.optional(),
      holidays: z.array(z.strictObject({ name: z.string().min(1), from: isoDay, to: isoDay })),
      workdays: z.array(isoDay).default([]),
    }),
  ),
});

/**
 * An administrator's calendar file adds years or replaces shipped ones, e.g. when the State Council publishes
 * next year's notice before duban ships it (docs/calendar.md).
 */
export function loadCalendarFile(file: string): { notices: HolidayNotice[]; problems: FileProblem[] } {
  const loaded = readYaml(file);
  loaded.file = display(file);
  if (loaded.problems.length) return { notices: [], problems: loaded.problems };
  const parsed = calendarFileSchema.safeParse(loaded.value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => {
      const p = i.path.filter((k): k is string | number => typeof k !== 'symbol');
      const message = i.code === 'unrecognized_keys' ? `unknown key${i.keys.length > 1 ? 's' : ''} ${i.keys.join(', ')}` : i.message;
      return toFileProblem(loaded, { document: 'catalog', path: p, message });
    });
    return { notices: [], problems };
  }
  const problems: FileProblem[] = [];
  const notices = Object.entries(parsed.data.years).map(([yearText, y]) => {
    const year = Number(yearText);
    const outside = (d: string) => Number(d.slice(0, 4)) !== year;
    y.holidays.forEach((h, i) => {
      if (h.to < h.from) problems.push(toFileProblem(loaded, { document: 'catalog', path: ['years', yearText, 'holidays', i, 'to'], message: `ends before it starts (${h.from})` }));
    });
    y.workdays.forEach((w, i) => {
      if (outside(w)) problems.push(toFileProblem(loaded, { document: 'catalog', path: ['years', yearText, 'workdays', i], message: `${w} is not in ${year}` }));
    });
    return { year, source: y.source, published: y.published, holidays: y.holidays, workdays: y.workdays };
  });
  return { notices, problems };
}
