/**
 * The statutory holidays of 《全国年节及纪念日放假办法》 (as revised in 2024, in force from 2025), computed for a
 * year whose State Council notice is not published yet: 元旦 1 January; 春节 除夕 to 正月初三; 清明 (the solar term);
 * 劳动节 1-2 May; 端午 (五月初五); 中秋 (八月十五); 国庆节 1-3 October. No make-up working days: those only exist
 * once the notice arranges them, which is why such a year is provisional.
 *
 * Lunar and solar-term dates come from lunar-javascript (a pure-JS implementation of the 寿星万年历 astronomy).
 * ICU's own Chinese calendar was not used: it puts 2027's 正月初一 on 7 February instead of 6 February.
 */
import { Lunar } from 'lunar-javascript';
import { dayNumber, formatDate } from '../dates';
import type { HolidayArrangement, HolidayRange } from './arrangements';

function solarToDay(solar: { getYear(): number; getMonth(): number; getDay(): number }): number {
  return dayNumber(solar.getYear(), solar.getMonth(), solar.getDay());
}

function lunarDay(year: number, month: number, day: number): number {
  return solarToDay(Lunar.fromYmd(year, month, day).getSolar());
}

export function statutoryHolidays(year: number): HolidayArrangement {
  const springFestival = lunarDay(year, 1, 1);
  const qingmingTerm = Lunar.fromYmd(year, 3, 1).getJieQiTable()['清明'];
  if (!qingmingTerm) throw new Error(`农历库 lunar-javascript 未给出${year}年的清明`);
  const qingming = solarToDay(qingmingTerm);
  const range = (name: string, from: number, to: number): HolidayRange => ({
    name,
    from: formatDate(from),
    to: formatDate(to),
  });
  const fixed = (month: number, day: number) => dayNumber(year, month, day);
  return {
    year,
    source: `《全国年节及纪念日放假办法》 computed for ${year} (provisional: the State Council notice for ${year} is not in the calendar yet)`,
    holidays: [
      range('元旦', fixed(1, 1), fixed(1, 1)),
      range('春节', springFestival - 1, springFestival + 2),
      range('清明节', qingming, qingming),
      range('劳动节', fixed(5, 1), fixed(5, 2)),
      range('端午节', lunarDay(year, 5, 5), lunarDay(year, 5, 5)),
      range('中秋节', lunarDay(year, 8, 15), lunarDay(year, 8, 15)),
      range('国庆节', fixed(10, 1), fixed(10, 3)),
    ],
    workdays: [],
  };
}
