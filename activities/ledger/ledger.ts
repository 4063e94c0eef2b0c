/**
 * The ledger (台账): every notice, action and outcome, kept forever outside Temporal's retention.
 *
 * Rows are only ever added, or completed once (a notice goes from `sending` to `sent` or `rejected`); nothing is
 * rewritten. Every write carries a key chosen by the workflow, so a retried activity or a replayed workflow
 * writes nothing twice.
 */
import { createHash } from 'node:crypto';
import type { Outcome } from '../../domain/tracking';
import { Param, SqlDb, openPostgres, openSqlite } from './sql';

export type NoticeStatus = 'sending' | 'sent' | 'rejected';

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

export interface LedgerEvent {
  /** Unique per event, chosen by the workflow: tracker, period and a sequence number. */
  eventKey: string;
  trackerId: string;
  obligation: string;
  unit: string;
  period: string;
  kind: string;
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

export interface OutcomeRecord {
  trackerId: string;
  obligation: string;
  unit: string;
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
];

/** Longer than the SMTP client's own timeouts put together (10 + 10 + 20 seconds). */
export const SEND_LEASE_MS = 45_000;

export type NoticeClaimResult =
  | { state: 'send' }
  | { state: 'done'; row: NoticeRow }
  | { state: 'in-flight'; until: number };

export interface TrackerState {
  trackerId: string;
  obligation: string;
  unit: string;
  period: string;
  colour: string;
  due: string;
  dueAt: number;
  /** False once retired, or once a one-off is settled. */
  active: boolean;
  /** Workflow time of the change; an older update never overwrites a newer one. */
  updatedAt: number;
}

export interface LedgerOptions {
  /** postgres://... : PostgreSQL. Otherwise the SQLite file path. */
  databaseUrl?: string;
  sqliteFile?: string;
  /** TLS for PostgreSQL beyond what the URL says (e.g. a private CA). */
  postgresSsl?: { ca?: string; rejectUnauthorized?: boolean };
}

export class Ledger {
  private constructor(readonly db: SqlDb) {}

  static async open(options: LedgerOptions): Promise<Ledger> {
    const db = options.databaseUrl
      ? openPostgres({ url: options.databaseUrl, ssl: options.postgresSsl })
      : openSqlite(options.sqliteFile ?? ':memory:');
    const ledger = new Ledger(db);
    await ledger.migrate();
    return ledger;
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
  async beginNotice(n: NoticeClaim, now = Date.now()): Promise<NoticeClaimResult> {
    return this.db.transaction(async (tx) => {
      const inserted = await tx.run(
        `INSERT INTO notices (send_key, tracker_id, obligation, unit, period, stage, level, step, planned_at, fired_at, due,
           message_id, recipients_to, recipients_cc, status, attempts, created_at, claimed_until)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'sending', 1, ?, ?)
         ON CONFLICT (send_key) DO NOTHING`,
        [n.sendKey, n.trackerId, n.obligation, n.unit, n.period, n.stage, n.level, n.step, n.plannedAt, n.firedAt, n.due, n.messageId, JSON.stringify(n.to), JSON.stringify(n.cc), now, now + SEND_LEASE_MS],
      );
      if (inserted > 0) return { state: 'send' };
      const [row] = await tx.all<NoticeRow>(`SELECT * FROM notices WHERE send_key = ?${tx.dialect === 'postgres' ? ' FOR UPDATE' : ''}`, [n.sendKey]);
      if (row && row.status !== 'sending') return { state: 'done', row: normaliseNotice(row) };
      const until = Number(row?.claimed_until ?? 0);
      if (until > now) return { state: 'in-flight', until };
      await tx.run('UPDATE notices SET attempts = attempts + 1, claimed_until = ? WHERE send_key = ?', [now + SEND_LEASE_MS, n.sendKey]);
      return { state: 'send' };
    });
  }

  /** Gives up this attempt's lease after a failure, so the retry does not wait for it to run out. */
  async releaseNotice(sendKey: string): Promise<void> {
    await this.db.run("UPDATE notices SET claimed_until = NULL WHERE send_key = ? AND status = 'sending'", [sendKey]);
  }

  async finishNotice(
    sendKey: string,
    result: { status: 'sent' | 'rejected'; subject: string; accepted: string[]; rejected: string[]; response: string },
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
  async supervisionNumber(sendKey: string, office: string, year: number): Promise<number> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx.all<{ supervision_no: number | null }>(`SELECT supervision_no FROM notices WHERE send_key = ?${tx.dialect === 'postgres' ? ' FOR UPDATE' : ''}`, [sendKey]);
      if (!row) throw new Error(`supervisionNumber: notice ${sendKey} is not in the ledger`);
      if (row.supervision_no !== null) return Number(row.supervision_no);
      const [next] = await tx.all<{ last: number }>(
        `INSERT INTO supervision_numbers (office, year, last) VALUES (?, ?, 1)
         ON CONFLICT (office, year) DO UPDATE SET last = supervision_numbers.last + 1
         RETURNING last`,
        [office, year],
      );
      const number = Number(next!.last);
      await tx.run('UPDATE notices SET supervision_no = ?, supervision_office = ?, supervision_year = ? WHERE send_key = ?', [number, office, year, sendKey]);
      return number;
    });
  }

