/**
 * The ledger (台账): every notice, action and outcome, kept forever outside Temporal's retention.
 *
 * The record (notices, events, outcomes) is only ever added to, or completed once (a notice goes from `sending` to
 * `sent`, `rejected` or `superseded`). The working tables (the board's tracker_state and period_state, the
 * digest's red_items.digest_key, the 督办单 counters) are updated in place. Every write carries a key chosen by the
 * workflow, so a retried activity or a replayed workflow writes nothing twice.
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { BoardPeriod, BoardTracker } from '../domain/tracker-state';
import type { EventKind } from '../domain/period-state';
import type { Outcome } from '../domain/tracking';
import { Param, SqlDb, openPostgres, openSqlite } from './sql';

/** `superseded`: overtaken by a later notice of the same period before it could be sent (an outage); not sent. */
export type NoticeStatus = 'sending' | 'sent' | 'rejected' | 'superseded';

/** The fields that name a tracker in every row about it. */
export interface TrackerRef {
  trackerId: string;
  obligation: string;
  unit: string;
}

export interface NoticeRow {
  send_key: string;
  tracker_id: string;
  obligation: string;
  unit: string;
  period: string;
  stage: string;
  level: number;
  step: number;
  planned_at: number;
  fired_at: number | null;
  due: string;
  message_id: string;
  subject: string | null;
  recipients_to: string;
  recipients_cc: string;
  status: NoticeStatus;
  attempts: number;
  accepted: string | null;
  rejected: string | null;
  response: string | null;
  supervision_no: number | null;
  supervision_office: string | null;
  supervision_year: number | null;
  created_at: number;
  sent_at: number | null;
  claimed_until: number | null;
}

export interface NoticeClaim {
  sendKey: string;
  trackerId: string;
  obligation: string;
  unit: string;
  period: string;
  stage: string;
  level: number;
  step: number;
  plannedAt: number;
  firedAt: number;
  due: string;
  messageId: string;
  to: string[];
  cc: string[];
}

export interface LedgerEvent extends TrackerRef {
  /** Unique per event, chosen by the workflow: tracker, run and a sequence number. */
  eventKey: string;
  period: string;
  kind: EventKind;
  at: number;
  actor?: string;
  data?: Record<string, unknown>;
}

export interface EventRow {
  event_key: string;
  tracker_id: string;
  obligation: string;
  unit: string;
  period: string;
  kind: string;
  at: number;
  actor: string | null;
  data: string | null;
  recorded_at: number;
}

export interface OutcomeRecord extends TrackerRef {
  period: string;
  outcome: Outcome;
  originalDue: string;
  due: string;
  completedAt?: number;
  settledAt: number;
}

/** An item that turned red, waiting for its supervising office's daily digest (DOMAIN.md 12). */
export interface RedItem {
  itemKey: string;
  office: string;
  officeName: string;
  officeTo: string[];
  officeCc: string[];
  trackerId: string;
  obligation: string;
  obligationTitle: string;
  unit: string;
  unitName: string;
  period: string;
  due: string;
  turnedRedAt: number;
}

export interface RedItemRow {
  item_key: string;
  office: string;
  office_name: string;
  office_to: string;
  office_cc: string;
  tracker_id: string;
  obligation: string;
  obligation_title: string;
  unit: string;
  unit_name: string;
  period: string;
  due: string;
  turned_red_at: number;
  digest_key: string | null;
}

export interface OutcomeRow {
  tracker_id: string;
  obligation: string;
  unit: string;
  period: string;
  outcome: Outcome;
  original_due: string;
  due: string;
  due_year: number;
  completed_at: number | null;
  settled_at: number;
}

