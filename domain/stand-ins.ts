/**
 * 代办 (DOMAIN.md 29): a unit's head or liaison, away for a date range, names a stand-in from the directory. On the
 * days of the range (first and last inclusive, in the catalog's time zone) the notices meant for the absent person
 * go to the stand-in, with the absent person in copy; their links are bound to the stand-in, who acts for the absent
 * person (the action records both). Pure: the ledger keeps the ranges; the email delivery, the channel step (SMS,
 * robots) and the web's check of a stand-in's link all ask this module, so the rule is one.
 */
import { formatDate, parseDate } from './dates';
import type { Contact } from './model';
import { localDay } from './zone';

/** The day (YYYY-MM-DD) an instant falls on in the catalog's zone: the day a stand-in's range is matched against. */
export function standInDay(instant: number, timeZone: string): string {
  return formatDate(localDay(instant, timeZone));
}

export interface StandIn {
  /** The unit whose head or liaison is away. */
  unit: string;
  absent: Contact;
  standIn: Contact;
  /** First and last day away, YYYY-MM-DD, both inclusive. */
  from: string;
  to: string;
  /** Who named the stand-in, and when. */
  by: string;
  at: number;
}

/** The stand-in for `email` on `day` (YYYY-MM-DD in the catalog's zone); the latest named wins an overlap. */
export function standInOn(list: readonly StandIn[], email: string, day: string): StandIn | undefined {
  let found: StandIn | undefined;
  for (const s of list)
    if (s.absent.email === email && s.from <= day && day <= s.to && (!found || s.at >= found.at)) found = s;
  return found;
}

/**
 * A notice's recipients on `day`: each absent person replaced by their stand-in (in the same place, to or cc), the
 * absent person kept in copy. `behalf` says, for each stand-in's address, whom they stand in for.
 */
export function routeToStandIns(
  rcpt: { to: readonly string[]; cc: readonly string[] },
  list: readonly StandIn[],
  day: string,
): { to: string[]; cc: string[]; behalf: Map<string, StandIn> } {
  const behalf = new Map<string, StandIn>();
  const swap = (email: string) => {
    const s = standInOn(list, email, day);
    if (!s) return email;
    behalf.set(s.standIn.email, s);
    return s.standIn.email;
  };
  const to = [...new Set(rcpt.to.map(swap))];
  const copied = rcpt.cc.map(swap);
  const absentInCopy = [...behalf.values()].map((s) => s.absent.email);
  const cc = [...new Set([...copied, ...absentInCopy])].filter((a) => !to.includes(a));
  return { to, cc, behalf };
}

/** What the directory says about the unit's people, for checking a stand-in. */
export interface UnitPeople {
  id: string;
  name: string;
  head: Contact;
  liaison: Contact;
  deputies: readonly Contact[];
}

/**
 * Refuses (a Chinese sentence naming the field) a stand-in that cannot apply: the absent person must be the unit's
 * head or liaison, the stand-in a person of the directory other than them, the dates real and in order.
 */
export function checkStandIn(
  s: { unit: string; absent: string; standIn: string; from: string; to: string },
  units: readonly UnitPeople[],
): { absent: Contact; standIn: Contact } | { error: string } {
  const unit = units.find((u) => u.id === s.unit);
  if (!unit) return { error: `单位名录中没有编号为“${s.unit}”的单位` };
  const absent = [unit.head, unit.liaison].find((c) => c.email === s.absent);
  if (!absent) return { error: `--absent ${s.absent}：须为${unit.name}的主要负责人或联络员的邮箱` };
  const people = units.flatMap((u) => [u.head, u.liaison, ...u.deputies]);
  const standIn = people.find((c) => c.email === s.standIn);
  if (!standIn) return { error: `--stand-in ${s.standIn}：单位名录中没有此人（代办人须为名录中的人员）` };
  if (standIn.email === absent.email) return { error: '代办人不能是本人' };
  if (!parseDate(s.from)) return { error: `--from ${s.from}：不是有效日期（YYYY-MM-DD）` };
  if (!parseDate(s.to)) return { error: `--to ${s.to}：不是有效日期（YYYY-MM-DD）` };
  if (s.to < s.from) return { error: `--to ${s.to} 早于 --from ${s.from}` };
  return { absent, standIn };
}
