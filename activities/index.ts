/**
 * Activities: all of duban's I/O. Created once per worker with its dependencies (ledger, SMTP transport,
 * calendar), so tests can run them against their own real SMTP server and database.
 *
 * Exactly-once in effect: every notice has a send key (noticeKey) recorded in the ledger before the SMTP
 * conversation. A retry, a crashed worker or a replay finds the key and does not send again; a failure leaves
 * the key unfinished and the activity is retried. The one window no SMTP client can close is a crash after the
 * server accepted the message and before the ledger row is finished: the retry then sends the message again,
 * always with the same Message-ID, so mail systems and people can recognise the repeat (docs/engine.md).
 */
import { log } from '@temporalio/activity';
import { createHash } from 'node:crypto';
import type { Transporter } from 'nodemailer';
import type Mail from 'nodemailer/lib/mailer';
import type { WorkingCalendar } from '../domain/calendar';
import { civil, formatDate, parseDate } from '../domain/dates';
import { nextPeriod, parsePeriod } from '../domain/periods';
import { PlannedNotice, firstPeriodNotYetDue, noticeKey, planPeriod } from '../domain/planner';
import type { TrackerDefinition } from '../domain/trackers';
import { localDay, zonedInstant } from '../domain/zone';
import { classifySmtpError } from './email';
import type { Ledger, LedgerEvent, NoticeClaimResult, NoticeRow, OutcomeRecord, RedItem, TrackerState } from './ledger/ledger';
import { oneLine, renderDigest, renderNotice, renderUndeliverable, supervisionNumberText } from './templates';

export interface PeriodPlanData {
  period: string;
  /** First and last day of the period (YYYY-MM-DD); a one-off spans everything. */
  periodStart: string;
  periodEnd: string;
  due: string;
  originalDue: string;
  dueAt: number;
  originalDueAt: number;
  /** The board turns yellow 3 working days before due (DOMAIN.md 11). */
  yellowAt: number;
  opensAt: number;
  closesAt: number | null;
  nextPeriod: string | null;
  notices: PlannedNotice[];
  provisionalYears: number[];
  /** Whether offices hear of level 1 in the daily digest (the deployment runs it) rather than by copy. */
  digest: boolean;
}

export interface PlanRequest {
  definition: TrackerDefinition;
  /** Absent on registration: the first period not yet due at `now`. */
  period?: string;
  extendedDue?: string;
  /** The workflow's clock, so the answer does not depend on when the activity happens to run. */
  now: number;
}

export interface DeliveryRequest {
  definition: TrackerDefinition;
  notice: PlannedNotice;
  period: { label: string; due: string; originalDue: string; dueAt: number };
  /** The workflow time at which the notice fired: the Date header, and the ledger's record of punctuality. */
  firedAt: number;
  /** Message-IDs of the period's earlier notices, oldest first: the thread. */
  thread: string[];
  progress: { recorded: number; quota: number };
}

export interface DeliveryResult {
  messageId: string;
  status: 'sent' | 'rejected' | 'already-sent' | 'already-rejected';
  rejected: string[];
  supervisionNumber?: string;
}

export interface Sender {
  name: string;
  address: string;
}

export interface ActivityDeps {
  ledger: Ledger;
  transport: Transporter;
  from: Sender;
  calendar: WorkingCalendar;
  /** Whether this deployment runs the supervisor digest (DUBAN_DIGEST); default true. */
  digest?: boolean;
}

export function messageIdFor(key: string, from: Sender): string {
  const domain = from.address.split('@')[1] ?? 'duban.invalid';
  return `<duban.${createHash('sha256').update(key).digest('hex').slice(0, 32)}@${domain}>`;
}

/**
 * The ledger's answer to a claim: the finished row when the notice was already sent (send nothing), undefined
 * when this attempt sends. When another attempt holds the notice, this one fails and is retried after its
 * backoff, by which time the other has finished or its lease has run out.
 */
function claimed(result: NoticeClaimResult, key: string): NoticeRow | undefined {
  if (result.state === 'done') return result.row;
  if (result.state === 'in-flight') throw new Error(`notice ${key} is being sent by another attempt until ${new Date(result.until).toISOString()}; will retry`);
  return undefined;
}

