/**
 * The requests a person sends to one tracker: submit, record, figures, ack, progress, verify, extend, waive, urge,
 * pause, resume, retire. Each is the tracker's Update, typed from workflows/messages.ts; the tracker checks it
 * (its validators) and answers with what to fix, or with its status.
 */
import { Command, Option } from 'commander';
import { Action } from '../../access/temporal';
import { transferTarget } from '../../access/transfer';
import { RATINGS } from '../../domain/tracking';
import { trackerId } from '../../domain/trackers';
import type { Actor, Requests } from '../../workflows/messages';
import { InputError } from '../errors';
import { colours, statusLines } from '../format';
import { Io, dateOption, defaultActor, linkOption, requiredText, textOption, wholeOption, withDuban } from './common';

type Options = Record<string, string | boolean | undefined>;

export function addRequestCommands(program: Command, io: Io) {
  const tracker = (c: Command) => c.argument('<obligation>', 'obligation id').argument('<unit>', 'unit id');
  const actor = (c: Command) =>
    c
      .option('--by <name>', 'who acts, recorded in the ledger (default: $DUBAN_USER or the login name)')
      .option(
        '--period <label>',
        'the open period the request is for, e.g. 2026 or 2027-Q1 (default: the oldest open one)',
      )
      .option(
        '--as <unit>',
        "act for this cooperating unit (协办单位) on the lead's tracker: the tracker accepts ack and progress only",
      )
      .option('--json', 'print the tracker status as JSON');

  /** One request, built from the options (checked before connecting) in the shape of the action's Update. */
  const act =
    <A extends Action>(
      action: A,
      build: (opts: Options, actor: Actor) => Requests[A],
      /** A line said first in human output: what the request set going. */
      said?: (request: Requests[A]) => string,
    ) =>
    async (obligation: string, unit: string, opts: Options) => {
      const request = build(opts, {
        by: textOption(opts.by) ?? defaultActor(),
        ...(opts.period ? { period: String(opts.period) } : {}),
        ...(typeof opts.as === 'string' ? { unit: opts.as } : {}),
      });
      const status = await withDuban((d) => d.act(trackerId(obligation, unit), action, request));
      const lines = [...(said ? [said(request)] : []), ...statusLines(status, colours(io.colour))];
      io.out(opts.json ? `${JSON.stringify(status)}\n` : `${lines.join('\n')}\n`);
    };

  actor(tracker(program.command('submit')))
    .description('Record a submission (报送) with its evidence; stops the ladder')
    .option('--text <note>', 'what was done')
    .option('--link <url>', 'where the evidence is (http or https)')
    .option('--doc <number>', 'document number (文号)')
    .addHelpText(
      'after',
      '\nExample:\n  duban submit annual-report-dept sfj --doc "X司发〔2027〕3号" --link https://example.org/report --by 黄丽娟',
    )
    .action(
      act('submit', (o, actor) => ({
        ...actor,
        evidence: { text: textOption(o.text), link: linkOption(o.link), documentNumber: textOption(o.doc) },
      })),
    );

  actor(tracker(program.command('record')))
    .description('Record one event of a quota obligation (a lecture, a study session, a case-file review)')
    .requiredOption('--date <YYYY-MM-DD>', 'the day it took place')
    .requiredOption('--topic <text>', 'its topic')
    .option('--person <id>', 'per-person quotas: the person (their id in the rosters file)')
    .option('--hours <n>', 'per-person quotas counted in hours: the hours of this record')
    .addHelpText(
      'after',
      '\nExamples:\n  duban record yibashou-jiangfa sfj --date 2027-03-18 --topic 行政处罚法专题\n  duban record officer-training scjgj --person 15010001 --hours 8 --date 2027-03-18 --topic 行政处罚法培训',
    )
    .action(
      act('record', (o, actor) => {
        const hours = o.hours === undefined ? undefined : Number(o.hours);
        if (hours !== undefined && !Number.isFinite(hours))
          throw new InputError(`--hours “${String(o.hours)}”不是数字，如 8 或 3.5`);
        return {
          ...actor,
          date: dateOption(requiredText(o.date, '--date'), '--date')!,
          topic: requiredText(o.topic, '--topic'),
          ...(o.person !== undefined ? { person: String(o.person) } : {}),
          ...(hours !== undefined ? { hours } : {}),
        };
      }),
    );

  actor(tracker(program.command('figures')))
    .description(
      'Report the figures of a rate or count obligation for the period (出庭应诉率, 办案人员数); a later report replaces it',
    )
    .option('--numerator <n>', 'rate: the cases that count (e.g. hearings a head attended)')
    .option('--denominator <n>', 'rate: all cases of the period')
    .option('--count <n>', 'count: the figure (e.g. case handlers)')
    .option('--note <text>', 'how the figures were obtained')
    .option('--link <url>', 'where the evidence is (http or https)')
    .addHelpText(
      'after',
      '\nExamples:\n  duban figures court-appearance-rate county-a --numerator 18 --denominator 20\n  duban figures reconsideration-handlers county-a --count 3',
    )
    .action(
      act('report', (o, actor) => ({
        ...actor,
        numerator: wholeOption(o.numerator, '--numerator'),
        denominator: wholeOption(o.denominator, '--denominator'),
        count: wholeOption(o.count, '--count'),
        note: textOption(o.note),
        ...(o.link ? { evidence: { link: linkOption(o.link) } } : {}),
      })),
    );

  actor(tracker(program.command('ack')))
    .description('Acknowledge a task (签收): the unit confirms it received it; reminders continue')
    .addHelpText(
      'after',
      '\nExamples:\n  duban ack annual-report-dept sfj --by 黄丽娟\n  duban ack annual-report-dept sfj --as fgw --by 发改委联络员   # 协办单位签收',
    )
    .action(act('acknowledge', (_o, actor) => actor));

  actor(tracker(program.command('progress')))
    .description('Report interim progress (反馈进展): a dated note, with optional evidence; reminders continue')
    .requiredOption('--note <text>', 'what has been done so far')
    .option('--link <url>', 'where the evidence is (http or https)')
    .option('--doc <number>', 'document number (文号)')
    .addHelpText(
      'after',
      '\nExample:\n  duban progress annual-report-dept sfj --note 初稿已完成，正在征求意见 --by 黄丽娟',
    )
    .action(
      act('progress', (o, actor) => ({
        ...actor,
        note: requiredText(o.note, '--note'),
        ...(o.link || o.doc ? { evidence: { link: textOption(o.link), documentNumber: textOption(o.doc) } } : {}),
      })),
    );

  actor(tracker(program.command('verify')))
    .description('Accept a submission with a rating, or return it for rework (核实/销号)')
    .option('--accept', 'accept it')
    .addOption(new Option('--rating <rating>', 'rating when accepting').choices([...RATINGS]))
    .option('--return', 'return it for rework')
    .option('--reason <text>', 'why it is returned')
    .addHelpText(
      'after',
      '\nExamples:\n  duban verify annual-report-dept sfj --accept --rating 良好\n  duban verify annual-report-dept sfj --return --reason 缺少佐证材料',
    )
    .action(
      act('verify', (o, actor) => {
        if (!!o.accept === !!o.return) throw new InputError('--accept 和 --return 须且只能给出一个');
        return {
          ...actor,
          decision: o.accept ? 'accept' : 'return',
          rating: RATINGS.find((r) => r === o.rating),
          reason: textOption(o.reason),
        };
      }),
    );

  const extend = program.command('extend').description('Extensions (延期): request one before due, or decide on one');
  actor(tracker(extend.command('request')))
    .description('Request a new due date, before the current one')
    .requiredOption('--to <YYYY-MM-DD>', 'the new due date')
    .requiredOption('--reason <text>', 'why')
    .addHelpText(
      'after',
      '\nExample:\n  duban extend request annual-report-dept sfj --to 2027-03-31 --reason 需等待统计数据',
    )
    .action(
      act('requestExtension', (o, actor) => ({
        ...actor,
        newDue: dateOption(requiredText(o.to, '--to'), '--to')!,
        reason: requiredText(o.reason, '--reason'),
      })),
    );
  actor(tracker(extend.command('decide')))
    .description('Approve or reject the pending extension request')
    .option('--approve', 'approve it')
    .option('--reject', 'reject it')
    .option('--reason <text>', 'why')
    .addHelpText('after', '\nExample:\n  duban extend decide annual-report-dept sfj --approve')
    .action(
      act('decideExtension', (o, actor) => {
        if (!!o.approve === !!o.reject) throw new InputError('--approve 和 --reject 须且只能给出一个');
        return { ...actor, approve: !!o.approve, reason: textOption(o.reason) };
      }),
    );

  actor(tracker(program.command('waive')))
    .description('Waive the current period (免除), e.g. a report that is secret is not published')
    .requiredOption('--reason <text>', 'why')
    .addHelpText('after', '\nExample:\n  duban waive annual-report-publish szf --reason 报告涉密，不予公开')
    .action(act('waive', (o, actor) => ({ ...actor, reason: requiredText(o.reason, '--reason') })));
  actor(tracker(program.command('urge')))
    .description(
      'Send a 催办 at once for an overdue (red) period, from the supervising office; at most one a working day per period',
    )
    .option('--note <text>', 'what the office asks for, added to the message (催办意见)')
    .addHelpText(
      'after',
      '\nExample:\n  duban urge annual-report-dept sfj --by 依法治市办王明 --note 请于本周五前报送 --period 2026',
    )
    .action(
      act(
        'urge',
        (o, actor) => ({ ...actor, ...(o.note ? { note: textOption(o.note) } : {}) }),
        (r) =>
          `已受理${r.by}的催办，催办通知即时发给承办单位负责人和联络员（${r.period ? `期次${r.period}；` : ''}每期每个工作日最多催办一次）。`,
      ),
    );
  actor(tracker(program.command('hand-back')))
    .description(
      '退回: the unit hands a period back to its supervising office (the task is not its own), with the reason; reminders continue until the office decides',
    )
    .requiredOption('--reason <text>', "why the task is not this unit's (退回理由)")
    .addHelpText(
      'after',
      '\nExample:\n  duban hand-back annual-report-dept jyj --reason 该事项由市场监管局负责 --by 教育局联络员',
    )
    .action(
      act(
        'handBack',
        (o, actor) => ({ ...actor, reason: requiredText(o.reason, '--reason') }),
        () => '已退回督察单位，等待转办或答复；在此之前提醒照常发送。',
      ),
    );
  actor(tracker(program.command('refuse-hand-back')))
    .description('The supervising office refuses a 退回: the period stays with the unit')
    .requiredOption('--reason <text>', 'why the task stays with the unit')
    .addHelpText(
      'after',
      '\nExample:\n  duban refuse-hand-back annual-report-dept jyj --reason 本事项属教育局职责 --by 依法治市办王明',
    )
    .action(act('refuseHandBack', (o, actor) => ({ ...actor, reason: requiredText(o.reason, '--reason') })));
  actor(tracker(program.command('transfer')))
    .description(
      '转办: the supervising office moves an open period to another unit (its tracker of the same obligation, started when not running), with its history; nothing already sent is sent again',
    )
    .requiredOption('--to <unit>', 'the unit id that takes the task over (from the registered directory)')
    .requiredOption('--reason <text>', 'why (转办理由)')
    .addHelpText(
      'after',
      '\nExample:\n  duban transfer annual-report-dept jyj --to scjgj --reason 该事项由市场监管局负责 --by 依法治市办王明',
    )
    .action(async (obligation: string, unit: string, opts: Options) => {
      const to = requiredText(opts.to, '--to');
      const reason = requiredText(opts.reason, '--reason');
      const id = trackerId(obligation, unit);
      const status = await withDuban(async (d) => {
        const ledger = await d.openLedger();
        const target = await transferTarget(ledger, id, to).finally(() => ledger.close());
        if ('error' in target) throw new InputError(`--to ${to}: ${target.error}`);
        return d.act(id, 'transfer', {
          by: textOption(opts.by) ?? defaultActor(),
          ...(opts.period ? { period: String(opts.period) } : {}),
          to,
          reason,
          target: target.definition,
        });
      });
      const lines = [
        `已转办给${to}：该期次连同已发通知、签收和进展记录移交其跟踪项。`,
        ...statusLines(status, colours(io.colour)),
      ];
      io.out(opts.json ? `${JSON.stringify(status)}\n` : `${lines.join('\n')}\n`);
    });
  actor(tracker(program.command('pause')))
    .description('Pause a tracker: no notices until it is resumed')
    .addHelpText('after', '\nExample:\n  duban pause yibashou-jiangfa sfj')
    .action(act('pause', (_o, actor) => actor));
  actor(tracker(program.command('resume')))
    .description('Resume a paused tracker (the latest notice already due is sent at once)')
    .addHelpText('after', '\nExample:\n  duban resume yibashou-jiangfa sfj')
    .action(act('resume', (_o, actor) => actor));
  actor(tracker(program.command('retire')))
    .description('Retire a tracker for good (the ledger keeps its record)')
    .requiredOption('--reason <text>', 'why')
    .addHelpText('after', '\nExample:\n  duban retire yibashou-jiangfa sfj --reason 机构改革，职能划转')
    .action(act('retire', (o, actor) => ({ ...actor, reason: requiredText(o.reason, '--reason') })));
}
