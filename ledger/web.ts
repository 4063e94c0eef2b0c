/**
 * The web service's own tables (migrations 7, 9 and 28: web_sign_in_links, web_sessions, web_rate_limits,
 * evidence_files, web_link_submissions, web_form_submissions) and the 督办单 register it reads from notices. Only SHA-256 hashes of
 * sign-in and session tokens are stored. The routes reach these through `ledger.web`, never with SQL of their own.
 */
import type { NoticeRow } from './sending';
import type { Param, SqlDb } from './sql';
export interface SupervisionRow {
  /** The supervising office that numbered it (column supervision_office). */
  supervisor: string;
  year: number;
  number: number;
  trackerId: string;
  obligation: string;
  unit: string;
  period: string;
  due: string;
  sentAt: number | null;
  messageId: string;
  status: string;
  /** `escalation` (a level-2 督办单), or `raise`: a 提级督办 numbered by the office above the unit's office. */
  stage: string;
}

export interface SessionRow {
  email: string;
  csrf: string;
  lastSeenAt: number;
}

export interface EvidenceFileRow {
  sha256: string;
  trackerId: string;
  period: string;
  name: string;
  type: string;
  size: number;
  uploadedBy: string;
  uploadedAt: number;
}

type FileDbRow = {
  sha256: string;
  tracker_id: string;
  period: string;
  name: string;
  type: string;
  size: number;
  uploaded_by: string;
  uploaded_at: number;
};
const fileRow = (r: FileDbRow): EvidenceFileRow => ({
  sha256: r.sha256,
  trackerId: r.tracker_id,
  period: r.period,
  name: r.name,
  type: r.type,
  size: Number(r.size),
  uploadedBy: r.uploaded_by,
  uploadedAt: Number(r.uploaded_at),
});

export interface LinkSubmission {
  nonce: string;
  trackerId: string;
  period: string;
  action: string;
  email: string;
  createdAt: number;
  /** What was recorded (JSON), once the action went through; null while it is being sent. */
  result: string | null;
}

/** A signed-in form's one-time token as claimed (web_form_submissions). */
export interface FormSubmission {
  tokenHash: string;
  sessionHash: string;
  trackerId: string;
  action: string;
  email: string;
  createdAt: number;
  /** Where the first answer went (the page it redirected to), once the action went through; null meanwhile. */
  result: string | null;
}

export class WebTables {
  constructor(private readonly db: SqlDb) {}

  /** The 督办单 register: every numbered notice (level 2, and 提级督办 by the office above), by office and year. */
  async supervisionRegister(filter: { supervisor?: string; year?: number }): Promise<SupervisionRow[]> {
    const clauses = ['supervision_no IS NOT NULL'];
    const params: Param[] = [];
    if (filter.supervisor) {
      clauses.push('supervision_office = ?');
      params.push(filter.supervisor);
    }
    if (filter.year !== undefined) {
      clauses.push('supervision_year = ?');
      params.push(filter.year);
    }
    const rows = await this.db.all<NoticeRow>(
      `SELECT * FROM notices WHERE ${clauses.join(' AND ')} ORDER BY supervision_office, supervision_year, supervision_no`,
      params,
    );
    return rows.map((r) => ({
      supervisor: r.supervision_office ?? '',
      year: Number(r.supervision_year),
      number: Number(r.supervision_no),
      trackerId: r.tracker_id,
      obligation: r.obligation,
      unit: r.unit,
      period: r.period,
      due: r.due,
      sentAt: r.sent_at === null ? null : Number(r.sent_at),
      messageId: r.message_id,
      status: r.status,
      stage: r.stage,
    }));
  }

  // Sign-in links and sessions: only SHA-256 hashes of their tokens are stored.

  async saveSignInLink(link: {
    tokenHash: string;
    email: string;
    createdAt: number;
    expiresAt: number;
  }): Promise<void> {
    await this.db.run('INSERT INTO web_sign_in_links (token_hash, email, created_at, expires_at) VALUES (?, ?, ?, ?)', [
      link.tokenHash,
      link.email,
      link.createdAt,
      link.expiresAt,
    ]);
  }

