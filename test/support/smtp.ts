/**
 * A real SMTP server on loopback for tests: every message is parsed with mailparser and kept. Faults can be
 * switched on: addresses rejected permanently (550) and a number of transient failures (451).
 */
import { AddressObject, ParsedMail, simpleParser } from 'mailparser';
import { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  parsed: ParsedMail;
  raw: string;
  envelopeTo: string[];
  messageId: string;
  key: string;
  date: number;
  /** When the server accepted it (the sink's clock). */
  receivedAt: number;
  to: string[];
  cc: string[];
}

export interface SmtpSink {
  url: string;
  port: number;
  messages: ReceivedMail[];
  /** Addresses answered with 550 at RCPT TO. */
  rejectAddresses: Set<string>;
  /** The next N DATA commands are answered with 451 (try again later). */
  failNext: number;
  transientFailures: number;
  /** How long the server takes to accept each message (a gateway that scans content). */
  delayMs: number;
  /**
   * An outage, in the messages' own time: DATA is answered 451 while the message's Date header is before this
   * instant (on the time-skipping server that is the skipped time of the attempt).
   */
  outageUntil: number;
  close(): Promise<void>;
  waitFor(count: number, timeoutMs?: number): Promise<void>;
}

const addresses = (a: AddressObject | AddressObject[] | undefined) =>
  (Array.isArray(a) ? a : a ? [a] : []).flatMap((x) => x.value.map((v) => v.address ?? ''));

export async function startSmtpSink(): Promise<SmtpSink> {
  const sink = {
    messages: [] as ReceivedMail[],
    rejectAddresses: new Set<string>(),
    failNext: 0,
    transientFailures: 0,
    delayMs: 0,
    outageUntil: 0,
  } as SmtpSink;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(address, _session, cb) {
      if (sink.rejectAddresses.has(address.address)) {
        const err = new Error(`5.1.1 <${address.address}>: user unknown`) as Error & { responseCode: number };
        err.responseCode = 550;
        return cb(err);
      }
      cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', async () => {
        if (sink.failNext > 0) {
          sink.failNext--;
          sink.transientFailures++;
          const err = new Error('4.3.0 temporary failure, try again later') as Error & { responseCode: number };
          err.responseCode = 451;
          return cb(err);
        }
        if (sink.delayMs > 0) await new Promise((r) => setTimeout(r, sink.delayMs));
        const raw = Buffer.concat(chunks).toString('utf8');
        const parsed = await simpleParser(raw);
        if ((parsed.date?.getTime() ?? 0) < sink.outageUntil) {
          sink.transientFailures++;
          const err = new Error('4.3.0 mail system down, try again later') as Error & { responseCode: number };
          err.responseCode = 451;
          return cb(err);
        }
        sink.messages.push({
          parsed,
          raw,
          envelopeTo: session.envelope.rcptTo.map((r) => r.address),
          messageId: parsed.messageId ?? '',
          key: String(parsed.headers.get('x-duban-key') ?? ''),
          date: parsed.date?.getTime() ?? 0,
          receivedAt: Date.now(),
          to: addresses(parsed.to),
          cc: addresses(parsed.cc),
        });
        cb();
      });
    },
  });
  // A client killed mid-conversation (the crash tests) resets its connection: expected, not a test failure.
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  sink.port = (server.server.address() as AddressInfo).port;
  sink.url = `smtp://127.0.0.1:${sink.port}`;
  sink.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  sink.waitFor = async (count, timeoutMs = 30_000) => {
    const until = Date.now() + timeoutMs;
    while (sink.messages.length < count) {
      if (Date.now() > until) throw new Error(`expected ${count} messages, got ${sink.messages.length}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return sink;
}
