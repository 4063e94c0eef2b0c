/**
 * Email over SMTP with nodemailer: a pooled transport configured by URL, with TLS, and the classification of
 * failures into transient (retried by Temporal with backoff) and permanent (recorded and reported, never retried).
 */
import { readFileSync } from 'node:fs';
import nodemailer, { Transporter } from 'nodemailer';
import type SMTPPool from 'nodemailer/lib/smtp-pool';

export interface SmtpSettings {
  /** smtp://user:password@host:587 (STARTTLS when offered), smtps://host:465 (implicit TLS). */
  url: string;
  /** Refuse to send unless the connection is encrypted (STARTTLS required on smtp://). */
  requireTls?: boolean;
  /** PEM file of a private certificate authority to trust. */
  caFile?: string;
  /** Only for test servers with self-signed certificates. */
  allowInvalidCertificates?: boolean;
  maxConnections?: number;
}

export function createSmtpTransport(settings: SmtpSettings): Transporter {
  const url = new URL(settings.url);
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:')
    throw new Error(`SMTP URL must start with smtp:// or smtps://, not ${url.protocol}//`);
  const secure = url.protocol === 'smtps:';
  const options: SMTPPool.Options = {
    pool: true,
    host: url.hostname,
    port: url.port ? Number(url.port) : secure ? 465 : 587,
    secure,
    requireTLS: settings.requireTls ?? false,
    maxConnections: settings.maxConnections ?? 5,
    maxMessages: 1000,
    // A connection that closes mid-message is not retried by the pool on its own: the message may have reached the
    // server, and every retry must pass through the send attempt's fence first (activities/delivery.ts).
    maxRequeues: 0,
    // Below the activity's 30-second start-to-close timeout, so a stuck server fails the attempt and it is retried.
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 20_000,
    tls: {
      ca: settings.caFile ? readFileSync(settings.caFile) : undefined,
      rejectUnauthorized: !settings.allowInvalidCertificates,
      servername: url.hostname,
    },
  };
  if (url.username) options.auth = { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) };
  return nodemailer.createTransport(options);
}

export interface SmtpFailure {
  permanent: boolean;
  /** Addresses the server refused, when it said which. */
  rejected: string[];
  reason: string;
}

/**
 * A 5xx reply, or an envelope the server refused, is permanent: retrying would only bounce again. Everything
 * else (connection trouble, 4xx, authentication or TLS problems an operator can fix) is transient and retried,
 * so that no notice is dropped while the mail system is being repaired.
 */
export function classifySmtpError(err: unknown): SmtpFailure {
  const e = err as { code?: string; responseCode?: number; response?: string; message?: string; rejected?: string[] };
  const reason = (e.response ?? e.message ?? String(err)).slice(0, 300);
  const permanent =
    e.code === 'EENVELOPE' ||
    (typeof e.responseCode === 'number' && e.responseCode >= 500 && e.responseCode < 600 && e.code !== 'EAUTH');
  return { permanent, rejected: Array.isArray(e.rejected) ? e.rejected.map(String) : [], reason };
}

/** The last failure of the SMTP connection, as a log or the board may show it (no password: nodemailer never puts it in errors). */
export interface SmtpProblem {
  code?: string;
  responseCode?: number;
  message: string;
}

export type SmtpHealthEvent =
  { kind: 'failing'; since: number; problem: SmtpProblem } | { kind: 'recovered'; since: number; failures: number };

/**
 * Whether the worker's SMTP server is taking messages, as seen by its send attempts (issue 13.5): wrong credentials
 * or a server that accepts nothing are transient failures that Temporal retries for ever, so that no notice is lost
 * while the mail system is repaired. This makes that state visible: the worker logs one error when it begins
 * (worker/operations.ts), readiness and metrics show it, and after a while the board does.
 */
export class SmtpHealth {
  failingSince?: number;
  lastProblem?: SmtpProblem;
  failures = 0;
  lastSentAt?: number;
  private listeners = new Set<(e: SmtpHealthEvent) => void>();

  on(listener: (e: SmtpHealthEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Whether the operator was told (the 'failing' event went out) for the current run of failures. */
  private announced = false;

  /**
   * A send failed transiently (connection, authentication, TLS, 4xx). The operator is told at once when the server
   * cannot be reached or refuses the login, and at the third failure in a row otherwise: a single 4xx (greylisting,
   * a busy server) is retried quietly.
   */
  failed(err: unknown, now = Date.now()): void {
    const e = err as { code?: string; responseCode?: number; response?: string; message?: string };
    this.lastProblem = {
      code: e.code,
      responseCode: e.responseCode,
      message: String(e.response ?? e.message ?? err).slice(0, 300),
    };
    this.failures++;
    this.failingSince ??= now;
    if (!this.announced && (IMMEDIATE_SMTP_FAILURES.has(e.code ?? '') || this.failures >= 3)) {
      this.announced = true;
      this.emit({ kind: 'failing', since: this.failingSince, problem: this.lastProblem });
    }
  }

  /** The server answered a message (accepted or refused it for good): the connection works. */
  answered(now = Date.now()): void {
    this.lastSentAt = now;
    if (this.failingSince === undefined) return;
    const event: SmtpHealthEvent = { kind: 'recovered', since: this.failingSince, failures: this.failures };
    const told = this.announced;
    this.failingSince = undefined;
    this.failures = 0;
    this.announced = false;
    if (told) this.emit(event);
  }

  private emit(e: SmtpHealthEvent) {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // a listener's failure is not the sender's
      }
    }
  }
}

/** nodemailer's codes for a server that cannot be reached, a failed login, or a failed TLS handshake. */
const IMMEDIATE_SMTP_FAILURES = new Set([
  'EAUTH',
  'ECONNECTION',
  'ETIMEDOUT',
  'ESOCKET',
  'EDNS',
  'ETLS',
  'ECONNREFUSED',
  'ENOAUTH',
]);

const healthOfTransport = new WeakMap<object, SmtpHealth>();

/** The health of one transport, shared by the delivery code that uses it and the worker that reports on it. */
export function smtpHealthOf(transport: object): SmtpHealth {
  let h = healthOfTransport.get(transport);
  if (!h) healthOfTransport.set(transport, (h = new SmtpHealth()));
  return h;
}

/**
 * The transport's server answers and accepts the credentials (nodemailer's verify: connect, EHLO, STARTTLS, AUTH),
 * within `timeoutMs`.
 */
export async function verifySmtp(transport: Transporter, timeoutMs = 5_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      transport.verify(),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })),
          timeoutMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
