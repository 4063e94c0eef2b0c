/**
 * What people ask of a tracker (DOMAIN.md 13-15, 20-23), as plain data: the requests of the 督办 cycle and the
 * status a tracker answers with. The period state machine (period-state.ts, tracker-state.ts) checks and applies
 * them; workflows/messages.ts turns them into Temporal Updates and a query. Clients import the types from there.
 */
import type { PlannedNotice } from './planner';
import type { CompletionKind } from './model';
import type { TrackerDefinition } from './trackers';
import type { Colour, Evidence, Outcome, Rating } from './tracking';
import type { Verification } from './words';

export interface Actor {
  /** Who acts: a person's name (or an account), recorded in the ledger. */
  by: string;
  /** The person's address, when known (signed in, or the recipient of an action link). */
  email?: string;
  /** The period the request is for, e.g. 2027-Q1; default: the oldest open one. */
  period?: string;
  /** 代办: the person `by` stands in for (their name and address), recorded with the action. */
  onBehalfOf?: string;
  /**
   * 协办 (DOMAIN.md 28): the cooperating unit the person acts for, when it is not the tracker's own unit (the lead).
   * A cooperating unit may 签收 and 反馈进展 only (domain/actions.ts cooperatorMay); absent, the lead acts.
   */
  unit?: string;
}

export type { Evidence, EvidenceFile } from './tracking';

export interface SubmitRequest extends Actor {
  evidence: Evidence;
}
export interface RecordRequest extends Actor {
  /** The day the event (lecture, study session, review) took place, YYYY-MM-DD, inside the period. */
  date: string;
  topic: string;
  /** Per-person quotas: the person (their id on the roster) the record is for. */
  person?: string;
  /** Per-person quotas counted in hours: the hours of this record (a day's training: 8). */
  hours?: number;
}
export interface VerifyRequest extends Actor {
  decision: 'accept' | 'return';
  rating?: Rating;
  reason?: string;
}
export interface ExtensionRequest extends Actor {
  newDue: string;
  reason: string;
}
export interface ExtensionDecision extends Actor {
  approve: boolean;
  reason?: string;
}
export interface ReasonRequest extends Actor {
  reason: string;
}
/** 签收: the unit confirms it received the task. Reminders continue (DOMAIN.md 20). */
export type AcknowledgeRequest = Actor;
/** 反馈进展: a dated note of interim progress, with optional evidence. Reminders continue. */
export interface ProgressRequest extends Actor {
  note: string;
  evidence?: Evidence;
}
/**
 * The figures of a rate or count obligation for the period (报送数据): numerator and denominator for a rate
 * (出庭应诉率 18/20), or a count (办案人员 3人). A later report replaces an earlier one.
 */
export interface ReportRequest extends Actor {
  numerator?: number;
  denominator?: number;
  count?: number;
  note?: string;
  evidence?: Evidence;
}
/**
 * 催办: the supervising office urges the unit at once about an overdue (red) period; one notice, recorded with who
 * sent it; at most one a working day per period. `note` is added to the message.
 */
export interface UrgeRequest extends Actor {
  note?: string;
}
/** 退回: the unit says the task is not its own and hands the period back to its supervising office, with why. */
export interface HandBackRequest extends Actor {
  reason: string;
}
/**
 * 转办: the supervising office moves an open period to another unit's tracker of the same obligation, with its
 * history (what was sent, the acknowledgement, progress). `target` is that unit's tracker definition (the client
 * builds it from the registered directory); the tracker starts it when it is not running.
 */
export interface TransferRequest extends Actor {
  to: string;
  reason: string;
  target: TrackerDefinition;
}
/**
 * A period arriving from another unit's tracker (转办), sent by that tracker as a signal (or with the start of this
 * one): not a person's request. `key` makes a repeat change nothing.
 */
export interface ArrivingPeriod {
  key: string;
  from: { trackerId: string; unit: string; unitName: string };
  reason: string;
  by: string;
  period: PeriodSnapshotLike;
}
/** The moved period's plain data (domain/period-state.ts PeriodSnapshot), typed loosely here to keep requests.ts leaf. */
export type PeriodSnapshotLike = Record<string, unknown> & { plan: { period: string } };
export interface DefinitionUpdate extends Actor {
  definition: TrackerDefinition;
  /** Kept in the workflow's memo, so registration can tell a changed definition without asking every tracker. */
  definitionHash?: string;
}

