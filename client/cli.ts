/**
 * The `duban` command line. Exit codes: 0 done, 1 failed, 2 bad input (and nothing changed).
 */
import { Command, CommanderError, Option } from 'commander';
import { InvalidInputError, Inputs, PROJECT_ROOT, loadInputs } from '../config/load';
import { LedgerNotFoundError, LedgerUnavailableError } from '../ledger';
import { SettingsError } from '../config/settings';
import { DayNumber, formatDate, parseDate } from '../domain/dates';
import { PlannedNotice, ladderOverlaps, noticeKey, planWindow } from '../domain/planner';
import { BOUNDS } from '../domain/validate';
import { formatLocal, localDay } from '../domain/zone';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { unitCalendar } from './ics';
import { addServiceCommands } from './service-commands';
import { InputError } from './errors';
import { RefusedError, UnknownTrackerError, UnreachableError } from './temporal';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_BAD_INPUT = 2;


interface InputOptions {
  calendar?: string;
  rosters?: string;
  events?: string;
  json?: boolean;
}

function inputs(catalog: string | undefined, directory: string | undefined, opts: InputOptions): Inputs {
  if ((catalog === undefined) !== (directory === undefined)) {
    throw new InputError('give both a catalog and a directory, or neither to use the built-in defaults');
  }
  return loadInputs({ catalog, directory, calendar: opts.calendar, rosters: opts.rosters, events: opts.events });
}

/** Years as ranges: [2024, 2025, 2026, 2028] is "2024-2026, 2028". */
export function yearRanges(years: readonly number[]): string {
  const sorted = [...new Set(years)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(j === i ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(', ');
}

export function provisionalWarning(years: number[], calendar: Pick<Inputs['calendar'], 'officialYears'>): string | undefined {
  if (years.length === 0) return undefined;
  const official = calendar.officialYears();
  return (
    `warning: ${yearRanges(years)} ${years.length === 1 ? 'is' : 'are'} provisional: the State Council's holiday notice ` +
    `is not in the calendar (official data: ${official.length ? yearRanges(official) : 'none'}), so only the statutory ` +
    'holidays are kept off and there are no make-up working days. Dates may move when the notice is published; ' +
    'add it with --calendar (see docs/calendar.md).'
  );
}

function parseDay(text: string, option: string): DayNumber {
  const d = parseDate(text);
  if (d === undefined) throw new InputError(`${option} "${text}" is not a date: write YYYY-MM-DD, e.g. 2027-01-01`);
  const year = Number(text.slice(0, 4));
  if (year < BOUNDS.firstYear || year > BOUNDS.lastYear) throw new InputError(`${option} ${text} is outside the years duban can plan (${BOUNDS.firstYear}-${BOUNDS.lastYear})`);
  return d;
}

const STAGE_WORDS: Record<string, string> = { reminder: '提醒', escalation: '催办' };

function describeStage(n: PlannedNotice): string {
  if (n.stage === 'reminder') return `${STAGE_WORDS.reminder} ${n.step === 0 ? 'due day' : `-${n.step}wd`}`;
  return `${STAGE_WORDS.escalation} L${n.level}${n.step > 0 ? ` #${n.step + 1}` : ''}`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => displayWidth(r[c] ?? ''))));
  return rows
    .map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell + ' '.repeat(widths[c]! - displayWidth(cell)))).join('  '))
    .join('\n');
}

/** CJK characters take two columns in a terminal. */
function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) w += /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/.test(ch) ? 2 : 1;
  return w;
}

