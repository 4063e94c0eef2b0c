/**
 * How every row about a tracker names it, once: the ledger's row types extend these instead of restating the
 * fields. Inputs (what trackers write) use camelCase; rows read back from the tables keep the column names.
 */

/** The fields that name a tracker in every row about it. */
export interface TrackerRef {
  trackerId: string;
  obligation: string;
  unit: string;
}

/** A tracker and one of its periods. */
export interface PeriodRef extends TrackerRef {
  period: string;
}

/** PeriodRef as the tables' columns, for rows read back as they are stored. */
export interface PeriodColumns {
  tracker_id: string;
  obligation: string;
  unit: string;
  period: string;
}
