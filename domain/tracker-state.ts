/**
 * A tracker (one obligation for one unit) as a pure state machine over its open periods (DOMAIN.md 19): the
 * current period and every earlier one that is neither done nor waived, each with its own ladder, until that
 * ladder runs out. It routes each request to its period (named, or the oldest open one), decides the next step
 * (plan a period, deliver a notice, settle a period, or wait until an instant), and answers the status.
 *
 * The workflow (workflows/tracker.ts) is wiring around this class, as in samples-typescript's
 * safe-message-handlers: handlers call check/apply, the loop performs `next(now)` and sleeps.
 */
import { PlannedNotice, TrackerPeriodPlan, noticeKey, urgeNotice } from './planner';
import {
  CompletionRules,
  Cooperating,
  PeriodEvent,
  PeriodSnapshot,
  PeriodState,
  actorName,
  rulesOf,
} from './period-state';
import { cooperatorRefusal } from './cooperation';
import { Actor, ArrivingPeriod, PeriodRecord, Refusal, RequestName, Requests, TrackerStatus } from './requests';
import { waitingForEvent } from './due';
import { StoredPlan, packPlan, unpackPlan } from './plan-packing';
import type { TrackerDefinition } from './trackers';
import { Colour, Outcome, checkText } from './tracking';
import { OUTCOME_WORDS, periodWords } from './words';

/** A period as carried across continue-as-new: its plan packed (domain/plan-packing.ts). */
export type StoredPeriod = Omit<PeriodSnapshot, 'plan'> & { plan: StoredPlan };

/** Everything a tracker carries across continue-as-new. */
export interface TrackerSnapshot {
  periods: StoredPeriod[];
  history: PeriodRecord[];
  paused: boolean;
  retired?: boolean;
  /** The period after the newest one held, and when it opens: planned when that instant comes. */
  upcoming?: { period: string; opensAt: number } | null;
  /** Why the definition cannot be planned (the tracker then waits for a corrected definition). */
  problem?: string;
  /** Periods moved here from other units' trackers (转办) and not yet planned for this unit. */
  arrivals?: ArrivingPeriod[];
  /** Keys of the arrivals taken, so that a repeated signal changes nothing. */
  arrived?: string[];
  /** 转办 under way: the target tracker's definition for each moving period, by label. */
  targets?: Record<string, TrackerDefinition>;
}

export type Step =
  /** Ask the planner for a period's plan: the first, the next, or a new plan for an open one. */
  | {
      kind: 'plan';
      purpose: 'first' | 'next' | 'replan';
      period?: string;
      extendedDue?: string;
      definition: TrackerDefinition;
    }
  /** Plan a period that arrived from another unit's tracker (转办) for this tracker's unit. */
  | { kind: 'arrival'; arrival: ArrivingPeriod; definition: TrackerDefinition }
  /** Hand a period to another unit's tracker (转办): start it with the period, or signal it when it runs. */
  | { kind: 'move'; period: PeriodState; target: TrackerDefinition; arrival: ArrivingPeriod }
  /**
   * Send a notice; `overtakenAt` is when the period's next notice falls due (a notice still unsent by then is
   * superseded); `meantAt` when it was meant to go out (its instant, or the catch-up's): sent over an hour later,
   * it says it was delayed.
   */
  | { kind: 'deliver'; period: PeriodState; notice: PlannedNotice; overtakenAt: number | null; meantAt: number }
  | { kind: 'settle'; period: PeriodState; outcome: Outcome; completedAt?: number }
  /** Nothing to do until `until` (or a request); undefined: until a request. */
  | { kind: 'wait'; until?: number }
  /** Retired, or a one-off settled: the workflow ends. */
  | { kind: 'end' };

/** Outcomes carried in the workflow; all of them are in the ledger. */
export const HISTORY_KEPT = 12;

/** The board's view of one period: what the ledger's period rows hold. */
export interface BoardPeriod {
  period: string;
  colour: Colour;
  due: string;
  dueAt: number;
  originalDue: string;
  endsAt: number;
  acknowledgedBy?: string;
  acknowledgedAt?: number;
  progressCount: number;
  lastProgressAt?: number;
  submitted: boolean;
  verification: string;
  /** 协办: the cooperating units and their 签收 (absent when the tracker has none). */
  cooperators?: { unit: string; acknowledgedBy?: string; acknowledgedAt?: number }[];
  /** 提级督办: the office the period was raised to, and when (absent until raised). */
  raisedTo?: string;
  raisedAt?: number;
  /** 退回 waiting for the supervising office: who handed the period back, and when (absent otherwise). */
  handBackBy?: string;
  handBackAt?: number;
}