function version(): string {
  return (JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

/** `--help` says which options must be given: commander lists required options like the others. */
function markRequiredOptions(command: Command) {
  for (const option of command.options) {
    if (option.mandatory && !option.description.endsWith('(required)')) option.description = `${option.description} (required)`;
  }
  for (const sub of command.commands) markRequiredOptions(sub);
}

export function buildProgram(out: (s: string) => void, err: (s: string) => void): Command {
  const program = new Command('duban')
    .description('督办 duban: reminders and escalations for recurring rule-of-law obligations')
    .version(version(), '-V, --version', 'print the version of duban')
    .configureOutput({ writeOut: out, writeErr: err })
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');

  program
    .command('validate')
    .description('Check a catalog and a directory (and a calendar file); report every problem with file, line and field')
    .argument('[catalog]', 'catalog YAML file (default: the built-in catalog)')
    .argument('[directory]', 'directory YAML file (default: the built-in directory)')
    .option('--calendar <file>', 'calendar file adding or replacing years of holiday data')
    .option('--rosters <file>', 'rosters CSV (unit,roster,person,name) for per-person quotas')
    .option('--events <file>', 'events YAML (id, date) for event-relative obligations')
    .option('--json', 'print the result as one JSON object')
    .addHelpText(
      'after',
      '\nExamples:\n  duban validate my-catalog.yaml my-directory.yaml\n  duban validate my-catalog.yaml my-directory.yaml --calendar holidays-2027.yaml --json',
    )
    .action((catalog: string | undefined, directory: string | undefined, opts: InputOptions) => {
      let loaded: Inputs;
      try {
        loaded = inputs(catalog, directory, opts);
      } catch (e) {
        if (opts.json && e instanceof InvalidInputError) out(`${JSON.stringify({ ok: false, problems: e.problems, ...(e.omitted ? { omitted: e.omitted } : {}) })}\n`);
        throw e;
      }
      // Warnings do not refuse: overlapping periods are allowed (DOMAIN.md 19), but rarely meant.
      const warnings = ladderOverlaps(loaded.trackers, loaded.calendar, localDay(Date.now(), loaded.catalog.timeZone));
      const summary = {
        ok: true,
        obligations: loaded.catalog.obligations.length,
        units: loaded.directory.units.length,
        trackers: loaded.trackers.length,
        warnings,
      };
      if (opts.json) out(`${JSON.stringify(summary)}\n`);
      else {
        for (const w of warnings) err(`warning: ${w}\n`);
        out(`ok: ${summary.obligations} obligations, ${summary.units} units, ${summary.trackers} trackers\n`);
      }
    });

  program
    .command('plan')
    .description('List every notice the trackers would receive in a window if nobody ever submits')
    .argument('[catalog]', 'catalog YAML file (default: the built-in catalog)')
    .argument('[directory]', 'directory YAML file (default: the built-in directory)')
    .option('--calendar <file>', 'calendar file adding or replacing years of holiday data')
    .option('--rosters <file>', 'rosters CSV (unit,roster,person,name) for per-person quotas')
    .option('--events <file>', 'events YAML (id, date) for event-relative obligations')
    .option('--from <date>', 'first day of the window, YYYY-MM-DD (default: today in the catalog time zone)')
    .option('--to <date>', 'last day of the window, YYYY-MM-DD (default: one year after --from, less a day)')
    .addOption(new Option('--unit <id>', 'only this unit'))
    .addOption(new Option('--obligation <id>', 'only this obligation'))
    .option('--json', 'one JSON object per line: at, local, obligation, unit, period, due, stage, level, to, cc, key')
    .addHelpText(
      'after',
      '\nExamples:\n  duban plan --from 2027-01-01 --to 2027-12-31\n  duban plan catalog.yaml directory.yaml --from 2027-01-01 --to 2027-03-31 --unit sfj --json',
    )
    .action(
      (
        catalog: string | undefined,
        directory: string | undefined,
        opts: InputOptions & { from?: string; to?: string; unit?: string; obligation?: string },
      ) => {
        const loaded = inputs(catalog, directory, opts);
        const zone = loaded.catalog.timeZone;
        const from = opts.from ? parseDay(opts.from, '--from') : localDay(Date.now(), zone);
        const to = opts.to ? parseDay(opts.to, '--to') : oneYearLater(from);
        if (to < from) throw new InputError(`--to ${formatDate(to)} is before --from ${formatDate(from)}`);
        let trackers = loaded.trackers;
        if (opts.unit !== undefined) {
          if (!loaded.directory.units.some((u) => u.id === opts.unit)) throw new InputError(`--unit: no unit "${opts.unit}" in the directory`);
          trackers = trackers.filter((t) => t.unit.id === opts.unit);
        }
        if (opts.obligation !== undefined) {
          if (!loaded.catalog.obligations.some((o) => o.id === opts.obligation)) {
            throw new InputError(`--obligation: no obligation "${opts.obligation}" in the catalog`);
          }
          trackers = trackers.filter((t) => t.obligation.id === opts.obligation);
        }
        const plan = planWindow(trackers, loaded.calendar, { from, to });
        const warning = provisionalWarning(plan.provisionalYears, loaded.calendar);
        if (warning) err(`${warning}\n`);
        // Event-relative trackers whose event has no date have nothing to plan: say what they wait for.
        for (const w of plan.waiting ?? []) err(`${w.trackerId}: waiting for event ${w.event} to have a date (no notices until it has one)\n`);
        const zoneOf = new Map(trackers.map((t) => [t.trackerId, t.timeZone]));
        if (opts.json) {
          const lines = plan.notices.map((n) =>
            JSON.stringify({
              at: new Date(n.at).toISOString(),
              local: formatLocal(n.at, zoneOf.get(n.trackerId) ?? zone),
              obligation: n.obligation,
              unit: n.unit,
              period: n.period,
              due: n.due,
              stage: n.stage,
              level: n.level,
              step: n.step,
              to: n.to,
              cc: n.cc,
              key: noticeKey(n),
            }),
          );
          if (lines.length) out(`${lines.join('\n')}\n`);
          return;
        }
        const header = ['local time', 'obligation', 'unit', 'period', 'due', 'stage', 'to', 'cc'];
        const rows = plan.notices.map((n) => [
          formatLocal(n.at, zoneOf.get(n.trackerId) ?? zone),
          n.obligation,
          n.unit,
          n.period,
          n.due,
          describeStage(n),
          n.to.join(','),
          n.cc.join(','),
        ]);
        out(`${table([header, ...rows])}\n`);
        out(
          `\n${plan.notices.length} notices for ${new Set(plan.notices.map((n) => n.trackerId)).size} trackers, ` +
            `${formatDate(from)} to ${formatDate(to)} (${zone}, wd = working days)\n`,
        );
      },
    );
  program
    .command('worker')
    .description('Run a worker: the tracker workflows and their activities (settings from the environment or DUBAN_CONFIG)')
    .addHelpText(
      'after',
      '\nSettings (environment, or the same keys in a YAML file named by DUBAN_CONFIG): see docs/engine.md.\n' +
        '\nExamples:\n  SMTP_URL=smtp://127.0.0.1:2525 duban worker\n' +
        '  TEMPORAL_ADDRESS=temporal.example.org:7233 TEMPORAL_TLS=true DATABASE_URL=postgres://duban@db/duban SMTP_URL=smtps://mail.example.org duban worker',
    )
    .action(async () => {
      // Loaded on demand: validate and plan do not need Temporal's native runtime.
       
      const { main: runWorker } = require('../worker/main') as typeof import('../worker/main');
      const code = await runWorker();
      if (code !== 0) throw new ExitCode(code);
    });

  program
    .command('ics')
    .description("An iCalendar file (RFC 5545) of a unit's upcoming due dates and reminder dates, for Outlook, Apple Calendar, WPS")
    .argument('[catalog]', 'catalog YAML file (default: the built-in catalog)')
    .argument('[directory]', 'directory YAML file (default: the built-in directory)')
    .requiredOption('--unit <id>', 'the unit')
    .option('--months <n>', 'how far ahead', '6')
    .option('--calendar <file>', 'calendar file adding or replacing years of holiday data')
    .option('--rosters <file>', 'rosters CSV (unit,roster,person,name) for per-person quotas')
    .option('--events <file>', 'events YAML (id, date) for event-relative obligations')
    .option('--out <file>', 'write to this file instead of standard output')
    .addHelpText('after', '\nExample:\n  duban ics --unit sfj --months 12 --out sfj.ics')
    .action((catalog: string | undefined, directory: string | undefined, opts: InputOptions & { unit: string; months: string; out?: string }) => {
      const loaded = inputs(catalog, directory, opts);
      const months = Number(opts.months);
      if (!Number.isInteger(months) || months < 1 || months > 60) throw new InputError(`--months "${opts.months}" must be a whole number from 1 to 60`);
      const trackers = loaded.trackers.filter((t) => t.unit.id === opts.unit);
      if (!loaded.directory.units.some((u) => u.id === opts.unit)) throw new InputError(`--unit: no unit "${opts.unit}" in the directory`);
      const from = localDay(Date.now(), loaded.catalog.timeZone);
      const ics = unitCalendar(trackers, loaded.calendar, { from, to: from + Math.round(months * 30.44) }, new Date());
      if (opts.out) writeFileSync(opts.out, ics);
      else out(ics);
    });

  program
    .command('simulate')
    .description('Preview: run the real workflows and activities on the time-skipping server and show every email of a window')
    .argument('[catalog]', 'catalog YAML file (default: the built-in catalog)')
    .argument('[directory]', 'directory YAML file (default: the built-in directory)')
    .requiredOption('--from <date>', 'first day, YYYY-MM-DD, today or later')
    .requiredOption('--to <date>', 'last day, YYYY-MM-DD')
    .option('--out <dir>', 'write one .eml file per message into this folder')
    .option('--calendar <file>', 'calendar file adding or replacing years of holiday data')
    .option('--rosters <file>', 'rosters CSV (unit,roster,person,name) for per-person quotas')
    .option('--events <file>', 'events YAML (id, date) for event-relative obligations')
    .option('--json', 'one JSON object per email: at, local, key, to, cc, subject, file')
    .addHelpText('after', '\nExample:\n  duban simulate my-catalog.yaml my-directory.yaml --from 2027-01-01 --to 2027-03-31 --out preview/')
    .action(async (catalog: string | undefined, directory: string | undefined, opts: InputOptions & { from: string; to: string; out?: string }) => {
      const loaded = inputs(catalog, directory, opts);
      const from = parseDay(opts.from, '--from');
      const to = parseDay(opts.to, '--to');
      if (to < from) throw new InputError(`--to ${formatDate(to)} is before --from ${formatDate(from)}`);
      if (from < localDay(Date.now(), loaded.catalog.timeZone)) throw new InputError('simulate runs forward from today: --from must be today or later (duban plan shows the past)');
       
      const { simulate } = require('./simulate') as typeof import('./simulate');
      const mails = await simulate(loaded, { from, to }, opts.out);
      const zone = loaded.catalog.timeZone;
      if (opts.json) {
        if (mails.length) out(`${mails.map((m) => JSON.stringify({ at: new Date(m.date).toISOString(), local: formatLocal(m.date, zone), key: m.key, messageId: m.messageId, to: m.to, cc: m.cc, subject: m.subject, file: m.file })).join('\n')}\n`);
        return;
      }
      out(`${mails.map((m) => `${formatLocal(m.date, zone)}  ${m.to.join(',')}  ${m.subject}`).join('\n')}\n`);
      out(`\n${mails.length} emails from ${formatDate(from)} to ${formatDate(to)}${opts.out ? `, saved in ${opts.out}` : ''}\n`);
    });

  const io = { out, err, tty: process.stderr.isTTY === true };
  addServiceCommands(program, io);
  program
    .command('web')
    .description('Run the web service: the board, trackers, actions, reports in the browser, sign-in by emailed link (docs/web.md)')
    .addHelpText('after', '\nSettings: DUBAN_WEB_HOST (127.0.0.1), DUBAN_WEB_PORT (8080), DUBAN_WEB_BASE_URL, DUBAN_ADMINS, SMTP_URL and the worker\'s; see docs/web.md.\n\nExample:\n  DUBAN_WEB_BASE_URL=https://duban.example.gov.cn DUBAN_ADMINS=admin@example.gov.cn duban web')
    .action(async () => {
       
      const { runWeb } = require('../web/main') as typeof import('../web/main');
      const code = await runWeb(out);
      if (code !== 0) throw new ExitCode(code);
    });
  program
    .command('start')
    .description('Run the whole service on embedded defaults: Temporal dev server, mail catcher, ledger, worker; register the catalog')
    .addHelpText(
      'after',
      '\nEnvironment: DUBAN_DATA_DIR (default .duban), DUBAN_TEMPORAL_PORT (7233), DUBAN_UI_PORT (8233), DUBAN_MAIL_PORT (2525),\n' +
        'DUBAN_DEV_SERVER_RESTARTS (3: restarts of a dev server that dies, within ten minutes, before start gives up),\n' +
        'DUBAN_CATALOG / DUBAN_DIRECTORY / DUBAN_CALENDAR; TEMPORAL_ADDRESS, SMTP_URL, DATABASE_URL use real infrastructure instead.\n' +
        '\nExamples:\n  npm start\n  DUBAN_CATALOG=my-catalog.yaml DUBAN_DIRECTORY=my-directory.yaml duban start',
    )
    .action(async () => {
       
      const { start } = require('./start') as typeof import('./start');
      const code = await start(io);
      if (code !== 0) throw new ExitCode(code);
    });
  markRequiredOptions(program);
  return program;
}

/** A sub-command that already reported its failure and only needs its exit code passed on. */
class ExitCode extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

function oneYearLater(from: DayNumber): DayNumber {
  const text = formatDate(from);
  const next = parseDate(`${Number(text.slice(0, 4)) + 1}${text.slice(4)}`) ?? parseDate(`${Number(text.slice(0, 4)) + 1}-03-01`)!;
  return next - 1;
}

/** Runs the command line; resolves to the exit code. Output goes through `out`/`err` so tests can capture it. */
export async function main(
  argv: string[],
  out: (s: string) => void = (s) => process.stdout.write(s),
  err: (s: string) => void = (s) => process.stderr.write(s),
): Promise<number> {
  const program = buildProgram(out, err);
  try {
    await program.parseAsync(argv);
    return EXIT_OK;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return EXIT_OK;
      // `duban help` asked for help; a bare `duban` gets the help too, but did not do anything: not a success.
      if (e.code === 'commander.help') return e.exitCode === 0 ? EXIT_OK : EXIT_BAD_INPUT;
      return EXIT_BAD_INPUT;
    }
    if (e instanceof InvalidInputError) {
      err(`${e.message}\nNothing was done.\n`);
      return EXIT_BAD_INPUT;
    }
    if (e instanceof ExitCode) return e.code;
    if (e instanceof LedgerNotFoundError || e instanceof LedgerUnavailableError) {
      // Where it looked and why, never a stack trace: the administrator fixes a setting, not the code.
      err(`failed: ${e.message}\n`);
      return EXIT_FAILED;
    }
    if (e instanceof Error && e.name === 'LedgerMismatchError') {
      err(`error: ${e.message}\n`);
      return EXIT_BAD_INPUT;
    }
    if (e instanceof UnreachableError || e instanceof SettingsError) {
      err(`failed: ${e.message}\n`);
      return e instanceof SettingsError ? EXIT_BAD_INPUT : EXIT_FAILED;
    }
    if (e instanceof InputError || e instanceof RefusedError || e instanceof UnknownTrackerError) {
      err(`error: ${e.message}\n`);
      return EXIT_BAD_INPUT;
    }
    err(`failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return EXIT_FAILED;
  }
}
