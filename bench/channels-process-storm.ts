/**
 * The channels' storm with real processes (issue 22), shared by test/reliability/channels-storm.test.ts (which
 * asserts) and bench/channels.bench.ts (which prints): `notices` one-offs registered after their due date on a
 * Temporal dev server of the scenario's own, each with the unit's group robot (`robots` robots: 60 % 企业微信, 20 %
 * 钉钉, 20 % 飞书) on its escalation, so that each sends its level-1 escalation by email and on its robot at once.
 * The trackers are started while no worker runs, then `workers` worker processes (node dist/worker/main.js, as an
 * operator runs them) start together on one SQLite ledger: every notice falls due at that one instant. During the
 * storm a worker is killed with SIGKILL `kills` times (and started again). The SMTP server (channels/sink.ts) and
 * the providers' fakes (channels/fakes/) are real servers on loopback; the clock is the wall clock.
 *
 * `robots: 0` runs the same storm by email alone, the bench's comparison.
 */
import { Client, Connection } from '@temporalio/client';
import { ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ChannelFakes, Received } from '../channels/fakes';
import { headerValue, startMailSink } from '../channels/sink';
import { spawnDevServer } from '../client/start';
import { secretVariable } from '../config/channels';
import { PROJECT_ROOT } from '../config/load';
import { WorkingCalendar } from '../domain/calendar';
import { formatDate } from '../domain/dates';
import { DEFAULT_REMINDERS } from '../domain/model';
import type { TrackerDefinition } from '../domain/trackers';
import { localDay } from '../domain/zone';
import { Ledger } from '../ledger';
import type { ChannelSendRow } from '../ledger/channel-sends';
import type { NoticeRow } from '../ledger';
import { workflowIdFor } from '../workflows/messages';
import { trackerWorkflow } from '../workflows/tracker';

export type RobotKind = 'wecom' | 'dingtalk' | 'feishu';

export interface ProcessStormOptions {
  notices: number;
  robots: number;
  workers?: number;
  kills?: number;
  /** SMTP connections a worker keeps (SMTP_MAX_CONNECTIONS); the bound on email repeats per kill. */
  connections?: number;
  /** Where the scenario keeps its servers' files and the workers' log. */
  dir?: string;
}

export interface Mail {
  key: string;
  messageId: string;
  at: number;
}

