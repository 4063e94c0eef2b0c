/**
 * The commands that act on the running service: register, the actions on a tracker, the board, a tracker's
 * timeline and the yearly report. Connection settings are the worker's (docs/engine.md).
 */
import { Command, Option } from 'commander';
import { InputError } from './errors';
import { userInfo } from 'node:os';
import { assertRegistrable, loadDirectory, loadEventsFile, loadInputs, setEventDate } from '../config/load';
import { ledgerOptions, loadSettings } from '../config/settings';
import { describeLedger, openLedger } from '../ledger';
import { formatDate, parseDate } from '../domain/dates';
import { localDay } from '../domain/zone';
import { RATINGS } from '../domain/tracking';
import type { Requests, TrackerStatus } from '../workflows/messages';
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { buildReport, renderReport, writeWorkbook } from './report';
import { Action, Duban, RegisterSummary, RunningTracker, UnreachableError } from './temporal';

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  /** True when stderr is a terminal: progress bars are drawn only there. */
  tty: boolean;
}

export { InputError };

async function withDuban<T>(fn: (d: Duban) => Promise<T>): Promise<T> {
  const duban = await Duban.connect(loadSettings());
  try {
    return await fn(duban);
  } finally {
    await duban.close();
  }
}

const defaultActor = () => process.env.DUBAN_USER ?? userInfo().username;

/** An option that must be a date: checked before anything connects, so a typo never reads as an outage. */
function dateOption(value: string | boolean | undefined, option: string): string | undefined {
  if (value === undefined) return undefined;
  const text = String(value);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text) || parseDate(text) === undefined) throw new InputError(`${option} "${text}" is not a date: write YYYY-MM-DD, e.g. 2027-03-31`);
  return text;
}

/** Evidence links are web addresses a supervisor can open: http or https only. */
function linkOption(value: string | boolean | undefined): string | undefined {
  if (value === undefined) return undefined;
  const text = String(value);
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) throw new InputError(`--link "${text}" is not an http or https address, e.g. https://example.org/report`);
  return text;
}

/** The directory and catalog as registered, kept in the ledger for the web service's roles (docs/web.md). */
export async function saveSnapshot(d: Duban, inputs: { directory: unknown; catalog: unknown }, by: string): Promise<void> {
  const ledger = await d.openLedger();
  await ledger.saveDirectorySnapshot({ directory: inputs.directory, catalog: inputs.catalog, by }).finally(() => ledger.close());
}

function trackerIdOf(obligation: string, unit: string): string {
  return `${obligation}/${unit}`;
}

/** One line per open period, oldest first (overdue periods stay open until done, waived or their ladder ends). */
export function statusLines(s: TrackerStatus): string[] {
  const head = `${s.trackerId}  ${s.colour}${s.paused ? ', paused' : ''}${s.problem ? `  cannot plan: ${s.problem}` : ''}${s.waitingFor ? `  waiting for event ${s.waitingFor} to have a date` : ''}`;
  const lines = [head];
  for (const p of s.periods) {
    const figures = p.report
      ? `, reported ${p.report.numerator !== undefined ? `${p.report.numerator}/${p.report.denominator} = ${Math.round(p.report.value * 10) / 10}%` : p.report.count} (${p.report.meets ? 'meets' : 'below'} ${s.threshold}${s.completion === 'rate' ? '%' : ''})`
      : s.completion === 'rate' || s.completion === 'count'
        ? `, no figures yet (threshold ${s.threshold}${s.completion === 'rate' ? '%' : ''})`
        : '';
    const people = p.people ? `, ${p.people.reached}/${p.people.total} reached ${s.quota}${p.people.short.length ? ` (short: ${p.people.short.map((x) => `${x.name} ${x.short}`).join(', ')})` : ''}` : '';
    const progress = s.completion === 'quota' ? `, ${p.recorded}/${s.quota} recorded` : p.submitted ? ', submitted' : figures || people;
    const ext = p.pendingExtension ? `, extension to ${p.pendingExtension.newDue} pending` : '';
    const due = p.due === p.originalDue ? p.due : `${p.due} (extended from ${p.originalDue})`;
    const ack = p.acknowledged ? `, acknowledged by ${p.acknowledged.by}` : '';
    const notes = p.progressCount ? `, ${p.progressCount} progress note${p.progressCount > 1 ? 's' : ''}` : '';
    lines.push(`  period ${p.period}  due ${due}  ${p.colour}${progress}${ext}${ack}${notes}`);
  }
  return lines;
}

