/**
 * The State Council General Office's yearly holiday arrangements (国务院办公厅关于部分节假日安排的通知), as data.
 * In code a "notice" is always a planned email (domain/planner.ts); the published document is called here by
 * what it holds, the arrangement.
 *
 * Each entry transcribes one year's arrangement: the holiday ranges as the document states them (weekend days
 * inside a range included) and the make-up working days (调休上班). Add a year here when it is published, usually
 * in November; until then the year is computed as provisional (see statutory.ts). An administrator can add or
 * replace a year without a release with a calendar file (docs/calendar.md).
 */

export interface HolidayRange {
  /** The festival as the arrangement names it, e.g. 春节. */
  name: string;
  /** First and last day off, inclusive, YYYY-MM-DD. */
  from: string;
  to: string;
}

export interface HolidayArrangement {
  year: number;
  /** Where the data comes from: the published document's title, or the administrator's file. */
  source: string;
  /** Publication date of the document, YYYY-MM-DD, when known. */
  published?: string;
  holidays: HolidayRange[];
  /** Weekend days that are working days (调休上班), YYYY-MM-DD. */
  workdays: string[];
}

export const PUBLISHED_ARRANGEMENTS: readonly HolidayArrangement[] = [
  {
    year: 2024,
    source: '国务院办公厅关于2024年部分节假日安排的通知 (国办发明电〔2023〕7号)',
    published: '2023-10-25',
    holidays: [
      { name: '元旦', from: '2024-01-01', to: '2024-01-01' },
      { name: '春节', from: '2024-02-10', to: '2024-02-17' },
      { name: '清明节', from: '2024-04-04', to: '2024-04-06' },
      { name: '劳动节', from: '2024-05-01', to: '2024-05-05' },
      { name: '端午节', from: '2024-06-10', to: '2024-06-10' },
      { name: '中秋节', from: '2024-09-15', to: '2024-09-17' },
      { name: '国庆节', from: '2024-10-01', to: '2024-10-07' },
    ],
    workdays: [
      '2024-02-04',
      '2024-02-18',
      '2024-04-07',
      '2024-04-28',
      '2024-05-11',
      '2024-09-14',
      '2024-09-29',
      '2024-10-12',
    ],
  },
  {
    year: 2025,
    source: '国务院办公厅关于2025年部分节假日安排的通知',
    published: '2024-11-12',
    holidays: [
      { name: '元旦', from: '2025-01-01', to: '2025-01-01' },
      { name: '春节', from: '2025-01-28', to: '2025-02-04' },
      { name: '清明节', from: '2025-04-04', to: '2025-04-06' },
      { name: '劳动节', from: '2025-05-01', to: '2025-05-05' },
      { name: '端午节', from: '2025-05-31', to: '2025-06-02' },
      { name: '国庆节、中秋节', from: '2025-10-01', to: '2025-10-08' },
    ],
    workdays: ['2025-01-26', '2025-02-08', '2025-04-27', '2025-09-28', '2025-10-11'],
  },
  {
    year: 2026,
    source: '国务院办公厅关于2026年部分节假日安排的通知',
    published: '2025-11-04',
    holidays: [
      { name: '元旦', from: '2026-01-01', to: '2026-01-03' },
      { name: '春节', from: '2026-02-15', to: '2026-02-23' },
      { name: '清明节', from: '2026-04-04', to: '2026-04-06' },
      { name: '劳动节', from: '2026-05-01', to: '2026-05-05' },
      { name: '端午节', from: '2026-06-19', to: '2026-06-21' },
      { name: '中秋节', from: '2026-09-25', to: '2026-09-27' },
      { name: '国庆节', from: '2026-10-01', to: '2026-10-07' },
    ],
    workdays: ['2026-01-04', '2026-02-14', '2026-02-28', '2026-05-09', '2026-09-20', '2026-10-10'],
  },
];
