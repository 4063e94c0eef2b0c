/**
 * Registration: start or update every tracker of a catalog and directory, and the dates of events that
 * event-relative deadlines count from (setting one re-registers).
 */
import { Command } from 'commander';
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { saveSnapshot } from '../../access/registered';
import { RegisterSummary } from '../../access/temporal';
import { assertRegistrable, loadEventsFile, loadInputs, setEventDate } from '../../config/load';
import { InputError } from '../errors';
import { Io, dateOption, defaultActor, progressBar, withDuban } from './common';

function summaryText(s: RegisterSummary, dryRun: boolean): string {
  const will = dryRun ? '将' : '已';
  const lines = [
    `${will}新建${s.started.length}项，${will}更新${s.updated.length}项，未变${s.unchanged.length}项，${will}停用${s.retired.length}项`,
  ];
  if (s.updated.length) lines.push(`${will}更新：${s.updated.join('、')}`);
  if (s.ended.length) lines.push(`已永久结束（已停用或一次性任务已结束），不再启动：${s.ended.join('、')}`);
  if (s.startedByOther?.length)
    lines.push(`由同时运行的另一次登记启动（正在运行，不会启动两次）：${s.startedByOther.join('、')}`);
  if (s.removed.length && s.retired.length === 0) {
    lines.push(`已不在文件中（仍在运行；用 --prune 停用）：${s.removed.join('、')}`);
  } else if (s.retired.length) {
    lines.push(`${will}停用：${s.retired.join('、')}`);
  }
  return `${lines.join('\n')}\n`;
}