/** Every request by name, with its input: the state machine and the message contract share this table. */
export interface Requests {
  submit: SubmitRequest;
  record: RecordRequest;
  verify: VerifyRequest;
  requestExtension: ExtensionRequest;
  decideExtension: ExtensionDecision;
  waive: ReasonRequest;
  acknowledge: AcknowledgeRequest;
  progress: ProgressRequest;
  report: ReportRequest;
  urge: UrgeRequest;
  handBack: HandBackRequest;
  refuseHandBack: ReasonRequest;
  transfer: TransferRequest;
  pause: Actor;
  resume: Actor;
  updateDefinition: DefinitionUpdate;
  retire: ReasonRequest;
}
export type RequestName = keyof Requests;

/** A request the tracker refuses: the message says why, and nothing changed. */
export class Refusal extends Error {
  override readonly name = 'Refusal';
}

export interface PeriodRecord {
  period: string;
  outcome: Outcome;
  originalDue: string;
  due: string;
  completedAt?: number;
}

export interface NoticeRef {
  stage: PlannedNotice['stage'];
  level: number;
  at: number;
}

/** One open period as clients see it. */
export interface PeriodStatus {
  period: string;
  due: string;
  originalDue: string;
  dueAt: number;
  /** When the ladder runs out and an unfinished period is recorded as missed. */
  endsAt: number;
  colour: Colour;
  recorded: number;
  submitted: boolean;
  verification: Verification;
  rating?: Rating;
  pendingExtension?: { newDue: string; reason: string; by: string };
  acknowledged?: { by: string; at: number };
  /** The latest figures reported (rate and count obligations), and whether they meet the threshold. */
  report?: ReportedFigures;
  /** Per-person quotas: how many of the roster have reached the quota, and who is still short (at most 20). */
  people?: PeopleProgress;
  /** Progress notes reported so far, the latest last (at most the last five are carried); a cooperator's names its unit. */
  progress: { by: string; at: number; note: string; unit?: string; unitName?: string }[];
  progressCount: number;
  /** The last notice sent: stage and level (the ladder position), with its Message-ID. */
  lastNotice?: NoticeRef & { messageId: string };
  nextNotice?: NoticeRef;
  /** The last 催办 sent (who, when) and from when the next may be sent. */
  lastUrge?: { at: number; by: string; nextFrom: number };
  /** 退回 waiting for the supervising office: who handed the period back, when and why. */
  handBack?: { by: string; at: number; reason: string };
  /** 转办 under way: the unit the period is moving to (nothing more is sent from here). */
  movingTo?: string;
  /** The period came from another unit's tracker (转办). */
  movedFrom?: { unit: string; unitName: string; at: number };
  /** 协办: each cooperating unit of the tracker, with its 签收 when it acknowledged (absent when none). */
  cooperators?: CooperatorStatus[];
  /** 提级督办: when the period was raised, and to which office (absent until then). */
  raised?: { at: number; office: string; officeName: string };
  provisionalYears: number[];
}

/** A cooperating unit (协办) of a period as clients see it. */
export interface CooperatorStatus {
  unit: string;
  name: string;
  acknowledged?: { by: string; at: number };
  /** How many progress notes it reported this period. */
  progressCount: number;
}

export interface PeopleProgress {
  total: number;
  reached: number;
  short: Shortfall[];
}
export interface Shortfall {
  id: string;
  name: string;
  has: number;
  short: number;
}

/** Figures as the period holds them: `value` is the percentage (rate) or the count. */
export interface ReportedFigures {
  numerator?: number;
  denominator?: number;
  count?: number;
  value: number;
  meets: boolean;
  by: string;
  at: number;
}

export interface TrackerStatus {
  trackerId: string;
  obligation: string;
  unit: string;
  /** The most urgent colour of the open periods ('broken' when the tracker cannot plan). */
  colour: Colour | 'broken';
  paused: boolean;
  retired: boolean;
  /** Why the tracker cannot run (its definition cannot be planned); fixed by `duban register`. */
  problem?: string;
  /** Event-relative trackers: the event they wait for while it has no date (nothing is sent meanwhile). */
  waitingFor?: string;
  completion: CompletionKind;
  quota: number;
  /** Rate (a percentage) and count obligations: the lowest acceptable figure, and what it measures. */
  threshold?: number;
  measure?: string;
  /** The open periods, oldest first: overdue ones stay until done, waived or their ladder runs out. */
  periods: PeriodStatus[];
  /** Settled periods, the latest last (older ones stay in the ledger). */
  history: PeriodRecord[];
}