const MIGRATIONS: { version: number; statements: string[] }[] = [
  {
    version: 1,
    statements: [
      `CREATE TABLE notices (
        send_key TEXT PRIMARY KEY,
        tracker_id TEXT NOT NULL,
        obligation TEXT NOT NULL,
        unit TEXT NOT NULL,
        period TEXT NOT NULL,
        stage TEXT NOT NULL,
        level INTEGER NOT NULL,
        step INTEGER NOT NULL,
        planned_at BIGINT NOT NULL,
        fired_at BIGINT,
        due TEXT NOT NULL,
        message_id TEXT NOT NULL,
        subject TEXT,
        recipients_to TEXT NOT NULL,
        recipients_cc TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        accepted TEXT,
        rejected TEXT,
        response TEXT,
        supervision_no INTEGER,
        supervision_office TEXT,
        supervision_year INTEGER,
        created_at BIGINT NOT NULL,
        sent_at BIGINT
      )`,
      'CREATE INDEX notices_by_tracker ON notices (tracker_id, period)',
      'CREATE INDEX notices_by_planned_at ON notices (planned_at)',
      `CREATE TABLE events (
        event_key TEXT PRIMARY KEY,
        tracker_id TEXT NOT NULL,
        obligation TEXT NOT NULL,
        unit TEXT NOT NULL,
        period TEXT NOT NULL,
        kind TEXT NOT NULL,
        at BIGINT NOT NULL,
        actor TEXT,
        data TEXT,
        recorded_at BIGINT NOT NULL
      )`,
      'CREATE INDEX events_by_tracker ON events (tracker_id, at)',
      `CREATE TABLE outcomes (
        tracker_id TEXT NOT NULL,
        obligation TEXT NOT NULL,
        unit TEXT NOT NULL,
        period TEXT NOT NULL,
        outcome TEXT NOT NULL,
        original_due TEXT NOT NULL,
        due TEXT NOT NULL,
        due_year INTEGER NOT NULL,
        completed_at BIGINT,
        settled_at BIGINT NOT NULL,
        PRIMARY KEY (tracker_id, period)
      )`,
      'CREATE INDEX outcomes_by_year ON outcomes (due_year, unit)',
      `CREATE TABLE supervision_numbers (
        office TEXT NOT NULL,
        year INTEGER NOT NULL,
        last INTEGER NOT NULL,
        PRIMARY KEY (office, year)
      )`,
    ],
  },
  {
    version: 2,
    statements: [
      `CREATE TABLE red_items (
        item_key TEXT PRIMARY KEY,
        office TEXT NOT NULL,
        office_name TEXT NOT NULL,
        office_to TEXT NOT NULL,
        office_cc TEXT NOT NULL,
        tracker_id TEXT NOT NULL,
        obligation TEXT NOT NULL,
        obligation_title TEXT NOT NULL,
        unit TEXT NOT NULL,
        unit_name TEXT NOT NULL,
        period TEXT NOT NULL,
        due TEXT NOT NULL,
        turned_red_at BIGINT NOT NULL,
        digest_key TEXT
      )`,
      'CREATE INDEX red_items_waiting ON red_items (office, digest_key)',
    ],
  },
  {
    version: 3,
    statements: [
      // The board's current state, one row per tracker, kept up to date by the trackers themselves. Unlike the
      // record (notices, events, outcomes), it is overwritten: it answers "where is everyone now" in one query.
      `CREATE TABLE tracker_state (
        tracker_id TEXT PRIMARY KEY,
        obligation TEXT NOT NULL,
        unit TEXT NOT NULL,
        period TEXT NOT NULL,
        colour TEXT NOT NULL,
        due TEXT NOT NULL,
        due_at BIGINT NOT NULL,
        active INTEGER NOT NULL,
        updated_at BIGINT NOT NULL
      )`,
      'CREATE INDEX tracker_state_by_unit ON tracker_state (unit, colour)',
    ],
  },
  {
    version: 4,
    // How long an attempt owns a notice it is sending: another attempt waits until then instead of sending too.
    statements: ['ALTER TABLE notices ADD COLUMN claimed_until BIGINT'],
  },
  {
    version: 5,
    statements: [
      // Open periods (DOMAIN.md 19): one row per tracker and period, kept current by the tracker; a settled period
      // keeps its row with open = 0 and its outcome.
      `CREATE TABLE period_state (
        tracker_id TEXT NOT NULL,
        period TEXT NOT NULL,
        obligation TEXT NOT NULL,
        unit TEXT NOT NULL,
        colour TEXT NOT NULL,
        due TEXT NOT NULL,
        due_at BIGINT NOT NULL,
        original_due TEXT NOT NULL,
        ends_at BIGINT NOT NULL,
        acknowledged_by TEXT,
        acknowledged_at BIGINT,
        progress_count INTEGER NOT NULL,
        last_progress_at BIGINT,
        submitted INTEGER NOT NULL,
        verification TEXT NOT NULL,
        open INTEGER NOT NULL,
        outcome TEXT,
        updated_at BIGINT NOT NULL,
        PRIMARY KEY (tracker_id, period)
      )`,
      'CREATE INDEX period_state_open ON period_state (open, unit, colour)',
      'ALTER TABLE tracker_state ADD COLUMN paused INTEGER NOT NULL DEFAULT 0',
      'ALTER TABLE tracker_state ADD COLUMN problem TEXT',
      'ALTER TABLE tracker_state ADD COLUMN open_periods INTEGER NOT NULL DEFAULT 1',
    ],
  },
  {
    version: 6,
    // The ledger's identity, drawn once on first use: a deployment records it in Temporal so that a worker with
    // a second ledger (two numbering sequences of 督办单) is refused at start (docs/deployment.md).
    statements: [
      `CREATE TABLE ledger_identity (
        singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
        identity TEXT NOT NULL,
        created_at BIGINT NOT NULL
      )`,
    ],
  },
  {
    version: 7,
    // The web service (docs/web.md): the directory and catalog as last registered (roles come from them), sign-in
    // links and sessions (only hashes of their tokens), rate-limit counters, and evidence files by content hash.
    statements: [
      `CREATE TABLE directory_snapshots (
        snapshot_key TEXT PRIMARY KEY,
        taken_at BIGINT NOT NULL,
        taken_by TEXT NOT NULL,
        directory TEXT NOT NULL,
        catalog TEXT NOT NULL
      )`,
      'CREATE INDEX directory_snapshots_by_time ON directory_snapshots (taken_at)',
      `CREATE TABLE web_sign_in_links (
        token_hash TEXT PRIMARY KEY,
        email TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        used_at BIGINT
      )`,
      `CREATE TABLE web_sessions (
        session_hash TEXT PRIMARY KEY,
        email TEXT NOT NULL,
        csrf TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        last_seen_at BIGINT NOT NULL,
        revoked_at BIGINT
      )`,
      'CREATE INDEX web_sessions_by_email ON web_sessions (email)',
      `CREATE TABLE web_rate_limits (
        bucket TEXT NOT NULL,
        window_start BIGINT NOT NULL,
        hits INTEGER NOT NULL,
        PRIMARY KEY (bucket, window_start)
      )`,
      `CREATE TABLE evidence_files (
        sha256 TEXT NOT NULL,
        tracker_id TEXT NOT NULL,
        period TEXT NOT NULL,
        name TEXT NOT NULL,
        type TEXT NOT NULL,
        size BIGINT NOT NULL,
        uploaded_by TEXT NOT NULL,
        uploaded_at BIGINT NOT NULL,
        PRIMARY KEY (sha256, tracker_id, period)
      )`,
    ],
  },
  {
    version: 8,
    // Problems the workers see and the administrator must hear of (issue 13.5: an SMTP server that takes nothing);
    // `duban status` prints the open ones as warnings. One row per kind, cleared when the problem ends.
    statements: [
      `CREATE TABLE operator_alerts (
        kind TEXT PRIMARY KEY,
        message TEXT NOT NULL,
        since BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        cleared_at BIGINT
      )`,
    ],
  },
  {
    version: 9,
    // Forms opened from the signed action links of notices (docs/web.md): each carries a one-time nonce, claimed
    // here before the action is sent, so a double submit (a second click, a reload) is answered once. `result` is
    // what the confirmation page showed, for the repeat.
    statements: [
      `CREATE TABLE web_link_submissions (
        nonce TEXT PRIMARY KEY,
        tracker_id TEXT NOT NULL,
        period TEXT NOT NULL,
        action TEXT NOT NULL,
        email TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        result TEXT
      )`,
    ],
  },
];

