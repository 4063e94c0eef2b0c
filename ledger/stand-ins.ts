/**
 * 代办 ranges (migration 25, table stand_ins): who stands in for a unit's head or liaison, from which day to which
 * (both inclusive). Written by `duban stand-in set` and the web's form; read by the delivery activity (email) and
 * the channel step (SMS, robots) for each notice, for the tracker's unit, its office, its cooperating units and the
 * office above; and by the web, which refuses a stand-in's link once no live range names its holder
 * (`forAbsent`). Reached as `ledger.standIns`.
 */
import type { StandIn } from '../domain/stand-ins';
import type { SqlDb } from './sql';

type Row = {
  id: string;
  unit: string;
  absent_email: string;
  absent_name: string;
  stand_in_email: string;
  stand_in_name: string;
  from_day: string;
  to_day: string;
  set_by: string;
  set_at: number;
};

const standIn = (r: Row): StandIn & { id: string } => ({
  id: r.id,
  unit: r.unit,
  absent: { name: r.absent_name, email: r.absent_email },
  standIn: { name: r.stand_in_name, email: r.stand_in_email },
  from: r.from_day,
  to: r.to_day,
  by: r.set_by,
  at: Number(r.set_at),
});

export class StandInTables {
  constructor(private readonly db: SqlDb) {}

  /** Keeps one range; `id` makes a repeat (a double-clicked form, a retried command) change nothing. */
  async add(id: string, s: StandIn): Promise<void> {
    await this.db.run(
      `INSERT INTO stand_ins (id, unit, absent_email, absent_name, stand_in_email, stand_in_name, from_day, to_day, set_by, set_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
      [id, s.unit, s.absent.email, s.absent.name, s.standIn.email, s.standIn.name, s.from, s.to, s.by, s.at],
    );
  }

  /** Ends a range early (it stays in the record). */
  async cancel(id: string, at: number): Promise<boolean> {
    const changed = await this.db.run('UPDATE stand_ins SET cancelled_at = ? WHERE id = ? AND cancelled_at IS NULL', [
      at,
      id,
    ]);
    return changed > 0;
  }

  /** The ranges of these units not cancelled and not over before `fromDay` (YYYY-MM-DD). */
  async forUnits(units: readonly string[], fromDay: string): Promise<(StandIn & { id: string })[]> {
    if (units.length === 0) return [];
    const rows = await this.db.all<Row>(
      `SELECT * FROM stand_ins WHERE unit IN (${units.map(() => '?').join(', ')}) AND to_day >= ? AND cancelled_at IS NULL ORDER BY set_at, id`,
      [...units, fromDay],
    );
    return rows.map(standIn);
  }

  /**
   * The ranges naming `absentEmail` as the absent person, not cancelled and not over before `fromDay`: what a
   * stand-in's link is checked against (web/routes/links.ts) when it is opened or posted.
   */
  async forAbsent(absentEmail: string, fromDay: string): Promise<(StandIn & { id: string })[]> {
    const rows = await this.db.all<Row>(
      'SELECT * FROM stand_ins WHERE absent_email = ? AND to_day >= ? AND cancelled_at IS NULL ORDER BY set_at, id',
      [absentEmail, fromDay],
    );
    return rows.map(standIn);
  }

  /** Every range not cancelled, for `duban stand-in list`. */
  async all(): Promise<(StandIn & { id: string })[]> {
    const rows = await this.db.all<Row>(
      'SELECT * FROM stand_ins WHERE cancelled_at IS NULL ORDER BY unit, from_day, set_at',
    );
    return rows.map(standIn);
  }
}
