/**
 * `npm start`'s demonstration items (issue #19, item 9): four one-offs dated relative to the day of the first
 * start, so that the first board shows every colour whatever the date, with the real planner and the real clock:
 *
 * | id | due | what the real planner makes of it at the first start |
 * |---|---|---|
 * | `demo-supervision` | 6 working days ago | red; level 1 passed, level 2 due: the catch-up is a numbered 督办单 |
 * | `demo-overdue` | 2 working days ago | red; the level-1 催办通知 goes out at once |
 * | `demo-due-soon` | in 2 working days | yellow (within 3 working days of due) |
 * | `demo-done` | in 10 working days | submitted by `duban start` at its first registration: 办结 (on time) |
 *
 * The recurring obligations of config/defaults/catalog.yaml give the green rows. The demo catalog (the default one
 * with these four added) is written once, at the first start, to `<data folder>/demo-catalog.yaml`, and reused by
 * every later start, so the demo trackers keep their dates (a restart changes nothing and sends nothing twice).
 * Only the built-in defaults get it: DUBAN_CATALOG or DUBAN_DIRECTORY, or DUBAN_DEMO=false, leave it out.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { WorkingCalendar } from '../domain/calendar';
import { DayNumber, formatDate } from '../domain/dates';
import { DEFAULT_CATALOG } from './load';

export const DEMO_CATALOG_FILE = 'demo-catalog.yaml';

/** The tracker `duban start` submits for at its first registration, so that the board shows 办结. */
export const DEMO_DONE = { obligation: 'demo-done', unit: 'sfj' };

export interface DemoItem {
  id: string;
  title: string;
  unit: string;
  /** Working days from today (negative: overdue). */
  offset: number;
  deliverable: string;
  /** A duty of the seeds the item stands for (quoted verbatim, as in the default catalog). */
  basis: { document: string; quote: string };
}

const SEED_001 = '自治州全面推进依法行政 加快建设法治政府实施方案';
const SEED_004 = '和平区关于落实〈天津市法治政府建设实施纲要(2021-2025年)〉的实施方案';

export const DEMO_ITEMS: readonly DemoItem[] = [
  {
    id: 'demo-supervision',
    title: '【演示】报送本单位行政执法案卷自查整改情况（已逾期，已发督办单）',
    unit: 'scjgj',
    offset: -6,
    deliverable: '自查整改情况报告（文号或链接）',
    basis: {
      document: SEED_001,
      quote: '定期开展行政执法案卷评查工作,通过案卷评查查找执法过程中的问题,进一步规范行政执法行为。',
    },
  },
  {
    id: 'demo-overdue',
    title: '【演示】报送本单位法治宣传教育工作总结（已逾期）',
    unit: 'jyj',
    offset: -2,
    deliverable: '工作总结（文号或链接）',
    basis: {
      document: SEED_001,
      quote:
        '按照“谁执法、谁普法,谁管理、谁普法,谁服务、谁普法,谁用工、谁普法”的原则,进一步落实各级国家机关、人民团体和企事业单位法治宣传教育工作责任。',
    },
  },
  {
    id: 'demo-due-soon',
    title: '【演示】报送本单位行政规范性文件后评估情况（即将截止）',
    unit: 'gaj',
    offset: 2,
    deliverable: '后评估情况说明（文号或链接）',
    basis: { document: SEED_004, quote: '定期开展行政规范性文件后评估和清理工作。' },
  },
  {
    id: DEMO_DONE.obligation,
    title: '【演示】报送本单位法律顾问聘用情况（已办结）',
    unit: DEMO_DONE.unit,
    offset: 10,
    deliverable: '法律顾问聘用合同及名单（扫描件或文号）',
    basis: { document: SEED_001, quote: '建立法律顾问的选拔聘用、工作管理、奖励追责等制度' },
  },
];

/** The due date of a demo item: `offset` working days from `today` (itself moved to a working day). */
export function demoDue(calendar: WorkingCalendar, today: DayNumber, offset: number): DayNumber {
  return calendar.addWorkingDays(calendar.onOrBefore(today), offset);
}

/** The demo obligations as catalog YAML (appended under the default catalog's `obligations:`). */
export function demoObligationsYaml(calendar: WorkingCalendar, today: DayNumber): string {
  const lines = [
    '',
    `  # ---- Demonstration items of npm start (config/demo.ts), dated relative to its first start, ${formatDate(today)}.`,
    '  # They are not part of the seeds: delete this file (and the data folder) to start without them.',
  ];
  for (const item of DEMO_ITEMS) {
    lines.push(
      `  - id: ${item.id}`,
      `    title: ${JSON.stringify(item.title)}`,
      '    basis:',
      `      - document: ${JSON.stringify(item.basis.document)}`,
      `        quote: ${JSON.stringify(item.basis.quote)}`,
      '    assignees:',
      `      units: [${item.unit}]`,
      '    period: once',
      `    due: { rule: fixed-date, date: "${formatDate(demoDue(calendar, today, item.offset))}" }`,
      `    deliverable: ${JSON.stringify(item.deliverable)}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The demo catalog of this data folder: written at the first start (the default catalog with the demo items),
 * read as it is afterwards. Returns its path.
 */
export function demoCatalog(dataDir: string, calendar: WorkingCalendar, today: DayNumber): string {
  const file = path.join(dataDir, DEMO_CATALOG_FILE);
  if (!existsSync(file)) {
    const base = readFileSync(DEFAULT_CATALOG, 'utf8').replace(/\s*$/, '\n');
    writeFileSync(file, base + demoObligationsYaml(calendar, today));
  }
  return file;
}
