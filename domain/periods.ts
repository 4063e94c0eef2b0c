/**
 * Calendar-aligned periods (期次, DOMAIN.md 2): 2027, 2027-H1, 2027-Q2, 2027-05, or once; and cycles of several
 * years (每隔两年: `period: year` with `every: 2, anchor: 2025`), labelled by their first and last year: 2025-2026.
 */
import { DayNumber, civil, dayNumber, lastDayOfMonth } from './dates';
import type { PeriodKind } from './model';

export interface Period {
  kind: PeriodKind;
  /** 2027, 2027-H1, 2027-Q2, 2027-05 or once. */
  label: string;
  /** First and last day of the period; a one-off period has neither. */
  start: DayNumber;
  end: DayNumber;
  /** Years in a multi-year cycle (every: 2 gives 2); absent for every other period. */
  years?: number;
}

/**
 * How an obligation's periods are cut: the period kind, and for `year` an optional cycle of `every` years counted
 * from `anchor` (a year the cycle starts in). Every function that takes a kind also takes a cadence.
 */
export interface Cadence {
  kind: PeriodKind;
  every?: number;
  anchor?: number;
}

/** The cadence of an obligation (or a tracker's obligation): its period kind and, for cycles, every/anchor. */
export function cadenceOf(o: { period: PeriodKind; every?: number; anchor?: number }): Cadence {
  return { kind: o.period, every: o.every, anchor: o.anchor };
}

function cycleYears(c: PeriodKind | Cadence): number {
  return typeof c === 'object' && c.kind === 'year' && c.every !== undefined && c.every > 1 ? c.every : 1;
}

/** The multi-year period of `years` years, counted from `anchor`, holding `year`. */
function yearCycle(years: number, anchor: number, year: number): Period {
  const first = anchor + Math.floor((year - anchor) / years) * years;
  const last = first + years - 1;
  return {
    kind: 'year',
    label: `${first}-${last}`,
    start: dayNumber(first, 1, 1),
    end: lastDayOfMonth(last, 12),
    years,
  };
}

const MONTHS_PER: Record<Exclude<PeriodKind, 'once'>, number> = { year: 12, 'half-year': 6, quarter: 3, month: 1 };

export const ONCE: Period = {
  kind: 'once',
  label: 'once',
  start: Number.NEGATIVE_INFINITY,
  end: Number.POSITIVE_INFINITY,
};

function fromMonthIndex(kind: Exclude<PeriodKind, 'once'>, index: number): Period {
  const span = MONTHS_PER[kind];
  const first = Math.floor(index / span) * span;
  const year = Math.floor(first / 12);
  const month = (first % 12) + 1;
  const lastMonth = month + span - 1;
  const n = (month - 1) / span + 1;
  const label =
    kind === 'year'
      ? `${year}`
      : kind === 'half-year'
        ? `${year}-H${n}`
        : kind === 'quarter'
          ? `${year}-Q${n}`
          : `${year}-${String(month).padStart(2, '0')}`;
  return { kind, label, start: dayNumber(year, month, 1), end: lastDayOfMonth(year, lastMonth) };
}

export function periodContaining(cadence: PeriodKind | Cadence, day: DayNumber): Period {
  const kind = typeof cadence === 'object' ? cadence.kind : cadence;
  if (kind === 'once') return ONCE;
  const c = civil(day);
  const years = cycleYears(cadence);
  if (years > 1) return yearCycle(years, (cadence as Cadence).anchor ?? 0, c.year);
  return fromMonthIndex(kind, c.year * 12 + c.month - 1);
}

/** The cadence a period belongs to, recovered from the period itself (a cycle's first year is an anchor). */
function cadenceOfPeriod(p: Period): PeriodKind | Cadence {
  return p.years !== undefined && p.years > 1 ? { kind: p.kind, every: p.years, anchor: civil(p.start).year } : p.kind;
}

export function nextPeriod(p: Period): Period | undefined {
  if (p.kind === 'once') return undefined;
  return periodContaining(cadenceOfPeriod(p), p.end + 1);
}

const LABELS: Record<PeriodKind, RegExp> = {
  year: /^(\d{4})$/,
  'half-year': /^(\d{4})-H([12])$/,
  quarter: /^(\d{4})-Q([1-4])$/,
  month: /^(\d{4})-(0[1-9]|1[0-2])$/,
  once: /^once$/,
};

const CYCLE_LABEL = /^(\d{4})-(\d{4})$/;

/**
 * Parses a period label of the given kind (or cadence); undefined when it is not one. A cycle's label (2025-2026)
 * is read for `year` even without the cadence, since it names its own years: notices and calendars can name it.
 * With a cadence, only the cycle's own labels are accepted (2026-2027 is not a period of a cycle anchored on 2025).
 */
export function parsePeriod(cadence: PeriodKind | Cadence, label: string): Period | undefined {
  const kind = typeof cadence === 'object' ? cadence.kind : cadence;
  const cycle = kind === 'year' ? CYCLE_LABEL.exec(label) : null;
  if (cycle) {
    const [first, last] = [Number(cycle[1]), Number(cycle[2])];
    const years = last - first + 1;
    if (years < 2) return undefined;
    const expected = cycleYears(cadence);
    if (typeof cadence === 'object' && expected !== years) return undefined;
    const p = yearCycle(years, typeof cadence === 'object' ? (cadence.anchor ?? first) : first, first);
    return p.label === label ? p : undefined;
  }
  if (cycleYears(cadence) > 1) return undefined;
  const m = LABELS[kind].exec(label);
  if (!m) return undefined;
  if (kind === 'once') return ONCE;
  const year = Number(m[1]);
  const n = m[2] === undefined ? 1 : Number(m[2]);
  const month = kind === 'year' ? 1 : kind === 'month' ? n : (n - 1) * MONTHS_PER[kind] + 1;
  return periodContaining(kind, dayNumber(year, month, 1));
}

/** Chinese wording of a period for notices: 2027年度, 2027年上半年, 2027年第二季度, 2027年5月. */
export function periodInChinese(p: Period): string {
  if (p.kind === 'once') return '一次性任务';
  const c = civil(p.start);
  switch (p.kind) {
    case 'year':
      return p.years !== undefined && p.years > 1 ? `${c.year}—${c.year + p.years - 1}年度` : `${c.year}年度`;
    case 'half-year':
      return `${c.year}年${c.month === 1 ? '上' : '下'}半年`;
    case 'quarter':
      return `${c.year}年第${'一二三四'[(c.month - 1) / 3]}季度`;
    case 'month':
      return `${c.year}年${c.month}月`;
  }
}
