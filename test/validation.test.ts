import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { FileProblem, InvalidInputError, assertRegistrable, loadCalendarFile, loadInputs } from '../config/load';
import { WorkingCalendar } from '../domain/calendar';
import { parseDate } from '../domain/dates';
import { DEFINITION_MAX_BYTES, definitionProblems, pastOneOffWarnings, raiseWarnings } from '../domain/validate';

const fixtures = path.join(__dirname, 'fixtures');
const goodCatalog = readFileSync(path.join(fixtures, 'catalog.yaml'), 'utf8');
const goodDirectory = readFileSync(path.join(fixtures, 'directory.yaml'), 'utf8');

/** Writes the two documents to a fresh folder and returns the problems loading them reports. */
function problems(catalog: string, directory = goodDirectory, calendar?: string): FileProblem[] {
  const dir = mkdtempSync(path.join(tmpdir(), 'duban-validate-'));
  const files = {
    catalog: path.join(dir, 'catalog.yaml'),
    directory: path.join(dir, 'directory.yaml'),
    calendar: calendar && path.join(dir, 'calendar.yaml'),
  };
  writeFileSync(files.catalog, catalog);
  writeFileSync(files.directory, directory);
  if (calendar) writeFileSync(files.calendar!, calendar);
  try {
    loadInputs(files);
  } catch (e) {
    if (e instanceof InvalidInputError) return e.problems.map((p) => ({ ...p, file: path.basename(p.file) }));
    throw e;
  }
  return [];
}

/** The 1-based line of the first line containing `needle` in `text`. */
const lineOf = (text: string, needle: string, from = 0) => {
  const lines = text.split('\n');
  const i = lines.findIndex((l, n) => n >= from && l.includes(needle));
  if (i < 0) throw new Error(`"${needle}" not in text`);
  return i + 1;
};

