/**
 * What goes out on the channels beside email (docs/channels.md): one row per (notice, channel) — per (notice,
 * mobile) for SMS — inserted by the tracker's step once (its key is the notice's key and the channel's name), then
 * claimed, sent and finished by a worker's dispatcher (activities/channels.ts), like an email:
 * - `pending` rows of one channel are claimed together under a lease (status `sending`, a batch key): a robot
 *   gets one message listing them; a claim whose worker died is taken again when its lease ran out;
 * - each claim of a robot reserves a slot in `channel_slots`, counted over the last minute (and second) in the
 *   same transaction that takes the channel's row lock, so that all workers together never exceed its limit;
 * - a transient answer puts the rows back, not before the provider's wait; a permanent one for the channel marks
 *   it broken in `channel_state` (rows kept pending, tried again after CHANNEL_PROBE_MS); one for the message
 *   (a malformed mobile) finishes the row as `rejected`.
 * Per row the ledger keeps the channel, the provider's answer and the attempts. Never a secret: rows name channels.
 */
import { randomUUID } from 'node:crypto';
import type { Param, SqlDb } from './sql';

export type ChannelSendStatus = 'pending' | 'sending' | 'sent' | 'rejected';

export interface ChannelSendRow {
  send_key: string;
  notice_key: string;
  channel: string;
  kind: string;
  target: string;
  tracker_id: string;
  period: string;
  item: string;
  status: ChannelSendStatus;
  attempts: number;
  batch_key: string | null;
  response: string | null;
  not_before: number;
  claimed_until: number | null;
  created_at: number;
  sent_at: number | null;
}

export interface ChannelSendInsert {
  sendKey: string;
  noticeKey: string;
  channel: string;
  kind: string;
  /** A mobile for SMS; empty for robots and webhooks. */
  target: string;
  trackerId: string;
  period: string;
  /** What to say, as JSON (activities/channels.ts StoredItem): link specs, never signed links or secrets. */
  item: string;
}

export interface ChannelStateRow {
  channel: string;
  not_before: number;
  broken_since: number | null;
  reason: string | null;
  updated_at: number;
}

export interface RateLimits {
  perMinute?: number;
  perSecond?: number;
}

export type Claim =
  | { state: 'claimed'; batchKey: string; rows: ChannelSendRow[] }
  /** Nothing to claim now; try again at `at` (a rate slot frees, a backoff ends), or when something is added. */
  | { state: 'wait'; at?: number };

/** How long a claim lasts: a send is one HTTP request of at most 30 s. */
export const CHANNEL_LEASE_MS = 60_000;
/** A broken channel is tried again this often with what waits for it, so a fixed key is noticed without a restart. */
export const CHANNEL_PROBE_MS = 60 * 60_000;
/** Slots are counted over a window slightly longer than the provider's, against clocks that differ a little. */
const MINUTE_MS = 61_000;
const SECOND_MS = 1_100;

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
function normalise(r: ChannelSendRow): ChannelSendRow {
  return {
    ...r,
    attempts: Number(r.attempts),
    not_before: Number(r.not_before),
    claimed_until: num(r.claimed_until),
    created_at: Number(r.created_at),
    sent_at: num(r.sent_at),
  };
}

export class ChannelSends {
  constructor(private readonly db: SqlDb) {}

  /** Inserts the rows a notice needs; a row already there (a retried step) is left as it is. Returns how many were new. */
  async add(rows: ChannelSendInsert[], now: number): Promise<number> {
    if (rows.length === 0) return 0;
    return this.db.transaction(async (tx) => {
      let added = 0;
      for (const r of rows)
        added += await tx.run(
          `INSERT INTO channel_sends (send_key, notice_key, channel, kind, target, tracker_id, period, item, status,
             attempts, not_before, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?) ON CONFLICT (send_key) DO NOTHING`,
          [r.sendKey, r.noticeKey, r.channel, r.kind, r.target, r.trackerId, r.period, r.item, now, now],
        );
      return added;
    });
  }

  /** Channels with rows to send at or before `now` (pending, or a claim whose lease ran out). */
  async due(now: number): Promise<string[]> {
    const rows = await this.db.all<{ channel: string }>(
      `SELECT DISTINCT channel FROM channel_sends
       WHERE (status = 'pending' AND not_before <= ?) OR (status = 'sending' AND claimed_until < ?)
       ORDER BY channel`,
      [now, now],
    );
    return rows.map((r) => r.channel);
  }

