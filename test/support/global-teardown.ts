/** Removes the run's temporary folder (test/support/global-setup.ts), whatever the tests left in it. */
import { rmSync } from 'node:fs';

export default function globalTeardown(): void {
  const root = process.env.DUBAN_TEST_TMP_ROOT;
  if (!root) return;
  rmSync(root, { recursive: true, force: true });
  if (process.env.DUBAN_TEST_SYSTEM_TMP) process.env.TMPDIR = process.env.DUBAN_TEST_SYSTEM_TMP;
  delete process.env.DUBAN_TEST_TMP_ROOT;
}