/** The board's view of the tracker as a whole. */
export interface BoardTracker {
  colour: Colour | 'broken';
  /** The oldest open period (the one requests go to by default), with its due. */
  period: string;
  due: string;
  dueAt: number;
  openPeriods: number;
  paused: boolean;
  problem?: string;
  /** Event-relative trackers: the event they wait for while it has no date. */
  waitingFor?: string;
  /** False once retired, or once a one-off is settled. */
  active: boolean;
}

const URGENCY: Record<Colour, number> = { red: 0, yellow: 1, green: 2, done: 3, waived: 4 };

export class TrackerState {
  definition: TrackerDefinition;
  definitionHash?: string;
  periods: PeriodState[];
  history: PeriodRecord[];
  paused: boolean;
  retired: boolean;
  upcoming: { period: string; opensAt: number } | null | undefined;
  problem?: string;
  arrivals: ArrivingPeriod[];
  arrived: string[];
  targets: Record<string, TrackerDefinition>;
  /** Events for the ledger, taken by the workflow after each change. */
  private outbox: PeriodEvent[] = [];
  /** Open periods waiting for a new plan. */
  private replans = new Set<string>();
  /** Of those, the ones whose event date was set, moved or restored (planned with replannedForEvent). */
  private eventReplans = new Set<string>();
  /** The period a first plan starts with (simulate); absent: the first period not yet due. */
  private readonly firstPeriod?: string;

  constructor(
    definition: TrackerDefinition,
    snapshot: TrackerSnapshot | undefined,
    options: { definitionHash?: string; firstPeriod?: string } = {},
  ) {
    this.definition = definition;
    this.definitionHash = options.definitionHash;
    this.firstPeriod = options.firstPeriod;
    const rules = (): CompletionRules => rulesOf(this.definition);
    this.periods = (snapshot?.periods ?? []).map((p) => new PeriodState({ ...p, plan: unpackPlan(p.plan) }, rules));
    this.history = [...(snapshot?.history ?? [])];
    this.paused = snapshot?.paused ?? false;
    this.retired = snapshot?.retired ?? false;
    this.upcoming = snapshot?.upcoming;
    this.problem = snapshot?.problem;
    this.arrivals = [...(snapshot?.arrivals ?? [])];
    this.arrived = [...(snapshot?.arrived ?? [])];
    this.targets = { ...(snapshot?.targets ?? {}) };
  }

  snapshot(): TrackerSnapshot {
    return {
      periods: this.periods.map((p) => ({ ...p.s, plan: packPlan(p.s.plan) })),
      history: this.history.slice(-HISTORY_KEPT),
      paused: this.paused,
      retired: this.retired || undefined,
      upcoming: this.upcoming,
      problem: this.problem,
      ...(this.arrivals.length ? { arrivals: this.arrivals } : {}),
      // The last keys are enough: a repeat comes within moments of the first (a retried workflow task).
      ...(this.arrived.length ? { arrived: this.arrived.slice(-50) } : {}),
      ...(Object.keys(this.targets).length ? { targets: this.targets } : {}),
    };
  }

  private rules = (): CompletionRules => rulesOf(this.definition);

  /** Events recorded since the last call, oldest first. */
  takeEvents(): PeriodEvent[] {
    return this.outbox.splice(0, this.outbox.length);
  }
  get hasEvents(): boolean {
    return this.outbox.length > 0;
  }

  private record(e: PeriodEvent): void {
    this.outbox.push(e);
  }

  /** The label tracker-wide events are filed under: the oldest open period. */
  private get currentLabel(): string {
    return this.periods[0]?.label ?? this.history[this.history.length - 1]?.period ?? '-';
  }

  // --- The next step ----------------------------------------------------------------------------------------

  /** The event an event-relative tracker waits for (it has no date); undefined for every other tracker. */
  waitingFor(): string | undefined {
    return waitingForEvent(this.definition.obligation.due);
  }

