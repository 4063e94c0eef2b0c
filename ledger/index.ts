/**
 * The ledger (台账): every notice, action and outcome, kept for ever outside Temporal's retention. The worker, the
 * command line and the web service open it through `openLedger(settings)` (access/ledger.ts), which builds its options
 * from the settings: the ledger itself imports nothing above it.
 *
 * The record (notices, events, outcomes) is only ever added to, except a notice row while it is being sent: each
 * attempt counts itself and renews or gives back its lease, a level-2 notice is given its 督办单 number once, and
 * the row is completed once (from `sending` to `sent`, `rejected` or `superseded`), after which nothing in it
 * changes. Events and outcomes are never rewritten. The working tables (the board's tracker_state and period_state, the
 * digest's red_items.digest_key, the 督办单 counters, the operator alerts, the web service's sessions) are updated
 * in place. Every write carries a key chosen by the workflow, so a retried activity or a replayed workflow writes
 * nothing twice.
 *
 * By concern: `migrations.ts` (the schema), `sending.ts` (notices, their claims and leases, 督办单 numbers, the
 * digest's red items), `records.ts` (events, outcomes, directory snapshots), `board.ts` (where trackers and periods
 * stand now, operator alerts), `sql.ts` (SQLite and PostgreSQL behind one interface), `refs.ts` (how rows name a
 * tracker), `web.ts` (the web service's own tables: sign-in, sessions, rate limits, evidence files, link
 * submissions, and the 督办单 register; reached as `ledger.web`).
 */
import { randomUUID } from 'node:crypto';
import { redactUrl } from './redact';
import { existsSync } from 'node:fs';
import type { BoardPeriod, BoardTracker } from '../domain/tracker-state';
import * as board from './board';
import { BoardFilter, BoardScope, OperatorAlert, PeriodStateRow, TrackerState } from './board';
import * as migrations from './migrations';
import * as records from './records';
import { EventRow, LedgerEvent, OutcomeRecord, OutcomeRow } from './records';
import type { TrackerRef } from './refs';
import * as sending from './sending';
import {
  NoticeClaim,
  NoticeClaimResult,
  NoticeResult,
  NoticeRow,
  NoticeStatus,
  RedItem,
  RedItemRow,
  SEND_LEASE_MS,
} from './sending';
import { SqlDb, openPostgres, openSqlite } from './sql';
import { WebTables } from './web';
import { ChannelSends } from './channel-sends';
import { StandInTables } from './stand-ins';

export { MIGRATION_VERSIONS } from './migrations';
export { SEND_LEASE_MS } from './sending';
export type { BoardFilter, BoardScope, OperatorAlert, PeriodStateRow, TrackerState } from './board';
export type { EventKind, EventRow, LedgerEvent, OutcomeRecord, OutcomeRow } from './records';
export type { PeriodColumns, PeriodRef, TrackerRef } from './refs';
export type {
  NoticeClaim,
  NoticeClaimResult,
  NoticeResult,
  NoticeRow,
  NoticeStage,
  NoticeStatus,
  RedItem,
  RedItemRow,
} from './sending';
export type { Param, SqlDb } from './sql';
export type { EvidenceFileRow, LinkSubmission, SessionRow, SupervisionRow, WebTables } from './web';

/**
 * Everything a tracker tells the ledger at one step, written in one transaction: its events, its board rows when
 * they changed, items that turned red for the digest, and settled periods.
 */
export interface LedgerWrite extends TrackerRef {
  /** Workflow time of the step. */
  at: number;
  events: LedgerEvent[];
  board?: { tracker: BoardTracker; periods: BoardPeriod[] };
  red: RedItem[];
  settled?: OutcomeRecord[];
  /**
   * The tracker's webhooks (docs/channels.md, "Webhook events"), when it has any: the step's events and red items
   * become webhook events (activities/channels.ts webhookEventRows). Names and kinds only, never a secret.
   */
  webhooks?: {
    channels: { name: string; kind: 'webhook'; url?: string; mention: boolean }[];
    obligationTitle: string;
    unitName: string;
  };
}

