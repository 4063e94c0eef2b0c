/**
 * The directory and catalog as last registered, kept in the ledger: `duban register` and `duban start` write them,
 * the web service takes its roles from them (docs/web.md), and the board reads its trackers' time zones there.
 */
import type { Ledger } from '../ledger';
import type { Catalog, Directory } from '../domain/model';
import type { Duban } from './temporal';

export interface Snapshot {
  key: string;
  takenAt: number;
  directory: Directory;
  catalog: Catalog;
}

/** Keeps the registered files in the deployment's ledger. */
export async function saveSnapshot(
  d: Duban,
  inputs: { directory: unknown; catalog: unknown },
  by: string,
): Promise<void> {
  const ledger = await d.openLedger();
  await ledger
    .saveDirectorySnapshot({ directory: inputs.directory, catalog: inputs.catalog, by })
    .finally(() => ledger.close());
}

let cachedSnapshot: Snapshot | undefined;

/** The directory and catalog as last registered; parsed once per registration, not per request. */
export async function latestSnapshot(ledger: Ledger): Promise<Snapshot | undefined> {
  const [head] = await ledger.db.all<{ snapshot_key: string; taken_at: number }>(
    'SELECT snapshot_key, taken_at FROM directory_snapshots ORDER BY taken_at DESC, snapshot_key LIMIT 1',
  );
  if (!head) return undefined;
  if (cachedSnapshot?.key === head.snapshot_key) return cachedSnapshot;
  const [row] = await ledger.db.all<{ directory: string; catalog: string }>(
    'SELECT directory, catalog FROM directory_snapshots WHERE snapshot_key = ?',
    [head.snapshot_key],
  );
  if (!row) return undefined;
  cachedSnapshot = {
    key: head.snapshot_key,
    takenAt: Number(head.taken_at),
    directory: JSON.parse(row.directory) as Directory,
    catalog: JSON.parse(row.catalog) as Catalog,
  };
  return cachedSnapshot;
}
