/**
 * One period of one tracker as a pure state machine: its plan, the requests of the 督办 cycle with their checks
 * and refusal messages, its notices (which are due, which were sent), its colour at an instant, when it must wake
 * next, how it settles, and the status clients see. No Temporal, no I/O: the tracker workflow wires it to messages
 * and timers, and unit tests drive it directly.
 *
 * Shaped after Healthchecks' Check model: the state is plain data (PeriodSnapshot, carried across
 * continue-as-new), and every rule is a method that reads it.
 */
import { parseDate } from './dates';
import { periodWords } from './words';
import { TrackerPeriodPlan, PlannedNotice, ladderRank, localDateIn, noticeKey, sentAtCatchUp } from './planner';
import {
  Actor,
  AcknowledgeRequest,
  ExtensionDecision,
  ExtensionRequest,
  NoticeRef,
  PeriodStatus,
  ProgressRequest,
  ReasonRequest,
  PeopleProgress,
  UrgeRequest,
  HandBackRequest,
  TransferRequest,
  RecordRequest,
  Refusal,
  CooperatorStatus,
  Shortfall,
  ReportRequest,
  ReportedFigures,
  SubmitRequest,
  VerifyRequest,
} from './requests';
import type { CompletionKind, QuotaUnit } from './model';
import type { Person } from './roster';
import type { TrackerDefinition } from './trackers';
import {
  Colour,
  MAX_TEXT,
  Outcome,
  RATINGS,
  Rating,
  checkEvidence,
  checkText,
  colourAt,
  completionOutcome,
  completionOutcomeByDate,
  nextColourChange,
} from './tracking';

/** What the ledger records about a change: the workflow adds the keys, the tracker's ids and the time. */
export interface PeriodEvent {
  period: string;
  kind: EventKind;
  actor?: string;
  data?: Record<string, unknown>;
}

export type EventKind =
  | 'period_opened'
  | 'submission'
  | 'quota_event'
  | 'verification_accepted'
  | 'verification_returned'
  | 'extension_requested'
  | 'extension_approved'
  | 'extension_rejected'
  | 'waived'
  | 'acknowledged'
  | 'progress'
  | 'urged'
  | 'handed_back'
  | 'hand_back_refused'
  | 'transfer_started'
  | 'transferred_out'
  | 'transferred_in'
  | 'report'
  | 'paused'
  | 'resumed'
  | 'definition_updated'
  | 'planning_failed'
  | 'retired'
  | 'outcome';

/** Everything a period knows, as plain data. */
export interface PeriodSnapshot {
  plan: TrackerPeriodPlan;
  /** Keys of notices sent, or passed over (already due when the period started, overtaken, or done). */
  handled: string[];
  /** Message-IDs of the period's notices, for threading. */
  thread: string[];
  lastNotice?: NoticeRef & { messageId: string };
  submittedAt?: number;
  quotaDates: string[];
  quotaReachedAt?: number;
  verification?: 'accepted' | 'returned';
  rating?: Rating;
  pendingExtension?: { newDue: string; reason: string; by: string };
  extendedDue?: string;
  waived: boolean;
  acknowledged?: { by: string; at: number };
  /** Progress notes, the latest last; a cooperating unit's (协办) names its unit. */
  progress: { by: string; at: number; note: string; unit?: string; unitName?: string }[];
  /** Every progress note of the period, the lead's and the cooperating units'. */
  progressCount: number;
  /** The latest figures of a rate or count obligation (earlier reports are in the ledger). */
  report?: ReportedFigures;
  /** Per-person quotas: [person, date, amount] of every record of the period. */
  personRecords?: [string, string, number][];
  /** The event of an event-relative period lost its date (cancelled or postponed): no notices, no outcome. */
  suspended?: boolean;
  /** The ladder position of the last notice sent (planner.ladderRank), to send none twice across event moves. */
  lastSentRank?: number;
  /** The due date for which the office's digest has been told this period turned red. */
  notedRedFor?: string;
  /**
   * When the period last caught up (registration mid-period, resume): a notice planned before then and sent at
   * once was meant for then, and is not late (no delay note) unless sending it failed meanwhile.
   */
  caughtUpAt?: number;
  /** A 催办 accepted and not yet sent (the loop sends it at once), with who asked. */
  urge?: { at: number; by: string; note?: string };
  /** The last 催办 sent, and from when the office may send the next (the start of the next working day). */
  lastUrge?: { at: number; by: string; nextFrom: number };
  /** 退回 waiting for the supervising office's answer (转办, or refused). */
  handBack?: { by: string; at: number; reason: string };
  /** 转办 under way: the period is frozen here (no notice, no request) until the target tracker has it. */
  moving?: { to: string; targetTrackerId: string; reason: string; by: string; at: number };
  /** The period came from another unit's tracker (转办). */
  movedFrom?: { trackerId: string; unit: string; unitName: string; at: number };
  /** 协办 (DOMAIN.md 28): each cooperating unit's 签收, by unit id. */
  cooperatorAcks?: Record<string, { by: string; at: number }>;
  /** 协办: how many progress notes each cooperating unit reported, by unit id. */
  cooperatorProgress?: Record<string, number>;
  /** 提级督办 (DOMAIN.md 26): the raise went out (its planned instant) to this office; it is never sent again. */
  raised?: { at: number; office: string; officeName: string };
}

/** A cooperating unit acting on the lead's tracker (协办): its id and name. */
export interface Cooperating {
  id: string;
  name: string;
}

