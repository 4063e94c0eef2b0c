/**
 * Issue #24 item 1: a directory of several levels (DOMAIN.md 26). Validation refuses a bad tree with file, line and
 * field, in Chinese: a cycle of parents, an unknown parent or jurisdiction, a unit supervised from another branch
 * (or from below), an office whose jurisdiction has no leadership, a reserved or repeated id, an undefined
 * leadership channel. Every directory without levels stays valid and resolves as before.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  DEFAULT_CATALOG,
  DEFAULT_DIRECTORY,
  DEFAULT_EVENTS,
  DEFAULT_ROSTERS,
  FileProblem,
  InvalidInputError,
  loadInputs,
} from '../config/load';
import { chainOf, circularRecipientsOf, jurisdictionTree, unitsBeneath } from '../domain/jurisdictions';
import { Directory, directorySchema } from '../domain/model';
import { resolveTrackers } from '../domain/trackers';

const levels = path.join(__dirname, 'fixtures', 'levels');
const catalog = readFileSync(path.join(levels, 'catalog.yaml'), 'utf8');
const directory = readFileSync(path.join(levels, 'directory.yaml'), 'utf8');

function problems(dir: string, cat = catalog): FileProblem[] {
  const folder = mkdtempSync(path.join(tmpdir(), 'duban-levels-'));
  writeFileSync(path.join(folder, 'catalog.yaml'), cat);
  writeFileSync(path.join(folder, 'directory.yaml'), dir);
  try {
    loadInputs({ catalog: path.join(folder, 'catalog.yaml'), directory: path.join(folder, 'directory.yaml') });
  } catch (e) {
    if (e instanceof InvalidInputError) return e.problems.map((p) => ({ ...p, file: path.basename(p.file) }));
    throw e;
  }
  return [];
}

/** The 1-based line of the first line at or after line `from` (1-based) that contains `needle`. */
const lineOf = (text: string, needle: string, from = 1) => {
  const i = text.split('\n').findIndex((l, n) => n + 1 >= from && l.includes(needle));
  if (i < 0) throw new Error(`"${needle}" not in text`);
  return i + 1;
};

/** A second county under the city, with its own office, leadership and a department. */
const COUNTY_B_JURISDICTION = `  - id: county-b
    name: 乙县
    parent: city
    level: county
    leadership:
      - { name: 吕县长, email: county-b.leader@test.example.org }
units:`;
const COUNTY_B_UNITS = `
  - id: county-b-office
    name: 乙县依法治县办
    kind: office
    jurisdiction: county-b
    supervisor: city-office
    contacts:
      head: { name: 施主任, email: county-b-office.head@test.example.org }
      liaison: { name: 张科长, email: county-b-office.liaison@test.example.org }
`;

