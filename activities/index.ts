/**
 * Activities: all of duban's I/O. Created once per worker with its dependencies (ledger, SMTP transport,
 * calendar), so tests can run them against their own real SMTP server and database.
 *
 * Exactly-once in effect: every notice has a send key (noticeKey) claimed in the ledger before the SMTP
 * conversation, under a lease the attempt renews while it talks to the server (delivery.ts). A retry, a crashed
 * worker or a replay finds the key and does not send again. The one window no SMTP client can close is a crash
 * after the server accepted the message and before the ledger row is finished: the retry then sends the message
 * again, always with the same Message-ID, so mail systems and people can recognise the repeat (docs/engine.md).
 * With signed links, each recipient gets a copy of their own holding only their links, claimed per (notice,
 * recipient) under its own send key, so exactly once per recipient too (issue 19.5).
 */
import { Context, log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { createHash } from 'node:crypto';
import type { Transporter } from 'nodemailer';
import type Mail from 'nodemailer/lib/mailer';
import type { WorkingCalendar } from '../domain/calendar';
import { civil, formatDate, parseDate } from '../domain/dates';
import {
  PlannedNotice,
  PlanningError,
  localDateIn,
  nextUrgeAt,
  nextWorkingInstant,
  noticeKey,
  trackerPeriodPlan,
} from '../domain/planner';
import type { PeopleProgress } from '../domain/requests';
import { StoredPlan, packPlan } from '../domain/plan-packing';
import { StandIn, routeToStandIns, standInDay } from '../domain/stand-ins';
import type { TrackerDefinition } from '../domain/trackers';
import { formatLocal, localDay, zonedInstant } from '../domain/zone';
import { AttemptContext, ConnectionSlots, RetryLater, sendOnce, UnrecordedResults } from './delivery';
import { LinkKey, signLink } from '../channels/links';
import { actionLabel, linkActionsFor } from '../domain/actions';
import type { Ledger, LedgerWrite, NoticeClaim, NoticeRow, NoticeStage } from '../ledger';
import { pingHeartbeat } from './metrics';
import { latestSnapshot } from '../access/registered';
import { ChannelRequest, channelRows, webhookEventRows } from './channels';
import {
  RecipientLinks,
  oneLine,
  renderDigest,
  renderNotice,
  renderUndeliverable,
  supervisionNumberText,
} from '../channels/email/templates';

export type { LedgerWrite, RedItem } from '../ledger';

export interface PlanRequest {
  definition: TrackerDefinition;
  /** Absent on registration: the first period not yet due at `now`. */
  period?: string;
  extendedDue?: string;
  /** The workflow's clock, so the answer does not depend on when the activity happens to run. */
  now: number;
  /** The tracker's first period, started with a catch-up: the plan says how it catches up (planner.catchUpOnStart). */
  catchUp?: boolean;
}

export interface DeliveryRequest {
  definition: TrackerDefinition;
  notice: PlannedNotice;
  period: { label: string; due: string; originalDue: string; dueAt: number; endsAt?: number };
  /** The workflow time at which the notice fired: the ledger's record of punctuality. */
  firedAt: number;
  /** When the period's next notice falls due: a notice not sent by then is superseded, not sent late. */
  overtakenAt?: number | null;
  /**
   * When the notice was meant to go out: its planned instant, or the catch-up's for one planned before the tracker
   * started its period (domain: PeriodState.meantAt). Only a send more than an hour after it says it was delayed.
   */
  meantAt?: number;
  /** A 催办: who in the supervising office sent it, and their note. */
  urge?: { by: string; note?: string };
  /** Message-IDs of the period's earlier notices, oldest first: the thread. */
  thread: string[];
  progress: { recorded: number; quota: number; people?: PeopleProgress };
  /** What the tracker tells the ledger at this step (events, board rows), written before sending. */
  write?: LedgerWrite;
}

export interface DeliveryResult {
  messageId: string;
  status: 'sent' | 'rejected' | 'already-sent' | 'already-rejected' | 'superseded';
  rejected: string[];
  supervisionNumber?: string;
  /** A 催办: from when the office may send the period's next one (the start of the next working day). */
  nextUrgeFrom?: number;
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
  /** The SMTP pool's connections; an attempt sends only while it holds one (default 5). */
  connections?: number;
  /** How long a notice's claim lasts unless renewed (DUBAN_SEND_LEASE_SECONDS; default 30 s, activities/delivery.ts). */
  sendLeaseMs?: number;
  /** DUBAN_HEARTBEAT_URL: pinged after every digest run (a dead-man's switch); a secret, never logged. */
  heartbeatUrl?: string;
  /** Signed action links in notices (DOMAIN.md 22): the keys (secrets, from settings), the web's address, the grace. */
  links?: { keys: LinkKey[]; baseUrl: string; graceMs: number };
  /** The web service's address when the deployment has one: notices without links say to sign in there. */
  webUrl?: string;
  /** Called when a step added rows for the channels beside email (the worker's dispatcher wakes). */
  onChannelRows?: () => void;
}

/**
 * Each recipient's links (DOMAIN.md 21-22): the unit's head, liaison and deputies may acknowledge, report progress,
 * submit (or record, for a quota) and, before due, ask for more time; everyone else (the supervising office, the
 * lead unit, leadership) gets a link to view the tracker. Valid until the period's ladder ends, plus the grace.
 */
export function recipientLinks(
  t: TrackerDefinition,
  recipients: string[],
  period: { label: string; dueAt: number; endsAt: number },
  now: number,
  cfg: NonNullable<ActivityDeps['links']>,
  /** 代办: the stand-ins among the recipients, by address, with whom they stand in for. */
  behalf: ReadonlyMap<string, StandIn> = new Map(),
): RecipientLinks[] {
  const staff = new Map<string, string>([
    [t.unit.head.email, t.unit.head.name],
    [t.unit.liaison.email, t.unit.liaison.name],
    ...t.unit.deputies.map((d) => [d.email, d.name] as [string, string]),
  ]);
  const others = new Map<string, string>([
    [t.supervisor.head.email, t.supervisor.head.name],
    [t.supervisor.liaison.email, t.supervisor.liaison.name],
    ...t.leadership.map((l) => [l.email, l.name] as [string, string]),
    ...(t.lead ? ([[t.lead.liaison.email, t.lead.liaison.name]] as [string, string][]) : []),
    ...(t.raise ? peopleOf(t.raise.office) : []),
  ]);
  // 协办: a cooperating unit's staff may 签收 and 反馈进展 on the lead's tracker (domain/actions.ts).
  const cooperating = new Map<string, string>((t.cooperators ?? []).flatMap(peopleOf));
  const base = cfg.baseUrl.replace(/\/+$/, '');
  return [...new Set(recipients)].map((email) => {
    const standsFor = behalf.get(email);
    // A stand-in has the absent person's links, bound to the stand-in (their name and address), saying for whom.
    const ofUnit = staff.has(standsFor?.absent.email ?? email);
    const cooperates = !ofUnit && cooperating.has(standsFor?.absent.email ?? email);
    // The same rule as the web page's forms (domain/actions.ts): who may, then what applies to this obligation now.
    const actions = linkActionsFor(ofUnit, t.obligation.completion, now <= period.dueAt, cooperates);
    const name = standsFor?.standIn.name ?? staff.get(email) ?? cooperating.get(email) ?? others.get(email) ?? email;
    const token = signLink(
      {
        trackerId: t.trackerId,
        period: period.label,
        email,
        name,
        actions,
        expiresAt: period.endsAt + cfg.graceMs,
        ...(standsFor ? { onBehalfOf: { name: standsFor.absent.name, email: standsFor.absent.email } } : {}),
      },
      cfg.keys,
    );
    return { name, email, links: actions.map((a) => ({ label: actionLabel(a), url: `${base}/a/${token}/${a}` })) };
  });
}

/** A unit's people as [address, name] pairs: head, liaison, deputies. */
function peopleOf(u: TrackerDefinition['unit']): [string, string][] {
  return [u.head, u.liaison, ...u.deputies].map((c) => [c.email, c.name]);
}

/** The cooperating unit (协办) a recipient belongs to, when it is not of the tracker's own unit. */
export function cooperatingUnitOf(t: TrackerDefinition, email: string): TrackerDefinition['unit'] | undefined {
  const own = [t.unit.head, t.unit.liaison, ...t.unit.deputies].some((c) => c.email === email);
  if (own) return undefined;
  return (t.cooperators ?? []).find((u) => [u.head, u.liaison, ...u.deputies].some((c) => c.email === email));
}

/** A tracker's page in the web service: `${baseUrl}/t/<obligation>/<unit>` (the supervising office signs in there). */
export function trackerUrl(baseUrl: string, trackerId: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/t/${trackerId.split('/').map(encodeURIComponent).join('/')}`;
}

/** A notice that goes out this long after its planned instant says so (an outage delayed it). */
const LATE_AFTER_MS = 60 * 60_000;

/**
 * The activity's heartbeat and cancellation, how long it may wait for a connection before giving up, and its
 * clock: the server's time when the attempt was scheduled, advanced by the time since. On a real server that is
 * the wall clock; on the time-skipping test server (and in `duban simulate`) it is the skipped time, so what a
 * message says about "today" is the same in a preview as in production.
 */
function attemptContext(workflowTime?: number): AttemptContext & { now: () => number } {
  const startedAt = Date.now();
  try {
    const c = Context.current();
    const timeout = c.info.startToCloseTimeoutMs;
    // A local activity's schedule time is the worker's wall clock, not the workflow's (which the time-skipping
    // server advances): it runs in the workflow task that scheduled it, so the workflow's time is passed along.
    const scheduled = c.info.isLocal ? workflowTime : c.info.currentAttemptScheduledTimestampMs;
    const base = typeof scheduled === 'number' && scheduled > 0 ? scheduled : startedAt;
    return {
      // A local activity has no heartbeat: its worker keeps the workflow task alive while it runs.
      heartbeat: c.info.isLocal ? () => undefined : () => c.heartbeat(),
      signal: c.cancellationSignal,
      // Leave the send itself a minute of the attempt's time; an attempt that cannot start by then retries.
      sendBy: timeout ? startedAt + Math.max(5_000, timeout - 60_000) : undefined,
      now: () => base + (Date.now() - startedAt),
    };
  } catch {
    return { heartbeat: () => undefined, now: () => Date.now() };
  }
}

/** A rendered message as nodemailer sends it: one shape for notices, digests and undeliverable reports. */
function mailOptions(
  from: Mail.Options['from'],
  rcpt: { to: string[]; cc: string[] },
  r: { subject: string; text: string; html: string },
  messageId: string,
  at: number,
): Mail.Options & { subject: string } {
  return {
    from,
    to: rcpt.to,
    cc: rcpt.cc,
    subject: r.subject,
    text: r.text,
    html: r.html,
    messageId,
    date: new Date(at),
  };
}

export function messageIdFor(key: string, from: Sender): string {
  const domain = from.address.split('@')[1] ?? 'duban.invalid';
  return `<duban.${createHash('sha256').update(key).digest('hex').slice(0, 32)}@${domain}>`;
}

/**
 * The Message-ID of one recipient's copy of the message `messageId`: derived from both, so every retry and every
 * later notice's References name the same copy (issue 19.5: one message per recipient, one thread per period).
 */
export function recipientMessageId(messageId: string, recipient: string, from: Sender): string {
  return messageIdFor(`${messageId}/to/${recipient.toLowerCase()}`, from);
}

export function createActivities(deps: ActivityDeps) {
  const { ledger, transport, from, calendar } = deps;
  const fromHeader = { name: from.name, address: from.address };
  const slots = new ConnectionSlots(deps.connections ?? 5);
  const delivery = { ledger, transport, slots, unrecorded: new UnrecordedResults(ledger), leaseMs: deps.sendLeaseMs };

  /** The claim row of a notice: what the ledger keeps about it before and after it is sent. */
  const claimFor = (
    req: DeliveryRequest,
    sendKey: string,
    stage: NoticeStage,
    messageId: string,
    to: string[],
    cc: string[],
  ): NoticeClaim => ({
    sendKey,
    trackerId: req.definition.trackerId,
    obligation: req.definition.obligation.id,
    unit: req.definition.unit.id,
    period: req.period.label,
    stage,
    level: req.notice.level,
    step: req.notice.step,
    plannedAt: req.notice.at,
    firedAt: req.firedAt,
    due: req.period.due,
    messageId,
    to,
    cc,
  });

  async function reportUndeliverable(
    req: DeliveryRequest,
    key: string,
    subject: string,
    rejected: string[],
    reason: string,
    ctx: ReturnType<typeof attemptContext>,
  ): Promise<void> {
    const t = req.definition;
    const sendKey = `${key}/undeliverable`;
    const messageId = messageIdFor(sendKey, from);
    const to = [t.supervisor.liaison.email];
    const cc = [t.supervisor.head.email].filter((a) => !to.includes(a));
    const result = await sendOnce(
      delivery,
      claimFor(req, sendKey, 'undeliverable', messageId, to, cc),
      async () => {
        const now = Math.max(req.firedAt, ctx.now());
        const sentOn = formatDate(localDay(now, t.timeZone));
        const r = renderUndeliverable({ definition: t, period: req.period.label, subject, rejected, reason, sentOn });
        return mailOptions(fromHeader, { to, cc }, r, messageId, now);
      },
      ctx,
    );
    // A report that bounced itself is recorded, and not reported again (that could only loop).
    if (result.state === 'sent' && result.status === 'rejected')
      log.error('undeliverable report rejected', { sendKey, reason: result.response });
  }

  /**
   * 代办: the ranges that may reroute a notice of this tracker on `day` (YYYY-MM-DD, the catalog's zone): those of
   * its unit, its supervising office, its cooperating units and (提级督办) the office above. The email and the other
   * channels read the same ones and route them the same way (domain/stand-ins.ts routeToStandIns).
   */
  async function standInsFor(t: TrackerDefinition, day: string): Promise<StandIn[]> {
    const units = [
      t.unit.id,
      t.supervisor.id,
      ...(t.cooperators ?? []).map((c) => c.id),
      ...(t.raise ? [t.raise.office.id] : []),
    ];
    return ledger.standIns.forUnits(units, day);
  }

  /**
   * The stand-ins' mobiles, for SMS: the ledger keeps names and addresses only, and a stand-in may be of another
   * unit than the tracker's people, so the registered directory says (read only when some range applies).
   */
  async function withMobiles(list: StandIn[]): Promise<StandIn[]> {
    if (list.length === 0) return list;
    const units = (await latestSnapshot(ledger))?.directory.units ?? [];
    const mobiles = new Map<string, string>();
    for (const u of units)
      for (const c of [u.contacts.head, u.contacts.liaison, ...u.contacts.deputies])
        if (c.mobile && !mobiles.has(c.email)) mobiles.set(c.email, c.mobile);
    return list.map((s) => {
      const mobile = s.standIn.mobile ?? mobiles.get(s.standIn.email);
      return mobile ? { ...s, standIn: { ...s.standIn, mobile } } : s;
    });
  }

  /** A step's ledger write, and its events for the tracker's webhooks (keyed: a repeat adds nothing). */
  async function applyWrite(write: LedgerWrite): Promise<void> {
    await ledger.applyWrite(write);
    const rows = webhookEventRows(write);
    if (rows.length && (await ledger.channels.add(rows, Date.now())) > 0) deps.onChannelRows?.();
  }

  return {
    /** Local activity: the plan of one period (domain/planner.ts), every instant computed in explicit time zones. */
    async planTrackerPeriod(req: PlanRequest): Promise<StoredPlan> {
      try {
        // Packed: the result is recorded in the tracker's history and read again at every replay.
        return packPlan(
          trackerPeriodPlan(req.definition, calendar, {
            period: req.period,
            extendedDue: req.extendedDue,
            now: req.now,
            digest: deps.digest !== false,
            catchUp: req.catchUp,
          }),
        );
      } catch (err) {
        // The same definition fails the same way every time: tell the workflow not to retry.
        if (err instanceof PlanningError) throw ApplicationFailure.nonRetryable(err.message, 'PlanningError');
        throw err;
      }
    },

    /**
     * One notice, and the tracker's ledger write of that step: the write first (idempotent), then the message,
     * exactly once in effect (delivery.ts). The days-left text is computed on the day it is actually sent; a notice
     * that goes out late says when it was due to go out; one overtaken by the period's next notice is not sent.
     */
    async deliverNotice(req: DeliveryRequest): Promise<DeliveryResult> {
      if (req.write) await applyWrite(req.write);
      const t = req.definition;
      const n = req.notice;
      const key = noticeKey(n);
      const messageId = messageIdFor(key, from);
      const ctx = attemptContext(req.firedAt);
      // A 催办 tells the tracker from when the office may send the next (the calendar lives here, not in the workflow).
      const next = n.stage === 'urge' ? { nextUrgeFrom: nextUrgeAt(calendar, t.timeZone, n.at) } : {};
      // 代办: on the day it goes out (the catalog's zone), an absent head or liaison's notice goes to their stand-in.
      const day = standInDay(Math.max(req.firedAt, ctx.now()), t.timeZone);
      const rcpt = routeToStandIns(n, await standInsFor(t, day), day);
      let supervisionNumber: string | undefined;
      let subject = '';
      const personal = deps.links !== undefined && req.period.endsAt !== undefined;

      /** The message, for everyone (no links) or for one recipient (their own links only, DOMAIN.md 22). */
      const build = async (recipient?: string) => {
        const now = Math.max(req.firedAt, ctx.now());
        const sentOn = formatDate(localDay(now, t.timeZone));
        // A 督办单 is numbered by the office it comes from: the supervising office's, or (提级督办) the office above's.
        const numberedBy = numberingOffice(t, n);
        if (numberedBy && supervisionNumber === undefined) {
          const year = civil(parseDate(sentOn)!).year;
          const given = await ledger.supervisionNumber(key, numberedBy, year);
          supervisionNumber = supervisionNumberText(given.year, given.number);
        }
        // Late only against when it was meant to go out: a catch-up planned before the tracker existed is not.
        const meant = Math.max(n.at, req.meantAt ?? n.at);
        const lateSince = now - meant > LATE_AFTER_MS ? formatLocal(meant, t.timeZone) : undefined;
        const links =
          personal && recipient !== undefined
            ? recipientLinks(
                t,
                [recipient],
                { label: req.period.label, dueAt: req.period.dueAt, endsAt: req.period.endsAt! },
                now,
                deps.links!,
                rcpt.behalf,
              )
            : undefined;
        const r = renderNotice({
          definition: t,
          notice: n,
          period: req.period,
          sentOn,
          progress: req.progress,
          supervisionNumber,
          lateSince,
          urge: req.urge,
          links,
          signInUrl: links ? undefined : deps.webUrl?.replace(/\/+$/, ''),
          // A cooperating unit's own copy (协办) greets it and says what it may do; a shared copy names them all.
          ...(recipient !== undefined && n.stage === 'reminder'
            ? ((c) => (c ? { cooperating: c } : {}))(
                cooperatingUnitOf(t, rcpt.behalf.get(recipient)?.absent.email ?? recipient),
              )
            : {}),
        });
        subject = r.subject;
        // Each recipient's copy has a Message-ID of its own, derived from the notice's, and refers to that
        // recipient's copies of the period's earlier notices: one thread per period in every mailbox.
        const own = (id: string) => (recipient === undefined ? id : recipientMessageId(id, recipient, from));
        const thread = req.thread.filter((id) => id !== messageId).map(own);
        // Escalations come from the supervising office; a raise from the office above, whose liaison answers.
        const office = n.stage === 'raise' && t.raise ? t.raise.office : t.supervisor;
        const sender =
          n.stage === 'escalation' || n.stage === 'raise'
            ? { name: `${oneLine(office.name)}（${from.name}）`, address: from.address }
            : fromHeader;
        return {
          ...mailOptions(sender, rcpt, r, own(messageId), now),
          replyTo: { name: oneLine(office.liaison.name), address: office.liaison.email },
          // A copy goes to its recipient alone; the headers still show who else the notice went to.
          ...(recipient === undefined ? {} : { envelope: { from: from.address, to: [recipient] } }),
          inReplyTo: thread[thread.length - 1],
          references: thread.length ? thread : undefined,
        } satisfies Mail.Options & { subject: string };
      };

      const finished = (row: NoticeRow): DeliveryResult | undefined => {
        if (row.status === 'sending') return undefined;
        const rejected: string[] = row.rejected ? JSON.parse(row.rejected) : [];
        if (row.status === 'superseded') return { messageId, status: 'superseded', rejected: [] };
        return { messageId, status: row.status === 'rejected' ? 'already-rejected' : 'already-sent', rejected };
      };

      if (personal) {
        const notice = claimFor(req, key, n.stage, messageId, rcpt.to, rcpt.cc);
        const before = await ledger.notice(key);
        const done = before && finished(before);
        if (done) {
          if (done.rejected.length)
            await reportUndeliverable(req, key, before.subject ?? '', done.rejected, before.response ?? '', ctx);
          log.info('notice already delivered', { key, messageId, status: before.status });
          return { ...done, ...next };
        }
        await ledger.recordNotice(notice, Date.now());
        // One copy per recipient, each claimed and fenced on its own: a retry sends only the copies not yet sent.
        const recipients = [...new Set([...rcpt.to, ...rcpt.cc])];
        const outcomes: {
          recipient: string;
          status: string;
          accepted: string[];
          rejected: string[];
          response: string;
        }[] = [];
        for (const recipient of recipients) {
          const copyKey = `${key}/to/${recipient}`;
          const result = await sendOnce(
            delivery,
            {
              ...claimFor(req, copyKey, n.stage, recipientMessageId(messageId, recipient, from), [recipient], []),
              noticeKey: key,
              recipient,
            },
            () => build(recipient),
            ctx,
            req.overtakenAt,
          );
          if (result.state === 'superseded')
            outcomes.push({ recipient, status: 'superseded', accepted: [], rejected: [], response: '' });
          else if (result.state === 'done') {
            const row = result.row;
            outcomes.push({
              recipient,
              status: row.status,
              accepted: row.accepted ? JSON.parse(row.accepted) : [],
              rejected: row.rejected ? JSON.parse(row.rejected) : [],
              response: row.response ?? '',
            });
            subject ||= row.subject ?? '';
          } else outcomes.push({ recipient, ...result });
        }
        const accepted = outcomes.flatMap((o) => o.accepted);
        const rejected = outcomes.flatMap((o) => o.rejected);
        const status = outcomes.every((o) => o.status === 'superseded')
          ? 'superseded'
          : accepted.length > 0
            ? 'sent'
            : 'rejected';
        const response = outcomes
          .filter((o) => o.response)
          .map((o) => `${o.recipient}: ${o.response}`)
          .join('; ');
        await ledger.finishNotice(key, { status, subject, accepted, rejected, response });
        if (status === 'superseded') {
          log.info('notice superseded by a later one of the same period, not sent', { key, messageId });
          return { messageId, status: 'superseded', rejected: [] };
        }
        log.info('notice delivered, one copy per recipient', {
          key,
          messageId,
          status,
          copies: recipients.length,
          rejected: rejected.length,
        });
        if (rejected.length) await reportUndeliverable(req, key, subject, rejected, response, ctx);
        return { messageId, status, rejected, supervisionNumber, ...next };
      }

      const result = await sendOnce(
        delivery,
        claimFor(req, key, n.stage, messageId, rcpt.to, rcpt.cc),
        () => build(),
        ctx,
        req.overtakenAt,
      );
      if (result.state === 'superseded') {
        log.info('notice superseded by a later one of the same period, not sent', { key, messageId });
        return { messageId, status: 'superseded', rejected: [] };
      }
      if (result.state === 'done') {
        const row = result.row;
        const done = finished(row)!;
        if (done.status === 'superseded') return done;
        // A retry after the report step failed must still report.
        if (done.rejected.length)
          await reportUndeliverable(req, key, row.subject ?? '', done.rejected, row.response ?? '', ctx);
        log.info('notice already delivered', { key, messageId, status: row.status });
        return { ...done, ...next };
      }
      log.info('notice delivered', { key, messageId, status: result.status, rejected: result.rejected.length });
      if (result.rejected.length) await reportUndeliverable(req, key, subject, result.rejected, result.response, ctx);
      return { messageId, status: result.status, rejected: result.rejected, supervisionNumber, ...next };
    },

    /**
     * Local activity after a notice's email step (workflows/tracker.ts): the notice's rows for its other channels
     * (activities/channels.ts), keyed by notice and channel, so a retry or a replay adds nothing. The worker's
     * dispatcher sends them.
     */
    async enqueueChannels(req: ChannelRequest): Promise<{ added: number }> {
      let supervisionNumber: string | undefined;
      if (numberingOffice(req.definition, req.notice)) {
        const given = await ledger.channels.supervisionNumber(noticeKey(req.notice));
        if (given) supervisionNumber = supervisionNumberText(given.year, given.number);
      }
      // 代办: the day the email step just went out on, as that step reckons it, and the same ranges.
      const day = standInDay(Math.max(req.firedAt, attemptContext(req.firedAt).now()), req.definition.timeZone);
      const list = await withMobiles(await standInsFor(req.definition, day));
      const rows = channelRows(req, {
        graceMs: deps.links?.graceMs ?? 0,
        supervisionNumber,
        links: !!deps.links,
        standIns: { list, day },
      });
      const added = await ledger.channels.add(rows, Date.now());
      if (added > 0) deps.onChannelRows?.();
      return { added };
    },

    /** A tracker's step with no notice: events, board rows, red items for the digest, settled periods. */
    async recordState(write: LedgerWrite): Promise<void> {
      await applyWrite(write);
    },

    /** Local activity of the former sleeping loop (workflows/digest.ts): the digest hour (DUBAN_DIGEST_HOUR, not the notice hour) of the first working day whose digest hour is after `now`. */
    async nextDigestAt(req: { now: number; timeZone: string; hour: number }): Promise<{ at: number; day: string }> {
      return nextWorkingInstant(calendar, req.now, req.timeZone, req.hour);
    },

    /**
     * One digest per supervising office with items that newly turned red, at most one a working day: the send key
     * names the office and the day, so a retry or a replay sends nothing twice.
     */
    async sendDigests(req: {
      day: string;
      firedAt: number;
    }): Promise<{ supervisor: string; items: number; messageId: string }[]> {
      const sent: { supervisor: string; items: number; messageId: string }[] = [];
      const ctx = attemptContext();
      for (const supervisor of await ledger.supervisorsForDigest(req.day, req.firedAt)) {
        const sendKey = `digest/${supervisor}/${req.day}`;
        // A second run of the same day (a schedule triggered by hand) must not hand new items to a digest that
        // went out already: they wait for the next one.
        const status = await ledger.noticeStatus(sendKey);
        if (status === 'sent' || status === 'rejected' || status === 'superseded') continue;
        const items = await ledger.takeRedItems(supervisor, sendKey, req.firedAt);
        if (items.length === 0) continue;
        const first = items[0]!;
        // 代办 (DOMAIN.md 29): the office's own stand-ins of the digest's day take it, the absent person in copy.
        const { to, cc } = routeToStandIns(
          { to: JSON.parse(first.office_to) as string[], cc: JSON.parse(first.office_cc) as string[] },
          await ledger.standIns.forUnits([supervisor], req.day),
          req.day,
        );
        const messageId = messageIdFor(sendKey, from);
        const claim: NoticeClaim = {
          sendKey,
          trackerId: `digest/${supervisor}`,
          obligation: '',
          unit: supervisor,
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
        };
        const result = await sendOnce(
          delivery,
          claim,
          async () => {
            const r = renderDigest({
              supervisorName: first.office_name,
              day: req.day,
              items: items.map((i) => ({
                unitName: i.unit_name,
                obligationTitle: i.obligation_title,
                period: i.period,
                due: i.due,
                url: deps.links ? trackerUrl(deps.links.baseUrl, i.tracker_id) : undefined,
              })),
            });
            return mailOptions(fromHeader, { to, cc }, r, messageId, req.firedAt);
          },
          ctx,
        );
        if (result.state === 'done') continue;
        log.info('digest delivered', {
          sendKey,
          items: items.length,
          status: result.state === 'sent' ? result.status : result.state,
        });
        sent.push({ supervisor, items: items.length, messageId });
      }
      return sent;
    },

    /** Local activity: the day a digest run at `at` is for (the latest digest hour at or before it), and whether it is a working day. */
    async digestDay(req: { at: number; timeZone: string; hour: number }): Promise<{ day: string; working: boolean }> {
      let day = localDay(req.at, req.timeZone);
      if (zonedInstant(day, req.timeZone, req.hour) > req.at) day -= 1;
      return { day: formatDate(day), working: calendar.isWorkingDay(day) };
    },

    /**
     * After every digest run, working day or not: pings the dead-man's switch (DUBAN_HEARTBEAT_URL), so an alert
     * fires when the runs stop. A failed ping only warns.
     */
    async digestRan(req: { day: string; working: boolean; offices: number }): Promise<void> {
      if (deps.heartbeatUrl)
        await pingHeartbeat(
          deps.heartbeatUrl,
          `duban digest ${req.day}: ${req.working ? `${req.offices} offices` : 'not a working day'}`,
          (m, meta) => log.warn(m, meta),
        );
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;

/**
 * The office that numbers a notice as a 督办单 (督〔2027〕12号, one sequence per office and year): the supervising
 * office for a level-2 escalation, the office above for a raise (提级督办); undefined for every other notice.
 */
export function numberingOffice(t: TrackerDefinition, n: Pick<PlannedNotice, 'stage' | 'level'>): string | undefined {
  if (n.stage === 'escalation' && n.level === 2) return t.supervisor.id;
  if (n.stage === 'raise') return t.raise?.office.id;
  return undefined;
}
export { RetryLater, localDateIn };
