/**
 * The one module through which the clients (the command line, the web service, tests and benchmarks) reach
 * Temporal and the ledger. It lives in access/, beside client/ and web/, so that both import it and neither
 * imports the other's room.
 */
import {
  Client,
  Connection,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import { createHash } from 'node:crypto';
import type { Action } from '../domain/actions';
import { Ledger, describeLedger } from '../ledger';
import { openLedger } from './ledger';
import { Settings, ledgerOptions, temporalConnectionOptions } from '../config/settings';
import type { TrackerDefinition } from '../domain/trackers';
import { DeploymentMemo, deploymentWorkflowId } from '../workflows/deployment';
import {
  Requests,
  SEARCH_ATTRIBUTES,
  TrackerStatus,
  statusQuery,
  trackerIdOf,
  trackerUpdates,
  updateDefinitionUpdate,
  workflowIdFor,
} from '../workflows/messages';
import { trackerWorkflow } from '../workflows/tracker';

/** The workflow refused a request (its validator said no): bad input, nothing changed. */
export class RefusedError extends Error {}
/** Temporal cannot be reached: exit code 1 with the address to check. */
export class UnreachableError extends Error {}
/** No tracker with that id runs. */
export class UnknownTrackerError extends Error {}

export function definitionHash(d: TrackerDefinition): string {
  return createHash('sha256').update(JSON.stringify(d)).digest('hex').slice(0, 32);
}

/** The requests a client may send (updateDefinition is register's own). */
export type { Action } from '../domain/actions';

export interface RunningTracker {
  trackerId: string;
  workflowId: string;
  definitionHash?: string;
  obligation?: string;
  unit?: string;
  period?: string;
  colour?: string;
  due?: Date;
  /** Board rows: whether the unit acknowledged the period (签收), and why a broken tracker cannot plan. */
  acknowledged?: boolean;
  problem?: string;
  /** When its current run started (describe only): a run younger than a registration was started during it. */
  startedAt?: number;
}

export interface RegisterSummary {
  started: string[];
  updated: string[];
  unchanged: string[];
  /** Running trackers no longer in the files: retired with --prune, listed otherwise. */
  removed: string[];
  retired: string[];
  /** In the files, but ended for good (retired, or a one-off that is settled): not started again. */
  ended: string[];
  /**
   * Started by another registration running at the same time, between this run's look and its start: running,
   * with the same definition (with another definition it is updated to this run's and listed in `updated` too).
   */
  startedByOther: string[];
}

export class Duban {
  private constructor(
    readonly client: Client,
    private readonly connection: Connection,
    readonly settings: Settings,
  ) {}

  static async connect(settings: Settings): Promise<Duban> {
    let connection: Connection;
    try {
      connection = await Connection.connect({
        ...(await temporalConnectionOptions(settings)),
        connectTimeout: '10 seconds',
      });
    } catch (err) {
      throw new UnreachableError(
        `无法连接 Temporal ${settings.temporal.address}（TEMPORAL_ADDRESS）：${(err as Error).message}`,
      );
    }
    return new Duban(new Client({ connection, namespace: settings.temporal.namespace }), connection, settings);
  }

  async openLedger(): Promise<Ledger> {
    return openLedger(this.settings);
  }

  /** The visibility query of this deployment's running trackers: its task queue only, in its namespace. */
  trackerQuery(): string {
    const queue = this.settings.temporal.taskQueue.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
    return `WorkflowType = 'trackerWorkflow' AND ExecutionStatus = 'Running' AND TaskQueue = '${queue}'`;
  }

  /**
   * Every running tracker of this deployment, from visibility (one listing, fast on thousands). Another
   * deployment's trackers in the same namespace (another task queue) are not listed, so --prune never retires them.
   */
  async runningTrackers(): Promise<RunningTracker[]> {
    const result: RunningTracker[] = [];
    for await (const w of this.client.workflow.list({ query: this.trackerQuery(), pageSize: 1000 })) {
      const sa = w.typedSearchAttributes;
      result.push({
        trackerId: trackerIdOf(w.workflowId) ?? w.workflowId,
        workflowId: w.workflowId,
        definitionHash: (w.memo as Record<string, unknown> | undefined)?.definitionHash as string | undefined,
        obligation: sa.get(SEARCH_ATTRIBUTES.obligation) as string | undefined,
        unit: sa.get(SEARCH_ATTRIBUTES.unit) as string | undefined,
        period: sa.get(SEARCH_ATTRIBUTES.period) as string | undefined,
        colour: sa.get(SEARCH_ATTRIBUTES.colour) as string | undefined,
        due: sa.get(SEARCH_ATTRIBUTES.due) as Date | undefined,
      });
    }
    return result;
  }

  private async describeRunning(trackerId: string): Promise<RunningTracker | undefined> {
    try {
      const d = await this.client.workflow.getHandle(workflowIdFor(trackerId)).describe();
      if (d.status.name !== 'RUNNING') return undefined;
      if (d.taskQueue !== this.settings.temporal.taskQueue) {
        // Workflow ids are unique per namespace: this deployment cannot start its own tracker under that id.
        throw new RefusedError(
          `督办任务${trackerId}已由另一部署运行（task queue ${d.taskQueue}，namespace ${this.settings.temporal.namespace}）；` +
            '同一 namespace 中的两个部署须使用不同的任务或单位编号，或各用一个 namespace（docs/deployment.md）',
        );
      }
      return {
        trackerId,
        workflowId: d.workflowId,
        definitionHash: (d.memo as Record<string, unknown> | undefined)?.definitionHash as string | undefined,
        startedAt: d.startTime.getTime(),
      };
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }
  }

  /**
   * Starts or updates every tracker, idempotently: a tracker already running with the same definition is left
   * alone; a changed one receives the new definition; running trackers absent from `trackers` are listed, and
   * retired only with `prune`.
   */
  async register(
    trackers: TrackerDefinition[],
    options: {
      prune?: boolean;
      dryRun?: boolean;
      by: string;
      onProgress?: (done: number, total: number) => void;
      concurrency?: number;
    },
  ): Promise<RegisterSummary> {
    const summary: RegisterSummary = {
      started: [],
      updated: [],
      unchanged: [],
      removed: [],
      retired: [],
      ended: [],
      startedByOther: [],
    };
    const began = Date.now();
    const running = new Map((await this.runningTrackers()).map((t) => [t.trackerId, t]));
    const ledger = await this.openLedger();
    const ended = await this.checkLedger(ledger)
      .then(() => ledger.endedTrackerIds())
      .finally(() => ledger.close());
    const wanted = new Set(trackers.map((t) => t.trackerId));
    const queue = [...trackers];
    let done = 0;
    const total = trackers.length;
    /** Sends a running tracker the definition when it differs: true when it did. */
    const update = async (current: RunningTracker, t: TrackerDefinition, hash: string): Promise<boolean> => {
      if (current.definitionHash === hash) return false;
      if (!options.dryRun)
        await this.client.workflow
          .getHandle(current.workflowId)
          .executeUpdate(updateDefinitionUpdate, { args: [{ by: options.by, definition: t, definitionHash: hash }] });
      return true;
    };
    const work = async (t: TrackerDefinition) => {
      const hash = definitionHash(t);
      const listed = running.get(t.trackerId);
      if (listed) {
        if (await update(listed, t, hash)) summary.updated.push(t.trackerId);
        else summary.unchanged.push(t.trackerId);
        return;
      }
      if (ended.has(t.trackerId)) {
        summary.ended.push(t.trackerId);
        return;
      }
      // Not listed: start it. One request a tracker, as many as the trackers to start (a describe first would double
      // them); the start itself refuses when the id is taken, and only then is the tracker described.
      if (options.dryRun) {
        // Visibility lags behind: a tracker it does not list yet may still be running.
        const current = await this.describeRunning(t.trackerId);
        if (!current) summary.started.push(t.trackerId);
        else if (current.definitionHash !== hash) summary.updated.push(t.trackerId);
        else summary.unchanged.push(t.trackerId);
        return;
      }
      try {
        await this.client.workflow.start(trackerWorkflow, {
          workflowId: workflowIdFor(t.trackerId),
          taskQueue: this.settings.temporal.taskQueue,
          args: [{ definition: t, definitionHash: hash }],
          memo: { definitionHash: hash },
          workflowIdConflictPolicy: 'FAIL',
          // A closed run within retention means the tracker ended: never start it again by accident.
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
        });
        summary.started.push(t.trackerId);
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        // It runs (visibility had not listed it yet, or another registration started it a moment ago), or it ended
        // within retention (never started again).
        const current = await this.describeRunning(t.trackerId);
        if (!current) {
          summary.ended.push(t.trackerId);
          return;
        }
        // A run younger than this registration was started by another one at the same time; its files may differ,
        // and this run's definition then wins, as if the two had run one after the other.
        const byOther = (current.startedAt ?? 0) >= began;
        if (byOther) summary.startedByOther.push(t.trackerId);
        if (await update(current, t, hash)) summary.updated.push(t.trackerId);
        else if (!byOther) summary.unchanged.push(t.trackerId);
      }
    };
    await Promise.all(
      Array.from({ length: options.concurrency ?? 32 }, async () => {
        for (let t = queue.shift(); t; t = queue.shift()) {
          await work(t);
          options.onProgress?.(++done, total);
        }
      }),
    );
    for (const id of running.keys()) {
      if (wanted.has(id)) continue;
      summary.removed.push(id);
      if (options.prune) {
        // A dry run lists what it would retire, as it lists what it would start.
        if (!options.dryRun) await this.act(id, 'retire', { by: options.by, reason: '已从任务清单或单位名录中移除' });
        summary.retired.push(id);
      }
    }
    for (const list of Object.values(summary)) list.sort();
    return summary;
  }

  /**
   * Registration reads the ledger (which trackers ended for good): it must be the deployment's ledger, the one
   * its workers recorded, or a retired tracker could be started again.
   */
  private async checkLedger(ledger: Ledger): Promise<void> {
    const workflowId = deploymentWorkflowId(this.settings.temporal.taskQueue);
    let recorded: Partial<DeploymentMemo> | undefined;
    try {
      const d = await this.client.workflow.getHandle(workflowId).describe();
      if (d.status.name !== 'RUNNING') return;
      recorded = d.memo as Partial<DeploymentMemo> | undefined;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return;
      throw err;
    }
    const mine = await ledger.storedIdentity();
    if (recorded?.ledgerIdentity && recorded.ledgerIdentity !== mine) {
      throw new RefusedError(
        `此台账不是 task queue ${this.settings.temporal.taskQueue} 上部署所用的台账：部署的台账是 ${recorded.ledger ?? '?'} ` +
          `（标识 ${recorded.ledgerIdentity}），此台账是 ${describeLedger(ledgerOptions(this.settings))}（标识 ${mine ?? '尚未生成'}）。` +
          '请按 worker 的设置填写 DATABASE_URL（或 DUBAN_DATA_DIR）；未登记任何任务。',
      );
    }
  }

  /** Sends one request to a tracker; a refusal becomes RefusedError with the workflow's reason. */
  async act<A extends Action>(trackerId: string, action: A, request: Requests[A]): Promise<TrackerStatus> {
    const handle = this.client.workflow.getHandle(workflowIdFor(trackerId));
    try {
      return await handle.executeUpdate(trackerUpdates[action], { args: [request] });
    } catch (err) {
      throw this.translate(err, trackerId);
    }
  }

  async status(trackerId: string): Promise<TrackerStatus> {
    try {
      return await this.client.workflow.getHandle(workflowIdFor(trackerId)).query(statusQuery);
    } catch (err) {
      throw this.translate(err, trackerId);
    }
  }

  private translate(err: unknown, trackerId: string): Error {
    if (err instanceof WorkflowUpdateFailedError)
      return new RefusedError(`${trackerId}: ${(err.cause as Error | undefined)?.message ?? err.message}`);
    if (err instanceof WorkflowNotFoundError)
      return new UnknownTrackerError(`没有督办任务${trackerId}（是否已登记？duban status 列出全部任务）`);
    const message = String((err as Error)?.message ?? err);
    if (/not found|already completed|workflow execution already completed/i.test(message)) {
      return new UnknownTrackerError(`督办任务${trackerId}未在运行（已停用，或从未登记）`);
    }
    return err as Error;
  }

  async close(): Promise<void> {
    await this.connection.close();
  }
}