/** The schema versions this code knows, in order. */
export const MIGRATION_VERSIONS = MIGRATIONS.map((m) => m.version);

/**
 * How long a claim on a notice lasts unless renewed. The attempt that holds it renews it while it waits on the SMTP
 * server (activities/delivery.ts), so it runs out only when that attempt's process died.
 */
export const SEND_LEASE_MS = 30_000;

export type NoticeClaimResult =
  | { state: 'send' }
  | { state: 'done'; row: NoticeRow }
  | { state: 'in-flight'; until: number };

export interface TrackerState extends TrackerRef {
  /** The oldest open period, the one requests go to by default. */
  period: string;
  /** The most urgent colour of the open periods, or 'broken' when the definition cannot be planned. */
  colour: string;
  due: string;
  dueAt: number;
  /** False once retired, or once a one-off is settled. */
  active: boolean;
  paused?: boolean;
  /** Why the tracker cannot plan (shown on the board until `duban register` fixes the definition). */
  problem?: string;
  openPeriods?: number;
  /** Workflow time of the change; an older update never overwrites a newer one. */
  updatedAt: number;
}

/** One period's row on the board. */
export interface PeriodStateRow extends TrackerRef, BoardPeriod {
  open: boolean;
  outcome?: Outcome;
  updatedAt: number;
}

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
export class LedgerUnavailableError extends Error {}
/** A read-only open found no ledger, or one that needs `duban migrate`. */
export class LedgerNotFoundError extends Error {}

/** Where a ledger is, for messages and logs: the password of a PostgreSQL URL is replaced. */
export function describeLedger(options: Pick<LedgerOptions, 'databaseUrl' | 'sqliteFile' | 'source'>): string {
  const from = options.source ? ` (${options.source})` : '';
  if (options.databaseUrl) return `PostgreSQL ${redactPassword(options.databaseUrl)}${from}`;
  return `SQLite ${options.sqliteFile ?? ':memory:'}${from}`;
}

function redactPassword(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

/** An error's message and code, and its causes', for an operator: never the stack. */
function describeCause(err: unknown): string {
  const parts: string[] = [];
  for (let e = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof AggregateError && e.errors.length) e = e.errors[0];
    const code = (e as { code?: unknown }).code;
    const message = e instanceof Error ? e.message : String(e);
    parts.push(`${message || (e as Error).name}${typeof code === 'string' && !message.includes(code) ? ` (${code})` : ''}`);
  }
  return parts.join(': ');
}

export class Ledger {
  private constructor(readonly db: SqlDb) {}

  static async open(options: LedgerOptions): Promise<Ledger> {
    const where = describeLedger(options);
    const file = options.sqliteFile ?? ':memory:';
    if (options.migrate === false && !options.databaseUrl && (file === ':memory:' || !existsSync(file))) {
      throw new LedgerNotFoundError(`no ledger found: looked for ${where}; nothing was created. A worker or \`duban migrate\` creates it.`);
    }
    let db: SqlDb;
    try {
      db = options.databaseUrl ? openPostgres({ url: options.databaseUrl, ssl: options.postgresSsl }) : openSqlite(file, { mustExist: options.migrate === false });
    } catch (err) {
      throw new LedgerUnavailableError(`cannot open the ledger (${where}): ${describeCause(err)}`);
    }
    const ledger = new Ledger(db);
    try {
      if (options.migrate === false) await ledger.checkSchema(where);
      else await ledger.migrate();
    } catch (err) {
      await db.close().catch(() => undefined);
      if (err instanceof LedgerNotFoundError) throw err;
      throw new LedgerUnavailableError(`cannot open the ledger (${where}): ${describeCause(err)}`);
    }
    return ledger;
  }

