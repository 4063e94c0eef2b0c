/**
 * Civil (calendar) dates as integer day numbers: days since 1970-01-01.
 *
 * Due dates and working days are calendar facts, not instants, so they are kept apart from time zones.
 * Integers make working-day arithmetic cheap and leave no room for a host time zone to leak in.
 */

export type DayNumber = number;

export interface CivilDate {
  year: number;
  month: number; // 1-12
  day: number; // 1-31
}

/** One civil day in milliseconds (UTC day numbers; zones are applied in domain/zone.ts). */
export const MS_PER_DAY = 86_400_000;

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

export function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

export function isValidDate(year: number, month: number, day: number): boolean {
  return (
    Number.isInteger(year) &&
    Number.isInteger(month) &&
    Number.isInteger(day) &&
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth(year, month)
  );
}

export function dayNumber(year: number, month: number, day: number): DayNumber {
  return Math.floor(Date.UTC(year, month - 1, day) / MS_PER_DAY);
}

export function civil(d: DayNumber): CivilDate {
  const date = new Date(d * MS_PER_DAY);
  return { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate() };
}

/** Monday = 1 ... Sunday = 7 (ISO), matching how Chinese notices name 周一 ... 周日. */
export function isoWeekday(d: DayNumber): number {
  // 1970-01-01 was a Thursday (4).
  return ((((d + 3) % 7) + 7) % 7) + 1;
}

export function isWeekend(d: DayNumber): boolean {
  return isoWeekday(d) >= 6;
}

const pad2 = (n: number) => (n < 10 ? `0${n}` : String(n));

export function formatDate(d: DayNumber): string {
  const c = civil(d);
  return `${c.year}-${pad2(c.month)}-${pad2(c.day)}`;
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Parses YYYY-MM-DD; returns undefined for anything else, including impossible dates such as 2027-02-30. */
export function parseDate(text: string): DayNumber | undefined {
  const m = ISO_DATE.exec(text);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return isValidDate(y, mo, d) ? dayNumber(y, mo, d) : undefined;
}

export function lastDayOfMonth(year: number, month: number): DayNumber {
  return dayNumber(year, month, daysInMonth(year, month));
}

/**
 * Adds calendar months to the corresponding day, clamping to month end when there is none
 * (31 January + 1 month = last day of February): DOMAIN.md 3, and 《民法典》第二百零二条's corresponding-day rule.
 */
export function addMonths(d: DayNumber, months: number): DayNumber {
  const c = civil(d);
  const index = c.year * 12 + (c.month - 1) + months;
  const year = Math.floor(index / 12);
  const month = (index % 12) + 1;
  return dayNumber(year, month, Math.min(c.day, daysInMonth(year, month)));
}
