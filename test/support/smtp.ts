/**
 * The tests' SMTP server: duban's one local sink (channels/sink.ts) with every message parsed by mailparser and
 * kept. Faults can be switched on while it runs: addresses rejected permanently (550), a number of transient
 * failures (451), a delay per message, and an outage in the messages' own time.
 */
import { AddressObject, ParsedMail, simpleParser } from 'mailparser';
import { MailFaults, headerValue, startMailSink } from '../../channels/sink';

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
  } as SmtpSink & MailFaults;
  // The outage is judged by the message's own Date header, so that it follows skipped time too.
  sink.refuse = (raw) =>
    sink.outageUntil > 0 &&
    (Date.parse(headerValue(raw.subarray(0, 16384).toString('utf8'), 'Date')) || 0) < sink.outageUntil;
  const server = await startMailSink(
    0,
    async (buffer, recipients) => {
      const raw = buffer.toString('utf8');
      const parsed = await simpleParser(raw);
      sink.messages.push({
        parsed,
        raw,
        envelopeTo: recipients,
        messageId: parsed.messageId ?? '',
        key: String(parsed.headers.get('x-duban-key') ?? ''),
        date: parsed.date?.getTime() ?? 0,
        receivedAt: Date.now(),
        to: addresses(parsed.to),
        cc: addresses(parsed.cc),
      });
    },
    sink,
  );
  sink.url = server.url;
  sink.port = Number(new URL(server.url).port);
  sink.close = server.close;
  sink.waitFor = async (count, timeoutMs = 30_000) => {
    const until = Date.now() + timeoutMs;
    while (sink.messages.length < count) {
      if (Date.now() > until) throw new Error(`expected ${count} messages, got ${sink.messages.length}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return sink;
}
