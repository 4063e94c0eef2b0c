/**
 * The board: where every tracker and open period stands now, one row each (tracker_state, period_state), kept
 * current by the trackers at every step so that `duban status` and the web board are one query on thousands of
 * trackers. Unlike the record, these rows are overwritten, but never by an older step than the one that wrote
 * them (`updated_at`). The operator alerts that `duban status` prints above the board live here too.
 */
import type { BoardPeriod, BoardTracker } from '../domain/tracker-state';
import type { Outcome } from '../domain/tracking';
import { appliedMigrations } from './migrations';
import type { OutcomeRecord } from './records';
import type { PeriodColumns, PeriodRef, TrackerRef } from './refs';
import { Param, SqlDb, equalities, unitsClause } from './sql';

export interface TrackerState extends PeriodRef {
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

interface TrackerStateRow extends PeriodColumns {
  colour: string;
  due: string;
  due_at: number;
  active: number;
  paused: number;
  problem: string | null;
  open_periods: number;
  updated_at: number;
}

export interface BoardFilter {
  unit?: string;
  obligation?: string;
  colour?: string;
  trackerId?: string;
}

const BOARD_COLUMNS = { unit: 'unit', obligation: 'obligation', colour: 'colour', trackerId: 'tracker_id' } as const;

export async function upsertTrackerState(db: SqlDb, t: TrackerState): Promise<void> {
  await db.run(
    `INSERT INTO tracker_state (tracker_id, obligation, unit, period, colour, due, due_at, active, paused, problem, open_periods, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (tracker_id) DO UPDATE SET obligation = excluded.obligation, unit = excluded.unit, period = excluded.period,
       colour = excluded.colour, due = excluded.due, due_at = excluded.due_at, active = excluded.active, paused = excluded.paused,
       problem = excluded.problem, open_periods = excluded.open_periods, updated_at = excluded.updated_at
     WHERE tracker_state.updated_at <= excluded.updated_at`,
    [
      t.trackerId,
      t.obligation,
      t.unit,
      t.period,
      t.colour,
      t.due,
      t.dueAt,
      t.active ? 1 : 0,
      t.paused ? 1 : 0,
      t.problem ?? null,
      t.openPeriods ?? 1,
      t.updatedAt,
    ],
  );
}

async function upsertPeriodState(db: SqlDb, p: PeriodStateRow): Promise<void> {
  await db.run(
    `INSERT INTO period_state (tracker_id, period, obligation, unit, colour, due, due_at, original_due, ends_at, acknowledged_by, acknowledged_at,
       progress_count, last_progress_at, submitted, verification, open, outcome, updated_at, cooperators, raised_to, raised_at,
       hand_back_by, hand_back_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (tracker_id, period) DO UPDATE SET colour = excluded.colour, due = excluded.due, due_at = excluded.due_at,
       original_due = excluded.original_due, ends_at = excluded.ends_at, acknowledged_by = excluded.acknowledged_by,
       acknowledged_at = excluded.acknowledged_at, progress_count = excluded.progress_count, last_progress_at = excluded.last_progress_at,
       submitted = excluded.submitted, verification = excluded.verification, open = excluded.open, outcome = excluded.outcome,
       updated_at = excluded.updated_at, cooperators = excluded.cooperators, raised_to = excluded.raised_to,
       raised_at = excluded.raised_at, hand_back_by = excluded.hand_back_by, hand_back_at = excluded.hand_back_at
     WHERE period_state.updated_at <= excluded.updated_at`,
    [
      p.trackerId,
      p.period,
      p.obligation,
      p.unit,
      p.colour,
      p.due,
      p.dueAt,
      p.originalDue,
      p.endsAt,
      p.acknowledgedBy ?? null,
      p.acknowledgedAt ?? null,
      p.progressCount,
      p.lastProgressAt ?? null,
      p.submitted ? 1 : 0,
      p.verification,
      p.open ? 1 : 0,
      p.outcome ?? null,
      p.updatedAt,
      p.cooperators ? JSON.stringify(p.cooperators) : null,
      p.raisedTo ?? null,
      p.raisedAt ?? null,
      p.handBackBy ?? null,
      p.handBackAt ?? null,
    ],
  );
}

/**
 * A tracker's board rows at one step (workflow time `at`), inside the step's transaction: its own row, its open
 * periods, and the periods no longer listed taken off the board (a retired tracker's periods leave it; their
 * record stays).
 */
export async function writeBoard(
  tx: SqlDb,
  ref: TrackerRef,
  at: number,
  board: { tracker: BoardTracker; periods: BoardPeriod[] },
): Promise<void> {
  const b = board.tracker;
  await upsertTrackerState(tx, {
    ...ref,
    period: b.period,
    colour: b.colour,
    due: b.due,
    dueAt: b.dueAt,
    active: b.active,
    paused: b.paused,
    problem: b.problem,
    openPeriods: b.openPeriods,
    updatedAt: at,
  });
  for (const p of board.periods) await upsertPeriodState(tx, { ...ref, ...p, open: true, updatedAt: at });
  const listed = board.periods.map((p) => p.period);
  await tx.run(
    `UPDATE period_state SET open = 0, updated_at = ? WHERE tracker_id = ? AND open = 1 AND updated_at <= ?${listed.length ? ` AND period NOT IN (${listed.map(() => '?').join(', ')})` : ''}`,
    [at, ref.trackerId, at, ...listed],
  );
}

/** Settled periods leave the board's open rows with their outcome, and the colour it shows them in. */
export async function settlePeriods(tx: SqlDb, at: number, settled: OutcomeRecord[]): Promise<void> {
  for (const o of settled) {
    const colour = o.outcome === 'waived' ? 'waived' : o.outcome === 'missed' ? 'red' : 'done';
    await tx.run(
      'UPDATE period_state SET open = 0, outcome = ?, colour = ?, updated_at = ? WHERE tracker_id = ? AND period = ? AND updated_at <= ?',
      [o.outcome, colour, at, o.trackerId, o.period, at],
    );
  }
}

export async function endedTrackerIds(db: SqlDb): Promise<Set<string>> {
  const rows = await db.all<{ tracker_id: string }>('SELECT tracker_id FROM tracker_state WHERE active = 0');
  return new Set(rows.map((r) => r.tracker_id));
}

export async function trackerStates(db: SqlDb, filter: BoardFilter): Promise<TrackerState[]> {
  const clauses = ['active = 1'];
  const params: Param[] = [];
  equalities(filter, BOARD_COLUMNS, clauses, params);
  const rows = await db.all<TrackerStateRow>(`SELECT * FROM tracker_state WHERE ${clauses.join(' AND ')}`, params);
  return rows.map(toTrackerState);
}

/** One tracker's row, ended or not (a tracker page shows retired trackers too). */
export async function trackerState(db: SqlDb, trackerId: string): Promise<TrackerState | undefined> {
  const [r] = await db.all<TrackerStateRow>('SELECT * FROM tracker_state WHERE tracker_id = ?', [trackerId]);
  return r && toTrackerState(r);
}

function toTrackerState(r: TrackerStateRow): TrackerState {
  return {
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
  };
}

export async function periodStates(
  db: SqlDb,
  filter: BoardFilter & { open?: boolean; settledFrom?: string },
): Promise<PeriodStateRow[]> {
  const clauses: string[] = [];
  const params: Param[] = [];
  if (filter.open !== undefined && filter.settledFrom !== undefined) {
    clauses.push("(open = ? OR (open = 0 AND outcome IS NOT NULL AND outcome <> 'missed' AND due >= ?))");
    params.push(filter.open ? 1 : 0, filter.settledFrom);
  } else if (filter.open !== undefined) {
    clauses.push('open = ?');
    params.push(filter.open ? 1 : 0);
  }
  equalities(filter, BOARD_COLUMNS, clauses, params);
  const where = clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
  const rows = await db.all<Record<string, string | number | null>>(
    `SELECT * FROM period_state ${where} ORDER BY tracker_id, period`,
    params,
  );
  return rows.map(toPeriodStateRow);
}

const num = (v: string | number | null | undefined) => (v === null || v === undefined ? undefined : Number(v));

function toPeriodStateRow(r: Record<string, string | number | null>): PeriodStateRow {
  return {
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
    // 协办 and 提级督办 (migration 30).
    ...(typeof r.cooperators === 'string'
      ? { cooperators: JSON.parse(r.cooperators) as PeriodStateRow['cooperators'] }
      : {}),
    ...(r.raised_to ? { raisedTo: String(r.raised_to), raisedAt: num(r.raised_at) } : {}),
    // 退回 waiting (migration 31).
    ...(r.hand_back_by ? { handBackBy: String(r.hand_back_by), handBackAt: num(r.hand_back_at) } : {}),
  };
}

export async function colourCounts(db: SqlDb): Promise<Record<string, number>> {
  const rows = await db.all<{ colour: string; n: number }>(
    'SELECT colour, COUNT(*) AS n FROM period_state WHERE open = 1 GROUP BY colour',
  );
  const broken = await db.all<{ n: number }>(
    "SELECT COUNT(*) AS n FROM tracker_state WHERE active = 1 AND colour = 'broken'",
  );
  const out: Record<string, number> = {
    green: 0,
    yellow: 0,
    red: 0,
    done: 0,
    waived: 0,
    broken: Number(broken[0]?.n ?? 0),
  };
  for (const r of rows) out[r.colour] = Number(r.n);
  return out;
}

export interface OperatorAlert {
  kind: string;
  message: string;
  since: number;
  updatedAt: number;
}

/**
 * Raises (or refreshes) the alert of a kind: true when this call opened it (it was absent or cleared), so that of
 * several workers seeing the same failure one tells the operator channel (worker/operator-alert.ts).
 */
export async function raiseAlert(
  db: SqlDb,
  kind: string,
  message: string,
  since: number,
  now: number,
): Promise<boolean> {
  const refreshed = await db.run(
    'UPDATE operator_alerts SET message = ?, updated_at = ? WHERE kind = ? AND cleared_at IS NULL',
    [message, now, kind],
  );
  if (refreshed > 0) return false;
  const opened = await db.run(
    'INSERT INTO operator_alerts (kind, message, since, updated_at, cleared_at) VALUES (?, ?, ?, ?, NULL) ' +
      'ON CONFLICT (kind) DO UPDATE SET message = excluded.message, updated_at = excluded.updated_at, cleared_at = NULL, ' +
      'since = excluded.since WHERE operator_alerts.cleared_at IS NOT NULL',
    [kind, message, since, now],
  );
  return opened > 0;
}

/** Clears the open alert of a kind: true when this call cleared it. */
export async function clearAlert(db: SqlDb, kind: string, now: number): Promise<boolean> {
  return (
    (await db.run('UPDATE operator_alerts SET cleared_at = ? WHERE kind = ? AND cleared_at IS NULL', [now, kind])) > 0
  );
}

/** Open alerts, oldest first. A ledger older than migration 8 has none. */
export async function openAlerts(db: SqlDb): Promise<OperatorAlert[]> {
  if (!(await appliedMigrations(db)).includes(8)) return [];
  const rows = await db.all<{ kind: string; message: string; since: number; updated_at: number }>(
    'SELECT * FROM operator_alerts WHERE cleared_at IS NULL ORDER BY since',
  );
  return rows.map((r) => ({
    kind: r.kind,
    message: r.message,
    since: Number(r.since),
    updatedAt: Number(r.updated_at),
  }));
}

// ---- The board of a scope (issue 24): counts and the most urgent rows computed in SQL --------------------------

/**
 * The rows of a board: every open period, and the periods done or waived from the start of the year (in the zone of
 * each obligation: `settledFrom` is the first due date shown, `settledFromByObligation` where an obligation's zone is
 * already in another year), of some units or of all.
 */
export interface BoardScope {
  /** Only these units; undefined, every unit. */
  units?: readonly string[];
  unit?: string;
  obligation?: string;
  colour?: string;
  settledFrom: string;
  settledFromByObligation?: Readonly<Record<string, string>>;
}

function scopeWhere(scope: BoardScope): { where: string; params: Param[] } {
  const params: Param[] = [];
  const byObligation = Object.entries(scope.settledFromByObligation ?? {});
  let from = '?';
  if (byObligation.length) {
    from = `CASE obligation ${byObligation.map(() => 'WHEN ? THEN ?').join(' ')} ELSE ? END`;
    for (const [o, d] of byObligation) params.push(o, d);
  }
  params.push(scope.settledFrom);
  const clauses = [`(open = 1 OR (open = 0 AND outcome IS NOT NULL AND outcome <> 'missed' AND due >= ${from}))`];
  equalities(scope, { unit: 'unit', obligation: 'obligation', colour: 'colour' }, clauses, params);
  unitsClause(scope.units, clauses, params);
  return { where: clauses.join(' AND '), params };
}

/** The number of board rows of each unit and colour. */
export async function boardCounts(
  db: SqlDb,
  scope: BoardScope,
): Promise<{ unit: string; colour: string; n: number }[]> {
  const { where, params } = scopeWhere(scope);
  const rows = await db.all<{ unit: string; colour: string; n: number | string }>(
    `SELECT unit, colour, COUNT(*) AS n FROM period_state WHERE ${where} GROUP BY unit, colour`,
    params,
  );
  return rows.map((r) => ({ unit: String(r.unit), colour: String(r.colour), n: Number(r.n) }));
}

/** The board's colours from the most urgent down. */
const BOARD_ORDER = ['red', 'yellow', 'green', 'done', 'waived'];

/**
 * The board's most urgent rows: red, yellow, green, done, waived, each by due instant; at most `limit`. One query a
 * colour, in the order of the (colour, due_at) index, until `limit` rows are found: a region's red rows alone
 * usually fill the board, and the green, done and waived rows beneath are never read.
 */
export async function boardTop(db: SqlDb, scope: BoardScope, limit: number): Promise<PeriodStateRow[]> {
  const out: PeriodStateRow[] = [];
  for (const colour of scope.colour ? [scope.colour] : BOARD_ORDER) {
    if (out.length >= limit) break;
    const { where, params } = scopeWhere({ ...scope, colour });
    const rows = await db.all<Record<string, string | number | null>>(
      `SELECT * FROM period_state WHERE ${where} ORDER BY due_at, tracker_id, period LIMIT ?`,
      [...params, limit - out.length],
    );
    out.push(...rows.map(toPeriodStateRow));
  }
  return out;
}

/**
 * The open periods originally due in `year` that are past due at `now` and not done or waived: the report's
 * 逾期未完成, read without the rest of the board.
 */
export async function overduePeriods(
  db: SqlDb,
  year: number,
  now: number,
  units?: readonly string[],
): Promise<{ obligation: string; unit: string; period: string; originalDue: string; dueAt: number; colour: string }[]> {
  const clauses = [
    'open = 1',
    'due_at < ?',
    'original_due >= ?',
    'original_due < ?',
    "colour NOT IN ('done', 'waived')",
  ];
  const params: Param[] = [now, `${year}-01-01`, `${year + 1}-01-01`];
  unitsClause(units, clauses, params);
  const rows = await db.all<Record<string, string | number>>(
    `SELECT obligation, unit, period, original_due, due_at, colour FROM period_state WHERE ${clauses.join(' AND ')}
     ORDER BY unit, obligation, period`,
    params,
  );
  return rows.map((r) => ({
    obligation: String(r.obligation),
    unit: String(r.unit),
    period: String(r.period),
    originalDue: String(r.original_due),
    dueAt: Number(r.due_at),
    colour: String(r.colour),
  }));
}
