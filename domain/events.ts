/**
 * Events (事件) for event-relative deadlines (docs/catalog.md, "Event-relative deadlines"): a session of the
 * people's congress standing committee, the city's annual edition of a catalogue. Each has an id, a date once
 * another body sets it (absent while unknown, cancelled or postponed), and a note. Obligations name the event in
 * their due rule; registration fills the date into each tracker's definition.
 */
import type { Catalog, DueRule } from './model';

export interface EventEntry {
  id: string;
  /** YYYY-MM-DD; absent while the date is not known. */
  date?: string;
  note?: string;
}

/** The event an obligation's due rule names, if it is event-relative. */
export function eventOf(rule: DueRule): string | undefined {
  return rule.rule === 'before-event' || rule.rule === 'after-event' ? rule.event : undefined;
}

/** The due rule with its event's date filled in (or left out while the event has none). */
export function withEventDate(rule: DueRule, events: readonly EventEntry[] | undefined): DueRule {
  if (rule.rule !== 'before-event' && rule.rule !== 'after-event') return rule;
  const date = events?.find((e) => e.id === rule.event)?.date;
  const { date: _ignored, ...rest } = rule;
  return date === undefined ? rest : { ...rest, date };
}

/** Obligations (index, id, event) whose due rule names an event. */
export function eventObligations(catalog: Catalog): { index: number; id: string; event: string }[] {
  return catalog.obligations.flatMap((o, index) => {
    const event = eventOf(o.due);
    return event === undefined ? [] : [{ index, id: o.id, event }];
  });
}
