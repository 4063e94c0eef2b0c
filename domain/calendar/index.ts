/**
 * The PRC working-day calendar (DOMAIN.md 6-8): weekends, statutory holidays and make-up working days.
 *
 * A year is `official` when a State Council notice (or an administrator's file) describes it, and `provisional`
 * when only the statutory holidays could be computed. Provisional years still keep 1 January, 1-2 May, 1-3 October
 * and the lunar holidays off, but have no 调休, so every answer that touches one says so.
 */
import { DayNumber, civil, dayNumber, formatDate, isWeekend, isLeapYear, parseDate } from '../dates';
import { HolidayArrangement, PUBLISHED_ARRANGEMENTS } from './arrangements';
import { statutoryHolidays } from './statutory';

export type { HolidayArrangement, HolidayRange } from './arrangements';
export { PUBLISHED_ARRANGEMENTS } from './arrangements';
export { statutoryHolidays } from './statutory';

export type YearStatus = 'official' | 'provisional';

interface YearTable {
  year: number;
  status: YearStatus;
  source: string;
  first: DayNumber;
  /** 1 = working day, 0 = day off, indexed by day of year. */
  working: Uint8Array;
  holidayNames: Map<DayNumber, string>;
  makeUpDays: Set<DayNumber>;
}

/** Working-day arithmetic never needs to look further than this; a gap this long means broken data. */
const MAX_SCAN_DAYS = 60;

export class WorkingCalendar {
  private readonly arrangements = new Map<number, HolidayArrangement>();
  private readonly tables = new Map<number, YearTable>();
  /** The table used last: almost every lookup falls in the same year as the one before. */
  private recent: YearTable | undefined;

  /**
   * @param overrides arrangements that add or replace years of the shipped data, e.g. from an administrator's file.
   */
  constructor(
    overrides: readonly HolidayArrangement[] = [],
    shipped: readonly HolidayArrangement[] = PUBLISHED_ARRANGEMENTS,
  ) {
    for (const n of shipped) this.arrangements.set(n.year, n);
    for (const n of overrides) this.arrangements.set(n.year, n);
  }

  yearStatus(year: number): YearStatus {
    return this.arrangements.has(year) ? 'official' : 'provisional';
  }

  /** Where a year's data comes from, for messages. */
  yearSource(year: number): string {
    return this.table(year).source;
  }

  /** The years with official data, ascending. */
  officialYears(): number[] {
    return [...this.arrangements.keys()].sort((a, b) => a - b);
  }

  isWorkingDay(d: DayNumber): boolean {
    let t = this.recent;
    if (t === undefined || d < t.first || d >= t.first + t.working.length) {
      t = this.table(civil(d).year);
      this.recent = t;
    }
    return t.working[d - t.first] === 1;
  }

  /** The festival a day belongs to (春节, 国庆节, ...), or undefined for ordinary days and weekends. */
  holidayName(d: DayNumber): string | undefined {
    return this.table(civil(d).year).holidayNames.get(d);
  }

  /** A statutory holiday as the arrangement sets it (weekends inside a holiday range included). */
  isHoliday(d: DayNumber): boolean {
    return this.holidayName(d) !== undefined;
  }

  isMakeUpWorkday(d: DayNumber): boolean {
    return this.table(civil(d).year).makeUpDays.has(d);
  }

  /** `d` itself when it is a working day, else the nearest working day after it. */
  onOrAfter(d: DayNumber): DayNumber {
    return this.scan(d, 1, true);
  }

  /** `d` itself when it is a working day, else the nearest working day before it. */
  onOrBefore(d: DayNumber): DayNumber {
    return this.scan(d, -1, true);
  }

  /**
   * The n-th working day after `d` (n > 0) or before it (n < 0); `d` itself is not counted. n = 0 returns `d`.
   */
  addWorkingDays(d: DayNumber, n: number): DayNumber {
    const step = n < 0 ? -1 : 1;
    let day = d;
    for (let left = Math.abs(n); left > 0; left--) day = this.scan(day, step, false);
    return day;
  }

  /** Working days in (from, to], negative when to < from. */
  workingDaysBetween(from: DayNumber, to: DayNumber): number {
    const sign = to >= from ? 1 : -1;
    let count = 0;
    for (let d = Math.min(from, to) + 1; d <= Math.max(from, to); d++) if (this.isWorkingDay(d)) count++;
    return sign * count;
  }

  /** The provisional years among those that [from, to] touches. */
  provisionalYearsIn(from: DayNumber, to: DayNumber): number[] {
    const years: number[] = [];
    for (let y = civil(from).year; y <= civil(to).year; y++) if (this.yearStatus(y) === 'provisional') years.push(y);
    return years;
  }

  private scan(d: DayNumber, step: 1 | -1, inclusive: boolean): DayNumber {
    let day = inclusive ? d : d + step;
    for (let i = 0; i < MAX_SCAN_DAYS; i++, day += step) if (this.isWorkingDay(day)) return day;
    throw new Error(`工作日历：${formatDate(d)}前后${MAX_SCAN_DAYS}天内没有工作日；请检查日历数据`);
  }

  private table(year: number): YearTable {
    let t = this.tables.get(year);
    if (!t) {
      const own = this.arrangements.get(year) ?? statutoryHolidays(year);
      // An arrangement may cover days of a neighbouring year (元旦 2023 began on 31 December 2022).
      const neighbours = [this.arrangements.get(year - 1), this.arrangements.get(year + 1)].filter(
        (n) => n !== undefined,
      );
      t = buildTable(year, [...neighbours, own], this.yearStatus(year), own.source);
      this.tables.set(year, t);
    }
    return t;
  }
}

function buildTable(year: number, arrangements: HolidayArrangement[], status: YearStatus, source: string): YearTable {
  const first = dayNumber(year, 1, 1);
  const length = isLeapYear(year) ? 366 : 365;
  const inYear = (d: DayNumber) => d - first >= 0 && d - first < length;
  const working = new Uint8Array(length);
  for (let i = 0; i < length; i++) working[i] = isWeekend(first + i) ? 0 : 1;
  const holidayNames = new Map<DayNumber, string>();
  const makeUpDays = new Set<DayNumber>();
  for (const arrangement of arrangements) {
    for (const h of arrangement.holidays) {
      for (let d = mustParse(h.from, arrangement); d <= mustParse(h.to, arrangement); d++) {
        if (!inYear(d)) continue;
        holidayNames.set(d, h.name);
        working[d - first] = 0;
      }
    }
    for (const w of arrangement.workdays) {
      const d = mustParse(w, arrangement);
      if (!inYear(d)) continue;
      makeUpDays.add(d);
      working[d - first] = 1;
    }
  }
  return { year, status, source, first, working, holidayNames, makeUpDays };
}

function mustParse(text: string, arrangement: HolidayArrangement): DayNumber {
  const d = parseDate(text);
  if (d === undefined) throw new Error(`${arrangement.year}年日历数据（${arrangement.source}）：“${text}”不是日期`);
  return d;
}
