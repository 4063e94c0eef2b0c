/**
 * The ledger the settings name: the settings build the ledger's options (config/settings.ts `ledgerOptions`) and
 * the ledger takes them, so ledger/ imports nothing above it.
 */
import { Ledger } from '../ledger';
import { Settings, ledgerOptions } from '../config/settings';

/**
 * PostgreSQL with DATABASE_URL, else SQLite in the data folder. Read-only by default: an absent ledger is reported,
 * never created, and one that lacks migrations is reported, never migrated. Only `duban migrate` and the worker
 * pass `migrate: true`, so that a schema changes when an operator means it to.
 */
export async function openLedger(settings: Settings, options: { migrate?: boolean } = {}): Promise<Ledger> {
  return Ledger.open({ ...ledgerOptions(settings), migrate: options.migrate ?? false });
}
