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
    .description(
      'Run a worker: the tracker workflows and their activities (settings from the environment or DUBAN_CONFIG)',
    )
    .addHelpText(
      'after',
      '\nSettings (environment, or the same keys in a YAML file named by DUBAN_CONFIG): see docs/engine.md.\n' +
        '\nExamples:\n  SMTP_URL=smtp://127.0.0.1:2525 duban worker\n' +
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
    .description(
      'Run the web service: the board, trackers, actions, reports in the browser, sign-in by emailed link (docs/web.md)',
    )
    .addHelpText(
      'after',
      "\nSettings: DUBAN_WEB_HOST (127.0.0.1), DUBAN_WEB_PORT (8080), DUBAN_WEB_BASE_URL, DUBAN_ADMINS, SMTP_URL and the worker's; see docs/web.md.\n\nExample:\n  DUBAN_WEB_BASE_URL=https://duban.example.gov.cn DUBAN_ADMINS=admin@example.gov.cn duban web",
    )
    .action(async () => {
      const { runWeb } = require('../../web/main') as typeof import('../../web/main');
      const code = await runWeb(io.out);
      if (code !== 0) throw new ExitCode(code);
    });
  program
    .command('start')
    .description(
      'Run the whole service on embedded defaults: Temporal dev server, mail catcher, ledger, worker; register the catalog',
    )
    .addHelpText(
      'after',
      '\nEnvironment: DUBAN_DATA_DIR (default .duban), DUBAN_TEMPORAL_PORT (7233), DUBAN_UI_PORT (8233), DUBAN_MAIL_PORT (2525),\n' +
        'DUBAN_DEV_SERVER_RESTARTS (3: restarts of a dev server that dies, within ten minutes, before start gives up),\n' +
        'DUBAN_CATALOG / DUBAN_DIRECTORY / DUBAN_CALENDAR; TEMPORAL_ADDRESS, SMTP_URL, DATABASE_URL use real infrastructure instead.\n' +
        '\nExamples:\n  npm start\n  DUBAN_CATALOG=my-catalog.yaml DUBAN_DIRECTORY=my-directory.yaml duban start',
    )
    .action(async () => {
      const { start } = require('../start') as typeof import('../start');
      const code = await start(io);
      if (code !== 0) throw new ExitCode(code);
    });

  program
    .command('migrate')
    .description(
      'Create the ledger, or bring its tables up to this version of duban (workers do it at start; other commands never do)',
    )
    .option('--json', 'print { ledger, applied } as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  duban migrate\n  DATABASE_URL=postgres://duban@db.example.org/duban duban migrate',
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