  /** The migrations applied, in the order of MIGRATIONS; an empty list when the ledger has no tables yet. */
  async appliedMigrations(): Promise<number[]> {
    const exists =
      this.db.dialect === 'postgres'
        ? await this.db.all<{ t: string | null }>("SELECT to_regclass('ledger_migrations')::text AS t")
        : await this.db.all<{ t: string | null }>("SELECT name AS t FROM sqlite_master WHERE type = 'table' AND name = 'ledger_migrations'");
    if (!exists[0]?.t) return [];
    const rows = await this.db.all<{ version: number }>('SELECT version FROM ledger_migrations ORDER BY version');
    return rows.map((r) => Number(r.version));
  }

  /** The migrations this code knows and the ledger lacks. */
  async pendingMigrations(): Promise<number[]> {
    const applied = new Set(await this.appliedMigrations());
    return MIGRATIONS.map((m) => m.version).filter((v) => !applied.has(v));
  }

  private async checkSchema(where: string): Promise<void> {
    const applied = await this.appliedMigrations();
    if (applied.length === 0) throw new LedgerNotFoundError(`no ledger found: ${where} has no duban tables; nothing was created. A worker or \`duban migrate\` creates them.`);
    const pending = await this.pendingMigrations();
    if (pending.length) {
      throw new LedgerNotFoundError(`the ledger (${where}) needs migrations ${pending.join(', ')} for this version of duban: run \`duban migrate\` (or start a worker), then try again.`);
    }
  }

  /**
   * The ledger's identity: a random id drawn on first use and kept for ever. Deployments record it in Temporal
   * so that a worker with a different ledger is refused (worker/main.ts).
   */
  async identity(): Promise<string> {
    await this.db.run('INSERT INTO ledger_identity (singleton, identity, created_at) VALUES (1, ?, ?) ON CONFLICT (singleton) DO NOTHING', [randomUUID(), Date.now()]);
    return (await this.storedIdentity())!;
  }

  /** The identity if one was drawn already (read-only commands never draw it). */
  async storedIdentity(): Promise<string | undefined> {
    const [row] = await this.db.all<{ identity: string }>('SELECT identity FROM ledger_identity WHERE singleton = 1');
    return row?.identity;
  }

  get dialect() {
    return this.db.dialect;
  }

  /** Applies the migrations not applied yet; safe to run from several workers at once. */
  async migrate(): Promise<void> {
    await this.db.transaction(async (tx) => {
      // Two workers creating the table at once would collide in PostgreSQL's catalog: one at a time.
      if (tx.dialect === 'postgres') await tx.exec('SELECT pg_advisory_xact_lock(2718281828)');
      await tx.exec('CREATE TABLE IF NOT EXISTS ledger_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)');
    });
    for (const m of MIGRATIONS) {
      await this.db.transaction(async (tx) => {
        if (tx.dialect === 'postgres') await tx.exec('LOCK TABLE ledger_migrations IN EXCLUSIVE MODE');
        const done = await tx.all<{ version: number }>('SELECT version FROM ledger_migrations WHERE version = ?', [m.version]);
        if (done.length > 0) return;
        for (const statement of m.statements) await tx.exec(statement);
        await tx.run('INSERT INTO ledger_migrations (version, applied_at) VALUES (?, ?)', [m.version, Date.now()]);
      });
    }
  }

  /**
   * Records the intent to send a notice and takes a lease on it. `done`: it was already sent or rejected, do not
   * send again. `in-flight`: another attempt holds the lease (it may still be talking to the SMTP server); try
   * again later. `send`: this attempt sends.
   */
  async beginNotice(n: NoticeClaim, now = Date.now(), leaseMs = SEND_LEASE_MS): Promise<NoticeClaimResult> {
    return this.db.transaction(async (tx) => {
      const inserted = await tx.run(
        `INSERT INTO notices (send_key, tracker_id, obligation, unit, period, stage, level, step, planned_at, fired_at, due,
           message_id, recipients_to, recipients_cc, status, attempts, created_at, claimed_until)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'sending', 1, ?, ?)
         ON CONFLICT (send_key) DO NOTHING`,
        [n.sendKey, n.trackerId, n.obligation, n.unit, n.period, n.stage, n.level, n.step, n.plannedAt, n.firedAt, n.due, n.messageId, JSON.stringify(n.to), JSON.stringify(n.cc), now, now + leaseMs],
      );
      if (inserted > 0) return { state: 'send' };
      const [row] = await tx.all<NoticeRow>(`SELECT * FROM notices WHERE send_key = ?${tx.dialect === 'postgres' ? ' FOR UPDATE' : ''}`, [n.sendKey]);
      if (row && row.status !== 'sending') return { state: 'done', row: normaliseNotice(row) };
      const until = Number(row?.claimed_until ?? 0);
      if (until > now) return { state: 'in-flight', until };
      await tx.run('UPDATE notices SET attempts = attempts + 1, claimed_until = ? WHERE send_key = ?', [now + leaseMs, n.sendKey]);
      return { state: 'send' };
    });
  }

