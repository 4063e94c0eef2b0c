/**
 * Who may see and do what (DOMAIN.md 21), from the directory as registered and the administrators named in the
 * settings: never from a second list of users.
 *
 * - a unit's head, liaison and deputies act for their unit: acknowledge, progress, submit, record, request an
 *   extension;
 * - the staff of a supervising office (its head, liaison, deputies) read the units of its jurisdiction and of those
 *   beneath it (a directory without jurisdictions is one: every office reads every unit), and verify, decide
 *   extensions and waive on the units it supervises directly;
 * - leadership read everything;
 * - administrators read everything, and also pause, resume and retire.
 *
 * Levels (DOMAIN.md 26, docs/web.md "Levels"): an office's staff read every unit of the office's jurisdiction and
 * of the jurisdictions beneath it, and still act only on the units the office supervises directly; a nested
 * jurisdiction's leadership read its subtree, the root's leadership everything.
 */
import { Action, actionsFor } from '../domain/actions';
import {
  ROOT_JURISDICTION,
  chainOf,
  jurisdictionTree,
  officesOf as officeUnits,
  unitsBeneath,
} from '../domain/jurisdictions';
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
  /** The root's leadership: reads everything. */
  leadership: boolean;
  admin: boolean;
  /** Readable descriptions of the roles, for the page header. */
  roles: string[];
  /**
   * Levels: the jurisdictions whose every unit this person reads, as staff of an office there or as its
   * leadership (the root: everything).
   */
  jurisdictions: Set<string>;
  /** The units of those jurisdictions and of every one beneath them (empty when the person reads everything). */
  reads: Set<string>;
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
    jurisdictions: new Set(),
    reads: new Set(),
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
    addLevels(p, directory, address);
  }
  if (p.admin) p.roles.push('系统管理员');
  if (!p.admin && !p.leadership && p.units.size === 0 && p.jurisdictions.size === 0) return undefined;
  p.name ||= address;
  return p;
}

export function readsEverything(p: Person): boolean {
  return p.leadership || p.admin || p.jurisdictions.has(ROOT_JURISDICTION);
}

export function maySee(p: Person, unit: string): boolean {
  return readsEverything(p) || p.units.has(unit) || p.supervises.has(unit) || p.reads.has(unit);
}

/** The actions a person may take on a tracker of `unit`. */
export function allowedActions(p: Person, unit: string): WebAction[] {
  return actionsFor({ ofUnit: p.units.has(unit), supervises: p.supervises.has(unit), admin: p.admin });
}

/**
 * The supervising offices whose 督办单 register the person may read: the offices they staff, and (levels) every
 * office in the jurisdictions they read.
 */
export function officesOf(p: Person, directory: Directory | undefined): string[] | 'all' {
  if (readsEverything(p)) return 'all';
  if (!directory) return [];
  return [...levelIndex(directory).offices].filter((o) => p.units.has(o) || p.reads.has(o));
}

// ---- Levels (issue 24): what a person reads across the jurisdictions' tree -------------------------------------

interface LevelIndex {
  offices: Set<string>;
  /** Nested leadership by address: the jurisdictions each leads. */
  leaders: Map<string, { jurisdiction: string; name: string; title?: string }[]>;
  /** The units of a jurisdiction's subtree, computed once each. */
  beneath: Map<string, string[]>;
}

const levelIndexes = new WeakMap<Directory, LevelIndex>();

/** Computed once per registered directory (the web service resolves a person on every request). */
function levelIndex(directory: Directory): LevelIndex {
  let index = levelIndexes.get(directory);
  if (!index) {
    const leaders = new Map<string, { jurisdiction: string; name: string; title?: string }[]>();
    for (const j of directory.jurisdictions ?? [])
      for (const l of j.leadership) {
        const key = norm(l.email);
        leaders.set(key, [...(leaders.get(key) ?? []), { jurisdiction: j.id, name: l.name, title: l.title }]);
      }
    index = { offices: officeUnits(directory), leaders, beneath: new Map() };
    levelIndexes.set(directory, index);
  }
  return index;
}

/** The jurisdictions a person reads as office staff or nested leadership, and the units beneath them. */
function addLevels(p: Person, directory: Directory, address: string): void {
  const index = levelIndex(directory);
  const tree = jurisdictionTree(directory);
  for (const unit of p.units)
    if (index.offices.has(unit)) p.jurisdictions.add(tree.unitJurisdiction.get(unit) ?? ROOT_JURISDICTION);
  if (p.leadership) p.jurisdictions.add(ROOT_JURISDICTION);
  for (const l of index.leaders.get(address) ?? []) {
    p.jurisdictions.add(l.jurisdiction);
    p.name ||= l.name;
    p.roles.push(`${tree.nodes.get(l.jurisdiction)?.name ?? l.jurisdiction}${l.title ?? '领导'}`);
  }
  if (p.jurisdictions.has(ROOT_JURISDICTION)) return;
  for (const j of p.jurisdictions) {
    let units = index.beneath.get(j);
    if (!units) index.beneath.set(j, (units = unitsBeneath(tree, j)));
    for (const u of units) p.reads.add(u);
  }
}

/**
 * The top jurisdictions a person reads (none beneath another), in the tree's order: where the board starts and
 * how far up its drill-down goes.
 */
export function topJurisdictions(p: Person, directory: Directory | undefined): string[] {
  if (!directory) return [];
  if (readsEverything(p)) return [ROOT_JURISDICTION];
  const tree = jurisdictionTree(directory);
  return [...tree.nodes.keys()].filter(
    (j) => p.jurisdictions.has(j) && !chainOf(tree, j).some((n) => n.id !== j && p.jurisdictions.has(n.id)),
  );
}

/** Whether a person reads the whole of a jurisdiction (its every unit): the board may drill down to it. */
export function readsJurisdiction(p: Person, directory: Directory | undefined, jurisdiction: string): boolean {
  if (readsEverything(p)) return true;
  if (!directory) return false;
  return chainOf(jurisdictionTree(directory), jurisdiction).some((n) => p.jurisdictions.has(n.id));
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