/** The obligation's completion rules, read from the definition in force. */
export interface CompletionRules {
  completion: CompletionKind;
  quota: number;
  verification: boolean;
  /** Rate (a percentage) and count obligations: the lowest acceptable figure. */
  threshold?: number;
  /** Per-person quotas: the people who must each reach the quota, and what it counts. */
  people?: Person[];
  quotaUnit?: QuotaUnit;
}

export function rulesOf(d: TrackerDefinition): CompletionRules {
  return {
    completion: d.obligation.completion,
    quota: d.obligation.quota,
    verification: d.obligation.verification,
    threshold: d.obligation.threshold,
    people: d.people,
    quotaUnit: d.obligation.quotaUnit,
  };
}

/** Reported counts are whole numbers of people or cases; a million is beyond any unit's figures. */
const MAX_FIGURE = 1_000_000;

/** The percentage a rate report gives; 0/0 (nothing to count this period, e.g. no disclosure request) is 100. */
export function ratePercent(numerator: number, denominator: number): number {
  return denominator === 0 ? 100 : (numerator / denominator) * 100;
}

/** Who is still short, as listed in a status and a notice; the rest are counted ("等N人"). */
export const SHORTFALLS_SHOWN = 20;

/** Progress notes carried in the workflow; all of them are in the ledger. */
const PROGRESS_KEPT = 5;

/** The name recorded for who acted: the name, with the address when known. */
export function actorName(a: Actor): string {
  const who = a.email ? `${a.by} <${a.email}>` : a.by;
  // 代办: the stand-in acts, and the record says for whom.
  return a.onBehalfOf ? `${who}（代${a.onBehalfOf}）` : who;
}

export class PeriodState {
  constructor(
    readonly s: PeriodSnapshot,
    private readonly rules: () => CompletionRules,
  ) {}

  /**
   * A period that starts now. With catch-up, of the notices already due only the latest is still sent; a plan
   * that says how it catches up (the tracker's first period, planner.catchUpOnStart) also passes over the
   * reminders the catch-up makes redundant, and the catch-up is meant for now (no delay note).
   */
  static start(plan: TrackerPeriodPlan, rules: () => CompletionRules, now: number, catchUp: boolean): PeriodState {
    const p = new PeriodState(
      { plan, handled: [], thread: [], quotaDates: [], waived: false, progress: [], progressCount: 0 },
      rules,
    );
    if (catchUp && plan.catchUp) {
      const passOver = new Set(plan.catchUp.passOver);
      for (const n of plan.notices) if (passOver.has(noticeKey(n))) p.handled(n);
      // Notices that fell due between planning and now (milliseconds) follow the rule as usual.
      p.skipPassedButLatest(now);
      p.s.caughtUpAt = plan.catchUp.at;
    } else if (catchUp) p.skipPassedButLatest(now);
    else p.skipPassed(now);
    return p;
  }

  /**
   * When a notice was meant to go out: its planned instant, or the last catch-up for one planned before it (a
   * notice sent later than this by more than an hour waited on failures and says so).
   */
  meantAt(n: PlannedNotice): number {
    return Math.max(n.at, this.s.caughtUpAt ?? n.at);
  }

  get plan(): TrackerPeriodPlan {
    return this.s.plan;
  }
  get label(): string {
    return this.s.plan.period;
  }
  /** The period as a Chinese sentence names it (2026期, 该一次性任务), for the refusals written in Chinese. */
  private get named(): string {
    return this.label === 'once' ? '该一次性任务' : `${this.label}期`;
  }

  // --- Derived state ----------------------------------------------------------------------------------------

  private isQuota(): boolean {
    return this.rules().completion === 'quota';
  }
  /** Rate and count obligations are completed by reporting figures that meet the threshold. */
  private isMeasured(): boolean {
    const c = this.rules().completion;
    return c === 'rate' || c === 'count';
  }
  private isPerPerson(): boolean {
    return this.rules().completion === 'per-person';
  }
  /** Per-person totals of the period, by person id. */
  private personTotals(): Map<string, number> {
    const totals = new Map<string, number>();
    for (const [person, , amount] of this.s.personRecords ?? []) totals.set(person, (totals.get(person) ?? 0) + amount);
    return totals;
  }
  /** The people of the roster still short of the quota, in roster order, with what they have and lack. */
  shortfalls(): Shortfall[] {
    const { people = [], quota } = this.rules();
    const totals = this.personTotals();
    return people
      .map((p) => ({
        id: p.id,
        name: p.name,
        has: totals.get(p.id) ?? 0,
        short: Math.max(0, quota - (totals.get(p.id) ?? 0)),
      }))
      .filter((p) => p.short > 0);
  }
  peopleProgress(): PeopleProgress {
    const short = this.shortfalls();
    const total = this.rules().people?.length ?? 0;
    return { total, reached: total - short.length, short: short.slice(0, SHORTFALLS_SHOWN) };
  }
  /** The unit's work is in: the quota reached, figures at or above the threshold, or a submission made. */
  completeByWork(): boolean {
    if (this.isMeasured()) return this.s.report?.meets === true;
    // An empty roster completes nothing: validation refuses it, and a roster emptied later must not pass silently.
    if (this.isPerPerson()) return (this.rules().people?.length ?? 0) > 0 && this.shortfalls().length === 0;
    return this.isQuota() ? this.s.quotaDates.length >= this.rules().quota : this.s.submittedAt !== undefined;
  }
  /** Figures reported below the threshold: the period is at risk (yellow before due, red after). */
  belowThreshold(): boolean {
    return this.isMeasured() && this.s.report !== undefined && !this.s.report.meets;
  }
  /** Done and, when the obligation wants it, verified. */
  complete(): boolean {
    return this.completeByWork() && (!this.rules().verification || this.s.verification === 'accepted');
  }
  /** The work is in and not sent back: the board shows done, and no more notices go out. */
  workDone(): boolean {
    return this.completeByWork() && this.s.verification !== 'returned';
  }

