/**
 * What an operator watches on a worker (issue 11.3, 13.5; docs/deployment.md "Metrics and health"):
 * - `/healthz` (the process is alive and its worker running) and `/readyz` (Temporal, the ledger's database and
 *   the SMTP server answer) on DUBAN_HEALTH_ADDRESS;
 * - gauges in the SDK's Prometheus exporter (DUBAN_METRICS_ADDRESS): open periods by colour, read from the ledger
 *   every DUBAN_METRICS_REFRESH_SECONDS, and whether SMTP takes messages;
 * - SMTP that takes nothing (wrong credentials, a server that refuses everything): one clear error in the log when
 *   it begins, naming SMTP_URL (password redacted), and after DUBAN_SMTP_ALERT_AFTER_SECONDS an alert in the ledger
 *   that `duban status` prints, cleared when a message goes through again.
 */
import type { MetricMeter } from '@temporalio/common';
import type { Logger } from '@temporalio/worker';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Transporter } from 'nodemailer';
import { SmtpHealth, smtpHealthOf, verifySmtp } from '../activities/email';
import type { Ledger } from '../ledger';
import { redactUrl, Settings } from '../config/settings';

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
}

export interface Operations {
  /** host:port of /healthz and /readyz, when served. */
  healthAddress?: string;
  readiness(): Promise<Readiness>;
  /** One refresh now: gauges, and the SMTP alert in the ledger. */
  tick(): Promise<void>;
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
    : 'unknown';
  return (
    `SMTP has taken no message for ${minutes} min (${health.failures} attempts failed): ${reason}. ` +
    `Notices are kept and retried until it does. Check SMTP_URL (${redactUrl(smtpUrl)}): host, port, user and password.`
  );
}

export async function startOperations(o: OperationsOptions): Promise<Operations> {
  const { settings, ledger, transport, connection, log } = o;
  const now = o.now ?? Date.now;
  const smtpUrl = settings.smtp!.url;
  const health = smtpHealthOf(transport);
  const ops = settings.operations;
  let alertRaised = false;

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
      ledger
        .clearAlert(SMTP_ALERT, now())
        .catch((err: unknown) => log.warn('could not clear the SMTP alert in the ledger', { error: message(err) }));
      alertRaised = false;
    }
  });

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
    if (health.failingSince === undefined && alertRaised) {
      // Recovered without the operator having been told (a short run of 4xx): the alert still goes.
      await ledger.clearAlert(SMTP_ALERT, t).catch(() => undefined);
      alertRaised = false;
    }
    if (health.failingSince !== undefined && t - health.failingSince >= ops.smtpAlertAfterSeconds * 1000) {
      try {
        await ledger.raiseAlert(SMTP_ALERT, smtpAlertText(health, smtpUrl, t), health.failingSince, t);
        if (!alertRaised)
          log.error('SMTP alert raised on the board (duban status)', {
            smtp: redactUrl(smtpUrl),
            failingSince: new Date(health.failingSince).toISOString(),
          });
        alertRaised = true;
      } catch (err) {
        log.warn('could not record the SMTP alert in the ledger', { error: message(err) });
      }
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
      server!.once('error', (err) => reject(new Error(`DUBAN_HEALTH_ADDRESS ${ops.healthAddress}: ${message(err)}`)));
      server!.listen(Number(m[2]), host, () => resolve());
    });
    const a = server.address() as AddressInfo;
    healthAddress = `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
  }

  await tick();
  const timer = setInterval(() => void tick(), Math.min(ops.metricsRefreshSeconds, 60) * 1000);
  timer.unref();

  return {
    healthAddress,
    readiness,
    tick,
    async close() {
      clearInterval(timer);
      unsubscribe();
      if (server) {
        server.closeAllConnections?.();
        await new Promise<void>((resolve) => server!.close(() => resolve()));
      }
    },
  };
}
