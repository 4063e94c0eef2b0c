/**
 * The commands on the files alone, no service needed: validate, plan, ics, and simulate (the real workflows on
 * the time-skipping server).
 */
import { Command, Option } from 'commander';
import { writeFileSync } from 'node:fs';
import { InvalidInputError, Inputs } from '../../config/load';
import { DayNumber, formatDate, parseDate } from '../../domain/dates';
import { PlannedNotice, ladderOverlaps, noticeKey, planWindow } from '../../domain/planner';
import { formatLocal, localDay } from '../../domain/zone';
import { escalationEndWarnings } from '../../domain/validate';
import { InputError } from '../errors';
import { table } from '../format';
import { unitCalendar } from '../ics';
import { InputOptions, Io, inputs, parseDay } from './common';

/** Years as ranges: [2024, 2025, 2026, 2028] is "2024-2026, 2028". */
export function yearRanges(years: readonly number[]): string {
  const sorted = [...new Set(years)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(j === i ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(', ');
}

export function provisionalWarning(
  years: number[],
  calendar: Pick<Inputs['calendar'], 'officialYears'>,
): string | undefined {
  if (years.length === 0) return undefined;
  const official = calendar.officialYears();
  return (
    `warning: ${yearRanges(years)} ${years.length === 1 ? 'is' : 'are'} provisional: the State Council's holiday notice ` +
    `is not in the calendar (official data: ${official.length ? yearRanges(official) : 'none'}), so only the statutory ` +
    'holidays are kept off and there are no make-up working days. Dates may move when the notice is published; ' +
    'add it with --calendar (see docs/calendar.md).'
  );
}

const STAGE_WORDS: Record<string, string> = { reminder: '提醒', escalation: '催办' };

function describeStage(n: PlannedNotice): string {
  if (n.stage === 'reminder') return `${STAGE_WORDS.reminder} ${n.step === 0 ? 'due day' : `-${n.step}wd`}`;
  return `${STAGE_WORDS.escalation} L${n.level}${n.step > 0 ? ` #${n.step + 1}` : ''}`;
}

function oneYearLater(from: DayNumber): DayNumber {
  const text = formatDate(from);
  const next =
    parseDate(`${Number(text.slice(0, 4)) + 1}${text.slice(4)}`) ?? parseDate(`${Number(text.slice(0, 4)) + 1}-03-01`)!;
  return next - 1;
}

export function addCatalogCommands(program: Command, io: Io) {
  const { out, err } = io;
  program
    .command('validate')
    .description(
      'Check a catalog and a directory (and a calendar file); report every problem with file, line and field',
    )
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
        if (opts.json && e instanceof InvalidInputError)
          out(`${JSON.stringify({ ok: false, problems: e.problems, ...(e.omitted ? { omitted: e.omitted } : {}) })}\n`);
        throw e;
      }
      // Warnings do not refuse: overlapping periods are allowed (DOMAIN.md 19), but rarely meant.
      const warnings = [
        ...ladderOverlaps(loaded.trackers, loaded.calendar, localDay(Date.now(), loaded.catalog.timeZone)),
        ...escalationEndWarnings(loaded.catalog),
      ];
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
          if (!loaded.directory.units.some((u) => u.id === opts.unit))
            throw new InputError(`--unit: no unit "${opts.unit}" in the directory`);
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
        for (const w of plan.waiting ?? [])
          err(`${w.trackerId}: waiting for event ${w.event} to have a date (no notices until it has one)\n`);
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
    .command('ics')
    .description(
      "An iCalendar file (RFC 5545) of a unit's upcoming due dates and reminder dates, for Outlook, Apple Calendar, WPS",
    )
    .argument('[catalog]', 'catalog YAML file (default: the built-in catalog)')
    .argument('[directory]', 'directory YAML file (default: the built-in directory)')
    .requiredOption('--unit <id>', 'the unit')
    .option('--months <n>', 'how far ahead', '6')
    .option('--calendar <file>', 'calendar file adding or replacing years of holiday data')
    .option('--rosters <file>', 'rosters CSV (unit,roster,person,name) for per-person quotas')
    .option('--events <file>', 'events YAML (id, date) for event-relative obligations')
    .option('--out <file>', 'write to this file instead of standard output')
    .addHelpText('after', '\nExample:\n  duban ics --unit sfj --months 12 --out sfj.ics')
    .action(
      (
        catalog: string | undefined,
        directory: string | undefined,
        opts: InputOptions & { unit: string; months: string; out?: string },
      ) => {
        const loaded = inputs(catalog, directory, opts);
        const months = Number(opts.months);
        if (!Number.isInteger(months) || months < 1 || months > 60)
          throw new InputError(`--months "${opts.months}" must be a whole number from 1 to 60`);
        const trackers = loaded.trackers.filter((t) => t.unit.id === opts.unit);
        if (!loaded.directory.units.some((u) => u.id === opts.unit))
          throw new InputError(`--unit: no unit "${opts.unit}" in the directory`);
        const from = localDay(Date.now(), loaded.catalog.timeZone);
        const ics = unitCalendar(
          trackers,
          loaded.calendar,
          { from, to: from + Math.round(months * 30.44) },
          new Date(),
          loaded.catalog.timeZone,
        );
        if (opts.out) writeFileSync(opts.out, ics);
        else out(ics);
      },
    );

  program
    .command('simulate')
    .description(
      'Preview: run the real workflows and activities on the time-skipping server and show every email of a window',
    )
    .argument('[catalog]', 'catalog YAML file (default: the built-in catalog)')
    .argument('[directory]', 'directory YAML file (default: the built-in directory)')
    .requiredOption('--from <date>', 'first day, YYYY-MM-DD, today or later')
    .requiredOption('--to <date>', 'last day, YYYY-MM-DD')
    .option('--out <dir>', 'write one .eml file per message into this folder')
    .option('--calendar <file>', 'calendar file adding or replacing years of holiday data')
    .option('--rosters <file>', 'rosters CSV (unit,roster,person,name) for per-person quotas')
    .option('--events <file>', 'events YAML (id, date) for event-relative obligations')
    .option('--json', 'one JSON object per email: at, local, key, to, cc, subject, file')
    .addHelpText(
      'after',
      '\nExample:\n  duban simulate my-catalog.yaml my-directory.yaml --from 2027-01-01 --to 2027-03-31 --out preview/',
    )
    .action(
      async (
        catalog: string | undefined,
        directory: string | undefined,
        opts: InputOptions & { from: string; to: string; out?: string },
      ) => {
        const loaded = inputs(catalog, directory, opts);
        const from = parseDay(opts.from, '--from');
        const to = parseDay(opts.to, '--to');
        if (to < from) throw new InputError(`--to ${formatDate(to)} is before --from ${formatDate(from)}`);
        if (from < localDay(Date.now(), loaded.catalog.timeZone))
          throw new InputError(
            'simulate runs forward from today: --from must be today or later (duban plan shows the past)',
          );

        const { simulate } = require('../simulate') as typeof import('../simulate');
        const mails = await simulate(loaded, { from, to }, opts.out);
        const zone = loaded.catalog.timeZone;
        if (opts.json) {
          if (mails.length)
            out(
              `${mails.map((m) => JSON.stringify({ at: new Date(m.date).toISOString(), local: formatLocal(m.date, zone), key: m.key, messageId: m.messageId, to: m.to, cc: m.cc, subject: m.subject, file: m.file })).join('\n')}\n`,
            );
          return;
        }
        out(`${mails.map((m) => `${formatLocal(m.date, zone)}  ${m.to.join(',')}  ${m.subject}`).join('\n')}\n`);
        out(
          `\n${mails.length} emails from ${formatDate(from)} to ${formatDate(to)}${opts.out ? `, saved in ${opts.out}` : ''}\n`,
        );
      },
    );
}
