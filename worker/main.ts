/**
 * The one worker entry point (`npm run worker`, `duban worker`): runs the tracker workflows and their
 * activities on the task queue. Several workers on one task queue share the load. SIGINT or SIGTERM stops it
 * gracefully: no new tasks are taken, running activities get 30 seconds to finish, and what is cut short is
 * retried by another worker.
 */
import {
  Client,
  Connection,
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  WorkflowNotFoundError,
} from '@temporalio/client';
import { types } from 'node:util';
import {
  NativeConnection,
  Runtime,
  Worker,
  DefaultLogger,
  LogLevel,
  makeTelemetryFilterString,
} from '@temporalio/worker';
import { createEngineWorker } from './factory';
import { ChannelDispatcher, channelAlert, operatorMailer } from '../activities/channels';
import { latestSnapshot } from '../access/registered';
import { channelEndpoints, loadChannelSecrets, missingSecret } from '../config/channels';
import { Operations, startOperations } from './operations';
import { OperatorChannel, channelBrokenAlert, notifyOperators, operatorChannels } from './operator-alert';
import type { Sender } from '../activities';
import { createSmtpTransport } from '../channels/email/smtp';
import { Ledger, LedgerUnavailableError, describeLedger } from '../ledger';
import { openLedger } from '../access/ledger';
import { loadCalendarFile, formatProblem } from '../config/load';
import {
  Settings,
  SettingsError,
  describeSettings,
  ledgerOptions,
  linkSettings,
  loadSettings,
  webBaseUrl,
  parseMailbox,
  temporalConnectionOptions,
} from '../config/settings';
import { WorkingCalendar } from '../domain/calendar';
import { DeploymentMemo, deploymentWorkflow, deploymentWorkflowId } from '../workflows/deployment';
import { DIGEST_WORKFLOW_ID, DigestInput, digestDayWorkflow, digestScheduleId } from '../workflows/digest';

export interface RunningWorker {
  worker: Worker;
  /** Health endpoints, gauges and the SMTP alert (worker/operations.ts). */
  operations: Operations;
  /** Resolves when the worker has stopped and its connections are closed. */
  done: Promise<void>;
}

/** This worker's ledger is not the one its deployment recorded: exit code 2, nothing was processed. */
export class LedgerMismatchError extends Error {
  override name = 'LedgerMismatchError';
}

