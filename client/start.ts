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
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, chmodSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_DIRECTORY, DEFAULT_EVENTS, DEFAULT_ROSTERS, loadInputs } from '../config/load';
import { startLocalChannels } from '../channels/fakes/local';
import { DEV_SERVER_DYNAMIC_CONFIG, temporalCliPath } from '../config/servers';
import { Settings, SettingsError, loadSettings } from '../config/settings';
import { saveSnapshot } from '../access/registered';
import { timeZoneOf } from '../domain/trackers';
import type { Io } from './commands/common';
import { board } from './commands/status';
import { unitCountLines } from './format';
import { Duban } from '../access/temporal';
import { MailSink, decodeEncodedWords, headerValue, startMailSink } from '../access/mail';
import { redactUrl } from '../config/settings';

const SEARCH_ATTRIBUTE_FLAGS = [
  'DubanObligation=Keyword',
  'DubanUnit=Keyword',
  'DubanPeriod=Keyword',
  'DubanColour=Keyword',
  'DubanDue=Datetime',
];

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

export function spawnDevServer(dataDir: string, port: number, uiPort: number): ChildProcess {
  const log = openSync(path.join(dataDir, 'temporal.log'), 'a');
  return spawn(
    temporalCliPath(),
    [
      'server',
      'start-dev',
      '--db-filename',
      path.join(dataDir, 'temporal.db'),
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      '--ui-port',
      String(uiPort),
      '--log-level',
      'error',
      ...SEARCH_ATTRIBUTE_FLAGS.flatMap((f) => ['--search-attribute', f]),
      ...DEV_SERVER_DYNAMIC_CONFIG,
    ],
    { stdio: ['ignore', log, log] },
  );
}

/** How many times the dev server is restarted within RESTART_WINDOW_MS before `duban start` gives up. */
const DEFAULT_RESTARTS = 3;
const RESTART_WINDOW_MS = 10 * 60_000;

/**
 * The dev server as a supervised child. Once the service is up, a dev server that dies is restarted on the same
 * port and database file (its state is on disk, so trackers, timers and history survive), at most `maxRestarts`
 * times in ten minutes; then `onGiveUp` is called with a message that says what happened and where the log is.
 * Without this the worker would log connection errors for ever and nothing would be sent.
 */
class DevServer {
  child: ChildProcess;
  private watching = false;
  private stopping = false;
  private restarts: number[] = [];

  constructor(
    private readonly dataDir: string,
    private readonly port: number,
    private readonly uiPort: number,
    private readonly maxRestarts: number,
    private readonly io: Io,
    private readonly onGiveUp: (message: string) => void,
  ) {
    this.child = this.spawn();
  }

  private spawn(): ChildProcess {
    const child = spawnDevServer(this.dataDir, this.port, this.uiPort);
    child.once('exit', (code, signal) => this.exited(child, code, signal));
    return child;
  }

  /** From now on a death is restarted (before, start-up itself reports it). */
  watch() {
    this.watching = true;
  }

  private exited(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null) {
    if (child !== this.child || this.stopping || !this.watching) return;
    const how = signal ? `killed by ${signal}` : `exit code ${code}`;
    const log = path.join(this.dataDir, 'temporal.log');
    const now = Date.now();
    this.restarts = this.restarts.filter((t) => now - t < RESTART_WINDOW_MS);
    if (this.restarts.length >= this.maxRestarts) {
      this.stopping = true;
      this.onGiveUp(
        `the Temporal dev server stopped (${how}) after ${this.restarts.length} restart${this.restarts.length === 1 ? '' : 's'} in the last ten minutes; ` +
          `duban start gives up and stops. See ${log}; its state is kept in ${path.join(this.dataDir, 'temporal.db')}, so the next duban start resumes.`,
      );
      return;
    }
    this.restarts.push(now);
    this.io.err(
      `duban start: the Temporal dev server stopped (${how}); restarting it (${this.restarts.length} of ${this.maxRestarts}), its state is on disk. See ${log}.\n`,
    );
    // A moment for the port to be released by the dead process.
    setTimeout(() => {
      if (this.stopping) return;
      this.child = this.spawn();
      this.io.err(`duban start: the Temporal dev server is running again (pid ${this.child.pid ?? '?'}).\n`);
    }, 500);
  }

