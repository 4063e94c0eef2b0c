/**
 * One temporary folder for the whole run (jest's globalSetup): every test's mkdtemp (ledgers, data folders,
 * PostgreSQL clusters, the pack folder, the browser's profiles) lands under it, because os.tmpdir() reads TMPDIR
 * and the test workers inherit it. test/support/global-teardown.ts removes it when the run ends, passed or failed.
 */
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

export default function globalSetup(): void {
  if (process.env.DUBAN_TEST_TMP_ROOT) return;
  const root = mkdtempSync(path.join(tmpdir(), 'duban-tests-'));
  // The PostgreSQL clusters run as the postgres user when the tests are root: it must reach its data folder.
  chmodSync(root, 0o755);
  process.env.DUBAN_TEST_TMP_ROOT = root;
  process.env.DUBAN_TEST_SYSTEM_TMP = tmpdir();
  process.env.TMPDIR = root;
}
