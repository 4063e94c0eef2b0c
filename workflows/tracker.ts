/**
 * The tracker workflow: one obligation for one unit, one run per period.
 *
 * A run asks for its period's plan (a local activity, so the instants are recorded in history and replay never
 * depends on the worker's clock zone or library versions), then sleeps on durable timers until each planned
 * notice and sends it, while Updates from administrators and units change its course. When the period is settled
 * (completed, waived, or closed as missed) it records the outcome and continues as new with the next period,
 * carrying a compact record of past outcomes.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineUpdate,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { SearchAttributeType, defineSearchAttributeKey } from '@temporalio/common';
import type { Activities, DeliveryResult, PeriodPlanData } from '../activities';
import type { LedgerEvent } from '../activities/ledger/ledger';
import { parseDate } from '../domain/dates';

const dayNumberOf = (iso: string): number => parseDate(iso) ?? Number.NaN;
import { noticeKey, usesDigest, type PlannedNotice } from '../domain/planner';
import type { TrackerDefinition } from '../domain/trackers';
import {
  Colour,
  Evidence,
  Outcome,
  RATINGS,
  Rating,
  checkEvidence,
  checkText,
  colourAt,
  completionOutcome,
  completionOutcomeByDate,
  nextColourChange,
} from '../domain/tracking';

// ---------------------------------------------------------------------------------------------------------------
// Messages: imported by clients (client/temporal.ts) and tests.

export interface Actor {
  /** Who acts: a name or account, recorded in the ledger. */
  by: string;
  /** The period the request is about; refused when it is not the tracker's current period. Optional. */
  period?: string;
}

export interface SubmitRequest extends Actor {
  evidence: Evidence;
}
export interface RecordRequest extends Actor {
  /** The day the event (lecture, study session, review) took place, YYYY-MM-DD, inside the period. */
  date: string;
  topic: string;
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
export interface DefinitionUpdate extends Actor {
  definition: TrackerDefinition;
  /** Kept in the workflow's memo, so registration can tell a changed definition without asking every tracker. */
  definitionHash?: string;
}

export interface PeriodRecord {
  period: string;
  outcome: Outcome;
  originalDue: string;
  due: string;
  completedAt?: number;
}

export interface TrackerStatus {
  trackerId: string;
  obligation: string;
  unit: string;
  period: string;
  due: string;
  originalDue: string;
  colour: Colour;
  paused: boolean;
  retired: boolean;
  completion: 'single' | 'quota';
  quota: number;
  recorded: number;
  submitted: boolean;
  verification: 'not required' | 'pending' | 'accepted' | 'returned' | 'not submitted';
  rating?: Rating;
  pendingExtension?: { newDue: string; reason: string; by: string };
  /** The last notice sent: stage and level (the ladder position). */
  lastNotice?: { stage: string; level: number; at: number; messageId: string };
  nextNotice?: { stage: string; level: number; at: number };
  provisionalYears: number[];
  history: PeriodRecord[];
}

export const submitUpdate = defineUpdate<TrackerStatus, [SubmitRequest]>('submit');
export const recordUpdate = defineUpdate<TrackerStatus, [RecordRequest]>('record');
export const verifyUpdate = defineUpdate<TrackerStatus, [VerifyRequest]>('verify');
export const requestExtensionUpdate = defineUpdate<TrackerStatus, [ExtensionRequest]>('requestExtension');
export const decideExtensionUpdate = defineUpdate<TrackerStatus, [ExtensionDecision]>('decideExtension');
export const waiveUpdate = defineUpdate<TrackerStatus, [ReasonRequest]>('waive');
export const pauseUpdate = defineUpdate<TrackerStatus, [Actor]>('pause');
export const resumeUpdate = defineUpdate<TrackerStatus, [Actor]>('resume');
export const updateDefinitionUpdate = defineUpdate<TrackerStatus, [DefinitionUpdate]>('updateDefinition');
export const retireUpdate = defineUpdate<TrackerStatus, [ReasonRequest]>('retire');
export const statusQuery = defineQuery<TrackerStatus>('status');

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
  /** The period to run; absent on registration: the first period not yet due. */
  period?: string;
  /** The period's plan when the caller already has it (the previous run passes it on). */
  plan?: PeriodPlanData;
  history?: PeriodRecord[];
  paused?: boolean;
  /** Off only where the server cannot index custom search attributes (the time-skipping test server). */
  searchAttributes?: boolean;
  definitionHash?: string;
  /**
   * Whether, at the start of this run, the latest notice already due is sent at once (registration) or every
   * notice already due is skipped (a preview that starts mid-period: `duban simulate`). Default true.
   */
  catchUp?: boolean;
}