  /** Stopping on purpose (Ctrl-C, the end of start): no restart. */
  async stop(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }
}

async function waitForTemporal(settings: Settings, devServer: DevServer | undefined): Promise<Duban> {
  const until = Date.now() + 60_000;
  for (;;) {
    const child = devServer?.child;
    if (child && child.exitCode !== null)
      throw new Error(
        `the Temporal dev server exited (code ${child.exitCode}); see ${path.join(settings.dataDir, 'temporal.log')}`,
      );
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

/**
 * The action-link key of `npm start`: made once in the data folder (mode 0600, readable by its owner only), then
 * reused, so links in messages already sent keep working across restarts. A deployment sets DUBAN_LINK_KEYS.
 */
export function localLinkKey(dataDir: string): string {
  const file = path.join(dataDir, 'link-key');
  if (existsSync(file)) {
    const text = readFileSync(file, 'utf8').trim();
    if (text) return text;
  }
  const key = `local:${randomBytes(32).toString('base64')}`;
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return key;
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
  const maxRestarts = Number(process.env.DUBAN_DEV_SERVER_RESTARTS ?? DEFAULT_RESTARTS);
  if (!Number.isInteger(maxRestarts) || maxRestarts < 0)
    throw new SettingsError(
      `DUBAN_DEV_SERVER_RESTARTS "${process.env.DUBAN_DEV_SERVER_RESTARTS}" must be a whole number, 0 or more`,
    );
  let giveUp: (message: string) => void = () => undefined;
  const gaveUp = new Promise<string>((resolve) => (giveUp = resolve));
  try {
    let devServer: DevServer | undefined;
    if (ownTemporal) {
      const server = new DevServer(dataDir, temporalPort, uiPort, maxRestarts, io, (m) => giveUp(m));
      devServer = server;
      stops.push(() => server.stop());
      // Ctrl-C in a terminal reaches the dev server too: its exit then is no crash to restart.
      for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void server.stop());
      process.env.TEMPORAL_ADDRESS = `127.0.0.1:${temporalPort}`;
    }
    let mail: MailCatcher | undefined;
    if (ownMail) {
      mail = await startMailCatcher(path.join(dataDir, 'mail'), Number(process.env.DUBAN_MAIL_PORT ?? 2525), io);
      stops.push(() => mail!.close());
      process.env.SMTP_URL = mail.url;
    }
    process.env.DUBAN_DATA_DIR = dataDir;
    // The robots and phones: loopback fakes of every provider, the demo's channels (channels/fakes/local.ts).
    const local = await startLocalChannels(dataDir, DEFAULT_DIRECTORY, io.out);
    stops.push(() => local.stop());
    const settings = loadSettings();
    // The embedded default signs its action links with a key of its own, made once and kept in the data folder.
    if (!settings.links.keys) settings.links.keys = localLinkKey(dataDir);
    const duban = await waitForTemporal(settings, devServer);
    stops.push(() => duban.close());

    // The worker runs in this process; SIGINT and SIGTERM stop it gracefully (Temporal's runtime handles them).

    const { startWorker } = require('../worker/main') as typeof import('../worker/main');

    const { Runtime, DefaultLogger } = require('@temporalio/worker') as typeof import('@temporalio/worker');
    Runtime.install({ logger: new DefaultLogger('WARN') });
    const worker = await startWorker(settings);

    const inputs = loadInputs({
      catalog: process.env.DUBAN_CATALOG,
      directory: process.env.DUBAN_DIRECTORY ?? local.directory,
      calendar: process.env.DUBAN_CALENDAR,
      // The demo directory with channels is the built-in one: the built-in rosters and events go with it.
      ...(local.directory && !process.env.DUBAN_CATALOG ? { rosters: DEFAULT_ROSTERS, events: DEFAULT_EVENTS } : {}),
      env: process.env,
    });
    const summary = await duban.register(inputs.trackers, { by: 'duban start' });
    await saveSnapshot(duban, inputs, 'duban start');
    // New trackers publish their row a moment after they start: wait for it, briefly, so the board is complete.
    const ledger = await duban.openLedger();
    const rows = async () =>
      (await ledger.trackerStates()).map((t) => ({
        trackerId: t.trackerId,
        unit: t.unit,
        colour: t.colour,
        dueAt: t.dueAt,
        zone: timeZoneOf(inputs.catalog, t.obligation),
      }));
    let running = await rows();
    for (let i = 0; i < 50 && running.length < inputs.trackers.length; i++) {
      await new Promise((r) => setTimeout(r, 200));
      running = await rows();
    }
    await ledger.close();
    // The web service, with the mail catcher's messages readable in the browser (this embedded mode only).

    const { startWeb } = require('../web/server') as typeof import('../web/server');
    const webLedger = await duban.openLedger();
    stops.push(() => webLedger.close());
    const webLog = (e: Record<string, unknown>) =>
      appendFileSync(path.join(dataDir, 'web.log'), `${JSON.stringify({ time: new Date().toISOString(), ...e })}\n`);
    // A busy port leaves the rest of the service running: the board is still printed, and `duban web` can follow.
    const web = await startWeb({ settings, duban, ledger: webLedger, mailFolder: mail?.folder, log: webLog }).catch(
      (err: Error) => {
        io.err(
          `warning: the web service did not start on ${settings.web.host}:${settings.web.port} (${err.message}); set DUBAN_WEB_PORT\n`,
        );
        return undefined;
      },
    );
    if (web) stops.push(() => web.close());
    const b = board(running, Date.now());
    io.out(
      [
        '',
        ...unitCountLines(b.units),
        '',
        `duban is running: ${b.items.length} trackers (started ${summary.started.length}, updated ${summary.updated.length}, unchanged ${summary.unchanged.length})`,
        ...(web
          ? [
              `the board in the browser: ${web.url}${mail ? ` (sign in with an address of the directory; the link arrives in ${web.url}/mail)` : ''}`,
            ]
          : []),
        'the board with every item, most urgent first: npx duban status',
        ownTemporal ? `Temporal Web UI: http://127.0.0.1:${uiPort}` : `Temporal: ${settings.temporal.address}`,
        mail ? `mail: every message is kept in ${mail.folder}` : `mail: ${redactUrl(settings.smtp?.url ?? '')}`,
        ...(local.fakes
          ? [
              `robots and phones (local fakes): every message they receive is kept in ${path.join(dataDir, 'channels.jsonl')}`,
            ]
          : []),
        `ledger: ${settings.database.url ? 'PostgreSQL (DATABASE_URL)' : path.join(dataDir, 'ledger.sqlite')}`,
        'ready. Ctrl-C stops everything; the next npm start resumes where this one stopped.',
        '',
      ].join('\n'),
    );
    devServer?.watch();
    const outcome = await Promise.race([worker.done.then(() => undefined), gaveUp]);
    if (outcome !== undefined) {
      io.err(`duban start: ${outcome}\n`);
      worker.worker.shutdown();
      // The worker cannot hand its tasks back to a dead server: it gets a short grace, not the usual 30 seconds.
      await Promise.race([worker.done, new Promise((r) => setTimeout(r, 10_000))]);
      await stopAll();
      io.err('duban stopped.\n');
      return 1;
    }
    await stopAll();
    io.out('duban stopped.\n');
    return 0;
  } catch (err) {
    await stopAll();
    throw err;
  }
}
