/**
 * What the benchmarks' peers send, and through what: the same message and the same pooled nodemailer transport for
 * plain nodemailer and for BullMQ (bench/storm.bench.ts, bench/bullmq-faults.bench.ts), so that the figures they
 * print beside duban's compare like with like.
 */
import nodemailer from 'nodemailer';
import type Mail from 'nodemailer/lib/mailer';

/** The pool's connections, as duban's worker is given them (SMTP_MAX_CONNECTIONS, default 5). */
export const PEER_CONNECTIONS = Number(process.env.SMTP_MAX_CONNECTIONS ?? 5);

/** A pooled transport to the local sink on `port`, sending as fast as its connections allow. */
export function peerTransport(port: number) {
  return nodemailer.createTransport({
    pool: true,
    maxConnections: PEER_CONNECTIONS,
    host: '127.0.0.1',
    port,
    secure: false,
    maxMessages: Infinity,
  });
}

/** The i-th unit's reminder, as a peer sends it. */
export function peerMessage(i: number, messageId: string): Mail.Options {
  return {
    from: 'bench@example.org',
    to: `u${i}.liaison@bench.example.org`,
    cc: `u${i}.head@bench.example.org`,
    subject: '【督办提醒】基准测试',
    text: '基准测试正文',
    messageId,
  };
}
