/**
 * The one place a duban worker is assembled: the workflows, the activities over a ledger and an SMTP transport,
 * and the limits that keep a send attempt's life bounded. Used by the worker entry point (worker/main.ts),
 * `duban simulate`, the tests and the benchmarks.
 */
import { NativeConnection, Worker, WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { Transporter } from 'nodemailer';
import { ActivityDeps, createActivities, Sender } from '../activities';
import type { Ledger } from '../ledger';
import type { WorkingCalendar } from '../domain/calendar';
import { readFileSync } from 'node:fs';
import { prebuiltBundle, withEmptySourceMap } from './bundle';
import { ACTIVITIES_PER_CONNECTION, DEFAULT_CACHED_WORKFLOWS, STICKY_QUEUE_TIMEOUT } from './limits';

export interface EngineWorkerOptions {
  connection: NativeConnection;
  namespace?: string;
  taskQueue: string;
  ledger: Ledger;
  transport: Transporter;
  /** The transport's pooled connections (smtp.maxConnections). */
  connections: number;
  from: Sender;
  calendar: WorkingCalendar;
  digest?: boolean;
  /** Signed action links in notices (config/settings.ts linkSettings); absent: notices say to sign in instead. */
  links?: ActivityDeps['links'];
  /** The web service's address (DUBAN_WEB_BASE_URL), for notices without links. */
  webUrl?: string;
  /** A bundle made by the caller (tests build one per file); otherwise the build's (prebuilt) bundle. */
  workflowBundle?: WorkflowBundleWithSourceMap;
  /** Where the build's bundle is; default dist/workflow-bundle.js if it is current (worker/bundle.ts). */
  prebuiltBundlePath?: string;
  workflowsPath?: string;
  maxConcurrentActivities?: number;
  maxCachedWorkflows?: number;
  shutdownGraceTime?: string;
  /**
   * Frames of workflow code in stack traces (DUBAN_WORKFLOW_STACK_TRACES): `source` (default) names file and line
   * through the bundle's line-level source map; `names` drops the map for less memory (worker/bundle.ts).
   */
  stackTraces?: 'source' | 'names';
  /** DUBAN_HEARTBEAT_URL (activities: pinged after every digest run). */
  heartbeatUrl?: string;
  /** DUBAN_SEND_LEASE_SECONDS in ms: how long a notice's claim lasts unless renewed (activities/delivery.ts). */
  sendLeaseMs?: number;
  /** Wakes the worker's channel dispatcher when a step added rows (activities/channels.ts). */
  onChannelRows?: () => void;
}

export async function createEngineWorker(o: EngineWorkerOptions): Promise<Worker> {
  // The bundle made by `npm run build` (worker/bundle.ts), unless the caller brings one or names other workflows.
  const prebuilt = o.workflowBundle || o.workflowsPath ? undefined : (o.prebuiltBundlePath ?? prebuiltBundle());
  return Worker.create({
    connection: o.connection,
    namespace: o.namespace,
    taskQueue: o.taskQueue,
    ...(o.workflowBundle
      ? { workflowBundle: o.workflowBundle }
      : prebuilt
        ? {
            workflowBundle:
              o.stackTraces === 'names'
                ? { code: withEmptySourceMap(readFileSync(prebuilt, 'utf8')) }
                : { codePath: prebuilt },
          }
        : { workflowsPath: o.workflowsPath ?? require.resolve('../workflows') }),
    activities: createActivities({
      ledger: o.ledger,
      transport: o.transport,
      from: o.from,
      calendar: o.calendar,
      digest: o.digest,
      connections: o.connections,
      sendLeaseMs: o.sendLeaseMs,
      heartbeatUrl: o.heartbeatUrl,
      links: o.links,
      webUrl: o.webUrl,
      onChannelRows: o.onChannelRows,
    }),
    maxConcurrentActivityTaskExecutions: o.maxConcurrentActivities ?? o.connections * ACTIVITIES_PER_CONNECTION,
    // Deliveries are local activities (workflows/tracker.ts): the same bound, so that waiting for a connection
    // stays far below a delivery's timeout.
    maxConcurrentLocalActivityExecutions: o.maxConcurrentActivities ?? o.connections * ACTIVITIES_PER_CONNECTION,
    maxCachedWorkflows: o.maxCachedWorkflows ?? DEFAULT_CACHED_WORKFLOWS,
    stickyQueueScheduleToStartTimeout: STICKY_QUEUE_TIMEOUT,
    shutdownGraceTime: o.shutdownGraceTime ?? '30 seconds',
  });
}
