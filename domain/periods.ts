/**
 * Calendar-aligned periods (期次, DOMAIN.md 2): 2027, 2027-H1, 2027-Q2, 2027-05, or once.
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
}

const MONTHS_PER: Record<Exclude<PeriodKind, 'once'>, number> = { year: 12, 'half-year': 6, quarter: 3, month: 1 };

export const ONCE: Period = { kind: 'once', label: 'once', start: Number.NEGATIVE_INFINITY, end: Number.POSITIVE_INFINITY };

function fromMonthIndex(kind: Exclude<PeriodKind, 'once'>, index: number): Period {
  const span = MONTHS_PER[kind];
  const first = Math.floor(index / span) * span;
  const year = Math.floor(first / 12);
  const month = (first % 12) + 1;
  const lastMonth = month + span - 1;
  const n = (month - 1) / span + 1;
  const label =
    kind === 'year' ? `${year}` : kind === 'half-year' ? `${year}-H${n}` : kind === 'quarter' ? `${year}-Q${n}` : `${year}-${String(month).padStart(2, '0')}`;
  return { kind, label, start: dayNumber(year, month, 1), end: lastDayOfMonth(year, lastMonth) };
}

export function periodContaining(kind: PeriodKind, day: DayNumber): Period {
  if (kind === 'once') return ONCE;
  const c = civil(day);
  return fromMonthIndex(kind, c.year * 12 + c.month - 1);
}

export function nextPeriod(p: Period): Period | undefined {
  if (p.kind === 'once') return undefined;
  return periodContaining(p.kind, p.end + 1);
}

export function previousPeriod(p: Period): Period | undefined {
  if (p.kind === 'once') return undefined;
  return periodContaining(p.kind, p.start - 1);
}

const LABELS: Record<PeriodKind, RegExp> = {
  year: /^(\d{4})$/,
  'half-year': /^(\d{4})-H([12])$/,
  quarter: /^(\d{4})-Q([1-4])$/,
  month: /^(\d{4})-(0[1-9]|1[0-2])$/,
  once: /^once$/,
};

/** Parses a period label of the given kind; undefined when it is not one. */
export function parsePeriod(kind: PeriodKind, label: string): Period | undefined {
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
      return `${c.year}年度`;
    case 'half-year':
      return `${c.year}年${c.month === 1 ? '上' : '下'}半年`;
    case 'quarter':
      return `${c.year}年第${'一二三四'[(c.month - 1) / 3]}季度`;
    case 'month':
      return `${c.year}年${c.month}月`;
  }
}