  next(now: number): Step {
    if (this.retired) return { kind: 'end' };
    if (this.problem) return { kind: 'wait' };
    if (this.waitingFor() !== undefined) {
      // Nothing is planned or sent until the event has a date; work already done still settles.
      for (const p of this.periods) {
        const settled = p.outcome(now);
        if (settled) return { kind: 'settle', period: p, ...settled };
      }
      return this.periods.length === 0 && this.history.length > 0 ? { kind: 'end' } : { kind: 'wait' };
    }
    const replan = this.periods.find((p) => this.replans.has(p.label));
    if (replan)
      return {
        kind: 'plan',
        purpose: 'replan',
        period: replan.label,
        extendedDue: replan.s.extendedDue,
        definition: this.definition,
      };
    if (this.periods.length === 0 && this.upcoming === undefined)
      return { kind: 'plan', purpose: 'first', period: this.firstPeriod, definition: this.definition };
    const arrival = this.arrivals[0];
    if (arrival) return { kind: 'arrival', arrival, definition: this.definition };
    for (const p of this.periods) {
      const target = this.targets[p.label];
      if (p.s.moving && target) return { kind: 'move', period: p, target, arrival: this.departure(p) };
    }

    for (const p of this.periods) {
      if (p.s.moving) continue;
      const settled = p.outcome(now);
      if (settled) return { kind: 'settle', period: p, ...settled };
    }
    // The next period is planned when it opens, or at once when nothing else is open (the newest was settled).
    if (this.upcoming && (this.periods.length === 0 || this.upcoming.opensAt <= now))
      return { kind: 'plan', purpose: 'next', period: this.upcoming.period, definition: this.definition };
    if (this.periods.length === 0) return { kind: 'end' };

    if (!this.paused) {
      // A 催办 goes out at once; one for work that came in meanwhile is passed over.
      for (const p of this.periods) {
        const u = p.s.urge;
        if (!u || p.s.moving) continue;
        if (p.workDone() || p.s.waived) {
          p.urged(undefined, undefined);
          continue;
        }
        return {
          kind: 'deliver',
          period: p,
          notice: urgeNotice(this.definition, p.plan, u.at, p.s.raised !== undefined),
          overtakenAt: null,
          // Held by a pause, it is meant for the resume: only a failure makes it say it was delayed.
          meantAt: Math.max(u.at, p.s.caughtUpAt ?? u.at),
        };
      }
      let chosen: { period: PeriodState; notice: PlannedNotice } | undefined;
      for (const p of this.periods) {
        if (p.s.moving) continue;
        for (let n = p.dueNotice(now); n; n = p.dueNotice(now)) {
          // Done or waived work gets no more notices; they are passed over as they fall due. A raise goes out once
          // a period, and only while the definition still raises (提级督办).
          if (p.workDone() || p.s.waived || (n.stage === 'raise' && (p.s.raised || !this.definition.raise))) {
            p.handled(n);
            continue;
          }
          if (!chosen || n.at < chosen.notice.at) chosen = { period: p, notice: n };
          break;
        }
      }
      if (chosen) {
        // The next notice still to send (one passed over at a catch-up does not overtake it). A raise goes to
        // another office: it neither overtakes the ladder's notices nor is overtaken by them.
        const handled = new Set(chosen.period.s.handled);
        const later =
          chosen.notice.stage === 'raise'
            ? undefined
            : chosen.period.plan.notices.find(
                (n) => n.at > chosen!.notice.at && !handled.has(noticeKey(n)) && n.stage !== 'raise',
              );
        return {
          kind: 'deliver',
          ...chosen,
          overtakenAt: later ? later.at : null,
          meantAt: chosen.period.meantAt(chosen.notice),
        };
      }
    }
    const wakes = this.periods
      .filter((p) => !p.s.moving)
      .map((p) => p.nextWake(now, this.paused))
      .filter((t): t is number => t !== undefined);
    if (this.upcoming) wakes.push(this.upcoming.opensAt);
    return { kind: 'wait', until: wakes.length ? Math.min(...wakes) : undefined };
  }

  // --- Results of steps -------------------------------------------------------------------------------------