export interface LedgerOptions {
  /** postgres://... : PostgreSQL. Otherwise the SQLite file path. */
  databaseUrl?: string;
  sqliteFile?: string;
  /** TLS for PostgreSQL beyond what the URL says (e.g. a private CA). */
  postgresSsl?: { ca?: string; rejectUnauthorized?: boolean };
  /**
   * False for read-only commands: an absent ledger is reported (LedgerNotFoundError) instead of created, and a
   * ledger that lacks migrations is reported instead of migrated. `duban migrate` and the worker migrate.
   */
  migrate?: boolean;
  /** The setting that chose this ledger, named in messages (e.g. DATABASE_URL). */
  source?: string;
}

/** The ledger cannot be opened: unreachable, refused, unreadable. The message names where it looked, no secret. */
export class LedgerUnavailableError extends Error {
  /** The database could not be reached or went away meanwhile (refused, restarting, cut off): trying later may work. */
  get transient(): boolean {
    return isTransientDatabaseError(this.cause);
  }
}

/**
 * PostgreSQL's and the socket's ways of saying "not now": the server refuses connections, is starting up or shutting
 * down, or cut the connection (a restart). A wrong password, a missing database or a failed statement are not.
 */
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up)
  '08000',
  '08001',
  '08003',
  '08006',
]);

export function isTransientDatabaseError(err: unknown): boolean {
  for (let e = err, depth = 0; e && depth < 6; e = (e as { cause?: unknown }).cause, depth++) {
    const all = e instanceof AggregateError ? e.errors : [e];
    for (const x of all) {
      const code = (x as { code?: unknown }).code;
      if (typeof code === 'string' && TRANSIENT_CODES.has(code)) return true;
      if (x instanceof Error && /Connection terminated/i.test(x.message)) return true;
    }
  }
  return false;
}
/** A read-only open found no ledger, or one that needs `duban migrate`. */
export class LedgerNotFoundError extends Error {}

/** Where a ledger is, for messages and logs: the password of a PostgreSQL URL is replaced. */
export function describeLedger(options: Pick<LedgerOptions, 'databaseUrl' | 'sqliteFile' | 'source'>): string {
  const from = options.source ? ` (${options.source})` : '';
  if (options.databaseUrl) return `PostgreSQL ${redactUrl(options.databaseUrl)}${from}`;
  return `SQLite ${options.sqliteFile ?? ':memory:'}${from}`;
}

/** An error's message and code, and its causes', for an operator: never the stack. */
function describeCause(err: unknown): string {
  const parts: string[] = [];
  for (let e = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof AggregateError && e.errors.length) e = e.errors[0];
    const code = (e as { code?: unknown }).code;
    const message = e instanceof Error ? e.message : String(e);
    parts.push(
      `${message || (e as Error).name}${typeof code === 'string' && !message.includes(code) ? ` (${code})` : ''}`,
    );
  }
  return parts.join(': ');
}

export class Ledger {
  /** The web service's own tables (sessions, sign-in links, rate limits, evidence files, link submissions). */
  readonly web: WebTables;
  /** 代办 ranges (stand_ins): who stands in for a unit's head or liaison, and when. */
  readonly standIns: StandInTables;

  private constructor(readonly db: SqlDb) {
    this.web = new WebTables(db);
    this.standIns = new StandInTables(db);
  }

  /** The channels' sends beside email (channel-sends.ts). */
  get channels(): ChannelSends {
    return new ChannelSends(this.db);
  }