describe('validation reports file, line and field for each class of bad input', () => {
  test('the fixtures are valid', () => {
    expect(problems(goodCatalog)).toEqual([]);
  });

  test('unknown unit, and a tag selector that selects nobody', () => {
    const bad = goodCatalog
      .replace('assignees: { units: [finance] }', 'assignees: { units: [finanse] }')
      .replace('tags: [县区]', 'tags: [区县]');
    const found = problems(bad);
    expect(found).toEqual([
      expect.objectContaining({
        file: 'catalog.yaml',
        line: lineOf(bad, '区县'),
        field: 'obligations[0] (annual-report) › assignees.tags[0]',
        message: expect.stringContaining('标签“区县”没有选中任何单位'),
      }),
      expect.objectContaining({
        file: 'catalog.yaml',
        line: lineOf(bad, 'finanse'),
        field: 'obligations[2] (study-session) › assignees.units[0]',
        message: expect.stringContaining('未知的单位“finanse”'),
      }),
    ]);
  });

  test('duplicate ids in the catalog and in the directory', () => {
    const bad = goodCatalog.replace('id: study-session', 'id: annual-report');
    const dir = goodDirectory.replace('id: finance', 'id: justice');
    const found = problems(bad, dir);
    expect(found).toContainEqual(
      expect.objectContaining({
        file: 'catalog.yaml',
        line: lineOf(bad, 'id: annual-report', 20),
        message: '任务编号“annual-report”重复（另见 obligations[0]）',
      }),
    );
    expect(found).toContainEqual(
      expect.objectContaining({
        file: 'directory.yaml',
        line: lineOf(dir, 'id: justice', 20),
        field: 'units[2] (justice) › id',
      }),
    );
  });

  test('impossible dates', () => {
    const bad = goodCatalog.replace('monthDay: "03-01"', 'monthDay: "02-30"');
    expect(problems(bad)).toEqual([
      expect.objectContaining({
        line: lineOf(bad, '02-30'),
        field: 'obligations[0] (annual-report) › due.monthDay',
        message: '“02-30”不是一年中的日期',
      }),
    ]);
    const once = `${goodCatalog}
  - id: one-off
    title: 一次性任务
    basis: [{ document: 工作要点, quote: 年底前完成 }]
    assignees: { units: [justice] }
    period: once
    due: { rule: fixed-date, date: "2027-02-29" }
`;
    expect(problems(once)).toEqual([
      expect.objectContaining({
        line: lineOf(once, '2027-02-29'),
        field: 'obligations[3] (one-off) › due.date',
        message: '“2027-02-29”不是日历上的日期',
      }),
    ]);
  });

  test('a reminder after due, a negative escalation, unordered ladders', () => {
    const bad = goodCatalog.replace(
      '    verification: true\n',
      '    verification: true\n    reminders: [10, -2]\n    escalation:\n      - { level: 2, after: 5 }\n      - { level: 1, after: 3 }\n      - { level: 3, after: -1 }\n',
    );
    const messages = problems(bad).map((p) => [p.line, p.field, p.message.slice(0, 12)]);
    expect(messages).toEqual([
      [lineOf(bad, 'reminders: [10, -2]'), 'obligations[0] (annual-report) › reminders[1]', '-2将是截止后的提醒：提'],
      [
        lineOf(bad, '{ level: 1, after: 3 }'),
        'obligations[0] (annual-report) › escalation[1].level',
        '催办级别不能降低；第1级',
      ],
      [
        lineOf(bad, '{ level: 1, after: 3 }'),
        'obligations[0] (annual-report) › escalation[1].after',
        '催办各步须依次后延；3不',
      ],
      [lineOf(bad, 'after: -1'), 'obligations[0] (annual-report) › escalation[2].after', '-1不在截止之后：催办按'],
      [lineOf(bad, 'after: -1'), 'obligations[0] (annual-report) › escalation[2].after', '催办各步须依次后延；-1'],
    ]);
    const unordered = goodCatalog.replace(
      '    verification: true\n',
      '    verification: true\n    reminders: [1, 3, 10]\n',
    );
    expect(problems(unordered)[0]?.message).toMatch(/从多到少排列/);
  });

  test('unknown keys (typos) and wrong types', () => {
    const bad = goodCatalog
      .replace('    verification: true\n', '    verifcation: true\n')
      .replace('noticeHour: 9', 'noticeHour: "nine"');
    expect(problems(bad)).toEqual([
      expect.objectContaining({
        line: lineOf(bad, 'noticeHour'),
        column: 13,
        field: 'noticeHour',
        message: '须为数字，而不是文本 "nine"',
      }),
      expect.objectContaining({
        line: lineOf(bad, 'verifcation'),
        column: 5,
        field: 'obligations[0] (annual-report) › verifcation',
        message: '未知的键 "verifcation"（拼写错误？）',
      }),
    ]);
    const period = goodCatalog.replace('period: quarter', 'period: quarterly');
    expect(problems(period)[0]).toMatchObject({
      field: 'obligations[2] (study-session) › period',
      message: expect.stringContaining(
        '须为 "year"、"half-year"、"quarter"、"month"、"once" 之一，而不是文本 "quarterly"',
      ),
    });
  });

  test('missing contacts and bad email addresses', () => {
    const dir = goodDirectory
      .replace('      liaison: { name: 陈联络员, email: finance.liaison@test.example.org }\n', '')
      .replace('county-a.head@test.example.org', 'county-a.head');
    expect(problems(goodCatalog, dir)).toEqual([
      expect.objectContaining({
        file: 'directory.yaml',
        line: lineOf(dir, 'head: { name: 冯局长'),
        field: 'units[2] (finance) › contacts.liaison',
        message: '缺失',
      }),
      expect.objectContaining({
        file: 'directory.yaml',
        line: lineOf(dir, 'county-a.head'),
        field: 'units[3] (county-a) › contacts.head.email',
        message: expect.stringContaining('不是有效的邮箱地址'),
      }),
    ]);
  });

  test('an assigned unit without a supervising office, and an unknown one', () => {
    const dir = goodDirectory
      .replace('    supervisor: office\n', '')
      .replace('supervisor: office', 'supervisor: ofice');
    const found = problems(goodCatalog, dir);
    expect(found.map((p) => p.message)).toEqual([
      '单位“justice”承办 half-year-report，但没有可接收催办的督察单位（supervisor）',
      '未知的单位“ofice”：督察单位须是单位名录中的单位',
    ]);
  });

  test('YAML syntax errors and duplicate keys name their line', () => {
    const dupe = goodCatalog.replace('    period: year\n', '    period: year\n    period: quarter\n');
    expect(problems(dupe)).toEqual([
      expect.objectContaining({
        line: lineOf(dupe, 'period: quarter'),
        message: expect.stringContaining('YAML 语法错误：键重复（Map keys must be unique'),
      }),
    ]);
    const broken = goodCatalog.replace('assignees: { tags: [县区] }', 'assignees: { tags: [县区 }');
    expect(problems(broken)[0]).toMatchObject({
      line: lineOf(broken, 'assignees: { tags'),
      message: expect.stringMatching(/^YAML 语法错误：/),
    });
  });

  test('every problem of both files is reported at once', () => {
    const bad = goodCatalog
      .replace('monthDay: "03-01"', 'monthDay: "02-30"')
      .replace('units: [finance]', 'units: [nobody]');
    const dir = goodDirectory.replace('kind: county', 'kind: prefecture');
    const found = problems(bad, dir);
    expect(found.map((p) => p.file)).toEqual(['catalog.yaml', 'catalog.yaml', 'directory.yaml']);
  });

  test('a calendar file with a bad date is reported with its line', () => {
    const calendar =
      'years:\n  "2027":\n    source: 测试通知\n    holidays:\n      - { name: 春节, from: 2027-02-05, to: 2027-02-30 }\n';
    expect(problems(goodCatalog, goodDirectory, calendar)).toEqual([
      expect.objectContaining({
        file: 'calendar.yaml',
        line: 5,
        field: 'years.2027.holidays[0].to',
        message: '文本 "2027-02-30" 不是“2027-02-06”这样的日期',
      }),
    ]);
  });
});

