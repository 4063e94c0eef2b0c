/**
 * The ledger's schema, as numbered migrations applied in order and never edited once released: a ledger created by
 * an older duban is brought up to date by applying the ones it lacks (`duban migrate`, or a worker at start).
 * Read-only commands never apply them; they check (Ledger.open with `migrate: false`).
 */
import type { SqlDb } from './sql';

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
  {
    version: 13,
    // The fencing token of a notice's claim (issue 21): renewals, the send and the final write require it, so an
    // attempt paused past its lease cannot send what another attempt took over; `abandoned` counts such attempts.
    statements: [
      'ALTER TABLE notices ADD COLUMN claim_token TEXT',
      'ALTER TABLE notices ADD COLUMN abandoned INTEGER NOT NULL DEFAULT 0',
      'ALTER TABLE notices ADD COLUMN abandoned_reason TEXT',
    ],
  },
  {
    version: 14,
    // One message per recipient when notices carry personal links (issue 19.5): each recipient's copy is a row of
    // its own, claimed and fenced like any notice, naming the notice it belongs to (`notice_key`) and its recipient.
    // The notice's own row stays the one that pages, `duban show` and the 督办单 register read.
    statements: [
      'ALTER TABLE notices ADD COLUMN notice_key TEXT',
      'ALTER TABLE notices ADD COLUMN recipient TEXT',
      'CREATE INDEX notices_by_notice_key ON notices (notice_key)',
    ],
  },
  {
    version: 16,
    // Channels beside email (ledger/channel-sends.ts, docs/channels.md): one row per (notice, channel), claimed
    // like an email; the rate slots each claim of a robot reserves; each channel's backoff and whether it is broken.
    statements: [
      `CREATE TABLE channel_sends (
        send_key TEXT PRIMARY KEY,
        notice_key TEXT NOT NULL,
        channel TEXT NOT NULL,
        kind TEXT NOT NULL,
        target TEXT NOT NULL,
        tracker_id TEXT NOT NULL,
        period TEXT NOT NULL,
        item TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        batch_key TEXT,
        response TEXT,
        not_before BIGINT NOT NULL,
        claimed_until BIGINT,
        created_at BIGINT NOT NULL,
        sent_at BIGINT
      )`,
      'CREATE INDEX channel_sends_by_channel ON channel_sends (channel, status, not_before)',
      'CREATE INDEX channel_sends_by_batch ON channel_sends (batch_key)',
      'CREATE INDEX channel_sends_by_tracker ON channel_sends (tracker_id, period)',
      `CREATE TABLE channel_slots (
        batch_key TEXT PRIMARY KEY,
        channel TEXT NOT NULL,
        at BIGINT NOT NULL
      )`,
      'CREATE INDEX channel_slots_by_channel ON channel_slots (channel, at)',
      `CREATE TABLE channel_state (
        channel TEXT PRIMARY KEY,
        not_before BIGINT NOT NULL,
        broken_since BIGINT,
        reason TEXT,
        updated_at BIGINT NOT NULL
      )`,
    ],
  },
  {
    version: 25,
    // 代办 (DOMAIN.md 29): a unit's head or liaison away from `from_day` to `to_day` (both inclusive, in the
    // catalog's zone), with the directory person standing in. Rows are never rewritten: a correction is a new row,
    // and the latest set wins where ranges overlap (domain/stand-ins.ts); `cancelled_at` ends one early.
    statements: [
      `CREATE TABLE stand_ins (
        id TEXT PRIMARY KEY,
        unit TEXT NOT NULL,
        absent_email TEXT NOT NULL,
        absent_name TEXT NOT NULL,
        stand_in_email TEXT NOT NULL,
        stand_in_name TEXT NOT NULL,
        from_day TEXT NOT NULL,
        to_day TEXT NOT NULL,
        set_by TEXT NOT NULL,
        set_at BIGINT NOT NULL,
        cancelled_at BIGINT
      )`,
      'CREATE INDEX stand_ins_by_unit ON stand_ins (unit, to_day)',
    ],
  },
  {
    version: 28,
    // The signed-in forms of the tracker page (issue 19.6): each rendered form carries a one-time token, claimed
    // here before its Update is sent, so a replayed POST or a double click is answered once. Keyed by the token's
    // SHA-256 and bound to the session that posted it; `result` is where the first answer went (the repeat goes
    // there too).
    statements: [
      `CREATE TABLE web_form_submissions (
        token_hash TEXT PRIMARY KEY,
        session_hash TEXT NOT NULL,
        tracker_id TEXT NOT NULL,
        action TEXT NOT NULL,
        email TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        result TEXT
      )`,
    ],
  },
  {
    version: 29,
    // Levels (issue 24): a region's board and year report on 100,000 trackers (docs/performance.md, "Levels"). The
    // board counts its rows per unit and colour from one covering index, and takes its most urgent rows colour by
    // colour in due order; the report counts a year's outcomes per unit from another, and reads the open periods
    // past due without the rest; the broken trackers are found by colour.
    statements: [
      'CREATE INDEX period_state_by_unit ON period_state (unit, colour, open, outcome, due)',
      'CREATE INDEX period_state_by_colour ON period_state (colour, due_at)',
      'CREATE INDEX period_state_open_due ON period_state (open, due_at)',
      'CREATE INDEX outcomes_by_year_outcome ON outcomes (due_year, outcome, unit, obligation, period)',
      'CREATE INDEX tracker_state_by_colour ON tracker_state (colour)',
    ],
  },
  {
    version: 30,
    // 协办 and 提级督办 (DOMAIN.md 28, 26) on the board: each open period's cooperating units with their 签收 (JSON,
    // null for a tracker without cooperators), and the office the period was raised to, and when.
    statements: [
      'ALTER TABLE period_state ADD COLUMN cooperators TEXT',
      'ALTER TABLE period_state ADD COLUMN raised_to TEXT',
      'ALTER TABLE period_state ADD COLUMN raised_at BIGINT',
    ],
  },
  {
    version: 31,
    // 退回 (DOMAIN.md 27) on the board: who handed an open period back to its supervising office, and when; null
    // when none waits (the office's 转办 or 不同意退回 clears it).
    statements: [
      'ALTER TABLE period_state ADD COLUMN hand_back_by TEXT',
      'ALTER TABLE period_state ADD COLUMN hand_back_at BIGINT',
    ],
  },
];

