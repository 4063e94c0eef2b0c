/**
 * Who may see and do what (DOMAIN.md 21), from the directory as registered and the administrators named in the
 * settings: never from a second list of users.
 *
 * - a unit's head, liaison and deputies act for their unit: acknowledge, progress, submit, record, request an
 *   extension;
 * - the staff of a supervising office (its head, liaison, deputies) see the units it supervises and verify,
 *   decide extensions and waive;
 * - leadership read everything;
 * - administrators read everything, and also pause, resume and retire.
 */
import { Action, actionsFor } from '../domain/actions';
import type { Directory, Obligation } from '../domain/model';
import { cooperatorsOf } from '../domain/trackers';

/** The actions and who takes them are the domain's vocabulary (domain/actions.ts); the web adds no list of its own. */
export type WebAction = Action;
export { ALL_ACTIONS } from '../domain/actions';

export interface Person {
  email: string;
  name: string;
  /** Units this person acts for (head, liaison, deputy). */
  units: Set<string>;
  /** Units supervised by an office this person belongs to. */
  supervises: Set<string>;
  leadership: boolean;
  admin: boolean;
  /** Readable descriptions of the roles, for the page header. */
  roles: string[];
}

const norm = (email: string) => email.trim().toLowerCase();

/** The person behind an address, or undefined when the address is neither in the directory nor an administrator. */
export function personFor(
  email: string,
  directory: Directory | undefined,
  admins: readonly string[],
): Person | undefined {
  const address = norm(email);
  const p: Person = {
    email: address,
    name: '',
    units: new Set(),
    supervises: new Set(),
    leadership: false,
    admin: admins.some((a) => norm(a) === address),
    roles: [],
  };
  if (directory) {
    for (const u of directory.units) {
      const c = u.contacts;
      const match = [
        ['主要负责人', c.head],
        ['联络员', c.liaison],
        ...(c.deputies ?? []).map((d) => ['负责人', d] as const),
      ].find(([, x]) => norm((x as { email: string }).email) === address);
      if (match) {
        p.units.add(u.id);
        p.name ||= (match[1] as { name: string }).name;
        p.roles.push(`${u.name}${match[0]}`);
      }
    }
    for (const u of directory.units) if (u.supervisor && p.units.has(u.supervisor)) p.supervises.add(u.id);
    const leader = directory.leadership.find((l) => norm(l.email) === address);
    if (leader) {
      p.leadership = true;
      p.name ||= leader.name;
      p.roles.push(leader.title ?? '领导');
    }
  }
  if (p.admin) p.roles.push('系统管理员');
  if (!p.admin && !p.leadership && p.units.size === 0) return undefined;
  p.name ||= address;
  return p;
}

export function readsEverything(p: Person): boolean {
  return p.leadership || p.admin;
}

export function maySee(p: Person, unit: string): boolean {
  return readsEverything(p) || p.units.has(unit) || p.supervises.has(unit);
}

/** The actions a person may take on a tracker of `unit`. */
export function allowedActions(p: Person, unit: string): WebAction[] {
  return actionsFor({ ofUnit: p.units.has(unit), supervises: p.supervises.has(unit), admin: p.admin });
}

/** The supervising offices whose 督办单 register the person may read. */
export function officesOf(p: Person, directory: Directory | undefined): string[] | 'all' {
  if (readsEverything(p)) return 'all';
  return (directory?.units ?? [])
    .filter((u) => p.units.has(u.id) && directory!.units.some((x) => x.supervisor === u.id))
    .map((u) => u.id);
}

// --- 协办 (DOMAIN.md 28) ----------------------------------------------------------------------------------------

/**
 * A person's standing on one tracker, with its cooperating units (the registered catalog's, less the tracker's own
 * unit): `cooperating` is the first of them the person acts for, when they do not act for the lead unit itself.
 * A cooperating unit's staff see the tracker (the lead's submission among it) and may 签收 and 反馈进展 only.
 */
export interface TrackerStanding {
  cooperating?: string;
  maySee: boolean;
  actions: WebAction[];
}

export function standingOn(p: Person, unit: string, cooperators: readonly string[]): TrackerStanding {
  const ofUnit = p.units.has(unit);
  const cooperating = ofUnit ? undefined : cooperators.find((c) => p.units.has(c));
  return {
    ...(cooperating ? { cooperating } : {}),
    maySee: maySee(p, unit) || cooperating !== undefined,
    actions: actionsFor({
      ofUnit,
      supervises: p.supervises.has(unit),
      admin: p.admin,
      cooperates: cooperating !== undefined,
    }),
  };
}

/** The cooperating units' ids of the tracker of `obligation` for `unit`, from the registered files. */
export function cooperatorIds(
  snapshot: { catalog: { obligations: Obligation[] }; directory: Directory } | undefined,
  obligation: string,
  unit: string,
): string[] {
  const o = snapshot?.catalog.obligations.find((x) => x.id === obligation);
  return o && snapshot ? cooperatorsOf(o, snapshot.directory, unit).map((u) => u.id) : [];
}
