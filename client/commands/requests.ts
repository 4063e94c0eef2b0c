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
  const tracker = (c: Command) => c.argument('<obligation>', '任务编号').argument('<unit>', '单位编号');
  const actor = (c: Command) =>
    c
      .option('--by <name>', '办理人，记入台账（默认：$DUBAN_USER 或登录名）')
      .option('--period <label>', '请求针对的开放期次，如 2026 或 2027-Q1（默认：最早的开放期次）')
      .option('--as <unit>', '以该协办单位的身份办理主办单位的督办任务：协办单位只能签收和反馈进展')
      .option('--json', '以 JSON 输出督办任务的状态');

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
    .description('报送（附佐证材料）；此后不再提醒和催办')
    .option('--text <note>', '办理情况')
    .option('--link <url>', '佐证材料的网址（http 或 https）')
    .option('--doc <number>', '文号')
    .addHelpText(
      'after',
      '\n示例：\n  duban submit annual-report-dept sfj --doc "X司发〔2027〕3号" --link https://example.org/report --by 黄丽娟',
    )
    .action(
      act('submit', (o, actor) => ({
        ...actor,
        evidence: { text: textOption(o.text), link: linkOption(o.link), documentNumber: textOption(o.doc) },
      })),
    );

  actor(tracker(program.command('record')))
    .description('登记一次有次数要求的活动（讲座、学法活动、案卷评查）')
    .requiredOption('--date <YYYY-MM-DD>', '举办日期')
    .requiredOption('--topic <text>', '主题')
    .option('--person <id>', '按人计的任务：人员（其在人员名单中的编号）')
    .option('--hours <n>', '按学时计的按人任务：本次的学时数')
    .addHelpText(
      'after',
      '\n示例：\n  duban record yibashou-jiangfa sfj --date 2027-03-18 --topic 行政处罚法专题\n  duban record officer-training scjgj --person 15010001 --hours 8 --date 2027-03-18 --topic 行政处罚法培训',
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
    .description('报送比率类或数量类任务本期的数据（出庭应诉率、办案人员数）；再次报送的数据取代之前的')
    .option('--numerator <n>', '比率类：符合要求的案件数（如负责人出庭的案件数）')
    .option('--denominator <n>', '比率类：本期全部案件数')
    .option('--count <n>', '数量类：数值（如办案人员数）')
    .option('--note <text>', '数据的来源和统计方法')
    .option('--link <url>', '佐证材料的网址（http 或 https）')
    .addHelpText(
      'after',
      '\n示例：\n  duban figures court-appearance-rate county-a --numerator 18 --denominator 20\n  duban figures reconsideration-handlers county-a --count 3',
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
    .description('签收：单位确认已收到任务；提醒照常发送')
    .addHelpText(
      'after',
      '\n示例：\n  duban ack annual-report-dept sfj --by 黄丽娟\n  duban ack annual-report-dept sfj --as fgw --by 发改委联络员   # 协办单位签收',
    )
    .action(act('acknowledge', (_o, actor) => actor));

  actor(tracker(program.command('progress')))
    .description('反馈进展：一条注明日期的说明，可附佐证材料；提醒照常发送')
    .requiredOption('--note <text>', '目前的进展')
    .option('--link <url>', '佐证材料的网址（http 或 https）')
    .option('--doc <number>', '文号')
    .addHelpText(
      'after',
      '\n示例：\n  duban progress annual-report-dept sfj --note 初稿已完成，正在征求意见 --by 黄丽娟',
    )
    .action(
      act('progress', (o, actor) => ({
        ...actor,
        note: requiredText(o.note, '--note'),
        ...(o.link || o.doc ? { evidence: { link: textOption(o.link), documentNumber: textOption(o.doc) } } : {}),
      })),
    );

  actor(tracker(program.command('verify')))
    .description('核实/销号：核实通过并评定等次，或退回重办')
    .option('--accept', '核实通过')
    .addOption(new Option('--rating <rating>', '核实通过时的评定等次').choices([...RATINGS]))
    .option('--return', '退回重办')
    .option('--reason <text>', '退回理由')
    .addHelpText(
      'after',
      '\n示例：\n  duban verify annual-report-dept sfj --accept --rating 良好\n  duban verify annual-report-dept sfj --return --reason 缺少佐证材料',
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

  const extend = program.command('extend').description('延期：在截止前申请，或审批');
  actor(tracker(extend.command('request')))
    .description('在当前截止日期之前申请新的截止日期')
    .requiredOption('--to <YYYY-MM-DD>', '新的截止日期')
    .requiredOption('--reason <text>', '理由')
    .addHelpText(
      'after',
      '\n示例：\n  duban extend request annual-report-dept sfj --to 2027-03-31 --reason 需等待统计数据',
    )
    .action(
      act('requestExtension', (o, actor) => ({
        ...actor,
        newDue: dateOption(requiredText(o.to, '--to'), '--to')!,
        reason: requiredText(o.reason, '--reason'),
      })),
    );
  actor(tracker(extend.command('decide')))
    .description('批准或驳回待审批的延期申请')
    .option('--approve', '批准')
    .option('--reject', '驳回')
    .option('--reason <text>', '理由')
    .addHelpText('after', '\n示例：\n  duban extend decide annual-report-dept sfj --approve')
    .action(
      act('decideExtension', (o, actor) => {
        if (!!o.approve === !!o.reject) throw new InputError('--approve 和 --reject 须且只能给出一个');
        return { ...actor, approve: !!o.approve, reason: textOption(o.reason) };
      }),
    );

  actor(tracker(program.command('waive')))
    .description('免除当前期次，如涉密报告不予公开')
    .requiredOption('--reason <text>', '理由')
    .addHelpText('after', '\n示例：\n  duban waive annual-report-publish szf --reason 报告涉密，不予公开')
    .action(act('waive', (o, actor) => ({ ...actor, reason: requiredText(o.reason, '--reason') })));
  actor(tracker(program.command('urge')))
    .description('督察单位对逾期（红灯）期次立即发出催办；每个期次每个工作日至多一次')
    .option('--note <text>', '催办意见，附在通知中')
    .addHelpText(
      'after',
      '\n示例：\n  duban urge annual-report-dept sfj --by 依法治市办王明 --note 请于本周五前报送 --period 2026',
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
    .description('退回：单位将期次退回督察单位（任务不属本单位）并说明理由；督察单位决定前提醒照常发送')
    .requiredOption('--reason <text>', '退回理由（为何不属本单位）')
    .addHelpText(
      'after',
      '\n示例：\n  duban hand-back annual-report-dept jyj --reason 该事项由市场监管局负责 --by 教育局联络员',
    )
    .action(
      act(
        'handBack',
        (o, actor) => ({ ...actor, reason: requiredText(o.reason, '--reason') }),
        () => '已退回督察单位，等待转办或答复；在此之前提醒照常发送。',
      ),
    );
  actor(tracker(program.command('refuse-hand-back')))
    .description('督察单位不同意退回：期次仍由该单位办理')
    .requiredOption('--reason <text>', '不同意退回的理由')
    .addHelpText(
      'after',
      '\n示例：\n  duban refuse-hand-back annual-report-dept jyj --reason 本事项属教育局职责 --by 依法治市办王明',
    )
    .action(act('refuseHandBack', (o, actor) => ({ ...actor, reason: requiredText(o.reason, '--reason') })));
  actor(tracker(program.command('transfer')))
    .description(
      '转办：督察单位将开放期次连同办理记录转给另一单位（该单位同一任务的督办任务，未运行时启动）；已发送的通知不再重发',
    )
    .requiredOption('--to <unit>', '接办单位的编号（取自已登记的单位名录）')
    .requiredOption('--reason <text>', '转办理由')
    .addHelpText(
      'after',
      '\n示例：\n  duban transfer annual-report-dept jyj --to scjgj --reason 该事项由市场监管局负责 --by 依法治市办王明',
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
    .description('暂停督办任务：恢复前不发通知')
    .addHelpText('after', '\n示例：\n  duban pause yibashou-jiangfa sfj')
    .action(act('pause', (_o, actor) => actor));
  actor(tracker(program.command('resume')))
    .description('恢复已暂停的督办任务（已到期的最近一次通知立即发送）')
    .addHelpText('after', '\n示例：\n  duban resume yibashou-jiangfa sfj')
    .action(act('resume', (_o, actor) => actor));
  actor(tracker(program.command('retire')))
    .description('永久停用督办任务（台账保留其记录）')
    .requiredOption('--reason <text>', '理由')
    .addHelpText('after', '\n示例：\n  duban retire yibashou-jiangfa sfj --reason 机构改革，职能划转')
    .action(act('retire', (o, actor) => ({ ...actor, reason: requiredText(o.reason, '--reason') })));
}
