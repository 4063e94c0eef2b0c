/**
 * Validation of the catalog fields the seeds' duties need (issue 12): cycles of years, the due rules of the month
 * after the period, and rate/count completions. Each bad value is reported with its file, line and field.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { FileProblem, InvalidInputError, loadInputs, setEventDate } from '../config/load';

const fixtures = path.join(__dirname, 'fixtures');
const goodCatalog = readFileSync(path.join(fixtures, 'catalog.yaml'), 'utf8');
const goodDirectory = readFileSync(path.join(fixtures, 'directory.yaml'), 'utf8');

function problems(catalog: string, rosters?: string | Buffer): FileProblem[] {
  const dir = mkdtempSync(path.join(tmpdir(), 'duban-validate-seeds-'));
  const files = {
    catalog: path.join(dir, 'catalog.yaml'),
    directory: path.join(dir, 'directory.yaml'),
    rosters: rosters === undefined ? undefined : path.join(dir, 'rosters.csv'),
  };
  writeFileSync(files.catalog, catalog);
  writeFileSync(files.directory, goodDirectory);
  if (rosters !== undefined) writeFileSync(files.rosters!, rosters);
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
      expect.objectContaining({
        file: 'catalog.yaml',
        field: `${FIELD}anchor`,
        message: 'is missing: every: 2 needs a year the cycle starts in, e.g. anchor: 2025',
      }),
    ]);
    const quarterly = withObligation(
      '    period: quarter\n    every: 2\n    anchor: 2025\n    due: { rule: period-end }\n',
    );
    expect(problems(quarterly)).toEqual([
      expect.objectContaining({
        line: lineOf(quarterly, 'every: 2'),
        field: `${FIELD}every`,
        message: 'is for period: year (a cycle of years), not period: quarter',
      }),
    ]);
    const long = withObligation('    period: year\n    every: 50\n    anchor: 1850\n    due: { rule: period-end }\n');
    expect(problems(long).map((p) => p.message)).toEqual([
      '50 must be between 1 and 10 years',
      '1850 is not a year between 1900 and 2200',
    ]);
    const anchorOnly = withObligation('    period: year\n    anchor: 2025\n    due: { rule: period-end }\n');
    expect(problems(anchorOnly)).toEqual([
      expect.objectContaining({
        line: lineOf(anchorOnly, 'anchor: 2025'),
        message: 'is only for cycles of several years: give every as well',
      }),
    ]);
  });

  test('following-month-day needs a day of the month; next-month-end is not for one-offs', () => {
    const day = withObligation('    period: month\n    due: { rule: following-month-day, day: 32 }\n');
    expect(problems(day)).toEqual([
      expect.objectContaining({
        line: lineOf(day, 'day: 32'),
        field: `${FIELD}due.day`,
        message: '32 is not a day of the month (1-31; a day the month lacks is its last day)',
      }),
    ]);
    const first = withObligation('    period: month\n    due: { rule: following-month-day, day: 1, before: true }\n');
    expect(problems(first).map((p) => p.message)).toEqual([
      'day 1 with before: true is the last day of the period itself: write rule: period-end',
    ]);
    const once = withObligation('    period: once\n    due: { rule: next-month-end }\n');
    expect(problems(once).map((p) => p.message)).toContain(
      'a one-off (period: once) needs rule: fixed-date (or before-event/after-event)',
    );
  });

  test('in-period-month-day is for yearly periods and a day of every year', () => {
    const quarterly = withObligation(
      '    period: quarter\n    due: { rule: in-period-month-day, monthDay: "03-31" }\n',
    );
    expect(problems(quarterly).map((p) => p.message)).toEqual([
      'rule: in-period-month-day is for period: year, not period: quarter',
    ]);
    const leap = withObligation('    period: year\n    due: { rule: in-period-month-day, monthDay: "02-29" }\n');
    expect(problems(leap)).toEqual([
      expect.objectContaining({
        line: lineOf(leap, '02-29'),
        field: `${FIELD}due.monthDay`,
        message: '"02-29" is not a day of every year',
      }),
    ]);
  });

  test('rates and counts need a threshold in range; threshold and measure belong to them only', () => {
    const missing = withObligation('    completion: rate\n    period: year\n    due: { rule: period-end }\n');
    expect(problems(missing)).toEqual([
      expect.objectContaining({
        field: `${FIELD}threshold`,
        message: 'is missing: completion: rate needs the lowest acceptable percentage, e.g. 90',
      }),
    ]);
    const fraction = withObligation(
      '    completion: rate\n    threshold: 0\n    period: year\n    due: { rule: period-end }\n',
    );
    expect(problems(fraction).map((p) => p.message)).toEqual([
      '0 is not a percentage above 0 and at most 100 (不低于90% is 90)',
    ]);
    const over = withObligation(
      '    completion: rate\n    threshold: 120\n    period: year\n    due: { rule: period-end }\n',
    );
    expect(problems(over)).toEqual([
      expect.objectContaining({ line: lineOf(over, 'threshold: 120'), field: `${FIELD}threshold` }),
    ]);
    const half = withObligation(
      '    completion: count\n    threshold: 2.5\n    period: year\n    due: { rule: period-end }\n',
    );
    expect(problems(half).map((p) => p.message)).toEqual(['2.5 must be a whole number from 1 to 1000000']);
    const quota = withObligation(
      '    completion: count\n    threshold: 3\n    quota: 3\n    period: year\n    due: { rule: period-end }\n',
    );
    expect(problems(quota).map((p) => p.message)).toEqual([
      'is only for completion: quota; completion: count uses threshold',
    ]);
    const single = withObligation(
      '    threshold: 90\n    measure: 答复率\n    period: year\n    due: { rule: period-end }\n',
    );
    expect(problems(single).map((p) => p.message)).toEqual([
      'is only for completion: rate or count',
      'is only for completion: rate or count',
    ]);
  });

  test('per-person quotas: a rosters file is required, checked row by row, and must cover every assigned unit', () => {
    const catalog = withObligation(
      '    completion: per-person\n    roster: 执法人员\n    quota: 60\n    quotaUnit: hours\n    period: year\n    due: { rule: period-end }\n',
    );
    expect(problems(catalog)).toEqual([
      expect.objectContaining({
        file: 'catalog.yaml',
        field: `${FIELD}roster`,
        message: expect.stringContaining('needs a rosters file (give --rosters rosters.csv'),
      }),
    ]);
    const rows =
      'unit,roster,person,name\nfinance,执法人员,1,王建国\nfinanse,执法人员,2,李红\nfinance,培训对象,3,赵强\n';
    expect(problems(catalog, rows)).toEqual([
      expect.objectContaining({
        file: 'rosters.csv',
        line: 3,
        field: 'unit',
        message: 'unknown unit "finanse": no unit with this id in the directory',
      }),
      expect.objectContaining({
        file: 'rosters.csv',
        line: 4,
        field: 'roster',
        message: 'roster "培训对象" is used by no per-person obligation of the catalog (执法人员)',
      }),
    ]);
    expect(problems(catalog, 'unit,roster,person,name\njustice,执法人员,1,王建国\n')).toEqual([
      expect.objectContaining({
        file: 'catalog.yaml',
        field: `${FIELD}roster`,
        message:
          'roster "执法人员" has nobody for finance: add their people to the rosters file, or stop assigning them',
      }),
    ]);
    expect(problems(catalog, Buffer.from([0x50, 0x4b, 3, 4, 0, 0]))).toEqual([
      expect.objectContaining({
        file: 'rosters.csv',
        line: 1,
        message: 'is not a CSV text file (an .xlsx workbook? save it as CSV UTF-8)',
      }),
    ]);
    const missingQuota = withObligation(
      '    completion: per-person\n    roster: 执法人员\n    period: year\n    due: { rule: period-end }\n',
    );
    expect(
      problems(missingQuota, 'unit,roster,person,name\nfinance,执法人员,1,王建国\n').map((p) => p.message),
    ).toEqual(['is missing: completion: per-person needs the quota each person must reach']);
    const stray = withObligation(
      '    roster: 执法人员\n    quotaUnit: hours\n    period: year\n    due: { rule: period-end }\n',
    );
    expect(problems(stray).map((p) => p.message)).toEqual([
      'is only for completion: per-person',
      'is only for completion: per-person',
    ]);
  });

  test('per-person quotas: each tracker carries its own unit roster', () => {
    const catalog = withObligation(
      '    completion: per-person\n    roster: 执法人员\n    quota: 60\n    quotaUnit: hours\n    period: year\n    due: { rule: period-end }\n',
    );
    const dir = mkdtempSync(path.join(tmpdir(), 'duban-rosters-'));
    const files = {
      catalog: path.join(dir, 'catalog.yaml'),
      directory: path.join(dir, 'directory.yaml'),
      rosters: path.join(dir, 'rosters.csv'),
    };
    writeFileSync(files.catalog, catalog);
    writeFileSync(files.directory, goodDirectory);
    writeFileSync(
      files.rosters,
      'unit,roster,person,name\nfinance,执法人员,15010001,王建国\nfinance,执法人员,15010002,李红\n',
    );
    const t = loadInputs(files).trackers.find((x) => x.trackerId === 'extra/finance')!;
    expect(t.people).toEqual([
      { id: '15010001', name: '王建国' },
      { id: '15010002', name: '李红' },
    ]);
    expect(t.obligation).toMatchObject({ completion: 'per-person', quota: 60, roster: '执法人员', quotaUnit: 'hours' });
  });

  describe('event-relative obligations and the events file', () => {
    const billCatalog = withObligation(
      '    period: once\n    due: { rule: before-event, event: pc-session, months: 1 }\n',
    );
    const load = (catalog: string, events?: string) => {
      const dir = mkdtempSync(path.join(tmpdir(), 'duban-events-'));
      const files = {
        catalog: path.join(dir, 'catalog.yaml'),
        directory: path.join(dir, 'directory.yaml'),
        events: events === undefined ? undefined : path.join(dir, 'events.yaml'),
      };
      writeFileSync(files.catalog, catalog);
      writeFileSync(files.directory, goodDirectory);
      if (events !== undefined) writeFileSync(files.events!, events);
      try {
        return { inputs: loadInputs(files), problems: [] as FileProblem[] };
      } catch (e) {
        if (e instanceof InvalidInputError)
          return { inputs: undefined, problems: e.problems.map((p) => ({ ...p, file: path.basename(p.file) })) };
        throw e;
      }
    };

    test('the date comes from the events file; without one the tracker is registered waiting', () => {
      const dated = load(billCatalog, 'events:\n  - { id: pc-session, date: 2027-06-20, note: 常委会会议 }\n');
      expect(dated.problems).toEqual([]);
      expect(dated.inputs!.trackers.find((t) => t.obligation.id === 'extra')!.obligation.due).toEqual({
        rule: 'before-event',
        event: 'pc-session',
        months: 1,
        date: '2027-06-20',
      });
      const undated = load(billCatalog, 'events:\n  - { id: pc-session }\n');
      expect(undated.inputs!.trackers.find((t) => t.obligation.id === 'extra')!.obligation.due).toEqual({
        rule: 'before-event',
        event: 'pc-session',
        months: 1,
      });
    });

    test('a missing events file, an undeclared event, a bad date, a date in the catalog, a wrong period', () => {
      expect(load(billCatalog).problems).toEqual([
        expect.objectContaining({
          file: 'catalog.yaml',
          field: `${FIELD}due.event`,
          message: expect.stringContaining('event pc-session needs an events file (give --events events.yaml'),
        }),
      ]);
      expect(load(billCatalog, 'events:\n  - { id: pc-sesion, date: 2027-06-20 }\n').problems).toEqual([
        expect.objectContaining({
          file: 'catalog.yaml',
          line: lineOf(billCatalog, 'pc-session'),
          message: expect.stringContaining('unknown event "pc-session": declare it in'),
        }),
      ]);
      const bad =
        'events:\n  - { id: pc-session, date: 2027-02-30 }\n  - { id: pc-session }\n  - { id: x, when: 2027-01-01 }\n';
      expect(load(billCatalog, bad).problems).toEqual([
        expect.objectContaining({
          file: 'events.yaml',
          line: 2,
          field: 'events[0] (pc-session) › date',
          message: '"2027-02-30" is not a date such as 2027-06-20 (leave it out while the date is not known)',
        }),
        expect.objectContaining({
          file: 'events.yaml',
          line: 3,
          message: 'duplicate event id "pc-session" (also events[0])',
        }),
        expect.objectContaining({ file: 'events.yaml', line: 4, message: 'unknown key "when" (a typo?)' }),
      ]);
      const inCatalog = withObligation(
        '    period: once\n    due: { rule: before-event, event: pc-session, months: 1, date: "2027-06-20" }\n',
      );
      expect(load(inCatalog, 'events:\n  - { id: pc-session }\n').problems.map((p) => p.message)).toEqual([
        'the date of event pc-session comes from the events file (--events), not the catalog',
      ]);
      const yearly = withObligation('    period: year\n    due: { rule: after-event, event: pc-session, days: 30 }\n');
      expect(load(yearly, 'events:\n  - { id: pc-session }\n').problems.map((p) => p.message)).toEqual([
        'rule: after-event is only for period: once, not period: year',
      ]);
      const both = withObligation(
        '    period: once\n    due: { rule: before-event, event: pc-session, months: 1, days: 3 }\n',
      );
      expect(load(both, 'events:\n  - { id: pc-session }\n').problems.map((p) => p.message)).toEqual([
        'give exactly one of days or months',
      ]);
    });

    test('duban event set/clear edit the file in place, keeping its comments', () => {
      const text = '# 会议日期\nevents:\n  # 常委会\n  - id: pc-session\n    note: 常委会会议\n';
      const set = setEventDate(text, 'pc-session', '2027-06-20');
      expect(set).toContain('# 常委会');
      expect(set).toMatch(/date: ["']?2027-06-20/);
      const added = setEventDate(set, 'city-catalog-2027', '2027-03-15', '市级年度事项目录发布');
      expect(added).toContain('id: city-catalog-2027');
      const cleared = setEventDate(added, 'pc-session', null);
      expect(cleared).not.toMatch(/2027-06-20/);
      expect(cleared).toContain('2027-03-15');
      expect(() => setEventDate(text, 'pc-session', '2027-13-01')).toThrow('"2027-13-01" is not a date');
      expect(() => setEventDate(text, 'other', null)).toThrow(
        'event other is not in the events file; nothing to clear',
      );
      expect(setEventDate('', 'pc-session', '2027-06-20')).toMatch(
        /events:\n\s*- id: pc-session\n\s*date: ["']?2027-06-20/,
      );
    });
  });
});
