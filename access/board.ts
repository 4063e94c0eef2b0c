/**
 * The board (亮灯) from the ledger, for `duban status` and the web service alike: every open period (overdue ones
 * beside the current, DOMAIN.md 19), the periods done or waived this year, and broken trackers.
 *
 * "This year" and "today" are the tracker's, in the zone its obligation has in the catalog as registered, never
 * the reader's machine or a zone written here.
 */
import type { Ledger } from '../ledger';
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
    ...broken.map((t) => ({
      trackerId: t.trackerId,
      obligation: t.obligation,
      unit: t.unit,
      period: t.period,
      colour: 'broken',
      due: t.due,
      dueAt: t.dueAt,
      zone: zoneOf(t.obligation),
      problem: t.problem,
    })),
    ...periods
      .filter((p) => p.open || p.due >= yearStart(zoneOf(p.obligation)))
      .map((p) => ({
        trackerId: p.trackerId,
        obligation: p.obligation,
        unit: p.unit,
        period: p.period,
        colour: p.colour,
        due: p.due,
        dueAt: p.dueAt,
        zone: zoneOf(p.obligation),
        acknowledged: p.acknowledgedAt !== undefined,
        verification: p.verification,
        ...(p.cooperators ? { cooperators: p.cooperators } : {}),
        ...(p.raisedTo ? { raisedTo: p.raisedTo } : {}),
      })),
  ];
}
