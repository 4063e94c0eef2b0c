/**
 * `duban plan` and `duban ics` agree with the live service (#19 item 4): plan leaves out (or, with --all, marks)
 * what the service will not send, saying what it assumes of registration or reading it from the ledger; ics reads
 * the ledger when there is one and leaves out reminders of periods already done; a pipe closed early (`| head`)
 * ends the command quietly.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Ledger } from '../ledger';

const root = path.resolve(__dirname, '..');
const fixtures = path.join(__dirname, 'fixtures');
const catalog = path.join(fixtures, 'catalog.yaml');
const directory = path.join(fixtures, 'directory.yaml');

function duban(env: Record<string, string>, ...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(root, 'bin', 'duban.js'), ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, TZ: 'UTC', ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const lines = (s: string) =>
  s
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('plan and ics tell what the service will send', () => {
  const noLedger = { DUBAN_DATA_DIR: path.join(mkdtempSync(path.join(tmpdir(), 'duban-plan-')), 'none') };
  const window = ['--from', '2026-02-01', '--to', '2026-03-31'];

  test('escalations of periods due before registration are left out, or marked with --all', () => {
    const all = lines(duban(noLedger, 'plan', catalog, directory, ...window, '--all', '--json').stdout);
    const skipped = all.filter((n) => n.skipped);
    expect(skipped.length).toBeGreaterThan(0);
    for (const n of skipped)
      expect(n).toMatchObject({ stage: 'escalation', period: expect.stringMatching(/^202[45]/) });
    expect(skipped.some((n) => n.period === '2025-H2')).toBe(true);
    expect(skipped[0]!.skipped).toBe('登记前已截止，服务不开启该期次');
    const sent = lines(duban(noLedger, 'plan', catalog, directory, ...window, '--json').stdout);
    expect(sent.map((n) => n.key)).toEqual(all.filter((n) => !n.skipped).map((n) => n.key));
    // Registered earlier, the 2025-H2 period was opened: its escalations are sent.
    const early = duban(noLedger, 'plan', catalog, directory, ...window, '--registered', '2026-01-01', '--json');
    const h2 = (ns: Record<string, unknown>[]) => ns.filter((n) => n.period === '2025-H2').map((n) => n.key);
    expect(h2(lines(early.stdout))).toEqual(h2(all));
    expect(h2(sent)).toEqual([]);
    const table = duban(noLedger, 'plan', catalog, directory, ...window, '--all');
    expect(table.stdout).toMatch(/2025-H2 .*登记前已截止，服务不开启该期次/);
    expect(table.stdout).toMatch(/另有\d+条服务不会发送，已注明；假定各任务于2026-02-01登记/);
  });

  test('settings that cannot be read do not stop plan: it says so and goes by the files', () => {
    const r = duban(
      { ...noLedger, DUBAN_WORKFLOW_STACK_TRACES: 'bogus' },
      'plan',
      catalog,
      directory,
      ...window,
      '--json',
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^警告：未能读取台账（设置有误/);
    expect(lines(r.stdout).length).toBeGreaterThan(10);
  });

  describe('with a ledger', () => {
    let env: Record<string, string>;
    beforeAll(async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'duban-plan-ledger-'));
      env = { DUBAN_DATA_DIR: path.join(dir, 'data') };
      const ledger = await Ledger.open({ sqliteFile: path.join(dir, 'data', 'ledger.sqlite'), migrate: true });
      const at = Date.parse('2025-12-01T02:00:00Z');
      // justice's half-year tracker was registered on 1 December 2025: its 2025-H2 period (due 2026-01-15) is open.
      await ledger.recordEvents([
        {
          eventKey: 'open-justice',
          trackerId: 'half-year-report/justice',
          obligation: 'half-year-report',
          unit: 'justice',
          period: '2025-H2',
          kind: 'period_opened',
          at,
        },
      ]);
      // finance's study session of 2027-Q1 is done (submitted): no more reminders for it.
      await ledger.applyWrite({
        trackerId: 'study-session/finance',
        obligation: 'study-session',
        unit: 'finance',
        at,
        events: [],
        red: [],
        board: {
          tracker: {
            colour: 'done',
            period: '2027-Q1',
            due: '2027-03-31',
            dueAt: 0,
            openPeriods: 1,
            paused: false,
            active: true,
          },
          periods: [
            {
              period: '2027-Q1',
              colour: 'done',
              due: '2027-03-31',
              dueAt: Date.parse('2027-03-31T15:59:59Z'),
              originalDue: '2027-03-31',
              endsAt: Date.parse('2027-07-01T00:00:00Z'),
              progressCount: 0,
              submitted: false,
              verification: 'not required',
            },
          ],
        },
      });
      await ledger.close();
    });

    test('plan takes registrations from the ledger and says so', () => {
      const r = duban(env, 'plan', catalog, directory, ...window, '--json');
      expect(r.code).toBe(0);
      const sent = lines(r.stdout);
      expect(sent.filter((n) => n.period === '2025-H2' && n.unit === 'justice').length).toBeGreaterThan(0);
      expect(sent.filter((n) => n.period === '2025-H2' && n.unit === 'finance')).toEqual([]);
      expect(r.stderr).toContain('台账中的任务按其登记时间计算；其余任务假定于2026-02-01登记');
      const done = lines(
        duban(
          env,
          'plan',
          catalog,
          directory,
          '--from',
          '2027-03-01',
          '--to',
          '2027-03-31',
          '--unit',
          'finance',
          '--all',
          '--json',
        ).stdout,
      ).filter((n) => n.obligation === 'study-session' && n.period === '2027-Q1');
      expect(done.length).toBeGreaterThan(0);
      for (const n of done) expect(n.skipped).toBe('该期次已办结，不再发送');
    });

    test('ics leaves out the reminders of a period already done and marks its due date', () => {
      const r = duban(env, 'ics', catalog, directory, '--unit', 'finance', '--months', '60');
      expect(r.code).toBe(0);
      const unfolded = r.stdout.replace(/\r\n /g, '');
      expect(unfolded).not.toMatch(/SUMMARY:提醒：一把手讲法（2027年第一季度）/);
      expect(unfolded).toMatch(/SUMMARY:已办结：一把手讲法（2027年第一季度）/);
      // Other periods keep their reminders.
      expect(unfolded).toMatch(/SUMMARY:提醒：一把手讲法（\d{4}年第[一二三四]季度）/);
    });
  });

  test('duban plan | head: the command ends quietly when the pipe closes', () => {
    const r = spawnSync(
      'bash',
      [
        '-c',
        `set -o pipefail; TZ=UTC "${process.execPath}" "${path.join(root, 'bin', 'duban.js')}" plan --from 2027-01-01 --to 2030-12-31 | head -1`,
      ],
      { cwd: root, encoding: 'utf8', env: { ...process.env, ...noLedger } },
    );
    expect(r.stdout.split('\n')[0]).toMatch(/^时间/);
    expect(r.stderr).not.toMatch(/EPIPE|Error|at /);
    expect(r.status).toBe(0);
  });
});