  /** Extends the lease of an attempt that is still working on the notice (it waits on a slow SMTP server). */
  async renewNotice(sendKey: string, until: number): Promise<void> {
    await this.db.run("UPDATE notices SET claimed_until = ? WHERE send_key = ? AND status = 'sending'", [until, sendKey]);
  }

  /** Gives up this attempt's lease after a failure, so the retry does not wait for it to run out. */
  async releaseNotice(sendKey: string): Promise<void> {
    await this.db.run("UPDATE notices SET claimed_until = NULL WHERE send_key = ? AND status = 'sending'", [sendKey]);
  }

  async finishNotice(
    sendKey: string,
    result: { status: 'sent' | 'rejected' | 'superseded'; subject: string; accepted: string[]; rejected: string[]; response: string },
  ): Promise<void> {
    await this.db.run(
      `UPDATE notices SET status = ?, subject = ?, accepted = ?, rejected = ?, response = ?, sent_at = ?
       WHERE send_key = ? AND status = 'sending'`,
      [result.status, result.subject, JSON.stringify(result.accepted), JSON.stringify(result.rejected), result.response.slice(0, 500), Date.now(), sendKey],
    );
  }

  /**
   * The 督办单 number of a level-2 notice: unique per supervising office and year, and the same on every retry
   * of the same notice.
   */
  async supervisionNumber(sendKey: string, office: string, year: number): Promise<{ number: number; year: number }> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx.all<{ supervision_no: number | null; supervision_year: number | null }>(
        `SELECT supervision_no, supervision_year FROM notices WHERE send_key = ?${tx.dialect === 'postgres' ? ' FOR UPDATE' : ''}`,
        [sendKey],
      );
      if (!row) throw new Error(`supervisionNumber: notice ${sendKey} is not in the ledger`);
      // A retry in the new year keeps the number and the year it was given in.
      if (row.supervision_no !== null) return { number: Number(row.supervision_no), year: Number(row.supervision_year ?? year) };
      const [next] = await tx.all<{ last: number }>(
        `INSERT INTO supervision_numbers (office, year, last) VALUES (?, ?, 1)
         ON CONFLICT (office, year) DO UPDATE SET last = supervision_numbers.last + 1
         RETURNING last`,
        [office, year],
      );
      const number = Number(next!.last);
      await tx.run('UPDATE notices SET supervision_no = ?, supervision_office = ?, supervision_year = ? WHERE send_key = ?', [number, office, year, sendKey]);
      return { number, year };
    });
  }

  async recordEvents(events: LedgerEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.db.transaction((tx) => insertEvents(tx, events));
  }

  /** The first outcome recorded for a period stands; a replay writing it again changes nothing. */
  async recordOutcome(o: OutcomeRecord): Promise<void> {
    await insertOutcome(this.db, o);
  }

  /** Notes an item that turned red, once per tracker, period and due date. */
  async noteRed(item: RedItem): Promise<void> {
    await insertRedItem(this.db, item);
  }

  /**
   * One step of a tracker, in one transaction: its events, the items that turned red, settled periods, and the
   * board's rows. Every part is keyed, so a retried activity writes nothing twice and an older step never
   * overwrites a newer one.
   */
  async applyWrite(w: LedgerWrite): Promise<void> {
    await this.db.transaction(async (tx) => {
      await insertEvents(tx, w.events);
      for (const item of w.red) await insertRedItem(tx, item);
      for (const o of w.settled ?? []) await insertOutcome(tx, o);
      const ref = { trackerId: w.trackerId, obligation: w.obligation, unit: w.unit };
      if (w.board) {
        const b = w.board.tracker;
        await upsertTrackerState(tx, { ...ref, period: b.period, colour: b.colour, due: b.due, dueAt: b.dueAt, active: b.active, paused: b.paused, problem: b.problem, openPeriods: b.openPeriods, updatedAt: w.at });
        for (const p of w.board.periods) await upsertPeriodState(tx, { ...ref, ...p, open: true, updatedAt: w.at });
        // The board holds exactly the open periods: a retired tracker's periods leave it (their record stays).
        const listed = w.board.periods.map((p) => p.period);
        await tx.run(
          `UPDATE period_state SET open = 0, updated_at = ? WHERE tracker_id = ? AND open = 1 AND updated_at <= ?${listed.length ? ` AND period NOT IN (${listed.map(() => '?').join(', ')})` : ''}`,
          [w.at, w.trackerId, w.at, ...listed],
        );
      }
      for (const o of w.settled ?? []) {
        const colour = o.outcome === 'waived' ? 'waived' : o.outcome === 'missed' ? 'red' : 'done';
        await tx.run('UPDATE period_state SET open = 0, outcome = ?, colour = ?, updated_at = ? WHERE tracker_id = ? AND period = ? AND updated_at <= ?', [
          o.outcome,
          colour,
          w.at,
          o.trackerId,
          o.period,
          w.at,
        ]);
      }
    });
  }

  /**
   * The offices that have a digest to send for `day`: red items not yet in any digest that turned red by
   * `until`, or items already taken for that day's digest (a retry after a crash must still send it).
   */
  async officesForDigest(day: string, until: number): Promise<string[]> {
    const rows = await this.db.all<{ office: string }>(
      `SELECT DISTINCT office FROM red_items
       WHERE (digest_key IS NULL AND turned_red_at <= ?) OR digest_key = 'digest/' || office || '/' || ?
       ORDER BY office`,
      [until, day],
    );
    return rows.map((r) => r.office);
  }

  /**
   * Assigns an office's waiting red items to a digest and returns them. Idempotent: a retry with the same digest
   * key gets the same items, and items that turned red meanwhile wait for the next digest.
   */
  async takeRedItems(office: string, digestKey: string, until: number): Promise<RedItemRow[]> {
    return this.db.transaction(async (tx) => {
      await tx.run('UPDATE red_items SET digest_key = ? WHERE office = ? AND digest_key IS NULL AND turned_red_at <= ?', [digestKey, office, until]);
      const rows = await tx.all<RedItemRow>('SELECT * FROM red_items WHERE digest_key = ? ORDER BY unit, obligation, period', [digestKey]);
      return rows.map((r) => ({ ...r, turned_red_at: Number(r.turned_red_at) }));
    });
  }

  async saveTrackerState(t: TrackerState): Promise<void> {
    await upsertTrackerState(this.db, t);
  }

  /** Trackers that ended for good: retired, or one-offs settled. Registration must not start them again. */
  async endedTrackerIds(): Promise<Set<string>> {
    const rows = await this.db.all<{ tracker_id: string }>('SELECT tracker_id FROM tracker_state WHERE active = 0');
    return new Set(rows.map((r) => r.tracker_id));
  }

  /** The active trackers' states, for the board. */
  async trackerStates(filter: { unit?: string; obligation?: string; colour?: string; trackerId?: string } = {}): Promise<TrackerState[]> {
    const clauses = ['active = 1'];
    const params: Param[] = [];
    equalities(filter, { unit: 'unit', obligation: 'obligation', colour: 'colour', trackerId: 'tracker_id' }, clauses, params);
    const rows = await this.db.all<TrackerStateRow>(`SELECT * FROM tracker_state WHERE ${clauses.join(' AND ')}`, params);
    return rows.map((r) => ({
      trackerId: r.tracker_id,
      obligation: r.obligation,
      unit: r.unit,
      period: r.period,
      colour: r.colour,
      due: r.due,
      dueAt: Number(r.due_at),
      active: Number(r.active) === 1,
      paused: Number(r.paused) === 1,
      problem: r.problem ?? undefined,
      openPeriods: Number(r.open_periods),
      updatedAt: Number(r.updated_at),
    }));
  }

  /**
   * Period rows for the board and a tracker's page. `open: true`: the open periods; `settledFrom`: also the
   * periods done or waived that were due from that date on (the board's done and waived counts for the year).
   */
  async periodStates(filter: { unit?: string; obligation?: string; colour?: string; trackerId?: string; open?: boolean; settledFrom?: string } = {}): Promise<PeriodStateRow[]> {
    const clauses: string[] = [];
    const params: Param[] = [];
    if (filter.open !== undefined && filter.settledFrom !== undefined) {
      clauses.push("(open = ? OR (open = 0 AND outcome IS NOT NULL AND outcome <> 'missed' AND due >= ?))");
      params.push(filter.open ? 1 : 0, filter.settledFrom);
    } else if (filter.open !== undefined) {
      clauses.push('open = ?');
      params.push(filter.open ? 1 : 0);
    }
    equalities(filter, { unit: 'unit', obligation: 'obligation', colour: 'colour', trackerId: 'tracker_id' }, clauses, params);
    const where = clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
    const rows = await this.db.all<Record<string, string | number | null>>(`SELECT * FROM period_state ${where} ORDER BY tracker_id, period`, params);
    const num = (v: string | number | null | undefined) => (v === null || v === undefined ? undefined : Number(v));
    return rows.map((r) => ({
      trackerId: String(r.tracker_id),
      obligation: String(r.obligation),
      unit: String(r.unit),
      period: String(r.period),
      colour: String(r.colour) as PeriodStateRow['colour'],
      due: String(r.due),
      dueAt: Number(r.due_at),
      originalDue: String(r.original_due),
      endsAt: Number(r.ends_at),
      acknowledgedBy: r.acknowledged_by === null ? undefined : String(r.acknowledged_by),
      acknowledgedAt: num(r.acknowledged_at),
      progressCount: Number(r.progress_count),
      lastProgressAt: num(r.last_progress_at),
      submitted: Number(r.submitted) === 1,
      verification: String(r.verification),
      open: Number(r.open) === 1,
      outcome: r.outcome === null ? undefined : (String(r.outcome) as Outcome),
      updatedAt: Number(r.updated_at),
    }));
  }

  /** Obligation titles as the trackers noted them (for reports when the catalog no longer has them). */
  async obligationTitles(): Promise<Map<string, string>> {
    const rows = await this.db.all<{ obligation: string; obligation_title: string }>('SELECT DISTINCT obligation, obligation_title FROM red_items ORDER BY obligation');
    return new Map(rows.map((r) => [r.obligation, r.obligation_title]));
  }

  async notices(filter: { trackerId?: string } = {}): Promise<NoticeRow[]> {
    const where = filter.trackerId ? 'WHERE tracker_id = ?' : '';
    const params: Param[] = filter.trackerId ? [filter.trackerId] : [];
    return (await this.db.all<NoticeRow>(`SELECT * FROM notices ${where} ORDER BY planned_at, send_key`, params)).map(normaliseNotice);
  }

  async events(filter: { trackerId?: string } = {}): Promise<EventRow[]> {
    const where = filter.trackerId ? 'WHERE tracker_id = ?' : '';
    const params: Param[] = filter.trackerId ? [filter.trackerId] : [];
    const rows = await this.db.all<EventRow>(`SELECT * FROM events ${where} ORDER BY at, event_key`, params);
    return rows.map((r) => ({ ...r, at: Number(r.at), recorded_at: Number(r.recorded_at) }));
  }

  async outcomes(filter: { trackerId?: string; year?: number } = {}): Promise<OutcomeRow[]> {
    const clauses: string[] = [];
    const params: Param[] = [];
    equalities(filter, { trackerId: 'tracker_id', year: 'due_year' }, clauses, params);
    const where = clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
    const rows = await this.db.all<OutcomeRow>(`SELECT * FROM outcomes ${where} ORDER BY tracker_id, period`, params);
    return rows.map((r) => ({
      ...r,
      due_year: Number(r.due_year),
      completed_at: r.completed_at === null ? null : Number(r.completed_at),
      settled_at: Number(r.settled_at),
    }));
  }

  /**
   * Keeps the directory and catalog as registered, for the web service's roles (DOMAIN.md 21). The same content
   * registered again adds nothing.
   */
  async saveDirectorySnapshot(snapshot: { directory: unknown; catalog: unknown; by: string }): Promise<void> {
    const directory = JSON.stringify(snapshot.directory);
    const catalog = JSON.stringify(snapshot.catalog);
    const key = createHash('sha256').update(directory).update('\n').update(catalog).digest('hex');
    await this.db.run(
      `INSERT INTO directory_snapshots (snapshot_key, taken_at, taken_by, directory, catalog) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (snapshot_key) DO UPDATE SET taken_at = excluded.taken_at, taken_by = excluded.taken_by`,
      [key, Date.now(), snapshot.by, directory, catalog],
    );
  }

  /** Raises (or refreshes) the alert of a kind; `duban status` shows it until it is cleared. */
  async raiseAlert(kind: string, message: string, since: number, now = Date.now()): Promise<void> {
    await this.db.run(
      'INSERT INTO operator_alerts (kind, message, since, updated_at, cleared_at) VALUES (?, ?, ?, ?, NULL) ' +
        'ON CONFLICT (kind) DO UPDATE SET message = excluded.message, updated_at = excluded.updated_at, cleared_at = NULL, ' +
        'since = CASE WHEN operator_alerts.cleared_at IS NULL THEN operator_alerts.since ELSE excluded.since END',
      [kind, message, since, now],
    );
  }

  async clearAlert(kind: string, now = Date.now()): Promise<void> {
    await this.db.run('UPDATE operator_alerts SET cleared_at = ? WHERE kind = ? AND cleared_at IS NULL', [now, kind]);
  }

  /** Open alerts, oldest first. A ledger older than migration 8 has none. */
  async openAlerts(): Promise<{ kind: string; message: string; since: number; updatedAt: number }[]> {
    if (!(await this.appliedMigrations()).includes(8)) return [];
    const rows = await this.db.all<{ kind: string; message: string; since: number; updated_at: number }>('SELECT * FROM operator_alerts WHERE cleared_at IS NULL ORDER BY since');
    return rows.map((r) => ({ kind: r.kind, message: r.message, since: Number(r.since), updatedAt: Number(r.updated_at) }));
  }

  /** Open periods by colour, and broken trackers: the `duban_trackers` gauge. */
  async colourCounts(): Promise<Record<string, number>> {
    const rows = await this.db.all<{ colour: string; n: number }>('SELECT colour, COUNT(*) AS n FROM period_state WHERE open = 1 GROUP BY colour');
    const broken = await this.db.all<{ n: number }>("SELECT COUNT(*) AS n FROM tracker_state WHERE active = 1 AND colour = 'broken'");
    const out: Record<string, number> = { green: 0, yellow: 0, red: 0, done: 0, waived: 0, broken: Number(broken[0]?.n ?? 0) };
    for (const r of rows) out[r.colour] = Number(r.n);
    return out;
  }

  /** The status of one notice by its send key, if it was ever claimed. */
  async noticeStatus(sendKey: string): Promise<NoticeStatus | undefined> {
    const [row] = await this.db.all<{ status: NoticeStatus }>('SELECT status FROM notices WHERE send_key = ?', [sendKey]);
    return row?.status;
  }

  /** A trivial query: the database answers (readiness). */
  async ping(): Promise<void> {
    await this.db.all('SELECT 1 AS one');
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}