  /** A valid, unused link, without using it (what the confirmation page shows). */
  async peekSignInLink(tokenHash: string, now: number): Promise<string | undefined> {
    const [row] = await this.db.all<{ email: string }>(
      'SELECT email FROM web_sign_in_links WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?',
      [tokenHash, now],
    );
    return row?.email;
  }

  /** Uses a link once: the address it was for, or undefined when unknown, used or expired. */
  async consumeSignInLink(tokenHash: string, now: number): Promise<string | undefined> {
    return this.db.transaction(async (tx) => {
      const changed = await tx.run(
        'UPDATE web_sign_in_links SET used_at = ? WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?',
        [now, tokenHash, now],
      );
      if (changed !== 1) return undefined;
      const [row] = await tx.all<{ email: string }>('SELECT email FROM web_sign_in_links WHERE token_hash = ?', [
        tokenHash,
      ]);
      return row?.email;
    });
  }

  async createSession(s: { sessionHash: string; email: string; csrf: string; now: number }): Promise<void> {
    await this.db.run(
      'INSERT INTO web_sessions (session_hash, email, csrf, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?)',
      [s.sessionHash, s.email, s.csrf, s.now, s.now],
    );
  }

  /** A session that is not revoked and was used within the idle timeout. */
  async findSession(sessionHash: string, now: number, idleMs: number): Promise<SessionRow | undefined> {
    const [row] = await this.db.all<{ email: string; csrf: string; last_seen_at: number }>(
      'SELECT email, csrf, last_seen_at FROM web_sessions WHERE session_hash = ? AND revoked_at IS NULL AND last_seen_at > ?',
      [sessionHash, now - idleMs],
    );
    return row && { email: row.email, csrf: row.csrf, lastSeenAt: Number(row.last_seen_at) };
  }

  async touchSession(sessionHash: string, now: number): Promise<void> {
    await this.db.run('UPDATE web_sessions SET last_seen_at = ? WHERE session_hash = ? AND revoked_at IS NULL', [
      now,
      sessionHash,
    ]);
  }

  async revokeSession(sessionHash: string, now: number): Promise<void> {
    await this.db.run('UPDATE web_sessions SET revoked_at = ? WHERE session_hash = ? AND revoked_at IS NULL', [
      now,
      sessionHash,
    ]);
  }

  /** Revokes every session of an address (an administrator's lever when a mailbox is compromised). */
  async revokeSessionsOf(email: string, now: number): Promise<number> {
    return this.db.run('UPDATE web_sessions SET revoked_at = ? WHERE email = ? AND revoked_at IS NULL', [now, email]);
  }

  /**
   * Counts one hit in a fixed window and returns the window's count so far. In the database, so that every
   * instance behind the proxy shares the same counters.
   */
  async hitRateLimit(bucket: string, windowMs: number, now: number): Promise<number> {
    const windowStart = now - (now % windowMs);
    const [row] = await this.db.all<{ hits: number }>(
      `INSERT INTO web_rate_limits (bucket, window_start, hits) VALUES (?, ?, 1)
       ON CONFLICT (bucket, window_start) DO UPDATE SET hits = web_rate_limits.hits + 1
       RETURNING hits`,
      [bucket, windowStart],
    );
    // Old windows are of no use: drop them now and then, cheaply.
    if (Math.random() < 0.01)
      await this.db.run('DELETE FROM web_rate_limits WHERE window_start < ?', [windowStart - windowMs]);
    return Number(row?.hits ?? 1);
  }

  async recordEvidenceFiles(rows: EvidenceFileRow[]): Promise<void> {
    await this.db.transaction(async (tx) => {
      for (const f of rows) {
        await tx.run(
          `INSERT INTO evidence_files (sha256, tracker_id, period, name, type, size, uploaded_by, uploaded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (sha256, tracker_id, period) DO NOTHING`,
          [f.sha256, f.trackerId, f.period, f.name, f.type, f.size, f.uploadedBy, f.uploadedAt],
        );
      }
    });
  }

  async evidenceFiles(trackerId: string): Promise<EvidenceFileRow[]> {
    const rows = await this.db.all<FileDbRow>(
      'SELECT * FROM evidence_files WHERE tracker_id = ? ORDER BY uploaded_at, name',
      [trackerId],
    );
    return rows.map(fileRow);
  }