  /** The earliest instant a pending row becomes due, for the dispatcher's sleep. */
  async nextDue(): Promise<number | undefined> {
    const [row] = await this.db.all<{ at: number | null }>(
      `SELECT MIN(CASE WHEN status = 'pending' THEN not_before ELSE claimed_until END) AS at FROM channel_sends
       WHERE status IN ('pending', 'sending')`,
    );
    return num(row?.at) ?? undefined;
  }

  /**
   * Claims up to `max` rows of one channel for one message (one per target), reserving a rate slot: in one
   * transaction holding the channel's row lock, so two workers never both take the last slot of a minute.
   * `settleMs`: rows younger than this wait, so that notices falling due together are merged.
   */
  async claim(
    channel: string,
    now: number,
    o: { max: number; limits?: RateLimits; leaseMs?: number; settleMs?: number },
  ): Promise<Claim> {
    return this.db.transaction(async (tx) => {
      await tx.run(
        'INSERT INTO channel_state (channel, not_before, updated_at) VALUES (?, 0, ?) ON CONFLICT (channel) DO NOTHING',
        [channel, now],
      );
      const [state] = await tx.all<ChannelStateRow>(
        `SELECT * FROM channel_state WHERE channel = ?${tx.dialect === 'postgres' ? ' FOR UPDATE' : ''}`,
        [channel],
      );
      const notBefore = Number(state?.not_before ?? 0);
      if (notBefore > now) return { state: 'wait', at: notBefore };
      const limits = o.limits ?? {};
      for (const [limit, window] of [
        [limits.perMinute, MINUTE_MS],
        [limits.perSecond, SECOND_MS],
      ] as const) {
        if (!limit) continue;
        const slots = await tx.all<{ at: number }>(
          'SELECT at FROM channel_slots WHERE channel = ? AND at > ? ORDER BY at',
          [channel, now - window],
        );
        if (slots.length >= limit) return { state: 'wait', at: Number(slots[slots.length - limit]!.at) + window };
      }
      const settled = now - (o.settleMs ?? 0);
      const rows = (
        await tx.all<ChannelSendRow>(
          `SELECT * FROM channel_sends WHERE channel = ?
             AND ((status = 'pending' AND not_before <= ? AND created_at <= ?) OR (status = 'sending' AND claimed_until < ?))
           ORDER BY created_at, send_key LIMIT ?`,
          [channel, now, settled, now, o.max],
        )
      ).map(normalise);
      if (rows.length === 0) return { state: 'wait' };
      // One message goes to one target (a robot, or one mobile): the rows of the first row's target.
      const target = rows[0]!.target;
      const mine = rows.filter((r) => r.target === target);
      const batchKey = randomUUID();
      const until = now + (o.leaseMs ?? CHANNEL_LEASE_MS);
      for (const r of mine)
        await tx.run(
          `UPDATE channel_sends SET status = 'sending', attempts = attempts + 1, batch_key = ?, claimed_until = ?
           WHERE send_key = ?`,
          [batchKey, until, r.send_key],
        );
      if (limits.perMinute || limits.perSecond)
        await tx.run('INSERT INTO channel_slots (batch_key, channel, at) VALUES (?, ?, ?)', [batchKey, channel, now]);
      // Slots older than any window are of no further use.
      await tx.run('DELETE FROM channel_slots WHERE channel = ? AND at < ?', [channel, now - 10 * MINUTE_MS]);
      return {
        state: 'claimed',
        batchKey,
        rows: mine.map((r) => ({ ...r, status: 'sending' as const, batch_key: batchKey, claimed_until: until })),
      };
    });
  }

  /** Gives rows of a claim back (they did not fit the message), to be claimed again at once. */
  async unclaim(batchKey: string, sendKeys: string[]): Promise<void> {
    for (const key of sendKeys)
      await this.db.run(
        `UPDATE channel_sends SET status = 'pending', attempts = attempts - 1, batch_key = NULL, claimed_until = NULL
         WHERE send_key = ? AND batch_key = ? AND status = 'sending'`,
        [key, batchKey],
      );
  }

  /** The claim's rows went out (`sent`) or were refused for good (`rejected`, a malformed mobile). */
  async finish(batchKey: string, status: 'sent' | 'rejected', response: string, now: number): Promise<number> {
    return this.db.run(
      `UPDATE channel_sends SET status = ?, response = ?, sent_at = ?, claimed_until = NULL
       WHERE batch_key = ? AND status = 'sending'`,
      [status, response.slice(0, 500), now, batchKey],
    );
  }