export function addRegisterCommands(program: Command, io: Io) {
  program
    .command('register')
    .description('检查后，启动或更新任务清单和单位名录中的每项督办任务（可重复运行）')
    .argument('[catalog]', '任务清单 YAML 文件（默认：内置任务清单）')
    .argument('[directory]', '单位名录 YAML 文件（默认：内置单位名录）')
    .option('--calendar <file>', '日历文件，增补或替换某些年份的节假日数据')
    .option('--rosters <file>', '人员名单（CSV：unit,roster,person,name），供按人计的任务使用')
    .option('--events <file>', '事件文件（YAML：id、date），供以事件计时的任务使用')
    .option('--dry-run', '只显示将作的更改，不作任何更改')
    .option('--prune', '停用任务或单位已从文件中删除的运行中督办任务')
    .option('--by <name>', '登记人，记入台账')
    .option('--json', '以 JSON 输出汇总')
    .addHelpText(
      'after',
      '\n示例：\n  duban register catalog.yaml directory.yaml --dry-run\n  duban register catalog.yaml directory.yaml --prune --json',
    )
    .action(
      async (
        catalog: string | undefined,
        directory: string | undefined,
        opts: {
          calendar?: string;
          rosters?: string;
          events?: string;
          dryRun?: boolean;
          prune?: boolean;
          by?: string;
          json?: boolean;
        },
      ) => {
        if ((catalog === undefined) !== (directory === undefined))
          throw new InputError('请同时给出任务清单和单位名录，或都不给以使用内置文件');
        const inputs = loadInputs({
          catalog,
          directory,
          calendar: opts.calendar,
          rosters: opts.rosters,
          events: opts.events,
          // A channel without its secret is refused before anything is registered (docs/channels.md).
          env: process.env,
        });
        // Every definition is checked before connecting: a run that cannot start one starts none.
        assertRegistrable(inputs);
        const summary = await withDuban(async (d) => {
          const result = await d.register(inputs.trackers, {
            prune: opts.prune,
            dryRun: opts.dryRun,
            by: opts.by ?? defaultActor(),
            onProgress: progressBar(io),
          });
          // The web service takes its roles from the directory as registered (docs/web.md).
          if (!opts.dryRun) await saveSnapshot(d, inputs, opts.by ?? defaultActor());
          return result;
        });
        io.out(
          opts.json
            ? `${JSON.stringify({ dryRun: !!opts.dryRun, ...summary })}\n`
            : summaryText(summary, !!opts.dryRun),
        );
      },
    );

  // Events (event-relative deadlines): the file is the record of dates; setting one re-registers, so every
  // tracker waiting for the event plans from the new date, and one whose date moved re-plans.
  const event = program
    .command('event')
    .description('以事件计时的截止时间所依据的事件（会议日期、文件发布）：设置、清除、列出');
  const changeEvent =
    (date: (d: string | undefined) => string | null) =>
    async (
      id: string,
      given: string | undefined,
      catalog: string | undefined,
      directory: string | undefined,
      opts: { events: string; note?: string; calendar?: string; rosters?: string; by?: string; json?: boolean },
    ) => {
      if ((catalog === undefined) !== (directory === undefined))
        throw new InputError('请同时给出任务清单和单位名录，或都不给以使用内置文件');
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
        inputs = loadInputs({
          catalog,
          directory,
          calendar: opts.calendar,
          rosters: opts.rosters,
          events: tmp,
          env: process.env,
        });
      } finally {
        unlinkSync(tmp);
      }
      writeFileSync(opts.events, next);
      const summary = await withDuban((d) =>
        d.register(inputs.trackers, { by: opts.by ?? defaultActor(), onProgress: progressBar(io) }),
      );
      io.out(
        opts.json
          ? `${JSON.stringify(summary)}\n`
          : `事件 ${id}：${date(given) ?? '无日期（相关任务等待）'}\n${summaryText(summary, false)}`,
      );
    };
  event
    .command('set')
    .description('设置或更改事件的日期，并更新依赖该事件的督办任务')
    .argument('<id>', '事件编号，如 pc-session-2027-06')
    .argument('<date>', '日期，YYYY-MM-DD')
    .argument('[catalog]', '任务清单 YAML 文件（默认：内置任务清单）')
    .argument('[directory]', '单位名录 YAML 文件（默认：内置单位名录）')
    .requiredOption('--events <file>', '要更改的事件 YAML 文件')
    .option('--note <text>', '事件说明')
    .option('--calendar <file>', '日历文件，增补或替换某些年份的节假日数据')
    .option('--rosters <file>', '人员名单 CSV，供按人计的任务使用')
    .option('--by <name>', '更改人，记入台账')
    .option('--json', '以 JSON 输出登记汇总')
    .addHelpText(
      'after',
      '\n示例：\n  duban event set pc-session-2027-06 2027-06-20 catalog.yaml directory.yaml --events events.yaml',
    )
    .action(changeEvent((d) => dateOption(d, '<date>')!));
  event
    .command('clear')
    .description('清除事件的日期（取消或推迟）：相关督办任务等待，不发通知')
    .argument('<id>', '事件编号')
    .argument('[catalog]', '任务清单 YAML 文件（默认：内置任务清单）')
    .argument('[directory]', '单位名录 YAML 文件（默认：内置单位名录）')
    .requiredOption('--events <file>', '要更改的事件 YAML 文件')
    .option('--calendar <file>', '日历文件，增补或替换某些年份的节假日数据')
    .option('--rosters <file>', '人员名单 CSV，供按人计的任务使用')
    .option('--by <name>', '更改人，记入台账')
    .option('--json', '以 JSON 输出登记汇总')
    .addHelpText(
      'after',
      '\n示例：\n  duban event clear pc-session-2027-06 catalog.yaml directory.yaml --events events.yaml',
    )
    .action(
      (
        id: string,
        catalog: string | undefined,
        directory: string | undefined,
        opts: Parameters<ReturnType<typeof changeEvent>>[4],
      ) => changeEvent(() => null)(id, undefined, catalog, directory, opts),
    );
  event
    .command('list')
    .description('列出文件中的事件及其日期')
    .requiredOption('--events <file>', '事件 YAML 文件')
    .option('--json', '以 JSON 输出')
    .action((opts: { events: string; json?: boolean }) => {
      const { events, problems } = loadEventsFile(opts.events);
      if (problems.length)
        throw new InputError(
          problems
            .map((p) => `${p.file}:${p.line}:${p.column}: ${p.field ? `${p.field}: ` : ''}${p.message}`)
            .join('\n'),
        );
      io.out(
        opts.json
          ? `${JSON.stringify(events)}\n`
          : events
              .map((e) => `${e.id}  ${e.date ?? '（无日期：相关任务等待）'}${e.note ? `  ${e.note}` : ''}`)
              .join('\n') + '\n',
      );
    });
}
