/**
 * `duban plan` and `duban ics` know 协办 and 提级督办 (#24 items 5, 2): `--unit` of a cooperating unit lists the
 * reminders it receives on the lead's task (marked 协办 in its calendar), `--unit` of the office above lists the
 * raises it sends (提级督办), and the plan names the raise's stage.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..');
const fixtures = path.join(__dirname, 'fixtures');

const directory = `${readFileSync(path.join(fixtures, 'directory.yaml'), 'utf8').replace(
  '    tags: [督察单位]\n',
  '    tags: [督察单位]\n    supervisor: region\n',
)}  - id: region
    name: 自治区依法治区办
    kind: office
    contacts:
      head: { name: 区主任, email: region.head@test.example.org }
      liaison: { name: 区科长, email: region.liaison@test.example.org }
`;
const catalog = `timeZone: Asia/Shanghai
obligations:
  - id: annual-report
    title: 法治政府建设年度报告
    basis: [{ document: 法治政府建设与责任落实督察工作规定, quote: 每年3月1日之前 }]
    assignees: { units: [finance] }
    cooperators: { units: [county-a] }
    raiseAfter: 16
    period: year
    due: { rule: next-month-day, monthDay: "03-01", before: true }
`;

describe('plan and ics with cooperators and a raise', () => {
  let dir: string;
  const duban = (...args: string[]) => {
    const env: NodeJS.ProcessEnv = { ...process.env, TZ: 'UTC' };
    for (const k of ['TEMPORAL_ADDRESS', 'DATABASE_URL', 'DUBAN_DATA_DIR', 'DUBAN_CONFIG', 'SMTP_URL']) delete env[k];
    // A folder of its own: no ledger there, so plan and ics go by the files alone.
    const r = spawnSync(process.execPath, [path.join(root, 'bin', 'duban.js'), ...args], {
      cwd: dir,
      encoding: 'utf8',
      env,
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'duban-cli-cooperate-'));
    writeFileSync(path.join(dir, 'catalog.yaml'), catalog);
    writeFileSync(path.join(dir, 'directory.yaml'), directory);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const window = ['--from', '2026-02-01', '--to', '2026-04-30'];
  const plan = (...args: string[]) => {
    const r = duban('plan', 'catalog.yaml', 'directory.yaml', ...window, ...args, '--json');
    expect(r.code).toBe(0);
    return r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { stage: string; local: string; key: string; to: string[]; cc: string[] });
  };

  test('the office above sees the raise it sends; the cooperating unit the reminders it receives', () => {
    expect(duban('validate', 'catalog.yaml', 'directory.yaml').code).toBe(0);
    const all = plan();
    expect(all.filter((n) => n.stage === 'raise')).toEqual([
      expect.objectContaining({
        local: '2026-04-07 09:00',
        key: 'annual-report/finance/2025/2026-02-28/x',
        to: ['finance.head@test.example.org'],
        cc: [
          'office.head@test.example.org',
          'office.liaison@test.example.org',
          'region.head@test.example.org',
          'region.liaison@test.example.org',
        ],
      }),
    ]);
    expect(plan('--unit', 'region').map((n) => n.stage)).toEqual(['raise']);
    const cooperating = plan('--unit', 'county-a');
    expect(new Set(cooperating.map((n) => n.stage))).toEqual(new Set(['reminder']));
    expect(cooperating).toHaveLength(4);
    expect(cooperating.every((n) => n.to.includes('county-a.liaison@test.example.org'))).toBe(true);
    expect(plan('--unit', 'finance')).toHaveLength(all.length);

    const table = duban('plan', 'catalog.yaml', 'directory.yaml', ...window, '--unit', 'region');
    expect(table.stdout).toMatch(/2026-04-07 09:00 +annual-report +finance +2025 +2026-02-28 +提级督办/);
  });

  test('ics: the cooperating unit’s calendar marks the lead’s task; the office above’s has its raise day', () => {
    const events = (unit: string) => {
      const r = duban('ics', 'catalog.yaml', 'directory.yaml', '--unit', unit, '--months', '24');
      expect(r.code).toBe(0);
      const ICAL = require('ical.js');
      const component = new ICAL.Component(ICAL.parse(r.stdout));
      return component
        .getAllSubcomponents('vevent')
        .map((v: unknown) => new ICAL.Event(v) as { summary: string; startDate: { toString(): string } });
    };
    const county = events('county-a');
    expect(county.length).toBeGreaterThan(0);
    expect(county.every((e: { summary: string }) => e.summary.startsWith('协办（主办：市财政局）'))).toBe(true);
    expect(county.some((e: { summary: string }) => e.summary.startsWith('协办（主办：市财政局）截止：'))).toBe(true);
    const office = events('region');
    expect(office.length).toBeGreaterThan(0);
    expect(
      office.every((e: { summary: string }) => e.summary.startsWith('提级督办：市财政局 法治政府建设年度报告')),
    ).toBe(true);
    // The lead's own calendar is what it always was: due dates and reminders, no raise.
    const lead = events('finance');
    expect(lead.some((e: { summary: string }) => e.summary.startsWith('提醒：'))).toBe(true);
    expect(lead.some((e: { summary: string }) => /协办|提级/.test(e.summary))).toBe(false);
  });
});