/** PostgreSQL returns BIGINT as text; the ledger's callers get numbers from either back end. */
function normaliseNotice(r: NoticeRow): NoticeRow {
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    ...r,
    level: Number(r.level),
    step: Number(r.step),
    attempts: Number(r.attempts),
    planned_at: Number(r.planned_at),
    fired_at: num(r.fired_at),
    created_at: Number(r.created_at),
    sent_at: num(r.sent_at),
    claimed_until: num(r.claimed_until),
    supervision_no: num(r.supervision_no),
    supervision_year: num(r.supervision_year),
  };
}

interface TrackerStateRow {
  tracker_id: string;
  obligation: string;
  unit: string;
  period: string;
  colour: string;
  due: string;
  due_at: number;
  active: number;
  paused: number;
  problem: string | null;
  open_periods: number;
  updated_at: number;
}

async function insertEvents(db: SqlDb, events: LedgerEvent[]): Promise<void> {
  for (const e of events) {
    await db.run(
      `INSERT INTO events (event_key, tracker_id, obligation, unit, period, kind, at, actor, data, recorded_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_key) DO NOTHING`,
      [e.eventKey, e.trackerId, e.obligation, e.unit, e.period, e.kind, e.at, e.actor ?? null, e.data ? JSON.stringify(e.data) : null, Date.now()],
    );
  }
}

