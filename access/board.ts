/**
 * The board (亮灯) from the ledger, for `duban status` and the web service alike: every open period (overdue ones
 * beside the current, DOMAIN.md 19), the periods done or waived this year, and broken trackers.
 *
 * "This year" and "today" are the tracker's, in the zone its obligation has in the catalog as registered, never
 * the reader's machine or a zone written here.
 */
import type { Ledger, PeriodStateRow, TrackerState } from '../ledger';
import { DEFAULT_TIME_ZONE } from '../domain/model';
import { timeZoneOf } from '../domain/trackers';
import { localYear } from '../domain/zone';
import { latestSnapshot } from './registered';

/** One row of the board: an open period of a tracker, or a tracker that cannot plan ('broken'). */
export interface BoardItem {
  trackerId: string;
  obligation: string;
  unit: string;
  period: string;
  colour: string;
  /** The due date, local to the tracker's zone. */
  due: string;
  dueAt: number;
  /** The tracker's time zone. */
  zone: string;
  /** Whether the unit acknowledged the period (签收); undefined for a broken tracker. */
  acknowledged?: boolean;
  /** Verification of the work (domain/words.ts stateWords reads it with the colour); undefined when broken. */
  verification?: string;
  problem?: string;
  /** 协办: the period's cooperating units, with who acknowledged for each (absent when the tracker has none). */
  cooperators?: { unit: string; acknowledgedBy?: string; acknowledgedAt?: number }[];
  /** 提级督办: the office the period was raised to (absent until raised). */
  raisedTo?: string;
  /** 退回: who handed the period back, while the supervising office has not answered (absent otherwise). */
  handBackBy?: string;
}

/** A tracker that cannot plan, as a board row. */
function brokenItem(t: TrackerState, zone: string): BoardItem {
  const { trackerId, obligation, unit, period, due, dueAt, problem } = t;
  return { trackerId, obligation, unit, period, colour: 'broken', due, dueAt, zone, problem };
}

/** A period's row of the ledger as a board row; 协办, 提级督办 and 退回 only where the period has them. */
function periodItem(p: PeriodStateRow, zone: string): BoardItem {
  return {
    trackerId: p.trackerId,
    obligation: p.obligation,
    unit: p.unit,
    period: p.period,
    colour: p.colour,
    due: p.due,
    dueAt: p.dueAt,
    zone,
    acknowledged: p.acknowledgedAt !== undefined,
    verification: p.verification,
    ...(p.cooperators ? { cooperators: p.cooperators } : {}),
    ...(p.raisedTo ? { raisedTo: p.raisedTo } : {}),
    ...(p.handBackBy ? { handBackBy: p.handBackBy } : {}),
  };
}

/**
 * The zone of each obligation, from the catalog as registered. A ledger with no registration recorded (written by
 * an earlier version, or by tests) has only the catalog's default.
 */
export async function registeredZones(
  ledger: Ledger,
): Promise<{ zoneOf: (obligation: string) => string; zones: string[] }> {
  const catalog = (await latestSnapshot(ledger))?.catalog;
  if (!catalog) return { zoneOf: () => DEFAULT_TIME_ZONE, zones: [DEFAULT_TIME_ZONE] };
  const zones = [...new Set([catalog.timeZone, ...catalog.obligations.map((o) => o.timeZone ?? catalog.timeZone)])];
  return { zoneOf: (obligation) => timeZoneOf(catalog, obligation), zones };
}

