/**
 * 代办: `duban stand-in set` names who stands in for a unit's head or liaison for a date range (both days
 * inclusive, in the catalog's zone); `duban stand-in list` shows the ranges; `duban stand-in cancel` ends one.
 */
import { Command } from 'commander';
import { openLedger } from '../../access/ledger';
import { setStandIn } from '../../access/stand-ins';
import { loadSettings } from '../../config/settings';
import { InputError } from '../errors';
import { Io, dateOption, defaultActor, requiredText, textOption } from './common';

export function addStandInCommands(program: Command, io: Io) {
  const group = program
    .command('stand-in')
    .description('代办：在一段日期内，由谁代不在岗的单位负责人或联络员接收通知并办理');

  group
    .command('set')
    .description('指定单位名录中的人代办：发给不在岗者的通知改发代办人（抄送不在岗者），链接绑定代办人')
    .argument('<unit>', '单位编号')
    .requiredOption('--absent <email>', '单位负责人或联络员的邮箱地址')
    .requiredOption('--stand-in <email>', '单位名录中某人的邮箱地址')
    .requiredOption('--from <YYYY-MM-DD>', '不在岗的第一天（含当天）')
    .requiredOption('--to <YYYY-MM-DD>', '不在岗的最后一天（含当天）')
    .option('--by <name>', '设置人，记入台账（默认：$DUBAN_USER 或登录名）')
    .option('--json', '以 JSON 输出代办')
    .addHelpText(
      'after',
      '\n示例：\n  duban stand-in set sfj --absent sfj.head@xx.example.org --stand-in sfj.deputy@xx.example.org --from 2027-02-01 --to 2027-02-10',
    )
    .action(async (unit: string, opts: Record<string, string | boolean | undefined>) => {
      const input = {
        unit,
        absent: requiredText(opts.absent, '--absent'),
        standIn: requiredText(opts.standIn, '--stand-in'),
        from: dateOption(requiredText(opts.from, '--from'), '--from')!,
        to: dateOption(requiredText(opts.to, '--to'), '--to')!,
        by: textOption(opts.by) ?? defaultActor(),
      };
      const ledger = await openLedger(loadSettings());
      const result = await setStandIn(ledger, input, Date.now()).finally(() => ledger.close());
      if ('error' in result) throw new InputError(`${result.error}，未作任何更改`);
      const s = result.standIn;
      io.out(
        opts.json
          ? `${JSON.stringify({ id: result.id, ...s })}\n`
          : `已设置代办：${s.from} 至 ${s.to}（含首尾两日），发给${s.absent.name}的通知改发${s.standIn.name}，${s.absent.name}抄送。编号 ${result.id}\n`,
      );
    });

  group
    .command('list')
    .description('列出未取消的代办')
    .option('--json', '以 JSON 输出')
    .addHelpText('after', '\n示例：\n  duban stand-in list --json')
    .action(async (opts: { json?: boolean }) => {
      const ledger = await openLedger(loadSettings());
      const all = await ledger.standIns.all().finally(() => ledger.close());
      if (opts.json) return io.out(`${JSON.stringify(all)}\n`);
      if (all.length === 0) return io.out('没有代办安排。\n');
      for (const s of all)
        io.out(`${s.id}  ${s.unit}  ${s.from} 至 ${s.to}  ${s.absent.name} → ${s.standIn.name}（${s.by}设置）\n`);
    });

  group
    .command('cancel')
    .description('提前结束代办（记录保留）')
    .argument('<id>', 'stand-in set 输出的编号')
    .addHelpText('after', '\n示例：\n  duban stand-in cancel 3f1c2a9b0d4e5f60718293a4')
    .action(async (id: string) => {
      const ledger = await openLedger(loadSettings());
      const done = await ledger.standIns.cancel(id, Date.now()).finally(() => ledger.close());
      if (!done) throw new InputError(`没有编号为 ${id} 的代办（duban stand-in list 列出全部代办）`);
      io.out(`已取消代办 ${id}\n`);
    });
}
