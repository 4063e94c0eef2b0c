import ExcelJS from 'exceljs';
import { spawnSync } from 'node:child_process';
import { simpleParser } from 'mailparser';
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Ledger, LedgerNotFoundError, MIGRATION_VERSIONS } from '../ledger';
import type { Outcome } from '../domain/tracking';
import { provisionalWarning, yearRanges } from '../client/commands/catalog';

const root = path.resolve(__dirname, '..');
const fixtures = path.join(__dirname, 'fixtures');
const catalog = path.join(fixtures, 'catalog.yaml');
const directory = path.join(fixtures, 'directory.yaml');

/** Runs the installed command exactly as a user would. */
function duban(...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(root, 'bin', 'duban.js'), ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, TZ: 'UTC' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('duban command line', () => {
  test('plan --json prints one notice per line with the documented fields', () => {
    const r = duban('plan', catalog, directory, '--from', '2026-02-01', '--to', '2026-03-31', '--json');
    expect(r.code).toBe(0);
    const notices = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(notices.length).toBeGreaterThan(10);
    for (const n of notices) {
      expect(Object.keys(n)).toEqual(
        expect.arrayContaining(['at', 'local', 'obligation', 'unit', 'period', 'due', 'stage', 'level', 'to', 'cc']),
      );
      expect(n.at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      expect(n.local).toMatch(/^2026-0[23]-\d{2} 09:00$/);
      expect(n.level === 0).toBe(n.stage === 'reminder');
    }
    const ats = notices.map((n) => n.at);
    expect([...ats].sort()).toEqual(ats);
    expect(notices).toContainEqual(
      expect.objectContaining({
        obligation: 'annual-report',
        unit: 'county-a',
        period: '2025',
        due: '2026-02-28',
        stage: 'reminder',
        level: 0,
        at: '2026-02-28T01:00:00.000Z',
        local: '2026-02-28 09:00',
        to: ['county-a.liaison@test.example.org'],
        cc: ['county-a.head@test.example.org'],
      }),
    );
    // Registered on --from (the default assumption), the 2025-H2 half-year reports (due 2026-01-15) are never opened.
    expect(r.stderr).toMatch(
      /^略去\d+条服务不会发送的通知（假定各任务于2026-02-01登记（--registered 可改）；--all 列出并注明原因）\n$/,
    );
    expect(notices.filter((n) => n.period === '2025-H2')).toEqual([]);
  });

  test('plan filters by unit and obligation, and prints a table by default', () => {
    const r = duban(
      'plan',
      catalog,
      directory,
      '--from',
      '2027-01-01',
      '--to',
      '2027-03-31',
      '--unit',
      'finance',
      '--obligation',
      'study-session',
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^时间\s+任务\s+单位/);
    expect(r.stdout).not.toMatch(/justice|half-year-report/);
    expect(r.stdout).toMatch(/study-session\s+finance\s+2027-Q1\s+2027-03-31\s+提醒 截止前10个工作日/);
    // 2027 has no published notice yet: the warning says so every time.
    expect(r.stderr).toMatch(/警告：2027年的工作日历为暂定/);
  });

  test('bad input: exit code 2, file, line and field, nothing done', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'duban-cli-'));
    const bad = path.join(dir, 'catalog.yaml');
    writeFileSync(bad, readFileSync(catalog, 'utf8').replace('monthDay: "03-01"', 'monthDay: "02-30"'));
    const r = duban('plan', bad, directory, '--from', '2027-01-01', '--to', '2027-01-31', '--json');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /catalog\.yaml:11:\d+: obligations\[0\] \(annual-report\) › due\.monthDay: “02-30”不是一年中的日期/,
    );
    expect(r.stderr).toMatch(/未作任何更改。/);
    const v = duban('validate', bad, directory, '--json');
    expect(v.code).toBe(2);
    expect(JSON.parse(v.stdout)).toMatchObject({
      ok: false,
      problems: [{ line: 11, field: 'obligations[0] (annual-report) › due.monthDay' }],
    });
  });

  test('bad options are refused with exit code 2', () => {
    expect(duban('plan', '--from', '2027-02-30').code).toBe(2);
    expect(duban('plan', '--from', '2027-02-01', '--to', '2027-01-01').stderr).toMatch(
      /--to 2027-01-01 早于 --from 2027-02-01/,
    );
    expect(duban('plan', '--unit', 'nobody', '--from', '2027-01-01', '--to', '2027-01-02').stderr).toMatch(
      /单位名录中没有单位“nobody”/,
    );
    expect(duban('plan', catalog).stderr).toMatch(/请同时给出任务清单和单位名录/);
    expect(duban('frobnicate').code).toBe(2);
  });

  test('ics: an iCalendar file of a unit that calendar software can read back', () => {
    const r = duban('ics', '--unit', 'sfj', '--months', '12');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\r\n');
    expect(lines.every((l) => Buffer.byteLength(l, 'utf8') <= 75)).toBe(true);

    const ICAL = require('ical.js');
    const component = new ICAL.Component(ICAL.parse(r.stdout));
    const events = component.getAllSubcomponents('vevent').map((v: unknown) => new ICAL.Event(v));
    expect(events.length).toBeGreaterThan(5);
    expect(new Set(events.map((e: { uid: string }) => e.uid)).size).toBe(events.length);
    const due = events.find(
      (e: { summary: string }) => e.summary.startsWith('截止：') && e.summary.includes('案卷评查'),
    );
    expect(due).toBeDefined();
    expect(due.startDate.isDate).toBe(true);
    expect(due.description).toContain('每年至少组织一次行政执法案卷评查检查');
    expect(events.some((e: { summary: string }) => e.summary.startsWith('提醒：'))).toBe(true);
    expect(duban('ics', '--unit', 'nobody').code).toBe(2);
  });

  test('simulate runs the real workflows and sends exactly the notices plan lists, with the action links', async () => {
    const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
    const window = ['--from', day(1), '--to', day(45)];
    const out = mkdtempSync(path.join(tmpdir(), 'duban-simulate-'));
    const sim = duban('simulate', catalog, directory, ...window, '--out', out, '--json');
    expect(sim.code).toBe(0);
    const mails = sim.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const planned = duban('plan', catalog, directory, ...window, '--json')
      .stdout.trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const key = (x: { at: string; key: string }) => `${x.at} ${x.key}`;
    expect([...new Set(mails.map(key))].sort()).toEqual(planned.map(key).sort());
    for (const m of mails) {
      const p = planned.find((x) => x.key === m.key)!;
      expect(m.to).toEqual(p.to);
      expect(m.cc).toEqual(p.cc);
      expect(m.subject).toMatch(/^【督办/);
    }
    // With personal links, each recipient of a notice gets one copy of their own (issue 19.5).
    for (const p of planned) {
      const copies = mails.filter((m) => m.key === p.key).flatMap((m: { recipients: string[] }) => m.recipients);
      expect(copies.sort()).toEqual([...new Set([...p.to, ...p.cc])].map((a: string) => a.toLowerCase()).sort());
    }
    expect(readdirSync(out).filter((f) => f.endsWith('.eml'))).toHaveLength(mails.length);
    // Each .eml shows the action links as recipients will see them (signed with a throwaway key).
    // Each copy's links are its recipient's alone: the unit's staff can 签收, the others (office, leadership) view.
    let acknowledgeLinks = 0;
    for (const m of mails) {
      const parsed = await simpleParser(readFileSync(m.file));
      expect(parsed.html).toMatch(
        /<a href="http:\/\/127\.0\.0\.1:8080\/a\/v1\.preview\.[A-Za-z0-9_.-]+\/view">查看<\/a>/,
      );
      if (/签收：http:\/\/127\.0\.0\.1:8080\/a\/v1\.preview\.[A-Za-z0-9_.-]+\/acknowledge/.test(parsed.text ?? ''))
        acknowledgeLinks++;
      const signedFor = [...(parsed.text ?? '').matchAll(/\/a\/v1\.preview\.([A-Za-z0-9_-]+)\./g)].map(
        (x) => (JSON.parse(Buffer.from(x[1]!, 'base64url').toString('utf8')) as { r: string }).r,
      );
      expect(new Set(signedFor)).toEqual(new Set(m.recipients));
    }
    expect(acknowledgeLinks).toBeGreaterThan(0);
    expect(duban('simulate', catalog, directory, '--from', '2020-01-01', '--to', '2020-02-01').stderr).toMatch(
      /须为今天或以后/,
    );
  });

  test('the provisional warning lists the official years as they are, e.g. "2024-2026, 2028"', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'duban-cli-'));
    const calendar = path.join(dir, 'holidays-2028.yaml');
    writeFileSync(
      calendar,
      'years:\n  "2028":\n    source: 测试通知\n    holidays:\n      - { name: 元旦, from: "2027-12-31", to: "2028-01-02" }\n    workdays: []\n',
    );
    const r = duban(
      'plan',
      catalog,
      directory,
      '--calendar',
      calendar,
      '--from',
      '2027-11-01',
      '--to',
      '2028-01-31',
      '--json',
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^警告：2027年的工作日历为暂定：.*（已有官方数据的年份：2024-2026, 2028）/);
    expect(yearRanges([2028, 2024, 2025, 2026, 2030, 2031])).toBe('2024-2026, 2028, 2030-2031');
    expect(provisionalWarning([2027], { officialYears: () => [2024, 2025, 2026, 2028] })).toContain(
      '（已有官方数据的年份：2024-2026, 2028）',
    );
  });

  test('hostile input through the installed command: exit 2 naming the file, no stack trace; dates plan cannot reach are refused', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'duban-cli-'));
    const bomb = path.join(dir, 'bomb.yaml');
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 9; i++)
      levels.push(
        `${'abcdefghi'[i]}: &${'abcdefghi'[i]} [${Array(9)
          .fill(`*${'abcdefghi'[i - 1]}`)
          .join(',')}]`,
      );
    writeFileSync(bomb, `${levels.join('\n')}\n`);
    const r = duban('validate', bomb, directory);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bomb\.yaml:1:1: YAML：别名展开后节点过多（“别名炸弹”）/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const deep = path.join(dir, 'deep.yaml');
    writeFileSync(deep, `a: ${'['.repeat(3_000_000)}\n`);
    const started = Date.now();
    const d = duban('validate', deep, directory);
    expect(d.code).toBe(2);
    expect(d.stderr).toMatch(/deep\.yaml:1:\d+: 嵌套超过32层/);
    // Bounded, not timed: a parser that walked 3,000,000 levels would take minutes (or crash), not seconds.
    expect(Date.now() - started).toBeLessThan(30_000);
    const far = duban('plan', '--from', '9999-12-01', '--to', '9999-12-31');
    expect(far.code).toBe(2);
    expect(far.stderr).toMatch(/--from 9999-12-01 超出 duban 可排期的年份（2000-2100）/);
  });

  test('register refuses a definition too heavy for Temporal before it connects: exit 2, nothing started', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'duban-cli-'));
    const heavy = path.join(dir, 'catalog.yaml');
    const basis = Array.from(
      { length: 10 },
      (_, i) => `      - { document: 文件${i}, quote: ${'法'.repeat(2000)} }`,
    ).join('\n');
    writeFileSync(
      heavy,
      readFileSync(catalog, 'utf8').replace(
        '    basis:\n      - { document: 实施方案, quote: 每季度要开展一次“一把手讲法”集体学法活动 }\n',
        `    basis:\n${basis}\n    deliverable: ${'材'.repeat(2000)}\n`,
      ),
    );
    // Nothing listens on this port: had register connected first, it would fail with exit 1 instead.
    const r = spawnSync(
      process.execPath,
      [path.join(root, 'bin', 'duban.js'), 'register', heavy, directory, '--dry-run'],
      {
        cwd: root,
        encoding: 'utf8',
        env: { ...process.env, TZ: 'UTC', TEMPORAL_ADDRESS: '127.0.0.1:1' },
      },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /catalog\.yaml:\d+:5: obligations\[2\] \(study-session\): 督办任务 study-session\/finance 将有6\d KB，超过一项督办任务可承载的64 KB/,
    );
    expect(r.stderr).toMatch(/未作任何更改。/);
  });

  test('the built-in defaults validate, and every command has --help with an example', () => {
    const v = duban('validate', '--json');
    expect(v.code).toBe(0);
    expect(JSON.parse(v.stdout)).toMatchObject({
      ok: true,
      obligations: expect.any(Number),
      trackers: expect.any(Number),
    });
    for (const command of ['validate', 'plan']) {
      const h = duban(command, '--help');
      expect(h.code).toBe(0);
      expect(h.stdout).toMatch(/示例：\n\s+duban /);
    }
  });
});