async function insertOutcome(db: SqlDb, o: OutcomeRecord): Promise<void> {
  await db.run(
    `INSERT INTO outcomes (tracker_id, obligation, unit, period, outcome, original_due, due, due_year, completed_at, settled_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tracker_id, period) DO NOTHING`,
    [o.trackerId, o.obligation, o.unit, o.period, o.outcome, o.originalDue, o.due, Number(o.originalDue.slice(0, 4)), o.completedAt ?? null, o.settledAt],
  );
}

async function insertRedItem(db: SqlDb, item: RedItem): Promise<void> {
  await db.run(
    `INSERT INTO red_items (item_key, office, office_name, office_to, office_cc, tracker_id, obligation, obligation_title, unit, unit_name, period, due, turned_red_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (item_key) DO NOTHING`,
    [item.itemKey, item.office, item.officeName, JSON.stringify(item.officeTo), JSON.stringify(item.officeCc), item.trackerId, item.obligation, item.obligationTitle, item.unit, item.unitName, item.period, item.due, item.turnedRedAt],
  );
}

async function upsertTrackerState(db: SqlDb, t: TrackerState): Promise<void> {
  await db.run(
    `INSERT INTO tracker_state (tracker_id, obligation, unit, period, colour, due, due_at, active, paused, problem, open_periods, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (tracker_id) DO UPDATE SET obligation = excluded.obligation, unit = excluded.unit, period = excluded.period,
       colour = excluded.colour, due = excluded.due, due_at = excluded.due_at, active = excluded.active, paused = excluded.paused,
       problem = excluded.problem, open_periods = excluded.open_periods, updated_at = excluded.updated_at
     WHERE tracker_state.updated_at <= excluded.updated_at`,
    [t.trackerId, t.obligation, t.unit, t.period, t.colour, t.due, t.dueAt, t.active ? 1 : 0, t.paused ? 1 : 0, t.problem ?? null, t.openPeriods ?? 1, t.updatedAt],
  );
}

