/** The benchmarks' Redis for their BullMQ peers: Debian's redis-server on a free loopback port, no persistence. */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { AddressInfo, connect, createServer } from 'node:net';

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Installed with apt-get when missing (root). Kill the child to stop it. */
export async function startRedis(): Promise<{ port: number; child: ChildProcess }> {
  if (!existsSync('/usr/bin/redis-server'))
    execFileSync('apt-get', ['install', '-y', '-qq', 'redis-server'], { stdio: 'ignore' });
  const port = await freePort();
  const child = spawn(
    '/usr/bin/redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => (s.end(), resolve(true)));
      s.on('error', () => resolve(false));
    });
    if (up) return { port, child };
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('redis-server did not start');
}