export async function boardStates(
  ledger: Ledger,
  filter: { unit?: string; obligation?: string; colour?: string } = {},
  now = Date.now(),
): Promise<BoardItem[]> {
  const { zoneOf, zones } = await registeredZones(ledger);
  const yearStart = (zone: string) => `${localYear(now, zone)}-01-01`;
  // One query from the earliest new year among the zones; each settled row is then held to its own zone's year.
  const settledFrom = zones.map(yearStart).sort()[0]!;
  const [periods, broken] = await Promise.all([
    filter.colour === 'broken'
      ? []
      : ledger.periodStates({
          open: true,
          settledFrom,
          unit: filter.unit,
          obligation: filter.obligation,
          colour: filter.colour,
        }),
    filter.colour && filter.colour !== 'broken'
      ? []
      : ledger.trackerStates({ unit: filter.unit, obligation: filter.obligation, colour: 'broken' }),
  ]);
  return [
    ...broken.map((t) => brokenItem(t, zoneOf(t.obligation))),
    ...periods
      .filter((p) => p.open || p.due >= yearStart(zoneOf(p.obligation)))
      .map((p) => periodItem(p, zoneOf(p.obligation))),
  ];
}

// ---- The board of a scope (issue 24): what the web board shows of thousands of units -------------------------

export type ColourCounts = { red: number; yellow: number; green: number; done: number; waived: number };
export const emptyCounts = (): ColourCounts => ({ red: 0, yellow: 0, green: 0, done: 0, waived: 0 });

/** A board counted and cut in the ledger: the counts of every unit in scope and the most urgent rows. */
export interface BoardView {
  /** Board rows of each unit by colour (broken trackers are items, not counted here). */
  counts: Map<string, ColourCounts>;
  /** Broken trackers first, then the most urgent periods: at most `limit`. */
  items: BoardItem[];
  /** Every row in scope, broken trackers included. */
  total: number;
}

/**
 * The board of some units (or all, `units` undefined) as one count and one ordered, limited read in SQL: what a
 * region office's board costs no longer grows with the rows it does not show (docs/performance.md, "Levels").
 * The rows are boardStates' rows: open periods, the periods done or waived this year in their obligation's zone,
 * broken trackers.
 */
export async function boardView(
  ledger: Ledger,
  filter: { units?: readonly string[]; unit?: string; obligation?: string; colour?: string },
  limit: number,
  now = Date.now(),
): Promise<BoardView> {
  const snapshot = await latestSnapshot(ledger);
  const catalog = snapshot?.catalog;
  const zoneOf = (obligation: string) => (catalog ? timeZoneOf(catalog, obligation) : DEFAULT_TIME_ZONE);
  const yearStart = (zone: string) => `${localYear(now, zone)}-01-01`;
  const settledFrom = yearStart(catalog?.timeZone ?? DEFAULT_TIME_ZONE);
  const byObligation: Record<string, string> = {};
  for (const o of catalog?.obligations ?? []) {
    const from = yearStart(zoneOf(o.id));
    if (from !== settledFrom) byObligation[o.id] = from;
  }
  const scope = {
    units: filter.units,
    unit: filter.unit,
    obligation: filter.obligation,
    colour: filter.colour,
    settledFrom,
    settledFromByObligation: byObligation,
  };
  const inScope = filter.units && new Set(filter.units);
  const periodsWanted = filter.colour !== 'broken';
  const [counts, top, broken] = await Promise.all([
    periodsWanted ? ledger.boardCounts(scope) : [],
    periodsWanted ? ledger.boardTop(scope, limit) : [],
    filter.colour && filter.colour !== 'broken'
      ? []
      : ledger
          .trackerStates({ unit: filter.unit, obligation: filter.obligation, colour: 'broken' })
          .then((rows) => rows.filter((t) => !inScope || inScope.has(t.unit))),
  ]);
  const byUnit = new Map<string, ColourCounts>();
  let total = broken.length;
  for (const c of counts) {
    const row = byUnit.get(c.unit) ?? emptyCounts();
    if (c.colour in row) row[c.colour as keyof ColourCounts] += c.n;
    byUnit.set(c.unit, row);
    total += c.n;
  }
  const items: BoardItem[] = [
    ...broken.map((t) => brokenItem(t, zoneOf(t.obligation))),
    ...top.map((p) => periodItem(p, zoneOf(p.obligation))),
  ].slice(0, limit);
  return { counts: byUnit, items, total };
}
