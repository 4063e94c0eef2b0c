/**
 * Validation of the catalog fields the seeds' duties need (issue 12): cycles of years, the due rules of the month
 * after the period, and rate/count completions. Each bad value is reported with its file, line and field.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { FileProblem, InvalidInputError, loadInputs } from '../config/load';

const fixtures = path.join(__dirname, 'fixtures');
const goodCatalog = readFileSync(path.join(fixtures, 'catalog.yaml'), 'utf8');
const goodDirectory = readFileSync(path.join(fixtures, 'directory.yaml'), 'utf8');

function problems(catalog: string): FileProblem[] {
  const dir = mkdtempSync(path.join(tmpdir(), 'duban-validate-seeds-'));
  const files = { catalog: path.join(dir, 'catalog.yaml'), directory: path.join(dir, 'directory.yaml') };
  writeFileSync(files.catalog, catalog);
  writeFileSync(files.directory, goodDirectory);
  try {
    loadInputs(files);
  } catch (e) {
    if (e instanceof InvalidInputError) return e.problems.map((p) => ({ ...p, file: path.basename(p.file) }));
    throw e;
  }
  return [];
}

/** The catalog with one more obligation, whose lines after `id:` are given. */
const withObligation = (lines: string) => `${goodCatalog.trimEnd()}
  - id: extra
    title: 新增任务
    basis: [{ document: 实施方案, quote: 原文 }]
    assignees: { units: [finance] }
${lines}`;

const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;
const FIELD = 'obligations[3] (extra) › ';

describe('cycles of years, month-after due rules, rates and counts', () => {
  test('valid entries of every new kind pass', () => {
    const ok = withObligation(`    period: year
    every: 2
    anchor: 2025
    due: { rule: period-end }
  - id: monthly-end
    title: 月报
    basis: [{ document: 实施方案, quote: 原文 }]
    assignees: { units: [finance] }
    period: month
    due: { rule: next-month-end }
  - id: quarterly-15
    title: 季报
    basis: [{ document: 实施方案, quote: 原文 }]
    assignees: { units: [finance] }
    period: quarter
    due: { rule: following-month-day, day: 15, before: true }
  - id: court-rate
    title: 出庭应诉率
    basis: [{ document: 实施方案, quote: 出庭應訴率不低於90% }]
    assignees: { units: [finance] }
    completion: rate
    threshold: 90
    measure: 行政机关负责人出庭应诉率
    period: year
    due: { rule: next-month-end }
  - id: handlers
    title: 行政复议办案人员
    basis: [{ document: 实施方案, quote: 最少3人 }]
    assignees: { units: [finance] }
    completion: count
    threshold: 3
    period: year
    due: { rule: period-end }
`);
    expect(problems(ok)).toEqual([]);
  });

  test('a cycle needs period: year, an anchor and a sensible length', () => {
    const noAnchor = withObligation('    period: year\n    every: 2\n    due: { rule: period-end }\n');
    expect(problems(noAnchor)).toEqual([
      expect.objectContaining({ file: 'catalog.yaml', field: `${FIELD}anchor`, message: 'is missing: every: 2 needs a year the cycle starts in, e.g. anchor: 2025' }),
    ]);
    const quarterly = withObligation('    period: quarter\n    every: 2\n    anchor: 2025\n    due: { rule: period-end }\n');
    expect(problems(quarterly)).toEqual([
      expect.objectContaining({ line: lineOf(quarterly, 'every: 2'), field: `${FIELD}every`, message: 'is for period: year (a cycle of years), not period: quarter' }),
    ]);
    const long = withObligation('    period: year\n    every: 50\n    anchor: 1850\n    due: { rule: period-end }\n');
    expect(problems(long).map((p) => p.message)).toEqual(['50 must be between 1 and 10 years', '1850 is not a year between 1900 and 2200']);
    const anchorOnly = withObligation('    period: year\n    anchor: 2025\n    due: { rule: period-end }\n');
    expect(problems(anchorOnly)).toEqual([expect.objectContaining({ line: lineOf(anchorOnly, 'anchor: 2025'), message: 'is only for cycles of several years: give every as well' })]);
  });

  test('following-month-day needs a day of the month; next-month-end is not for one-offs', () => {
    const day = withObligation('    period: month\n    due: { rule: following-month-day, day: 32 }\n');
    expect(problems(day)).toEqual([
      expect.objectContaining({ line: lineOf(day, 'day: 32'), field: `${FIELD}due.day`, message: '32 is not a day of the month (1-31; a day the month lacks is its last day)' }),
    ]);
    const first = withObligation('    period: month\n    due: { rule: following-month-day, day: 1, before: true }\n');
    expect(problems(first).map((p) => p.message)).toEqual(['day 1 with before: true is the last day of the period itself: write rule: period-end']);
    const once = withObligation('    period: once\n    due: { rule: next-month-end }\n');
    expect(problems(once).map((p) => p.message)).toContain('a one-off (period: once) needs rule: fixed-date');
  });

  test('in-period-month-day is for yearly periods and a day of every year', () => {
    const quarterly = withObligation('    period: quarter\n    due: { rule: in-period-month-day, monthDay: "03-31" }\n');
    expect(problems(quarterly).map((p) => p.message)).toEqual(['rule: in-period-month-day is for period: year, not period: quarter']);
    const leap = withObligation('    period: year\n    due: { rule: in-period-month-day, monthDay: "02-29" }\n');
    expect(problems(leap)).toEqual([expect.objectContaining({ line: lineOf(leap, '02-29'), field: `${FIELD}due.monthDay`, message: '"02-29" is not a day of every year' })]);
  });

  test('rates and counts need a threshold in range; threshold and measure belong to them only', () => {
    const missing = withObligation('    completion: rate\n    period: year\n    due: { rule: period-end }\n');
    expect(problems(missing)).toEqual([expect.objectContaining({ field: `${FIELD}threshold`, message: 'is missing: completion: rate needs the lowest acceptable percentage, e.g. 90' })]);
    const fraction = withObligation('    completion: rate\n    threshold: 0\n    period: year\n    due: { rule: period-end }\n');
    expect(problems(fraction).map((p) => p.message)).toEqual(['0 is not a percentage above 0 and at most 100 (不低于90% is 90)']);
    const over = withObligation('    completion: rate\n    threshold: 120\n    period: year\n    due: { rule: period-end }\n');
    expect(problems(over)).toEqual([expect.objectContaining({ line: lineOf(over, 'threshold: 120'), field: `${FIELD}threshold` })]);
    const half = withObligation('    completion: count\n    threshold: 2.5\n    period: year\n    due: { rule: period-end }\n');
    expect(problems(half).map((p) => p.message)).toEqual(['2.5 must be a whole number from 1 to 1000000']);
    const quota = withObligation('    completion: count\n    threshold: 3\n    quota: 3\n    period: year\n    due: { rule: period-end }\n');
    expect(problems(quota).map((p) => p.message)).toEqual(['is only for completion: quota; completion: count uses threshold']);
    const single = withObligation('    threshold: 90\n    measure: 答复率\n    period: year\n    due: { rule: period-end }\n');
    expect(problems(single).map((p) => p.message)).toEqual(['is only for completion: rate or count', 'is only for completion: rate or count']);
  });
});