async function upsertPeriodState(db: SqlDb, p: PeriodStateRow): Promise<void> {
  await db.run(
    `INSERT INTO period_state (tracker_id, period, obligation, unit, colour, due, due_at, original_due, ends_at, acknowledged_by, acknowledged_at,
       progress_count, last_progress_at, submitted, verification, open, outcome, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (tracker_id, period) DO UPDATE SET colour = excluded.colour, due = excluded.due, due_at = excluded.due_at,
       original_due = excluded.original_due, ends_at = excluded.ends_at, acknowledged_by = excluded.acknowledged_by,
       acknowledged_at = excluded.acknowledged_at, progress_count = excluded.progress_count, last_progress_at = excluded.last_progress_at,
       submitted = excluded.submitted, verification = excluded.verification, open = excluded.open, outcome = excluded.outcome,
       updated_at = excluded.updated_at
     WHERE period_state.updated_at <= excluded.updated_at`,
    [
      p.trackerId, p.period, p.obligation, p.unit, p.colour, p.due, p.dueAt, p.originalDue, p.endsAt, p.acknowledgedBy ?? null, p.acknowledgedAt ?? null,
      p.progressCount, p.lastProgressAt ?? null, p.submitted ? 1 : 0, p.verification, p.open ? 1 : 0, p.outcome ?? null, p.updatedAt,
    ],
  );
}

/** Adds `column = ?` for each filter field that is set (the board's and the record's optional filters). */
function equalities<F extends object>(filter: F, columns: { [K in keyof F]?: string }, clauses: string[], params: Param[]): void {
  for (const [key, column] of Object.entries(columns) as [keyof F & string, string][]) {
    const value = filter[key];
    if (value === undefined || value === null || value === '') continue;
    clauses.push(`${column} = ?`);
    params.push(value as Param);
  }
}
