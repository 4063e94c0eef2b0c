/**
 * From a valid catalog and directory to trackers (跟踪项): one per (obligation, assigned unit), DOMAIN.md 1.
 *
 * A TrackerDefinition is self-contained and serialisable: it is what a tracker workflow receives, so the
 * workflow never needs the files, and a changed catalog entry reaches it as a new definition.
 */
import {
  Basis,
  Catalog,
  Channel,
  ChannelRoute,
  DEFAULT_CHANNEL_STEPS,
  CompletionKind,
  Contact,
  DEFAULT_ESCALATION,
  DEFAULT_REMINDERS,
  Directory,
  DueRule,
  EscalationStep,
  Leader,
  Obligation,
  PeriodKind,
  Unit,
  QuotaUnit,
} from './model';
import { EventEntry, withEventDate } from './events';
import { Person, RosterEntry, rosterOf } from './roster';
import { circularRecipientsOf } from './jurisdictions';

export interface UnitRef {
  id: string;
  name: string;
  head: Contact;
  liaison: Contact;
  deputies: Contact[];
  /** For a supervising office: whether it takes the daily digest instead of level-1 copies (default true). */
  digest?: boolean;
}

export interface TrackerDefinition {
  trackerId: string;
  obligation: {
    id: string;
    title: string;
    basis: Basis[];
    period: PeriodKind;
    /** A cycle of several years (period: year): every `every` years from `anchor`. */
    every?: number;
    anchor?: number;
    due: DueRule;
    rollForward: boolean;
    completion: CompletionKind;
    /** For rate (a percentage) and count completions: the lowest acceptable figure. */
    threshold?: number;
    /** For rate and count completions: what the figures are (出庭应诉率). */
    measure?: string;
    /** For per-person quotas: the roster's name and what the quota counts. */
    roster?: string;
    quotaUnit?: QuotaUnit;
    /** Events required per period; 1 for a single submission. */
    quota: number;
    verification: boolean;
    urgent: boolean;
    /** Days after due the ladder runs for an unfinished period; absent: until the next period is overdue. */
    escalationEndsAfter?: number;
    deliverable?: string;
    howToSubmit?: string;
  };
  unit: UnitRef;
  /** Per-person quotas: the people of this unit's roster, each of whom must reach the quota. */
  people?: Person[];
  supervisor: UnitRef;
  /** The lead unit (牵头单位), copied on escalations; absent when none or when it is the unit itself. */
  lead?: UnitRef;
  leadership: Leader[];
  /** Working days before due, descending. */
  reminders: number[];
  escalation: EscalationStep[];
  noticeHour: number;
  timeZone: string;
  /**
   * The channels beside email (docs/channels.md), present only when the tracker has any: names and kinds, never a
   * secret (the settings hold those under the name). Absent, the definition is what it was before channels.
   */
  channels?: TrackerChannels;
  /**
   * 协办 (DOMAIN.md 28): the cooperating units of this tracker (the obligation's, less the unit itself, which is the
   * lead, 主办). They receive the reminders and may 签收 and 反馈进展; only the lead submits. Absent when none.
   */
  cooperators?: UnitRef[];
  /**
   * 提级督办 (DOMAIN.md 26): `after` working days after the last escalation step, a period still open goes up to
   * `office`, the supervising office of the unit's supervising office. Absent when the obligation does not raise.
   */
  raise?: { after: number; office: UnitRef };
}

/** A channel as a tracker knows it: the directory's entry, which holds no secret. */
export type ChannelRef = Pick<Channel, 'name' | 'kind' | 'mention'> &
  Partial<Pick<Channel, 'url' | 'signName' | 'templateCode'>>;

export interface TrackerChannels {
  unit: ChannelRef[];
  office: ChannelRef[];
  leadership: ChannelRef[];
  sms?: ChannelRef;
  /** Which routes each step uses. */
  steps: { reminders: ChannelRoute[]; level1: ChannelRoute[]; level2: ChannelRoute[]; level3: ChannelRoute[] };
}

function channelRef(c: Channel): ChannelRef {
  return {
    name: c.name,
    kind: c.kind,
    mention: c.mention,
    ...(c.url !== undefined ? { url: c.url } : {}),
    ...(c.signName !== undefined ? { signName: c.signName } : {}),
    ...(c.templateCode !== undefined ? { templateCode: c.templateCode } : {}),
  };
}

