/**
 * Sending one message exactly once in effect, with a life that is bounded and known (issue: a slow mail server
 * doubled messages when attempts waited in the SMTP pool's queue past their timeout and the retry sent again).
 *
 * An attempt
 * 1. waits for one of the pool's connections (a slot). Nothing is claimed yet, so waiting can be cancelled or
 *    time out harmlessly; the worker runs no more activities, local or queued, than the slots can serve within a
 *    timeout (worker/factory.ts ties both concurrencies to the pool);
 * 2. claims the message's send key in the ledger with a lease (SEND_LEASE_MS): a second attempt that finds the
 *    lease running waits and retries;
 * 3. passes the message over as superseded when a later notice of the same period is already due (an outage), or
 *    stops here when it was cancelled: before DATA, nothing was sent;
 * 4. confirms, immediately before handing the message to the server, that its claim (a fencing token) is still
 *    its own and unexpired, extending it by a lease; an attempt that stood still past its lease (SIGSTOP, a paused
 *    VM, a long GC) and lost the claim to another attempt abandons here, records why, and sends nothing. Then it
 *    sends on its slot's connection, renewing the lease (with the token) while the server takes its time (and
 *    heartbeating, when it runs as a queued activity: a tracker's deliveries are local activities, which have
 *    none). A pause after the message was handed over and lasting past the lease can still produce a second copy;
 * 5. records the result.
 * When the ledger cannot take the result (the database restarting), the worker keeps it (Delivery.unrecorded) and
 * writes it as soon as the ledger answers: the next attempt at the same message, in this process, finds it there
 * and does not send again, however long the outage outlasted the lease.
 * The window left is a process that dies, or stands still past its lease, after it handed the message to the
 * server and before the ledger heard of the result: another attempt then sends it again, with the same Message-ID
 * (docs/engine.md).
 */
import type { Transporter } from 'nodemailer';
import type Mail from 'nodemailer/lib/mailer';
import { classifySmtpError, smtpHealthOf } from '../channels/email/smtp';
import { countNotice } from './metrics';
import type { Logger } from '@temporalio/common';
import { Runtime } from '@temporalio/worker';
import { Ledger, NoticeClaim, NoticeResult, NoticeRow, SEND_LEASE_MS } from '../ledger';

export interface SendOutcome {
  status: 'sent' | 'rejected';
  accepted: string[];
  rejected: string[];
  response: string;
}

export type AttemptResult =
  { state: 'done'; row: NoticeRow } | { state: 'superseded' } | ({ state: 'sent' } & SendOutcome);

/** How an attempt reports that it is alive, and learns that it was cancelled (the activity's context). */
export interface AttemptContext {
  heartbeat(): void;
  signal?: AbortSignal;
  /** The instant by which the attempt must have started sending, or give up waiting (its timeout). */
  sendBy?: number;
  /** The attempt's clock (the server's time): decides whether a later notice has overtaken this one. */
  now?: () => number;
}

export class RetryLater extends Error {
  override readonly name = 'RetryLater';
}

/** The pool's connections as slots: an attempt sends only when it holds one, so nodemailer never queues. */
export class ConnectionSlots {
  private waiting: (() => void)[] = [];
  private free: number;

  constructor(readonly size: number) {
    this.free = size;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** Waits for a slot; rejects when the signal aborts or `until` passes first. Returns the release function. */
  acquire(ctx: AttemptContext): Promise<() => void> {
    const release = () => {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    };
    if (this.free > 0) {
      this.free--;
      return Promise.resolve(release);
    }
    return new Promise((resolve, reject) => {
      let deadline: NodeJS.Timeout | undefined;
      const granted = () => {
        cleanup();
        resolve(release);
      };
      const cleanup = () => {
        clearInterval(beat);
        clearTimeout(deadline);
        ctx.signal?.removeEventListener('abort', aborted);
        this.waiting = this.waiting.filter((w) => w !== granted);
      };
      const aborted = () => {
        cleanup();
        reject(new RetryLater('cancelled while waiting for an SMTP connection; nothing was sent'));
      };
      this.waiting.push(granted);
      const beat = setInterval(() => ctx.heartbeat(), 5_000);
      if (ctx.sendBy !== undefined) {
        deadline = setTimeout(
          () => {
            cleanup();
            reject(
              new RetryLater(
                `no SMTP connection came free in time (${this.size} connections, ${this.waiting.length} waiting); nothing was sent, will retry`,
              ),
            );
          },
          Math.max(0, ctx.sendBy - Date.now()),
        );
      }
      if (ctx.signal?.aborted) aborted();
      else ctx.signal?.addEventListener('abort', aborted, { once: true });
    });
  }
}

export interface Delivery {
  ledger: Ledger;
  transport: Transporter;
  slots: ConnectionSlots;
  /** Messages the SMTP server took whose result the ledger could not record yet, by send key (see UnrecordedResults). */
  unrecorded: UnrecordedResults;
  /** How long a claim lasts unless renewed (DUBAN_SEND_LEASE_SECONDS; default SEND_LEASE_MS). */
  leaseMs?: number;
  /** Where the fence's refusals are written (default: the worker runtime's logger). */
  log?: Pick<Logger, 'warn'>;
}

/**
 * The results of messages that went out while the ledger could not record them. The claim stays `sending` in the
 * ledger and its lease runs out; without this, the tracker's retry after the lease would send the message again.
 * Each result is written as soon as the ledger answers (a retry every `everyMs`), and until then an attempt at the
 * same send key in this process takes its result from here instead of sending.
 */
export class UnrecordedResults {
  private results = new Map<string, NoticeResult>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ledger: Ledger,
    // The runtime's logger, not the activity's: the background writes run outside any activity.
    private readonly logger: () => Pick<Logger, 'info' | 'warn'> = () => Runtime.instance().logger,
    private readonly everyMs = 2_000,
  ) {}