/** The command with its own environment and folder, as an administrator runs it on a machine of their own. */
function dubanWith(env: Record<string, string>, cwd: string, ...args: string[]) {
  const clean = { ...process.env };
  for (const k of ['TEMPORAL_ADDRESS', 'DATABASE_URL', 'DUBAN_DATA_DIR', 'DUBAN_CONFIG', 'SMTP_URL']) delete clean[k];
  const r = spawnSync(process.execPath, [path.join(root, 'bin', 'duban.js'), ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...clean, TZ: 'UTC', ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const noStackTrace = /\n\s+at /;

describe("an administrator's command line that never misleads", () => {
  test('read-only commands where no ledger exists say where they looked and create nothing; migrate creates it', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'duban-noledger-'));
    const data = path.join(dir, 'data');
    for (const args of [['status'], ['report', '--year', '2027'], ['show', 'annual-report', 'county-a']]) {
      const r = dubanWith({ DUBAN_DATA_DIR: data, TEMPORAL_ADDRESS: '127.0.0.1:1' }, dir, ...args);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        `找不到台账：查找了 SQLite ${path.join(data, 'ledger.sqlite')} (DUBAN_DATA_DIR, no DATABASE_URL)；未创建任何内容`,
      );
      expect(r.stderr).toMatch(/duban migrate/);
      expect(r.stdout).toBe('');
    }
    expect(existsSync(data)).toBe(false);
    // The default data folder is .duban where the command runs: it says so, and creates nothing there either.
    const bare = dubanWith({}, dir, 'status');
    expect(bare.stderr).toContain(path.join(dir, '.duban', 'ledger.sqlite'));
    expect(readdirSync(dir)).toEqual([]);

    const migrated = dubanWith({ DUBAN_DATA_DIR: data }, dir, 'migrate', '--json');
    expect(migrated.code).toBe(0);
    expect(JSON.parse(migrated.stdout)).toEqual({
      ledger: `SQLite ${path.join(data, 'ledger.sqlite')} (DUBAN_DATA_DIR, no DATABASE_URL)`,
      applied: expect.arrayContaining([1, 2, 3, 4, 6]),
    });
    const status = dubanWith({ DUBAN_DATA_DIR: data }, dir, 'status', '--json');
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toEqual({ units: [], items: [] });
  });

  test('read-only commands on a ledger without duban tables or from an older duban: run `duban migrate`, no SQL error, nothing changed', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'duban-oldledger-'));
    const data = path.join(dir, 'data');
    const file = path.join(data, 'ledger.sqlite');
    const where = `SQLite ${file} (DUBAN_DATA_DIR, no DATABASE_URL)`;
    const readOnly = [['status'], ['report', '--year', '2027'], ['show', 'annual-report', 'county-a']];

    // A database file that some other program made: no duban tables, and none are created.
    mkdirSync(data);
    const foreign = new Database(file);
    foreign.exec('CREATE TABLE something_else (x TEXT)');
    foreign.close();
    for (const args of readOnly) {
      const r = dubanWith({ DUBAN_DATA_DIR: data, TEMPORAL_ADDRESS: '127.0.0.1:1' }, dir, ...args);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `失败：找不到台账：${where} 中没有 duban 的表；未创建任何内容。这些表由 worker 或 \`duban migrate\` 创建。\n`,
      );
      expect(r.stdout).toBe('');
    }

    // A ledger of the version before this one: migration 31 (the board's 退回 columns) not applied yet.
    const last = MIGRATION_VERSIONS[MIGRATION_VERSIONS.length - 1];
    expect(last).toBe(31);
    rmSync(data, { recursive: true });
    const older = await Ledger.open({ sqliteFile: file });
    for (const column of ['hand_back_by', 'hand_back_at'])
      await older.db.exec(`ALTER TABLE period_state DROP COLUMN ${column}`);
    await older.db.run('DELETE FROM ledger_migrations WHERE version = 31');
    await older.close();
    for (const args of readOnly) {
      const r = dubanWith({ DUBAN_DATA_DIR: data, TEMPORAL_ADDRESS: '127.0.0.1:1' }, dir, ...args);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `失败：台账（${where}）须先执行迁移 31 才能用于此版本的 duban：请运行 \`duban migrate\`（或启动一个 worker）后重试。\n`,
      );
      expect(r.stderr).not.toMatch(/no such table|SQLITE_|\n\s+at /);
    }
    // The read-only commands migrated nothing: the ledger still lacks migration 31.
    const untouched = await Ledger.open({ sqliteFile: file, migrate: false }).catch((e: Error) => e);
    expect(untouched).toBeInstanceOf(LedgerNotFoundError);

    const migrated = dubanWith({ DUBAN_DATA_DIR: data }, dir, 'migrate', '--json');
    expect(migrated.code).toBe(0);
    expect(JSON.parse(migrated.stdout)).toEqual({ ledger: where, applied: MIGRATION_VERSIONS });
    const status = dubanWith({ DUBAN_DATA_DIR: data }, dir, 'status', '--json');
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toEqual({ units: [], items: [] });
  });

  test('a PostgreSQL ledger that cannot be reached: the setting (password redacted) and the cause, no stack trace', async () => {
    const port = await closedPort();
    const dir = mkdtempSync(path.join(tmpdir(), 'duban-nopg-'));
    for (const args of [['status'], ['report', '--year', '2027'], ['migrate']]) {
      const r = dubanWith({ DATABASE_URL: `postgres://duban:s3cret-pw@127.0.0.1:${port}/duban` }, dir, ...args);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `失败：无法打开台账（PostgreSQL postgres://duban:***@127.0.0.1:${port}/duban (DATABASE_URL)）：connect ECONNREFUSED 127.0.0.1:${port}\n`,
      );
      expect(r.stderr).not.toContain('s3cret-pw');
      expect(r.stderr).not.toMatch(noStackTrace);
    }
  });

  test('action arguments are checked before connecting: exit 2 naming the option', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'duban-args-'));
    const env = { TEMPORAL_ADDRESS: '127.0.0.1:1', DUBAN_DATA_DIR: path.join(dir, 'data') };
    const cases: [string[], RegExp][] = [
      [
        ['extend', 'request', 'annual-report', 'county-a', '--to', '2027-02-30', '--reason', '等待数据'],
        /^错误：--to “2027-02-30”不是日期：请写作 YYYY-MM-DD/,
      ],
      [
        ['record', 'study-session', 'finance', '--date', 'tomorrow', '--topic', '讲座'],
        /^错误：--date “tomorrow”不是日期/,
      ],
      [
        ['submit', 'annual-report', 'county-a', '--link', 'ftp://x'],
        /^错误：--link “ftp:\/\/x”不是 http 或 https 网址/,
      ],
      [['report', '--year', '2027', '--format', 'xlsx'], /^错误：--format xlsx 写出 Excel 文件：请给出 --out/],
    ];
    for (const [args, message] of cases) {
      const r = dubanWith(env, dir, ...args);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/Temporal|cannot reach/);
    }
    expect(readdirSync(dir)).toEqual([]);
  });

  test('--version, a bare duban, and required options marked in --help', () => {
    const version = duban('--version');
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).version);
    const bare = duban();
    expect(bare.code).not.toBe(0);
    expect(bare.stderr).toMatch(/^用法：duban \[options\] \[command\]/);
    expect(bare.stderr).toMatch(/命令：[\s\S]*register[\s\S]*status/);
    expect(duban('help').code).toBe(0);
    const record = duban('record', '--help').stdout.replace(/\s+/g, ' ');
    expect(record).toContain('--date <YYYY-MM-DD> 举办日期（必填）');
    expect(record).toContain('--topic <text> 主题（必填）');
    expect(record).not.toMatch(/--by <name>[^-]*（必填）/);
    expect(duban('report', '--help').stdout.replace(/\s+/g, ' ')).toContain(
      '--year <YYYY> 统计截止日期在哪一年（必填）',
    );
  });

  describe('report reads only the ledger', () => {
    let dir: string;
    let env: Record<string, string>;
    const outcome = (trackerObligation: string, unit: string, outcome: Outcome, period = '2026') => ({
      trackerId: `${trackerObligation}/${unit}`,
      obligation: trackerObligation,
      unit,
      period,
      outcome,
      originalDue: '2027-02-28',
      due: '2027-02-28',
      settledAt: Date.parse('2027-03-10T00:00:00Z'),
    });

    beforeAll(async () => {
      dir = mkdtempSync(path.join(tmpdir(), 'duban-report-'));
      // Temporal is not there at all: the report must not need it.
      env = { DUBAN_DATA_DIR: path.join(dir, 'data'), TEMPORAL_ADDRESS: '127.0.0.1:1' };
      const ledger = await Ledger.open({ sqliteFile: path.join(dir, 'data', 'ledger.sqlite') });
      await ledger.recordOutcome(outcome('annual-report', 'county-a', 'late'));
      await ledger.recordOutcome(outcome('half-year-report', 'justice', 'missed', '2026-H2'));
      await ledger.recordOutcome(outcome('half-year-report', 'finance', 'on_time', '2026-H2'));
      // Unit ids a spreadsheet would take for formulas (a unit no longer in the directory keeps its id as name).
      await ledger.recordOutcome(outcome('annual-report', '=HYPERLINK("http://evil.example","x")', 'on_time'));
      await ledger.recordOutcome(outcome('annual-report', '@SUM(A1)', 'waived'));
      await ledger.recordOutcome(outcome('annual-report', '-2+3', 'on_time'));
      await ledger.recordOutcome(outcome('annual-report', '+1', 'on_time'));
      await ledger.recordOutcome(outcome('annual-report', '\tcmd', 'on_time'));
      await ledger.close();
    });

    test('the draft circular names obligations by their Chinese titles', () => {
      const r = dubanWith(env, dir, 'report', '--year', '2027', '--catalog', catalog, '--directory', directory);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('甲县：逾期完成1项（法治政府建设年度报告（2026年度））。');
      expect(r.stdout).toContain('市司法局：未完成1项（部门半年依法行政情况报告（2026年下半年））。');
      expect(r.stdout).not.toMatch(/annual-report（|half-year-report（/);
    });

    test('CSV cells that begin with =, +, -, @ or a tab are escaped against formula injection', () => {
      const r = dubanWith(
        env,
        dir,
        'report',
        '--year',
        '2027',
        '--catalog',
        catalog,
        '--directory',
        directory,
        '--format',
        'csv',
      );
      expect(r.code).toBe(0);
      const rows = r.stdout
        .replace(/^\uFEFF/, '')
        .trimEnd()
        .split('\r\n');
      const cells = rows.flatMap((row) => row.match(/("([^"]|"")*"|[^,]*)(,|$)/g)!.map((c) => c.replace(/,$/, '')));
      for (const c of cells) expect(c.replace(/^"/, '')).not.toMatch(/^[=+\-@\t]/);
      expect(r.stdout).toContain(`,"'=HYPERLINK(""http://evil.example"",""x"")",`);
      expect(r.stdout).toContain(",'@SUM(A1),'@SUM(A1),");
      expect(r.stdout).toContain(",'-2+3,'-2+3,");
      expect(r.stdout).toContain(",'+1,'+1,");
      expect(r.stdout).toContain(",'\tcmd,'\tcmd,");
      // Numbers stay numbers; a unit with nothing counted has an empty rate.
      expect(r.stdout).toMatch(/\r\n\d+,'@SUM\(A1\),'@SUM\(A1\),1,0,0,0,0,0,1,\r\n/);
    });

    test('--format xlsx writes a real workbook', async () => {
      const file = path.join(dir, '2027考核.xlsx');
      const r = dubanWith(
        env,
        dir,
        'report',
        '--year',
        '2027',
        '--catalog',
        catalog,
        '--directory',
        directory,
        '--format',
        'xlsx',
        '--out',
        file,
      );
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const workbook = new ExcelJS.Workbook();
      await workbook.xlsx.readFile(file);
      const sheet = workbook.getWorksheet('考核')!;
      expect(sheet.getRow(2).values).toEqual([
        undefined,
        '排名',
        '单位',
        '单位名称',
        '应完成',
        '按时',
        '延期后按时',
        '逾期',
        '未完成',
        '逾期未完成',
        '免除',
        '按时率',
      ]);
      const rows = new Map<string, unknown[]>();
      sheet.eachRow((row, n) => {
        if (n > 2) rows.set(String(row.getCell(2).value), (row.values as unknown[]).slice(1));
      });
      expect(rows.get('county-a')).toEqual([expect.any(Number), 'county-a', '甲县', 1, 0, 0, 1, 0, 0, 0, 0]);
      expect(rows.get('finance')).toEqual([1, 'finance', '市财政局', 1, 1, 0, 0, 0, 0, 0, 1]);
      // A hostile unit name is a text cell, never a formula.
      const hostile = sheet.getRow([...rows.keys()].indexOf('=HYPERLINK("http://evil.example","x")') + 3).getCell(3);
      expect(hostile.type).toBe(ExcelJS.ValueType.String);
      expect(hostile.value).toBe('=HYPERLINK("http://evil.example","x")');
      expect(sheet.getCell('K3').numFmt).toBe('0.0%');
      const circular = workbook.getWorksheet('通报')!;
      const text: string[] = [];
      circular.eachRow((row) => text.push(String(row.getCell(1).value ?? '')));
      expect(text[0]).toBe('关于2027年度法治政府建设任务落实情况的通报（草稿）');
      expect(text.join('\n')).toContain('甲县：逾期完成1项（法治政府建设年度报告（2026年度））。');
    });
  });
});

test('validate warns, without refusing, when a monthly ladder reaches back past the previous month', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'duban-overlap-'));
  const file = path.join(dir, 'catalog.yaml');
  writeFileSync(
    file,
    readFileSync(catalog, 'utf8').replace(
      /obligations:\n/,
      'obligations:\n  - id: monthly-stats\n    title: 月度统计\n    basis: [{ document: 测试文件, quote: 每月报送 }]\n    assignees: { units: [justice] }\n    period: month\n    due: { rule: period-end }\n    reminders: [20, 10, 3, 1, 0]\n',
    ),
  );
  const r = duban('validate', file, directory);
  expect(r.code).toBe(0);
  expect(r.stderr).toMatch(
    /警告：任务monthly-stats：\d{4}年\d{1,2}月的第一次提醒（\d{4}-\d{2}-\d{2}）早于\d{4}年\d{1,2}月的截止日期/,
  );
  expect(JSON.parse(duban('validate', file, directory, '--json').stdout).warnings).toHaveLength(1);
});