  /** A plan arrived for a step of kind 'plan'. */
  planned(step: Extract<Step, { kind: 'plan' }>, plan: TrackerPeriodPlan, now: number, catchUp = true): void {
    this.problem = undefined;
    // A definition that changed while the plan was being made: the period is planned again with it.
    const stale = step.definition !== this.definition;
    if (step.purpose === 'replan') {
      if (!stale) this.replans.delete(step.period!);
      const p = this.periods.find((x) => x.label === step.period);
      if (this.eventReplans.delete(step.period!)) p?.replannedForEvent(plan, now);
      else p?.replanned(plan, now);
    } else {
      const p = PeriodState.start(plan, this.rules, now, catchUp);
      this.periods.push(p);
      this.record({ period: p.label, kind: 'period_opened', data: { due: plan.due, endsAt: plan.endsAt } });
      if (stale) this.replans.add(p.label);
    }
    const newest = this.periods[this.periods.length - 1]!;
    this.upcoming =
      newest.plan.nextPeriod !== null && newest.plan.nextOpensAt !== null
        ? { period: newest.plan.nextPeriod, opensAt: newest.plan.nextOpensAt }
        : null;
  }

  // --- 转办 (DOMAIN.md 27) ---------------------------------------------------------------------------------------

  /** The period as the target tracker receives it (its key names this tracker, the period and the move). */
  private departure(p: PeriodState): ArrivingPeriod {
    const m = p.s.moving!;
    return {
      key: `${this.definition.trackerId}/${p.label}/${m.at}`,
      from: {
        trackerId: this.definition.trackerId,
        unit: this.definition.unit.id,
        unitName: this.definition.unit.name,
      },
      reason: m.reason,
      by: m.by,
      period: { ...p.s, moving: undefined } as unknown as ArrivingPeriod['period'],
    };
  }

  /** A period arrives from another unit's tracker (a signal, or this tracker's start): once per key. */
  arrive(a: ArrivingPeriod): void {
    if (this.arrived.includes(a.key) || this.arrivals.some((x) => x.key === a.key)) return;
    this.arrivals.push(a);
  }

  /** The target tracker has the period: it leaves this one, and the record says where it went. */
  moved(step: Extract<Step, { kind: 'move' }>): void {
    const p = step.period;
    const m = p.s.moving!;
    this.periods = this.periods.filter((x) => x !== p);
    this.replans.delete(p.label);
    delete this.targets[p.label];
    this.record({
      period: p.label,
      kind: 'transferred_out',
      actor: m.by,
      data: { to: m.to, toName: step.target.unit.name, toTracker: step.target.trackerId, reason: m.reason },
    });
    // Nothing left open and nothing upcoming would end the tracker: the catalog still assigns it the next periods.
  }

  /** The arrival's plan for this unit came: the period joins (or, held already, merges with) the open ones. */
  arrivalPlanned(step: Extract<Step, { kind: 'arrival' }>, plan: TrackerPeriodPlan, now: number): void {
    const a = step.arrival;
    this.arrivals = this.arrivals.filter((x) => x.key !== a.key);
    this.arrived.push(a.key);
    const moved = a.period as unknown as PeriodSnapshot;
    const held = this.periods.find((p) => p.label === moved.plan.period);
    const from = { trackerId: a.from.trackerId, unit: a.from.unit, unitName: a.from.unitName, at: now };
    if (held) {
      held.merged(moved, now);
      held.s.movedFrom = from;
    } else {
      const p = PeriodState.arrived(moved, plan, this.rules, now, from);
      this.periods.push(p);
      this.periods.sort((x, y) => x.plan.dueAt - y.plan.dueAt);
      if (this.upcoming === undefined || this.upcoming === null) {
        const newest = this.periods[this.periods.length - 1]!;
        if (newest === p && plan.nextPeriod !== null && plan.nextOpensAt !== null)
          this.upcoming = { period: plan.nextPeriod, opensAt: plan.nextOpensAt };
      }
    }
    this.record({
      period: moved.plan.period,
      kind: 'transferred_in',
      actor: a.by,
      data: { from: a.from.unit, fromName: a.from.unitName, fromTracker: a.from.trackerId, reason: a.reason },
    });
  }

  /** Planning failed for good: the tracker shows as broken until a corrected definition arrives. */
  planningFailed(reason: string): void {
    // Nothing is re-planned until a corrected definition arrives (it re-plans every open period), so requests
    // waiting for a re-plan are answered now, with the problem.
    this.replans.clear();
    this.eventReplans.clear();
    if (this.problem === reason) return;
    this.problem = reason;
    this.record({ period: this.currentLabel, kind: 'planning_failed', data: { reason } });
  }

