/**
 * `duban urge` (issue #19 item 10) through the installed command: its help names what it does, with an example and
 * --json; its options are checked before anything connects. The Update itself is tested on the time-skipping
 * server (test/engine/catch-up-urge.test.ts).
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { freePort } from './support/ports';

const root = path.resolve(__dirname, '..');
const duban = (env: Record<string, string>, ...args: string[]) => {
  const r = spawnSync(process.execPath, [path.join(root, 'bin', 'duban.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, TZ: 'UTC', ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

test('duban urge --help: what it does, an example, --by, --period, --note and --json', () => {
  const h = duban({}, 'urge', '--help');
  expect(h.code).toBe(0);
  expect(h.stdout).toMatch(/用法：duban urge \[options\] <obligation> <unit>/);
  expect(h.stdout).toMatch(/督察单位对逾期（红灯）期次立即发出催办/);
  expect(h.stdout.replace(/\s+/g, ' ')).toMatch(/每个期次每个工作日至多一次/);
  for (const option of ['--by <name>', '--period <label>', '--note <text>', '--json'])
    expect(h.stdout).toContain(option);
  expect(h.stdout).toMatch(/示例：\n\s+duban urge annual-report-dept sfj --by \S+/);
});

test('duban urge with Temporal unreachable: exit 1, naming where it looked, no stack trace', async () => {
  const port = await freePort();
  const r = duban({ TEMPORAL_ADDRESS: `127.0.0.1:${port}` }, 'urge', 'annual-report-dept', 'sfj', '--by', '王明');
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`127.0.0.1:${port}`);
  expect(r.stderr).not.toMatch(/\n\s+at /);
});
