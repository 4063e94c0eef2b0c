/**
 * What is sent: the notices (a send attempt's claim and lease, its result), the 督办单 numbers given to level-2
 * notices, and the red items waiting for their supervising office's daily digest.
 *
 * A notice row is inserted by the first attempt that claims it; while it is `sending`, a later attempt counts
 * itself and takes the lease again, and a level-2 notice is numbered once. It is completed once, from `sending` to
 * `sent`, `rejected` or `superseded`, and is not changed after that. Its key is chosen by the workflow, so a
 * retried step never sends or numbers it twice.
 */
import type { Stage } from '../domain/planner';
import type { PeriodColumns, PeriodRef } from './refs';
import { randomUUID } from 'node:crypto';
import type { Param, SqlDb } from './sql';

/** Which message a notice row is: a tracker's reminder or escalation, the office's digest, or the report to the office that a notice could not be delivered. */
export type NoticeStage = Stage | 'digest' | 'undeliverable';

/** `superseded`: overtaken by a later notice of the same period before it could be sent (an outage); not sent. */
export type NoticeStatus = 'sending' | 'sent' | 'rejected' | 'superseded';

export interface NoticeRow extends PeriodColumns {
  send_key: string;
  stage: NoticeStage;
  level: number;
  step: number;
  planned_at: number;
  fired_at: number | null;
  due: string;
  message_id: string;
  subject: string | null;
  recipients_to: string;
  recipients_cc: string;
  status: NoticeStatus;
  attempts: number;
  accepted: string | null;
  rejected: string | null;
  response: string | null;
  supervision_no: number | null;
  supervision_office: string | null;
  supervision_year: number | null;
  created_at: number;
  sent_at: number | null;
  claimed_until: number | null;
  /** The fencing token of the attempt that holds (or last held) the claim (migration 13). */
  claim_token: string | null;
  /** Attempts that woke to find their claim lost and sent nothing (migration 13), and the last one's reason. */
  abandoned: number;
  abandoned_reason: string | null;
  /** A recipient's copy (migration 14): the notice it belongs to, and the one address it went to. */
  notice_key: string | null;
  recipient: string | null;
}

export interface NoticeClaim extends PeriodRef {
  sendKey: string;
  stage: NoticeStage;
  level: number;
  step: number;
  plannedAt: number;
  firedAt: number;
  due: string;
  messageId: string;
  to: string[];
  cc: string[];
  /** A recipient's own copy of the notice `noticeKey` (personal links): sent to `recipient` alone. */
  noticeKey?: string;
  recipient?: string;
}

/**
 * How long a claim on a notice lasts unless renewed (DUBAN_SEND_LEASE_SECONDS overrides). The attempt that holds it
 * renews it while it waits on the SMTP server (activities/delivery.ts). It runs out when that attempt's process died
 * or stood still (a paused VM, a long GC or swap stall): each claim carries a fencing token, so an attempt that
 * wakes after another took the claim over can no longer renew, send or finish it.
 */
export const SEND_LEASE_MS = 30_000;

export type NoticeClaimResult =
  { state: 'send'; token: string } | { state: 'done'; row: NoticeRow } | { state: 'in-flight'; until: number };

/** How an attempt ended: `superseded` when a later notice of the period overtook it before it was sent. */
export interface NoticeResult {
  status: Exclude<NoticeStatus, 'sending'>;
  subject: string;
  accepted: string[];
  rejected: string[];
  response: string;
}

