/**
 * A throwaway PostgreSQL server for tests, from Debian's packages: installed with apt-get when missing (CI runs
 * as root), initialised in a temporary folder and started on a free loopback port. DUBAN_TEST_DATABASE_URL
 * points the tests at an existing server instead.
 */
import { execFileSync, execSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { freePort } from './ports';

export interface TestPostgres {
  url: string;
  stop(): Promise<void>;
  /** Stops the server (fast shutdown: connections are cut) and starts it again on the same port and data. */
  restart?(): Promise<void>;
}

function postgresBin(): string {
  const find = () => {
    const base = '/usr/lib/postgresql';
    if (!existsSync(base)) return undefined;
    const versions = readdirSync(base)
      .filter((v) => existsSync(path.join(base, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    return versions[0] && path.join(base, versions[0], 'bin');
  };
  let bin = find();
  if (!bin) {
    if (process.getuid?.() !== 0)
      throw new Error(
        'PostgreSQL is not installed and the tests are not root: apt-get install postgresql, or set DUBAN_TEST_DATABASE_URL',
      );
    execSync('apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql', {
      stdio: 'inherit',
    });
    bin = find();
  }
  if (!bin) throw new Error('PostgreSQL binaries not found after installing postgresql');
  return bin;
}

export async function startTestPostgres(): Promise<TestPostgres> {
  if (process.env.DUBAN_TEST_DATABASE_URL)
    return { url: process.env.DUBAN_TEST_DATABASE_URL, stop: async () => undefined };
  const bin = postgresBin();
  const root = mkdtempSync(path.join(tmpdir(), 'duban-pg-'));
  const data = path.join(root, 'data');
  const port = await freePort();
  // PostgreSQL refuses to run as root: as root, the cluster belongs to the postgres user.
  const asRoot = process.getuid?.() === 0;
  const run = (cmd: string, args: string[]) =>
    asRoot
      ? execFileSync('runuser', ['-u', 'postgres', '--', path.join(bin, cmd), ...args], { stdio: 'pipe' })
      : execFileSync(path.join(bin, cmd), args, { stdio: 'pipe' });
  chmodSync(root, 0o755);
  // A cluster that failed to start leaves nothing behind.
  const remove = () => rmSync(root, { recursive: true, force: true });
  try {
    if (asRoot) execFileSync('install', ['-d', '-o', 'postgres', '-g', 'postgres', '-m', '700', data]);
    run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8']);
    startCluster();
    run('createdb', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', 'duban']);
  } catch (err) {
    try {
      run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
    } catch {
      // Not running: nothing to stop.
    }
    remove();
    throw err;
  }
  function startCluster() {
    run('pg_ctl', [
      '-D',
      data,
      '-l',
      path.join(data, 'server.log'),
      '-w',
      '-t',
      '60',
      '-o',
      `-c listen_addresses=127.0.0.1 -p ${port} -k ${data}`,
      'start',
    ]);
  }
  return {
    url: `postgres://postgres@127.0.0.1:${port}/duban`,
    // A stopped cluster may be started again (an outage test restarts it), so stop() keeps its folder: the run's
    // temporary root (test/support/global-setup.ts) is removed at the end.
    async stop() {
      run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
    },
    async restart() {
      run('pg_ctl', [
        '-D',
        data,
        '-m',
        'fast',
        '-w',
        '-t',
        '60',
        '-l',
        path.join(data, 'server.log'),
        '-o',
        `-c listen_addresses=127.0.0.1 -p ${port} -k ${data}`,
        'restart',
      ]);
    },
  };
}
