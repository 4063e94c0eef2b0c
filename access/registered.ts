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
  const head = await ledger.latestSnapshotHead();
  if (!head) return undefined;
  if (cachedSnapshot?.key === head.key) return cachedSnapshot;
  const row = await ledger.directorySnapshot(head.key);
  if (!row) return undefined;
  cachedSnapshot = {
    key: head.key,
    takenAt: head.takenAt,
    directory: JSON.parse(row.directory) as Directory,
    catalog: JSON.parse(row.catalog) as Catalog,
  };
  return cachedSnapshot;
}