/** The tracker's channels, or undefined when none of its steps reaches any. */
export function trackerChannels(
  catalog: Catalog,
  o: Obligation,
  directory: Directory,
  unit: Unit,
  supervisor: Unit,
): TrackerChannels | undefined {
  const byName = new Map(directory.channels.map((c) => [c.name, c]));
  const refs = (names: string[]) =>
    names.flatMap((n) => {
      const c = byName.get(n);
      return c ? [channelRef(c)] : [];
    });
  const sms = directory.channels.find((c) => c.kind === 'sms');
  const own = o.channels ?? {};
  const defaults = catalog.defaults.channels ?? {};
  const steps = {
    reminders: own.reminders ?? defaults.reminders ?? DEFAULT_CHANNEL_STEPS.reminders,
    level1: own.level1 ?? defaults.level1 ?? DEFAULT_CHANNEL_STEPS.level1,
    level2: own.level2 ?? defaults.level2 ?? DEFAULT_CHANNEL_STEPS.level2,
    level3: own.level3 ?? defaults.level3 ?? DEFAULT_CHANNEL_STEPS.level3,
  };
  const t: TrackerChannels = {
    unit: refs(unit.channels),
    office: refs(supervisor.channels),
    // Levels: the circular goes to the unit's own jurisdiction's leadership (domain/jurisdictions.ts).
    leadership: refs(circularRecipientsOf(directory, unit.id).leadershipChannels),
    ...(sms ? { sms: channelRef(sms) } : {}),
    steps,
  };
  const used = new Set(Object.values(steps).flat());
  const reaches =
    (used.has('unit') && t.unit.length > 0) ||
    (used.has('office') && t.office.length > 0) ||
    (used.has('leadership') && t.leadership.length > 0) ||
    (used.has('sms') && t.sms !== undefined);
  return reaches ? t : undefined;
}

/**
 * The zone an obligation's trackers live in: its own, else the catalog's. Readers of the ledger (the board, the
 * report) take it from the catalog as registered, so "today" and "this year" are the tracker's, not the reader's.
 */
export function timeZoneOf(catalog: Pick<Catalog, 'timeZone' | 'obligations'>, obligationId: string): string {
  return catalog.obligations.find((o) => o.id === obligationId)?.timeZone ?? catalog.timeZone;
}

export function trackerId(obligationId: string, unitId: string): string {
  return `${obligationId}/${unitId}`;
}

function unitRef(u: Unit): UnitRef {
  return {
    id: u.id,
    name: u.name,
    head: u.contacts.head,
    liaison: u.contacts.liaison,
    deputies: u.contacts.deputies,
    digest: u.digest,
  };
}

/** The units an obligation is assigned to, in directory order, each once. */
export function expandAssignees(o: Obligation, directory: Directory): Unit[] {
  const ids = new Set(o.assignees.units);
  const tags = new Set(o.assignees.tags);
  return directory.units.filter((u) => ids.has(u.id) || u.tags.some((t) => tags.has(t)));
}

/** Urgent obligations start at level 2 (DOMAIN.md 10): the first step is raised to 2, lower steps after it dropped. */
export function effectiveEscalation(steps: readonly EscalationStep[], urgent: boolean): EscalationStep[] {
  if (!urgent || steps.length === 0) return steps.map((s) => ({ ...s }));
  const [first, ...rest] = steps as [EscalationStep, ...EscalationStep[]];
  return [{ ...first, level: Math.max(2, first.level) }, ...rest.filter((s) => s.level > 2)];
}