/** Like problems(), timing the load: hostile files must be refused quickly. */
function timedProblems(catalog: string | Buffer, directory: string = goodDirectory) {
  const dir = mkdtempSync(path.join(tmpdir(), 'duban-hostile-'));
  const files = { catalog: path.join(dir, 'catalog.yaml'), directory: path.join(dir, 'directory.yaml') };
  writeFileSync(files.catalog, catalog);
  writeFileSync(files.directory, directory);
  const started = Date.now();
  let found: FileProblem[] = [];
  try {
    loadInputs(files);
  } catch (e) {
    if (!(e instanceof InvalidInputError)) throw e;
    found = e.problems.map((p) => ({ ...p, file: path.basename(p.file) }));
  }
  return { found, ms: Date.now() - started };
}

describe('hostile YAML is refused before or while parsing, naming the file (issue 13.1, 12.6)', () => {
  test('a 10 MB file is refused by its size, without reading it into the parser', () => {
    const { found, ms } = timedProblems(`a: ${'['.repeat(5_000_000)}${']'.repeat(5_000_000)}\n`);
    expect(found).toEqual([
      expect.objectContaining({
        file: 'catalog.yaml',
        line: 1,
        message: expect.stringMatching(/大小为 9\.5 MB，超过文件上限 4 MB/),
      }),
    ]);
    expect(ms).toBeLessThan(2000);
  });

  test('deeply nested flow collections, block mappings and "- - -" entries are refused by a scan before parsing', () => {
    for (const text of [
      `timeZone: Asia/Shanghai\nobligations: ${'[{a: '.repeat(600_000)}\n`,
      `obligations:\n${Array.from({ length: 200 }, (_, i) => `${' '.repeat(i + 2)}k${i}:`).join('\n')}\n`,
      `obligations:\n  ${'- '.repeat(1_500_000)}x\n`,
    ]) {
      const { found, ms } = timedProblems(text);
      expect(found).toEqual([
        expect.objectContaining({
          file: 'catalog.yaml',
          message: '嵌套超过32层；这些文件最多只需几层',
        }),
      ]);
      expect(found[0]!.line).toBeLessThanOrEqual(33);
      expect(ms).toBeLessThan(2000);
    }
    // The shipped files are far from the limit, and brackets inside texts do not count.
    expect(
      problems(
        goodCatalog.replace('title: 法治政府建设年度报告', 'title: "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["'),
      ),
    ).toEqual([]);
    expect(
      problems(goodCatalog.replace('title: 法治政府建设年度报告', `title: |\n      报告\n      ${'['.repeat(100)}`)),
    ).toEqual([
      expect.objectContaining({
        message: expect.stringContaining('须为一行，不能含换行、制表符或控制字符'),
      }),
    ]);
  });

  test('an alias bomb, an undefined alias and more than 100 aliases: a problem naming the file, no stack trace', () => {
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 9; i++)
      levels.push(
        `${'abcdefghi'[i]}: &${'abcdefghi'[i]} [${Array(9)
          .fill(`*${'abcdefghi'[i - 1]}`)
          .join(',')}]`,
      );
    const bomb = timedProblems(`${levels.join('\n')}\n${goodCatalog}`);
    expect(bomb.found).toEqual([
      expect.objectContaining({ file: 'catalog.yaml', message: expect.stringContaining('别名炸弹') }),
    ]);
    expect(bomb.ms).toBeLessThan(2000);

    const undefinedAlias = goodCatalog.replace('noticeHour: 9', 'noticeHour: *nine');
    expect(problems(undefinedAlias)).toEqual([
      expect.objectContaining({
        file: 'catalog.yaml',
        line: lineOf(undefinedAlias, '*nine'),
        message: 'YAML 语法错误：无法解析（Unresolved alias (the anchor must be set before the alias): nine）',
      }),
    ]);

    const many = `${goodCatalog}x-note: &x 1\nx-list: [${Array(150).fill('*x').join(', ')}]\n`;
    expect(problems(many)).toEqual([
      expect.objectContaining({
        file: 'catalog.yaml',
        line: lineOf(many, 'x-list'),
        message: 'YAML：150个别名（alias），超过每个文件上限100个',
      }),
    ]);

    // A few aliases, used as intended, are fine.
    const anchors = goodDirectory
      .replace('supervisor: office\n', 'supervisor: &sup office\n')
      .replace(/(\n {4}supervisor: )office\n/, '$1*sup\n');
    expect(anchors).toContain('*sup');
    expect(problems(goodCatalog, anchors)).toEqual([]);
  });

  test('binary and non-UTF-8 files are named as such; their bytes are never echoed', () => {
    const png = Buffer.from([
      0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x1b, 0x5b, 0x33, 0x31, 0x6d,
    ]);
    const gbk = Buffer.from('timeZone: Asia/Shanghai\ntitle: ', 'utf8');
    for (const [bytes, message] of [
      [png, /^不是文本文件（偏移 8 处有零字节）/],
      [Buffer.concat([gbk, Buffer.from([0xc4, 0xe3, 0xba, 0xc3, 0x1b, 0x5b, 0x32, 0x4a])]), /^不是 UTF-8 文本/],
    ] as const) {
      const { found } = timedProblems(bytes);
      expect(found).toEqual([
        expect.objectContaining({ file: 'catalog.yaml', line: 1, message: expect.stringMatching(message) }),
      ]);
      // The message is Chinese; the file's own bytes (PNG, an escape sequence, GBK 你好) never appear in it.
      expect(JSON.stringify(found)).not.toMatch(/[\u0000-\u001f\u007f-\u009f\ufffd]|PNG|你好/);
    }
  });

  test('calendar-file shape errors are sentences with file, line and field, not library text', () => {
    const cases: [string, string, string][] = [
      ['years: 3\n', 'years', '须为映射，而不是数字 3'],
      ['years:\n  "27":\n    source: s\n    holidays: []\n', 'years.27', '键 "27" 不是年份：年份写作“2027”'],
      ['years:\n  "2027":\n    source: s\n    holiday: []\n', 'years.2027.holiday', '未知的键 "holiday"（拼写错误？）'],
      ['years:\n  "2027":\n    source: s\n', 'years.2027.holidays', '缺失'],
      [
        'years:\n  "2027":\n    source: "a\\nb"\n    holidays: []\n',
        'years.2027.source',
        '文本 "a\\nb" 须为一行，不能含换行或控制字符',
      ],
    ];
    for (const [calendar, field, message] of cases) {
      expect(problems(goodCatalog, goodDirectory, calendar)).toContainEqual(
        expect.objectContaining({ file: 'calendar.yaml', field, message }),
      );
    }
  });
});

