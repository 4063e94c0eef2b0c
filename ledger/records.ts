/**
 * The record: what happened to each tracker (events: requests accepted, periods opened, pauses, definitions
 * updated) and how each period ended (outcomes), kept for ever and only ever added to; and the directory and
 * catalog as registered. Keys chosen by the workflow make every write idempotent.
 */
import { createHash } from 'node:crypto';
import type { EventKind } from '../domain/period-state';
import type { Outcome } from '../domain/tracking';
import type { PeriodColumns, PeriodRef } from './refs';
import { Param, SqlDb, equalities, unitsClause } from './sql';

export type { EventKind };

export interface LedgerEvent extends PeriodRef {
  /** Unique per event, chosen by the workflow: tracker, run and a sequence number. */
  eventKey: string;
  kind: EventKind;
  at: number;
  actor?: string;
  data?: Record<string, unknown>;
}

export interface EventRow extends PeriodColumns {
  event_key: string;
  kind: EventKind;
  at: number;
  actor: string | null;
  data: string | null;
  recorded_at: number;
}

export interface OutcomeRecord extends PeriodRef {
  outcome: Outcome;
  originalDue: string;
  due: string;
  completedAt?: number;
  settledAt: number;
}

export interface OutcomeRow extends PeriodColumns {
  outcome: Outcome;
  original_due: string;
  due: string;
  due_year: number;
  completed_at: number | null;
  settled_at: number;
}

export async function insertEvents(db: SqlDb, events: LedgerEvent[]): Promise<void> {
  for (const e of events) {
    await db.run(
      `INSERT INTO events (event_key, tracker_id, obligation, unit, period, kind, at, actor, data, recorded_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_key) DO NOTHING`,
      [
        e.eventKey,
        e.trackerId,
        e.obligation,
        e.unit,
        e.period,
        e.kind,
        e.at,
        e.actor ?? null,
        e.data ? JSON.stringify(e.data) : null,
        Date.now(),
      ],
    );
  }
}

/** The first outcome recorded for a period stands; a replay writing it again changes nothing. */
export async function insertOutcome(db: SqlDb, o: OutcomeRecord): Promise<void> {
  await db.run(
    `INSERT INTO outcomes (tracker_id, obligation, unit, period, outcome, original_due, due, due_year, completed_at, settled_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tracker_id, period) DO NOTHING`,
    [
      o.trackerId,
      o.obligation,
      o.unit,
      o.period,
      o.outcome,
      o.originalDue,
      o.due,
      Number(o.originalDue.slice(0, 4)),
      o.completedAt ?? null,
      o.settledAt,
    ],
  );
}

export async function events(db: SqlDb, filter: { trackerId?: string }): Promise<EventRow[]> {
  const where = filter.trackerId ? 'WHERE tracker_id = ?' : '';
  const params: Param[] = filter.trackerId ? [filter.trackerId] : [];
  const rows = await db.all<EventRow>(`SELECT * FROM events ${where} ORDER BY at, event_key`, params);
  return rows.map((r) => ({ ...r, at: Number(r.at), recorded_at: Number(r.recorded_at) }));
}

export async function outcomes(db: SqlDb, filter: { trackerId?: string; year?: number }): Promise<OutcomeRow[]> {
  const clauses: string[] = [];
  const params: Param[] = [];
  equalities(filter, { trackerId: 'tracker_id', year: 'due_year' }, clauses, params);
  const where = clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
  const rows = await db.all<OutcomeRow>(`SELECT * FROM outcomes ${where} ORDER BY tracker_id, period`, params);
  return rows.map((r) => ({
    ...r,
    due_year: Number(r.due_year),
    completed_at: r.completed_at === null ? null : Number(r.completed_at),
    settled_at: Number(r.settled_at),
  }));
}

/**
 * When each tracker opened its first period: the service's registration, for `duban plan` (periods due before it
 * were never opened). One row per tracker, from the events.
 */
export async function firstOpenings(db: SqlDb): Promise<Map<string, number>> {
  const rows = await db.all<{ tracker_id: string; at: number | string }>(
    "SELECT tracker_id, MIN(at) AS at FROM events WHERE kind = 'period_opened' GROUP BY tracker_id",
    [],
  );
  return new Map(rows.map((r) => [String(r.tracker_id), Number(r.at)]));
}

/** The same content registered again adds nothing (its key is the content's hash); only when and by whom move. */
export async function saveDirectorySnapshot(
  db: SqlDb,
  snapshot: { directory: unknown; catalog: unknown; by: string },
): Promise<void> {
  const directory = JSON.stringify(snapshot.directory);
  const catalog = JSON.stringify(snapshot.catalog);
  const key = createHash('sha256').update(directory).update('\n').update(catalog).digest('hex');
  await db.run(
    `INSERT INTO directory_snapshots (snapshot_key, taken_at, taken_by, directory, catalog) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (snapshot_key) DO UPDATE SET taken_at = excluded.taken_at, taken_by = excluded.taken_by`,
    [key, Date.now(), snapshot.by, directory, catalog],
  );
}

/** The key and time of the directory and catalog as last registered (a cheap read: the caller caches the rest). */
export async function latestSnapshotHead(db: SqlDb): Promise<{ key: string; takenAt: number } | undefined> {
  const [head] = await db.all<{ snapshot_key: string; taken_at: number }>(
    'SELECT snapshot_key, taken_at FROM directory_snapshots ORDER BY taken_at DESC, snapshot_key LIMIT 1',
  );
  return head && { key: head.snapshot_key, takenAt: Number(head.taken_at) };
}

/** The directory and catalog of one registration, as their JSON text. */
export async function directorySnapshot(
  db: SqlDb,
  key: string,
): Promise<{ directory: string; catalog: string } | undefined> {
  const [row] = await db.all<{ directory: string; catalog: string }>(
    'SELECT directory, catalog FROM directory_snapshots WHERE snapshot_key = ?',
    [key],
  );
  return row;
}

// ---- The year report at scale (issue 24): counted in SQL, not read row by row ---------------------------------

/**
 * The outcomes of periods due in `year` (of some units, or of all): how many of each per unit, and the late and
 * missed ones by name, each unit's in obligation and period order.
 */
export async function outcomeTallies(
  db: SqlDb,
  year: number,
  units?: readonly string[],
): Promise<{
  counts: { unit: string; outcome: string; n: number }[];
  items: { unit: string; obligation: string; period: string; outcome: string }[];
}> {
  const clauses = ['due_year = ?'];
  const params: Param[] = [year];
  unitsClause(units, clauses, params);
  const where = clauses.join(' AND ');
  const [counts, items] = await Promise.all([
    db.all<{ unit: string; outcome: string; n: number | string }>(
      `SELECT unit, outcome, COUNT(*) AS n FROM outcomes WHERE ${where} GROUP BY unit, outcome`,
      params,
    ),
    db.all<{ unit: string; obligation: string; period: string; outcome: string }>(
      `SELECT unit, obligation, period, outcome FROM outcomes WHERE ${where} AND outcome IN ('late', 'missed')
       ORDER BY unit, obligation, period`,
      params,
    ),
  ]);
  return { counts: counts.map((c) => ({ unit: c.unit, outcome: c.outcome, n: Number(c.n) })), items };
}
