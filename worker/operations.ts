/**
 * What an operator watches on a worker (issue 11.3, 13.5; docs/deployment.md "Metrics and health"):
 * - `/healthz` (the process is alive and its worker running) and `/readyz` (Temporal, the ledger's database and
 *   the SMTP server answer) on DUBAN_HEALTH_ADDRESS;
 * - gauges in the SDK's Prometheus exporter (DUBAN_METRICS_ADDRESS): open periods by colour, read from the ledger
 *   every DUBAN_METRICS_REFRESH_SECONDS, and whether SMTP takes messages;
 * - SMTP that takes nothing (wrong credentials, a server that refuses everything): one clear error in the log when
 *   it begins, naming SMTP_URL (password redacted), and after DUBAN_SMTP_ALERT_AFTER_SECONDS (checked every
 *   DUBAN_SMTP_ALERT_CHECK_SECONDS) an alert in the ledger that `duban status` prints, in /readyz and the log, sent
 *   once through the operator channels (worker/operator-alert.ts: a signed webhook, a group robot, a command),
 *   and cleared (and said so) when a message goes through again.
 */
import type { MetricMeter } from '@temporalio/common';
import type { Logger } from '@temporalio/worker';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Transporter } from 'nodemailer';
import { SmtpHealth, smtpHealthOf, verifySmtp } from '../channels/email/smtp';
import type { Ledger } from '../ledger';
import { redactUrl, Settings } from '../config/settings';
import { OperatorAlert, OperatorChannel, notifyOperators, operatorChannels } from './operator-alert';

export const SMTP_ALERT = 'smtp';

export interface OperationsOptions {
  settings: Settings;
  ledger: Ledger;
  transport: Transporter;
  /** The worker's NativeConnection, or a client Connection (the web service): anything with a workflow service. */
  connection: { workflowService: { getSystemInfo(request: object): Promise<unknown> } };
  log: Logger;
  /** The runtime's meter (Runtime.instance().metricMeter); absent: no gauges. */
  meter?: MetricMeter;
  /** The worker's state (Worker.getState()): /healthz fails once it stopped or failed. */
  workerState?: () => string;
  now?: () => number;
  /** Where alerts go besides the ledger and the log (default: the channels the settings name). */
  channels?: OperatorChannel[];
}

export interface Operations {
  /** host:port of /healthz and /readyz, when served. */
  healthAddress?: string;
  readiness(): Promise<Readiness>;
  /** One refresh now: gauges, and the SMTP alert in the ledger. */
  tick(): Promise<void>;
  /** Alerts still being sent through the operator channels (tests wait for them). */
  settled(): Promise<void>;
  close(): Promise<void>;
}

export interface Check {
  ok: boolean;
  error?: string;
  [detail: string]: unknown;
}

export interface Readiness {
  ready: boolean;
  /** `channels`: present only while a channel beside email is broken (docs/channels.md); it never makes the worker unready. */
  checks: { temporal: Check; database: Check; smtp: Check; channels?: Check };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<T>(
      (_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)),
    ),
  ]).finally(() => clearTimeout(timer));
}

