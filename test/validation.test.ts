import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { FileProblem, InvalidInputError, loadInputs } from '../config/load';

const fixtures = path.join(__dirname, 'fixtures');
const goodCatalog = readFileSync(path.join(fixtures, 'catalog.yaml'), 'utf8');
const goodDirectory = readFileSync(path.join(fixtures, 'directory.yaml'), 'utf8');

/** Writes the two documents to a fresh folder and returns the problems loading them reports. */
function problems(catalog: string, directory = goodDirectory, calendar?: string): FileProblem[] {
  const dir = mkdtempSync(path.join(tmpdir(), 'duban-validate-'));
  const files = { catalog: path.join(dir, 'catalog.yaml'), directory: path.join(dir, 'directory.yaml'), calendar: calendar && path.join(dir, 'calendar.yaml') };
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
    const bad = goodCatalog.replace('assignees: { units: [finance] }', 'assignees: { units: [finanse] }').replace('tags: [县区]', 'tags: [区县]');
    const found = problems(bad);
    expect(found).toEqual([
      expect.objectContaining({ file: 'catalog.yaml', line: lineOf(bad, '区县'), field: 'obligations[0] (annual-report) › assignees.tags[0]', message: expect.stringContaining('tag "区县" selects no unit') }),
      expect.objectContaining({ file: 'catalog.yaml', line: lineOf(bad, 'finanse'), field: 'obligations[2] (study-session) › assignees.units[0]', message: expect.stringContaining('unknown unit "finanse"') }),
    ]);
  });

  test('duplicate ids in the catalog and in the directory', () => {
    const bad = goodCatalog.replace('id: study-session', 'id: annual-report');
    const dir = goodDirectory.replace('id: finance', 'id: justice');
    const found = problems(bad, dir);
    expect(found).toContainEqual(expect.objectContaining({ file: 'catalog.yaml', line: lineOf(bad, 'id: annual-report', 20), message: 'duplicate obligation id "annual-report" (also obligations[0])' }));
    expect(found).toContainEqual(expect.objectContaining({ file: 'directory.yaml', line: lineOf(dir, 'id: justice', 20), field: 'units[2] (justice) › id' }));
  });

  test('impossible dates', () => {
    const bad = goodCatalog.replace('monthDay: "03-01"', 'monthDay: "02-30"');
    expect(problems(bad)).toEqual([
      expect.objectContaining({ line: lineOf(bad, '02-30'), field: 'obligations[0] (annual-report) › due.monthDay', message: '"02-30" is not a day of the year' }),
    ]);
    const once = `${goodCatalog}
  - id: one-off
    title: 一次性任务
    basis: [{ document: 工作要点, quote: 年底前完成 }]
    assignees: { units: [justice] }
    period: once
    due: { rule: fixed-date, date: "2027-02-29" }
`;
    expect(problems(once)).toEqual([expect.objectContaining({ line: lineOf(once, '2027-02-29'), field: 'obligations[3] (one-off) › due.date', message: '"2027-02-29" is not a date in the calendar' })]);
  });

  test('a reminder after due, a negative escalation, unordered ladders', () => {
    const bad = goodCatalog.replace(
      '    verification: true\n',
      '    verification: true\n    reminders: [10, -2]\n    escalation:\n      - { level: 2, after: 5 }\n      - { level: 1, after: 3 }\n      - { level: 3, after: -1 }\n',
    );
    const messages = problems(bad).map((p) => [p.line, p.field, p.message.slice(0, 40)]);
    expect(messages).toEqual([
      [lineOf(bad, 'reminders: [10, -2]'), 'obligations[0] (annual-report) › reminders[1]', '-2 would be a reminder after due: remind'],
      [lineOf(bad, '{ level: 1, after: 3 }'), 'obligations[0] (annual-report) › escalation[1].level', 'escalation levels may not go down; level'],
      [lineOf(bad, '{ level: 1, after: 3 }'), 'obligations[0] (annual-report) › escalation[1].after', 'escalation steps must come later one aft'],
      [lineOf(bad, 'after: -1'), 'obligations[0] (annual-report) › escalation[2].after', '-1 is not after due: escalations count w'],
      [lineOf(bad, 'after: -1'), 'obligations[0] (annual-report) › escalation[2].after', 'escalation steps must come later one aft'],
    ]);
    const unordered = goodCatalog.replace('    verification: true\n', '    verification: true\n    reminders: [1, 3, 10]\n');
    expect(problems(unordered)[0]?.message).toMatch(/descending order/);
  });

  test('unknown keys (typos) and wrong types', () => {
    const bad = goodCatalog.replace('    verification: true\n', '    verifcation: true\n').replace('noticeHour: 9', 'noticeHour: "nine"');
    expect(problems(bad)).toEqual([
      expect.objectContaining({ line: lineOf(bad, 'noticeHour'), column: 13, field: 'noticeHour', message: 'must be a number, not the text "nine"' }),
      expect.objectContaining({ line: lineOf(bad, 'verifcation'), column: 5, field: 'obligations[0] (annual-report) › verifcation', message: 'unknown key "verifcation" (a typo?)' }),
    ]);
    const period = goodCatalog.replace('period: quarter', 'period: quarterly');
    expect(problems(period)[0]).toMatchObject({ field: 'obligations[2] (study-session) › period', message: expect.stringContaining('must be one of "year", "half-year", "quarter", "month", "once", not the text "quarterly"') });
  });

  test('missing contacts and bad email addresses', () => {
    const dir = goodDirectory
      .replace("      liaison: { name: 陈联络员, email: finance.liaison@test.example.org }\n", '')
      .replace('county-a.head@test.example.org', 'county-a.head');
    expect(problems(goodCatalog, dir)).toEqual([
      expect.objectContaining({ file: 'directory.yaml', line: lineOf(dir, 'head: { name: 冯局长'), field: 'units[2] (finance) › contacts.liaison', message: 'is missing' }),
      expect.objectContaining({ file: 'directory.yaml', line: lineOf(dir, 'county-a.head'), field: 'units[3] (county-a) › contacts.head.email', message: expect.stringContaining('is not an email address') }),
    ]);
  });

  test('an assigned unit without a supervising office, and an unknown one', () => {
    const dir = goodDirectory.replace('    supervisor: office\n', '').replace('supervisor: office', 'supervisor: ofice');
    const found = problems(goodCatalog, dir);
    expect(found.map((p) => p.message)).toEqual([
      'unit "justice" is assigned half-year-report but has no supervisor to escalate to',
      'unknown unit "ofice": the supervising office must be a unit of the directory',
    ]);
  });

  test('YAML syntax errors and duplicate keys name their line', () => {
    const dupe = goodCatalog.replace('    period: year\n', '    period: year\n    period: quarter\n');
    expect(problems(dupe)).toEqual([expect.objectContaining({ line: lineOf(dupe, 'period: quarter'), message: expect.stringContaining('Map keys must be unique') })]);
    const broken = goodCatalog.replace('assignees: { tags: [县区] }', 'assignees: { tags: [县区 }');
    expect(problems(broken)[0]).toMatchObject({ line: lineOf(broken, 'assignees: { tags'), message: expect.stringMatching(/^YAML: /) });
  });

  test('every problem of both files is reported at once', () => {
    const bad = goodCatalog.replace('monthDay: "03-01"', 'monthDay: "02-30"').replace('units: [finance]', 'units: [nobody]');
    const dir = goodDirectory.replace('kind: county', 'kind: prefecture');
    const found = problems(bad, dir);
    expect(found.map((p) => p.file)).toEqual(['catalog.yaml', 'catalog.yaml', 'directory.yaml']);
  });

  test('a calendar file with a bad date is reported with its line', () => {
    const calendar = 'years:\n  "2027":\n    source: 测试通知\n    holidays:\n      - { name: 春节, from: 2027-02-05, to: 2027-02-30 }\n';
    expect(problems(goodCatalog, goodDirectory, calendar)).toEqual([
      expect.objectContaining({ file: 'calendar.yaml', line: 5, field: 'years.2027.holidays[0].to', message: 'the text "2027-02-30" is not a date such as "2027-02-06"' }),
    ]);
  });
});