  private colourInput(now: number) {
    return {
      now,
      waived: this.s.waived,
      complete: this.workDone(),
      yellowAt: this.plan.yellowAt,
      dueAt: this.plan.dueAt,
      atRisk: this.belowThreshold(),
    };
  }
  colour(now: number): Colour {
    const colour = colourAt(this.colourInput(now));
    return this.s.suspended && (colour === 'yellow' || colour === 'red') ? 'green' : colour;
  }

  /** The next notice not handled yet, in plan order; none while the period's event has no date. */
  nextNotice(): PlannedNotice | undefined {
    if (this.s.suspended) return undefined;
    const handled = new Set(this.s.handled);
    return this.plan.notices.find((n) => !handled.has(noticeKey(n)));
  }

  /** A notice due at `now`, if any: the one to send, or (work done) to pass over. */
  dueNotice(now: number): PlannedNotice | undefined {
    const next = this.nextNotice();
    return next && next.at <= now ? next : undefined;
  }

  /**
   * The next instant this period must be looked at by itself: its next notice, a colour change, or the end of its
   * ladder. Undefined when nothing will happen without a request.
   */
  nextWake(now: number, paused: boolean): number | undefined {
    if (this.s.suspended) return undefined;
    const wakes = [nextColourChange(this.colourInput(now)), this.plan.endsAt];
    // Work waiting for verification still wakes at each notice, to pass it over at its time: a notice that fell
    // due while the work was in is not sent late if the work is returned.
    if (!paused) wakes.push(this.nextNotice()?.at);
    const future = wakes.filter((t): t is number => t !== undefined);
    return future.length ? Math.min(...future) : undefined;
  }

  /** The outcome the period settles with at `now`, or undefined while it stays open (DOMAIN.md 15, 19). */
  outcome(now: number): { outcome: Outcome; completedAt?: number } | undefined {
    if (this.s.waived) return { outcome: 'waived' };
    if (this.complete()) return this.completion();
    if (this.s.suspended) return undefined;
    // The ladder ran out: a submission still waiting for verification counts by its time; returned work does not.
    if (now >= this.plan.endsAt) return this.workDone() ? this.completion() : { outcome: 'missed' };
    return undefined;
  }

  /**
   * How completed work counts: a submission by its time; a quota by the date of the event that met it (a lecture
   * held before due and recorded after is on time), against the original and the extended due.
   */
  private completion(): { outcome: Outcome; completedAt: number } {
    const plan = this.plan;
    if (this.isMeasured()) {
      const at = this.s.report!.at;
      return {
        outcome: completionOutcome(at, plan.originalDueAt, this.s.extendedDue ? plan.dueAt : undefined),
        completedAt: at,
      };
    }
    if (this.isPerPerson()) {
      // The day the last person reached the quota, counting each person's records in date order.
      const quota = this.rules().quota;
      const byPerson = new Map<string, [string, number][]>();
      for (const [person, date, amount] of this.s.personRecords ?? [])
        byPerson.set(person, [...(byPerson.get(person) ?? []), [date, amount]]);
      let metOn = '';
      for (const p of this.rules().people ?? []) {
        let sum = 0;
        for (const [date, amount] of [...(byPerson.get(p.id) ?? [])].sort((a, b) =>
          a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0,
        )) {
          sum += amount;
          if (sum >= quota) {
            if (date > metOn) metOn = date;
            break;
          }
        }
      }
      return {
        outcome: completionOutcomeByDate(metOn, plan.originalDue, this.s.extendedDue),
        completedAt: this.s.quotaReachedAt ?? 0,
      };
    }
    if (this.isQuota()) {
      const metOn = [...this.s.quotaDates].sort()[this.rules().quota - 1]!;
      return {
        outcome: completionOutcomeByDate(metOn, plan.originalDue, this.s.extendedDue),
        completedAt: this.s.quotaReachedAt ?? 0,
      };
    }
    const at = this.s.submittedAt!;
    return {
      outcome: completionOutcome(at, plan.originalDueAt, this.s.extendedDue ? plan.dueAt : undefined),
      completedAt: at,
    };
  }

  /** Whether the office's digest must hear that this period turned red (once per due date). */
  newlyRed(now: number): boolean {
    return this.colour(now) === 'red' && this.s.notedRedFor !== this.plan.due;
  }
  markNotedRed(): void {
    this.s.notedRedFor = this.plan.due;
  }

  // --- Notices ----------------------------------------------------------------------------------------------

  /** Records a notice as sent (or passed over, without a Message-ID). */
  handled(n: PlannedNotice, messageId?: string): void {
    this.s.handled.push(noticeKey(n));
    if (messageId) {
      // A raise sent at a catch-up beside a later notice never lowers the ladder's position (planner.sentAtCatchUp).
      if (n.stage !== 'raise' || ladderRank(n) > (this.s.lastSentRank ?? Number.NEGATIVE_INFINITY))
        this.s.lastSentRank = ladderRank(n);
      this.s.thread.push(messageId);
      this.s.lastNotice = { stage: n.stage, level: n.level, at: n.at, messageId };
    }
  }

