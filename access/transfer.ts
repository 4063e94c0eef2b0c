/**
 * The target of a 转办 (DOMAIN.md 27): the other unit's tracker definition for the same obligation, built from the
 * directory and catalog as last registered, so that the web and the command line move a period the same way.
 */
import type { Ledger } from '../ledger';
import { definitionFor } from '../domain/trackers';
import type { TrackerDefinition } from '../domain/trackers';
import { latestSnapshot } from './registered';

export async function transferTarget(
  ledger: Ledger,
  trackerId: string,
  to: string,
): Promise<{ definition: TrackerDefinition } | { error: string }> {
  const [obligation] = trackerId.split('/');
  if (!to) return { error: '请填写转办的目标单位编号，未作任何更改。' };
  const snapshot = await latestSnapshot(ledger);
  if (!snapshot) return { error: '尚未登记单位名录（duban register），无法转办，未作任何更改。' };
  const unit = snapshot.directory.units.find((u) => u.id === to);
  if (!unit) return { error: `单位名录中没有编号为“${to}”的单位，未作任何更改。` };
  if (!unit.supervisor) return { error: `单位“${unit.name}”没有督察单位，不能承办任务，未作任何更改。` };
  const definition = definitionFor(snapshot.catalog, snapshot.directory, obligation ?? '', to);
  if (!definition) return { error: `任务清单中没有任务“${obligation}”，未作任何更改。` };
  return { definition };
}
