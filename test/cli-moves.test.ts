/**
 * `duban hand-back`, `refuse-hand-back`, `transfer` and `stand-in` (issue #24 items 4 and 6) through the installed
 * command: each --help says what it does with an example; `stand-in set` checks its dates before anything opens and,
 * against a ledger with no registered directory, says what to do and changes nothing. The moves themselves are
 * tested on the time-skipping server (test/engine/transfer.test.ts, test/engine/stand-in.test.ts).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Ledger } from '../ledger';

const root = path.resolve(__dirname, '..');
const duban = (env: Record<string, string>, ...args: string[]) => {
  const r = spawnSync(process.execPath, [path.join(root, 'bin', 'duban.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, TZ: 'UTC', ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

test.each([
  ['hand-back', /退回：单位将期次退回督察单位/, /duban hand-back annual-report-dept jyj --reason \S+/],
  ['refuse-hand-back', /督察单位不同意退回/, /duban refuse-hand-back annual-report-dept jyj --reason \S+/],
  ['transfer', /转办：督察单位将开放期次连同办理记录转给另一单位/, /duban transfer annual-report-dept jyj --to scjgj/],
])('duban %s --help: what it does and an example', (command, what, example) => {
  const h = duban({}, command, '--help');
  expect(h.code).toBe(0);
  expect(h.stdout.replace(/\s+/g, ' ')).toMatch(what);
  expect(h.stdout).toMatch(/--reason <text>/);
  expect(h.stdout).toMatch(new RegExp(`示例：\\n\\s+${example.source}`));
});

describe('duban stand-in', () => {
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'duban-stand-in-'));
    const ledger = await Ledger.open({ sqliteFile: path.join(dir, 'ledger.sqlite') });
    await ledger.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('--help: set, list, cancel, each with an example; the days inclusive', () => {
    const h = duban({}, 'stand-in', 'set', '--help');
    expect(h.code).toBe(0);
    for (const option of [
      '--absent <email>',
      '--stand-in <email>',
      '--from <YYYY-MM-DD>',
      '--to <YYYY-MM-DD>',
      '--json',
    ])
      expect(h.stdout).toContain(option);
    expect(h.stdout).toMatch(/不在岗的第一天（含当天）/);
    expect(h.stdout).toMatch(/示例：\n\s+duban stand-in set sfj --absent /);
    expect(duban({}, 'stand-in', 'list', '--help').stdout).toMatch(/示例：\n\s+duban stand-in list/);
    expect(duban({}, 'stand-in', 'cancel', '--help').stdout).toMatch(/示例：\n\s+duban stand-in cancel /);
  });

  test('a bad date is refused before anything opens; no registered directory is said in Chinese; nothing kept', async () => {
    const env = { DUBAN_DATA_DIR: dir };
    const args = ['stand-in', 'set', 'sfj', '--absent', 'a@x.org', '--stand-in', 'b@x.org', '--from', '2027-02-01'];
    const bad = duban(env, ...args, '--to', '2027-02-30');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('--to “2027-02-30”不是日期');
    const none = duban(env, ...args, '--to', '2027-02-10');
    expect(none.code).not.toBe(0);
    expect(none.stderr).toContain('尚未登记单位名录（duban register），无法设置代办，未作任何更改');
    expect(none.stderr).not.toMatch(/\n\s+at /);
    const list = duban(env, 'stand-in', 'list', '--json');
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual([]);
  });
});