  /** The thread's first message and its latest ones: enough for every mail client to keep the thread together. */
  threadForNext(): string[] {
    const t = this.s.thread;
    return t.length > 20 ? [t[0]!, ...t.slice(-19)] : [...t];
  }

  /** Of the notices already due, only the latest is still sent (registration, resume, a new period). */
  skipPassedButLatest(now: number): void {
    const handled = new Set(this.s.handled);
    const passed = this.plan.notices.filter((n) => n.at <= now && !handled.has(noticeKey(n)));
    for (const n of passed.slice(0, -1)) if (!sentAtCatchUp(n)) this.handled(n);
  }

  /** Resumed after a pause: the latest notice already due goes out now, meant for now (the pause, not a failure, held it). */
  resumed(now: number): void {
    this.skipPassedButLatest(now);
    this.s.caughtUpAt = now;
  }

  /** Every notice already due is passed over: after a re-plan the change takes effect from the next notice. */
  skipPassed(now: number): void {
    const handled = new Set(this.s.handled);
    for (const n of this.plan.notices) if (n.at <= now && !handled.has(noticeKey(n))) this.handled(n);
  }

  /** The period's event lost its date: it waits, sending nothing, until a date comes back. */
  suspend(): void {
    this.s.suspended = true;
  }

  /**
   * A new plan after the event's date was set, moved or restored. What was sent stays sent. Of the new ladder's
   * notices already due, only the latest is sent, and only when it is further up the ladder than the last notice
   * sent: a date moved earlier tells the unit at once; a date moved later repeats nothing.
   */
  replannedForEvent(plan: TrackerPeriodPlan, now: number): void {
    this.s.plan = plan;
    this.s.suspended = undefined;
    const handled = new Set(this.s.handled);
    const passed = plan.notices.filter((n) => n.at <= now && !handled.has(noticeKey(n)));
    const latest = passed[passed.length - 1];
    for (const n of passed.slice(0, -1)) if (!sentAtCatchUp(n)) this.handled(n);
    if (latest && this.s.lastSentRank !== undefined && ladderRank(latest) <= this.s.lastSentRank) this.handled(latest);
  }

  /** A new plan for this period (an approved extension, a changed definition); the past stays as it was. */
  replanned(plan: TrackerPeriodPlan, now: number): void {
    this.s.plan = plan;
    this.skipPassed(now);
  }

  // --- Requests: check (refuse with a reason, change nothing), then apply -----------------------------------------

  private refuse(message: string): never {
    throw new Refusal(message);
  }

  /** Requests that change the work of the period need it unsettled. */
  private checkUnsettled(): void {
    if (this.s.waived) this.refuse(`${periodWords(this.label)}已免除`);
    if (this.complete()) this.refuse(`${periodWords(this.label)}已办结`);
  }

  checkSubmit(req: SubmitRequest, obligationId: string): void {
    this.checkUnsettled();
    if (this.isQuota()) this.refuse(`${obligationId}以登记活动完成，无需报送材料`);
    if (this.isMeasured()) this.refuse(`${obligationId}以报送数据完成（duban figures），无需报送材料`);
    if (this.isPerPerson())
      this.refuse(
        `${obligationId}以逐人登记${this.rules().quotaUnit === 'hours' ? '学时' : '参加情况'}完成，无需报送材料`,
      );
    if (this.s.submittedAt !== undefined && this.s.verification !== 'returned')
      this.refuse(`${periodWords(this.label)}已报送`);
    const problem = checkEvidence(req.evidence);
    if (problem) this.refuse(problem);
  }
  applySubmit(req: SubmitRequest, now: number): PeriodEvent {
    this.s.submittedAt = now;
    if (this.s.verification === 'returned') this.s.verification = undefined;
    return { period: this.label, kind: 'submission', actor: actorName(req), data: { evidence: req.evidence } };
  }

