/**
 * `npm start` (`duban start`): the whole service on embedded defaults, for a newcomer's machine.
 *
 * - the Temporal dev server, its state in the data folder (persistent across restarts), with the Web UI;
 * - a local mail catcher on loopback that keeps every message as an .eml file and lists it;
 * - the ledger on SQLite in the data folder, and a worker;
 * - registers the default catalog and directory (or DUBAN_CATALOG / DUBAN_DIRECTORY), prints the board.
 *
 * Ctrl-C stops everything cleanly; the next start resumes with all state intact and sends nothing twice. Any part
 * can point at real infrastructure instead: TEMPORAL_ADDRESS (no dev server is started), SMTP_URL (no mail
 * catcher), DATABASE_URL (PostgreSQL). See docs/deployment.md.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { loadInputs } from '../config/load';
import { temporalCliPath } from '../config/servers';
import { Settings, loadSettings } from '../config/settings';
import type { Io } from './service-commands';
import { board, saveSnapshot, unitCountLines } from './service-commands';
import { Duban } from './temporal';
import { MailSink, decodeEncodedWords, headerValue, startMailSink } from './mail';
import { redactUrl } from '../config/settings';

const SEARCH_ATTRIBUTE_FLAGS = ['DubanObligation=Keyword', 'DubanUnit=Keyword', 'DubanPeriod=Keyword', 'DubanColour=Keyword', 'DubanDue=Datetime'];

interface MailCatcher extends MailSink {
  folder: string;
}

/** Keeps every message as an .eml file named by time and Message-ID, and prints one line per message. */
async function startMailCatcher(folder: string, port: number, io: Io): Promise<MailCatcher> {
  mkdirSync(folder, { recursive: true });
  const sink = await startMailSink(port, (raw, recipients) => {
    const head = raw.subarray(0, 16384).toString('utf8');
    const id = headerValue(head, 'Message-ID') || `${Date.now()}`;
    const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${createHash('sha1').update(id).digest('hex').slice(0, 12)}.eml`;
    writeFileSync(path.join(folder, name), raw);
    io.out(`mail  ${name}  to ${recipients.join(',')}  ${decodeEncodedWords(headerValue(head, 'Subject'))}\n`);
  });
  return { ...sink, folder };
}

function startDevServer(dataDir: string, port: number, uiPort: number): ChildProcess {
  const log = openSync(path.join(dataDir, 'temporal.log'), 'a');
  return spawn(
    temporalCliPath(),
    [
      'server', 'start-dev',
      '--db-filename', path.join(dataDir, 'temporal.db'),
      '--ip', '127.0.0.1',
      '--port', String(port),
      '--ui-port', String(uiPort),
      '--log-level', 'error',
      ...SEARCH_ATTRIBUTE_FLAGS.flatMap((f) => ['--search-attribute', f]),
    ],
    { stdio: ['ignore', log, log] },
  );
}

async function waitForTemporal(settings: Settings, child: ChildProcess | undefined): Promise<Duban> {
  const until = Date.now() + 60_000;
  for (;;) {
    if (child && child.exitCode !== null) throw new Error(`the Temporal dev server exited (code ${child.exitCode}); see ${path.join(settings.dataDir, 'temporal.log')}`);
    try {
      const d = await Duban.connect(settings);
      await d.client.workflowService.getSystemInfo({});
      return d;
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}

export async function start(io: Io): Promise<number> {
  const dataDir = path.resolve(process.env.DUBAN_DATA_DIR ?? '.duban');
  mkdirSync(dataDir, { recursive: true });
  const temporalPort = Number(process.env.DUBAN_TEMPORAL_PORT ?? 7233);
  const uiPort = Number(process.env.DUBAN_UI_PORT ?? 8233);
  const ownTemporal = !process.env.TEMPORAL_ADDRESS;
  const ownMail = !process.env.SMTP_URL;
  const stops: (() => Promise<void> | void)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop();
  };
  try {
    let devServer: ChildProcess | undefined;
    if (ownTemporal) {
      devServer = startDevServer(dataDir, temporalPort, uiPort);
      stops.push(() => new Promise<void>((resolve) => {
        if (devServer!.exitCode !== null) return resolve();
        devServer!.once('exit', () => resolve());
        devServer!.kill('SIGTERM');
      }));
      process.env.TEMPORAL_ADDRESS = `127.0.0.1:${temporalPort}`;
    }
    let mail: MailCatcher | undefined;
    if (ownMail) {
      mail = await startMailCatcher(path.join(dataDir, 'mail'), Number(process.env.DUBAN_MAIL_PORT ?? 2525), io);
      stops.push(() => mail!.close());
      process.env.SMTP_URL = mail.url;
    }
    process.env.DUBAN_DATA_DIR = dataDir;
    const settings = loadSettings();
    const duban = await waitForTemporal(settings, devServer);
    stops.push(() => duban.close());

    // The worker runs in this process; SIGINT and SIGTERM stop it gracefully (Temporal's runtime handles them).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { startWorker } = require('../worker/main') as typeof import('../worker/main');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { Runtime, DefaultLogger } = require('@temporalio/worker') as typeof import('@temporalio/worker');
    Runtime.install({ logger: new DefaultLogger('WARN') });
    const worker = await startWorker(settings);

    const inputs = loadInputs({ catalog: process.env.DUBAN_CATALOG, directory: process.env.DUBAN_DIRECTORY, calendar: process.env.DUBAN_CALENDAR });
    const summary = await duban.register(inputs.trackers, { by: 'duban start' });
    await saveSnapshot(duban, inputs, 'duban start');
    // New trackers publish their row a moment after they start: wait for it, briefly, so the board is complete.
    const ledger = await duban.openLedger();
    const rows = async () => (await ledger.trackerStates()).map((t) => ({ trackerId: t.trackerId, workflowId: '', unit: t.unit, colour: t.colour, due: new Date(t.dueAt) }));
    let running = await rows();
    for (let i = 0; i < 50 && running.length < inputs.trackers.length; i++) {
      await new Promise((r) => setTimeout(r, 200));
      running = await rows();
    }
    await ledger.close();
    // The web service, with the mail catcher's messages readable in the browser (this embedded mode only).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { startWeb } = require('../web/server') as typeof import('../web/server');
    const webLedger = await duban.openLedger();
    stops.push(() => webLedger.close());
    const webLog = (e: Record<string, unknown>) => appendFileSync(path.join(dataDir, 'web.log'), `${JSON.stringify({ time: new Date().toISOString(), ...e })}\n`);
    // A busy port leaves the rest of the service running: the board is still printed, and `duban web` can follow.
    const web = await startWeb({ settings, duban, ledger: webLedger, mailFolder: mail?.folder, log: webLog }).catch((err: Error) => {
      io.err(`warning: the web service did not start on ${settings.web.host}:${settings.web.port} (${err.message}); set DUBAN_WEB_PORT\n`);
      return undefined;
    });
    if (web) stops.push(() => web.close());
    const b = board(running, Date.now(), inputs.catalog.timeZone);
    io.out(
      [
        '',
        ...unitCountLines(b.units),
        '',
        `duban is running: ${b.items.length} trackers (started ${summary.started.length}, updated ${summary.updated.length}, unchanged ${summary.unchanged.length})`,
        ...(web ? [`the board in the browser: ${web.url}${mail ? ` (sign in with an address of the directory; the link arrives in ${web.url}/mail)` : ''}`] : []),
        'the board with every item, most urgent first: npx duban status',
        ownTemporal ? `Temporal Web UI: http://127.0.0.1:${uiPort}` : `Temporal: ${settings.temporal.address}`,
        mail ? `mail: every message is kept in ${mail.folder}` : `mail: ${redactUrl(settings.smtp?.url ?? '')}`,
        `ledger: ${settings.database.url ? 'PostgreSQL (DATABASE_URL)' : path.join(dataDir, 'ledger.sqlite')}`,
        'ready. Ctrl-C stops everything; the next npm start resumes where this one stopped.',
        '',
      ].join('\n'),
    );
    await worker.done;
    await stopAll();
    io.out('duban stopped.\n');
    return 0;
  } catch (err) {
    await stopAll();
    throw err;
  }
}
