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
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') throw new Error(`SMTP URL must start with smtp:// or smtps://, not ${url.protocol}//`);
  const secure = url.protocol === 'smtps:';
  const options: SMTPPool.Options = {
    pool: true,
    host: url.hostname,
    port: url.port ? Number(url.port) : secure ? 465 : 587,
    secure,
    requireTLS: settings.requireTls ?? false,
    maxConnections: settings.maxConnections ?? 5,
    maxMessages: 1000,
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
  const permanent = e.code === 'EENVELOPE' || (typeof e.responseCode === 'number' && e.responseCode >= 500 && e.responseCode < 600 && e.code !== 'EAUTH');
  return { permanent, rejected: Array.isArray(e.rejected) ? e.rejected.map(String) : [], reason };
}
