/**
 * 代办 (DOMAIN.md 29) for the command line and the web: a stand-in checked against the directory as last registered,
 * then kept in the ledger. The same input twice (a retried command, a double-clicked form) is kept once.
 */
import { createHash } from 'node:crypto';
import type { Ledger } from '../ledger';
import { StandIn, checkStandIn } from '../domain/stand-ins';
import { latestSnapshot } from './registered';

export interface StandInInput {
  unit: string;
  absent: string;
  standIn: string;
  from: string;
  to: string;
  by: string;
}

export async function setStandIn(
  ledger: Ledger,
  input: StandInInput,
  now: number,
): Promise<{ id: string; standIn: StandIn } | { error: string }> {
  const snapshot = await latestSnapshot(ledger);
  if (!snapshot) return { error: '尚未登记单位名录（duban register），无法设置代办' };
  const units = snapshot.directory.units.map((u) => ({
    id: u.id,
    name: u.name,
    head: u.contacts.head,
    liaison: u.contacts.liaison,
    deputies: u.contacts.deputies,
  }));
  const checked = checkStandIn(input, units);
  if ('error' in checked) return checked;
  const standIn: StandIn = {
    unit: input.unit,
    absent: { name: checked.absent.name, email: checked.absent.email },
    standIn: { name: checked.standIn.name, email: checked.standIn.email },
    from: input.from,
    to: input.to,
    by: input.by,
    at: now,
  };
  const id = createHash('sha256')
    .update(JSON.stringify([input.unit, input.absent, input.standIn, input.from, input.to]))
    .digest('hex')
    .slice(0, 24);
  await ledger.standIns.add(id, standIn);
  return { id, standIn };
}
