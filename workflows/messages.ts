/**
 * The tracker's message contract: its Updates, its status query, its input, its search attributes, and the one
 * pair of functions between a tracker id and its workflow id. Clients (access/temporal.ts, the web service,
 * tests) import from here and keep their types: `handle.executeUpdate(submitUpdate, { args: [request] })`.
 */
import { SearchAttributeType, defineSearchAttributeKey } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ArrivingPeriod, Requests, TrackerStatus } from '../domain/requests';
import type { TrackerSnapshot } from '../domain/tracker-state';
import type { StoredPlan } from '../domain/plan-packing';
import type { TrackerDefinition } from '../domain/trackers';

export type {
  AcknowledgeRequest,
  Actor,
  ArrivingPeriod,
  HandBackRequest,
  TransferRequest,
  DefinitionUpdate,
  Evidence,
  EvidenceFile,
  ExtensionDecision,
  ExtensionRequest,
  PeriodRecord,
  PeriodStatus,
  ProgressRequest,
  ReasonRequest,
  RecordRequest,
  ReportRequest,
  ReportedFigures,
  RequestName,
  Requests,
  SubmitRequest,
  TrackerStatus,
  UrgeRequest,
  VerifyRequest,
} from '../domain/requests';

const update = <K extends keyof Requests>(name: K) => defineUpdate<TrackerStatus, [Requests[K]], K>(name);

export const submitUpdate = update('submit');
export const recordUpdate = update('record');
export const verifyUpdate = update('verify');
export const requestExtensionUpdate = update('requestExtension');
export const decideExtensionUpdate = update('decideExtension');
export const waiveUpdate = update('waive');
export const acknowledgeUpdate = update('acknowledge');
export const progressUpdate = update('progress');
export const reportUpdate = update('report');
/** 催办: the supervising office urges the unit at once about a red period (one notice; once a working day). */
export const urgeUpdate = update('urge');
/** 退回: the unit hands the period back to its supervising office, with a reason. */
export const handBackUpdate = update('handBack');
/** The supervising office refuses a 退回: the period stays with the unit. */
export const refuseHandBackUpdate = update('refuseHandBack');
/** 转办: the supervising office moves the open period to another unit's tracker, with its history. */
export const transferUpdate = update('transfer');
/**
 * A period moved here by another unit's tracker (转办). A signal, not an Update: the sending tracker must not wait
 * on this one's answer inside its own workflow, and a repeat (same key) changes nothing.
 */
export const periodArrivesSignal = defineSignal<[ArrivingPeriod]>('periodArrives');
export const pauseUpdate = update('pause');
export const resumeUpdate = update('resume');
export const updateDefinitionUpdate = update('updateDefinition');
export const retireUpdate = update('retire');
export const statusQuery = defineQuery<TrackerStatus>('status');

/** Every Update by request name, each with its own argument type. */
export const trackerUpdates = {
  submit: submitUpdate,
  record: recordUpdate,
  verify: verifyUpdate,
  requestExtension: requestExtensionUpdate,
  decideExtension: decideExtensionUpdate,
  waive: waiveUpdate,
  acknowledge: acknowledgeUpdate,
  progress: progressUpdate,
  report: reportUpdate,
  urge: urgeUpdate,
  handBack: handBackUpdate,
  refuseHandBack: refuseHandBackUpdate,
  transfer: transferUpdate,
  pause: pauseUpdate,
  resume: resumeUpdate,
  updateDefinition: updateDefinitionUpdate,
  retire: retireUpdate,
} as const;

/** Search attributes: list and count trackers by obligation, unit, colour and due date. */
export const SEARCH_ATTRIBUTES = {
  obligation: defineSearchAttributeKey('DubanObligation', SearchAttributeType.KEYWORD),
  unit: defineSearchAttributeKey('DubanUnit', SearchAttributeType.KEYWORD),
  colour: defineSearchAttributeKey('DubanColour', SearchAttributeType.KEYWORD),
  period: defineSearchAttributeKey('DubanPeriod', SearchAttributeType.KEYWORD),
  due: defineSearchAttributeKey('DubanDue', SearchAttributeType.DATETIME),
};

export interface TrackerInput {
  definition: TrackerDefinition;
  definitionHash?: string;
  /** What the previous run carried (continue-as-new): the open periods, the history, pause. */
  state?: TrackerSnapshot;
  /** The first period to run; absent on registration: the first period not yet due. */
  period?: string;
  /** The first period's plan when the caller already has it (benchmarks start thousands from one plan), packed or not. */
  plan?: StoredPlan;
  /** Off only where the server cannot index custom search attributes (the time-skipping test server). */
  searchAttributes?: boolean;
  /**
   * Whether, when a period starts, the latest notice already due is sent at once (registration) or every notice
   * already due is skipped (a preview that starts mid-period: `duban simulate`). Default true.
   */
  catchUp?: boolean;
  /** Periods moved to this tracker by the one that started it (转办). */
  arrivals?: ArrivingPeriod[];
}

export type TrackerResult = { retired: boolean; history: TrackerStatus['history'] };

const PREFIX = 'duban/';

export function workflowIdFor(trackerId: string): string {
  return `${PREFIX}${trackerId}`;
}

/** The tracker id of a tracker's workflow id; undefined for duban's other workflows. */
export function trackerIdOf(workflowId: string): string | undefined {
  if (!workflowId.startsWith(PREFIX)) return undefined;
  const id = workflowId.slice(PREFIX.length);
  return id.includes('/') ? id : undefined;
}