  /** A notice went out (with its Message-ID), or was passed over (without); a 催办 says when the next may go. */
  delivered(step: Extract<Step, { kind: 'deliver' }>, messageId: string | undefined, nextUrgeFrom?: number): void {
    if (step.notice.stage === 'urge') step.period.urged(messageId, nextUrgeFrom);
    else step.period.handled(step.notice, messageId);
    const office = this.definition.raise?.office;
    if (step.notice.stage === 'raise' && messageId && office) step.period.markRaised(step.notice, office);
  }

  settled(step: Extract<Step, { kind: 'settle' }>): PeriodRecord {
    const p = step.period;
    this.periods = this.periods.filter((x) => x !== p);
    this.replans.delete(p.label);
    const rec: PeriodRecord = {
      period: p.label,
      outcome: step.outcome,
      originalDue: p.plan.originalDue,
      due: p.plan.due,
      completedAt: step.completedAt,
    };
    this.history.push(rec);
    if (this.history.length > HISTORY_KEPT) this.history = this.history.slice(-HISTORY_KEPT);
    // A rate or count period keeps its last figures with the outcome: "missed" at 85% is not "missed" with no report.
    const figures = p.s.report ? { figures: { ...p.s.report, threshold: this.definition.obligation.threshold } } : {};
    this.record({
      period: p.label,
      kind: 'outcome',
      data: {
        outcome: step.outcome,
        due: p.plan.due,
        originalDue: p.plan.originalDue,
        completedAt: step.completedAt,
        ...figures,
      },
    });
    return rec;
  }

  /** Periods that newly turned red, for the office's digest; each is reported once per due date. */
  takeNewlyRed(now: number): PeriodState[] {
    if (this.paused || this.definition.supervisor.digest === false) return [];
    const red = this.periods.filter((p) => p.plan.digest && p.newlyRed(now));
    for (const p of red) p.markNotedRed();
    return red;
  }

  // --- Requests ---------------------------------------------------------------------------------------------

  private refuse(message: string): never {
    throw new Refusal(message);
  }

  /** The period a request is for: the one it names, the open one holding a quota event's date, or the oldest. */
  private route<K extends RequestName>(name: K, req: Requests[K]): PeriodState {
    const label = (req as Actor).period;
    if (label !== undefined) {
      const p = this.periods.find((x) => x.label === label);
      if (p) return p;
      const past = this.history.find((h) => h.period === label);
      if (past) this.refuse(`${periodWords(label)}已结束（${OUTCOME_WORDS[past.outcome] ?? past.outcome}）`);
      this.refuse(
        `${periodWords(label)}未开放；开放中的：${this.periods.map((x) => periodWords(x.label)).join('、') || '无'}`,
      );
    }
    if (name === 'record') {
      const date = (req as Requests['record']).date;
      const holding = this.periods.find(
        (p) => typeof date === 'string' && date >= p.plan.periodStart && date <= p.plan.periodEnd,
      );
      if (holding) return holding;
    }
    return this.periods[0]!;
  }

