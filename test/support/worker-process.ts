/**
 * Real worker processes (node dist/worker/main.js), as an operator runs them: for integration and crash tests.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..', '..');

export interface WorkerProcess {
  child: ChildProcess;
  exited: Promise<number | null>;
  kill(signal: NodeJS.Signals): Promise<number | null>;
}

export function spawnWorker(env: Record<string, string>, logFile: string): WorkerProcess {
  const child = spawn(process.execPath, [path.join(root, 'dist', 'worker', 'main.js')], {
    cwd: root,
    env: { ...process.env, TZ: 'UTC', DUBAN_LOG_LEVEL: 'WARN', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(logFile, { flags: 'a' });
  child.stdout!.pipe(log, { end: false });
  child.stderr!.pipe(log, { end: false });
  // Resolved once the process has exited and everything it printed is in the log file ('close' comes after the
  // output streams ended; then the file stream is flushed), so a test may read the log at once.
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code) => {
      log.end(() => resolve(code));
    }),
  );
  return {
    child,
    exited,
    async kill(signal) {
      child.kill(signal);
      return exited;
    },
  };
}