const message = (err: unknown) => {
  const e = err as { code?: string; message?: string };
  const text = String(e?.message ?? err).replace(/\b([a-z][a-z0-9+.-]*:\/\/[^:/?#\s@]*):[^@/\s]*@/gi, '$1:***@');
  return e?.code && !text.includes(e.code) ? `${text} (${e.code})` : text;
};

/** The SMTP alert's text: what is wrong, since when, which setting to check. */
export function smtpAlertText(health: SmtpHealth, smtpUrl: string, now: number): string {
  const p = health.lastProblem;
  const minutes = Math.round((now - (health.failingSince ?? now)) / 60_000);
  const reason = p
    ? `${p.responseCode ? `${p.responseCode} ` : ''}${p.message}${p.code ? ` (${p.code})` : ''}`
    : '原因不明';
  return (
    `SMTP 已有${minutes}分钟未接收任何邮件（${health.failures}次尝试失败）：${reason}。` +
    `通知均已保留，恢复后自动重发。请检查 SMTP_URL（${redactUrl(smtpUrl)}）：主机、端口、用户名和密码。`
  );
}

export async function startOperations(o: OperationsOptions): Promise<Operations> {
  const { settings, ledger, transport, connection, log } = o;
  const now = o.now ?? Date.now;
  const smtpUrl = settings.smtp!.url;
  const health = smtpHealthOf(transport);
  const ops = settings.operations;
  let alertRaised = false;
  let raisedAt: number | undefined;

  const unsubscribe = health.on((e) => {
    if (e.kind === 'failing') {
      // One error when the trouble begins, not one per attempt: the retries are Temporal's and go on quietly.
      log.error('SMTP is not taking messages: notices are kept and retried until it does. Check SMTP_URL', {
        setting: 'SMTP_URL (smtp.url in the config file)',
        smtp: redactUrl(smtpUrl),
        code: e.problem.code,
        responseCode: e.problem.responseCode,
        reason: e.problem.message,
        alertAfterSeconds: ops.smtpAlertAfterSeconds,
      });
    } else {
      log.info('SMTP takes messages again', {
        smtp: redactUrl(smtpUrl),
        failedAttempts: e.failures,
        failingForSeconds: Math.round((now() - e.since) / 1000),
      });
      void clearSmtpAlert(e.since, e.failures);
    }
  });

  const channels = o.channels ?? operatorChannels(ops);
  const sending = new Set<Promise<void>>();
  const notify = (alert: Omit<OperatorAlert, 'taskQueue'>) => {
    if (channels.length === 0) return;
    const p = notifyOperators(channels, { ...alert, taskQueue: settings.temporal.taskQueue }, log).finally(() =>
      sending.delete(p),
    );
    sending.add(p);
  };

  /** Clears the ledger's alert; the worker that clears it tells the channels, once. */
  async function clearSmtpAlert(since: number, failures: number): Promise<void> {
    const wasRaised = alertRaised;
    alertRaised = false;
    let cleared: boolean;
    try {
      cleared = await ledger.clearAlert(SMTP_ALERT, now());
    } catch (err) {
      log.warn('could not clear the SMTP alert in the ledger', { error: message(err) });
      cleared = wasRaised;
    }
    if (!cleared) return;
    const minutes = Math.max(1, Math.round((now() - since) / 60_000));
    notify({
      kind: SMTP_ALERT,
      state: 'cleared',
      since: new Date(since).toISOString(),
      at: new Date(now()).toISOString(),
      message: `SMTP 已恢复接收邮件（此前${failures}次尝试失败）。`,
      text: `【督办系统告警解除】邮件发送已恢复（此前失败约${minutes}分钟），保留的通知正在补发。`,
    });
  }

  const trackers = o.meter?.createGauge(
    'duban_trackers',
    'int',
    undefined,
    'open periods by board colour (and broken trackers), from the ledger',
  );
  const smtpUp = o.meter?.createGauge(
    'duban_smtp_up',
    'int',
    undefined,
    '1 while the SMTP server takes messages, 0 while sends fail',
  );
  const smtpFailing = o.meter?.createGauge(
    'duban_smtp_failing_seconds',
    'int',
    undefined,
    'how long sends have been failing transiently',
  );

  async function tick(): Promise<void> {
    const t = now();
    smtpUp?.set(health.failingSince === undefined ? 1 : 0);
    smtpFailing?.set(health.failingSince === undefined ? 0 : Math.round((t - health.failingSince) / 1000));
    if (trackers) {
      try {
        for (const [colour, n] of Object.entries(await ledger.colourCounts())) trackers.set(n, { colour });
      } catch (err) {
        log.warn('could not read the board for the duban_trackers gauge', { error: message(err) });
      }
    }
  }

  /**
   * The SMTP alert, checked every DUBAN_SMTP_ALERT_CHECK_SECONDS: raised once sends have failed for
   * DUBAN_SMTP_ALERT_AFTER_SECONDS, counted from the start of the first failed attempt (so an attempt that spent its
   * connection timeout failing does not delay the alert by that timeout).
   */
  async function checkAlert(): Promise<void> {
    const t = now();
    if (health.failingSince === undefined && alertRaised) {
      // Recovered without the operator having been told by the 'recovered' event (a short run of 4xx).
      await clearSmtpAlert(t, 0);
      return;
    }
    if (health.failingSince === undefined || t - health.failingSince < ops.smtpAlertAfterSeconds * 1000) return;
    const text = smtpAlertText(health, smtpUrl, t);
    let opened: boolean;
    try {
      opened = await ledger.raiseAlert(SMTP_ALERT, text, health.failingSince, t);
    } catch (err) {
      log.warn('could not record the SMTP alert in the ledger', { error: message(err) });
      // Without the ledger, this worker cannot know whether another told the operators: better twice than never.
      opened = !alertRaised;
    }
    if (!alertRaised)
      log.error('SMTP alert raised on the board (duban status) and in /readyz', {
        smtp: redactUrl(smtpUrl),
        failingSince: new Date(health.failingSince).toISOString(),
        failingForSeconds: Math.round((t - health.failingSince) / 1000),
        alertAfterSeconds: ops.smtpAlertAfterSeconds,
        operatorChannels: channels.map((c) => c.name),
      });
    alertRaised = true;
    raisedAt = t;
    if (opened) {
      const minutes = Math.max(1, Math.round((t - health.failingSince) / 60_000));
      const p = health.lastProblem;
      notify({
        kind: SMTP_ALERT,
        state: 'raised',
        since: new Date(health.failingSince).toISOString(),
        at: new Date(t).toISOString(),
        message: text,
        text:
          `【督办系统告警】邮件发送失败已约${minutes}分钟（${health.failures}次尝试失败` +
          `${p ? `：${p.responseCode ? `${p.responseCode} ` : ''}${p.message}` : ''}）。` +
          `通知均已保留，恢复后自动补发。请检查 SMTP_URL（${redactUrl(smtpUrl)}）。`,
      });
    }
  }

  let smtpVerified: { at: number; check: Check } | undefined;
  async function smtpCheck(): Promise<Check> {
    if (health.failingSince !== undefined) {
      const p = health.lastProblem;
      return {
        ok: false,
        error:
          `sends failing since ${new Date(health.failingSince).toISOString()}: ${p?.responseCode ?? ''} ${p?.message ?? ''}`.replace(
            /\s+/g,
            ' ',
          ),
        setting: 'SMTP_URL',
        failures: health.failures,
        ...(alertRaised
          ? {
              alert: {
                raisedAt: new Date(raisedAt ?? now()).toISOString(),
                message: smtpAlertText(health, smtpUrl, now()),
              },
            }
          : {}),
      };
    }
    // verify() opens a connection and logs in: at most every 10 s, however often the probe asks.
    if (smtpVerified && now() - smtpVerified.at < 10_000) return smtpVerified.check;
    let check: Check;
    try {
      await verifySmtp(transport, 5_000);
      check = { ok: true };
    } catch (err) {
      check = { ok: false, error: message(err), setting: 'SMTP_URL' };
    }
    smtpVerified = { at: now(), check };
    return check;
  }

  async function readiness(): Promise<Readiness> {
    const run = async (f: () => Promise<unknown>, what: string): Promise<Check> => {
      try {
        await withTimeout(f(), 5_000, what);
        return { ok: true };
      } catch (err) {
        return { ok: false, error: message(err) };
      }
    };
    const [temporal, database, smtp] = await Promise.all([
      run(() => connection.workflowService.getSystemInfo({}), 'Temporal').then((c) => ({
        ...c,
        address: settings.temporal.address,
      })),
      run(() => ledger.ping(), 'database').then((c) =>
        c.ok ? c : { ...c, setting: settings.database.url ? 'DATABASE_URL' : 'DUBAN_DATA_DIR' },
      ),
      smtpCheck(),
    ]);
    // A broken robot or SMS account is the administrator's to fix, not a reason to take the worker out of service.
    const broken = database.ok ? await ledger.channels.broken().catch(() => []) : [];
    const channels: Check | undefined = broken.length
      ? {
          ok: false,
          broken: broken.map((b) => ({
            channel: b.channel,
            since: new Date(b.broken_since ?? 0).toISOString(),
            reason: b.reason,
          })),
        }
      : undefined;
    return {
      ready: temporal.ok && database.ok && smtp.ok,
      checks: { temporal, database, smtp, ...(channels ? { channels } : {}) },
    };
  }

  let server: Server | undefined;
  let healthAddress: string | undefined;
  if (ops.healthAddress) {
    const send = (res: ServerResponse, status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
      res.end(`${JSON.stringify(body)}\n`);
    };
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: 'GET only' });
      if (path === '/healthz') {
        const state = o.workerState?.() ?? 'RUNNING';
        const alive = state !== 'FAILED' && state !== 'STOPPED';
        return send(res, alive ? 200 : 503, { alive, worker: state });
      }
      if (path === '/readyz') {
        readiness().then(
          (r) => send(res, r.ready ? 200 : 503, r),
          (err: unknown) => send(res, 503, { ready: false, error: message(err) }),
        );
        return;
      }
      send(res, 404, { error: 'not found: /healthz, /readyz (metrics are on DUBAN_METRICS_ADDRESS /metrics)' });
    });
    const m = /^(.*):(\d+)$/.exec(ops.healthAddress)!;
    const host = m[1]!.replace(/^\[|\]$/g, '');
    await new Promise<void>((resolve, reject) => {
      server!.once('error', (err) =>
        reject(new Error(`DUBAN_HEALTH_ADDRESS ${ops.healthAddress}：无法监听（${message(err)}）`)),
      );
      server!.listen(Number(m[2]), host, () => resolve());
    });
    const a = server.address() as AddressInfo;
    healthAddress = `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
  }

  await tick();
  await checkAlert();
  const timer = setInterval(() => void tick(), Math.min(ops.metricsRefreshSeconds, 60) * 1000);
  timer.unref();
  const alertTimer = setInterval(() => void checkAlert(), ops.smtpAlertCheckSeconds * 1000);
  alertTimer.unref();

  return {
    healthAddress,
    readiness,
    async tick() {
      await tick();
      await checkAlert();
    },
    async settled() {
      await Promise.all([...sending]);
    },
    async close() {
      clearInterval(timer);
      clearInterval(alertTimer);
      unsubscribe();
      if (server) {
        server.closeAllConnections?.();
        await new Promise<void>((resolve) => server!.close(() => resolve()));
      }
    },
  };
}