  /** Refuses (throws Refusal) unless the request can be applied now; changes nothing. */
  check<K extends RequestName>(name: K, req: Requests[K], now: number): void {
    if (!req || typeof req !== 'object') this.refuse('请求内容为空');
    const by = checkText('办理人', req.by, true) ?? (req.by.length > 200 ? '办理人超过200个字符' : undefined);
    if (by) this.refuse(by);
    if (
      req.email !== undefined &&
      (typeof req.email !== 'string' || !/^[^\s<>@]+@[^\s<>@]+$/.test(req.email) || req.email.length > 254)
    ) {
      this.refuse(`“${String(req.email).slice(0, 80)}”不是有效的电子邮箱地址`);
    }
    if (req.onBehalfOf !== undefined && (checkText('onBehalfOf', req.onBehalfOf, true) || req.onBehalfOf.length > 300))
      this.refuse('代办人所代的人（onBehalfOf）须为不超过300字的姓名');
    if (req.period !== undefined && typeof req.period !== 'string') this.refuse('期次须写作如2027或2027-Q1');
    this.checkCooperator(name, req);
    if (this.retired) this.refuse(`督办任务${this.definition.trackerId}已停用`);
    if (name === 'updateDefinition') return this.checkDefinition(req as Requests['updateDefinition']);
    if (name === 'retire') {
      const reason = checkText('停用理由', (req as Requests['retire']).reason, true);
      if (reason) this.refuse(reason);
      return;
    }
    if (this.problem)
      this.refuse(`督办任务${this.definition.trackerId}无法排期：${this.problem}。请修正任务清单后运行 duban register`);
    const event = this.waitingFor();
    if (event !== undefined && this.periods.length === 0)
      this.refuse(
        `督办任务${this.definition.trackerId}正等待事件${event}确定日期（duban event set ${event} YYYY-MM-DD）`,
      );
    if (this.periods.length === 0) this.refuse('督办任务正在启动，请稍后再试');
    if (name === 'pause') return void (this.paused && this.refuse('督办任务已暂停'));
    if (name === 'resume') return void (!this.paused && this.refuse('督办任务未暂停'));
    const p = this.route(name, req);
    if (this.replans.has(p.label)) this.refuse(`${periodWords(p.label)}正在重新排期，请稍后再试`);
    if (p.s.moving)
      this.refuse(
        `${p.label === 'once' ? '该任务' : `${periodWords(p.label)}`}正在转办给单位${p.s.moving.to}，请到该单位的跟踪项办理`,
      );
    // The ladder ran out: the period is missed, even if the loop has not recorded it yet (DOMAIN.md 19).
    if (now >= p.plan.endsAt && !p.s.suspended && !p.workDone() && !p.s.waived)
      this.refuse(`${periodWords(p.label)}已结束：督办已到期，记为未完成`);
    if (name === 'decideExtension' && event !== undefined && (req as Requests['decideExtension']).approve === true) {
      this.refuse(`督办任务正等待事件${event}确定日期；日期确定后再审批延期`);
    }
    const obligation = this.definition.obligation.id;
    switch (name) {
      case 'submit':
        return p.checkSubmit(req as Requests['submit'], obligation);
      case 'record':
        return p.checkRecord(req as Requests['record'], obligation, now);
      case 'verify':
        return p.checkVerify(req as Requests['verify'], obligation);
      case 'requestExtension':
        return p.checkRequestExtension(req as Requests['requestExtension'], now);
      case 'decideExtension':
        return p.checkDecideExtension(req as Requests['decideExtension']);
      case 'waive':
        return p.checkWaive(req as Requests['waive']);
      case 'acknowledge':
        return p.checkAcknowledge(req as Requests['acknowledge'], this.cooperating(req));
      case 'progress':
        return p.checkProgress(req as Requests['progress']);
      case 'report':
        return p.checkReport(req as Requests['report'], obligation);
      case 'urge':
        if (this.paused) this.refuse('督办已暂停，恢复后才能催办');
        return p.checkUrge(req as Requests['urge'], now);
      case 'handBack':
        return p.checkHandBack(req as Requests['handBack']);
      case 'refuseHandBack':
        return p.checkRefuseHandBack(req as Requests['refuseHandBack']);
      case 'transfer':
        return p.checkTransfer(req as Requests['transfer'], { obligation, unit: this.definition.unit.id });
      default:
        this.refuse(`未知的请求${String(name)}`);
    }
  }

  // --- 协办 (DOMAIN.md 28) ---------------------------------------------------------------------------------------

  /** The cooperating unit a request acts for, or undefined when the lead (the tracker's own unit) acts. */
  private cooperating(req: Actor): Cooperating | undefined {
    if (req.unit === undefined || req.unit === this.definition.unit.id) return undefined;
    const c = (this.definition.cooperators ?? []).find((x) => x.id === req.unit);
    return c && { id: c.id, name: c.name };
  }

  /** A request for a cooperating unit: the unit must be one of the tracker's, and the action one it may take. */
  private checkCooperator(name: RequestName, req: Actor): void {
    if (req.unit === undefined || req.unit === this.definition.unit.id) return;
    if (typeof req.unit !== 'string') this.refuse('办理单位须为单位编号');
    const c = this.cooperating(req);
    if (!c) this.refuse(`单位${String(req.unit).slice(0, 64)}不是本任务（${this.definition.trackerId}）的协办单位`);
    const refusal = cooperatorRefusal(name, c.name, this.definition.unit.name);
    if (refusal) this.refuse(refusal);
  }

