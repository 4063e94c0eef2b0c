/**
 * Ends the run cleanly, passed or failed: stops any process a test started and left running, then removes the
 * run's temporary folder (test/support/global-setup.ts).
 *
 * A test that fails before its own cleanup (an expectation thrown between spawning `duban start` and stopping it)
 * leaves a child with pipes to a jest worker: jest then never exits and CI waits until its time limit. Every process
 * a test starts inherits TMPDIR set to the run's folder, so those still running are found by their environment,
 * named on stderr (a leak to mend in its test), and stopped.
 */
import { readFileSync, readdirSync, rmSync } from 'node:fs';

function leftoverProcesses(root: string): { pid: number; command: string }[] {
  const found: { pid: number; command: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const environ = readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0');
      if (!environ.includes(`TMPDIR=${root}`) && !environ.includes(`DUBAN_TEST_TMP_ROOT=${root}`)) continue;
      found.push({ pid, command: readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').join(' ').slice(0, 200) });
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return found;
}

export default function globalTeardown(): void {
  const root = process.env.DUBAN_TEST_TMP_ROOT;
  if (!root) return;
  if (process.platform === 'linux') {
    const left = leftoverProcesses(root);
    for (const p of left) {
      process.stderr.write(`global teardown: a test left process ${p.pid} running (${p.command}); stopping it\n`);
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
  rmSync(root, { recursive: true, force: true });
  if (process.env.DUBAN_TEST_SYSTEM_TMP) process.env.TMPDIR = process.env.DUBAN_TEST_SYSTEM_TMP;
  delete process.env.DUBAN_TEST_TMP_ROOT;
}