export function createActivities(deps: ActivityDeps) {
  const { ledger, transport, from, calendar } = deps;
  const fromHeader = { name: from.name, address: from.address };

  interface SendOutcome {
    status: 'sent' | 'rejected';
    accepted: string[];
    rejected: string[];
    response: string;
  }

  /**
   * Sends a message whose send key this attempt has claimed, and records the result. A transient failure gives
   * the claim back and is thrown, for Temporal to retry; a permanent one is recorded as rejected and returned.
   */
  async function sendClaimed(sendKey: string, message: Mail.Options & { to: string[]; cc: string[]; subject: string }): Promise<SendOutcome> {
    let outcome: SendOutcome;
    try {
      const info = await transport.sendMail({ ...message, headers: { ...(message.headers as Record<string, string> | undefined), 'X-Duban-Key': sendKey } });
      const accepted = (info.accepted ?? []).map(String);
      outcome = { status: accepted.length > 0 ? 'sent' : 'rejected', accepted, rejected: (info.rejected ?? []).map(String), response: String(info.response ?? '') };
    } catch (err) {
      const f = classifySmtpError(err);
      if (!f.permanent) {
        log.warn('message not sent yet, will retry', { sendKey, reason: f.reason });
        await ledger.releaseNotice(sendKey);
        throw err;
      }
      outcome = { status: 'rejected', accepted: [], rejected: f.rejected.length ? f.rejected : [...message.to, ...message.cc], response: f.reason };
    }
    await ledger.finishNotice(sendKey, { ...outcome, subject: message.subject });
    return outcome;
  }

  async function reportUndeliverable(req: DeliveryRequest, key: string, subject: string, rejected: string[], reason: string): Promise<void> {
    const t = req.definition;
    const sendKey = `${key}/undeliverable`;
    const messageId = messageIdFor(sendKey, from);
    const to = [t.supervisor.liaison.email];
    const cc = [t.supervisor.head.email].filter((a) => !to.includes(a));
    const existing = claimed(await ledger.beginNotice({
      sendKey,
      trackerId: t.trackerId,
      obligation: t.obligation.id,
      unit: t.unit.id,
      period: req.period.label,
      stage: 'undeliverable',
      level: req.notice.level,
      step: req.notice.step,
      plannedAt: req.notice.at,
      firedAt: req.firedAt,
      due: req.period.due,
      messageId,
      to,
      cc,
    }), sendKey);
    if (existing) return;
    const sentOn = formatDate(localDay(req.firedAt, t.timeZone));
    const r = renderUndeliverable({ definition: t, period: req.period.label, subject, rejected, reason, sentOn });
    const sent = await sendClaimed(sendKey, { from: fromHeader, to, cc, subject: r.subject, text: r.text, html: r.html, messageId, date: new Date(req.firedAt) });
    // A report that bounced itself is recorded, and not reported again (that could only loop).
    if (sent.status === 'rejected') log.error('undeliverable report rejected', { sendKey, reason: sent.response });
  }

  return {
    /** Local activity: the plan of one period, with every instant computed in explicit time zones. */
    async planTrackerPeriod(req: PlanRequest): Promise<PeriodPlanData> {
      const t = req.definition;
      const period = req.period === undefined ? firstPeriodNotYetDue(t, calendar, req.now) : parsePeriod(t.obligation.period, req.period);
      if (!period) throw new Error(`"${req.period}" is not a ${t.obligation.period} period`);
      const extendedDue = req.extendedDue === undefined ? undefined : parseDate(req.extendedDue);
      const digest = deps.digest !== false;
      const plan = planPeriod(t, period, calendar, { extendedDue, digest });
      const next = nextPeriod(period);
      return {
        period: period.label,
        periodStart: period.kind === 'once' ? '0000-01-01' : formatDate(period.start),
        periodEnd: period.kind === 'once' ? '9999-12-31' : formatDate(period.end),
        due: formatDate(plan.due),
        originalDue: formatDate(plan.originalDue),
        dueAt: plan.dueAt,
        originalDueAt: zonedInstant(plan.originalDue, t.timeZone, 23, 59, 59),
        // Counted like the reminders: back from the due day, itself moved to a working day.
        yellowAt: zonedInstant(calendar.addWorkingDays(calendar.onOrBefore(plan.due), -3), t.timeZone, 0),
        opensAt: plan.opensAt,
        closesAt: plan.closesAt ?? null,
        nextPeriod: next ? next.label : null,
        notices: plan.notices,
        provisionalYears: plan.provisionalYears,
        digest,
      };
    },

    async deliverNotice(req: DeliveryRequest): Promise<DeliveryResult> {
      const t = req.definition;
      const n = req.notice;
      const key = noticeKey(n);
      const messageId = messageIdFor(key, from);
      const existing = claimed(await ledger.beginNotice({
        sendKey: key,
        trackerId: t.trackerId,
        obligation: t.obligation.id,
        unit: t.unit.id,
        period: req.period.label,
        stage: n.stage,
        level: n.level,
        step: n.step,
        plannedAt: n.at,
        firedAt: req.firedAt,
        due: req.period.due,
        messageId,
        to: n.to,
        cc: n.cc,
      }), key);
      if (existing) {
        const rejected: string[] = existing.rejected ? JSON.parse(existing.rejected) : [];
        // A retry after the report step failed must still report.
        if (rejected.length) await reportUndeliverable(req, key, existing.subject ?? '', rejected, existing.response ?? '');
        log.info('notice already delivered', { key, messageId, status: existing.status });
        return { messageId, status: existing.status === 'rejected' ? 'already-rejected' : 'already-sent', rejected };
      }

      const sentOn = formatDate(localDay(req.firedAt, t.timeZone));
      let supervisionNumber: string | undefined;
      if (n.stage === 'escalation' && n.level === 2) {
        const year = civil(parseDate(sentOn)!).year;
        supervisionNumber = supervisionNumberText(year, await ledger.supervisionNumber(key, t.supervisor.id, year));
      }
      const r = renderNotice({ definition: t, notice: n, period: req.period, sentOn, progress: req.progress, supervisionNumber });
      const thread = req.thread.filter((id) => id !== messageId);
      const message = {
        from: n.stage === 'escalation' ? { name: `${oneLine(t.supervisor.name)}（${from.name}）`, address: from.address } : fromHeader,
        replyTo: { name: oneLine(t.supervisor.liaison.name), address: t.supervisor.liaison.email },
        to: n.to,
        cc: n.cc,
        subject: r.subject,
        text: r.text,
        html: r.html,
        messageId,
        date: new Date(req.firedAt),
        inReplyTo: thread[thread.length - 1],
        references: thread.length ? thread : undefined,
      };

      const { status, rejected, response } = await sendClaimed(key, message);
      log.info('notice delivered', { key, messageId, status, rejected: rejected.length });
      if (rejected.length) await reportUndeliverable(req, key, r.subject, rejected, response);
      return { messageId, status, rejected, supervisionNumber };
    },

    /** Notes that a tracker turned red, for its office's next daily digest. */
    async noteTurnedRed(item: RedItem): Promise<void> {
      await ledger.noteRed(item);
    },

    /** Local activity: the next digest instant, the notice hour of the next working day after `now`. */
    async nextDigestAt(req: { now: number; timeZone: string; hour: number }): Promise<{ at: number; day: string }> {
      let day = localDay(req.now, req.timeZone);
      if (zonedInstant(day, req.timeZone, req.hour) <= req.now || !calendar.isWorkingDay(day)) day = calendar.addWorkingDays(day, 1);
      return { at: zonedInstant(day, req.timeZone, req.hour), day: formatDate(day) };
    },

    /**
     * One digest per supervising office with items that newly turned red, at most one a working day: the send key
     * names the office and the day, so a retry or a replay sends nothing twice.
     */
    async sendDigests(req: { day: string; firedAt: number }): Promise<{ office: string; items: number; messageId: string }[]> {
      const sent: { office: string; items: number; messageId: string }[] = [];
      for (const office of await ledger.officesForDigest(req.day, req.firedAt)) {
        const sendKey = `digest/${office}/${req.day}`;
        const items = await ledger.takeRedItems(office, sendKey, req.firedAt);
        if (items.length === 0) continue;
        const first = items[0]!;
        const to: string[] = JSON.parse(first.office_to);
        const cc: string[] = JSON.parse(first.office_cc);
        const messageId = messageIdFor(sendKey, from);
        const existing = claimed(await ledger.beginNotice({
          sendKey,
          trackerId: `digest/${office}`,
          obligation: '',
          unit: office,
          period: req.day,
          stage: 'digest',
          level: 0,
          step: 0,
          plannedAt: req.firedAt,
          firedAt: req.firedAt,
          due: req.day,
          messageId,
          to,
          cc,
        }), sendKey);
        if (existing) continue;
        const r = renderDigest({
          officeName: first.office_name,
          day: req.day,
          items: items.map((i) => ({ unitName: i.unit_name, obligationTitle: i.obligation_title, period: i.period, due: i.due })),
        });
        const delivered = await sendClaimed(sendKey, { from: fromHeader, to, cc, subject: r.subject, text: r.text, html: r.html, messageId, date: new Date(req.firedAt) });
        log.info('digest delivered', { sendKey, items: items.length, status: delivered.status });
        sent.push({ office, items: items.length, messageId });
      }
      return sent;
    },

    async saveTrackerState(state: TrackerState): Promise<void> {
      await ledger.saveTrackerState(state);
    },

    async recordEvents(events: LedgerEvent[]): Promise<void> {
      await ledger.recordEvents(events);
    },

    async recordOutcome(outcome: OutcomeRecord): Promise<void> {
      await ledger.recordOutcome(outcome);
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
