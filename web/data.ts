/**
 * What the web's pages read together: a tracker's whole record, the live status, the registered files and the
 * board. The queries themselves are the ledger's (ledger/web.ts for the web's own tables, reached as `ledger.web`);
 * nothing here writes SQL.
 */
import type { EventRow, EvidenceFileRow, Ledger, NoticeRow, OutcomeRow } from '../ledger';
import type { Duban } from '../access/temporal';
import type { TrackerStatus } from '../workflows/messages';

// The registered files and the board are read by the command line too: they live in access/.
export { latestSnapshot } from '../access/registered';
export type { Snapshot } from '../access/registered';
export { boardStates } from '../access/board';
export type { BoardItem } from '../access/board';

export interface TrackerRecord {
  notices: NoticeRow[];
  events: EventRow[];
  outcomes: OutcomeRow[];
  files: EvidenceFileRow[];
}

/** Everything the ledger holds about one tracker: notices, actions, outcomes and evidence files. */
export async function trackerRecord(ledger: Ledger, trackerId: string): Promise<TrackerRecord> {
  const [notices, events, outcomes, files] = await Promise.all([
    ledger.notices({ trackerId }),
    ledger.events({ trackerId }),
    ledger.outcomes({ trackerId }),
    ledger.web.evidenceFiles(trackerId),
  ]);
  return { notices, events, outcomes, files };
}

/** The live status from the tracker itself (a Temporal query), or undefined when it no longer runs. */
export async function liveStatus(duban: Duban, trackerId: string): Promise<TrackerStatus | undefined> {
  return duban.status(trackerId).catch(() => undefined);
}

export type { EvidenceFileRow, LinkSubmission, SessionRow, SupervisionRow } from '../ledger';
