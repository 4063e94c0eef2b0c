/**
 * Running the service: a worker, the web service, the whole service on embedded defaults (start), and the
 * ledger's migrations. Each is loaded when its command runs: validate and plan need neither Temporal's native
 * runtime nor the web server.
 */
import { Command } from 'commander';
import { describeLedger } from '../../ledger';
import { openLedger } from '../../access/ledger';
import { ledgerOptions, loadSettings } from '../../config/settings';
import { ExitCode, Io } from './common';

export function addServiceCommands(program: Command, io: Io) {
  program
    .command('worker')
    .description('运行 worker：执行督办任务的工作流及其活动（设置来自环境变量或 DUBAN_CONFIG）')
    .addHelpText(
      'after',
      '\n设置（环境变量，或写在 DUBAN_CONFIG 所指 YAML 文件中的同名键）：见 docs/engine.md。\n' +
        '\n示例：\n  SMTP_URL=smtp://127.0.0.1:2525 duban worker\n' +
        '  TEMPORAL_ADDRESS=temporal.example.org:7233 TEMPORAL_TLS=true DATABASE_URL=postgres://duban@db/duban SMTP_URL=smtps://mail.example.org duban worker',
    )
    .action(async () => {
      // Loaded on demand: validate and plan do not need Temporal's native runtime.

      const { main: runWorker } = require('../../worker/main') as typeof import('../../worker/main');
      const code = await runWorker();
      if (code !== 0) throw new ExitCode(code);
    });

  program
    .command('web')
    .description('运行网页服务：在浏览器中查看亮灯看板、督办任务、办理和报表，通过邮件中的链接登录（docs/web.md）')
    .addHelpText(
      'after',
      '\n设置：DUBAN_WEB_HOST（127.0.0.1）、DUBAN_WEB_PORT（8080）、DUBAN_WEB_BASE_URL、DUBAN_ADMINS、SMTP_URL 及 worker 的设置；见 docs/web.md。\n\n示例：\n  DUBAN_WEB_BASE_URL=https://duban.example.gov.cn DUBAN_ADMINS=admin@example.gov.cn duban web',
    )
    .action(async () => {
      const { runWeb } = require('../../web/main') as typeof import('../../web/main');
      const code = await runWeb(io.out);
      if (code !== 0) throw new ExitCode(code);
    });
  program
    .command('start')
    .description('以内置默认配置运行整个服务：Temporal 开发服务器、邮件捕获器、台账、worker；并登记任务清单')
    .addHelpText(
      'after',
      '\n环境变量：DUBAN_DATA_DIR（默认 .duban）、DUBAN_TEMPORAL_PORT（7233）、DUBAN_UI_PORT（8233）、DUBAN_MAIL_PORT（2525）、\n' +
        'DUBAN_DEV_SERVER_RESTARTS（3：开发服务器意外停止时，十分钟内最多重启几次，之后 start 停止）、\n' +
        'DUBAN_CATALOG / DUBAN_DIRECTORY / DUBAN_CALENDAR；设置 TEMPORAL_ADDRESS、SMTP_URL、DATABASE_URL 则改用真实的基础设施。\n' +
        '\n示例：\n  npm start\n  DUBAN_CATALOG=my-catalog.yaml DUBAN_DIRECTORY=my-directory.yaml duban start',
    )
    .action(async () => {
      const { start } = require('../start') as typeof import('../start');
      const code = await start(io);
      if (code !== 0) throw new ExitCode(code);
    });

  program
    .command('migrate')
    .description('创建台账，或将其表升级到此版本的 duban（worker 启动时会做；其他命令从不做）')
    .option('--json', '以 JSON 输出 { ledger, applied }')
    .addHelpText(
      'after',
      '\n示例：\n  duban migrate\n  DATABASE_URL=postgres://duban@db.example.org/duban duban migrate',
    )
    .action(async (opts: { json?: boolean }) => {
      const settings = loadSettings();
      const ledger = await openLedger(settings, { migrate: true });
      try {
        const applied = await ledger.appliedMigrations();
        const where = describeLedger(ledgerOptions(settings));
        io.out(
          opts.json
            ? `${JSON.stringify({ ledger: where, applied })}\n`
            : `台账 ${where}：已是最新（已执行迁移 ${applied.join(', ')}）\n`,
        );
      } finally {
        await ledger.close();
      }
    });
}