/** Passwords in URLs (smtp://user:password@host, postgres://...) are replaced before a message is logged. */
function redactSecrets(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/[^:/?#\s@]*):[^@/\s]*@/gi, '$1:***@');
}

const ERROR_FIELDS = [
  'code',
  'errno',
  'syscall',
  'address',
  'port',
  'type',
  'nonRetryable',
  'responseCode',
  'command',
  'response',
] as const;

/**
 * An Error as a log can show it: name, message, code (and the other fields Node, nodemailer and Temporal put on
 * their errors), and the chain of causes. JSON.stringify alone writes `{}` for an Error. No stack, and passwords
 * in URLs are redacted.
 */
export function serializeError(err: unknown, depth = 0): unknown {
  if (!isError(err)) return typeof err === 'string' ? redactSecrets(err) : err;
  // Temporal's failures (ActivityFailure, ApplicationFailure...) keep `name` "Error": their class says more.
  const name = err.name === 'Error' && err.constructor?.name ? err.constructor.name : err.name;
  const out: Record<string, unknown> = { name, message: redactSecrets(err.message) };
  const fields = err as unknown as Record<string, unknown>;
  for (const f of ERROR_FIELDS) {
    const v = fields[f];
    if (v !== undefined && v !== null && v !== '') out[f] = typeof v === 'string' ? redactSecrets(v) : v;
  }
  // AggregateError (e.g. a connection tried on IPv6 and IPv4) keeps its reasons in `errors`.
  const nested = (err as { errors?: unknown }).errors;
  if (Array.isArray(nested) && nested.length) out.errors = nested.slice(0, 5).map((e) => serializeError(e, depth + 1));
  if (err.cause !== undefined && depth < 8) out.cause = serializeError(err.cause, depth + 1);
  return out;
}

/** Errors thrown in workflow code come from the sandbox's realm, where `instanceof Error` is false. */
function isError(value: unknown): value is Error {
  return value instanceof Error || types.isNativeError(value);
}

/**
 * JSON.stringify with Error values serialised, passwords in URLs redacted, and BigInts as strings: one log line
 * never fails to print and never carries a secret.
 */
export function logLine(record: Record<string, unknown>): string {
  return JSON.stringify(record, (_key, value: unknown) =>
    isError(value)
      ? serializeError(value)
      : typeof value === 'string'
        ? redactSecrets(value)
        : typeof value === 'bigint'
          ? value.toString()
          : value,
  );
}

/** A JSON line per log record: structured logs that a collector can read. */
export function jsonLogger(level: LogLevel, write: (line: string) => void = (line) => process.stderr.write(line)) {
  return new DefaultLogger(level, (entry) => {
    const { level: lvl, message, meta, timestampNanos } = entry;
    write(
      `${logLine({ time: new Date(Number(timestampNanos / 1_000_000n)).toISOString(), level: lvl, message, ...meta })}\n`,
    );
  });
}

export async function startWorker(
  settings: Settings,
  options: { workflowsPath?: string } = {},
): Promise<RunningWorker> {
  if (!settings.smtp) throw new SettingsError('运行 worker 须设置 SMTP_URL（配置文件中的 smtp.url）');
  let arrangements: Awaited<ReturnType<typeof loadCalendarFile>>['arrangements'] = [];
  if (settings.calendar) {
    const cal = loadCalendarFile(settings.calendar);
    if (cal.problems.length)
      throw new SettingsError(
        `DUBAN_CALENDAR ${settings.calendar}:\n  ${cal.problems.map(formatProblem).join('\n  ')}`,
      );
    arrangements = cal.arrangements;
  }
  const calendar = new WorkingCalendar(arrangements);
  // Parsed before anything opens, so a malformed key stops the worker naming the setting.
  const links = linkSettings(settings);
  let secrets: ReturnType<typeof loadChannelSecrets>;
  try {
    secrets = loadChannelSecrets(process.env);
  } catch (err) {
    throw new SettingsError((err as Error).message);
  }
  const endpoints = channelEndpoints(process.env);
  // The operator channels (the webhook, a robot, a command): checked before anything opens, like the settings.
  let operators: OperatorChannel[];
  try {
    operators = operatorChannels(settings.operations, { secrets, endpoints });
  } catch (err) {
    throw err instanceof SettingsError ? err : new SettingsError((err as Error).message);
  }
  // The worker creates and migrates the ledger; commands only read it (docs/deployment.md). A database that is
  // restarting or not up yet is waited for, as a running worker waits for it; anything else stops the worker.
  const ledger = await openLedgerPatiently(settings);
  const transport = createSmtpTransport(settings.smtp);
  const from: Sender = parseMailbox(settings.smtp.from);
  const webUrl = settings.web.baseUrl ? webBaseUrl(settings) : undefined;
  const operatorEmail = process.env.DUBAN_OPERATOR_EMAIL?.trim();
  const channels = new ChannelDispatcher({
    ledger,
    links,
    secrets,
    endpoints,
    // The runtime's logger, looked up when used: the runtime is installed by then.
    log: {
      info: (m, meta) => Runtime.instance().logger.info(m, meta as Record<string, unknown>),
      warn: (m, meta) => Runtime.instance().logger.warn(m, meta as Record<string, unknown>),
      error: (m, meta) => Runtime.instance().logger.error(m, meta as Record<string, unknown>),
    },
    ...(operatorEmail ? { notifyOperator: operatorMailer(transport, from, operatorEmail) } : {}),
    // The channel.broken alert (issue 22.4) through the same operator channels as the SMTP alert.
    alertOperators: (a) =>
      notifyOperators(operators, channelBrokenAlert(a, settings.temporal.taskQueue), Runtime.instance().logger),
  });
  let connection: NativeConnection | undefined;
  let operations: Operations | undefined;
  try {
    try {
      connection = await NativeConnection.connect(await temporalConnectionOptions(settings));
    } catch (err) {
      if (err instanceof SettingsError) throw err;
      throw new Error(
        `无法连接 Temporal ${settings.temporal.address}（${settings.temporal.addressFrom}；namespace ${settings.temporal.namespace}；设置来自 ${settings.temporal.source}）：${(err as Error).message}`,
      );
    }
    // Before any task is taken: a worker with another ledger must process nothing.
    await checkDeploymentLedger(settings, ledger);
    const worker = await createEngineWorker({
      connection,
      namespace: settings.temporal.namespace,
      taskQueue: settings.temporal.taskQueue,
      workflowsPath: options.workflowsPath,
      ledger,
      transport,
      connections: settings.smtp.maxConnections,
      from,
      calendar,
      digest: settings.digest.enabled,
      links,
      // A deployment that names its web address has a web service: notices without links point there.
      webUrl,
      maxConcurrentActivities: settings.worker.maxConcurrentActivities,
      maxCachedWorkflows: settings.worker.maxCachedWorkflows,
      stackTraces: settings.worker.stackTraces,
      sendLeaseMs: settings.worker.sendLeaseSeconds === undefined ? undefined : settings.worker.sendLeaseSeconds * 1000,
      heartbeatUrl: settings.operations.heartbeatUrl,
      onChannelRows: () => channels.kick(),
    });
    await ensureDigestSchedule(settings, Runtime.instance().logger);
    await checkChannelSecrets(ledger, secrets, Runtime.instance().logger);
    await channels.start();
    const runtime = Runtime.instance();
    operations = await startOperations({
      settings,
      ledger,
      transport,
      connection,
      log: runtime.logger,
      meter: runtime.metricMeter,
      workerState: () => worker.getState(),
      channels: operators,
    });
    const conn = connection;
    const ops = operations;
    const done = worker.run().finally(async () => {
      await channels.stop();
      await ops.close();
      transport.close();
      await ledger.close();
      await conn.close();
    });
    return { worker, operations, done };
  } catch (err) {
    await channels.stop();
    await operations?.close();
    transport.close();
    await ledger.close();
    await connection?.close();
    throw err;
  }
}

/**
 * At start: every channel of the registered directory has its secret in this worker's settings, or the log says
 * which setting is missing (an error) and the channel's alert is raised; email and the other channels go on.
 */
export async function checkChannelSecrets(
  ledger: Ledger,
  secrets: ReturnType<typeof loadChannelSecrets>,
  log: { error(m: string, meta?: Record<string, unknown>): void },
): Promise<void> {
  const snapshot = await latestSnapshot(ledger).catch(() => undefined);
  for (const c of snapshot?.directory.channels ?? []) {
    const missing = missingSecret(c, secrets(c.name));
    if (!missing) continue;
    log.error("a channel has no secret in this worker's settings; its messages wait until it has", {
      channel: c.name,
      kind: c.kind,
      reason: missing,
    });
    await ledger.raiseAlert(channelAlert(c.name), missing, Date.now()).catch(() => undefined);
  }
}

/** How long a starting worker waits for a ledger it cannot reach yet (DUBAN_LEDGER_WAIT_SECONDS, default 300). */
function ledgerWaitMs(): number {
  const seconds = Number(process.env.DUBAN_LEDGER_WAIT_SECONDS ?? 300);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : 300_000;
}

/**
 * Opens and migrates the ledger, waiting (1 s, doubling up to 30 s) while the database cannot be reached or is
 * restarting: a worker started with its database, or during its restart, comes up when the database does, instead of
 * exiting and leaving its notices to no one. A refusal that waiting cannot mend (password, database name, a
 * statement) stops it at once.
 */
async function openLedgerPatiently(settings: Settings): Promise<Ledger> {
  const until = Date.now() + ledgerWaitMs();
  for (let attempt = 0; ; attempt++) {
    try {
      return await openLedger(settings, { migrate: true });
    } catch (err) {
      if (!(err instanceof LedgerUnavailableError) || !err.transient || Date.now() >= until) throw err;
      const waitMs = Math.min(30_000, 1000 * 2 ** Math.min(attempt, 5));
      Runtime.instance().logger.warn('台账暂时无法连接，稍后重试', { error: err.message, retryInMs: waitMs });
      await new Promise((r) => setTimeout(r, waitMs));
    }
  }
}

/**
 * One ledger per deployment (namespace and task queue): the first worker records its ledger's identity in the
 * memo of the deployment workflow; a worker whose ledger has another identity is refused with both named.
 */
export async function checkDeploymentLedger(settings: Settings, ledger: Ledger): Promise<void> {
  const identity = await ledger.identity();
  const mine = describeLedger(ledgerOptions(settings));
  const workflowId = deploymentWorkflowId(settings.temporal.taskQueue);
  const connection = await Connection.connect(await temporalConnectionOptions(settings));
  try {
    const client = new Client({ connection, namespace: settings.temporal.namespace });
    const memo: DeploymentMemo = { ledgerIdentity: identity, ledger: mine, recordedAt: new Date().toISOString() };
    const handle = await client.workflow.start(deploymentWorkflow, {
      workflowId,
      taskQueue: settings.temporal.taskQueue,
      args: [],
      memo: { ...memo },
      // Every worker asks; the first one's ledger is the deployment's.
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
    const recorded = (await handle.describe()).memo as Partial<DeploymentMemo> | undefined;
    if (recorded?.ledgerIdentity && recorded.ledgerIdentity !== identity) {
      throw new LedgerMismatchError(
        `已拒绝：此 worker 的台账不是其部署的台账（namespace ${settings.temporal.namespace}，task queue ${settings.temporal.taskQueue}）。\n` +
          `  部署的台账：${recorded.ledger ?? '（无描述）'}，标识 ${recorded.ledgerIdentity}，${recorded.recordedAt ?? '?'} 记录于 workflow ${workflowId}\n` +
          `  此 worker 的台账：${mine}，标识 ${identity}\n` +
          '一个部署只能有一个台账，否则督办单编号会重复。请将 DATABASE_URL（或 DUBAN_DATA_DIR）指向部署的台账，' +
          '或为另一个部署设置单独的 task queue（DUBAN_TASK_QUEUE）。如果记录的台账已永久丢失并由此台账取代，' +
          `请先结束该记录：temporal workflow terminate --namespace ${settings.temporal.namespace} --workflow-id '${workflowId}'（见 docs/deployment.md）。`,
      );
    }
  } finally {
    await connection.close();
  }
}

/**
 * The deployment's digest Schedule (workflows/digest.ts): created by the first worker, brought in line with this
 * worker's DUBAN_DIGEST_HOUR and DUBAN_DIGEST_TIME_ZONE when they changed, paused when DUBAN_DIGEST=false. The
 * sleeping digest loop of earlier versions, if it runs on this task queue, is ended: the schedule replaces it.
 */
export async function ensureDigestSchedule(
  settings: Settings,
  log?: { info(m: string, meta?: Record<string, unknown>): void },
): Promise<void> {
  const connection = await Connection.connect(await temporalConnectionOptions(settings));
  try {
    const client = new Client({ connection, namespace: settings.temporal.namespace });
    const scheduleId = digestScheduleId(settings.temporal.taskQueue);
    const input = { timeZone: settings.digest.timeZone, hour: settings.digest.hour };
    const spec = {
      calendars: [{ hour: input.hour, comment: 'the digest hour; the run skips days that are not working days' }],
      timezone: input.timeZone,
    };
    const handle = client.schedule.getHandle(scheduleId);
    if (settings.digest.enabled) {
      try {
        await client.schedule.create({
          scheduleId,
          spec,
          action: {
            type: 'startWorkflow',
            workflowType: digestDayWorkflow,
            args: [input],
            taskQueue: settings.temporal.taskQueue,
            workflowId: scheduleId,
          },
          policies: {
            overlap: ScheduleOverlapPolicy.SKIP,
            // A run missed while Temporal was down is caught up within a day, with its own day.
            catchupWindow: '1 day',
            pauseOnFailure: false,
          },
          state: { note: 'duban supervisor digest (督办日报): pause to hold the digests, trigger to run a missed day' },
        });
        log?.info('digest schedule created', { scheduleId, hour: input.hour, timeZone: input.timeZone });
      } catch (err) {
        if (!(err instanceof ScheduleAlreadyRunning)) throw err;
        const d = await handle.describe();
        const cal = d.spec.calendars?.[0];
        const hour = cal ? ((cal.hour as { start: number }[] | undefined)?.[0]?.start ?? 0) : undefined;
        const args = d.action.type === 'startWorkflow' ? (d.action.args as DigestInput[] | undefined)?.[0] : undefined;
        if (
          hour !== input.hour ||
          d.spec.timezone !== input.timeZone ||
          args?.hour !== input.hour ||
          args?.timeZone !== input.timeZone
        ) {
          await handle.update((prev) => ({
            ...prev,
            spec,
            action: prev.action.type === 'startWorkflow' ? { ...prev.action, args: [input] } : prev.action,
          }));
          log?.info("digest schedule updated to this worker's settings", {
            scheduleId,
            hour: input.hour,
            timeZone: input.timeZone,
          });
        }
        if (d.state.paused && d.state.note?.startsWith('DUBAN_DIGEST=false'))
          await handle.unpause('DUBAN_DIGEST=true on a worker');
      }
      await endDigestLoop(client, settings.temporal.taskQueue);
    } else {
      try {
        const d = await handle.describe();
        if (!d.state.paused) await handle.pause('DUBAN_DIGEST=false on a worker');
      } catch (err) {
        if (!(err instanceof ScheduleNotFoundError)) throw err;
      }
    }
  } finally {
    await connection.close();
  }
}

/** Ends the former sleeping digest loop (`duban/digest`) if it runs for this task queue. */
async function endDigestLoop(client: Client, taskQueue: string): Promise<void> {
  const handle = client.workflow.getHandle(DIGEST_WORKFLOW_ID);
  try {
    const d = await handle.describe();
    if (d.status.name === 'RUNNING' && d.taskQueue === taskQueue)
      await handle.terminate(`replaced by the schedule ${digestScheduleId(taskQueue)}`);
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
}

export async function main(): Promise<number> {
  let settings: Settings;
  try {
    settings = loadSettings();
  } catch (err) {
    if (err instanceof SettingsError) {
      console.error(`duban worker：${err.message}`);
      return 2;
    }
    throw err;
  }
  const metricsAddress = settings.operations.metricsAddress;
  Runtime.install({
    logger: jsonLogger((process.env.DUBAN_LOG_LEVEL as LogLevel) ?? 'INFO'),
    telemetryOptions: {
      logging: { filter: makeTelemetryFilterString({ core: 'WARN' }) },
      // The SDK's Prometheus exporter, which also carries duban's own metrics (activities/metrics.ts, worker/operations.ts).
      ...(metricsAddress ? { metrics: { prometheus: { bindAddress: metricsAddress } } } : {}),
    },
  });
  const log = Runtime.instance().logger;
  if (process.env.TZ !== 'UTC')
    log.warn('TZ is not UTC: duban computes in explicit zones, but UTC keeps every worker alike', {
      TZ: process.env.TZ,
    });
  try {
    const running = await startWorker(settings);
    log.info('duban worker started', describeSettings(settings));
    await running.done;
    log.info('duban worker stopped');
    return 0;
  } catch (err) {
    if (err instanceof SettingsError || err instanceof LedgerMismatchError) {
      console.error(`duban worker：${err.message}`);
      return 2;
    }
    if (err instanceof LedgerUnavailableError) console.error(`duban worker：${err.message}`);
    log.error('duban worker failed', { error: err });
    return 1;
  }
}

if (require.main === module) {
  void main().then((code) => process.exit(code));
}
