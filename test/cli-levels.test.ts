/**
 * Issue #24, levels on the command line and in the roles: `duban status --jurisdiction` and `duban report
 * --jurisdiction` read the registered tree (a jurisdiction and everything beneath it; the report rolls up per
 * jurisdiction and per level with each jurisdiction's draft 通报), against a real SQLite ledger written the way the
 * worker writes it; and who reads and acts where, from the three-level fixture (test/fixtures/levels).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { loadInputs } from '../config/load';
import type { BoardPeriod } from '../domain/tracker-state';
import { Ledger } from '../ledger';
import { allowedActions, maySee, officesOf, personFor, readsJurisdiction, topJurisdictions } from '../web/roles';

const root = path.resolve(__dirname, '..');
const levels = path.join(__dirname, 'fixtures', 'levels');
const inputs = loadInputs({
  catalog: path.join(levels, 'catalog.yaml'),
  directory: path.join(levels, 'directory.yaml'),
});
const at = (iso: string) => Date.parse(iso);

function duban(env: Record<string, string>, ...args: string[]) {
  const clean = { ...process.env };
  for (const k of ['TEMPORAL_ADDRESS', 'DATABASE_URL', 'DUBAN_DATA_DIR', 'DUBAN_CONFIG', 'SMTP_URL']) delete clean[k];
  const r = spawnSync(process.execPath, [path.join(root, 'bin', 'duban.js'), ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...clean, TZ: 'UTC', ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** One tracker's open period on the board, as the worker writes it. */
async function board(ledger: Ledger, unit: string, colour: BoardPeriod['colour'], dueAt: number) {
  const period: BoardPeriod = {
    period: '2026',
    colour,
    due: '2027-02-28',
    dueAt,
    originalDue: '2027-02-28',
    endsAt: dueAt + 365 * 86_400_000,
    progressCount: 0,
    submitted: false,
    verification: 'not required',
  };
  await ledger.applyWrite({
    trackerId: `annual-report/${unit}`,
    obligation: 'annual-report',
    unit,
    at: at('2026-12-01T00:00:00Z'),
    events: [],
    red: [],
    board: {
      tracker: { colour, period: '2026', due: period.due, dueAt, openPeriods: 1, paused: false, active: true },
      periods: [period],
    },
  });
}

describe('duban status and report --jurisdiction', () => {
  let dir: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'duban-cli-levels-'));
    env = { DUBAN_DATA_DIR: path.join(dir, 'data'), TEMPORAL_ADDRESS: '127.0.0.1:1' };
    const ledger = await Ledger.open({ sqliteFile: path.join(dir, 'data', 'ledger.sqlite') });
    await ledger.saveDirectorySnapshot({ directory: inputs.directory, catalog: inputs.catalog, by: 'test' });
    // Far-off due dates: the board's rows stay open whatever the day the test runs.
    await board(ledger, 'province-justice', 'green', at('2099-02-28T15:59:59Z'));
    await board(ledger, 'city-justice', 'green', at('2099-02-28T15:59:59Z'));
    await board(ledger, 'county-justice', 'red', at('2099-02-28T15:59:59Z'));
    await board(ledger, 'county-finance', 'yellow', at('2099-02-28T15:59:59Z'));
    const outcome = (unit: string, o: 'on_time' | 'late' | 'missed') =>
      ledger.recordOutcome({
        trackerId: `annual-report/${unit}`,
        obligation: 'annual-report',
        unit,
        period: '2025',
        outcome: o,
        originalDue: '2026-02-28',
        due: '2026-02-28',
        ...(o === 'missed' ? {} : { completedAt: at('2026-02-20T00:00:00Z') }),
        settledAt: at('2026-03-20T00:00:00Z'),
      });
    await outcome('province-justice', 'on_time');
    await outcome('city-justice', 'late');
    await outcome('county-justice', 'missed');
    await outcome('county-finance', 'on_time');
    await ledger.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('status --jurisdiction keeps to the jurisdiction and everything beneath it', () => {
    const county = duban(env, 'status', '--jurisdiction', 'county', '--json');
    expect(county.stderr).toBe('');
    const json = JSON.parse(county.stdout) as { jurisdiction: unknown; items: { unit: string }[] };
    expect(json.jurisdiction).toEqual({ id: 'county', name: '测试省 › 测试市 › 甲县' });
    expect(json.items.map((i) => i.unit).sort()).toEqual(['county-finance', 'county-justice']);
    const city = duban(env, 'status', '--jurisdiction', 'city');
    expect(city.code).toBe(0);
    expect(city.stdout).toContain('辖区：测试省 › 测试市');
    // The county's totals on a line of its own (red 1, yellow 1), before the units.
    expect(city.stdout).toMatch(/下级辖区（含其下各级）\n辖区\s+逾期\s+临近.*\n甲县\s+1\s+1\s+0\s+0\s+0\n/);
    expect(city.stdout).not.toContain('province-justice');
    const all = duban(env, 'status', '--json');
    expect((JSON.parse(all.stdout) as { items: unknown[] }).items).toHaveLength(4);
  });

  test('an unknown jurisdiction is refused in Chinese, naming those there are', () => {
    const r = duban(env, 'status', '--jurisdiction', 'nowhere');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      '--jurisdiction “nowhere”不是单位名录中的辖区；可用：root（测试省）、city（测试市）、county（甲县）',
    );
    expect(
      duban(env, 'report', '--year', '2026', '--directory', path.join(levels, 'directory.yaml'), '--jurisdiction', 'x')
        .code,
    ).toBe(2);
  });

  test('report rolls up per jurisdiction and per level, each jurisdiction with its own 通报', () => {
    const args = [
      'report',
      '--year',
      '2026',
      '--catalog',
      path.join(levels, 'catalog.yaml'),
      '--directory',
      path.join(levels, 'directory.yaml'),
    ];
    const json = JSON.parse(duban(env, ...args, '--format', 'json').stdout) as {
      units: { unit: string; jurisdictionName: string }[];
      jurisdictions: {
        key: string;
        units: number;
        due: number;
        late: number;
        missed: number;
        onTimeRate: number;
        circular: string;
      }[];
      levels: { key: string; name: string }[];
    };
    expect(json.jurisdictions.map((j) => [j.key, j.units, j.due, j.late, j.missed])).toEqual([
      ['root', 4, 4, 1, 1],
      ['city', 3, 3, 1, 1],
      ['county', 2, 2, 0, 1],
    ]);
    expect(json.jurisdictions[0]!.onTimeRate).toBe(0.5);
    // Each circular names the units whose level-3 circular goes to that jurisdiction's leadership.
    expect(json.jurisdictions[1]!.circular).toContain('关于2026年度测试市法治政府建设任务落实情况的通报（草稿）');
    expect(json.jurisdictions[1]!.circular).toContain('市司法局：逾期完成1项');
    expect(json.jurisdictions[1]!.circular).not.toContain('甲县司法局');
    expect(json.jurisdictions[2]!.circular).toContain('甲县司法局：未完成1项');
    // The province's own department was on time: the root's circular names nobody (the year may not be over yet).
    expect(json.jurisdictions[0]!.circular).toMatch(/测试省2026年度截止的任务(均已按时完成|暂无逾期或未完成情况)/);
    // The fixture's jurisdictions say their level; the root is a province.
    expect(json.levels.map((l) => [l.key, l.name])).toEqual([
      ['province', '省级'],
      ['city', '市级'],
      ['county', '县级'],
    ]);
    expect(json.units.find((u) => u.unit === 'county-justice')!.jurisdictionName).toBe('测试省 › 测试市 › 甲县');

    const city = JSON.parse(duban(env, ...args, '--format', 'json', '--jurisdiction', 'city').stdout) as typeof json;
    expect(city.units.map((u) => u.unit).sort()).toEqual(['city-justice', 'county-finance', 'county-justice']);
    expect(city.jurisdictions.map((j) => j.key)).toEqual(['city', 'county']);

    const csv = duban(env, ...args, '--format', 'csv').stdout.split('\r\n');
    expect(csv[0]).toBe('\uFEFF排名,单位,单位名称,所属辖区,应完成,按时,延期后按时,逾期,未完成,逾期未完成,免除,按时率');
    expect(csv).toContain('按辖区汇总（含下级辖区）');
    expect(csv).toContain('测试省 › 测试市 › 甲县,2,2,1,0,0,1,0,0,50.0%');
    expect(csv).toContain('按层级汇总');
    expect(csv).toContain('县级,2,2,1,0,0,1,0,0,50.0%');
    const table = duban(env, ...args).stdout;
    expect(table).toContain('【测试省 › 测试市 › 甲县】');
  });
});