export async function beginNotice(db: SqlDb, n: NoticeClaim, now: number, leaseMs: number): Promise<NoticeClaimResult> {
  // A new token for every claim taken: whoever held the key before holds nothing now.
  const token = randomUUID();
  // Almost every claim is a notice's first: one statement, atomic on its own (a conflict inserts nothing), without
  // the transaction that only a claim taken over needs.
  const inserted = await db.run(
    `INSERT INTO notices (send_key, tracker_id, obligation, unit, period, stage, level, step, planned_at, fired_at, due,
       message_id, recipients_to, recipients_cc, status, attempts, created_at, claimed_until, claim_token,
       notice_key, recipient)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'sending', 1, ?, ?, ?, ?, ?)
     ON CONFLICT (send_key) DO NOTHING`,
    [
      n.sendKey,
      n.trackerId,
      n.obligation,
      n.unit,
      n.period,
      n.stage,
      n.level,
      n.step,
      n.plannedAt,
      n.firedAt,
      n.due,
      n.messageId,
      JSON.stringify(n.to),
      JSON.stringify(n.cc),
      now,
      now + leaseMs,
      token,
      n.noticeKey ?? null,
      n.recipient ?? null,
    ],
  );
  if (inserted > 0) return { state: 'send', token };
  // The key was claimed before: read and take over in one transaction, so two attempts never both take it.
  return db.transaction(async (tx) => {
    const [row] = await tx.all<NoticeRow>(
      `SELECT * FROM notices WHERE send_key = ?${tx.dialect === 'postgres' ? ' FOR UPDATE' : ''}`,
      [n.sendKey],
    );
    if (row && row.status !== 'sending') return { state: 'done', row: normaliseNotice(row) };
    const until = Number(row?.claimed_until ?? 0);
    if (until > now) return { state: 'in-flight', until };
    await tx.run('UPDATE notices SET attempts = attempts + 1, claimed_until = ?, claim_token = ? WHERE send_key = ?', [
      now + leaseMs,
      token,
      n.sendKey,
    ]);
    return { state: 'send', token };
  });
}

/**
 * Extends the claim to `until` if `token` still holds it and its lease has not run out at `now`: true when it did.
 * The one statement is the fence: a claim taken over since (a new token) or expired is not extended, so an attempt
 * that stood still past its lease learns it here, before it sends, and not from a second copy in someone's inbox.
 */
export async function renewNotice(
  db: SqlDb,
  sendKey: string,
  token: string,
  now: number,
  until: number,
): Promise<boolean> {
  const changed = await db.run(
    `UPDATE notices SET claimed_until = ?
     WHERE send_key = ? AND status = 'sending' AND claim_token = ? AND claimed_until IS NOT NULL AND claimed_until > ?`,
    [until, sendKey, token, now],
  );
  return changed > 0;
}

/** Gives the claim back, if `token` still holds it (a stale attempt must not free another's claim). */
export async function releaseNotice(db: SqlDb, sendKey: string, token: string): Promise<void> {
  await db.run(
    "UPDATE notices SET claimed_until = NULL WHERE send_key = ? AND status = 'sending' AND claim_token = ?",
    [sendKey, token],
  );
}

/**
 * Completes a `sending` notice with its result: only for the attempt whose `token` holds the claim, true when it
 * did. Without a token (a result the worker kept while the database was down, UnrecordedResults), any `sending`
 * row is completed: the message went out, whoever holds the claim now.
 */
export async function finishNotice(db: SqlDb, sendKey: string, result: NoticeResult, token?: string): Promise<boolean> {
  const changed = await db.run(
    `UPDATE notices SET status = ?, subject = ?, accepted = ?, rejected = ?, response = ?, sent_at = ?
     WHERE send_key = ? AND status = 'sending'${token === undefined ? '' : ' AND claim_token = ?'}`,
    [
      result.status,
      result.subject,
      JSON.stringify(result.accepted),
      JSON.stringify(result.rejected),
      result.response.slice(0, 500),
      Date.now(),
      sendKey,
      ...(token === undefined ? [] : [token]),
    ],
  );
  return changed > 0;
}

/** Notes on the notice that an attempt woke without its claim and sent nothing, and why (`duban show`, the tests). */
export async function abandonNotice(db: SqlDb, sendKey: string, reason: string): Promise<void> {
  await db.run('UPDATE notices SET abandoned = abandoned + 1, abandoned_reason = ? WHERE send_key = ?', [
    reason.slice(0, 300),
    sendKey,
  ]);
}

