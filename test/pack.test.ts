/**
 * Install without a build toolchain (issue 11.6): `npm pack` compiles (the prepare script runs at pack time), and
 * `npm install --omit=dev` of the tarball gives a working `duban` with no TypeScript on the machine; the Temporal
 * binaries step is skipped with DUBAN_SKIP_TEMPORAL_BINARIES=1.
 *
 * The install runs with --ignore-scripts and from npm's cache where it can (--prefer-offline), so the test is
 * bounded and needs no compiler: better-sqlite3's own install script (which fetches a prebuilt binary, or compiles
 * one where none matches the platform) is therefore not exercised here; duban's postinstall is run by hand below.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

jest.setTimeout(600_000);

const root = path.resolve(__dirname, '..');
const npm = (args: string[], cwd: string, timeout: number) =>
  execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd,
    encoding: 'utf8',
    timeout,
    env: { ...process.env, npm_config_update_notifier: 'false' },
  });

test('a packed release installs with --omit=dev and runs without tsc; the Temporal binaries step is skippable', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'duban-pack-'));
  // The pack folder holds a whole installation (hundreds of MB): removed also when the test fails.
  try {
    packAndInstall(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function packAndInstall(dir: string): void {
  npm(['pack', '--pack-destination', dir], root, 240_000);
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'))!;
  expect(tarball).toMatch(/^duban-\d+\.\d+\.\d+\.tgz$/);
  const listing = execFileSync('tar', ['tzf', path.join(dir, tarball)], { encoding: 'utf8' }).split('\n');
  // Compiled at pack time; no tests, local data or Temporal binaries in the release.
  expect(listing).toEqual(
    expect.arrayContaining([
      'package/dist/client/cli.js',
      'package/dist/worker/main.js',
      'package/dist/workflows/index.js',
      'package/bin/duban.js',
      'package/scripts/install-servers.js',
    ]),
  );
  expect(listing.some((f) => /^package\/config\/defaults\/.+\.yaml$/.test(f))).toBe(true);
  expect(listing.filter((f) => /^package\/(test|dist\/test|\.tools|\.duban|node_modules)\//.test(f))).toEqual([]);

  const app = path.join(dir, 'app');
  mkdirSync(app);
  writeFileSync(
    path.join(app, 'package.json'),
    JSON.stringify({ name: 'duban-deployment', version: '1.0.0', private: true }),
  );
  npm(['install', '--omit=dev', '--ignore-scripts', '--prefer-offline', path.join(dir, tarball)], app, 300_000);
  const installed = path.join(app, 'node_modules', 'duban');
  expect(existsSync(path.join(app, 'node_modules', 'typescript'))).toBe(false);
  expect(existsSync(path.join(app, 'node_modules', 'jest'))).toBe(false);

  const duban = (...args: string[]) =>
    spawnSync(process.execPath, [path.join(installed, 'bin', 'duban.js'), ...args], {
      cwd: app,
      encoding: 'utf8',
      env: { ...process.env, TZ: 'UTC' },
      timeout: 60_000,
    });
  const version = duban('--version');
  expect(version.status).toBe(0);
  expect(version.stdout.trim()).toBe(require('../package.json').version);
  const validate = duban('validate');
  expect(validate.status).toBe(0);
  expect(validate.stdout).toMatch(/^检查通过：\d+项任务，\d+个单位，\d+项督办任务/m);

  // duban's postinstall, as npm would run it, with the setting a deployment on a Temporal cluster uses.
  const post = spawnSync(process.execPath, [path.join(installed, 'scripts', 'install-servers.js')], {
    cwd: installed,
    encoding: 'utf8',
    env: { ...process.env, DUBAN_SKIP_TEMPORAL_BINARIES: '1', PATH: '/usr/bin:/bin' },
    timeout: 30_000,
  });
  expect(post.status).toBe(0);
  expect(post.stdout).toMatch(/not installing the Temporal dev and test servers \(DUBAN_SKIP_TEMPORAL_BINARIES=1\)/);
  expect(existsSync(path.join(installed, '.tools'))).toBe(false);

  // The worker's workflows bundle from the compiled code with the production dependencies alone.
  const bundle = spawnSync(
    process.execPath,
    [
      '-e',
      "const w=require('@temporalio/worker');w.bundleWorkflowCode({workflowsPath:require.resolve('duban/dist/workflows'),logger:new w.DefaultLogger('WARN')}).then(b=>console.log('bundled',b.code.length))",
    ],
    { cwd: app, encoding: 'utf8', timeout: 120_000 },
  );
  expect(bundle.status).toBe(0);
  expect(bundle.stdout).toMatch(/^bundled \d+/);
}