describe('every text is bounded and names are one line (issue 13.2, 13.3)', () => {
  // 3 MB of UTF-8.
  const huge = '名'.repeat(1_000_000);
  test.each([
    [
      'a unit name',
      () => [goodCatalog, goodDirectory.replace('name: 市财政局', `name: ${huge}`)],
      'units[2] (finance) › name',
    ],
    [
      'a head name',
      () => [goodCatalog, goodDirectory.replace('name: 冯局长', `name: ${huge}`)],
      'units[2] (finance) › contacts.head.name',
    ],
    [
      'an obligation title',
      () => [goodCatalog.replace('title: 一把手讲法', `title: ${huge}`), goodDirectory],
      'obligations[2] (study-session) › title',
    ],
    [
      'a quote',
      () => [goodCatalog.replace('quote: 每年3月1日之前', `quote: ${huge}`), goodDirectory],
      'obligations[0] (annual-report) › basis[0].quote',
    ],
    [
      'the jurisdiction',
      () => [goodCatalog, goodDirectory.replace('jurisdiction: 测试市', `jurisdiction: ${huge}`)],
      'jurisdiction',
    ],
    [
      'a tag',
      () => [goodCatalog, goodDirectory.replace('tags: [市直部门]', `tags: [${huge}]`)],
      'units[2] (finance) › tags[0]',
    ],
  ])('%s of 3 MB is refused as too long, and not echoed', (_, files, field) => {
    const [catalog, directory] = files();
    const found = problems(catalog!, directory);
    expect(found).toContainEqual(
      expect.objectContaining({
        field,
        message: expect.stringMatching(/^过长：1000000个字符，最多(200|64|2000)个字符$/),
      }),
    );
    expect(JSON.stringify(found).length).toBeLessThan(4000);
  });

  test('names, titles and tags with line breaks or control characters are refused; quotes may hold line breaks', () => {
    const dir = goodDirectory
      .replace('name: 市财政局', 'name: "市财政局\\r\\nBcc: x@example.org"')
      .replace('name: 冯局长', 'name: "冯\\u001b[2J局长"');
    expect(problems(goodCatalog, dir).map((p) => [p.field, p.message])).toEqual([
      ['units[2] (finance) › name', '文本 "市财政局\\r\\nBcc: x@example.org" 须为一行，不能含换行、制表符或控制字符'],
      ['units[2] (finance) › contacts.head.name', '文本 "冯\\u001b[2J局长" 须为一行，不能含换行、制表符或控制字符'],
    ]);
    const rtl = goodDirectory.replace('name: 市财政局', 'name: "\\u202e局政财市"');
    expect(problems(goodCatalog, rtl)).toEqual([
      expect.objectContaining({
        field: 'units[2] (finance) › name',
        message: expect.stringContaining('须为一行'),
      }),
    ]);
    const title = goodCatalog.replace('title: 一把手讲法', 'title: "一把手\\n讲法"');
    expect(problems(title)).toEqual([
      expect.objectContaining({
        field: 'obligations[2] (study-session) › title',
        message: expect.stringContaining('须为一行'),
      }),
    ]);
    const quote = goodCatalog.replace(
      'quote: 每年3月1日之前',
      'quote: |\n          每年3月1日之前\n          报送上一年度情况',
    );
    expect(problems(quote)).toEqual([]);
    const bell = goodCatalog.replace('quote: 每年3月1日之前', 'quote: "每年\\a3月1日之前"');
    expect(problems(bell)).toEqual([
      expect.objectContaining({
        message: '文本 "每年\\u00073月1日之前" 不能含控制字符（换行和制表符可以）',
      }),
    ]);
  });

  test('lists are bounded too', () => {
    const tags = goodDirectory.replace(
      'tags: [市直部门]',
      `tags: [${Array.from({ length: 21 }, (_, i) => `t${i}`).join(', ')}]`,
    );
    expect(problems(goodCatalog, tags)).toEqual([
      expect.objectContaining({
        field: 'units[2] (finance) › tags',
        message: '过长：21项，最多20项',
      }),
    ]);
  });

  test('more than 100,000 trackers in one deployment are refused before any is built', () => {
    const units = Array.from(
      { length: 1001 },
      (_, i) =>
        `  - { id: u${i}, name: 单位${i}, kind: department, tags: [all], supervisor: office, contacts: { head: { name: 甲, email: h${i}@x.example.org }, liaison: { name: 乙, email: l${i}@x.example.org } } }`,
    );
    const dir = `${goodDirectory.trimEnd()}\n${units.join('\n')}\n`;
    const obligations = Array.from(
      { length: 100 },
      (_, i) =>
        `  - { id: o${i}, title: 任务${i}, basis: [{ document: 文件, quote: 引文 }], assignees: { tags: [all] }, period: year, due: { rule: period-end } }`,
    );
    const cat = `${goodCatalog.trimEnd()}\n${obligations.join('\n')}\n`;
    const started = Date.now();
    expect(problems(cat, dir)).toEqual([
      expect.objectContaining({
        file: 'catalog.yaml',
        field: 'obligations',
        message: '任务清单和单位名录将产生100104项督办任务，超过一个部署可运行的100000项；请拆分任务清单或单位名录',
      }),
    ]);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  test('a tracker definition over the 64 KB budget is refused at its obligation, before anything starts', () => {
    // Every field within its own limit, but together too heavy for one tracker.
    const basis = Array.from(
      { length: 10 },
      (_, i) => `      - { document: 文件${i}, quote: ${'法'.repeat(2000)} }`,
    ).join('\n');
    const heavy = goodCatalog.replace(
      '    basis:\n      - { document: 实施方案, quote: 每季度要开展一次“一把手讲法”集体学法活动 }\n',
      `    basis:\n${basis}\n    deliverable: ${'材'.repeat(2000)}\n`,
    );
    expect(heavy).not.toBe(goodCatalog);
    const found = problems(heavy);
    expect(found).toEqual([
      expect.objectContaining({
        file: 'catalog.yaml',
        line: lineOf(heavy, '- id: study-session'),
        field: 'obligations[2] (study-session)',
        message: expect.stringMatching(
          /^督办任务 study-session\/finance 将有6\d KB，超过一项督办任务可承载的64 KB（Temporal 的数据大小限制）；最大的部分：任务本身（title、basis、deliverable、howToSubmit） 6\d KB。请缩短。$/,
        ),
      }),
    ]);
  });

  test('register checks every definition before connecting: one too heavy stops the run', () => {
    const inputs = loadInputs({
      catalog: path.join(fixtures, 'catalog.yaml'),
      directory: path.join(fixtures, 'directory.yaml'),
    });
    expect(() => assertRegistrable(inputs)).not.toThrow();
    expect(definitionProblems(inputs.trackers, inputs.catalog)).toEqual([]);
    const last = inputs.trackers[inputs.trackers.length - 1]!;
    const trackers = [
      ...inputs.trackers.slice(0, -1),
      { ...last, unit: { ...last.unit, name: 'x'.repeat(DEFINITION_MAX_BYTES) } },
    ];
    let error: unknown;
    try {
      assertRegistrable({ ...inputs, trackers });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).problems).toEqual([
      expect.objectContaining({
        field: `obligations[2] (${last.obligation.id})`,
        message: expect.stringMatching(
          new RegExp(
            `^督办任务 ${last.trackerId} 将有6\\d KB，.*最大的部分：单位“${last.unit.id}”（名称和联系人） 6\\d KB`,
          ),
        ),
      }),
    ]);
    // That the register command runs this check before it connects is tested through the command itself
    // (test/cli.test.ts: a definition too heavy for Temporal, against a closed port, exits 2).
  });
});

describe('validate refuses what plan cannot run (issue 12.6, 14.3)', () => {
  const once = (date: string) => `${goodCatalog}
  - id: one-off
    title: 一次性任务
    basis: [{ document: 工作要点, quote: 年底前完成 }]
    assignees: { units: [justice] }
    period: once
    due: { rule: fixed-date, date: "${date}" }
`;
  test('fixed dates outside 2000-2100', () => {
    expect(problems(once('9999-12-31'))).toEqual([
      expect.objectContaining({
        field: 'obligations[3] (one-off) › due.date',
        message: '“9999-12-31”超出 duban 可排期的年份（2000-2100）',
      }),
    ]);
    expect(problems(once('1999-12-31'))[0]?.message).toMatch(/超出 duban 可排期的年份/);
    expect(problems(once('2100-12-31'))).toEqual([]);
  });

  test.each([
    ['reminders: [100000, 3, 1, 0]', 'reminders[0]', '截止前100000个工作日超过250个'],
    ['reminders: [1000000]', 'reminders[0]', '截止前1000000个工作日超过250个'],
    [
      'escalation: [{ level: 1, after: 1 }, { level: 3, after: 100000, repeatWeekly: true }]',
      'escalation[1].after',
      '截止后100000个工作日超过250个',
    ],
    ['noticeHour: 24', 'noticeHour', '24不是有效的小时（0-23）'],
  ])('%s', (line, field, message) => {
    const bad = goodCatalog.replace('    verification: true\n', `    verification: true\n    ${line}\n`);
    expect(problems(bad)).toEqual([
      expect.objectContaining({
        field: `obligations[0] (annual-report) › ${field}`,
        message: expect.stringContaining(message),
      }),
    ]);
  });

  test('the largest allowed ladders still plan', () => {
    const edge = goodCatalog.replace(
      '    verification: true\n',
      '    verification: true\n    reminders: [250, 0]\n    escalation: [{ level: 1, after: 1 }, { level: 3, after: 250, repeatWeekly: true }]\n',
    );
    expect(problems(edge)).toEqual([]);
  });

  test.each([
    ['months: 1000000000', 'due.months', '期次结束后1000000000个月超过24个月'],
    ['days: 1000000000', 'due.days', '期次结束后1000000000天超过730天'],
    ['months: 25', 'due.months', '期次结束后25个月超过24个月'],
  ])('a due rule of %s', (rule, field, message) => {
    const bad = goodCatalog.replace(
      'due: { rule: after-period-end, days: 15 }',
      `due: { rule: after-period-end, ${rule} }`,
    );
    expect(problems(bad)).toEqual([
      expect.objectContaining({
        field: `obligations[1] (half-year-report) › ${field}`,
        message: expect.stringContaining(message),
      }),
    ]);
  });

  test('a quota of a billion events', () => {
    expect(problems(goodCatalog.replace('quota: 1', 'quota: 1000000000'))[0]).toMatchObject({
      field: 'obligations[2] (study-session) › quota',
      message: '每个期次1000000000次超过1000次',
    });
  });
});

describe('calendar files (issue 12.6)', () => {
  // 国务院办公厅关于2019年部分节假日安排的通知 (国办发明电〔2018〕15号): 元旦 2018年12月30日至2019年1月1日放假调休，
  // 共3天。2018年12月29日（星期六）上班。
  const notice2019 = `years:
  "2019":
    source: 国务院办公厅关于2019年部分节假日安排的通知
    published: "2018-12-06"
    holidays:
      - { name: 元旦, from: "2018-12-30", to: "2019-01-01" }
      - { name: 春节, from: "2019-02-04", to: "2019-02-10" }
    workdays: ["2018-12-29", "2019-02-02", "2019-02-03"]
`;
  test('a make-up working day in the neighbouring year is accepted and counts as a working day', () => {
    expect(problems(goodCatalog, goodDirectory, notice2019)).toEqual([]);
    const { arrangements } = loadCalendarFile(writeTemp('calendar.yaml', notice2019));
    const calendar = new WorkingCalendar(arrangements);
    expect(calendar.isWorkingDay(parseDate('2018-12-29')!)).toBe(true); // a Saturday
    expect(calendar.isMakeUpWorkday(parseDate('2018-12-29')!)).toBe(true);
    expect(calendar.isHoliday(parseDate('2018-12-31')!)).toBe(true);
    expect(calendar.isWorkingDay(parseDate('2019-02-02')!)).toBe(true);
  });

  test('days two years away, over-long ranges and years outside 2000-2100 are refused', () => {
    const far = notice2019.replace('"2018-12-29"', '"2017-12-30"');
    expect(problems(goodCatalog, goodDirectory, far)).toEqual([
      expect.objectContaining({
        file: 'calendar.yaml',
        line: 8,
        field: 'years.2019.workdays[0]',
        message: '2017-12-30不在2019年或相邻年份（2018、2020）内',
      }),
    ]);
    const long = notice2019.replace('to: "2019-02-10"', 'to: "2019-04-10"');
    expect(problems(goodCatalog, goodDirectory, long)).toEqual([
      expect.objectContaining({
        field: 'years.2019.holidays[1].to',
        message: '一个区间放假66天：假期区间最多31天',
      }),
    ]);
    const chained = `years:\n  "2027":\n    source: s\n    holidays:\n${[1, 2, 3].map((m) => `      - { name: h, from: "2027-0${m}-01", to: "2027-0${m}-28" }`).join('\n')}\n`;
    expect(problems(goodCatalog, goodDirectory, chained)).toEqual([
      expect.objectContaining({
        field: 'years.2027.holidays',
        message: expect.stringContaining('连续超过45天没有工作日'),
      }),
    ]);
    expect(problems(goodCatalog, goodDirectory, notice2019.replace('"2019":', '"9999":'))).toEqual([
      expect.objectContaining({ field: 'years.9999', message: '9999超出 duban 可排期的年份（2000-2100）' }),
    ]);
  });
});

function writeTemp(name: string, text: string): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'duban-validate-')), name);
  writeFileSync(file, text);
  return file;
}