export async function supervisionNumber(
  db: SqlDb,
  sendKey: string,
  supervisor: string,
  year: number,
): Promise<{ number: number; year: number }> {
  return db.transaction(async (tx) => {
    const [row] = await tx.all<{ supervision_no: number | null; supervision_year: number | null }>(
      `SELECT supervision_no, supervision_year FROM notices WHERE send_key = ?${tx.dialect === 'postgres' ? ' FOR UPDATE' : ''}`,
      [sendKey],
    );
    if (!row) throw new Error(`supervisionNumber: notice ${sendKey} is not in the ledger`);
    // A retry in the new year keeps the number and the year it was given in.
    if (row.supervision_no !== null)
      return { number: Number(row.supervision_no), year: Number(row.supervision_year ?? year) };
    const [next] = await tx.all<{ last: number }>(
      `INSERT INTO supervision_numbers (office, year, last) VALUES (?, ?, 1)
       ON CONFLICT (office, year) DO UPDATE SET last = supervision_numbers.last + 1
       RETURNING last`,
      [supervisor, year],
    );
    const number = Number(next!.last);
    await tx.run(
      'UPDATE notices SET supervision_no = ?, supervision_office = ?, supervision_year = ? WHERE send_key = ?',
      [number, supervisor, year, sendKey],
    );
    return { number, year };
  });
}

/**
 * Records a notice sent as one copy per recipient (its copies are claimed on their own): the row the notice's
 * pages, its 督办单 number and its overall result live on. Nothing is claimed here; twice is once.
 */
export async function recordNotice(db: SqlDb, n: NoticeClaim, now: number): Promise<void> {
  await db.run(
    `INSERT INTO notices (send_key, tracker_id, obligation, unit, period, stage, level, step, planned_at, fired_at, due,
       message_id, recipients_to, recipients_cc, status, attempts, created_at, claimed_until)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'sending', 0, ?, NULL)
     ON CONFLICT (send_key) DO NOTHING`,
    [
      n.sendKey,
      n.trackerId,
      n.obligation,
      n.unit,
      n.period,
      n.stage,
      n.level,
      n.step,
      n.plannedAt,
      n.firedAt,
      n.due,
      n.messageId,
      JSON.stringify(n.to),
      JSON.stringify(n.cc),
      now,
    ],
  );
}

export async function notice(db: SqlDb, sendKey: string): Promise<NoticeRow | undefined> {
  const [row] = await db.all<NoticeRow>('SELECT * FROM notices WHERE send_key = ?', [sendKey]);
  return row && normaliseNotice(row);
}

/**
 * The notices, without the recipients' copies (a notice is one row however many people it went to) unless
 * `copies` asks for them too.
 */
export async function notices(db: SqlDb, filter: { trackerId?: string; copies?: boolean }): Promise<NoticeRow[]> {
  const clauses = [...(filter.trackerId ? ['tracker_id = ?'] : []), ...(filter.copies ? [] : ['notice_key IS NULL'])];
  const where = clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
  const params: Param[] = filter.trackerId ? [filter.trackerId] : [];
  return (await db.all<NoticeRow>(`SELECT * FROM notices ${where} ORDER BY planned_at, send_key`, params)).map(
    normaliseNotice,
  );
}

/** The recipients' copies of one notice, by recipient. */
export async function noticeCopies(db: SqlDb, noticeKey: string): Promise<NoticeRow[]> {
  return (await db.all<NoticeRow>('SELECT * FROM notices WHERE notice_key = ? ORDER BY recipient', [noticeKey])).map(
    normaliseNotice,
  );
}

export async function noticeStatus(db: SqlDb, sendKey: string): Promise<NoticeStatus | undefined> {
  const [row] = await db.all<{ status: NoticeStatus }>('SELECT status FROM notices WHERE send_key = ?', [sendKey]);
  return row?.status;
}