  checkRecord(req: RecordRequest, obligationId: string, now: number): void {
    this.checkUnsettled();
    if (this.isMeasured()) this.refuse(`${obligationId}以报送数据完成（duban figures），无需登记活动`);
    if (!this.isQuota() && !this.isPerPerson()) this.refuse(`${obligationId}以报送材料完成，无需登记活动`);
    if (this.isPerPerson()) {
      const rules = this.rules();
      if (typeof req.person !== 'string' || req.person.trim() === '')
        this.refuse(`${obligationId}逐人统计：请填写人员（人员名单中的编号）`);
      if (!(rules.people ?? []).some((p) => p.id === req.person))
        this.refuse(`人员“${String(req.person).slice(0, 60)}”不在本单位人员名单中`);
      if (rules.quotaUnit === 'hours') {
        if (typeof req.hours !== 'number' || !Number.isFinite(req.hours) || req.hours <= 0 || req.hours > 24)
          this.refuse('学时须大于0且不超过24（每天的培训登记一条）');
      } else if (req.hours !== undefined) {
        this.refuse(`${obligationId}按次数统计，不填学时`);
      }
    } else if (req.person !== undefined || req.hours !== undefined) {
      this.refuse(`${obligationId}按单位统计活动，不填人员和学时`);
    }
    if (typeof req.date !== 'string' || parseDate(req.date) === undefined)
      this.refuse(`日期“${req.date}”不是有效日期，应如2027-03-18`);
    if (req.date < this.plan.periodStart || req.date > this.plan.periodEnd) {
      this.refuse(
        `日期${req.date}不在${periodWords(this.label)}内（${this.plan.periodStart}至${this.plan.periodEnd}）`,
      );
    }
    if (req.date > localDateIn(this.plan, now)) this.refuse(`日期${req.date}尚未到来`);
    const topic = checkText('主题', req.topic, true);
    if (topic) this.refuse(topic);
  }
  applyRecord(req: RecordRequest, now: number): PeriodEvent {
    if (this.isPerPerson()) {
      const before = this.completeByWork();
      const amount = this.rules().quotaUnit === 'hours' ? req.hours! : 1;
      this.s.personRecords = [...(this.s.personRecords ?? []), [req.person!, req.date, amount]];
      if (!before && this.completeByWork()) this.s.quotaReachedAt = now;
      if (this.s.verification === 'returned') this.s.verification = undefined;
      const progress = this.peopleProgress();
      return {
        period: this.label,
        kind: 'quota_event',
        actor: actorName(req),
        data: {
          date: req.date,
          topic: req.topic,
          person: req.person,
          amount,
          personTotal: this.personTotals().get(req.person!),
          quota: this.rules().quota,
          reached: progress.reached,
          people: progress.total,
        },
      };
    }
    this.s.quotaDates.push(req.date);
    const quota = this.rules().quota;
    if (this.s.quotaDates.length === quota) this.s.quotaReachedAt = now;
    if (this.s.verification === 'returned') this.s.verification = undefined;
    return {
      period: this.label,
      kind: 'quota_event',
      actor: actorName(req),
      data: { date: req.date, topic: req.topic, count: this.s.quotaDates.length, quota },
    };
  }

