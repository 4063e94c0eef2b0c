/**
 * The commands on the files alone, no service needed: validate, plan, ics, and simulate (the real workflows on
 * the time-skipping server).
 */
import { Command, Option } from 'commander';
import { writeFileSync } from 'node:fs';
import { InvalidInputError, Inputs } from '../../config/load';
import { DayNumber, formatDate, parseDate } from '../../domain/dates';
import {
  PlannedNotice,
  firstPeriodNotYetDue,
  ladderOverlaps,
  noticeConcerns,
  noticeKey,
  planWindow,
} from '../../domain/planner';
import { formatLocal, localDay, zonedInstant } from '../../domain/zone';
import { LedgerNotFoundError, LedgerUnavailableError } from '../../ledger';
import { openLedger } from '../../access/ledger';
import { SettingsError, loadSettings } from '../../config/settings';
import { escalationEndWarnings, raiseWarnings } from '../../domain/validate';
import { InputError } from '../errors';
import { table } from '../format';
import { unitCalendar } from '../ics';
import { InputOptions, Io, inputs, parseDay } from './common';
import { pastOneOffWarnings } from '../../domain/validate';
import { NOTICE_WORDS, OUTCOME_WORDS, stateWords } from '../../domain/words';

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
    `警告：${yearRanges(years)}年的工作日历为暂定：日历中没有国务院办公厅当年的节假日安排通知` +
    `（已有官方数据的年份：${official.length ? yearRanges(official) : '无'}），只排除法定节假日，没有调休上班日。` +
    '通知发布后日期可能变动；请用 --calendar 加入（见 docs/calendar.md）。'
  );
}

