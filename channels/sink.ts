/**
 * Local mail, the one SMTP sink: `duban start`'s mail catcher, `duban simulate`'s preview, the tests and the
 * benchmarks run it (an SMTP server on loopback, with fault hooks); reading a few headers of the raw messages is
 * shared by the console and the web service's mailbox (web/mailbox.ts), which shows the catcher's folder.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

/** A header's value, with folded continuation lines joined; '' when absent. */
export function headerValue(raw: string, name: string): string {
  const m = new RegExp(`^${name}:[ \\t]*(.*(?:\\r?\\n[ \\t].*)*)`, 'im').exec(raw);
  return m ? m[1]!.replace(/\r?\n[ \t]+/g, ' ').trim() : '';
}

/** RFC 2047 encoded words (=?UTF-8?B?...?=, =?UTF-8?Q?...?=) back to text. */
export function decodeEncodedWords(s: string): string {
  return s.replace(/=\?utf-8\?([bq])\?([^?]*)\?=\s*/gi, (_, enc: string, t: string) =>
    enc.toLowerCase() === 'b'
      ? Buffer.from(t, 'base64').toString('utf8')
      : Buffer.from(
          t.replace(/_/g, ' ').replace(/=([0-9a-f]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16))),
          'latin1',
        ).toString('utf8'),
  );
}

export interface MailSink {
  url: string;
  close(): Promise<void>;
}

/**
 * Faults a sink can be told to show (tests and benchmarks): addresses refused at RCPT TO (550), the next N
 * messages refused (451), a delay before each message is accepted (a gateway that scans content), and any message
 * `refuse` picks (451: an outage). Mutable: a test switches them while the sink runs.
 */
export interface MailFaults {
  rejectAddresses: Set<string>;
  failNext: number;
  delayMs: number;
  refuse?: (raw: Buffer) => boolean;
  /** How many messages were refused with 451 so far. */
  transientFailures: number;
}

export function noFaults(): MailFaults {
  return { rejectAddresses: new Set(), failNext: 0, delayMs: 0, transientFailures: 0 };
}

const smtpError = (message: string, responseCode: number) => Object.assign(new Error(message), { responseCode });

/**
 * The one local SMTP server on loopback: `duban start`'s mail catcher, `duban simulate`'s sink, the tests' server
 * and the benchmarks' sink. It hands every accepted message to `onMessage` (awaited before the server answers
 * 250) and shows the faults it is told to. Port 0 picks a free port.
 */
export async function startMailSink(
  port: number,
  onMessage: (raw: Buffer, recipients: string[]) => void | Promise<void>,
  faults: MailFaults = noFaults(),
): Promise<MailSink> {
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onRcptTo(address, _session, cb) {
      if (faults.rejectAddresses.has(address.address))
        return cb(smtpError(`5.1.1 <${address.address}>: user unknown`, 550));
      cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        void (async () => {
          const raw = Buffer.concat(chunks);
          if (faults.failNext > 0 || faults.refuse?.(raw)) {
            if (faults.failNext > 0) faults.failNext--;
            faults.transientFailures++;
            return cb(smtpError('4.3.0 temporary failure, try again later', 451));
          }
          if (faults.delayMs > 0) await new Promise((r) => setTimeout(r, faults.delayMs));
          try {
            await onMessage(
              raw,
              session.envelope.rcptTo.map((r) => r.address),
            );
            cb();
          } catch (err) {
            cb(err as Error);
          }
        })();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  // After listening, a client that drops its connection (a worker killed mid-conversation) must not bring the
  // process down.
  server.on('error', () => undefined);
  return {
    url: `smtp://127.0.0.1:${(server.server.address() as AddressInfo).port}`,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