/** PostgreSQL returns BIGINT as text; the ledger's callers get numbers from either back end. */
export function normaliseNotice(r: NoticeRow): NoticeRow {
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    ...r,
    level: Number(r.level),
    step: Number(r.step),
    attempts: Number(r.attempts),
    planned_at: Number(r.planned_at),
    fired_at: num(r.fired_at),
    created_at: Number(r.created_at),
    sent_at: num(r.sent_at),
    claimed_until: num(r.claimed_until),
    claim_token: r.claim_token ?? null,
    abandoned: Number(r.abandoned ?? 0),
    abandoned_reason: r.abandoned_reason ?? null,
    notice_key: r.notice_key ?? null,
    recipient: r.recipient ?? null,
    supervision_no: num(r.supervision_no),
    supervision_year: num(r.supervision_year),
  };
}

/** An item that turned red, waiting for its supervising office's daily digest (DOMAIN.md 12). */
export interface RedItem extends PeriodRef {
  itemKey: string;
  /** The tracker's supervising office: its unit id, name and addresses (columns office, office_name, office_to, office_cc). */
  supervisor: string;
  supervisorName: string;
  supervisorTo: string[];
  supervisorCc: string[];
  obligationTitle: string;
  unitName: string;
  due: string;
  turnedRedAt: number;
}

export interface RedItemRow extends PeriodColumns {
  item_key: string;
  office: string;
  office_name: string;
  office_to: string;
  office_cc: string;
  obligation_title: string;
  unit_name: string;
  due: string;
  turned_red_at: number;
  digest_key: string | null;
}

/** A red item as workers before the rename wrote it: a queued write scheduled by one may run on a newer worker. */
type LegacyRedItem = Omit<RedItem, 'supervisor' | 'supervisorName' | 'supervisorTo' | 'supervisorCc'> & {
  office: string;
  officeName: string;
  officeTo: string[];
  officeCc: string[];
};

export async function insertRedItem(db: SqlDb, given: RedItem | LegacyRedItem): Promise<void> {
  const item: RedItem =
    'supervisor' in given
      ? given
      : (({ office, officeName, officeTo, officeCc, ...rest }) => ({
          ...rest,
          supervisor: office,
          supervisorName: officeName,
          supervisorTo: officeTo,
          supervisorCc: officeCc,
        }))(given);
  await db.run(
    `INSERT INTO red_items (item_key, office, office_name, office_to, office_cc, tracker_id, obligation, obligation_title, unit, unit_name, period, due, turned_red_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (item_key) DO NOTHING`,
    [
      item.itemKey,
      item.supervisor,
      item.supervisorName,
      JSON.stringify(item.supervisorTo),
      JSON.stringify(item.supervisorCc),
      item.trackerId,
      item.obligation,
      item.obligationTitle,
      item.unit,
      item.unitName,
      item.period,
      item.due,
      item.turnedRedAt,
    ],
  );
}

/** The supervising offices with red items for the digest of `day`. */
export async function supervisorsForDigest(db: SqlDb, day: string, until: number): Promise<string[]> {
  const rows = await db.all<{ office: string }>(
    `SELECT DISTINCT office FROM red_items
     WHERE (digest_key IS NULL AND turned_red_at <= ?) OR digest_key = 'digest/' || office || '/' || ?
     ORDER BY office`,
    [until, day],
  );
  return rows.map((r) => r.office);
}

export async function takeRedItems(
  db: SqlDb,
  supervisor: string,
  digestKey: string,
  until: number,
): Promise<RedItemRow[]> {
  return db.transaction(async (tx) => {
    await tx.run('UPDATE red_items SET digest_key = ? WHERE office = ? AND digest_key IS NULL AND turned_red_at <= ?', [
      digestKey,
      supervisor,
      until,
    ]);
    const rows = await tx.all<RedItemRow>(
      'SELECT * FROM red_items WHERE digest_key = ? ORDER BY unit, obligation, period',
      [digestKey],
    );
    return rows.map((r) => ({ ...r, turned_red_at: Number(r.turned_red_at) }));
  });
}

/** Obligation titles as the trackers noted them in red items. */
export async function obligationTitles(db: SqlDb): Promise<Map<string, string>> {
  const rows = await db.all<{ obligation: string; obligation_title: string }>(
    'SELECT DISTINCT obligation, obligation_title FROM red_items ORDER BY obligation',
  );
  return new Map(rows.map((r) => [r.obligation, r.obligation_title]));
}