  get size(): number {
    return this.results.size;
  }

  get(sendKey: string): NoticeResult | undefined {
    return this.results.get(sendKey);
  }

  /** Keeps a result the ledger refused, and starts writing it again in the background. */
  keep(sendKey: string, result: NoticeResult, err: unknown): void {
    this.results.set(sendKey, result);
    this.logger().warn('message sent but not yet recorded in the ledger; kept by the worker until the ledger answers', {
      sendKey,
      status: result.status,
      error: err instanceof Error ? err.message : String(err),
    });
    if (!this.timer) {
      this.timer = setInterval(() => void this.flush(), this.everyMs);
      this.timer.unref();
    }
  }

  /** Writes one kept result; true when the ledger has it now. */
  async record(sendKey: string): Promise<boolean> {
    const result = this.results.get(sendKey);
    if (!result) return true;
    try {
      await this.ledger.finishNotice(sendKey, result);
    } catch {
      return false;
    }
    // Another flush may have written it meanwhile; the update only ever completes a `sending` row, so twice is once.
    this.results.delete(sendKey);
    if (this.results.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
    this.logger().info('kept result recorded in the ledger', { sendKey, status: result.status });
    return true;
  }

  /** Writes every kept result it can. */
  async flush(): Promise<void> {
    for (const sendKey of [...this.results.keys()]) if (!(await this.record(sendKey))) return;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/**
 * One attempt at one message, steps 1-5 above. `build` renders the message once the claim is held (a 督办单 number
 * is allocated against the claimed row). A transient SMTP failure gives the claim back and throws, for Temporal
 * to retry; a permanent one is recorded as rejected and returned.
 */
export async function sendOnce(
  d: Delivery,
  claim: NoticeClaim,
  build: () => Promise<Mail.Options & { subject: string }>,
  ctx: AttemptContext,
  overtakenAt?: number | null,
): Promise<AttemptResult> {
  const leaseMs = d.leaseMs ?? SEND_LEASE_MS;
  const kept = d.unrecorded.get(claim.sendKey);
  if (kept) {
    // Sent by an earlier attempt in this process; only its record is missing.
    if (!(await d.unrecorded.record(claim.sendKey)))
      throw new RetryLater(`notice ${claim.sendKey} was sent; the ledger cannot record it yet; will retry`);
    const { status, accepted, rejected, response } = kept;
    if (status === 'superseded') return { state: 'superseded' };
    return { state: 'sent', status: status === 'sent' ? 'sent' : 'rejected', accepted, rejected, response };
  }
  const release = await d.slots.acquire(ctx);
  try {
    const claimed = await d.ledger.beginNotice(claim, Date.now(), leaseMs);
    if (claimed.state === 'done') return { state: 'done', row: claimed.row };
    if (claimed.state === 'in-flight') {
      throw new RetryLater(
        `notice ${claim.sendKey} is being sent by another attempt until ${new Date(claimed.until).toISOString()}; will retry`,
      );
    }
    const token = claimed.token;
    if (overtakenAt != null && (ctx.now ?? Date.now)() >= overtakenAt) {
      await d.ledger.finishNotice(
        claim.sendKey,
        {
          status: 'superseded',
          subject: '',
          accepted: [],
          rejected: [],
          response: 'superseded by a later notice of the same period',
        },
        token,
      );
      countNotice(claim.stage, claim.level, 'superseded');
      return { state: 'superseded' };
    }
    if (ctx.signal?.aborted) {
      await d.ledger.releaseNotice(claim.sendKey, token);
      throw new RetryLater('cancelled before sending; nothing was sent');
    }
    const message = await build();
    // Set once a renewal finds the claim taken over or run out: the attempt stood still (SIGSTOP, a VM paused, a
    // long GC) past its lease, and another attempt may be sending the same notice now.
    let lost = false;
    let renewing: Promise<void> = Promise.resolve();
    const renew = setInterval(
      () => {
        ctx.heartbeat();
        const now = Date.now();
        renewing = d.ledger
          .renewNotice(claim.sendKey, token, now + leaseMs, now)
          .then((held) => {
            if (!held) lost = true;
          })
          .catch(() => undefined);
      },
      Math.max(1000, Math.floor(leaseMs / 3)),
    );
    // Renewal stops, and the last one lands, before the claim is given back or finished: never after.
    const stopRenewing = async () => {
      clearInterval(renew);
      await renewing;
    };
    // The fence, immediately before the message is handed to the server: the claim is still this attempt's and
    // unexpired, and is extended by a whole lease, which covers the SMTP transaction (nodemailer's socket timeout
    // is 20 s, the default lease 30 s; renewals continue every third of a lease while the server takes its time).
    // A stale attempt learns here that it lost the claim, and sends nothing.
    const checkedAt = Date.now();
    let held: boolean;
    try {
      held = !lost && (await d.ledger.renewNotice(claim.sendKey, token, checkedAt + leaseMs, checkedAt));
    } catch (err) {
      // A claim that cannot be confirmed is not sent on: the database is down, and so would be the final write.
      await stopRenewing();
      throw new RetryLater(
        `notice ${claim.sendKey}: the ledger cannot confirm the claim (${err instanceof Error ? err.message : String(err)}); nothing was sent; will retry`,
      );
    }
    if (!held) {
      await stopRenewing();
      const reason =
        `the claim was lost before sending (taken over by another attempt, or its ${leaseMs} ms lease ran out ` +
        `while this attempt stood still); nothing was sent`;
      await d.ledger.abandonNotice(claim.sendKey, reason).catch(() => undefined);
      (d.log ?? runtimeLog()).warn('send abandoned: this attempt no longer holds the claim', {
        sendKey: claim.sendKey,
        messageId: claim.messageId,
        reason,
      });
      countNotice(claim.stage, claim.level, 'abandoned');
      throw new RetryLater(`notice ${claim.sendKey}: ${reason}; will retry`);
    }
    let outcome: SendOutcome;
    try {
      const info = await d.transport.sendMail({
        ...message,
        headers: { ...(message.headers as Record<string, string> | undefined), 'X-Duban-Key': claim.sendKey },
      });
      const accepted = (info.accepted ?? []).map(String);
      outcome = {
        status: accepted.length > 0 ? 'sent' : 'rejected',
        accepted,
        rejected: (info.rejected ?? []).map(String),
        response: String(info.response ?? ''),
      };
      smtpHealthOf(d.transport).answered();
    } catch (err) {
      const f = classifySmtpError(err);
      if (!f.permanent) {
        // Retried by Temporal; the worker tells the operator once when this begins (worker/operations.ts).
        smtpHealthOf(d.transport).failed(err, checkedAt);
        countNotice(claim.stage, claim.level, 'retried');
        await stopRenewing();
        await d.ledger.releaseNotice(claim.sendKey, token);
        throw err;
      }
      smtpHealthOf(d.transport).answered();
      outcome = {
        status: 'rejected',
        accepted: [],
        rejected: f.rejected.length ? f.rejected : [...toList(message.to), ...toList(message.cc)],
        response: f.reason,
      };
    } finally {
      await stopRenewing();
    }
    const result: NoticeResult = { ...outcome, subject: message.subject };
    let recorded: boolean;
    try {
      recorded = await d.ledger.finishNotice(claim.sendKey, result, token);
    } catch (err) {
      // The message is out: from here on, this process answers for it (UnrecordedResults), not the lease.
      d.unrecorded.keep(claim.sendKey, result, err);
      countNotice(claim.stage, claim.level, outcome.status);
      throw new RetryLater(`notice ${claim.sendKey} was sent; the ledger could not record it yet; will retry`);
    }
    if (!recorded) {
      // The server took the message while this attempt stood still past its lease after handing it over: another
      // attempt took the claim and records its own copy (the window docs/engine.md measures). Said, not hidden.
      (d.log ?? runtimeLog()).warn('message sent after the claim was taken over: the server may receive it twice', {
        sendKey: claim.sendKey,
        messageId: claim.messageId,
      });
    }
    countNotice(claim.stage, claim.level, outcome.status);
    return { state: 'sent', ...outcome };
  } finally {
    release();
  }
}

/** The worker runtime's logger (structured, like the activities' own log lines). */
function runtimeLog(): Pick<Logger, 'warn'> {
  return Runtime.instance().logger;
}

function toList(v: Mail.Options['to']): string[] {
  if (!v) return [];
  const list: unknown[] = Array.isArray(v) ? v : [v];
  return list.map((a) => (typeof a === 'string' ? a : String((a as { address?: string }).address ?? '')));
}
