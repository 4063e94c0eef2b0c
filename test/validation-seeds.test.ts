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
        message: '缺失：every: 2 须给出周期的起始年份，如 anchor: 2025',
      }),
    ]);
    const quarterly = withObligation(
      '    period: quarter\n    every: 2\n    anchor: 2025\n    due: { rule: period-end }\n',
    );
    expect(problems(quarterly)).toEqual([
      expect.objectContaining({
        line: lineOf(quarterly, 'every: 2'),
        field: `${FIELD}every`,
        message: '只用于 period: year（以年为周期），不能用于 period: quarter',
      }),
    ]);
    const long = withObligation('    period: year\n    every: 50\n    anchor: 1850\n    due: { rule: period-end }\n');
    expect(problems(long).map((p) => p.message)).toEqual(['50须在1至10年之间', '1850不是1900至2200之间的年份']);
    const anchorOnly = withObligation('    period: year\n    anchor: 2025\n    due: { rule: period-end }\n');
    expect(problems(anchorOnly)).toEqual([
      expect.objectContaining({
        line: lineOf(anchorOnly, 'anchor: 2025'),
        message: '只用于多年一个周期的任务：请同时给出 every',
      }),
    ]);
  });

  test('following-month-day needs a day of the month; next-month-end is not for one-offs', () => {
    const day = withObligation('    period: month\n    due: { rule: following-month-day, day: 32 }\n');
    expect(problems(day)).toEqual([
      expect.objectContaining({
        line: lineOf(day, 'day: 32'),
        field: `${FIELD}due.day`,
        message: '32不是月中的日期（1-31；某月没有的日期按该月最后一天计）',
      }),
    ]);
    const first = withObligation('    period: month\n    due: { rule: following-month-day, day: 1, before: true }\n');
    expect(problems(first).map((p) => p.message)).toEqual([
      'day 1 加 before: true 就是期次本身的最后一天：请写 rule: period-end',
    ]);
    const once = withObligation('    period: once\n    due: { rule: next-month-end }\n');
    expect(problems(once).map((p) => p.message)).toContain(
      '一次性任务（period: once）须用 rule: fixed-date（或 before-event/after-event）',
    );
  });

  test('in-period-month-day is for yearly periods and a day of every year', () => {
    const quarterly = withObligation(
      '    period: quarter\n    due: { rule: in-period-month-day, monthDay: "03-31" }\n',
    );
    expect(problems(quarterly).map((p) => p.message)).toEqual([
      'rule: in-period-month-day 只用于 period: year，不能用于 period: quarter',
    ]);
    const leap = withObligation('    period: year\n    due: { rule: in-period-month-day, monthDay: "02-29" }\n');
    expect(problems(leap)).toEqual([
      expect.objectContaining({
        line: lineOf(leap, '02-29'),
        field: `${FIELD}due.monthDay`,
        message: '“02-29”不是每年都有的日期',
      }),
    ]);
  });

  test('rates and counts need a threshold in range; threshold and measure belong to them only', () => {
    const missing = withObligation('    completion: rate\n    period: year\n    due: { rule: period-end }\n');
    expect(problems(missing)).toEqual([
      expect.objectContaining({
        field: `${FIELD}threshold`,
        message: '缺失：completion: rate 须给出可接受的最低百分比，如 90',
      }),
    ]);
    const fraction = withObligation(
      '    completion: rate\n    threshold: 0\n    period: year\n    due: { rule: period-end }\n',
    );
    expect(problems(fraction).map((p) => p.message)).toEqual(['0不是大于0且不超过100的百分比（“不低于90%”写 90）']);
    const over = withObligation(
      '    completion: rate\n    threshold: 120\n    period: year\n    due: { rule: period-end }\n',
    );
    expect(problems(over)).toEqual([
      expect.objectContaining({ line: lineOf(over, 'threshold: 120'), field: `${FIELD}threshold` }),
    ]);
    const half = withObligation(
      '    completion: count\n    threshold: 2.5\n    period: year\n    due: { rule: period-end }\n',
    );
    expect(problems(half).map((p) => p.message)).toEqual(['2.5须为1至1000000之间的整数']);
    const quota = withObligation(
      '    completion: count\n    threshold: 3\n    quota: 3\n    period: year\n    due: { rule: period-end }\n',
    );
    expect(problems(quota).map((p) => p.message)).toEqual(['只用于 completion: quota；completion: count 用 threshold']);
    const single = withObligation(
      '    threshold: 90\n    measure: 答复率\n    period: year\n    due: { rule: period-end }\n',
    );
    expect(problems(single).map((p) => p.message)).toEqual([
      '只用于 completion: rate 或 count',
      '只用于 completion: rate 或 count',
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
        message: expect.stringContaining('须有人员名单文件（用 --rosters rosters.csv 给出'),
      }),
    ]);
    const rows =
      'unit,roster,person,name\nfinance,执法人员,1,王建国\nfinanse,执法人员,2,李红\nfinance,培训对象,3,赵强\n';
    expect(problems(catalog, rows)).toEqual([
      expect.objectContaining({
        file: 'rosters.csv',
        line: 3,
        field: 'unit',
        message: '未知的单位“finanse”：单位名录中没有此编号的单位',
      }),
      expect.objectContaining({
        file: 'rosters.csv',
        line: 4,
        field: 'roster',
        message: '名单“培训对象”没有被任务清单中任何按人计的任务使用（在用的名单：执法人员）',
      }),
    ]);
    expect(problems(catalog, 'unit,roster,person,name\njustice,执法人员,1,王建国\n')).toEqual([
      expect.objectContaining({
        file: 'catalog.yaml',
        field: `${FIELD}roster`,
        message: '名单“执法人员”中没有 finance 的人员：请把人员加入名单文件，或不再给这些单位指派此任务',
      }),
    ]);
    expect(problems(catalog, Buffer.from([0x50, 0x4b, 3, 4, 0, 0]))).toEqual([
      expect.objectContaining({
        file: 'rosters.csv',
        line: 1,
        message: '不是 CSV 文本文件（是 .xlsx 工作簿吗？请另存为“CSV UTF-8”）',
      }),
    ]);
    const missingQuota = withObligation(
      '    completion: per-person\n    roster: 执法人员\n    period: year\n    due: { rule: period-end }\n',
    );
    expect(
      problems(missingQuota, 'unit,roster,person,name\nfinance,执法人员,1,王建国\n').map((p) => p.message),
    ).toEqual(['缺失：completion: per-person 须给出每人须达到的数量']);
    const stray = withObligation(
      '    roster: 执法人员\n    quotaUnit: hours\n    period: year\n    due: { rule: period-end }\n',
    );
    expect(problems(stray).map((p) => p.message)).toEqual([
      '只用于 completion: per-person',
      '只用于 completion: per-person',
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
          message: expect.stringContaining('事件pc-session须有事件文件（用 --events events.yaml 给出'),
        }),
      ]);
      expect(load(billCatalog, 'events:\n  - { id: pc-sesion, date: 2027-06-20 }\n').problems).toEqual([
        expect.objectContaining({
          file: 'catalog.yaml',
          line: lineOf(billCatalog, 'pc-session'),
          message: expect.stringContaining('未知的事件“pc-session”：请在'),
        }),
      ]);
      const bad =
        'events:\n  - { id: pc-session, date: 2027-02-30 }\n  - { id: pc-session }\n  - { id: x, when: 2027-01-01 }\n';
      expect(load(billCatalog, bad).problems).toEqual([
        expect.objectContaining({
          file: 'events.yaml',
          line: 2,
          field: 'events[0] (pc-session) › date',
          message: '"2027-02-30"不是 2027-06-20 这样的日期（日期未定时不填）',
        }),
        expect.objectContaining({
          file: 'events.yaml',
          line: 3,
          message: '事件编号“pc-session”重复（另见 events[0]）',
        }),
        expect.objectContaining({ file: 'events.yaml', line: 4, message: '未知的键“when”（拼写错误？）' }),
      ]);
      const inCatalog = withObligation(
        '    period: once\n    due: { rule: before-event, event: pc-session, months: 1, date: "2027-06-20" }\n',
      );
      expect(load(inCatalog, 'events:\n  - { id: pc-session }\n').problems.map((p) => p.message)).toEqual([
        '事件pc-session的日期来自事件文件（--events），不写在任务清单中',
      ]);
      const yearly = withObligation('    period: year\n    due: { rule: after-event, event: pc-session, days: 30 }\n');
      expect(load(yearly, 'events:\n  - { id: pc-session }\n').problems.map((p) => p.message)).toEqual([
        'rule: after-event 只用于 period: once，不能用于 period: year',
      ]);
      const both = withObligation(
        '    period: once\n    due: { rule: before-event, event: pc-session, months: 1, days: 3 }\n',
      );
      expect(load(both, 'events:\n  - { id: pc-session }\n').problems.map((p) => p.message)).toEqual([
        'days 和 months 须给出且只给出其中一个',
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
      expect(() => setEventDate(text, 'pc-session', '2027-13-01')).toThrow('“2027-13-01”不是日期');
      expect(() => setEventDate(text, 'other', null)).toThrow('事件文件中没有事件other；无需清除');
      expect(setEventDate('', 'pc-session', '2027-06-20')).toMatch(
        /events:\n\s*- id: pc-session\n\s*date: ["']?2027-06-20/,
      );
    });
  });
});