/** A planned notice in words: the stage's word from domain/words.ts (督办 for an escalation, as everywhere else). */
function describeStage(n: PlannedNotice): string {
  if (n.stage === 'reminder')
    return `${NOTICE_WORDS.reminder} ${n.step === 0 ? '截止当日' : `截止前${n.step}个工作日`}`;
  if (n.stage === 'raise') return NOTICE_WORDS.raise!;
  return `${NOTICE_WORDS.escalation} ${n.level}级${n.step > 0 ? `第${n.step + 1}次` : ''}`;
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
    .description('检查任务清单和单位名录（及日历文件），逐一报告每处问题的文件、行号和字段')
    .argument('[catalog]', '任务清单 YAML 文件（默认：内置任务清单）')
    .argument('[directory]', '单位名录 YAML 文件（默认：内置单位名录）')
    .option('--calendar <file>', '日历文件，增补或替换某些年份的节假日数据')
    .option('--rosters <file>', '人员名单（CSV：unit,roster,person,name），供按人计的任务使用')
    .option('--events <file>', '事件文件（YAML：id、date），供以事件计时的任务使用')
    .option('--json', '以一个 JSON 对象输出结果')
    .addHelpText(
      'after',
      '\n示例：\n  duban validate my-catalog.yaml my-directory.yaml\n  duban validate my-catalog.yaml my-directory.yaml --calendar holidays-2027.yaml --json',
    )
    .action((catalog: string | undefined, directory: string | undefined, opts: InputOptions) => {
      let loaded: Inputs;
      try {
        loaded = inputs(catalog, directory, opts, true);
      } catch (e) {
        if (opts.json && e instanceof InvalidInputError)
          out(`${JSON.stringify({ ok: false, problems: e.problems, ...(e.omitted ? { omitted: e.omitted } : {}) })}\n`);
        throw e;
      }
      // Warnings do not refuse: overlapping periods are allowed (DOMAIN.md 19), but rarely meant.
      const today = localDay(Date.now(), loaded.catalog.timeZone);
      const warnings = [
        ...ladderOverlaps(loaded.trackers, loaded.calendar, today),
        ...pastOneOffWarnings(loaded.catalog, formatDate(today)),
        ...escalationEndWarnings(loaded.catalog),
        ...raiseWarnings(loaded.catalog, loaded.directory),
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
        for (const w of warnings) err(`警告：${w}\n`);
        out(`检查通过：${summary.obligations}项任务，${summary.units}个单位，${summary.trackers}项督办任务\n`);
      }
    });

  program
    .command('plan')
    .description('列出在无人报送的情况下，各督办任务在一段时间内将收到的全部通知')
    .argument('[catalog]', '任务清单 YAML 文件（默认：内置任务清单）')
    .argument('[directory]', '单位名录 YAML 文件（默认：内置单位名录）')
    .option('--calendar <file>', '日历文件，增补或替换某些年份的节假日数据')
    .option('--rosters <file>', '人员名单（CSV：unit,roster,person,name），供按人计的任务使用')
    .option('--events <file>', '事件文件（YAML：id、date），供以事件计时的任务使用')
    .option('--from <date>', '时间段的第一天，YYYY-MM-DD（默认：任务清单时区的今天）')
    .option('--to <date>', '时间段的最后一天，YYYY-MM-DD（默认：--from 一年后的前一天）')
    .addOption(new Option('--unit <id>', '只看此单位'))
    .addOption(new Option('--obligation <id>', '只看此任务'))
    .option(
      '--registered <date>',
      '台账中没有的任务的登记日期，YYYY-MM-DD（默认：--from）；服务不开启登记前已截止的期次',
    )
    .option('--all', '同时列出服务不会发送的通知并注明原因（从未开启或已办结的期次）')
    .option(
      '--json',
      '每行一个 JSON 对象：at、local、obligation、unit、period、due、stage、level、to、cc、key（加 --all 时还有 skipped）',
    )
    .addHelpText(
      'after',
      '\n示例：\n  duban plan --from 2027-01-01 --to 2027-12-31\n  duban plan catalog.yaml directory.yaml --from 2027-01-01 --to 2027-03-31 --unit sfj --json\n  duban plan --from 2027-01-01 --registered 2026-12-01 --all',
    )
    .action(
      async (
        catalog: string | undefined,
        directory: string | undefined,
        opts: InputOptions & {
          from?: string;
          to?: string;
          unit?: string;
          obligation?: string;
          registered?: string;
          all?: boolean;
        },
      ) => {
        const loaded = inputs(catalog, directory, opts);
        const zone = loaded.catalog.timeZone;
        const from = opts.from ? parseDay(opts.from, '--from') : localDay(Date.now(), zone);
        const to = opts.to ? parseDay(opts.to, '--to') : oneYearLater(from);
        if (to < from) throw new InputError(`--to ${formatDate(to)} 早于 --from ${formatDate(from)}`);
        const registeredOn = opts.registered ? parseDay(opts.registered, '--registered') : from;
        let trackers = loaded.trackers;
        if (opts.unit !== undefined) {
          if (!loaded.directory.units.some((u) => u.id === opts.unit))
            throw new InputError(`--unit：单位名录中没有单位“${opts.unit}”`);
          // The unit's own trackers, those it cooperates on (协办) and those it would raise (提级督办); their
          // notices are then held to the ones that concern it (noticeConcerns).
          trackers = trackers.filter(
            (t) =>
              t.unit.id === opts.unit ||
              (t.cooperators ?? []).some((c) => c.id === opts.unit) ||
              t.raise?.office.id === opts.unit,
          );
        }
        if (opts.obligation !== undefined) {
          if (!loaded.catalog.obligations.some((o) => o.id === opts.obligation)) {
            throw new InputError(`--obligation：任务清单中没有任务“${opts.obligation}”`);
          }
          trackers = trackers.filter((t) => t.obligation.id === opts.obligation);
        }
        const planned = planWindow(trackers, loaded.calendar, { from, to });
        const byTracker = new Map(trackers.map((t) => [t.trackerId, t]));
        const plan =
          opts.unit === undefined
            ? planned
            : {
                ...planned,
                notices: planned.notices.filter((n) => noticeConcerns(byTracker.get(n.trackerId)!, n, opts.unit!)),
              };
        // What the live service will not send: periods due before a tracker was registered are never opened, notices
        // whose time passed before registration are passed over, and done or settled periods get no more notices.
        const facts = await serviceFacts(err);
        const zoneOf = new Map(trackers.map((t) => [t.trackerId, t.timeZone]));
        const now = Date.now();
        const byId = new Map(trackers.map((t) => [t.trackerId, t]));
        const registration = new Map<string, { at: number; first: string }>();
        const registrationOf = (id: string) => {
          let r = registration.get(id);
          if (!r) {
            const t = byId.get(id)!;
            const at = facts?.registered.get(id) ?? zonedInstant(registeredOn, t.timeZone, 0);
            // The planner's own rule for the period a registration starts with (labels of one tracker sort in time).
            r = { at, first: firstPeriodNotYetDue(t, loaded.calendar, at).label };
            registration.set(id, r);
          }
          return r;
        };
        const skipped = (n: PlannedNotice): string | undefined => {
          const registered = registrationOf(n.trackerId);
          if (n.period < registered.first) return '登记前已截止，服务不开启该期次';
          if (n.at < registered.at) return '登记时已过（登记时只补发最近一次已到期的通知）';
          const settled = facts?.settled.get(`${n.trackerId}/${n.period}`);
          if (n.at >= now && settled) return `该期次${settled}，不再发送`;
          return undefined;
        };
        const marked = plan.notices.map((n) => ({ n, skipped: skipped(n) }));
        const omitted = marked.filter((m) => m.skipped).length;
        const shown = opts.all ? marked : marked.filter((m) => !m.skipped);
        const assumption = facts?.registered.size
          ? `台账中的任务按其登记时间计算；其余任务假定于${formatDate(registeredOn)}登记（--registered）`
          : `假定各任务于${formatDate(registeredOn)}登记（--registered 可改）`;
        const warning = provisionalWarning(plan.provisionalYears, loaded.calendar);
        if (warning) err(`${warning}\n`);
        // Event-relative trackers whose event has no date have nothing to plan: say what they wait for.
        for (const w of plan.waiting ?? []) err(`${w.trackerId}：等待事件${w.event}确定日期（确定前不发通知）\n`);
        if (omitted && !opts.all) err(`略去${omitted}条服务不会发送的通知（${assumption}；--all 列出并注明原因）\n`);
        if (opts.json) {
          const lines = shown.map(({ n, skipped }) =>
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
              ...(skipped ? { skipped } : {}),
            }),
          );
          if (lines.length) out(`${lines.join('\n')}\n`);
          return;
        }
        const header = ['时间', '任务', '单位', '期次', '截止', '通知', '收件', '抄送'];
        if (opts.all) header.push('不发送');
        const rows = shown.map(({ n, skipped }) => [
          formatLocal(n.at, zoneOf.get(n.trackerId) ?? zone),
          n.obligation,
          n.unit,
          n.period,
          n.due,
          describeStage(n),
          n.to.join(','),
          n.cc.join(','),
          ...(opts.all ? [skipped ?? ''] : []),
        ]);
        out(`${table([header, ...rows])}\n`);
        const sent = marked.filter((m) => !m.skipped);
        out(
          `\n${formatDate(from)}至${formatDate(to)}共${sent.length}条通知，涉及${new Set(sent.map((m) => m.n.trackerId)).size}项任务` +
            `（${zone}${omitted ? `；另有${omitted}条服务不会发送${opts.all ? '，已注明' : '，未列出'}` : ''}；${assumption}）\n`,
        );
      },
    );
  program
    .command('ics')
    .description('生成单位即将到来的截止日期和提醒日期的 iCalendar 文件（RFC 5545），可导入 Outlook、Apple 日历、WPS')
    .argument('[catalog]', '任务清单 YAML 文件（默认：内置任务清单）')
    .argument('[directory]', '单位名录 YAML 文件（默认：内置单位名录）')
    .requiredOption('--unit <id>', '单位')
    .option('--months <n>', '向后多少个月', '6')
    .option('--calendar <file>', '日历文件，增补或替换某些年份的节假日数据')
    .option('--rosters <file>', '人员名单（CSV：unit,roster,person,name），供按人计的任务使用')
    .option('--events <file>', '事件文件（YAML：id、date），供以事件计时的任务使用')
    .option('--out <file>', '写入此文件，而不是标准输出')
    .addHelpText('after', '\n示例：\n  duban ics --unit sfj --months 12 --out sfj.ics')
    .action(
      async (
        catalog: string | undefined,
        directory: string | undefined,
        opts: InputOptions & { unit: string; months: string; out?: string },
      ) => {
        const loaded = inputs(catalog, directory, opts);
        const months = Number(opts.months);
        if (!Number.isInteger(months) || months < 1 || months > 60)
          throw new InputError(`--months “${opts.months}”须为1至60之间的整数`);
        // Its own trackers, and those it cooperates on (协办) or would raise (提级督办): unitCalendar keeps the events
        // that concern it.
        const trackers = loaded.trackers.filter(
          (t) =>
            t.unit.id === opts.unit ||
            (t.cooperators ?? []).some((c) => c.id === opts.unit) ||
            t.raise?.office.id === opts.unit,
        );
        if (!loaded.directory.units.some((u) => u.id === opts.unit))
          throw new InputError(`--unit：单位名录中没有单位“${opts.unit}”`);
        const from = localDay(Date.now(), loaded.catalog.timeZone);
        // With a ledger, periods already done or settled keep their due date (marked) and lose their reminders.
        const facts = await serviceFacts(err);
        const ics = unitCalendar(
          trackers,
          loaded.calendar,
          { from, to: from + Math.round(months * 30.44) },
          new Date(),
          loaded.catalog.timeZone,
          facts?.settled,
          opts.unit,
        );
        if (opts.out) writeFileSync(opts.out, ics);
        else out(ics);
      },
    );

  program
    .command('simulate')
    .description('预演：在可快进时间的服务器上运行真实的工作流和活动，显示一段时间内的每封邮件')
    .argument('[catalog]', '任务清单 YAML 文件（默认：内置任务清单）')
    .argument('[directory]', '单位名录 YAML 文件（默认：内置单位名录）')
    .requiredOption('--from <date>', '第一天，YYYY-MM-DD，今天或以后')
    .requiredOption('--to <date>', '最后一天，YYYY-MM-DD')
    .option('--out <dir>', '每封邮件写成一个 .eml 文件，保存到此文件夹')
    .option('--calendar <file>', '日历文件，增补或替换某些年份的节假日数据')
    .option('--rosters <file>', '人员名单（CSV：unit,roster,person,name），供按人计的任务使用')
    .option('--events <file>', '事件文件（YAML：id、date），供以事件计时的任务使用')
    .option('--json', '每封邮件一个 JSON 对象：at、local、key、to、cc、subject、file')
    .addHelpText(
      'after',
      '\n示例：\n  duban simulate my-catalog.yaml my-directory.yaml --from 2027-01-01 --to 2027-03-31 --out preview/',
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
        if (to < from) throw new InputError(`--to ${formatDate(to)} 早于 --from ${formatDate(from)}`);
        if (from < localDay(Date.now(), loaded.catalog.timeZone))
          throw new InputError('simulate 从今天起向后预演：--from 须为今天或以后（过去的通知用 duban plan 查看）');

        const { simulate } = require('../simulate') as typeof import('../simulate');
        const mails = await simulate(loaded, { from, to }, opts.out);
        const zone = loaded.catalog.timeZone;
        if (opts.json) {
          if (mails.length)
            out(
              `${mails.map((m) => JSON.stringify({ at: new Date(m.date).toISOString(), local: formatLocal(m.date, zone), key: m.key, recipients: m.recipients, messageId: m.messageId, to: m.to, cc: m.cc, subject: m.subject, file: m.file })).join('\n')}\n`,
            );
          return;
        }
        out(
          `${mails.map((m) => `${formatLocal(m.date, zone)}  ${m.recipients.join(',')}  ${m.subject}`).join('\n')}\n`,
        );
        out(
          `\n${formatDate(from)}至${formatDate(to)}共${mails.length}封邮件${opts.out ? `，已保存在 ${opts.out}` : ''}\n`,
        );
      },
    );
}

