import { WorkingCalendar, PUBLISHED_ARRANGEMENTS, statutoryHolidays } from '../../domain/calendar';
import { DayNumber, dayNumber, formatDate, isWeekend, parseDate } from '../../domain/dates';
// chinese-days is a well-kept third-party transcription of the notices, used here only as a cross-check.
import chineseDays from 'chinese-days/dist/chinese-days.json';

const d = (s: string): DayNumber => {
  const v = parseDate(s);
  if (v === undefined) throw new Error(s);
  return v;
};

/**
 * 国务院办公厅关于2026年部分节假日安排的通知 (4 November 2025), the arrangement part verbatim. The test reads the
 * days out of the text itself, so the shipped data is checked against the notice, not against a second copy.
 */
const NOTICE_2026 = `
一、元旦：1月1日（周四）至3日（周六）放假调休，共3天。1月4日（周日）上班。
二、春节：2月15日（农历腊月二十八、周日）至23日（农历正月初七、周一）放假调休，共9天。2月14日（周六）、2月28日（周六）上班。
三、清明节：4月4日（周六）至6日（周一）放假，共3天。
四、劳动节：5月1日（周五）至5日（周二）放假调休，共5天。5月9日（周六）上班。
五、端午节：6月19日（周五）至21日（周日）放假，共3天。
六、中秋节：9月25日（周五）至27日（周日）放假，共3天。
七、国庆节：10月1日（周四）至7日（周三）放假调休，共7天。9月20日（周日）、10月10日（周六）上班。
`;

function readNotice(year: number, text: string): { off: Set<DayNumber>; workdays: Set<DayNumber>; totals: number[] } {
  const off = new Set<DayNumber>();
  const workdays = new Set<DayNumber>();
  const totals: number[] = [];
  for (const line of text.trim().split('\n')) {
    const range = /：(\d+)月(\d+)日（[^）]*）至(?:(\d+)月)?(\d+)日（[^）]*）放假[^，]*，共(\d+)天/.exec(line);
    if (!range) throw new Error(`cannot read: ${line}`);
    const [, m1, d1, m2, d2, total] = range.map(Number) as number[];
    const from = dayNumber(year, m1!, d1!);
    const to = dayNumber(year, Number.isNaN(m2) || m2 === 0 ? m1! : m2!, d2!);
    for (let x = from; x <= to; x++) off.add(x);
    totals.push(total!);
    expect(to - from + 1).toBe(total);
    const after = line.slice(line.indexOf('天。') + 2);
    for (const m of after.matchAll(/(\d+)月(\d+)日（[^）]*）/g))
      workdays.add(dayNumber(year, Number(m[1]), Number(m[2])));
  }
  return { off, workdays, totals };
}

