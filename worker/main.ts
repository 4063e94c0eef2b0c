/**
 * The one worker entry point (`npm run worker`, `duban worker`): runs the tracker workflows and their
 * activities on the task queue. Several workers on one task queue share the load. SIGINT or SIGTERM stops it
 * gracefully: no new tasks are taken, running activities get 30 seconds to finish, and what is cut short is
 * retried by another worker.
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, Worker, DefaultLogger, LogLevel, makeTelemetryFilterString } from '@temporalio/worker';
import { createEngineWorker } from './factory';
import * as path from 'node:path';
import type { Sender } from '../activities';
import { createSmtpTransport } from '../activities/email';
import { Ledger } from '../activities/ledger/ledger';
import { loadCalendarFile, formatProblem } from '../config/load';
import { Settings, SettingsError, describeSettings, loadSettings, parseMailbox, readSettingFile, temporalConnectionOptions } from '../config/settings';
import { WorkingCalendar } from '../domain/calendar';
import { DIGEST_WORKFLOW_ID, digestWorkflow } from '../workflows/digest';

export interface RunningWorker {
  worker: Worker;
  /** Resolves when the worker has stopped and its connections are closed. */
  done: Promise<void>;
}

/** A JSON line per log record: structured logs that a collector can read. */
function jsonLogger(level: LogLevel) {
  return new DefaultLogger(level, (entry) => {
    const { level: lvl, message, meta, timestampNanos } = entry;
    process.stderr.write(`${JSON.stringify({ time: new Date(Number(timestampNanos / 1_000_000n)).toISOString(), level: lvl, message, ...meta })}\n`);
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
  const ledger = await Ledger.open({
    databaseUrl: settings.database.url,
    sqliteFile: path.join(settings.dataDir, 'ledger.sqlite'),
    postgresSsl: settings.database.caFile ? { ca: readSettingFile('DATABASE_CA_FILE', settings.database.caFile)!.toString() } : undefined,
  });
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
    if (err instanceof SettingsError) {
      console.error(`duban worker: ${err.message}`);
      return 2;
    }
    log.error('duban worker failed', { error: err instanceof Error ? err.message : String(err) });
    return 1;
  }
}

if (require.main === module) {
  main().then((code) => process.exit(code));
}
