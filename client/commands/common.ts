/**
 * What the command groups share: where output goes, the input files, options checked before anything connects
 * (so a typo never reads as an outage), the connection, and the actor of a request.
 */
import { userInfo } from 'node:os';
import { Inputs, loadInputs } from '../../config/load';
import { loadSettings } from '../../config/settings';
import { DayNumber, parseDate } from '../../domain/dates';
import { BOUNDS } from '../../domain/validate';
import { Duban } from '../../access/temporal';
import { InputError } from '../errors';

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  /** True when stderr is a terminal: progress bars are drawn only there. */
  tty: boolean;
  /** True when standard output is a terminal and NO_COLOR is not set: colours are used only then. */
  colour: boolean;
}

/** A sub-command that already reported its failure and only needs its exit code passed on. */
export class ExitCode extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

export interface InputOptions {
  calendar?: string;
  rosters?: string;
  events?: string;
  json?: boolean;
}

/** The catalog and directory given, or the built-in ones when neither is. */
export function inputs(
  catalog: string | undefined,
  directory: string | undefined,
  opts: InputOptions,
  /** `validate`: also check that every channel has its secret in the settings (docs/channels.md). */
  checkSecrets = false,
): Inputs {
  if ((catalog === undefined) !== (directory === undefined)) {
    throw new InputError('请同时给出任务清单和单位名录，或都不给以使用内置文件');
  }
  return loadInputs({
    catalog,
    directory,
    calendar: opts.calendar,
    rosters: opts.rosters,
    events: opts.events,
    ...(checkSecrets ? { env: process.env } : {}),
  });
}

/** A day to plan: a date within the years duban can plan. */
export function parseDay(text: string, option: string): DayNumber {
  const d = parseDate(text);
  if (d === undefined) throw new InputError(`${option} “${text}”不是日期：请写作 YYYY-MM-DD，如 2027-01-01`);
  const year = Number(text.slice(0, 4));
  if (year < BOUNDS.firstYear || year > BOUNDS.lastYear)
    throw new InputError(`${option} ${text} 超出 duban 可排期的年份（${BOUNDS.firstYear}-${BOUNDS.lastYear}）`);
  return d;
}

export async function withDuban<T>(fn: (d: Duban) => Promise<T>): Promise<T> {
  const duban = await Duban.connect(loadSettings());
  try {
    return await fn(duban);
  } finally {
    await duban.close();
  }
}

export const defaultActor = () => process.env.DUBAN_USER ?? userInfo().username;

/** Draws a progress bar on stderr for long runs, only on a terminal. */
export function progressBar(io: Io) {
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

type OptionValue = string | boolean | undefined;

/** An option that must be a date: checked before anything connects, so a typo never reads as an outage. */
export function dateOption(value: OptionValue, option: string): string | undefined {
  if (value === undefined) return undefined;
  const text = String(value);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text) || parseDate(text) === undefined)
    throw new InputError(`${option} “${text}”不是日期：请写作 YYYY-MM-DD，如 2027-03-31`);
  return text;
}

/** Evidence links are web addresses a supervisor can open: http or https only. */
export function linkOption(value: OptionValue): string | undefined {
  if (value === undefined) return undefined;
  const text = String(value);
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:'))
    throw new InputError(`--link “${text}”不是 http 或 https 网址，如 https://example.org/report`);
  return text;
}

export function wholeOption(value: OptionValue, option: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(String(value))) throw new InputError(`${option} “${String(value)}”不是整数，如 18`);
  return Number(value);
}

/** A text option; commander gives `true` only for flags, which text options are not. */
export function textOption(value: OptionValue): string | undefined {
  return value === undefined ? undefined : String(value);
}

/** A text option commander already required (`requiredOption`): present by the time the action runs. */
export function requiredText(value: OptionValue, option: string): string {
  if (value === undefined) throw new InputError(`${option} 为必填项`);
  return String(value);
}