describe('PRC working-day calendar', () => {
  const calendar = new WorkingCalendar();

  test('2026 matches the State Council notice of 4 November 2025 day for day', () => {
    const notice = readNotice(2026, NOTICE_2026);
    expect(notice.totals).toEqual([3, 9, 3, 5, 3, 3, 7]);
    expect(notice.workdays.size).toBe(6);
    let checked = 0;
    for (let x = dayNumber(2026, 1, 1); x <= dayNumber(2026, 12, 31); x++) {
      const expected = notice.workdays.has(x) || (!notice.off.has(x) && !isWeekend(x));
      expect([formatDate(x), calendar.isWorkingDay(x)]).toEqual([formatDate(x), expected]);
      checked++;
    }
    expect(checked).toBe(365);
    expect(calendar.yearStatus(2026)).toBe('official');
    expect(calendar.holidayName(d('2026-02-17'))).toBe('春节');
    expect(calendar.isMakeUpWorkday(d('2026-02-28'))).toBe(true);
  });

  test('shipped years agree with the chinese-days package on every day', () => {
    const data = chineseDays as { holidays: Record<string, string>; workdays: Record<string, string> };
    for (const arrangement of PUBLISHED_ARRANGEMENTS) {
      for (let x = dayNumber(arrangement.year, 1, 1); x <= dayNumber(arrangement.year, 12, 31); x++) {
        const key = formatDate(x);
        const expected = key in data.workdays || (!(key in data.holidays) && !isWeekend(x));
        expect([key, calendar.isWorkingDay(x)]).toEqual([key, expected]);
      }
    }
  });

  test('working-day arithmetic across Spring Festival 2026 with its make-up Saturdays', () => {
    // Friday 13 Feb -> Saturday 14 Feb is a make-up working day.
    expect(formatDate(calendar.addWorkingDays(d('2026-02-13'), 1))).toBe('2026-02-14');
    // From the make-up Saturday over the nine-day holiday to Tuesday 24 Feb.
    expect(formatDate(calendar.addWorkingDays(d('2026-02-14'), 1))).toBe('2026-02-24');
    expect(formatDate(calendar.addWorkingDays(d('2026-02-24'), -1))).toBe('2026-02-14');
    expect(formatDate(calendar.addWorkingDays(d('2026-02-24'), -2))).toBe('2026-02-13');
    // The second make-up Saturday, 28 Feb.
    expect(formatDate(calendar.addWorkingDays(d('2026-02-27'), 1))).toBe('2026-02-28');
    expect(formatDate(calendar.addWorkingDays(d('2026-02-28'), 1))).toBe('2026-03-02');
    expect(formatDate(calendar.addWorkingDays(d('2026-03-02'), -10))).toBe('2026-02-10');
    expect(formatDate(calendar.addWorkingDays(d('2026-02-10'), 10))).toBe('2026-03-02');
    expect(calendar.addWorkingDays(d('2026-02-18'), 0)).toBe(d('2026-02-18'));
    expect(formatDate(calendar.onOrAfter(d('2026-02-18')))).toBe('2026-02-24');
    expect(formatDate(calendar.onOrBefore(d('2026-02-18')))).toBe('2026-02-14');
    expect(calendar.workingDaysBetween(d('2026-02-13'), d('2026-02-24'))).toBe(2);
    expect(calendar.workingDaysBetween(d('2026-02-24'), d('2026-02-13'))).toBe(-2);
  });

  test('a provisional year keeps the statutory holidays, has no make-up days, and says so', () => {
    // 2028: 春节 is 26 January, so 除夕 25 January to 正月初三 28 January.
    expect(calendar.yearStatus(2028)).toBe('provisional');
    for (const off of [
      '2028-01-01',
      '2028-01-25',
      '2028-01-26',
      '2028-01-27',
      '2028-01-28',
      '2028-04-04',
      '2028-05-01',
      '2028-05-02',
      '2028-05-29',
      '2028-10-02',
      '2028-10-03',
    ]) {
      expect([off, calendar.isWorkingDay(d(off))]).toEqual([off, off === '2028-05-29']);
    }
    expect(calendar.holidayName(d('2028-10-03'))).toBe('国庆节');
    // No 调休: every Saturday and Sunday is off.
    for (let x = dayNumber(2028, 1, 1); x <= dayNumber(2028, 12, 31); x++)
      if (isWeekend(x)) expect(calendar.isWorkingDay(x)).toBe(false);
    expect(calendar.provisionalYearsIn(d('2026-12-01'), d('2028-01-05'))).toEqual([2027, 2028]);
    expect(calendar.yearSource(2028)).toMatch(/provisional/);
  });

  test('statutory holidays for 2027 follow the 2025 rules: 13 days', () => {
    const notice = statutoryHolidays(2027);
    const days = notice.holidays.reduce((n, h) => n + (d(h.to) - d(h.from) + 1), 0);
    expect(days).toBe(13);
    expect(notice.holidays.find((h) => h.name === '春节')).toEqual({
      name: '春节',
      from: '2027-02-05',
      to: '2027-02-08',
    });
    expect(notice.holidays.find((h) => h.name === '清明节')?.from).toBe('2027-04-05');
    expect(notice.holidays.find((h) => h.name === '端午节')?.from).toBe('2027-06-09');
    expect(notice.holidays.find((h) => h.name === '中秋节')?.from).toBe('2027-09-15');
  });

  test('an administrator file replaces a year and makes it official', () => {
    const custom = new WorkingCalendar([
      {
        year: 2027,
        source: 'test notice',
        holidays: [{ name: '春节', from: '2027-02-05', to: '2027-02-11' }],
        workdays: ['2027-02-20'],
      },
    ]);
    expect(custom.yearStatus(2027)).toBe('official');
    expect(custom.isWorkingDay(d('2027-02-11'))).toBe(false);
    expect(custom.isWorkingDay(d('2027-02-20'))).toBe(true);
    expect(custom.isMakeUpWorkday(d('2027-02-20'))).toBe(true);
  });
});