describe('roles at each level (the three-level fixture)', () => {
  const { directory } = inputs;
  const person = (email: string) => personFor(email, directory, [])!;

  test("a county department's staff read and act on their unit only", () => {
    const p = person('county-finance.liaison@test.example.org');
    expect(['county-finance', 'county-justice', 'city-justice'].map((u) => maySee(p, u))).toEqual([true, false, false]);
    expect(topJurisdictions(p, directory)).toEqual([]);
    expect(officesOf(p, directory)).toEqual([]);
  });

  test("the city office reads the city and the county; acts on what it supervises directly; reads the county office's register", () => {
    const p = person('city-office.head@test.example.org');
    expect([...p.jurisdictions]).toEqual(['city']);
    expect([...p.reads].sort()).toEqual([
      'city-justice',
      'city-office',
      'county-finance',
      'county-justice',
      'county-office',
    ]);
    expect(maySee(p, 'province-justice')).toBe(false);
    expect(allowedActions(p, 'city-justice')).toContain('verify');
    expect(allowedActions(p, 'county-office')).toContain('verify');
    expect(allowedActions(p, 'county-justice')).toEqual([]);
    expect(topJurisdictions(p, directory)).toEqual(['city']);
    expect(['root', 'city', 'county'].map((j) => readsJurisdiction(p, directory, j))).toEqual([false, true, true]);
    expect(officesOf(p, directory)).toEqual(['city-office', 'county-office']);
  });

  test('the county office acts on its departments; the province office reads everything; leadership reads its subtree', () => {
    const county = person('county-office.liaison@test.example.org');
    expect(allowedActions(county, 'county-justice')).toContain('verify');
    expect(maySee(county, 'city-justice')).toBe(false);
    expect(officesOf(county, directory)).toEqual(['county-office']);
    const province = person('province-office.liaison@test.example.org');
    expect(officesOf(province, directory)).toBe('all');
    expect(topJurisdictions(province, directory)).toEqual(['root']);
    expect(allowedActions(province, 'county-justice')).toEqual([]);
    const cityLeader = person('city.leader@test.example.org');
    expect(cityLeader.roles).toEqual(['测试市副市长']);
    expect(cityLeader.leadership).toBe(false);
    expect(['province-justice', 'city-justice', 'county-justice'].map((u) => maySee(cityLeader, u))).toEqual([
      false,
      true,
      true,
    ]);
    expect(allowedActions(cityLeader, 'city-justice')).toEqual([]);
    expect(maySee(person('province.leader@test.example.org'), 'county-finance')).toBe(true);
  });
});
