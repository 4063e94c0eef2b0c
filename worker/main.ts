/**
 * The one worker entry point (`npm run worker`, `duban worker`): runs the tracker workflows and their
 * activities on the task queue. Several workers on one task queue share the load. SIGINT or SIGTERM stops it
 * gracefully: no new tasks are taken, running activities get 30 seconds to finish, and what is cut short is
 * retried by another worker.
 */
import { Client, Connection } from '@temporalio/client';
import { types } from 'node:util';
import { NativeConnection, Runtime, Worker, DefaultLogger, LogLevel, makeTelemetryFilterString } from '@temporalio/worker';
import { createEngineWorker } from './factory';
import type { Sender } from '../activities';
import { createSmtpTransport } from '../activities/email';
import { Ledger, LedgerUnavailableError, describeLedger } from '../activities/ledger/ledger';
import { loadCalendarFile, formatProblem } from '../config/load';
import { Settings, SettingsError, describeSettings, ledgerOptions, linkSettings, loadSettings, webBaseUrl, parseMailbox, temporalConnectionOptions } from '../config/settings';
import { WorkingCalendar } from '../domain/calendar';
import { DeploymentMemo, deploymentWorkflow, deploymentWorkflowId } from '../workflows/deployment';
import { DIGEST_WORKFLOW_ID, digestWorkflow } from '../workflows/digest';

export interface RunningWorker {
  worker: Worker;
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

const ERROR_FIELDS = ['code', 'errno', 'syscall', 'address', 'port', 'type', 'nonRetryable', 'responseCode', 'command', 'response'] as const;

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
    isError(value) ? serializeError(value) : typeof value === 'string' ? redactSecrets(value) : typeof value === 'bigint' ? value.toString() : value,
  );
}

/** A JSON line per log record: structured logs that a collector can read. */
export function jsonLogger(level: LogLevel, write: (line: string) => void = (line) => process.stderr.write(line)) {
  return new DefaultLogger(level, (entry) => {
    const { level: lvl, message, meta, timestampNanos } = entry;
    write(`${logLine({ time: new Date(Number(timestampNanos / 1_000_000n)).toISOString(), level: lvl, message, ...meta })}\n`);
  });
}

export async function startWorker(settings: Settings, options: { workflowsPath?: string } = {}): Promise<RunningWorker> {
  if (!settings.smtp) throw new SettingsError('SMTP_URL (smtp.url in the config file) is required to run a worker');
  let notices: Awaited<ReturnType<typeof loadCalendarFile>>['notices'] = [];
  if (settings.calendar) {
    const cal = loadCalendarFile(settings.calendar);
    if (cal.problems.length) throw new SettingsError(`DUBAN_CALENDAR ${settings.calendar}:\n  ${cal.problems.map(formatProblem).join('\n  ')}`);
    notices = cal.notices;
  }
  const calendar = new WorkingCalendar(notices);
  // Parsed before anything opens, so a malformed key stops the worker naming the setting.
  const links = linkSettings(settings);
  // The worker creates and migrates the ledger; commands only read it (docs/deployment.md).
  const ledger = await Ledger.open({ ...ledgerOptions(settings), migrate: true });
  const transport = createSmtpTransport(settings.smtp);
  const from: Sender = parseMailbox(settings.smtp.from);
  let connection: NativeConnection | undefined;
  try {
    try {
      connection = await NativeConnection.connect(await temporalConnectionOptions(settings));
    } catch (err) {
      if (err instanceof SettingsError) throw err;
      throw new Error(`cannot reach Temporal at ${settings.temporal.address} (TEMPORAL_ADDRESS, namespace ${settings.temporal.namespace}): ${(err as Error).message}`);
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
      webUrl: settings.web.baseUrl ? webBaseUrl(settings) : undefined,
      maxConcurrentActivities: settings.worker.maxConcurrentActivities,
      maxCachedWorkflows: settings.worker.maxCachedWorkflows,
    });
    if (settings.digest.enabled) await ensureDigestWorkflow(settings);
    const conn = connection;
    const done = worker.run().finally(async () => {
      transport.close();
      await ledger.close();
      await conn.close();
    });
    return { worker, done };
  } catch (err) {
    transport.close();
    await ledger.close();
    await connection?.close();
    throw err;
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
        `refused: this worker's ledger is not the ledger of its deployment (namespace ${settings.temporal.namespace}, task queue ${settings.temporal.taskQueue}).\n` +
          `  the deployment's ledger: ${recorded.ledger ?? '(not described)'}, identity ${recorded.ledgerIdentity}, recorded ${recorded.recordedAt ?? '?'} in workflow ${workflowId}\n` +
          `  this worker's ledger:    ${mine}, identity ${identity}\n` +
          'A deployment has one ledger, or 督办单 numbers are issued twice. Point DATABASE_URL (or DUBAN_DATA_DIR) at the deployment\'s ledger, ' +
          'or give a separate deployment its own task queue (DUBAN_TASK_QUEUE). If the recorded ledger is gone for good and this one replaces it, ' +
          `end the record first: temporal workflow terminate --namespace ${settings.temporal.namespace} --workflow-id '${workflowId}' (docs/deployment.md).`,
      );
    }
  } finally {
    await connection.close();
  }
}

/** Starts the deployment's digest workflow unless it runs already; every worker may ask, one runs. */
export async function ensureDigestWorkflow(settings: Settings): Promise<void> {
  const connection = await Connection.connect(await temporalConnectionOptions(settings));
  try {
    const client = new Client({ connection, namespace: settings.temporal.namespace });
    await client.workflow.start(digestWorkflow, {
      workflowId: DIGEST_WORKFLOW_ID,
      taskQueue: settings.temporal.taskQueue,
      args: [{ timeZone: settings.digest.timeZone, hour: settings.digest.hour }],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
  } finally {
    await connection.close();
  }
}

export async function main(): Promise<number> {
  Runtime.install({
    logger: jsonLogger((process.env.DUBAN_LOG_LEVEL as LogLevel) ?? 'INFO'),
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'WARN' }) } },
  });
  let settings: Settings;
  try {
    settings = loadSettings();
  } catch (err) {
    if (err instanceof SettingsError) {
      console.error(`duban worker: ${err.message}`);
      return 2;
    }
    throw err;
  }
  const log = Runtime.instance().logger;
  if (process.env.TZ !== 'UTC') log.warn('TZ is not UTC: duban computes in explicit zones, but UTC keeps every worker alike', { TZ: process.env.TZ });
  try {
    const running = await startWorker(settings);
    log.info('duban worker started', describeSettings(settings));
    await running.done;
    log.info('duban worker stopped');
    return 0;
  } catch (err) {
    if (err instanceof SettingsError || err instanceof LedgerMismatchError) {
      console.error(`duban worker: ${err.message}`);
      return 2;
    }
    if (err instanceof LedgerUnavailableError) console.error(`duban worker: ${err.message}`);
    log.error('duban worker failed', { error: err });
    return 1;
  }
}

if (require.main === module) {
  void main().then((code) => process.exit(code));
}