export interface ProcessStormResult {
  /** The emails expected (each recipient's copy of each notice, by X-Duban-Key) and what the SMTP server took. */
  expected: string[];
  mails: Mail[];
  /** What the robots' fakes accepted, every request they answered. */
  received: Received[];
  requests: ChannelFakes['requests'];
  /** The ledger at the end: the notices' rows, the channels' rows. */
  notices: NoticeRow[];
  channelRows: ChannelSendRow[];
  kindOf: (robot: number) => RobotKind;
  keyOf: (robot: number) => string;
  /** The robot (0-based) a notice (0-based) goes to. */
  robotOf: (notice: number) => number;
  /** The text that names a notice in a robot message: its unit's name, unique per notice. */
  unitName: (notice: number) => string;
  /** When the workers were started: the storm's instant. */
  instant: number;
  kills: { at: number; worker: number }[];
  /** Seconds from the instant to the last email, and to the last robot message. */
  emailDrainSeconds: number;
  robotDrainSeconds: number | undefined;
  startSeconds: number;
  dir: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A one-off due two working days ago (its level 1 at +1 is due at once), with the unit's robot on every step. */
function overdue(i: number, dueDay: string, robot: { name: string; kind: RobotKind } | undefined): TrackerDefinition {
  const contact = (who: string) => ({ name: who, email: `${who}@storm.example.org` });
  const unit = `u${i}`;
  return {
    trackerId: `channel-storm/${unit}`,
    obligation: {
      id: 'channel-storm',
      title: '法治政府建设年度报告',
      basis: [{ document: '法治政府建设与责任落实督察工作规定', quote: '每年3月1日之前' }],
      period: 'once',
      due: { rule: 'fixed-date', date: dueDay },
      rollForward: false,
      completion: 'single',
      quota: 1,
      verification: false,
      urgent: false,
    },
    unit: {
      id: unit,
      name: `第${i}单位`,
      head: contact(`${unit}.head`),
      liaison: contact(`${unit}.liaison`),
      deputies: [],
    },
    supervisor: {
      id: 'office',
      name: '市委依法治市办',
      head: contact('office-head'),
      liaison: contact('office-liaison'),
      deputies: [],
    },
    lead: undefined,
    leadership: [contact('leader')],
    reminders: [...DEFAULT_REMINDERS],
    escalation: [
      { level: 1, after: 1, repeatWeekly: false },
      { level: 2, after: 5, repeatWeekly: false },
    ],
    noticeHour: 9,
    timeZone: 'Asia/Shanghai',
    ...(robot
      ? {
          channels: {
            unit: [{ ...robot, mention: false }],
            office: [],
            leadership: [],
            steps: { reminders: ['unit'], level1: ['unit'], level2: ['unit'], level3: ['unit'] },
          },
        }
      : {}),
  };
}

async function startServer(
  dir: string,
  port: number,
  uiPort: number,
): Promise<{ child: ChildProcess; client: Client; connection: Connection; address: string }> {
  const child = spawnDevServer(dir, port, uiPort);
  const address = `127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    try {
      const connection = await Connection.connect({ address, connectTimeout: '1 second' });
      return { child, client: new Client({ connection }), connection, address };
    } catch {
      await sleep(200);
    }
  }
  child.kill('SIGKILL');
  throw new Error('the dev server did not start');
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function runProcessStorm(o: ProcessStormOptions): Promise<ProcessStormResult> {
  const dir = o.dir ?? mkdtempSync(path.join(tmpdir(), 'duban-channel-storm-'));
  const kindOf = (r: number): RobotKind => (r < o.robots * 0.6 ? 'wecom' : r < o.robots * 0.8 ? 'dingtalk' : 'feishu');
  const nameOf = (r: number) => `robot-${String(r).padStart(3, '0')}`;
  const keyOf = (r: number) => `storm-key-${r}`;
  const robotOf = (n: number) => n % Math.max(1, o.robots);
  const unitName = (n: number) => `第${n}单位`;
  const calendar = new WorkingCalendar();
  const dueDay = formatDate(
    calendar.addWorkingDays(calendar.onOrBefore(localDay(Date.now(), 'Asia/Shanghai') - 1), -1),
  );

  const secrets: Record<string, string> = {};
  const wecom: string[] = [];
  const dingtalk: { token: string; secret: string; keyword: string }[] = [];
  const feishu: { hook: string; secret: string }[] = [];
  for (let r = 0; r < o.robots; r++) {
    secrets[secretVariable(nameOf(r), 'KEY')] = keyOf(r);
    secrets[secretVariable(nameOf(r), 'SECRET')] = `SECstorm-${r}`;
    if (kindOf(r) === 'wecom') wecom.push(keyOf(r));
    if (kindOf(r) === 'dingtalk') dingtalk.push({ token: keyOf(r), secret: `SECstorm-${r}`, keyword: '督办' });
    if (kindOf(r) === 'feishu') feishu.push({ hook: keyOf(r), secret: `SECstorm-${r}` });
  }
  const fakes = new ChannelFakes({ wecom, dingtalk, feishu });
  const urls = await fakes.start();
  const mails: Mail[] = [];
  const sink = await startMailSink(0, (raw) => {
    const head = raw.subarray(0, 16_384).toString('utf8');
    mails.push({ key: headerValue(head, 'X-Duban-Key'), messageId: headerValue(head, 'Message-ID'), at: Date.now() });
  });
  const server = await startServer(dir, await freePort(), await freePort());
  const taskQueue = 'channel-storm';
  const dataDir = path.join(dir, 'data');
  const log = createWriteStream(path.join(dir, 'workers.log'), { flags: 'a' });
  const env = {
    ...process.env,
    TZ: 'UTC',
    DUBAN_LOG_LEVEL: 'WARN',
    TEMPORAL_ADDRESS: server.address,
    DUBAN_TASK_QUEUE: taskQueue,
    SMTP_URL: sink.url,
    SMTP_MAX_CONNECTIONS: String(o.connections ?? 5),
    MAIL_FROM: '督办系统 <duban@storm.example.org>',
    DUBAN_DATA_DIR: dataDir,
    DUBAN_DIGEST: 'false',
    DUBAN_LINK_KEYS: `k1:${Buffer.alloc(32, 5).toString('base64')}`,
    DUBAN_WEB_BASE_URL: 'https://duban.xx.gov.cn',
    DUBAN_WECOM_URL: urls.wecom,
    DUBAN_DINGTALK_URL: urls.dingtalk,
    DUBAN_FEISHU_URL: urls.feishu,
    ...secrets,
  };
  const workers: ChildProcess[] = [];
  const spawnWorker = () => {
    const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'dist', 'worker', 'main.js')], {
      cwd: PROJECT_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.pipe(log, { end: false });
    child.stderr!.pipe(log, { end: false });
    return child;
  };
  const exited = (c: ChildProcess) =>
    c.exitCode !== null || c.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((r) => c.once('close', () => r()));
  const kills: { at: number; worker: number }[] = [];
  try {
    // Started with no worker on the task queue: their first tasks wait, and all run when the workers come.
    const definitions = Array.from({ length: o.notices }, (_, n) =>
      overdue(n, dueDay, o.robots ? { name: nameOf(robotOf(n)), kind: kindOf(robotOf(n)) } : undefined),
    );
    const startedAt = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        while (next < definitions.length) {
          const d = definitions[next++]!;
          await server.client.workflow.start(trackerWorkflow, {
            workflowId: workflowIdFor(d.trackerId),
            taskQueue,
            args: [{ definition: d }],
          });
        }
      }),
    );
    const startSeconds = (Date.now() - startedAt) / 1000;
    // With signed links each recipient gets a copy of their own (its own links): the unit head, and the office's
    // liaison in copy (level 1), each its own X-Duban-Key `<notice>/to/<address>`.
    const expected = definitions.flatMap((d) =>
      [d.unit.head.email, d.supervisor.liaison.email].map((a) => `${d.trackerId}/once/${dueDay}/e1.0/to/${a}`),
    );
    const instant = Date.now();
    for (let w = 0; w < (o.workers ?? 2); w++) workers.push(spawnWorker());

    const emailKeys = () => new Set(mails.map((m) => m.key));
    const robotNotices = () => {
      const seen = new Set<string>();
      for (const m of fakes.received()) for (const hit of m.text.matchAll(/（(第\d+单位)，/g)) seen.add(hit[1]!);
      return seen.size;
    };
    // The kills: spread over the storm's first part, each once some notices are out and before all are.
    for (let k = 0; k < (o.kills ?? 0); k++) {
      const goal = Math.ceil((expected.length * (k + 1)) / ((o.kills ?? 0) + 2));
      const until = Date.now() + 300_000;
      while (emailKeys().size < goal && Date.now() < until) await sleep(20);
      const w = k % workers.length;
      const victim = workers[w]!;
      victim.kill('SIGKILL');
      kills.push({ at: Date.now(), worker: w });
      await exited(victim);
      workers[w] = spawnWorker();
    }
    const deadline = Date.now() + 600_000;
    while (
      (emailKeys().size < expected.length || (o.robots > 0 && robotNotices() < o.notices)) &&
      Date.now() < deadline
    )
      await sleep(100);
    const lastEmail = Math.max(...mails.map((m) => m.at));
    const lastRobot = o.robots ? Math.max(...fakes.received().map((m) => m.at)) : undefined;
    await sleep(3_000); // late repeats, if any
    for (const w of workers) {
      w.kill('SIGTERM');
      await exited(w);
    }
    const ledger = await Ledger.open({ sqliteFile: path.join(dataDir, 'ledger.sqlite'), migrate: false });
    const notices = await ledger.notices({ copies: true });
    const channelRows = await ledger.channels.rows();
    await ledger.close();
    return {
      expected,
      mails,
      received: fakes.received(),
      requests: fakes.requests,
      notices,
      channelRows,
      kindOf,
      keyOf,
      robotOf,
      unitName,
      instant,
      kills,
      emailDrainSeconds: Number(((lastEmail - instant) / 1000).toFixed(1)),
      robotDrainSeconds: lastRobot === undefined ? undefined : Number(((lastRobot - instant) / 1000).toFixed(1)),
      startSeconds: Number(startSeconds.toFixed(1)),
      dir,
    };
  } finally {
    for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
    await Promise.all(workers.map(exited));
    log.end();
    await server.connection.close();
    const gone = exited(server.child);
    server.child.kill('SIGTERM');
    await gone;
    await sink.close();
    await fakes.stop();
  }
}

/** The most messages one robot accepted in any sliding minute. */
export function busiestMinute(received: Received[], key: string): number {
  const at = received.filter((m) => m.to === key).map((m) => m.at);
  let most = 0;
  for (const t of at) most = Math.max(most, at.filter((x) => x > t - 60_000 && x <= t).length);
  return most;
}

/** How often each notice's unit appears in the robots' accepted messages, and in which messages (by index). */
export function noticeCopies(received: Received[]): Map<string, number[]> {
  const copies = new Map<string, number[]>();
  received.forEach((m, i) => {
    for (const hit of m.text.matchAll(/（(第\d+单位)，/g)) copies.set(hit[1]!, [...(copies.get(hit[1]!) ?? []), i]);
  });
  return copies;
}
