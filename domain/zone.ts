/**
 * Local wall time <-> absolute instants, always with an explicit IANA zone.
 *
 * Zone-less Date and Intl calls would read the host's TZ (and inside a Temporal workflow that would make replay
 * depend on the worker's machine), so every conversion here names its zone.
 */
import { DayNumber, dayNumber } from './dates';

const MS_PER_MINUTE = 60_000;
const MS_PER_DAY = 86_400_000;
const formatters = new Map<string, Intl.DateTimeFormat>();
/** Per zone: offset in minutes keyed by day * 24 + hour. Numeric keys keep the planner's hot path cheap. */
const offsetCache = new Map<string, Map<number, number>>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** True when the runtime knows the zone, e.g. Asia/Shanghai. */
export function isKnownZone(zone: string): boolean {
  try {
    formatter(zone);
    return true;
  } catch {
    return false;
  }
}

interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** Asking Intl for the wall clock costs tens of microseconds; a notice asks several times. */
const QUARTER_HOUR = 900_000;
/** Per zone: the offset in ms from UTC, by quarter hour (every zone's offsets, and changes, fall on quarter hours). */
const wallOffsets = new Map<string, Map<number, number>>();
const WALL_OFFSETS_KEPT = 100_000;

/** The wall clock in `zone` at an instant: the zone's offset for its quarter hour (asked once), then plain UTC fields. */
function wallTime(instant: number, zone: string): WallTime {
  let offsets = wallOffsets.get(zone);
  if (!offsets) {
    offsets = new Map();
    wallOffsets.set(zone, offsets);
  }
  const quarter = Math.floor(instant / QUARTER_HOUR);
  let offset = offsets.get(quarter);
  if (offset === undefined) {
    offset = offsetMinutes(quarter * QUARTER_HOUR, zone) * MS_PER_MINUTE;
    if (offsets.size >= WALL_OFFSETS_KEPT) offsets.clear();
    offsets.set(quarter, offset);
  }
  const d = new Date(instant + offset);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
  };
}

/** The wall clock as Intl tells it: the reference the cached offsets come from. */
function intlWallTime(instant: number, zone: string): WallTime {
  const parts = formatter(zone).formatToParts(new Date(instant));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return {
    year: get('year'),
    month: get('month'),
    day: get('day'),
    hour: get('hour'),
    minute: get('minute'),
    second: get('second'),
  };
}

/** The zone's offset from UTC in minutes at an instant (Asia/Shanghai: +480). */
export function offsetMinutes(instant: number, zone: string): number {
  const w = intlWallTime(instant, zone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return Math.round((asUtc - Math.floor(instant / 1000) * 1000) / MS_PER_MINUTE);
}

/**
 * The instant at which the wall clock in `zone` shows `day` at hh:mm:ss. Offsets are cached per zone and day,
 * which is what makes planning a year for ten thousand trackers cheap.
 */
export function zonedInstant(day: DayNumber, zone: string, hour: number, minute = 0, second = 0): number {
  let offsets = offsetCache.get(zone);
  if (!offsets) {
    offsets = new Map();
    offsetCache.set(zone, offsets);
  }
  const key = day * 24 + hour;
  let offset = offsets.get(key);
  if (offset === undefined) {
    const guess = day * MS_PER_DAY + hour * 3_600_000;
    offset = offsetMinutes(guess - offsetMinutes(guess, zone) * MS_PER_MINUTE, zone);
    offsets.set(key, offset);
  }
  return day * MS_PER_DAY + hour * 3_600_000 + minute * MS_PER_MINUTE + second * 1000 - offset * MS_PER_MINUTE;
}

/** The local calendar day of an instant in `zone`. */
export function localDay(instant: number, zone: string): DayNumber {
  const w = wallTime(instant, zone);
  return dayNumber(w.year, w.month, w.day);
}

/** The year of an instant's local day in `zone` (the board's "this year"). */
export function localYear(instant: number, zone: string): number {
  return wallTime(instant, zone).year;
}

const pad2 = (n: number) => (n < 10 ? `0${n}` : String(n));

/** "YYYY-MM-DD HH:mm" on the wall clock of `zone`. */
export function formatLocal(instant: number, zone: string): string {
  const w = wallTime(instant, zone);
  return `${w.year}-${pad2(w.month)}-${pad2(w.day)} ${pad2(w.hour)}:${pad2(w.minute)}`;
}