describe('a directory of several levels: validation', () => {
  test('the three-level fixture, the demo and the one-level fixture are valid', () => {
    expect(problems(directory)).toEqual([]);
    const demo = loadInputs({
      catalog: DEFAULT_CATALOG,
      directory: DEFAULT_DIRECTORY,
      rosters: DEFAULT_ROSTERS,
      events: DEFAULT_EVENTS,
    });
    expect(demo.trackers.length).toBeGreaterThan(0);
  });

  test('an unknown parent and an unknown jurisdiction of a unit: file, line, field, in Chinese', () => {
    const bad = directory
      .replace('parent: city', 'parent: cty')
      .replace('jurisdiction: county\n', 'jurisdiction: conty\n');
    expect(problems(bad)).toEqual([
      {
        file: 'directory.yaml',
        line: lineOf(bad, 'parent: cty'),
        column: expect.any(Number),
        field: 'jurisdictions[1] (county) › parent',
        message: '上级辖区 "cty" 不存在：应为 jurisdictions 中某个辖区的编号，或不填（即顶层辖区 测试省）',
      },
      {
        file: 'directory.yaml',
        line: lineOf(bad, 'jurisdiction: conty'),
        column: expect.any(Number),
        field: 'units[4] (county-office) › jurisdiction',
        message: '辖区 "conty" 不存在：应为 jurisdictions 中某个辖区的编号，或不填（即顶层辖区 测试省）',
      },
    ]);
  });

  test('a cycle of parents is refused once, at its first jurisdiction; a jurisdiction its own parent too', () => {
    const cycle = directory.replace('    level: city\n', '    parent: county\n    level: city\n');
    expect(problems(cycle)).toEqual([
      expect.objectContaining({
        line: lineOf(cycle, 'parent: county'),
        field: 'jurisdictions[0] (city) › parent',
        message: '上级辖区形成循环：city → county → city；辖区应逐级归属到顶层辖区（测试省）',
      }),
    ]);
    const self = directory.replace('parent: city', 'parent: county');
    expect(problems(self)).toEqual([
      expect.objectContaining({
        line: lineOf(self, 'parent: county'),
        field: 'jurisdictions[1] (county) › parent',
        message: '上级辖区形成循环：county → county；辖区应逐级归属到顶层辖区（测试省）',
      }),
    ]);
  });

  test('a unit supervised from another branch, or from below, is refused at its supervisor', () => {
    // 甲县财政局 answers to 乙县's office: a sibling county, not its own or one above.
    const sibling = directory.replace('units:', COUNTY_B_JURISDICTION).replace(/\n$/, COUNTY_B_UNITS);
    const across = sibling.replace(
      '    supervisor: county-office\n    contacts:\n      head: { name: 朱局长',
      '    supervisor: county-b-office\n    contacts:\n      head: { name: 朱局长',
    );
    expect(problems(sibling)).toEqual([]);
    expect(problems(across)).toEqual([
      expect.objectContaining({
        file: 'directory.yaml',
        line: lineOf(across, 'supervisor: county-b-office'),
        field: 'units[6] (county-finance) › supervisor',
        message:
          '督察单位 "county-b-office"（乙县依法治县办）属于辖区 乙县，不是本单位所属辖区 甲县 或其上级辖区：单位只能由本辖区或上级辖区的督察单位督办',
      }),
    ]);
    // 市司法局 answering to the county office: supervised from below.
    const below = directory.replace(
      '    supervisor: city-office\n    contacts:\n      head: { name: 褚局长',
      '    supervisor: county-office\n    contacts:\n      head: { name: 褚局长',
    );
    expect(problems(below)).toEqual([
      expect.objectContaining({
        line: lineOf(below, 'supervisor: county-office'),
        field: 'units[3] (city-justice) › supervisor',
        message: expect.stringContaining('属于辖区 甲县，不是本单位所属辖区 测试市 或其上级辖区'),
      }),
    ]);
    // From the root to a county department is fine: an office above may supervise directly.
    const fromAbove = directory.replace(
      '    supervisor: county-office\n    contacts:\n      head: { name: 朱局长',
      '    supervisor: province-office\n    contacts:\n      head: { name: 朱局长',
    );
    expect(problems(fromAbove)).toEqual([]);
  });

  test('an office whose jurisdiction has no leadership is refused at that jurisdiction', () => {
    const bad = directory.replace(
      '    leadership:\n      - { name: 李县长, email: county.leader@test.example.org, title: 副县长 }\n',
      '',
    );
    expect(problems(bad)).toEqual([
      expect.objectContaining({
        file: 'directory.yaml',
        line: lineOf(bad, '- id: county'),
        field: 'jurisdictions[1] (county) › leadership',
        message:
          '辖区 "county"（甲县）有督察单位 county-office（县委依法治县办），但没有领导（leadership）：本辖区单位逾期到第三级时，通报要发给本辖区领导，请至少填写一位',
      }),
    ]);
    // Without an office of its own (its departments answer to the city's), a county needs no leadership: its
    // circular goes to the city's.
    const noOffice = bad
      .replace(/ {2}- id: county-office\n( {4}.*\n)+?(?= {2}- id:)/, '')
      .replace(/supervisor: county-office/g, 'supervisor: city-office');
    expect(problems(noOffice)).toEqual([]);
    const parsed = directorySchema.parse(
      loadInputs({ catalog: path.join(levels, 'catalog.yaml'), directory: path.join(levels, 'directory.yaml') })
        .directory,
    );
    const withoutLeaders: Directory = {
      ...parsed,
      jurisdictions: parsed.jurisdictions!.map((j) => (j.id === 'county' ? { ...j, leadership: [] } : j)),
    };
    expect(circularRecipientsOf(withoutLeaders, 'county-justice')).toMatchObject({
      jurisdiction: 'city',
      leadership: [{ email: 'city.leader@test.example.org' }],
    });
  });

  test('the id root is reserved, jurisdiction ids are unique, leadership channels must be defined', () => {
    const bad = directory
      .replace('  - id: city\n', '  - id: root\n')
      .replace('  - id: county\n', '  - id: root\n')
      .replace(
        '      - { name: 孙市长, email: city.leader@test.example.org, title: 副市长 }\n',
        '      - { name: 孙市长, email: city.leader@test.example.org, title: 副市长 }\n    leadershipChannels: [city-robot]\n',
      );
    const found = problems(bad);
    expect(found).toContainEqual(
      expect.objectContaining({
        line: lineOf(bad, '- id: root'),
        field: 'jurisdictions[0] (root) › id',
        message: '辖区编号 "root" 已保留给单位名录顶层的辖区（测试省），请另取编号',
      }),
    );
    expect(found).toContainEqual(
      expect.objectContaining({
        line: lineOf(bad, 'city-robot'),
        field: 'jurisdictions[0] (root) › leadershipChannels[0]',
        message: '渠道 "city-robot" 未定义：请先在 channels 中定义（name、kind）',
      }),
    );
    const twice = directory.replace('  - id: county\n', '  - id: city\n');
    expect(problems(twice)).toContainEqual(
      expect.objectContaining({
        line: lineOf(twice, '- id: city', lineOf(twice, '- id: city') + 1),
        field: 'jurisdictions[1] (city) › id',
        message: '辖区编号 "city" 重复（与 jurisdictions[0] 相同）',
      }),
    );
  });

  test("unknown keys of a jurisdiction are named like any other's", () => {
    const bad = directory.replace('    level: county\n', '    levle: county\n');
    expect(problems(bad)).toEqual([
      expect.objectContaining({ line: lineOf(bad, 'levle'), field: 'jurisdictions[1] (county) › levle' }),
    ]);
  });
});