  private checkDefinition(req: Requests['updateDefinition']): void {
    const d = req.definition;
    if (!d || typeof d !== 'object' || d.trackerId !== this.definition.trackerId)
      this.refuse(`任务定义属于${d?.trackerId}，不是${this.definition.trackerId}`);
    if (d.obligation?.period !== this.definition.obligation.period) {
      this.refuse(
        `运行中的督办任务不能改变期次类型（${this.definition.obligation.period}改为${d.obligation?.period}）；请停用后重新登记`,
      );
    }
    const cycle = (o: TrackerDefinition['obligation']) =>
      o.every !== undefined && o.every > 1 ? `自${o.anchor}年起每${o.every}年` : '每年';
    if (cycle(d.obligation) !== cycle(this.definition.obligation)) {
      this.refuse(
        `运行中的督办任务不能改变周期（${cycle(this.definition.obligation)}改为${cycle(d.obligation)}）；请停用后重新登记`,
      );
    }
  }

  /**
   * Applies a checked request. Returns whether the answer must wait for a re-plan (an approved extension, a new
   * definition), so that it reports the ladder as it now stands.
   */
  apply<K extends RequestName>(name: K, req: Requests[K], now: number): { replan: boolean } {
    const before = this.outbox.length;
    const result = this.applyRequest(name, req, now);
    // 代办: the ledger's events say for whom the stand-in acted, besides the actor's name.
    const behalf = (req as Actor).onBehalfOf;
    if (behalf) for (const e of this.outbox.slice(before)) e.data = { ...e.data, onBehalfOf: behalf };
    return result;
  }

  private applyRequest<K extends RequestName>(name: K, req: Requests[K], now: number): { replan: boolean } {
    const actor = actorName(req);
    switch (name) {
      case 'pause':
        this.paused = true;
        this.record({ period: this.currentLabel, kind: 'paused', actor });
        return { replan: false };
      case 'resume':
        this.paused = false;
        // While paused, due notices stayed unsent: of them, only the latest of each period goes out now.
        for (const p of this.periods) p.resumed(now);
        this.record({ period: this.currentLabel, kind: 'resumed', actor });
        return { replan: false };
      case 'retire':
        this.retired = true;
        this.record({
          period: this.currentLabel,
          kind: 'retired',
          actor,
          data: { reason: (req as Requests['retire']).reason },
        });
        return { replan: false };
      case 'updateDefinition': {
        const u = req as Requests['updateDefinition'];
        const eventDate = (d: TrackerDefinition) => {
          const rule = d.obligation.due;
          return rule.rule === 'before-event' || rule.rule === 'after-event' ? (rule.date ?? null) : undefined;
        };
        const before = eventDate(this.definition);
        const after = eventDate(u.definition);
        this.definition = u.definition;
        this.definitionHash = u.definitionHash;
        const wasBroken = this.problem !== undefined;
        this.problem = undefined;
        if (after === null) {
          // The event lost its date (cancelled or postponed): open periods wait, sending nothing.
          for (const p of this.periods) p.suspend();
        } else {
          for (const p of this.periods) {
            this.replans.add(p.label);
            if (after !== undefined && (after !== before || p.s.suspended)) this.eventReplans.add(p.label);
          }
        }
        const data =
          after !== undefined
            ? {
                data: {
                  event: (u.definition.obligation.due as { event: string }).event,
                  date: after,
                  previous: before ?? null,
                },
              }
            : {};
        this.record({ period: this.currentLabel, kind: 'definition_updated', actor, ...data });
        // A first date for a waiting tracker plans its period: the answer waits for it, as for a re-plan.
        return { replan: (after !== null && (this.periods.length > 0 || before === null)) || wasBroken };
      }
    }
    const p = this.route(name, req);
    switch (name) {
      case 'submit':
        this.record(p.applySubmit(req as Requests['submit'], now));
        break;
      case 'record':
        this.record(p.applyRecord(req as Requests['record'], now));
        break;
      case 'verify':
        this.record(p.applyVerify(req as Requests['verify']));
        break;
      case 'requestExtension':
        this.record(p.applyRequestExtension(req as Requests['requestExtension']));
        break;
      case 'decideExtension': {
        const { event, replan } = p.applyDecideExtension(req as Requests['decideExtension']);
        this.record(event);
        if (replan) this.replans.add(p.label);
        return { replan };
      }
      case 'waive':
        this.record(p.applyWaive(req as Requests['waive']));
        break;
      case 'acknowledge':
        this.record(p.applyAcknowledge(req as Requests['acknowledge'], now, this.cooperating(req)));
        break;
      case 'progress':
        this.record(p.applyProgress(req as Requests['progress'], now, this.cooperating(req)));
        break;
      case 'report':
        this.record(p.applyReport(req as Requests['report'], now));
        break;
      case 'urge':
        this.record(p.applyUrge(req as Requests['urge'], now));
        break;
      case 'handBack':
        this.record(p.applyHandBack(req as Requests['handBack'], now));
        break;
      case 'refuseHandBack':
        this.record(p.applyRefuseHandBack(req as Requests['refuseHandBack']));
        break;
      case 'transfer': {
        const t = req as Requests['transfer'];
        this.record(p.applyTransfer(t, now));
        this.targets[p.label] = t.target;
        break;
      }
    }
    return { replan: false };
  }