describe('one pass (#19 item 11): key typos do not hide the other problems', () => {
  test('an unknown unit, 2027-02-30, monthDay "13-01", a bad reminder order and noticeHour 25, beside key typos', () => {
    const bad = goodCatalog
      .replace('noticeHour: 9', 'noticeHour: 25')
      .replace('assignees: { units: [finance] }', 'assignees: { units: [finanse] }\n    reminder: [1, 3]')
      .replace('monthDay: "03-01", before: true', 'monthDay: "13-01", before: true')
      .replace('    verification: true', '    verificaton: true\n    reminders: [1, 5]')
      .replace(
        '  - id: half-year-report',
        '  - id: one-off\n    title: 专项任务\n    basis: [{ document: 通知, quote: 限期完成 }]\n    assignees: { units: [finance] }\n    period: once\n    due: { rule: fixed-date, date: "2027-02-30" }\n    dew: x\n  - id: half-year-report',
      );
    const found = problems(bad);
    const messages = found.map((p) => `${p.field}: ${p.message}`);
    // The typos themselves,
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/verificaton/),
        expect.stringMatching(/dew/),
        expect.stringMatching(/reminder\b/),
      ]),
    );
    // and, in the same pass, everything else.
    const at = (needle: string) => found.filter((p) => p.line === lineOf(bad, needle));
    expect(at('noticeHour: 25')).toEqual([expect.objectContaining({ message: expect.stringContaining('25') })]);
    expect(at('finanse')).toEqual(
      expect.arrayContaining([expect.objectContaining({ message: expect.stringContaining('finanse') })]),
    );
    expect(at('"13-01"').length).toBeGreaterThan(0);
    expect(at('2027-02-30').length).toBeGreaterThan(0);
    expect(at('reminders: [1, 5]')).toEqual([expect.objectContaining({ message: expect.stringMatching(/从多到少/) })]);
    // Each problem is reported once.
    expect(new Set(messages).size).toBe(messages.length);
  });
});