  /** Opens the ledger these options name; `migrate` defaults to true here (tests, `duban simulate`'s own ledger). */
  static async open(options: LedgerOptions): Promise<Ledger> {
    const where = describeLedger(options);
    const file = options.sqliteFile ?? ':memory:';
    if (options.migrate === false && !options.databaseUrl && (file === ':memory:' || !existsSync(file))) {
      throw new LedgerNotFoundError(
        `找不到台账：查找了 ${where}；未创建任何内容。台账由 worker 或 \`duban migrate\` 创建。`,
      );
    }
    let db: SqlDb;
    try {
      db = options.databaseUrl
        ? openPostgres({ url: options.databaseUrl, ssl: options.postgresSsl })
        : openSqlite(file, { mustExist: options.migrate === false });
    } catch (err) {
      throw new LedgerUnavailableError(`无法打开台账（${where}）：${describeCause(err)}`, { cause: err });
    }
    const ledger = new Ledger(db);
    try {
      if (options.migrate === false) await ledger.checkSchema(where);
      else await ledger.migrate();
    } catch (err) {
      await db.close().catch(() => undefined);
      if (err instanceof LedgerNotFoundError) throw err;
      throw new LedgerUnavailableError(`无法打开台账（${where}）：${describeCause(err)}`, { cause: err });
    }
    return ledger;
  }

  get dialect() {
    return this.db.dialect;
  }

  // --- The schema (migrations.ts)

  /** The migrations applied, in order; an empty list when the ledger has no tables yet. */
  appliedMigrations(): Promise<number[]> {
    return migrations.appliedMigrations(this.db);
  }

  /** The migrations this code knows and the ledger lacks. */
  pendingMigrations(): Promise<number[]> {
    return migrations.pendingMigrations(this.db);
  }

  /** Applies the migrations not applied yet; safe to run from several workers at once. */
  migrate(): Promise<void> {
    return migrations.migrate(this.db);
  }

  private async checkSchema(where: string): Promise<void> {
    const applied = await this.appliedMigrations();
    if (applied.length === 0)
      throw new LedgerNotFoundError(
        `找不到台账：${where} 中没有 duban 的表；未创建任何内容。这些表由 worker 或 \`duban migrate\` 创建。`,
      );
    const pending = await this.pendingMigrations();
    if (pending.length) {
      throw new LedgerNotFoundError(
        `台账（${where}）须先执行迁移 ${pending.join(', ')} 才能用于此版本的 duban：请运行 \`duban migrate\`（或启动一个 worker）后重试。`,
      );
    }
  }

  /**
   * The ledger's identity: a random id drawn on first use and kept for ever. Deployments record it in Temporal
   * so that a worker with a different ledger is refused (worker/main.ts).
   */
  async identity(): Promise<string> {
    await this.db.run(
      'INSERT INTO ledger_identity (singleton, identity, created_at) VALUES (1, ?, ?) ON CONFLICT (singleton) DO NOTHING',
      [randomUUID(), Date.now()],
    );
    return (await this.storedIdentity())!;
  }

  /** The identity if one was drawn already (read-only commands never draw it). */
  async storedIdentity(): Promise<string | undefined> {
    const [row] = await this.db.all<{ identity: string }>('SELECT identity FROM ledger_identity WHERE singleton = 1');
    return row?.identity;
  }

  // --- Sending (sending.ts)

  /**
   * Records the intent to send a notice and takes a lease on it. `done`: it was already sent or rejected, do not
   * send again. `in-flight`: another attempt holds the lease (it may still be talking to the SMTP server); try
   * again later. `send`: this attempt sends.
   */
  beginNotice(n: NoticeClaim, now = Date.now(), leaseMs = SEND_LEASE_MS): Promise<NoticeClaimResult> {
    return sending.beginNotice(this.db, n, now, leaseMs);
  }

  /**
   * Extends the lease of the attempt holding `token` (it waits on a slow SMTP server, or is about to hand the
   * message over): false when the claim was taken over or ran out at `now`, and the attempt must send nothing.
   */
  renewNotice(sendKey: string, token: string, until: number, now = Date.now()): Promise<boolean> {
    return sending.renewNotice(this.db, sendKey, token, now, until);
  }

  /** Gives up this attempt's lease after a failure, so the retry does not wait for it to run out. */
  releaseNotice(sendKey: string, token: string): Promise<void> {
    return sending.releaseNotice(this.db, sendKey, token);
  }