/** Expects a catalog and directory that passed validation. */
export function resolveTrackers(
  catalog: Catalog,
  directory: Directory,
  rosters?: readonly RosterEntry[],
  events?: readonly EventEntry[],
): TrackerDefinition[] {
  const units = new Map(directory.units.map((u) => [u.id, u]));
  const result: TrackerDefinition[] = [];
  for (const o of catalog.obligations) {
    const lead = o.lead === undefined ? undefined : units.get(o.lead);
    for (const u of expandAssignees(o, directory)) {
      const supervisor = units.get(u.supervisor ?? '');
      if (!supervisor) throw new Error(`单位${u.id}没有督察单位；请先检查单位名录（duban validate）`);
      result.push({
        trackerId: trackerId(o.id, u.id),
        obligation: {
          id: o.id,
          title: o.title,
          basis: o.basis,
          period: o.period,
          ...(o.every !== undefined && o.every > 1 ? { every: o.every, anchor: o.anchor } : {}),
          due: withEventDate(o.due, events),
          rollForward: o.rollForward,
          completion: o.completion,
          quota: o.completion === 'quota' || o.completion === 'per-person' ? (o.quota ?? 1) : 1,
          ...(o.completion === 'per-person' ? { roster: o.roster, quotaUnit: o.quotaUnit ?? 'times' } : {}),
          ...(o.threshold !== undefined ? { threshold: o.threshold } : {}),
          ...(o.measure !== undefined ? { measure: o.measure } : {}),
          verification: o.verification,
          urgent: o.urgent,
          ...(o.escalationEndsAfter !== undefined ? { escalationEndsAfter: o.escalationEndsAfter } : {}),
          deliverable: o.deliverable,
          howToSubmit: catalog.howToSubmit,
        },
        unit: unitRef(u),
        ...(o.completion === 'per-person' ? { people: rosterOf(rosters ?? [], u.id, o.roster ?? '') } : {}),
        supervisor: unitRef(supervisor),
        lead: lead && lead.id !== u.id ? unitRef(lead) : undefined,
        leadership: circularRecipientsOf(directory, u.id).leadership,
        reminders: [...(o.reminders ?? catalog.defaults.reminders ?? DEFAULT_REMINDERS)],
        escalation: effectiveEscalation(o.escalation ?? catalog.defaults.escalation ?? DEFAULT_ESCALATION, o.urgent),
        noticeHour: o.noticeHour ?? catalog.noticeHour,
        timeZone: timeZoneOf(catalog, o.id),
        ...((channels) => (channels ? { channels } : {}))(trackerChannels(catalog, o, directory, u, supervisor)),
        ...cooperationOf(o, directory, u, supervisor, units),
      });
    }
  }
  return result;
}

/**
 * The tracker definition of one obligation for any unit of the directory, assigned or not: the target of a 转办
 * (DOMAIN.md 27). Undefined when the obligation or the unit is unknown.
 */
export function definitionFor(
  catalog: Catalog,
  directory: Directory,
  obligationId: string,
  unitId: string,
  rosters?: readonly RosterEntry[],
  events?: readonly EventEntry[],
): TrackerDefinition | undefined {
  const o = catalog.obligations.find((x) => x.id === obligationId);
  if (!o || !directory.units.some((u) => u.id === unitId)) return undefined;
  const only = { ...o, assignees: { ...o.assignees, units: [unitId], tags: [] } };
  return resolveTrackers({ ...catalog, obligations: [only] }, directory, rosters, events)[0];
}

// --- 协办 and 提级督办 (DOMAIN.md 28, 26) -----------------------------------------------------------------------

/** The units an obligation names as cooperating (协办), in directory order, each once (the lead not removed). */
export function expandCooperators(o: Pick<Obligation, 'cooperators'>, directory: Pick<Directory, 'units'>): Unit[] {
  if (!o.cooperators) return [];
  const ids = new Set(o.cooperators.units);
  const tags = new Set(o.cooperators.tags);
  return directory.units.filter((u) => ids.has(u.id) || u.tags.some((t) => tags.has(t)));
}

/**
 * The cooperating units of one tracker: the obligation's, less the tracker's own unit (the lead). The web's
 * roles read it from the registered catalog and directory, as the tracker does from its definition.
 */
export function cooperatorsOf(
  o: Pick<Obligation, 'cooperators'>,
  directory: Pick<Directory, 'units'>,
  unitId: string,
): Unit[] {
  return expandCooperators(o, directory).filter((u) => u.id !== unitId);
}

/** The office a period of this unit is raised to: its supervising office's own supervising office. */
export function raiseOfficeOf(supervisor: Unit, units: ReadonlyMap<string, Unit>): Unit | undefined {
  const upper = supervisor.supervisor === undefined ? undefined : units.get(supervisor.supervisor);
  return upper && upper.id !== supervisor.id ? upper : undefined;
}

/** The definition's fields of 协办 and 提级督办, present only when the obligation has them (so hashes stay). */
function cooperationOf(
  o: Obligation,
  directory: Directory,
  u: Unit,
  supervisor: Unit,
  units: ReadonlyMap<string, Unit>,
): Pick<TrackerDefinition, 'cooperators' | 'raise'> {
  const cooperators = cooperatorsOf(o, directory, u.id).map(unitRef);
  const office = o.raiseAfter === undefined ? undefined : raiseOfficeOf(supervisor, units);
  return {
    ...(cooperators.length ? { cooperators } : {}),
    ...(office && o.raiseAfter !== undefined ? { raise: { after: o.raiseAfter, office: unitRef(office) } } : {}),
  };
}