function printStatus(io: Io, s: TrackerStatus, json: boolean | undefined) {
  if (json) return io.out(`${JSON.stringify(s)}\n`);
  io.out(`${statusLines(s).join('\n')}\n`);
}

function summaryText(s: RegisterSummary, dryRun: boolean): string {
  const lines = [
    `${dryRun ? 'would start' : 'started'}: ${s.started.length}, ${dryRun ? 'would update' : 'updated'}: ${s.updated.length}, unchanged: ${s.unchanged.length}, retired: ${s.retired.length}`,
  ];
  if (s.updated.length) lines.push(`updated: ${s.updated.join(', ')}`);
  if (s.ended.length) lines.push(`ended for good (retired or settled one-offs), not started again: ${s.ended.join(', ')}`);
  if (s.startedByOther?.length) lines.push(`started by another registration running at the same time (running; not started twice): ${s.startedByOther.join(', ')}`);
  if (s.removed.length && s.retired.length === 0) {
    lines.push(`no longer in the files (still running; retire them with --prune): ${s.removed.join(', ')}`);
  } else if (s.retired.length) {
    lines.push(`retired: ${s.retired.join(', ')}`);
  }
  return `${lines.join('\n')}\n`;
}

function progressBar(io: Io) {
  let last = 0;
  return (done: number, total: number) => {
    if (!io.tty || total < 50) return;
    const now = Date.now();
    if (done !== total && now - last < 100) return;
    last = now;
    const width = 30;
    const filled = Math.round((done / total) * width);
    io.err(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}${done === total ? '\n' : ''}`);
  };
}

const COLOUR_ORDER: Record<string, number> = { broken: -1, red: 0, yellow: 1, green: 2, done: 3, waived: 4 };

/** Days from today (in the zone) to the due date: negative when overdue. */
function daysLeft(due: Date | undefined, now: number, zone: string): number | undefined {
  if (!due) return undefined;
  return localDay(due.getTime(), zone) - localDay(now, zone);
}

export function board(items: RunningTracker[], now: number, zone = 'Asia/Shanghai') {
  const rows = items.map((t) => ({ ...t, daysLeft: daysLeft(t.due, now, zone) }));
  rows.sort(
    (a, b) =>
      (COLOUR_ORDER[a.colour ?? ''] ?? 9) - (COLOUR_ORDER[b.colour ?? ''] ?? 9) ||
      (a.daysLeft ?? 0) - (b.daysLeft ?? 0) ||
      (a.trackerId < b.trackerId ? -1 : 1),
  );
  type Counts = { red: number; yellow: number; green: number; done: number; waived: number };
  const units = new Map<string, Counts>();
  for (const r of rows) {
    const counts = units.get(r.unit ?? '?') ?? { red: 0, yellow: 0, green: 0, done: 0, waived: 0 };
    const colour = (r.colour ?? 'green') as keyof Counts;
    if (colour in counts) counts[colour]++;
    units.set(r.unit ?? '?', counts);
  }
  return { units: [...units.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([unit, counts]) => ({ unit, ...counts })), items: rows };
}

/** The board's first part: counts by colour per unit. */
export function unitCountLines(units: ReturnType<typeof board>['units']): string[] {
  const lines = ['unit          red  yellow  green  done  waived'];
  for (const u of units) lines.push(`${u.unit.padEnd(12)} ${String(u.red).padStart(4)} ${String(u.yellow).padStart(7)} ${String(u.green).padStart(6)} ${String(u.done).padStart(5)} ${String(u.waived).padStart(7)}`);
  return lines;
}

export function addServiceCommands(program: Command, io: Io) {
  const tracker = (c: Command) => c.argument('<obligation>', 'obligation id').argument('<unit>', 'unit id');
  const actor = (c: Command) =>
    c
      .option('--by <name>', 'who acts, recorded in the ledger (default: $DUBAN_USER or the login name)')
      .option('--period <label>', 'the open period the request is for, e.g. 2026 or 2027-Q1 (default: the oldest open one)')
      .option('--json', 'print the tracker status as JSON');

  // The shapes are checked by the tracker itself (its validators), which answers with what to fix.
  const act = <A extends Action>(action: A, build: (opts: Record<string, string | boolean | undefined>) => Record<string, unknown>) =>
    async (obligation: string, unit: string, opts: Record<string, string | boolean | undefined>) => {
      const request = { by: (opts.by as string | undefined) ?? defaultActor(), ...(opts.period ? { period: opts.period as string } : {}), ...build(opts) } as unknown as Requests[A];
      const status = await withDuban((d) => d.act(trackerIdOf(obligation, unit), action, request));
      printStatus(io, status, opts.json as boolean | undefined);
    };

  program
    .command('register')
    .description('Validate, then start or update every tracker of a catalog and directory (idempotent)')
    .argument('[catalog]', 'catalog YAML file (default: the built-in catalog)')
    .argument('[directory]', 'directory YAML file (default: the built-in directory)')
    .option('--calendar <file>', 'calendar file adding or replacing years of holiday data')
    .option('--rosters <file>', 'rosters CSV (unit,roster,person,name) for per-person quotas')
    .option('--events <file>', 'events YAML (id, date) for event-relative obligations')
    .option('--dry-run', 'show what would change, change nothing')
    .option('--prune', 'retire running trackers whose obligation or unit left the files')
    .option('--by <name>', 'who registers, recorded in the ledger')
    .option('--json', 'print the summary as JSON')
    .addHelpText('after', '\nExamples:\n  duban register catalog.yaml directory.yaml --dry-run\n  duban register catalog.yaml directory.yaml --prune --json')
    .action(async (catalog: string | undefined, directory: string | undefined, opts: { calendar?: string; rosters?: string; events?: string; dryRun?: boolean; prune?: boolean; by?: string; json?: boolean }) => {
      if ((catalog === undefined) !== (directory === undefined)) throw new InputError('give both a catalog and a directory, or neither to use the built-in defaults');
      const inputs = loadInputs({ catalog, directory, calendar: opts.calendar, rosters: opts.rosters, events: opts.events });
      // Every definition is checked before connecting: a run that cannot start one starts none.
      assertRegistrable(inputs);
      const summary = await withDuban(async (d) => {
        const result = await d.register(inputs.trackers, { prune: opts.prune, dryRun: opts.dryRun, by: opts.by ?? defaultActor(), onProgress: progressBar(io) });
        // The web service takes its roles from the directory as registered (docs/web.md).
        if (!opts.dryRun) await saveSnapshot(d, inputs, opts.by ?? defaultActor());
        return result;
      });
      io.out(opts.json ? `${JSON.stringify({ dryRun: !!opts.dryRun, ...summary })}\n` : summaryText(summary, !!opts.dryRun));
    });

  // Events (event-relative deadlines): the file is the record of dates; setting one re-registers, so every
  // tracker waiting for the event plans from the new date, and one whose date moved re-plans.
  const event = program.command('event').description('Events of event-relative deadlines (a session date, a publication): set, clear, list');
  const changeEvent = (date: (d: string | undefined) => string | null) =>
    async (id: string, given: string | undefined, catalog: string | undefined, directory: string | undefined, opts: { events: string; note?: string; calendar?: string; rosters?: string; by?: string; json?: boolean }) => {
      if ((catalog === undefined) !== (directory === undefined)) throw new InputError('give both a catalog and a directory, or neither to use the built-in defaults');
      let text: string;
      try {
        text = readFileSync(opts.events, 'utf8');
      } catch {
        text = '';
      }
      let next: string;
      try {
        next = setEventDate(text, id, date(given), opts.note);
      } catch (err) {
        throw new InputError((err as Error).message);
      }
      // Validate everything with the new date before writing anything: a bad file changes nothing.
      const tmp = `${opts.events}.tmp`;
      writeFileSync(tmp, next);
      let inputs: ReturnType<typeof loadInputs>;
      try {
        inputs = loadInputs({ catalog, directory, calendar: opts.calendar, rosters: opts.rosters, events: tmp });
      } finally {
        unlinkSync(tmp);
      }
      writeFileSync(opts.events, next);
      const summary = await withDuban((d) => d.register(inputs.trackers, { by: opts.by ?? defaultActor(), onProgress: progressBar(io) }));
      io.out(opts.json ? `${JSON.stringify(summary)}\n` : `event ${id}: ${date(given) ?? 'no date (trackers wait)'}\n${summaryText(summary, false)}`);
    };
  event
    .command('set')
    .description('Set or move the date of an event, then update the trackers that depend on it')
    .argument('<id>', 'event id, e.g. pc-session-2027-06')
    .argument('<date>', 'YYYY-MM-DD')
    .argument('[catalog]', 'catalog YAML file (default: the built-in catalog)')
    .argument('[directory]', 'directory YAML file (default: the built-in directory)')
    .requiredOption('--events <file>', 'the events YAML file to change')
    .option('--note <text>', 'what the event is')
    .option('--calendar <file>', 'calendar file adding or replacing years of holiday data')
    .option('--rosters <file>', 'rosters CSV for per-person quotas')
    .option('--by <name>', 'who changes it, recorded in the ledger')
    .option('--json', 'print the registration summary as JSON')
    .addHelpText('after', '\nExample:\n  duban event set pc-session-2027-06 2027-06-20 catalog.yaml directory.yaml --events events.yaml')
    .action(changeEvent((d) => dateOption(d, '<date>')!));
  event
    .command('clear')
    .description('Clear the date of an event (cancelled or postponed): its trackers wait without notices')
    .argument('<id>', 'event id')
    .argument('[catalog]', 'catalog YAML file (default: the built-in catalog)')
    .argument('[directory]', 'directory YAML file (default: the built-in directory)')
    .requiredOption('--events <file>', 'the events YAML file to change')
    .option('--calendar <file>', 'calendar file adding or replacing years of holiday data')
    .option('--rosters <file>', 'rosters CSV for per-person quotas')
    .option('--by <name>', 'who changes it, recorded in the ledger')
    .option('--json', 'print the registration summary as JSON')
    .addHelpText('after', '\nExample:\n  duban event clear pc-session-2027-06 catalog.yaml directory.yaml --events events.yaml')
    .action((id: string, catalog: string | undefined, directory: string | undefined, opts: Parameters<ReturnType<typeof changeEvent>>[4]) =>
      changeEvent(() => null)(id, undefined, catalog, directory, opts),
    );
  event
    .command('list')
    .description('List the events of a file and their dates')
    .requiredOption('--events <file>', 'the events YAML file')
    .option('--json', 'print JSON')
    .action((opts: { events: string; json?: boolean }) => {
      const { events, problems } = loadEventsFile(opts.events);
      if (problems.length) throw new InputError(problems.map((p) => `${p.file}:${p.line}:${p.column}: ${p.field ? `${p.field}: ` : ''}${p.message}`).join('\n'));
      io.out(opts.json ? `${JSON.stringify(events)}\n` : events.map((e) => `${e.id}  ${e.date ?? '(no date: trackers wait)'}${e.note ? `  ${e.note}` : ''}`).join('\n') + '\n');
    });

  actor(tracker(program.command('submit')))
    .description('Record a submission (报送) with its evidence; stops the ladder')
    .option('--text <note>', 'what was done')
    .option('--link <url>', 'where the evidence is (http or https)')
    .option('--doc <number>', 'document number (文号)')
    .addHelpText('after', '\nExample:\n  duban submit annual-report-dept sfj --doc "X司发〔2027〕3号" --link https://example.org/report --by 黄丽娟')
    .action(act('submit', (o) => ({ evidence: { text: o.text, link: linkOption(o.link), documentNumber: o.doc } })));

  actor(tracker(program.command('record')))
    .description('Record one event of a quota obligation (a lecture, a study session, a case-file review)')
    .requiredOption('--date <YYYY-MM-DD>', 'the day it took place')
    .requiredOption('--topic <text>', 'its topic')
    .option('--person <id>', 'per-person quotas: the person (their id in the rosters file)')
    .option('--hours <n>', 'per-person quotas counted in hours: the hours of this record')
    .addHelpText('after', '\nExamples:\n  duban record yibashou-jiangfa sfj --date 2027-03-18 --topic 行政处罚法专题\n  duban record officer-training scjgj --person 15010001 --hours 8 --date 2027-03-18 --topic 行政处罚法培训')
    .action(
      act('record', (o) => {
        const hours = o.hours === undefined ? undefined : Number(o.hours);
        if (hours !== undefined && !Number.isFinite(hours)) throw new InputError(`--hours "${String(o.hours)}" is not a number, e.g. 8 or 3.5`);
        return { date: dateOption(o.date, '--date'), topic: o.topic, ...(o.person !== undefined ? { person: String(o.person) } : {}), ...(hours !== undefined ? { hours } : {}) };
      }),
    );

  const wholeOption = (value: string | boolean | undefined, option: string): number | undefined => {
    if (value === undefined) return undefined;
    if (!/^\d+$/.test(String(value))) throw new InputError(`${option} "${String(value)}" is not a whole number, e.g. 18`);
    return Number(value);
  };
  actor(tracker(program.command('figures')))
    .description('Report the figures of a rate or count obligation for the period (出庭应诉率, 办案人员数); a later report replaces it')
    .option('--numerator <n>', 'rate: the cases that count (e.g. hearings a head attended)')
    .option('--denominator <n>', 'rate: all cases of the period')
    .option('--count <n>', 'count: the figure (e.g. case handlers)')
    .option('--note <text>', 'how the figures were obtained')
    .option('--link <url>', 'where the evidence is (http or https)')
    .addHelpText('after', '\nExamples:\n  duban figures court-appearance-rate county-a --numerator 18 --denominator 20\n  duban figures reconsideration-handlers county-a --count 3')
    .action(
      act('report', (o) => ({
        numerator: wholeOption(o.numerator, '--numerator'),
        denominator: wholeOption(o.denominator, '--denominator'),
        count: wholeOption(o.count, '--count'),
        note: o.note,
        ...(o.link ? { evidence: { link: linkOption(o.link) } } : {}),
      })),
    );

  actor(tracker(program.command('ack')))
    .description('Acknowledge a task (签收): the unit confirms it received it; reminders continue')
    .addHelpText('after', '\nExample:\n  duban ack annual-report-dept sfj --by 黄丽娟')
    .action(act('acknowledge', () => ({})));

  actor(tracker(program.command('progress')))
    .description('Report interim progress (反馈进展): a dated note, with optional evidence; reminders continue')
    .requiredOption('--note <text>', 'what has been done so far')
    .option('--link <url>', 'where the evidence is (http or https)')
    .option('--doc <number>', 'document number (文号)')
    .addHelpText('after', '\nExample:\n  duban progress annual-report-dept sfj --note 初稿已完成，正在征求意见 --by 黄丽娟')
    .action(act('progress', (o) => ({ note: o.note as string, ...(o.link || o.doc ? { evidence: { link: o.link as string | undefined, documentNumber: o.doc as string | undefined } } : {}) })));

  actor(tracker(program.command('verify')))
    .description('Accept a submission with a rating, or return it for rework (核实/销号)')
    .option('--accept', 'accept it')
    .addOption(new Option('--rating <rating>', 'rating when accepting').choices([...RATINGS]))
    .option('--return', 'return it for rework')
    .option('--reason <text>', 'why it is returned')
    .addHelpText('after', '\nExamples:\n  duban verify annual-report-dept sfj --accept --rating 良好\n  duban verify annual-report-dept sfj --return --reason 缺少佐证材料')
    .action(
      act('verify', (o) => {
        if (!!o.accept === !!o.return) throw new InputError('give exactly one of --accept and --return');
        return { decision: o.accept ? 'accept' : 'return', rating: o.rating, reason: o.reason };
      }),
    );

  const extend = program.command('extend').description('Extensions (延期): request one before due, or decide on one');
  actor(tracker(extend.command('request')))
    .description('Request a new due date, before the current one')
    .requiredOption('--to <YYYY-MM-DD>', 'the new due date')
    .requiredOption('--reason <text>', 'why')
    .addHelpText('after', '\nExample:\n  duban extend request annual-report-dept sfj --to 2027-03-31 --reason 需等待统计数据')
    .action(act('requestExtension', (o) => ({ newDue: dateOption(o.to, '--to'), reason: o.reason })));
  actor(tracker(extend.command('decide')))
    .description('Approve or reject the pending extension request')
    .option('--approve', 'approve it')
    .option('--reject', 'reject it')
    .option('--reason <text>', 'why')
    .addHelpText('after', '\nExample:\n  duban extend decide annual-report-dept sfj --approve')
    .action(
      act('decideExtension', (o) => {
        if (!!o.approve === !!o.reject) throw new InputError('give exactly one of --approve and --reject');
        return { approve: !!o.approve, reason: o.reason };
      }),
    );

  actor(tracker(program.command('waive')))
    .description('Waive the current period (免除), e.g. a report that is secret is not published')
    .requiredOption('--reason <text>', 'why')
    .addHelpText('after', '\nExample:\n  duban waive annual-report-publish szf --reason 报告涉密，不予公开')
    .action(act('waive', (o) => ({ reason: o.reason })));
  actor(tracker(program.command('pause')))
    .description('Pause a tracker: no notices until it is resumed')
    .addHelpText('after', '\nExample:\n  duban pause yibashou-jiangfa sfj')
    .action(act('pause', () => ({})));
  actor(tracker(program.command('resume')))
    .description('Resume a paused tracker (the latest notice already due is sent at once)')
    .addHelpText('after', '\nExample:\n  duban resume yibashou-jiangfa sfj')
    .action(act('resume', () => ({})));
  actor(tracker(program.command('retire')))
    .description('Retire a tracker for good (the ledger keeps its record)')
    .requiredOption('--reason <text>', 'why')
    .addHelpText('after', '\nExample:\n  duban retire yibashou-jiangfa sfj --reason 机构改革，职能划转')
    .action(act('retire', (o) => ({ reason: o.reason })));

  program
    .command('status')
    .description('The board (亮灯): counts by colour per unit, then the items, most urgent first')
    .option('--unit <id>', 'only this unit')
    .option('--obligation <id>', 'only this obligation')
    .addOption(new Option('--colour <colour>', 'only this colour').choices(['red', 'yellow', 'green', 'done', 'waived', 'broken']))
    .option('--json', 'one JSON object: { units: [...], items: [...] }')
    .addHelpText('after', '\nExamples:\n  duban status\n  duban status --unit sfj --colour red --json')
    .action(async (opts: { unit?: string; obligation?: string; colour?: string; json?: boolean }) => {
      // The board is one query on the ledger, where every tracker keeps its current row: fast on thousands.
      const ledger = await openLedger(loadSettings());
      const [periods, broken, alerts] = await Promise.all([
        // Open periods, and the periods done or waived this year (the board's done and waived counts).
        ledger.periodStates({ open: true, settledFrom: `${new Date(Date.now() + 8 * 3_600_000).getUTCFullYear()}-01-01`, unit: opts.unit, obligation: opts.obligation, colour: opts.colour }),
        ledger.trackerStates({ unit: opts.unit, obligation: opts.obligation, colour: 'broken' }),
        // Problems the workers raised (SMTP taking nothing, docs/deployment.md): said first, never hidden.
        ledger.openAlerts(),
      ]).finally(() => ledger.close());
      // One item per open period; a tracker whose definition cannot be planned shows as broken, with the reason.
      const items: RunningTracker[] = [
        ...(opts.colour && opts.colour !== 'broken' ? [] : broken.map((t) => ({ trackerId: t.trackerId, workflowId: '', obligation: t.obligation, unit: t.unit, period: t.period, colour: 'broken', problem: t.problem }))),
        ...periods.map((p) => ({ trackerId: p.trackerId, workflowId: '', obligation: p.obligation, unit: p.unit, period: p.period, colour: p.colour, due: new Date(p.dueAt), acknowledged: p.acknowledgedAt !== undefined })),
      ];
      const b = board(items, Date.now());
      if (opts.json) {
        io.out(`${JSON.stringify({ ...(alerts.length ? { alerts: alerts.map((a) => ({ kind: a.kind, since: new Date(a.since).toISOString(), message: a.message })) } : {}), units: b.units, items: b.items.map((i) => ({ tracker: i.trackerId, obligation: i.obligation, unit: i.unit, period: i.period, colour: i.colour, due: i.due?.toISOString(), daysLeft: i.daysLeft, acknowledged: i.acknowledged, problem: i.problem })) })}\n`);
        return;
      }
      const warnings = alerts.map((a) => `WARNING (${a.kind}, since ${new Date(a.since).toISOString()}): ${a.message}`);
      const lines = [...(warnings.length ? [...warnings, ''] : []), ...unitCountLines(b.units), ''];
      for (const i of b.items) {
        const when = i.problem ? `cannot plan: ${i.problem}` : i.daysLeft === undefined ? '' : i.daysLeft < 0 ? `overdue ${-i.daysLeft} days` : i.daysLeft === 0 ? 'due today' : `${i.daysLeft} days left`;
        const ack = i.acknowledged === false && (i.colour === 'yellow' || i.colour === 'red') ? '  not acknowledged' : '';
        lines.push(`${(i.colour ?? '?').padEnd(7)} ${i.trackerId.padEnd(40)} ${String(i.period ?? '').padEnd(8)} due ${i.due ? formatDate(localDay(i.due.getTime(), 'Asia/Shanghai')) : '?'}  ${when}${ack}`);
      }
      lines.push('', `${b.items.length} periods (open, or done or waived this year)`);
      io.out(`${lines.join('\n')}\n`);
    });

  program
    .command('show')
    .description("A tracker's timeline from the ledger: notices sent (with Message-IDs), actions and outcomes")
    .argument('<obligation>', 'obligation id')
    .argument('<unit>', 'unit id')
    .option('--json', 'one JSON object: { tracker, status, outcomes, notices, events }')
    .addHelpText('after', '\nExample:\n  duban show annual-report-dept sfj')
    .action(async (obligation: string, unit: string, opts: { json?: boolean }) => {
      const id = trackerIdOf(obligation, unit);
      // The ledger is the record; Temporal only adds the current status, and its absence is said, not hidden.
      const ledger = await openLedger(loadSettings());
      try {
        const [notices, events, outcomes] = await Promise.all([ledger.notices({ trackerId: id }), ledger.events({ trackerId: id }), ledger.outcomes({ trackerId: id })]);
        let status: TrackerStatus | undefined;
        let unreachable: string | undefined;
        try {
          status = await withDuban((d) => d.status(id)).catch((err: unknown) => {
            if (err instanceof UnreachableError) throw err;
            return undefined;
          });
        } catch (err) {
          unreachable = (err as Error).message;
        }
        if (!status && notices.length + events.length + outcomes.length === 0) {
          if (unreachable) throw new UnreachableError(`${unreachable}; and the ledger has nothing for ${id}`);
          throw new InputError(`no tracker ${id}: nothing running and nothing in the ledger`);
        }
        if (opts.json) return io.out(`${JSON.stringify({ tracker: id, status, outcomes, notices, events })}\n`);
        const lines: string[] = [`${id}`];
        if (status?.problem) lines.push(`broken: cannot plan: ${status.problem} (correct the catalog and run duban register)`);
        if (status) lines.push(...statusLines(status).slice(1).map((l) => `now:${l}`));
        else {
          const [row] = await ledger.trackerStates({ trackerId: id });
          if (row?.problem) lines.push(`broken: cannot plan: ${row.problem} (correct the catalog and run duban register)`);
        }
        if (unreachable) lines.push(`now: unknown (${unreachable}); the ledger's record follows`);
        for (const o of outcomes) lines.push(`period ${o.period}: ${o.outcome} (due ${o.original_due}${o.due !== o.original_due ? `, extended to ${o.due}` : ''})`);
        const timeline = [
          ...notices.map((n) => ({ at: n.fired_at ?? n.planned_at, text: `${n.stage} ${n.stage === 'escalation' ? `L${n.level} ` : ''}${n.status} ${n.message_id}${n.supervision_no ? ` 督〔${n.supervision_year}〕${n.supervision_no}号` : ''} to ${JSON.parse(n.recipients_to).join(',')}` })),
          ...events.map((e) => ({ at: e.at, text: `${e.kind}${e.actor ? ` by ${e.actor}` : ''}${e.data ? ` ${e.data}` : ''}` })),
        ].sort((a, b) => a.at - b.at);
        for (const t of timeline) lines.push(`${new Date(t.at).toISOString()}  ${t.text}`);
        io.out(`${lines.join('\n')}\n`);
      } finally {
        await ledger.close();
      }
    });

  program
    .command('report')
    .description('The yearly report (考核) from the ledger alone (no Temporal needed): per unit, periods due, on time, with extension, late, missed, waived, on-time rate and ranking; and a draft circular (通报)')
    .requiredOption('--year <YYYY>', 'the year whose due dates are reported')
    .option('--catalog <file>', 'catalog YAML file for obligation titles (default: the built-in catalog; give it with --directory)')
    .option('--directory <file>', 'directory YAML file for unit names (default: the built-in directory)')
    .addOption(new Option('--format <format>', 'output; xlsx writes an Excel workbook and needs --out').choices(['table', 'csv', 'json', 'xlsx']).default('table'))
    .option('--out <file>', 'write to this file instead of standard output')
    .addHelpText(
      'after',
      '\nExamples:\n  duban report --year 2027\n  duban report --year 2027 --format csv > 2027考核.csv\n  duban report --year 2027 --format xlsx --out 2027考核.xlsx',
    )
    .action(async (opts: { year: string; format: 'table' | 'csv' | 'json' | 'xlsx'; catalog?: string; directory?: string; out?: string }) => {
      if (!/^\d{4}$/.test(opts.year) || parseDate(`${opts.year}-01-01`) === undefined) throw new InputError(`--year "${opts.year}" is not a year such as 2027`);
      if (opts.format === 'xlsx' && !opts.out) throw new InputError('--format xlsx writes a workbook file: give --out, e.g. --out 2027考核.xlsx');
      const year = Number(opts.year);
      // Names come from the files; an obligation no longer in the catalog keeps the title the ledger noted for it.
      let unitNames: Map<string, string>;
      const titles = new Map<string, string>();
      if (opts.catalog !== undefined || opts.directory === undefined) {
        const inputs = loadInputs({ catalog: opts.catalog, directory: opts.directory });
        unitNames = new Map(inputs.directory.units.map((u) => [u.id, u.name]));
        for (const o of inputs.catalog.obligations) titles.set(o.id, o.title);
      } else {
        unitNames = new Map(loadDirectory(opts.directory).units.map((u) => [u.id, u.name]));
      }
      const ledger = await openLedger(loadSettings());
      try {
        for (const [id, title] of await ledger.obligationTitles()) if (!titles.has(id)) titles.set(id, title);
        const report = buildReport(year, await ledger.outcomes({ year }), unitNames, titles);
        if (opts.format === 'xlsx') {
          await writeWorkbook(report, opts.out!);
          io.out(`wrote ${opts.out}: ${report.units.length} units\n`);
        } else if (opts.out) {
          writeFileSync(opts.out, renderReport(report, opts.format));
        } else {
          io.out(renderReport(report, opts.format));
        }
      } finally {
        await ledger.close();
      }
    });

  program
    .command('migrate')
    .description('Create the ledger, or bring its tables up to this version of duban (workers do it at start; other commands never do)')
    .option('--json', 'print { ledger, applied } as JSON')
    .addHelpText('after', '\nExamples:\n  duban migrate\n  DATABASE_URL=postgres://duban@db.example.org/duban duban migrate')
    .action(async (opts: { json?: boolean }) => {
      const settings = loadSettings();
      const ledger = await openLedger(settings, { migrate: true });
      try {
        const applied = await ledger.appliedMigrations();
        const where = describeLedger(ledgerOptions(settings));
        io.out(opts.json ? `${JSON.stringify({ ledger: where, applied })}\n` : `ledger ${where}: up to date (migrations ${applied.join(', ')})\n`);
      } finally {
        await ledger.close();
      }
    });
}
