/**
 * The `duban` command line: this file builds the program from the command groups in client/commands/ and turns
 * what they throw into exit codes: 0 done, 1 failed, 2 bad input (and nothing changed).
 */
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { LedgerNotFoundError, LedgerUnavailableError } from '../ledger';
import { RefusedError, UnknownTrackerError, UnreachableError } from '../access/temporal';
import { InvalidInputError, PROJECT_ROOT } from '../config/load';
import { SettingsError } from '../config/settings';
import { addCatalogCommands } from './commands/catalog';
import { ExitCode, Io } from './commands/common';
import { addImportCommands } from './commands/import';
import { addRegisterCommands } from './commands/register';
import { addReportCommands } from './commands/report';
import { addRequestCommands } from './commands/requests';
import { addStandInCommands } from './commands/stand-ins';
import { addServiceCommands } from './commands/service';
import { addStatusCommands } from './commands/status';
import { chineseHelp, commanderMessage } from './commander-words';
import { InputError } from './errors';
import { wantsColour } from './format';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_BAD_INPUT = 2;

function version(): string {
  return (JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

/** `--help` says which options must be given: commander lists required options like the others. */
function markRequiredOptions(command: Command) {
  for (const option of command.options) {
    if (option.mandatory && !option.description.endsWith('（必填）'))
      option.description = `${option.description}（必填）`;
  }
  for (const sub of command.commands) markRequiredOptions(sub);
}

/** `colour`: whether `out` is a terminal that wants colours (main decides; tests capture plain text). */
export function buildProgram(
  out: (s: string) => void,
  err: (s: string) => void,
  options: { colour?: boolean } = {},
): Command {
  const program = chineseHelp(new Command('duban'))
    .description('督办 duban：法治建设周期性任务的提醒与催办')
    .version(version(), '-V, --version', '显示 duban 的版本号')
    .configureOutput({ writeOut: out, writeErr: err, outputError: (text, write) => write(commanderMessage(text)) })
    .exitOverride()
    .showHelpAfterError('（用 --help 查看用法）');
  const io: Io = { out, err, tty: process.stderr.isTTY === true, colour: options.colour ?? false };
  addCatalogCommands(program, io);
  addRegisterCommands(program, io);
  addRequestCommands(program, io);
  addStandInCommands(program, io);
  addStatusCommands(program, io);
  addReportCommands(program, io);
  addServiceCommands(program, io);
  addImportCommands(program, io);
  markRequiredOptions(program);
  return program;
}

/** The reader of standard output went away (a pipe into head): exit at once, successfully, printing nothing. */
function quitOnClosedPipe(e: NodeJS.ErrnoException): void {
  if (e.code === 'EPIPE') process.exit(EXIT_OK);
  throw e;
}

/** Runs the command line; resolves to the exit code. Output goes through `out`/`err` so tests can capture it. */
export async function main(
  argv: string[],
  out?: (s: string) => void,
  err: (s: string) => void = (s) => process.stderr.write(s),
): Promise<number> {
  // `duban plan … | head` closes the pipe early: the reader has what it wanted, so stop quietly, not with EPIPE.
  if (out === undefined) process.stdout.on('error', quitOnClosedPipe);
  // Colours only when writing to a terminal ourselves: captured output (tests, scripts) stays plain.
  const program = buildProgram(out ?? ((s) => process.stdout.write(s)), err, {
    colour: out === undefined && wantsColour(process.stdout),
  });
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
      err(`${e.message}\n未作任何更改。\n`);
      return EXIT_BAD_INPUT;
    }
    if (e instanceof ExitCode) return e.code;
    if (e instanceof LedgerNotFoundError || e instanceof LedgerUnavailableError) {
      // Where it looked and why, never a stack trace: the administrator fixes a setting, not the code.
      err(`失败：${e.message}\n`);
      return EXIT_FAILED;
    }
    if (e instanceof Error && e.name === 'LedgerMismatchError') {
      err(`错误：${e.message}\n`);
      return EXIT_BAD_INPUT;
    }
    if (e instanceof UnreachableError || e instanceof SettingsError) {
      err(`失败：${e.message}\n`);
      return e instanceof SettingsError ? EXIT_BAD_INPUT : EXIT_FAILED;
    }
    if (e instanceof InputError || e instanceof RefusedError || e instanceof UnknownTrackerError) {
      err(`错误：${e.message}\n`);
      return EXIT_BAD_INPUT;
    }
    err(`失败：${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return EXIT_FAILED;
  }
}