  /** A file attached to this tracker: downloads are checked against the tracker, never by hash alone. */
  async evidenceFile(trackerId: string, sha256: string): Promise<EvidenceFileRow | undefined> {
    const [row] = await this.db.all<FileDbRow>(
      'SELECT * FROM evidence_files WHERE tracker_id = ? AND sha256 = ? ORDER BY uploaded_at LIMIT 1',
      [trackerId, sha256],
    );
    return row && fileRow(row);
  }

  /** Whether any tracker still refers to a stored file (a refused upload's file is removed otherwise). */
  async evidenceReferenced(sha256: string): Promise<boolean> {
    const rows = await this.db.all<{ n: number }>('SELECT COUNT(*) AS n FROM evidence_files WHERE sha256 = ?', [
      sha256,
    ]);
    return Number(rows[0]?.n ?? 0) > 0;
  }

  /** Claims a nonce: true for the first submit, false when it was claimed before. */
  async claimLinkSubmission(s: Omit<LinkSubmission, 'result'>): Promise<boolean> {
    const changed = await this.db.run(
      'INSERT INTO web_link_submissions (nonce, tracker_id, period, action, email, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (nonce) DO NOTHING',
      [s.nonce, s.trackerId, s.period, s.action, s.email, s.createdAt],
    );
    return changed === 1;
  }

  async linkSubmission(nonce: string): Promise<LinkSubmission | undefined> {
    const [r] = await this.db.all<{
      nonce: string;
      tracker_id: string;
      period: string;
      action: string;
      email: string;
      created_at: number;
      result: string | null;
    }>('SELECT * FROM web_link_submissions WHERE nonce = ?', [nonce]);
    return (
      r && {
        nonce: r.nonce,
        trackerId: r.tracker_id,
        period: r.period,
        action: r.action,
        email: r.email,
        createdAt: Number(r.created_at),
        result: r.result,
      }
    );
  }

  async finishLinkSubmission(nonce: string, result: string): Promise<void> {
    await this.db.run('UPDATE web_link_submissions SET result = ? WHERE nonce = ?', [result, nonce]);
  }

  /** A refused or failed submit gives its nonce back, so the person can correct the form and send it again. */
  async releaseLinkSubmission(nonce: string): Promise<void> {
    await this.db.run('DELETE FROM web_link_submissions WHERE nonce = ? AND result IS NULL', [nonce]);
  }

  /**
   * Claims a signed-in form's one-time token (its SHA-256): true for the first submit, false when it was claimed
   * before (a replay, a double click). The claim is the primary key, so two submits at once cannot both win.
   */
  async claimFormSubmission(s: Omit<FormSubmission, 'result'>): Promise<boolean> {
    const changed = await this.db.run(
      `INSERT INTO web_form_submissions (token_hash, session_hash, tracker_id, action, email, created_at)
       VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (token_hash) DO NOTHING`,
      [s.tokenHash, s.sessionHash, s.trackerId, s.action, s.email, s.createdAt],
    );
    return changed === 1;
  }

  async formSubmission(tokenHash: string): Promise<FormSubmission | undefined> {
    const [r] = await this.db.all<{
      token_hash: string;
      session_hash: string;
      tracker_id: string;
      action: string;
      email: string;
      created_at: number;
      result: string | null;
    }>('SELECT * FROM web_form_submissions WHERE token_hash = ?', [tokenHash]);
    return (
      r && {
        tokenHash: r.token_hash,
        sessionHash: r.session_hash,
        trackerId: r.tracker_id,
        action: r.action,
        email: r.email,
        createdAt: Number(r.created_at),
        result: r.result,
      }
    );
  }

  async finishFormSubmission(tokenHash: string, result: string): Promise<void> {
    await this.db.run('UPDATE web_form_submissions SET result = ? WHERE token_hash = ?', [result, tokenHash]);
  }

  /** A refused or failed submit gives its token back, so the person can correct the form and send it again. */
  async releaseFormSubmission(tokenHash: string): Promise<void> {
    await this.db.run('DELETE FROM web_form_submissions WHERE token_hash = ? AND result IS NULL', [tokenHash]);
  }
}