  /** Records the result; with a token, only while that attempt holds the claim (true when written). */
  finishNotice(sendKey: string, result: NoticeResult, token?: string): Promise<boolean> {
    return sending.finishNotice(this.db, sendKey, result, token);
  }

  /** Counts on the notice an attempt that lost its claim before sending, with the reason. */
  abandonNotice(sendKey: string, reason: string): Promise<void> {
    return sending.abandonNotice(this.db, sendKey, reason);
  }

  /**
   * The 督办单 number of a level-2 notice: unique per supervising office and year, and the same on every retry
   * of the same notice.
   */
  supervisionNumber(sendKey: string, supervisor: string, year: number): Promise<{ number: number; year: number }> {
    return sending.supervisionNumber(this.db, sendKey, supervisor, year);
  }

  /** The status of one notice by its send key, if it was ever claimed. */
  noticeStatus(sendKey: string): Promise<NoticeStatus | undefined> {
    return sending.noticeStatus(this.db, sendKey);
  }

  /** The notices (one row each, however many recipients); `copies: true` adds each recipient's copy. */
  notices(filter: { trackerId?: string; copies?: boolean } = {}): Promise<NoticeRow[]> {
    return sending.notices(this.db, filter);
  }

  /** Records a notice sent as one copy per recipient, before its copies are claimed (twice is once). */
  recordNotice(n: NoticeClaim, now = Date.now()): Promise<void> {
    return sending.recordNotice(this.db, n, now);
  }

  /** One notice (or copy) by its send key. */
  notice(sendKey: string): Promise<NoticeRow | undefined> {
    return sending.notice(this.db, sendKey);
  }

  /** The recipients' copies of a notice. */
  noticeCopies(noticeKey: string): Promise<NoticeRow[]> {
    return sending.noticeCopies(this.db, noticeKey);
  }

  /** Notes an item that turned red, once per tracker, period and due date. */
  noteRed(item: RedItem): Promise<void> {
    return sending.insertRedItem(this.db, item);
  }

  /**
   * The offices that have a digest to send for `day`: red items not yet in any digest that turned red by
   * `until`, or items already taken for that day's digest (a retry after a crash must still send it).
   */
  supervisorsForDigest(day: string, until: number): Promise<string[]> {
    return sending.supervisorsForDigest(this.db, day, until);
  }

  /**
   * Assigns an office's waiting red items to a digest and returns them. Idempotent: a retry with the same digest
   * key gets the same items, and items that turned red meanwhile wait for the next digest.
   */
  takeRedItems(supervisor: string, digestKey: string, until: number): Promise<RedItemRow[]> {
    return sending.takeRedItems(this.db, supervisor, digestKey, until);
  }

  /** Obligation titles as the trackers noted them (for reports when the catalog no longer has them). */
  obligationTitles(): Promise<Map<string, string>> {
    return sending.obligationTitles(this.db);
  }

  // --- The record (records.ts)

  async recordEvents(events: LedgerEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.db.transaction((tx) => records.insertEvents(tx, events));
  }

  /** The first outcome recorded for a period stands; a replay writing it again changes nothing. */
  recordOutcome(o: OutcomeRecord): Promise<void> {
    return records.insertOutcome(this.db, o);
  }

  events(filter: { trackerId?: string } = {}): Promise<EventRow[]> {
    return records.events(this.db, filter);
  }

  outcomes(filter: { trackerId?: string; year?: number } = {}): Promise<OutcomeRow[]> {
    return records.outcomes(this.db, filter);
  }

  /** When each tracker opened its first period (its registration), by tracker id. */
  firstOpenings(): Promise<Map<string, number>> {
    return records.firstOpenings(this.db);
  }

  /**
   * Keeps the directory and catalog as registered, for the web service's roles (DOMAIN.md 21). The same content
   * registered again adds nothing.
   */
  latestSnapshotHead(): Promise<{ key: string; takenAt: number } | undefined> {
    return records.latestSnapshotHead(this.db);
  }