export type TrackerResult = { retired: true; history: PeriodRecord[] } | { retired: false; history: PeriodRecord[] };

/** Past outcomes carried across periods; older ones stay in the ledger. */
const HISTORY_KEPT = 12;

export function workflowIdFor(trackerId: string): string {
  return `duban/${trackerId}`;
}

const { deliverNotice, recordEvents, recordOutcome, noteTurnedRed, saveTrackerState } = proxyActivities<Activities>({
  // Short, so that a notice claimed by a worker that died is retried by another within half a minute; the SMTP
  // client's own timeouts are shorter still.
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes' },
});

const { planTrackerPeriod } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30 seconds',
});

export async function trackerWorkflow(input: TrackerInput): Promise<TrackerResult> {
  let definition = input.definition;
  let definitionHash = input.definitionHash;
  const useSearchAttributes = input.searchAttributes ?? true;
  // Handlers are registered before the first await, so no message finds the tracker without them; until the plan
  // is known they answer that the tracker is starting.
  let plan = input.plan as PeriodPlanData;
  let closing = false;
  const history = [...(input.history ?? [])];

  const s = {
    paused: input.paused ?? false,
    retired: false,
    dirty: false,
    /** Re-plans asked for and done: a handler that asked waits until its request is done. */
    replansAsked: 0,
    replansDone: 0,
    submittedAt: undefined as number | undefined,
    submissions: 0,
    quotaDates: [] as string[],
    quotaReachedAt: undefined as number | undefined,
    verification: undefined as undefined | 'accepted' | 'returned',
    rating: undefined as Rating | undefined,
    pendingExtension: undefined as undefined | { newDue: string; reason: string; by: string },
    extendedDue: undefined as string | undefined,
    waived: false,
    outcome: undefined as Outcome | undefined,
    completedAt: undefined as number | undefined,
    handled: new Set<string>(),
    thread: [] as string[],
    lastNotice: undefined as TrackerStatus['lastNotice'],
    outbox: [] as LedgerEvent[],
    seq: 0,
    colour: undefined as Colour | undefined,
    /** The due date for which the office's digest has been told this period turned red. */
    notedRedFor: undefined as string | undefined,
  };

  const quota = () => definition.obligation.quota;
  const isQuota = () => definition.obligation.completion === 'quota';
  const completeByWork = () => (isQuota() ? s.quotaDates.length >= definition.obligation.quota : s.submittedAt !== undefined);
  const complete = () => completeByWork() && (!definition.obligation.verification || s.verification === 'accepted');
  const workDone = () => completeByWork() && s.verification !== 'returned';

  const event = (kind: string, actor: string | undefined, data?: Record<string, unknown>) => {
    s.outbox.push({
      // The run id is stable across replays and unique per run, and a run has one period: keys never collide.
      eventKey: `${definition.trackerId}/${plan.period}/${workflowInfo().runId}/${s.seq++}`,
      trackerId: definition.trackerId,
      obligation: definition.obligation.id,
      unit: definition.unit.id,
      period: plan.period,
      kind,
      at: Date.now(),
      actor,
      data,
    });
    s.dirty = true;
  };

  const colourInput = () => ({
    now: Date.now(),
    waived: s.waived,
    complete: workDone(),
    yellowAt: plan.yellowAt,
    dueAt: plan.dueAt,
  });

  const nextNotice = (): PlannedNotice | undefined => plan.notices.find((n) => !s.handled.has(noticeKey(n)));

  const status = (): TrackerStatus => {
    const next = s.paused || workDone() || s.waived ? undefined : nextNotice();
    return {
      trackerId: definition.trackerId,
      obligation: definition.obligation.id,
      unit: definition.unit.id,
      period: plan.period,
      due: plan.due,
      originalDue: plan.originalDue,
      colour: colourAt(colourInput()),
      paused: s.paused,
      retired: s.retired,
      completion: definition.obligation.completion,
      quota: definition.obligation.quota,
      recorded: s.quotaDates.length,
      submitted: s.submittedAt !== undefined,
      verification: !definition.obligation.verification
        ? 'not required'
        : s.verification ?? (completeByWork() ? 'pending' : 'not submitted'),
      rating: s.rating,
      pendingExtension: s.pendingExtension,
      lastNotice: s.lastNotice,
      nextNotice: next && { stage: next.stage, level: next.level, at: next.at },
      provisionalYears: plan.provisionalYears,
      history,
    };
  };

  // -------------------------------------------------------------------------------------------------------------
  // Validators refuse with a reason and change nothing; handlers change state and wake the main loop.

  const open = (a: Actor) => {
    if (!plan) throw new Error('the tracker is starting; try again in a moment');
    if (closing) throw new Error(`period ${plan.period} is closing; try again in a moment`);
    if (!a || typeof a !== 'object') throw new Error('the request is empty');
    if (s.retired) throw new Error(`tracker ${definition.trackerId} is retired`);
    const by = checkText('by (who acts)', a?.by, true);
    if (by) throw new Error(by);
    if (a.period !== undefined && a.period !== plan.period) {
      const past = history.find((h) => h.period === a.period);
      throw new Error(
        past
          ? `period ${a.period} is closed (${past.outcome}); the tracker is on period ${plan.period}`
          : `the tracker is on period ${plan.period}, not ${a.period}`,
      );
    }
  };
  const unsettled = (a: Actor) => {
    open(a);
    if (s.waived) throw new Error(`period ${plan.period} is waived`);
    if (s.outcome || complete()) throw new Error(`period ${plan.period} is settled (${s.outcome ?? 'completed'})`);
  };
  /** Today's date where the unit is, from the plan's own offset (the workflow has no time-zone database). */
  const localToday = () => {
    // dueAt is 23:59:59 local on the due day, so it gives the zone's offset from UTC.
    const offset = (dayNumberOf(plan.due) + 1) * 86_400_000 - 1000 - plan.dueAt;
    return Math.floor((Date.now() + offset) / 86_400_000);
  };

  setHandler(statusQuery, () => {
    if (!plan) throw new Error('the tracker is starting; ask again in a moment');
    return status();
  });

  setHandler(
    submitUpdate,
    (req) => {
      s.submittedAt = Date.now();
      s.submissions++;
      if (s.verification === 'returned') s.verification = undefined;
      event('submission', req.by, { evidence: req.evidence });
      return status();
    },
    {
      validator: (req) => {
        unsettled(req);
        if (isQuota()) throw new Error(`${definition.obligation.id} is completed by recording events (duban record), not by a submission`);
        if (s.submittedAt !== undefined && s.verification !== 'returned') throw new Error(`period ${plan.period} is already submitted`);
        const problem = checkEvidence(req.evidence);
        if (problem) throw new Error(problem);
      },
    },
  );

  setHandler(
    recordUpdate,
    (req) => {
      s.quotaDates.push(req.date);
      if (s.quotaDates.length === quota()) s.quotaReachedAt = Date.now();
      if (s.verification === 'returned') s.verification = undefined;
      event('quota_event', req.by, { date: req.date, topic: req.topic, count: s.quotaDates.length, quota: quota() });
      return status();
    },
    {
      validator: (req) => {
        unsettled(req);
        if (!isQuota()) throw new Error(`${definition.obligation.id} is completed by a submission (duban submit), not by recording events`);
        const day = parseDate(req.date);
        if (day === undefined) throw new Error(`date "${req.date}" is not a date such as 2027-03-18`);
        if (req.date < plan.periodStart || req.date > plan.periodEnd) {
          throw new Error(`date ${req.date} is outside period ${plan.period} (${plan.periodStart} to ${plan.periodEnd})`);
        }
        if (day > localToday()) throw new Error(`date ${req.date} is in the future`);
        const topic = checkText('topic', req.topic, true);
        if (topic) throw new Error(topic);
      },
    },
  );

  setHandler(
    verifyUpdate,
    (req) => {
      s.verification = req.decision === 'accept' ? 'accepted' : 'returned';
      s.rating = req.decision === 'accept' ? req.rating : undefined;
      if (req.decision === 'return' && isQuota()) {
        s.quotaDates = [];
        s.quotaReachedAt = undefined;
      }
      event(req.decision === 'accept' ? 'verification_accepted' : 'verification_returned', req.by, { rating: req.rating, reason: req.reason });
      return status();
    },
    {
      validator: (req) => {
        unsettled(req);
        if (!definition.obligation.verification) throw new Error(`${definition.obligation.id} does not require verification`);
        if (!completeByWork() || s.verification === 'returned') throw new Error(`nothing to verify: period ${plan.period} has no completed submission`);
        if (req.decision === 'accept') {
          if (!RATINGS.includes(req.rating as Rating)) throw new Error(`accepting needs a rating: one of ${RATINGS.join(', ')}`);
        } else if (req.decision === 'return') {
          const reason = checkText('reason for returning', req.reason, true);
          if (reason) throw new Error(reason);
        } else {
          throw new Error('decision must be "accept" or "return"');
        }
      },
    },
  );

  setHandler(
    requestExtensionUpdate,
    (req) => {
      s.pendingExtension = { newDue: req.newDue, reason: req.reason, by: req.by };
      event('extension_requested', req.by, { newDue: req.newDue, reason: req.reason });
      return status();
    },
    {
      validator: (req) => {
        unsettled(req);
        if (workDone()) throw new Error(`period ${plan.period} is already completed`);
        if (Date.now() > plan.dueAt) throw new Error(`too late: an extension must be requested before due (${plan.due} 23:59:59)`);
        if (s.pendingExtension) throw new Error(`an extension to ${s.pendingExtension.newDue} is already waiting for a decision`);
        if (parseDate(req.newDue) === undefined) throw new Error(`new due date "${req.newDue}" is not a date such as 2027-03-31`);
        if (req.newDue <= plan.due) throw new Error(`new due date ${req.newDue} is not after the current due date ${plan.due}`);
        // The period closes when the next one opens; a due date beyond that would leave it missed before it.
        const newDueAt = plan.dueAt + (dayNumberOf(req.newDue) - dayNumberOf(plan.due)) * 86_400_000;
        if (plan.closesAt !== null && newDueAt >= plan.closesAt) {
          throw new Error(`new due date ${req.newDue} is beyond the period's close, when period ${plan.nextPeriod} opens; choose an earlier date`);
        }
        const reason = checkText('reason', req.reason, true);
        if (reason) throw new Error(reason);
      },
    },
  );

  setHandler(
    decideExtensionUpdate,
    async (req) => {
      const asked = s.pendingExtension!;
      s.pendingExtension = undefined;
      const ticket = req.approve ? ++s.replansAsked : s.replansDone;
      if (req.approve) s.extendedDue = asked.newDue;
      event(req.approve ? 'extension_approved' : 'extension_rejected', req.by, { newDue: asked.newDue, reason: req.reason });
      // Answer with the ladder as it now stands.
      await condition(() => s.replansDone >= ticket);
      return status();
    },
    {
      validator: (req) => {
        unsettled(req);
        if (!s.pendingExtension) throw new Error('no extension request is waiting for a decision');
        if (typeof req.approve !== 'boolean') throw new Error('approve must be true or false');
      },
    },
  );

  setHandler(
    waiveUpdate,
    (req) => {
      s.waived = true;
      event('waived', req.by, { reason: req.reason });
      return status();
    },
    {
      validator: (req) => {
        unsettled(req);
        const reason = checkText('reason', req.reason, true);
        if (reason) throw new Error(reason);
      },
    },
  );

  setHandler(
    pauseUpdate,
    (req) => {
      s.paused = true;
      event('paused', req.by);
      return status();
    },
    {
      validator: (req) => {
        open(req);
        if (s.paused) throw new Error('the tracker is already paused');
      },
    },
  );

  setHandler(
    resumeUpdate,
    (req) => {
      s.paused = false;
      event('resumed', req.by);
      return status();
    },
    {
      validator: (req) => {
        open(req);
        if (!s.paused) throw new Error('the tracker is not paused');
      },
    },
  );

  setHandler(
    updateDefinitionUpdate,
    async (req) => {
      definition = req.definition;
      definitionHash = req.definitionHash;
      if (definitionHash) upsertMemo({ definitionHash });
      const ticket = ++s.replansAsked;
      event('definition_updated', req.by);
      await condition(() => s.replansDone >= ticket);
      return status();
    },
    {
      validator: (req) => {
        open(req);
        const d = req.definition;
        if (!d || d.trackerId !== definition.trackerId) throw new Error(`the definition is for ${d?.trackerId}, not ${definition.trackerId}`);
        if (d.obligation.period !== definition.obligation.period) {
          throw new Error(`the period kind cannot change on a running tracker (${definition.obligation.period} to ${d.obligation.period}); retire it and register anew`);
        }
      },
    },
  );

  setHandler(
    retireUpdate,
    (req) => {
      s.retired = true;
      event('retired', req.by, { reason: req.reason });
      return status();
    },
    {
      validator: (req) => {
        open(req);
        const reason = checkText('reason', req.reason, true);
        if (reason) throw new Error(reason);
      },
    },
  );

  // -------------------------------------------------------------------------------------------------------------

  /** On every change of colour: the search attributes, and the board's row in the ledger. */
  const publishState = async (active = true) => {
    const colour = colourAt(colourInput());
    if (colour === s.colour && active) return;
    s.colour = colour;
    if (useSearchAttributes) {
      upsertSearchAttributes([
        { key: SEARCH_ATTRIBUTES.obligation, value: definition.obligation.id },
        { key: SEARCH_ATTRIBUTES.unit, value: definition.unit.id },
        { key: SEARCH_ATTRIBUTES.period, value: plan.period },
        { key: SEARCH_ATTRIBUTES.colour, value: colour },
        { key: SEARCH_ATTRIBUTES.due, value: new Date(plan.dueAt) },
      ]);
    }
    await saveTrackerState({
      trackerId: definition.trackerId,
      obligation: definition.obligation.id,
      unit: definition.unit.id,
      period: plan.period,
      colour,
      due: plan.due,
      dueAt: plan.dueAt,
      active,
      updatedAt: Date.now(),
    });
  };

  const flush = async () => {
    while (s.outbox.length > 0) {
      const batch = s.outbox.splice(0, s.outbox.length);
      await recordEvents(batch);
    }
  };

  const send = async (n: PlannedNotice) => {
    const key = noticeKey(n);
    const result: DeliveryResult = await deliverNotice({
      definition,
      notice: n,
      period: { label: plan.period, due: plan.due, originalDue: plan.originalDue, dueAt: plan.dueAt },
      firedAt: Date.now(),
      // The thread's first message and its latest ones: enough for every mail client to keep the thread together.
      thread: s.thread.length > 20 ? [s.thread[0]!, ...s.thread.slice(-19)] : [...s.thread],
      progress: { recorded: s.quotaDates.length, quota: quota() },
    });
    s.handled.add(key);
    s.thread.push(result.messageId);
    s.lastNotice = { stage: n.stage, level: n.level, at: n.at, messageId: result.messageId };
  };

  /** At the start of a run and after a resume, of the notices already due only the latest is sent. */
  const skipPassedButLatest = (now: number) => {
    const passed = plan.notices.filter((n) => n.at <= now && !s.handled.has(noticeKey(n)));
    for (const n of passed.slice(0, -1)) s.handled.add(noticeKey(n));
  };
  /** After a re-plan, notices that are already due are not sent: the change takes effect from the next notice. */
  const skipPassed = (now: number) => {
    for (const n of plan.notices) if (n.at <= now) s.handled.add(noticeKey(n));
  };

  /**
   * The outcome of completed work. A submission counts by its time; a quota by the date of the event that met it
   * (a lecture held before due and recorded after is on time), compared with the due dates.
   */
  const settle = (): Outcome => {
    if (isQuota()) {
      const metOn = [...s.quotaDates].sort()[quota() - 1]!;
      s.completedAt = s.quotaReachedAt ?? Date.now();
      return completionOutcomeByDate(metOn, plan.originalDue, s.extendedDue);
    }
    s.completedAt = s.submittedAt!;
    return completionOutcome(s.completedAt, plan.originalDueAt, s.extendedDue ? plan.dueAt : undefined);
  };

  plan ??= await planTrackerPeriod({ definition, period: input.period, now: Date.now() });
  if (definitionHash && workflowInfo().memo?.definitionHash !== definitionHash) upsertMemo({ definitionHash });
  if (input.catchUp === false) skipPassed(Date.now());
  else skipPassedButLatest(Date.now());
  await publishState();
  let wasPaused = s.paused;

  for (;;) {
    await flush();
    if (s.retired) break;
    const now = Date.now();
    if (s.replansDone < s.replansAsked) {
      const asked = s.replansAsked;
      plan = await planTrackerPeriod({ definition, period: plan.period, extendedDue: s.extendedDue, now });
      skipPassed(Date.now());
      s.colour = undefined;
      s.replansDone = asked;
      continue;
    }
    if (wasPaused && !s.paused) skipPassedButLatest(now);
    wasPaused = s.paused;

    if (s.waived) {
      s.outcome = 'waived';
      break;
    }
    if (complete()) {
      s.outcome = settle();
      break;
    }
    if (plan.closesAt !== null && now >= plan.closesAt) {
      // Closed: a submission still waiting for verification counts by its time; nothing at all is missed.
      // Returned work does not count: it was sent back for rework.
      s.outcome = workDone() ? settle() : 'missed';
      break;
    }

    if (plan.digest !== false && usesDigest(definition) && !s.paused && colourAt(colourInput()) === 'red' && s.notedRedFor !== plan.due) {
      s.notedRedFor = plan.due;
      await noteTurnedRed({
        itemKey: `${definition.trackerId}/${plan.period}/${plan.due}`,
        office: definition.supervisor.id,
        officeName: definition.supervisor.name,
        officeTo: [definition.supervisor.liaison.email],
        officeCc: [definition.supervisor.head.email].filter((a) => a !== definition.supervisor.liaison.email),
        trackerId: definition.trackerId,
        obligation: definition.obligation.id,
        obligationTitle: definition.obligation.title,
        unit: definition.unit.id,
        unitName: definition.unit.name,
        period: plan.period,
        due: plan.due,
        turnedRedAt: Date.now(),
      });
      continue;
    }

    // While paused, due notices stay unhandled: on resume the latest of them is sent (skipPassedButLatest).
    const next = s.paused ? undefined : nextNotice();
    if (next && next.at <= now) {
      if (workDone()) s.handled.add(noticeKey(next));
      else await send(next);
      continue;
    }
    await publishState();

    const wakes = [next?.at, nextColourChange(colourInput()), plan.closesAt ?? undefined].filter((t): t is number => t !== undefined);
    const wake = wakes.length ? Math.min(...wakes) : undefined;
    if (wake === undefined) await condition(() => s.dirty);
    else await condition(() => s.dirty, Math.max(1, wake - Date.now()));
    s.dirty = false;
  }

  if (s.outcome) {
    event('outcome', undefined, { outcome: s.outcome, due: plan.due, originalDue: plan.originalDue, completedAt: s.completedAt });
    await recordOutcome({
      trackerId: definition.trackerId,
      obligation: definition.obligation.id,
      unit: definition.unit.id,
      period: plan.period,
      outcome: s.outcome,
      originalDue: plan.originalDue,
      due: plan.due,
      completedAt: s.completedAt,
      settledAt: Date.now(),
    });
    history.push({ period: plan.period, outcome: s.outcome, originalDue: plan.originalDue, due: plan.due, completedAt: s.completedAt });
    // A tracker that continues with its next period publishes that period's state when the new run starts.
    await publishState(!(s.retired || plan.nextPeriod === null));
  }
  // From here on, requests are refused ("closing"): the next run takes them. Handlers that wait for a re-plan
  // are released, since this run will not plan again.
  closing = true;
  s.replansDone = s.replansAsked;
  if (s.retired && !s.outcome) await publishState(false);
  const kept = history.slice(-HISTORY_KEPT);
  const nextPlan = s.retired || plan.nextPeriod === null ? undefined : await planTrackerPeriod({ definition, period: plan.nextPeriod, now: Date.now() });
  await flush();
  await condition(allHandlersFinished);
  await flush();
  if (!nextPlan || plan.nextPeriod === null) return { retired: s.retired, history: kept };
  return continueAsNew<typeof trackerWorkflow>({
    definition,
    period: plan.nextPeriod,
    plan: nextPlan,
    history: kept,
    paused: s.paused,
    searchAttributes: input.searchAttributes,
    definitionHash,
    // The next period's first notice falls due the moment this one closes: its run sends it (catch-up on).
  });
}
