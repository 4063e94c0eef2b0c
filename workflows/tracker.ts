/**
 * The tracker workflow: one obligation for one unit, as long as the obligation runs.
 *
 * Wiring only: the rules live in the pure state machine (domain/tracker-state.ts, domain/period-state.ts). The
 * Updates call its check (the validator: refuse with a reason, change nothing) and apply (the handler); the loop
 * performs its next step (plan a period through a local activity, so instants are recorded in history; deliver a
 * notice; settle a period) and sleeps on a durable timer until the next instant it names. Every notice costs one
 * timer and one activity, which also writes the board's rows and the ledger's events. When a period opens or
 * settles the run continues as new, carrying the open periods.
 */
import {
  CancellationScope,
  ParentClosePolicy,
  allHandlersFinished,
  getExternalWorkflowHandle,
  startChild,
  isCancellation,
  condition,
  continueAsNew,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { UpdateDefinition } from '@temporalio/common';
import type { Activities, LedgerWrite, RedItem } from '../activities';
import type { RequestName, Requests, TrackerStatus } from '../domain/requests';
import type { PeriodState } from '../domain/period-state';
import { Step, TrackerState } from '../domain/tracker-state';
import { unpackPlan } from '../domain/plan-packing';
import {
  SEARCH_ATTRIBUTES,
  TrackerInput,
  TrackerResult,
  periodArrivesSignal,
  statusQuery,
  trackerUpdates,
  workflowIdFor,
} from './messages';

export { workflowIdFor } from './messages';
export type { TrackerInput, TrackerResult } from './messages';

/**
 * The steps of runs that began before LOCAL_STEPS: activities on the task queue (a notice cost two workflow tasks).
 * Kept so that those runs replay; every run since takes the local steps below.
 */
const queued = proxyActivities<Activities>({
  startToCloseTimeout: '3 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes' },
});

/**
 * A notice and a ledger write run as local activities, inside the workflow task that reached the step: one
 * workflow task and one timer a notice, which is what the storm's throughput is made of (docs/performance.md). A
 * worker that dies mid-send loses its workflow task; the next worker runs the step again, and the notice's lease in
 * the ledger lets no second attempt send while the first may still be talking to the server (activities/delivery.ts).
 */
const { deliverNotice } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '3 minutes',
  // The tracker's loop retries a failed delivery itself, after a durable backoff, as a fresh step: each attempt
  // carries the time it runs at, so a late notice says when it was due, and one overtaken meanwhile is not sent.
  retry: { maximumAttempts: 1 },
});
const { recordState } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '1 minute',
  // Keyed writes: a repeat changes nothing. A ledger that is down is waited for (backoff beyond a minute is a timer).
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});

/** The patch that moved the steps to local activities (docs/engine.md, "Moving running trackers onto new code"). */
export const LOCAL_STEPS = 'local-steps-v1';
/**
 * Local steps and lean waits (docs/performance.md): the loop sleeps on a plain timer that requests wake, instead of
 * `condition(fn, timeout)`, whose cancellation scope, race and cancelled timer cost a dozen promises a wait (the
 * SDK records a stack trace for every promise a workflow makes). A run that began with it never took the old
 * wait; one marker a run, in place of LOCAL_STEPS's (which it implies).
 */
export const LEAN_WAITS = 'lean-waits-v1';
/** The patch of 转办 (a period moved to another unit's tracker): runs before it never reached a move step. */
export const PERIOD_MOVES = 'period-moves-v1';
/** A failed delivery is tried again after 5 s, doubling up to 10 minutes, until it goes out or is no longer wanted. */
const RETRY_FIRST_MS = 5_000;
const RETRY_MAX_MS = 10 * 60_000;

const { enqueueChannels } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '1 minute',
  // Keyed inserts: a repeat adds nothing. A ledger that is down is waited for, as for recordState.
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});

/**
 * The patch that added the channels beside email (docs/channels.md): after a notice's email step, its rows for the
 * tracker's other channels. Only trackers with channels take it, so others' histories are unchanged.
 */
export const CHANNELS = 'channels-v1';