  /** Whether re-plans asked for by requests are still to be done. */
  get replanning(): boolean {
    return (
      this.replans.size > 0 ||
      (this.problem === undefined &&
        this.periods.length === 0 &&
        this.upcoming === undefined &&
        this.waitingFor() === undefined)
    );
  }

  // --- What clients and the board see -----------------------------------------------------------------------

  colour(now: number): Colour | 'broken' {
    if (this.problem) return 'broken';
    if (this.periods.length === 0 && this.waitingFor() !== undefined && this.history.length === 0) return 'green';
    const colours = this.periods.map((p) => p.colour(now));
    if (colours.length === 0) {
      const last = this.history[this.history.length - 1]?.outcome;
      return last === 'waived' ? 'waived' : last === 'missed' ? 'red' : 'done';
    }
    return colours.sort((a, b) => URGENCY[a] - URGENCY[b])[0]!;
  }

  status(now: number): TrackerStatus {
    const o = this.definition.obligation;
    return {
      trackerId: this.definition.trackerId,
      obligation: o.id,
      unit: this.definition.unit.id,
      colour: this.colour(now),
      paused: this.paused,
      retired: this.retired,
      problem: this.problem,
      ...(this.waitingFor() !== undefined ? { waitingFor: this.waitingFor() } : {}),
      completion: o.completion,
      quota: o.quota,
      ...(o.threshold !== undefined ? { threshold: o.threshold } : {}),
      ...(o.measure !== undefined ? { measure: o.measure } : {}),
      periods: this.periods.map((p) => p.status(now, this.paused, this.definition.cooperators)),
      history: [...this.history],
    };
  }

  boardPeriods(now: number): BoardPeriod[] {
    if (this.retired) return [];
    return this.periods.map((p) => ({
      period: p.label,
      colour: p.colour(now),
      due: p.plan.due,
      dueAt: p.plan.dueAt,
      originalDue: p.plan.originalDue,
      endsAt: p.plan.endsAt,
      acknowledgedBy: p.s.acknowledged?.by,
      acknowledgedAt: p.s.acknowledged?.at,
      progressCount: p.s.progressCount,
      lastProgressAt: p.s.progress[p.s.progress.length - 1]?.at,
      submitted: p.s.submittedAt !== undefined,
      verification: p.status(now, this.paused).verification,
      // Present only for trackers with cooperators, a raise or a 退回 waiting: every other board row stays as it was.
      ...(this.definition.cooperators?.length
        ? {
            cooperators: p.cooperatorStatus(this.definition.cooperators).map((c) => ({
              unit: c.unit,
              ...(c.acknowledged ? { acknowledgedBy: c.acknowledged.by, acknowledgedAt: c.acknowledged.at } : {}),
            })),
          }
        : {}),
      ...(p.s.raised ? { raisedTo: p.s.raised.office, raisedAt: p.s.raised.at } : {}),
      ...(p.s.handBack ? { handBackBy: p.s.handBack.by, handBackAt: p.s.handBack.at } : {}),
    }));
  }

  boardTracker(now: number): BoardTracker {
    const first = this.periods[0];
    const last = this.history[this.history.length - 1];
    return {
      colour: this.colour(now),
      period: first?.label ?? last?.period ?? '-',
      due: first?.plan.due ?? last?.due ?? '',
      dueAt: first?.plan.dueAt ?? 0,
      openPeriods: this.periods.length,
      paused: this.paused,
      problem: this.problem,
      ...(this.waitingFor() !== undefined ? { waitingFor: this.waitingFor() } : {}),
      active: !this.retired && (this.periods.length > 0 || this.upcoming !== null),
    };
  }
}