  directorySnapshot(key: string): Promise<{ directory: string; catalog: string } | undefined> {
    return records.directorySnapshot(this.db, key);
  }

  saveDirectorySnapshot(snapshot: { directory: unknown; catalog: unknown; by: string }): Promise<void> {
    return records.saveDirectorySnapshot(this.db, snapshot);
  }

  // --- One step of a tracker: the record, the digest's red items and the board together

  /**
   * One step of a tracker, in one transaction: its events, the items that turned red, settled periods, and the
   * board's rows. Every part is keyed, so a retried activity writes nothing twice and an older step never
   * overwrites a newer one.
   */
  async applyWrite(w: LedgerWrite): Promise<void> {
    await this.db.transaction(async (tx) => {
      await records.insertEvents(tx, w.events);
      for (const item of w.red) await sending.insertRedItem(tx, item);
      for (const o of w.settled ?? []) await records.insertOutcome(tx, o);
      if (w.board)
        await board.writeBoard(tx, { trackerId: w.trackerId, obligation: w.obligation, unit: w.unit }, w.at, w.board);
      await board.settlePeriods(tx, w.at, w.settled ?? []);
    });
  }

  // --- The board (board.ts)

  saveTrackerState(t: TrackerState): Promise<void> {
    return board.upsertTrackerState(this.db, t);
  }

  /** Trackers that ended for good: retired, or one-offs settled. Registration must not start them again. */
  endedTrackerIds(): Promise<Set<string>> {
    return board.endedTrackerIds(this.db);
  }

  /** The active trackers' states, for the board. */
  trackerState(trackerId: string): Promise<TrackerState | undefined> {
    return board.trackerState(this.db, trackerId);
  }
  trackerStates(filter: BoardFilter = {}): Promise<TrackerState[]> {
    return board.trackerStates(this.db, filter);
  }

  /**
   * Period rows for the board and a tracker's page. `open: true`: the open periods; `settledFrom`: also the
   * periods done or waived that were due from that date on (the board's done and waived counts for the year).
   */
  periodStates(filter: BoardFilter & { open?: boolean; settledFrom?: string } = {}): Promise<PeriodStateRow[]> {
    return board.periodStates(this.db, filter);
  }

  /** Open periods by colour, and broken trackers: the `duban_trackers` gauge. */
  /** Levels (issue 24): the board of a scope of units, counted and ordered in SQL. */
  boardCounts(scope: BoardScope): Promise<{ unit: string; colour: string; n: number }[]> {
    return board.boardCounts(this.db, scope);
  }

  boardTop(scope: BoardScope, limit: number): Promise<PeriodStateRow[]> {
    return board.boardTop(this.db, scope, limit);
  }

  /** The year report's reads: outcomes counted per unit, and the open periods past due (issue 24). */
  outcomeTallies(year: number, units?: readonly string[]): ReturnType<typeof records.outcomeTallies> {
    return records.outcomeTallies(this.db, year, units);
  }

  overduePeriods(year: number, now: number, units?: readonly string[]): ReturnType<typeof board.overduePeriods> {
    return board.overduePeriods(this.db, year, now, units);
  }

  colourCounts(): Promise<Record<string, number>> {
    return board.colourCounts(this.db);
  }

  /** Raises (or refreshes) the alert of a kind; `duban status` shows it until it is cleared. */
  raiseAlert(kind: string, message: string, since: number, now = Date.now()): Promise<boolean> {
    return board.raiseAlert(this.db, kind, message, since, now);
  }

  clearAlert(kind: string, now = Date.now()): Promise<boolean> {
    return board.clearAlert(this.db, kind, now);
  }

  /** Open alerts, oldest first. A ledger older than migration 8 has none. */
  openAlerts(): Promise<OperatorAlert[]> {
    return board.openAlerts(this.db);
  }

  // --- The connection

  /** A trivial query: the database answers (readiness). */
  async ping(): Promise<void> {
    await this.db.all('SELECT 1 AS one');
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