  /** The claim failed: its rows wait until `notBefore`, the answer kept; `channelNotBefore` holds the whole channel back. */
  async retry(batchKey: string, response: string, notBefore: number, channel?: string, channelNotBefore?: number) {
    await this.db.transaction(async (tx) => {
      await tx.run(
        `UPDATE channel_sends SET status = 'pending', response = ?, not_before = ?, batch_key = NULL, claimed_until = NULL
         WHERE batch_key = ? AND status = 'sending'`,
        [response.slice(0, 500), notBefore, batchKey],
      );
      if (channel && channelNotBefore)
        await tx.run('UPDATE channel_state SET not_before = ?, updated_at = ? WHERE channel = ?', [
          channelNotBefore,
          Date.now(),
          channel,
        ]);
    });
  }

  /** Holds a channel's waiting rows until `until` (a channel that cannot be used yet: no secret). */
  async defer(channel: string, until: number): Promise<void> {
    await this.db.run(
      "UPDATE channel_sends SET not_before = ? WHERE channel = ? AND status = 'pending' AND not_before < ?",
      [until, channel, until],
    );
  }

  /** Marks a channel broken (its rows stay pending); true when it was not broken before. */
  async markBroken(channel: string, reason: string, now: number, probeAt: number): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx.all<{ broken_since: number | null }>(
        'SELECT broken_since FROM channel_state WHERE channel = ?',
        [channel],
      );
      await tx.run(
        `UPDATE channel_state SET broken_since = COALESCE(broken_since, ?), reason = ?, not_before = ?, updated_at = ?
         WHERE channel = ?`,
        [now, reason.slice(0, 500), probeAt, now, channel],
      );
      return row?.broken_since === null || row?.broken_since === undefined;
    });
  }

  /** A broken channel took a message again; true when it had been broken. */
  async markWorking(channel: string, now: number): Promise<boolean> {
    const changed = await this.db.run(
      'UPDATE channel_state SET broken_since = NULL, reason = NULL, updated_at = ? WHERE channel = ? AND broken_since IS NOT NULL',
      [now, channel],
    );
    return changed > 0;
  }

  /** Lets every broken channel be tried at once (a worker started with new settings). */
  async retryBroken(now: number): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.run(
        `UPDATE channel_sends SET not_before = ? WHERE status = 'pending' AND not_before > ?
           AND channel IN (SELECT channel FROM channel_state WHERE broken_since IS NOT NULL)`,
        [now, now],
      );
      await tx.run('UPDATE channel_state SET not_before = ? WHERE broken_since IS NOT NULL', [now]);
    });
  }

  async broken(): Promise<ChannelStateRow[]> {
    return (
      await this.db.all<ChannelStateRow>('SELECT * FROM channel_state WHERE broken_since IS NOT NULL ORDER BY channel')
    ).map((r) => ({
      ...r,
      not_before: Number(r.not_before),
      broken_since: num(r.broken_since),
      updated_at: Number(r.updated_at),
    }));
  }

  async rows(filter: { trackerId?: string; channel?: string } = {}): Promise<ChannelSendRow[]> {
    const where: string[] = [];
    const params: Param[] = [];
    if (filter.trackerId) {
      where.push('tracker_id = ?');
      params.push(filter.trackerId);
    }
    if (filter.channel) {
      where.push('channel = ?');
      params.push(filter.channel);
    }
    return (
      await this.db.all<ChannelSendRow>(
        `SELECT * FROM channel_sends ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at, send_key`,
        params,
      )
    ).map(normalise);
  }

  /** The directory entry of a channel as its latest waiting row carries it (StoredItem.channel). */
  async channelOf<T>(channel: string): Promise<(T & { kind: string; name: string }) | undefined> {
    const [row] = await this.db.all<{ item: string }>(
      `SELECT item FROM channel_sends WHERE channel = ? AND status IN ('pending', 'sending')
       ORDER BY created_at DESC LIMIT 1`,
      [channel],
    );
    if (!row) return undefined;
    return (JSON.parse(row.item) as { channel: T & { kind: string; name: string } }).channel;
  }

  /** A level-2 notice's 督办单 number as the email step gave it, for the channels' text. */
  async supervisionNumber(noticeKey: string): Promise<{ number: number; year: number } | undefined> {
    const [row] = await this.db.all<{ supervision_no: number | null; supervision_year: number | null }>(
      'SELECT supervision_no, supervision_year FROM notices WHERE send_key = ?',
      [noticeKey],
    );
    if (!row || row.supervision_no === null || row.supervision_year === null) return undefined;
    return { number: Number(row.supervision_no), year: Number(row.supervision_year) };
  }
}
