/**
 * Test plumbing for the engine: the time-skipping server from .tools (never downloaded), one workflow bundle per
 * test file, and a worker with the real activities over a real ledger and a real SMTP server.
 */
import { Client } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  DefaultLogger,
  NativeConnection,
  Runtime,
  Worker,
  WorkflowBundleWithSourceMap,
  bundleWorkflowCode,
} from '@temporalio/worker';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createEngineWorker } from '../../worker/factory';
import { workflowBundleOptions } from '../../worker/bundle';
import type { ActivityDeps } from '../../activities';
import { createSmtpTransport } from '../../channels/email/smtp';
import { Ledger } from '../../ledger';
import { devServerEnvironment, timeSkippingEnvironment } from '../../config/servers';
import { WorkingCalendar } from '../../domain/calendar';
import type { TrackerDefinition } from '../../domain/trackers';
import { trackerWorkflow } from '../../workflows/tracker';
import { SEARCH_ATTRIBUTES, TrackerInput, TrackerStatus, statusQuery, workflowIdFor } from '../../workflows/messages';
import { SmtpSink, startSmtpSink } from './smtp';

let runtimeInstalled = false;
export function quietRuntime() {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({ logger: new DefaultLogger('WARN') });
}

export async function timeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  return timeSkippingEnvironment();
}

/** The dev server with duban's search attributes. */
export async function devServerEnv(): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  return devServerEnvironment(Object.values(SEARCH_ATTRIBUTES));
}

export interface TimeSkippingHarness {
  env: TestWorkflowEnvironment;
  sink: SmtpSink;
  ledger: Ledger;
  engine: EngineWorker;
  stop(): Promise<void>;
}

/** The time-skipping server, a real SMTP server, a SQLite ledger and a worker with the real activities. */
export async function startTimeSkippingHarness(taskQueue: string): Promise<TimeSkippingHarness> {
  const env = await timeSkippingEnv();
  const sink = await startSmtpSink();
  const ledger = await Ledger.open({ sqliteFile: tempLedgerFile() });
  const engine = await startEngineWorker({ connection: env.nativeConnection, taskQueue, sink, ledger });
  return {
    env,
    sink,
    ledger,
    engine,
    async stop() {
      await engine.stop();
      await ledger.close();
      await sink.close();
      await env.teardown();
    },
  };
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  // The build's options (shared domain modules), with the real inline source map: test failures name .ts lines.
  bundle ??= bundleWorkflowCode(workflowBundleOptions(new DefaultLogger('WARN')));
  return bundle;
}

export function tempLedgerFile(): string {
  return path.join(mkdtempSync(path.join(tmpdir(), 'duban-ledger-')), 'ledger.sqlite');
}

export interface EngineWorker {
  worker: Worker;
  running: Promise<void>;
  ledger: Ledger;
  stop(): Promise<void>;
}

export async function startEngineWorker(options: {
  connection: NativeConnection;
  namespace?: string;
  taskQueue: string;
  sink: SmtpSink;
  ledger: Ledger;
  calendar?: WorkingCalendar;
  /** Signed action links in the notices (DOMAIN.md 22). */
  links?: ActivityDeps['links'];
}): Promise<EngineWorker> {
  const transport = createSmtpTransport({ url: options.sink.url, maxConnections: 2 });
  const worker = await createEngineWorker({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    workflowBundle: await workflowBundle(),
    ledger: options.ledger,
    transport,
    connections: 2,
    from: { name: '督办系统', address: 'duban@test.example.org' },
    calendar: options.calendar ?? new WorkingCalendar(),
    links: options.links,
  });
  const running = worker.run();
  return {
    worker,
    running,
    ledger: options.ledger,
    async stop() {
      worker.shutdown();
      await running;
      transport.close();
    },
  };
}

/** The tracker's status, waiting out the moment in which it is still planning its first period. */
export async function statusOf(handle: {
  query: (q: typeof statusQuery) => Promise<TrackerStatus>;
}): Promise<TrackerStatus> {
  for (let i = 0; ; i++) {
    try {
      return await handle.query(statusQuery);
    } catch (err) {
      if (
        i > 50 ||
        !/starting|正在启动/.test(String((err as Error).message + String((err as { cause?: Error }).cause?.message)))
      )
        throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** An Update refused by its validator: the reason is in the failure's cause. */
export async function expectRefusal(update: Promise<unknown>, reason: RegExp): Promise<void> {
  const err = await update.then(
    () => undefined,
    (e: unknown) => e as Error & { cause?: Error },
  );
  if (!err) throw new Error(`expected the update to be refused with ${reason}, but it was accepted`);
  expect(err.cause?.message ?? err.message).toMatch(reason);
}

export async function startTracker(
  client: Client,
  taskQueue: string,
  definition: TrackerDefinition,
  extra: Partial<TrackerInput> = {},
) {
  return client.workflow.start(trackerWorkflow, {
    workflowId: workflowIdFor(definition.trackerId),
    taskQueue,
    args: [{ definition, searchAttributes: false, ...extra }],
  });
}