const { planTrackerPeriod } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  // A definition that cannot be planned fails the same way every time: no retry, the board shows it as broken.
  retry: { maximumAttempts: 5, nonRetryableErrorTypes: ['PlanningError'] },
});

const REQUESTS = Object.keys(trackerUpdates) as RequestName[];

export async function trackerWorkflow(input: TrackerInput): Promise<TrackerResult> {
  // A run of the 0.1 workflow continues as new with { period, plan, history, paused }: take it up (docs/engine.md).
  const legacy = input as TrackerInput & { history?: TrackerResult['history']; paused?: boolean };
  const state =
    input.state ??
    (legacy.history ? { periods: [], history: legacy.history, paused: legacy.paused ?? false } : undefined);
  const tracker = new TrackerState(input.definition, state, {
    definitionHash: input.definitionHash,
    firstPeriod: input.period,
  });
  const useSearchAttributes = input.searchAttributes ?? true;
  let dirty = false;
  /** The lean wait in progress: a request resolves it at once (wakeLoop). */
  let wake: (() => void) | undefined;
  /** The timer the last lean wait started, and the instant it fires: the next wait for that instant reuses it. */
  let timer: { at: number } | undefined;
  /** A request changed the tracker: the loop takes its next step now. */
  const wakeLoop = () => {
    dirty = true;
    const w = wake;
    wake = undefined;
    w?.();
  };
  /** Set when the run is about to continue as new or end: requests then wait for the next run. */
  let closing = false;
  let seq = 0;
  // A plan of the 0.1 shape (no ladder end) is planned again.
  /** The delivery in flight, if any: a request that makes it unwanted calls it off. */
  let delivering: { scope: CancellationScope; period: PeriodState } | undefined;
  let inputPlan = input.plan && typeof input.plan.endsAt === 'number' ? unpackPlan(input.plan) : undefined;
  // Decided once a run, before its first command, so that a run replays the way it was first made.
  const leanWaits = patched(LEAN_WAITS);
  const localSteps = leanWaits || patched(LOCAL_STEPS);
  /**
   * Sleeps until `until` (or until a request) and clears `dirty`. The lean wait leaves a timer that a request
   * overtook running instead of cancelling it: the next wait for the same instant takes it up, and one for another
   * instant starts its own (the old one then wakes the loop once for nothing, and the loop sleeps again).
   */
  const waitFor = async (until: number | undefined): Promise<void> => {
    if (!leanWaits) {
      if (until === undefined) await condition(() => dirty);
      else await condition(() => dirty, Math.max(1, until - Date.now()));
      dirty = false;
      return;
    }
    if (!dirty)
      await new Promise<void>((resolve) => {
        wake = resolve;
        if (until === undefined || timer?.at === until) return;
        const started = { at: until };
        timer = started;
        void sleep(Math.max(1, until - Date.now())).then(() => {
          if (timer === started) timer = undefined;
          const w = wake;
          wake = undefined;
          w?.();
        });
      });
    wake = undefined;
    dirty = false;
  };
  /** Deliveries run in this scope; a request that makes the one in flight unwanted cancels it, and a new one follows. */
  let deliveries = new CancellationScope();
  const writeLedger = (write: LedgerWrite) => (localSteps ? recordState(write) : queued.recordState(write));
  /** A step's ledger write whose delivery failed: it goes with the next attempt (writes are keyed). */
  let carried: LedgerWrite | undefined;
  let failedDeliveries = 0;

  // Handlers are registered before the first await, so no message finds the tracker without them.
  for (const name of REQUESTS) {
    const definition = trackerUpdates[name] as UpdateDefinition<TrackerStatus, [Requests[typeof name]], typeof name>;
    setHandler(
      definition,
      async (req) => {
        const { replan } = tracker.apply(name, req, Date.now());
        if (name === 'updateDefinition' && tracker.definitionHash)
          upsertMemo({ definitionHash: tracker.definitionHash });
        wakeLoop();
        const d = delivering;
        if (d && (d.period.workDone() || d.period.s.waived || tracker.paused || tracker.retired)) d.scope.cancel();
        // Answer with the ladder as it now stands.
        if (replan) await condition(() => !tracker.replanning || closing);
        return tracker.status(Date.now());
      },
      {
        validator: (req) => {
          if (closing) throw new Error('该督办任务正在转入下一轮运行，请稍后再试');
          tracker.check(name, req, Date.now());
        },
      },
    );
  }
  for (const a of input.arrivals ?? []) tracker.arrive(a);
  setHandler(periodArrivesSignal, (a) => {
    tracker.arrive(a);
    wakeLoop();
  });
  setHandler(statusQuery, () => {
    if (tracker.replanning && tracker.periods.length === 0 && !tracker.problem)
      throw new Error('该督办任务正在启动，请稍后再查询');
    return tracker.status(Date.now());
  });

  const ref = {
    trackerId: input.definition.trackerId,
    obligation: input.definition.obligation.id,
    unit: input.definition.unit.id,
  };
  let lastBoard = '';
  let lastAttributes = '';

  /** What the ledger must hear since the last write: events, the board's rows when they changed, red items. */
  const ledgerWrite = (now: number, force = false): LedgerWrite | undefined => {
    const events = tracker.takeEvents().map((e) => ({
      // The run id is stable across replays and unique per run: keys never collide.
      eventKey: `${ref.trackerId}/${workflowInfo().runId}/${seq++}`,
      ...ref,
      period: e.period,
      kind: e.kind,
      at: now,
      actor: e.actor,
      data: e.data,
    }));
    const board = { tracker: tracker.boardTracker(now), periods: tracker.boardPeriods(now) };
    const boardKey = JSON.stringify(board);
    const red = tracker.takeNewlyRed(now).map((p): RedItem => {
      const d = tracker.definition;
      return {
        itemKey: `${ref.trackerId}/${p.label}/${p.plan.due}`,
        supervisor: d.supervisor.id,
        supervisorName: d.supervisor.name,
        supervisorTo: [d.supervisor.liaison.email],
        supervisorCc: [d.supervisor.head.email].filter((a) => a !== d.supervisor.liaison.email),
        trackerId: ref.trackerId,
        obligation: ref.obligation,
        obligationTitle: d.obligation.title,
        unit: ref.unit,
        unitName: d.unit.name,
        period: p.label,
        due: p.plan.due,
        turnedRedAt: now,
      };
    });
    const boardChanged = boardKey !== lastBoard;
    const c = carried;
    carried = undefined;
    if (!force && !c && events.length === 0 && !boardChanged && red.length === 0) return undefined;
    lastBoard = boardKey;
    const hooks = webhooksOf(tracker.definition);
    return {
      ...(hooks ? { webhooks: hooks } : {}),
      ...ref,
      at: now,
      events: c ? [...c.events, ...events] : events,
      board: boardChanged || force ? board : c?.board,
      red: c ? [...c.red, ...red] : red,
      ...(c?.settled ? { settled: c.settled } : {}),
    };
  };

  const publishAttributes = (now: number) => {
    if (!useSearchAttributes) return;
    const b = tracker.boardTracker(now);
    const key = `${b.colour}|${b.period}|${b.dueAt}`;
    if (key === lastAttributes) return;
    lastAttributes = key;
    upsertSearchAttributes([
      { key: SEARCH_ATTRIBUTES.obligation, value: ref.obligation },
      { key: SEARCH_ATTRIBUTES.unit, value: ref.unit },
      { key: SEARCH_ATTRIBUTES.period, value: b.period },
      { key: SEARCH_ATTRIBUTES.colour, value: b.colour },
      { key: SEARCH_ATTRIBUTES.due, value: new Date(b.dueAt) },
    ]);
  };

  if (input.definitionHash && workflowInfo().memo?.definitionHash !== input.definitionHash)
    upsertMemo({ definitionHash: input.definitionHash });
  /** A run covers one change of the open periods (one opened, or one settled), so its history stays small. */
  let periodsChanged = false;

  for (;;) {
    const now = Date.now();
    const step: Step = tracker.next(now);
    if (step.kind === 'plan') {
      try {
        const plan =
          step.purpose === 'first' && inputPlan
            ? inputPlan
            : unpackPlan(
                await planTrackerPeriod({
                  definition: step.definition,
                  period: step.period,
                  extendedDue: step.extendedDue,
                  now,
                  // Registration: the planner says how the first period catches up (no delay note, one catch-up).
                  ...(step.purpose === 'first' && (input.catchUp ?? true) ? { catchUp: true } : {}),
                }),
              );
        inputPlan = undefined;
        // A preview that starts mid-period (catchUp false) skips what was already due, also in a next period that
        // opened before the preview began; a period that opens now sends its first notice.
        const preview = input.catchUp === false && !input.state;
        if (preview && step.purpose === 'next') tracker.planned(step, plan, Date.now() - 1, false);
        else tracker.planned(step, plan, Date.now(), step.purpose === 'first' ? (input.catchUp ?? true) : true);
        if (step.purpose === 'next') periodsChanged = true;
      } catch (err) {
        // Only a definition the planner refuses makes the tracker broken; anything else (a busy worker timing the
        // local activity out) is tried again in a minute.
        if (isPlanningError(err)) tracker.planningFailed(failureMessage(err));
        else await sleep('1 minute');
      }
      continue;
    }
    if (step.kind === 'arrival') {
      const moved = step.arrival.period as unknown as PeriodState['s'];
      try {
        // The period planned anew for this unit (its people receive the notices), with its due in force.
        const plan = unpackPlan(
          await planTrackerPeriod({
            definition: step.definition,
            period: moved.plan.period,
            extendedDue: moved.extendedDue,
            now,
          }),
        );
        tracker.arrivalPlanned(step, plan, Date.now());
        periodsChanged = true;
      } catch (err) {
        if (isPlanningError(err)) tracker.planningFailed(failureMessage(err));
        else await sleep('1 minute');
      }
      continue;
    }
    if (step.kind === 'move') {
      // Only runs that take a 转办 reach here; the marker lets later code change this step and still replay them.
      patched(PERIOD_MOVES);
      // The period goes first to the target tracker (started with it, or signalled when it runs), and only then
      // leaves this one: a crash in between repeats the hand-over, and the arrival's key makes the repeat nothing.
      const targetId = workflowIdFor(step.target.trackerId);
      try {
        await startChild(trackerWorkflow, {
          workflowId: targetId,
          taskQueue: workflowInfo().taskQueue,
          args: [{ definition: step.target, arrivals: [step.arrival], searchAttributes: input.searchAttributes }],
          // The target lives on its own: it is another unit's tracker, not a part of this one.
          parentClosePolicy: ParentClosePolicy.ABANDON,
        });
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        await getExternalWorkflowHandle(targetId).signal(periodArrivesSignal, step.arrival);
      }
      tracker.moved(step);
      periodsChanged = true;
      continue;
    }
    if (step.kind === 'deliver') {
      const p = step.period;
      const write = ledgerWrite(now);
      // The delivery can be called off while it waits (a mail outage retries it for hours): when the work is done
      // or waived meanwhile, the tracker paused or retired, the notice is no longer wanted (handlers cancel it).
      if (deliveries.consideredCancelled) deliveries = new CancellationScope();
      const scope = deliveries;
      delivering = { scope, period: p };
      let result: Awaited<ReturnType<typeof deliverNotice>>;
      try {
        result = await scope.run(() =>
          (localSteps ? deliverNotice : queued.deliverNotice)({
            definition: tracker.definition,
            notice: step.notice,
            period: {
              label: p.label,
              due: p.plan.due,
              originalDue: p.plan.originalDue,
              dueAt: p.plan.dueAt,
              endsAt: p.plan.endsAt,
            },
            firedAt: now,
            overtakenAt: step.overtakenAt,
            meantAt: step.meantAt,
            ...(step.notice.stage === 'urge' && p.s.urge
              ? { urge: { by: p.s.urge.by, ...(p.s.urge.note ? { note: p.s.urge.note } : {}) } }
              : {}),
            thread: p.threadForNext(),
            progress: {
              recorded: p.s.quotaDates.length,
              quota: tracker.definition.obligation.quota,
              ...(tracker.definition.obligation.completion === 'per-person' ? { people: p.peopleProgress() } : {}),
            },
            write,
          }),
        );
      } catch (err) {
        if (!isCancellation(err)) {
          if (!localSteps) throw err;
          // The mail server or the ledger failed this attempt: wait (a request wakes the tracker), then take the
          // step again; it may by then be a later notice, or none.
          carried = write;
          const wait = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** Math.min(failedDeliveries++, 20));
          await waitFor(Date.now() + wait);
          continue;
        }
        // Called off: paused, it stays due (the latest due notice goes out on resume); otherwise it is passed over.
        // The step's ledger write may not have run: it is written now (writes are keyed, a repeat changes nothing).
        if (!tracker.paused) tracker.delivered(step, undefined);
        if (write) await writeLedger(write);
        continue;
      } finally {
        delivering = undefined;
      }
      failedDeliveries = 0;
      tracker.delivered(step, result.status === 'superseded' ? undefined : result.messageId, result.nextUrgeFrom);
      // Email always carries the notice (DOMAIN.md 24); the channels follow it, each on its own in the ledger.
      if (result.status !== 'superseded' && tracker.definition.channels && localSteps && patched(CHANNELS))
        await enqueueChannels({
          definition: tracker.definition,
          notice: step.notice,
          period: { label: p.label, due: p.plan.due, dueAt: p.plan.dueAt, endsAt: p.plan.endsAt },
          firedAt: now,
        });
      continue;
    }
    if (step.kind === 'settle') {
      const record = tracker.settled(step);
      periodsChanged = true;
      const write = ledgerWrite(now, true)!;
      write.settled = [...(write.settled ?? []), { ...ref, ...record, settledAt: now }];
      await writeLedger(write);
      continue;
    }
    if (step.kind === 'end') break;

    const write = ledgerWrite(now);
    if (write) {
      await writeLedger(write);
      continue;
    }
    publishAttributes(now);
    // A period opened or settled: continue as new, carrying the open periods, so that a run's history stays small.
    if (periodsChanged || workflowInfo().continueAsNewSuggested) break;
    await waitFor(step.until);
  }

  // Requests arriving from here on are refused ("try again"): the next run takes them. Those already accepted
  // finish first, and what they changed is written.
  closing = true;
  await condition(allHandlersFinished);
  const last = ledgerWrite(Date.now(), true);
  if (last) await writeLedger(last);
  publishAttributes(Date.now());
  const ended = tracker.next(Date.now()).kind === 'end';
  if (ended) return { retired: tracker.retired, history: tracker.history };
  return continueAsNew<typeof trackerWorkflow>({
    definition: tracker.definition,
    definitionHash: tracker.definitionHash,
    state: tracker.snapshot(),
    searchAttributes: input.searchAttributes,
  });
}