  async recordEvents(events: LedgerEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.db.transaction(async (tx) => {
      for (const e of events) {
        await tx.run(
          `INSERT INTO events (event_key, tracker_id, obligation, unit, period, kind, at, actor, data, recorded_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_key) DO NOTHING`,
          [e.eventKey, e.trackerId, e.obligation, e.unit, e.period, e.kind, e.at, e.actor ?? null, e.data ? JSON.stringify(e.data) : null, Date.now()],
        );
      }
    });
  }

  /** The first outcome recorded for a period stands; a replay writing it again changes nothing. */
  async recordOutcome(o: OutcomeRecord): Promise<void> {
    await this.db.run(
      `INSERT INTO outcomes (tracker_id, obligation, unit, period, outcome, original_due, due, due_year, completed_at, settled_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tracker_id, period) DO NOTHING`,
      [o.trackerId, o.obligation, o.unit, o.period, o.outcome, o.originalDue, o.due, Number(o.originalDue.slice(0, 4)), o.completedAt ?? null, o.settledAt],
    );
  }

  /** Notes an item that turned red, once per tracker, period and due date. */
  async noteRed(item: RedItem): Promise<void> {
    await this.db.run(
      `INSERT INTO red_items (item_key, office, office_name, office_to, office_cc, tracker_id, obligation, obligation_title, unit, unit_name, period, due, turned_red_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (item_key) DO NOTHING`,
      [item.itemKey, item.office, item.officeName, JSON.stringify(item.officeTo), JSON.stringify(item.officeCc), item.trackerId, item.obligation, item.obligationTitle, item.unit, item.unitName, item.period, item.due, item.turnedRedAt],
    );
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
    await this.db.run(
      `INSERT INTO tracker_state (tracker_id, obligation, unit, period, colour, due, due_at, active, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (tracker_id) DO UPDATE SET obligation = excluded.obligation, unit = excluded.unit, period = excluded.period,
         colour = excluded.colour, due = excluded.due, due_at = excluded.due_at, active = excluded.active, updated_at = excluded.updated_at
       WHERE tracker_state.updated_at <= excluded.updated_at`,
      [t.trackerId, t.obligation, t.unit, t.period, t.colour, t.due, t.dueAt, t.active ? 1 : 0, t.updatedAt],
    );
  }

  /** Trackers that ended for good: retired, or one-offs settled. Registration must not start them again. */
  async endedTrackerIds(): Promise<Set<string>> {
    const rows = await this.db.all<{ tracker_id: string }>('SELECT tracker_id FROM tracker_state WHERE active = 0');
    return new Set(rows.map((r) => r.tracker_id));
  }

  /** The active trackers' states, for the board. */
  async trackerStates(filter: { unit?: string; obligation?: string; colour?: string } = {}): Promise<TrackerState[]> {
    const clauses = ['active = 1'];
    const params: Param[] = [];
    if (filter.unit) clauses.push('unit = ?') && params.push(filter.unit);
    if (filter.obligation) clauses.push('obligation = ?') && params.push(filter.obligation);
    if (filter.colour) clauses.push('colour = ?') && params.push(filter.colour);
    const rows = await this.db.all<{ tracker_id: string; obligation: string; unit: string; period: string; colour: string; due: string; due_at: number; active: number; updated_at: number }>(
      `SELECT * FROM tracker_state WHERE ${clauses.join(' AND ')}`,
      params,
    );
    return rows.map((r) => ({ trackerId: r.tracker_id, obligation: r.obligation, unit: r.unit, period: r.period, colour: r.colour, due: r.due, dueAt: Number(r.due_at), active: Number(r.active) === 1, updatedAt: Number(r.updated_at) }));
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
    if (filter.trackerId) clauses.push('tracker_id = ?') && params.push(filter.trackerId);
    if (filter.year !== undefined) clauses.push('due_year = ?') && params.push(filter.year);
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