describe('validate warns about a one-off already due (#19 item 11)', () => {
  const oneOff = goodCatalog.replace(
    '  - id: half-year-report',
    '  - id: one-off\n    title: 专项任务\n    basis: [{ document: 通知, quote: 限期完成 }]\n    assignees: { units: [finance] }\n    period: once\n    due: { rule: fixed-date, date: "2026-11-20" }\n  - id: half-year-report',
  );
  const load = () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'duban-oneoff-'));
    writeFileSync(path.join(dir, 'catalog.yaml'), oneOff);
    writeFileSync(path.join(dir, 'directory.yaml'), goodDirectory);
    return loadInputs({ catalog: path.join(dir, 'catalog.yaml'), directory: path.join(dir, 'directory.yaml') });
  };

  test('past its date: one warning naming it; not yet due, or on the day: none', () => {
    const { catalog } = load();
    expect(pastOneOffWarnings(catalog, '2026-12-02')).toEqual([
      '一次性任务 one-off（专项任务）截止日期 2026-11-20 已过（今天 2026-12-02）：登记后即为逾期（红灯），只补发最近一次已到期的通知',
    ]);
    expect(pastOneOffWarnings(catalog, '2026-11-20')).toEqual([]);
    expect(pastOneOffWarnings(catalog, '2026-01-01')).toEqual([]);
  });
});