describe('a directory of several levels: the tree and the circular', () => {
  const inputs = loadInputs({
    catalog: path.join(levels, 'catalog.yaml'),
    directory: path.join(levels, 'directory.yaml'),
  });

  test('jurisdictions nest root → city → county; each unit belongs to one', () => {
    const tree = jurisdictionTree(inputs.directory);
    expect(chainOf(tree, 'county').map((n) => n.name)).toEqual(['甲县', '测试市', '测试省']);
    expect(unitsBeneath(tree, 'city')).toEqual([
      'city-office',
      'city-justice',
      'county-office',
      'county-justice',
      'county-finance',
    ]);
    expect(unitsBeneath(tree, 'root')).toHaveLength(inputs.directory.units.length);
  });

  test("the level-3 circular goes to the leadership and leadership channels of the unit's own jurisdiction", () => {
    const leaders = new Map(inputs.trackers.map((t) => [t.unit.id, t.leadership.map((l) => l.email)]));
    expect(Object.fromEntries(leaders)).toEqual({
      'province-justice': ['province.leader@test.example.org'],
      'city-justice': ['city.leader@test.example.org'],
      'county-justice': ['county.leader@test.example.org'],
      'county-finance': ['county.leader@test.example.org'],
    });
    const withChannels: Directory = {
      ...inputs.directory,
      channels: [
        { name: 'province-robot', kind: 'wecom', mention: false },
        { name: 'county-robot', kind: 'dingtalk', mention: false },
      ],
      leadershipChannels: ['province-robot'],
      jurisdictions: inputs.directory.jurisdictions!.map((j) =>
        j.id === 'county' ? { ...j, leadershipChannels: ['county-robot'] } : j,
      ),
    };
    const trackers = resolveTrackers(inputs.catalog, withChannels);
    const robots = (unit: string) => trackers.find((t) => t.unit.id === unit)!.channels?.leadership.map((c) => c.name);
    expect(robots('county-justice')).toEqual(['county-robot']);
    expect(robots('province-justice')).toEqual(['province-robot']);
    // 测试市 has no robot of its own: its departments' circular goes by email alone.
    expect(robots('city-justice')).toBeUndefined();
  });

  test('a directory without levels resolves exactly as before: the root leadership for every unit', () => {
    const demo = loadInputs({
      catalog: DEFAULT_CATALOG,
      directory: DEFAULT_DIRECTORY,
      rosters: DEFAULT_ROSTERS,
      events: DEFAULT_EVENTS,
    });
    // The demo has two levels: 乙县's departments go to 乙县's leadership, every unit of XX市 to the city's.
    const root = demo.directory.leadership;
    const county = demo.directory.jurisdictions!.find((j) => j.id === 'yixian')!.leadership;
    const inCounty = new Set(demo.directory.units.filter((u) => u.jurisdiction === 'yixian').map((u) => u.id));
    expect(demo.trackers.filter((x) => inCounty.has(x.unit.id)).length).toBeGreaterThan(0);
    for (const t of demo.trackers) expect(t.leadership).toEqual(inCounty.has(t.unit.id) ? county : root);
    const fixtures = path.join(__dirname, 'fixtures');
    const one = loadInputs({
      catalog: path.join(fixtures, 'catalog.yaml'),
      directory: path.join(fixtures, 'directory.yaml'),
    });
    expect(one.directory).not.toHaveProperty('jurisdictions');
    for (const t of one.trackers) expect(t.leadership).toEqual(one.directory.leadership);
  });
});