/** The schema versions this code knows, in order. */
export const MIGRATION_VERSIONS = MIGRATIONS.map((m) => m.version);

/** The migrations applied, in order; an empty list when the ledger has no tables yet. */
export async function appliedMigrations(db: SqlDb): Promise<number[]> {
  const exists =
    db.dialect === 'postgres'
      ? await db.all<{ t: string | null }>("SELECT to_regclass('ledger_migrations')::text AS t")
      : await db.all<{ t: string | null }>(
          "SELECT name AS t FROM sqlite_master WHERE type = 'table' AND name = 'ledger_migrations'",
        );
  if (!exists[0]?.t) return [];
  const rows = await db.all<{ version: number }>('SELECT version FROM ledger_migrations ORDER BY version');
  return rows.map((r) => Number(r.version));
}

/** The migrations this code knows and the ledger lacks. */
export async function pendingMigrations(db: SqlDb): Promise<number[]> {
  const applied = new Set(await appliedMigrations(db));
  return MIGRATION_VERSIONS.filter((v) => !applied.has(v));
}

/** Applies the migrations not applied yet; safe to run from several workers at once. */
export async function migrate(db: SqlDb): Promise<void> {
  await db.transaction(async (tx) => {
    // Two workers creating the table at once would collide in PostgreSQL's catalog: one at a time.
    if (tx.dialect === 'postgres') await tx.exec('SELECT pg_advisory_xact_lock(2718281828)');
    await tx.exec(
      'CREATE TABLE IF NOT EXISTS ledger_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)',
    );
  });
  for (const m of MIGRATIONS) {
    await db.transaction(async (tx) => {
      if (tx.dialect === 'postgres') await tx.exec('LOCK TABLE ledger_migrations IN EXCLUSIVE MODE');
      const done = await tx.all<{ version: number }>('SELECT version FROM ledger_migrations WHERE version = ?', [
        m.version,
      ]);
      if (done.length > 0) return;
      for (const statement of m.statements) await tx.exec(statement);
      await tx.run('INSERT INTO ledger_migrations (version, applied_at) VALUES (?, ?)', [m.version, Date.now()]);
    });
  }
}