describe('协办 and 提级督办 (#24 items 5, 2): bad cooperators and raises are named with file, line and field, in Chinese', () => {
  /** The half-year report of 市直部门 with the given extra lines (indented as its fields). */
  const withLines = (lines: string) => goodCatalog.replace('    lead: justice\n', `    lead: justice\n${lines}`);
  /** The directory with 市委依法治市办 supervised by an office above it. */
  const nested = `${goodDirectory.replace(
    '    tags: [督察单位]\n',
    '    tags: [督察单位]\n    supervisor: region\n',
  )}  - id: region
    name: 自治区依法治区办
    kind: office
    contacts:
      head: { name: 区主任, email: region.head@test.example.org }
      liaison: { name: 区科长, email: region.liaison@test.example.org }
`;

  test('valid: cooperating units by id and tag, and a raise to an office above', () => {
    expect(
      problems(withLines('    cooperators: { units: [county-a], tags: [督察单位] }\n    raiseAfter: 10\n'), nested),
    ).toEqual([]);
  });

  test('units under offices at different levels: those with an office above are raised, the others warned of', () => {
    // 市财政局 answers to the region's office directly, which has nothing above it; 市司法局 to 依法治市办 below it.
    const mixed = nested.replace(
      '    tags: [市直部门]\n    supervisor: office\n    contacts:\n      head: { name: 冯局长',
      '    tags: [市直部门]\n    supervisor: region\n    contacts:\n      head: { name: 冯局长',
    );
    expect(mixed).not.toBe(nested);
    const catalog = withLines('    raiseAfter: 5\n');
    expect(problems(catalog, mixed)).toEqual([]);
    const dir = mkdtempSync(path.join(tmpdir(), 'duban-raise-'));
    writeFileSync(path.join(dir, 'catalog.yaml'), catalog);
    writeFileSync(path.join(dir, 'directory.yaml'), mixed);
    const loaded = loadInputs({ catalog: path.join(dir, 'catalog.yaml'), directory: path.join(dir, 'directory.yaml') });
    const raised = loaded.trackers.filter((t) => t.obligation.id === 'half-year-report');
    expect(raised.find((t) => t.unit.id === 'justice')?.raise?.office.id).toBe('region');
    expect(raised.find((t) => t.unit.id === 'finance')?.raise).toBeUndefined();
    expect(raiseWarnings(loaded.catalog, loaded.directory)).toEqual([
      '任务 half-year-report：市财政局的督察单位“自治区依法治区办”（region）没有上级督察单位，这些单位的期次不会提级督办；其余单位照常提级。',
    ]);
  });

  test('an unknown cooperating unit, a tag that selects no unit, an empty list, a list of the lead alone', () => {
    const bad = withLines('    cooperators: { units: [county-b], tags: [省直部门] }\n');
    expect(problems(bad)).toEqual([
      expect.objectContaining({
        file: 'catalog.yaml',
        line: lineOf(bad, 'county-b'),
        field: 'obligations[1] (half-year-report) › cooperators.units[0]',
        message: '单位名录中没有编号为“county-b”的单位，无法作为协办单位',
      }),
      expect.objectContaining({
        line: lineOf(bad, '省直部门'),
        field: 'obligations[1] (half-year-report) › cooperators.tags[0]',
        message: '标签“省直部门”在单位名录中没有对应的单位，协办单位展开为空',
      }),
    ]);
    const empty = withLines('    cooperators: { units: [] }\n');
    expect(problems(empty)).toEqual([
      expect.objectContaining({
        line: lineOf(empty, 'cooperators'),
        field: 'obligations[1] (half-year-report) › cooperators',
        message: expect.stringMatching(/^协办单位为空/),
      }),
    ]);
    const self = goodCatalog.replace(
      '    assignees: { units: [finance] }\n',
      '    assignees: { units: [finance] }\n    cooperators: { units: [finance] }\n',
    );
    expect(problems(self)).toEqual([
      expect.objectContaining({
        line: lineOf(self, 'cooperators'),
        field: 'obligations[2] (study-session) › cooperators',
        message: '协办单位展开后只有主办单位本身：主办单位不能同时是自己的协办单位',
      }),
    ]);
  });

  test('a raise whose office has nothing above it, out of bounds, or without an escalation ladder', () => {
    const bad = withLines('    raiseAfter: 5\n');
    expect(problems(bad)).toEqual([
      expect.objectContaining({
        file: 'catalog.yaml',
        line: lineOf(bad, 'raiseAfter'),
        field: 'obligations[1] (half-year-report) › raiseAfter',
        message:
          '无从提级督办：市司法局、市财政局的督察单位“市委依法治市办”（office）在单位名录中没有上级督察单位（该单位未设 supervisor）。请在单位名录中为office设置 supervisor，或不对这些单位设置 raiseAfter',
      }),
    ]);
    expect(problems(withLines('    raiseAfter: 0\n'), nested)).toEqual([
      expect.objectContaining({ message: '0不在1至250之间：提级督办在最后一级督办后的第几个工作日发出' }),
    ]);
    const ladderless = withLines('    raiseAfter: 3\n    escalation: []\n');
    expect(problems(ladderless, nested)).toEqual([
      expect.objectContaining({
        line: lineOf(ladderless, 'raiseAfter'),
        message: '提级督办在最后一级督办之后计算，但该任务没有督办阶梯（escalation 为空）',
      }),
    ]);
  });
});