/** The tracker's webhooks, for its ledger writes' events (docs/channels.md); undefined when it has none. */
function webhooksOf(d: TrackerInput['definition']): LedgerWrite['webhooks'] {
  const c = d.channels;
  if (!c) return undefined;
  const seen = new Set<string>();
  const channels = [...c.unit, ...c.office, ...c.leadership].flatMap((ch) => {
    if (ch.kind !== 'webhook' || seen.has(ch.name)) return [];
    seen.add(ch.name);
    return [{ name: ch.name, kind: 'webhook' as const, mention: ch.mention, ...(ch.url ? { url: ch.url } : {}) }];
  });
  return channels.length ? { channels, obligationTitle: d.obligation.title, unitName: d.unit.name } : undefined;
}

/** Whether a failed planning activity failed because the planner refused the definition (PlanningError). */
function isPlanningError(err: unknown): boolean {
  for (let e = err as { type?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e)
    if (e.type === 'PlanningError') return true;
  return false;
}

/** The reason of a failed planning activity, without the wrapping of the activity failure. */
function failureMessage(err: unknown): string {
  let e = err as { message?: string; cause?: unknown } | undefined;
  while (e && e.cause && typeof e.cause === 'object') e = e.cause as typeof e;
  return String(e?.message ?? err).slice(0, 500);
}