  checkReport(req: ReportRequest, obligationId: string): void {
    this.checkUnsettled();
    const rules = this.rules();
    if (!this.isMeasured())
      this.refuse(
        `${obligationId}以${this.isQuota() || this.isPerPerson() ? '登记活动' : '报送材料'}完成，无需报送数据`,
      );
    if (this.completeByWork() && this.s.verification !== 'returned')
      this.refuse(`${periodWords(this.label)}已报送达标数据，待核实`);
    const whole = (label: string, v: unknown) => {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_FIGURE)
        this.refuse(`${label}须为0至${MAX_FIGURE}之间的整数`);
    };
    if (rules.completion === 'rate') {
      if (req.count !== undefined) this.refuse(`${obligationId}为比率指标：请填写分子和分母，不填数量`);
      whole('分子', req.numerator);
      whole('分母', req.denominator);
      if (req.numerator! > req.denominator!) this.refuse(`分子${req.numerator}大于分母${req.denominator}`);
    } else {
      if (req.numerator !== undefined || req.denominator !== undefined)
        this.refuse(`${obligationId}为数量指标：请填写数量，不填分子和分母`);
      whole('数量', req.count);
    }
    const note = checkText('说明', req.note, false);
    if (note) this.refuse(note);
    const evidence = checkEvidence(req.evidence, false);
    if (evidence) this.refuse(evidence);
  }
  applyReport(req: ReportRequest, now: number): PeriodEvent {
    const rules = this.rules();
    const rate = rules.completion === 'rate';
    const value = rate ? ratePercent(req.numerator!, req.denominator!) : req.count!;
    // A percentage is compared as reported: 9/10 is 90 and meets "不低于90%" exactly.
    const meets = rate ? req.numerator! * 100 >= rules.threshold! * req.denominator! : value >= rules.threshold!;
    const figures: ReportedFigures = {
      ...(rate ? { numerator: req.numerator, denominator: req.denominator } : { count: req.count }),
      value,
      meets,
      by: actorName(req),
      at: now,
    };
    this.s.report = figures;
    if (this.s.verification === 'returned') this.s.verification = undefined;
    return {
      period: this.label,
      kind: 'report',
      actor: actorName(req),
      data: {
        ...figures,
        by: undefined,
        at: undefined,
        threshold: rules.threshold,
        note: req.note,
        evidence: req.evidence,
      },
    };
  }

  checkVerify(req: VerifyRequest, obligationId: string): void {
    this.checkUnsettled();
    if (!this.rules().verification) this.refuse(`${obligationId}无需核实`);
    if (!this.completeByWork() || this.s.verification === 'returned')
      this.refuse(`${periodWords(this.label)}尚无已报送的材料，无可核实`);
    if (req.decision === 'accept') {
      if (!RATINGS.includes(req.rating as Rating)) this.refuse(`核实通过须评定等次：${RATINGS.join('、')}之一`);
    } else if (req.decision === 'return') {
      const reason = checkText('退回理由', req.reason, true);
      if (reason) this.refuse(reason);
    } else {
      this.refuse('核实结论须为“通过”（accept）或“退回”（return）');
    }
  }
  applyVerify(req: VerifyRequest): PeriodEvent {
    const accepted = req.decision === 'accept';
    this.s.verification = accepted ? 'accepted' : 'returned';
    this.s.rating = accepted ? req.rating : undefined;
    // Returned per-person records are kept (they are people's training hours); new records make it whole again.
    if (!accepted && this.isQuota()) {
      this.s.quotaDates = [];
      this.s.quotaReachedAt = undefined;
    }
    return {
      period: this.label,
      kind: accepted ? 'verification_accepted' : 'verification_returned',
      actor: actorName(req),
      data: { rating: req.rating, reason: req.reason },
    };
  }

  checkRequestExtension(req: ExtensionRequest, now: number): void {
    this.checkUnsettled();
    if (this.workDone()) this.refuse(`${periodWords(this.label)}已报送，无需延期`);
    if (now > this.plan.dueAt) this.refuse(`已过截止时间：延期须在截止前（${this.plan.due} 23:59:59）申请`);
    if (this.s.pendingExtension) this.refuse(`延期至${this.s.pendingExtension.newDue}的申请正待审批`);
    if (typeof req.newDue !== 'string' || parseDate(req.newDue) === undefined)
      this.refuse(`新截止日期“${req.newDue}”不是有效日期，应如2027-03-31`);
    if (req.newDue <= this.plan.due) this.refuse(`新截止日期${req.newDue}不晚于现截止日期${this.plan.due}`);
    if (req.newDue > this.plan.lastExtensionDue) {
      this.refuse(
        `新截止日期${req.newDue}过晚：${periodWords(this.label)}最多延期至${this.plan.lastExtensionDue}（下一期截止之前）`,
      );
    }
    const reason = checkText('延期理由', req.reason, true);
    if (reason) this.refuse(reason);
  }
  applyRequestExtension(req: ExtensionRequest): PeriodEvent {
    this.s.pendingExtension = { newDue: req.newDue, reason: req.reason, by: actorName(req) };
    return {
      period: this.label,
      kind: 'extension_requested',
      actor: actorName(req),
      data: { newDue: req.newDue, reason: req.reason },
    };
  }

  checkDecideExtension(req: ExtensionDecision): void {
    this.checkUnsettled();
    if (!this.s.pendingExtension) this.refuse(`${periodWords(this.label)}没有待审批的延期申请`);
    if (typeof req.approve !== 'boolean') this.refuse('审批结论须为批准（true）或驳回（false）');
    if (req.reason !== undefined) {
      const reason = checkText('理由', req.reason, false);
      if (reason) this.refuse(reason);
    }
  }
  /** Returns whether the period must be re-planned (an approved extension moves the ladder). */
  applyDecideExtension(req: ExtensionDecision): { event: PeriodEvent; replan: boolean } {
    const asked = this.s.pendingExtension!;
    this.s.pendingExtension = undefined;
    if (req.approve) this.s.extendedDue = asked.newDue;
    return {
      event: {
        period: this.label,
        kind: req.approve ? 'extension_approved' : 'extension_rejected',
        actor: actorName(req),
        data: { newDue: asked.newDue, reason: req.reason },
      },
      replan: req.approve,
    };
  }

  checkWaive(req: ReasonRequest): void {
    this.checkUnsettled();
    const reason = checkText('免除理由', req.reason, true);
    if (reason) this.refuse(reason);
  }
  applyWaive(req: ReasonRequest): PeriodEvent {
    this.s.waived = true;
    return { period: this.label, kind: 'waived', actor: actorName(req), data: { reason: req.reason } };
  }

  checkAcknowledge(_req: AcknowledgeRequest, as?: Cooperating): void {
    this.checkUnsettled();
    if (as) {
      const done = this.s.cooperatorAcks?.[as.id];
      if (done) this.refuse(`${periodWords(this.label)}已由协办单位${as.name}的${done.by}签收`);
      return;
    }
    if (this.s.acknowledged) this.refuse(`${periodWords(this.label)}已由${this.s.acknowledged.by}签收`);
  }
  /** 签收, by the lead unit, or (as) by a cooperating unit (协办): recorded with that unit. */
  applyAcknowledge(req: AcknowledgeRequest, now: number, as?: Cooperating): PeriodEvent {
    if (as) {
      this.s.cooperatorAcks = { ...this.s.cooperatorAcks, [as.id]: { by: actorName(req), at: now } };
      return {
        period: this.label,
        kind: 'acknowledged',
        actor: actorName(req),
        data: { unit: as.id, unitName: as.name, cooperator: true },
      };
    }
    this.s.acknowledged = { by: actorName(req), at: now };
    return { period: this.label, kind: 'acknowledged', actor: actorName(req) };
  }

  checkProgress(req: ProgressRequest): void {
    this.checkUnsettled();
    const note = checkText('进展情况', req.note, true);
    if (note) this.refuse(note);
    const evidence = checkEvidence(req.evidence, false);
    if (evidence) this.refuse(evidence);
  }
  /** 反馈进展, by the lead unit, or (as) by a cooperating unit (协办): the note names that unit. */
  applyProgress(req: ProgressRequest, now: number, as?: Cooperating): PeriodEvent {
    const entry = { by: actorName(req), at: now, note: req.note, ...(as ? { unit: as.id, unitName: as.name } : {}) };
    this.s.progress = [...this.s.progress, entry].slice(-PROGRESS_KEPT);
    this.s.progressCount++;
    if (as)
      this.s.cooperatorProgress = {
        ...this.s.cooperatorProgress,
        [as.id]: (this.s.cooperatorProgress?.[as.id] ?? 0) + 1,
      };
    return {
      period: this.label,
      kind: 'progress',
      actor: actorName(req),
      data: {
        note: req.note,
        evidence: req.evidence,
        ...(as ? { unit: as.id, unitName: as.name, cooperator: true } : {}),
      },
    };
  }

  /**
   * 催办: the supervising office urges the unit at once about an overdue (red) period. One a working day per
   * period: the next may be sent from the start of the next working day after the last (planner.nextUrgeAt).
   */
  checkUrge(req: UrgeRequest, now: number): void {
    if (this.s.waived) this.refuse(`${this.named}已免除，无需催办`);
    if (this.complete()) this.refuse(`${this.named}已办结，无需催办`);
    if (this.workDone()) this.refuse(`${this.named}已报送，无需催办`);
    if (this.colour(now) !== 'red')
      this.refuse(`${this.named}尚未逾期（截止${this.plan.due}），只有逾期未完成（红色）的任务可以催办`);
    if (this.s.urge) this.refuse(`${this.named}的催办正在发送（${this.s.urge.by}），请稍候`);
    if (this.s.lastUrge && now < this.s.lastUrge.nextFrom)
      this.refuse(
        `${this.named}已于${localDateIn(this.plan, this.s.lastUrge.at)}由${this.s.lastUrge.by}催办过，每个工作日最多催办一次；${localDateIn(this.plan, this.s.lastUrge.nextFrom)}起可再次催办`,
      );
    if (req.note !== undefined) {
      // The same rules as every text of a request (checkText), said in Chinese for the office.
      if (typeof req.note !== 'string') this.refuse('催办意见须为文字');
      if (req.note.length > MAX_TEXT) this.refuse(`催办意见超过${MAX_TEXT}字，请精简`);
      if (checkText('note', req.note, false)) this.refuse('催办意见不能为空白，也不能含有控制字符');
    }
  }
  applyUrge(req: UrgeRequest, now: number): PeriodEvent {
    this.s.urge = { at: now, by: actorName(req), ...(req.note ? { note: req.note } : {}) };
    return { period: this.label, kind: 'urged', actor: actorName(req), data: { note: req.note } };
  }
  /** The accepted 催办 went out (or was passed over: the work came in meanwhile); the next from `nextFrom`. */
  urged(messageId: string | undefined, nextFrom: number | undefined): void {
    const u = this.s.urge;
    if (!u) return;
    this.s.urge = undefined;
    if (messageId) {
      this.s.thread.push(messageId);
      this.s.lastUrge = { at: u.at, by: u.by, nextFrom: nextFrom ?? u.at + 86_400_000 };
    }
  }

  // --- 退回 and 转办 (DOMAIN.md 27) -------------------------------------------------------------------------------

  private checkMovable(): void {
    if (this.s.waived) this.refuse(`${this.named}已免除，不能退回或转办`);
    if (this.complete()) this.refuse(`${this.named}已办结，不能退回或转办`);
    if (this.workDone()) this.refuse(`${this.named}已报送，不能退回或转办`);
  }
  checkHandBack(req: HandBackRequest): void {
    this.checkMovable();
    if (this.s.handBack)
      this.refuse(
        `${this.named}已于${localDateIn(this.plan, this.s.handBack.at)}由${this.s.handBack.by}退回，等待督察单位处理`,
      );
    if (typeof req.reason !== 'string' || checkText('reason', req.reason, true))
      this.refuse('请填写退回理由（不能为空白，也不能含有控制字符）');
    if (req.reason.length > MAX_TEXT) this.refuse(`退回理由超过${MAX_TEXT}字，请精简`);
  }
  applyHandBack(req: HandBackRequest, now: number): PeriodEvent {
    this.s.handBack = { by: actorName(req), at: now, reason: req.reason };
    return { period: this.label, kind: 'handed_back', actor: actorName(req), data: { reason: req.reason } };
  }
  checkRefuseHandBack(req: ReasonRequest): void {
    if (!this.s.handBack) this.refuse(`${this.named}没有待处理的退回`);
    if (typeof req.reason !== 'string' || checkText('reason', req.reason, true))
      this.refuse('请填写不同意退回的理由（不能为空白，也不能含有控制字符）');
    if (req.reason.length > MAX_TEXT) this.refuse(`理由超过${MAX_TEXT}字，请精简`);
  }
  applyRefuseHandBack(req: ReasonRequest): PeriodEvent {
    const handBack = this.s.handBack;
    this.s.handBack = undefined;
    return {
      period: this.label,
      kind: 'hand_back_refused',
      actor: actorName(req),
      data: { reason: req.reason, handedBackBy: handBack?.by },
    };
  }
  checkTransfer(req: TransferRequest, own: { obligation: string; unit: string }): void {
    this.checkMovable();
    if (typeof req.to !== 'string' || req.to === '') this.refuse('请选择转办的目标单位');
    if (req.to === own.unit) this.refuse('不能转办给本单位');
    const t = req.target;
    if (!t || typeof t !== 'object' || t.unit?.id !== req.to || t.obligation?.id !== own.obligation)
      this.refuse(`转办目标须为单位${req.to}的同一任务（${own.obligation}）`);
    if (typeof req.reason !== 'string' || checkText('reason', req.reason, true))
      this.refuse('请填写转办理由（不能为空白，也不能含有控制字符）');
    if (req.reason.length > MAX_TEXT) this.refuse(`转办理由超过${MAX_TEXT}字，请精简`);
  }
  applyTransfer(req: TransferRequest, now: number): PeriodEvent {
    this.s.moving = {
      to: req.to,
      targetTrackerId: req.target.trackerId,
      reason: req.reason,
      by: actorName(req),
      at: now,
    };
    this.s.urge = undefined;
    return {
      period: this.label,
      kind: 'transfer_started',
      actor: actorName(req),
      data: { to: req.to, toName: req.target.unit.name, reason: req.reason, handedBackBy: this.s.handBack?.by },
    };
  }

  /**
   * A period moved here from another unit's tracker, planned anew for this tracker's unit. What the unit did
   * (签收, 反馈, the thread of messages) comes along; the ladder carries its position: every notice up to the last
   * one sent there is passed over here, and of the rest already due only the latest goes out (as at a re-plan).
   */
  static arrived(
    moved: PeriodSnapshot,
    plan: TrackerPeriodPlan,
    rules: () => CompletionRules,
    now: number,
    from: NonNullable<PeriodSnapshot['movedFrom']>,
  ): PeriodState {
    const p = new PeriodState(
      {
        ...moved,
        plan,
        handled: [],
        handBack: undefined,
        moving: undefined,
        urge: undefined,
        notedRedFor: undefined,
        movedFrom: from,
      },
      rules,
    );
    p.passOverSent(now);
    return p;
  }

  /** The same period held here and moved here again: what was sent there counts here too. */
  merged(moved: PeriodSnapshot, now: number): void {
    if (moved.lastSentRank !== undefined)
      this.s.lastSentRank = Math.max(this.s.lastSentRank ?? Number.NEGATIVE_INFINITY, moved.lastSentRank);
    if (!this.s.acknowledged && moved.acknowledged) this.s.acknowledged = moved.acknowledged;
    if (moved.cooperatorAcks) this.s.cooperatorAcks = { ...moved.cooperatorAcks, ...this.s.cooperatorAcks };
    if (!this.s.raised && moved.raised) this.s.raised = moved.raised;
    if (!this.s.lastNotice && moved.lastNotice) this.s.lastNotice = moved.lastNotice;
    if (this.s.progressCount === 0 && moved.progressCount > 0) {
      this.s.progress = moved.progress;
      this.s.progressCount = moved.progressCount;
    }
    this.s.thread = [...new Set([...moved.thread, ...this.s.thread])];
    this.passOverSent(now);
  }

  private passOverSent(now: number): void {
    const rank = this.s.lastSentRank;
    const handled = new Set(this.s.handled);
    const open = this.plan.notices.filter((n) => !handled.has(noticeKey(n)));
    for (const n of open) if (rank !== undefined && ladderRank(n) <= rank) this.handled(n);
    this.skipPassedButLatest(now);
  }

  // --- 协办 and 提级督办 (DOMAIN.md 28, 26) ---------------------------------------------------------------------

  /** Each cooperating unit with its 签收 and how many progress notes it reported. */
  cooperatorStatus(cooperators: readonly Cooperating[]): CooperatorStatus[] {
    return cooperators.map((c) => {
      const ack = this.s.cooperatorAcks?.[c.id];
      return {
        unit: c.id,
        name: c.name,
        ...(ack ? { acknowledged: ack } : {}),
        progressCount: this.s.cooperatorProgress?.[c.id] ?? 0,
      };
    });
  }

  /** The raise went out: recorded once, so that no later plan of the period sends another. */
  markRaised(n: PlannedNotice, office: Cooperating): void {
    this.s.raised ??= { at: n.at, office: office.id, officeName: office.name };
  }

  // --- Status -----------------------------------------------------------------------------------------------

  /** The period's status; `cooperators` are the tracker's cooperating units (协办), listed with their 签收. */
  status(now: number, paused: boolean, cooperators: readonly Cooperating[] = []): PeriodStatus {
    const next = paused || this.workDone() || this.s.waived ? undefined : this.nextNotice();
    const rules = this.rules();
    return {
      period: this.label,
      due: this.plan.due,
      originalDue: this.plan.originalDue,
      dueAt: this.plan.dueAt,
      endsAt: this.plan.endsAt,
      colour: this.colour(now),
      recorded: this.s.quotaDates.length,
      submitted: this.s.submittedAt !== undefined,
      verification: !rules.verification
        ? 'not required'
        : (this.s.verification ?? (this.completeByWork() ? 'pending' : 'not submitted')),
      rating: this.s.rating,
      pendingExtension: this.s.pendingExtension,
      acknowledged: this.s.acknowledged,
      ...(this.s.report ? { report: this.s.report } : {}),
      ...(this.isPerPerson() ? { people: this.peopleProgress() } : {}),
      progress: this.s.progress,
      progressCount: this.s.progressCount,
      lastNotice: this.s.lastNotice,
      nextNotice: next && { stage: next.stage, level: next.level, at: next.at },
      ...(this.s.lastUrge ? { lastUrge: this.s.lastUrge } : {}),
      ...(this.s.handBack ? { handBack: this.s.handBack } : {}),
      ...(this.s.moving ? { movingTo: this.s.moving.to } : {}),
      ...(this.s.movedFrom
        ? { movedFrom: { unit: this.s.movedFrom.unit, unitName: this.s.movedFrom.unitName, at: this.s.movedFrom.at } }
        : {}),
      ...(cooperators.length ? { cooperators: this.cooperatorStatus(cooperators) } : {}),
      ...(this.s.raised ? { raised: this.s.raised } : {}),
      provisionalYears: this.plan.provisionalYears,
    };
  }
}