/** What the ledger knows of the live service: when each tracker was registered, and the periods done or settled. */
export interface ServiceFacts {
  registered: Map<string, number>;
  /** `trackerId/period` of periods that get no more notices (done, waived, or settled), with their state's words. */
  settled: Map<string, string>;
}

/**
 * The ledger's facts when there is a ledger; undefined (plan and ics then go by the files alone) when there is
 * none. A ledger that cannot be reached is said on stderr, not fatal: these commands work without the service.
 */
export async function serviceFacts(err: (s: string) => void): Promise<ServiceFacts | undefined> {
  let ledger;
  try {
    ledger = await openLedger(loadSettings());
  } catch (e) {
    if (e instanceof LedgerNotFoundError) return undefined;
    if (e instanceof LedgerUnavailableError || e instanceof SettingsError) {
      err(`警告：未能读取台账（${(e as Error).message}），按文件计算\n`);
      return undefined;
    }
    throw e;
  }
  try {
    const [registered, periods] = await Promise.all([ledger.firstOpenings(), ledger.periodStates()]);
    const settled = new Map(
      periods
        .filter((p) => !p.open || p.colour === 'done' || p.colour === 'waived')
        .map((p) => [
          `${p.trackerId}/${p.period}`,
          !p.open && p.outcome
            ? OUTCOME_WORDS[p.outcome]
            : stateWords({ colour: p.colour, verification: p.verification }),
        ]),
    );
    return { registered, settled };
  } finally {
    await ledger.close();
  }
}
