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
import { DEMO_DONE, demoCatalog } from '../config/demo';
import { WorkingCalendar } from '../domain/calendar';
import { localDay } from '../domain/zone';
import { receivedMessages, startLocalChannels } from '../channels/fakes/local';
import { DEFAULT_TIME_ZONE } from '../domain/model';
import { DEV_SERVER_DYNAMIC_CONFIG, temporalCliPath } from '../config/servers';
import { Settings, SettingsError, loadSettings } from '../config/settings';
import { saveSnapshot } from '../access/registered';
import type { Io } from './commands/common';
import { board } from './commands/status';
import { boardStates } from '../access/board';
import { unitCountLines } from './format';
import { Duban } from '../access/temporal';
import { MailSink, decodeEncodedWords, headerValue, startMailSink } from '../channels/sink';
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
    // Whom this copy was delivered to, as a mail server records it: with personal links each recipient of a notice
    // gets a copy of their own, whose To and Cc still name everyone (the mailbox page lists it by this).
    writeFileSync(
      path.join(folder, name),
      Buffer.concat([Buffer.from(`Delivered-To: ${recipients.join(', ')}\r\n`), raw]),
    );
    io.out(`邮件  ${name}  收件 ${recipients.join(',')}  ${decodeEncodedWords(headerValue(head, 'Subject'))}\n`);
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
    const how = signal ? `被信号${signal}终止` : `退出码${code}`;
    const log = path.join(this.dataDir, 'temporal.log');
    const now = Date.now();
    this.restarts = this.restarts.filter((t) => now - t < RESTART_WINDOW_MS);
    if (this.restarts.length >= this.maxRestarts) {
      this.stopping = true;
      this.onGiveUp(
        `Temporal 开发服务器停止运行（${how}），最近十分钟内已重启${this.restarts.length}次；` +
          `duban start 不再重启，全部停止。日志见 ${log}；其状态保存在 ${path.join(this.dataDir, 'temporal.db')}，下次 duban start 从停止处继续。`,
      );
      return;
    }
    this.restarts.push(now);
    this.io.err(
      `duban start：Temporal 开发服务器停止运行（${how}）；正在重启（第${this.restarts.length}次，最多${this.maxRestarts}次），其状态保存在磁盘上。日志见 ${log}。\n`,
    );
    // A moment for the port to be released by the dead process.
    setTimeout(() => {
      if (this.stopping) return;
      this.child = this.spawn();
      this.io.err(`duban start：Temporal 开发服务器已重新运行（pid ${this.child.pid ?? '?'}）。\n`);
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
        `Temporal 开发服务器已退出（退出码${child.exitCode}）；日志见 ${path.join(settings.dataDir, 'temporal.log')}`,
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

/**
 * The demo's 办结 item: submitted once, by a real request, when its tracker was just started (a later start finds
 * it settled and leaves it). The tracker may still be planning its first period: asked again for a few seconds.
 */
async function submitDemoDone(duban: Duban, started: string[]): Promise<void> {
  const trackerId = `${DEMO_DONE.obligation}/${DEMO_DONE.unit}`;
  if (!started.includes(trackerId)) return;
  for (let i = 0; ; i++) {
    try {
      await duban.act(trackerId, 'submit', {
        by: '演示数据（duban start）',
        evidence: { text: '演示：已按时报送法律顾问聘用合同及名单', documentNumber: 'X司发〔演示〕1号' },
      });
      return;
    } catch (err) {
      // A tracker just started has not planned its first period yet (domain/tracker-state.ts: 正在启动): wait for it,
      // up to a minute on a busy machine.
      if (i >= 300 || !/正在启动/.test((err as Error).message)) throw err;
      await new Promise((r) => setTimeout(r, 200));
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
  const maxRestarts = Number(process.env.DUBAN_DEV_SERVER_RESTARTS ?? DEFAULT_RESTARTS);
  if (!Number.isInteger(maxRestarts) || maxRestarts < 0)
    throw new SettingsError(`DUBAN_DEV_SERVER_RESTARTS“${process.env.DUBAN_DEV_SERVER_RESTARTS}”须为0或更大的整数`);
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

    // The built-in defaults come with demonstration items dated from the first start (config/demo.ts), so that the
    // first board shows red, yellow, a 督办单 and 办结 besides green, on any date, with the real clock.
    const demo = !process.env.DUBAN_CATALOG && !process.env.DUBAN_DIRECTORY && process.env.DUBAN_DEMO !== 'false';
    const inputs = loadInputs(
      demo
        ? {
            catalog: demoCatalog(dataDir, new WorkingCalendar(), localDay(Date.now(), DEFAULT_TIME_ZONE)),
            directory: local.directory ?? DEFAULT_DIRECTORY,
            rosters: DEFAULT_ROSTERS,
            events: existsSync(DEFAULT_EVENTS) ? DEFAULT_EVENTS : undefined,
            calendar: process.env.DUBAN_CALENDAR,
            env: process.env,
          }
        : {
            catalog: process.env.DUBAN_CATALOG,
            directory: process.env.DUBAN_DIRECTORY,
            calendar: process.env.DUBAN_CALENDAR,
            env: process.env,
          },
    );
    const summary = await duban.register(inputs.trackers, { by: 'duban start' });
    if (demo) await submitDemoDone(duban, summary.started);
    await saveSnapshot(duban, inputs, 'duban start');
    // New trackers publish their row a moment after they start: wait for it, briefly, so the board is complete.
    const ledger = await duban.openLedger();
    // Trackers ended for good (retired, a one-off settled) are not started again and publish no row.
    const live = inputs.trackers.length - summary.ended.length;
    let published = (await ledger.trackerStates()).length;
    for (let i = 0; i < 50 && published < live; i++) {
      await new Promise((r) => setTimeout(r, 200));
      published = (await ledger.trackerStates()).length;
    }
    // The board `duban status` prints, from the same rows: every open period, and those done or waived this year.
    const running = await boardStates(ledger);
    await ledger.close();
    // The web service, with the mail catcher's messages readable in the browser (this embedded mode only).

    const { startWeb } = require('../web/server') as typeof import('../web/server');
    const webLedger = await duban.openLedger();
    stops.push(() => webLedger.close());
    const webLog = (e: Record<string, unknown>) =>
      appendFileSync(path.join(dataDir, 'web.log'), `${JSON.stringify({ time: new Date().toISOString(), ...e })}\n`);
    // A busy port leaves the rest of the service running: the board is still printed, and `duban web` can follow.
    const web = await startWeb({
      settings,
      duban,
      ledger: webLedger,
      mailFolder: mail?.folder,
      // What the local robot and SMS fakes received, readable at /channels like the mail at /mail.
      channelMessages: local.fakes ? () => receivedMessages(dataDir) : undefined,
      log: webLog,
    }).catch((err: Error) => {
      io.err(
        `警告：网页服务未能在 ${settings.web.host}:${settings.web.port} 启动（${err.message}）；请设置 DUBAN_WEB_PORT\n`,
      );
      return undefined;
    });
    if (web) stops.push(() => web.close());
    const b = board(
      running.map((i) => (i.colour === 'broken' ? { ...i, dueAt: undefined } : i)),
      Date.now(),
    );
    const changed = `新建${summary.started.length}项，更新${summary.updated.length}项，未变${summary.unchanged.length}项${summary.ended.length ? `，已结束${summary.ended.length}项` : ''}`;
    io.out(
      [
        '',
        ...unitCountLines(b.units),
        '',
        `duban 已启动：${live}项督办任务在运行（${changed}），看板共${b.items.length}个期次` +
          (published < live ? `；${live - published}项任务尚未出现在看板上，稍后用 npx duban status 查看` : ''),
        ...(web
          ? [`浏览器中的看板：${web.url}${mail ? `（用单位名录中的邮箱登录，登录链接见 ${web.url}/mail）` : ''}`]
          : []),
        '命令行看板（最紧急的在前）：npx duban status',
        ownTemporal ? `Temporal Web UI: http://127.0.0.1:${uiPort}` : `Temporal: ${settings.temporal.address}`,
        mail ? `邮件：每封邮件都保存在 ${mail.folder}` : `邮件：${redactUrl(settings.smtp?.url ?? '')}`,
        ...(local.fakes
          ? [`群机器人和短信（本地模拟）：收到的每条消息都保存在 ${path.join(dataDir, 'channels.jsonl')}`]
          : []),
        `台账：${settings.database.url ? 'PostgreSQL（DATABASE_URL）' : path.join(dataDir, 'ledger.sqlite')}`,
        '已就绪。Ctrl-C 停止全部服务；下次 npm start 从停止处继续。',
        '',
      ].join('\n'),
    );
    devServer?.watch();
    const outcome = await Promise.race([worker.done.then(() => undefined), gaveUp]);
    if (outcome !== undefined) {
      io.err(`duban start：${outcome}\n`);
      worker.worker.shutdown();
      // The worker cannot hand its tasks back to a dead server: it gets a short grace, not the usual 30 seconds.
      await Promise.race([worker.done, new Promise((r) => setTimeout(r, 10_000))]);
      await stopAll();
      io.err('duban 已停止。\n');
      return 1;
    }
    await stopAll();
    io.out('duban 已停止。\n');
    return 0;
  } catch (err) {
    await stopAll();
    throw err;
  }
}
