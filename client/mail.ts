/**
 * Local mail for `duban start` (the mail catcher) and `duban simulate` (the preview's sink): an SMTP server on
 * loopback, and reading a few headers of the raw messages for the console.
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
      : Buffer.from(t.replace(/_/g, ' ').replace(/=([0-9a-f]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8'),
  );
}

export interface MailSink {
  url: string;
  close(): Promise<void>;
}

/**
 * A local SMTP server on loopback that hands every message to `onMessage`: the mail catcher of `duban start` and
 * the sink of `duban simulate`. Port 0 picks a free port.
 */
export async function startMailSink(port: number, onMessage: (raw: Buffer, recipients: string[]) => void): Promise<MailSink> {
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        onMessage(Buffer.concat(chunks), session.envelope.rcptTo.map((r) => r.address));
        cb();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  // After listening, a client that drops its connection must not bring the process down.
  server.on('error', () => undefined);
  return { url: `smtp://127.0.0.1:${(server.server.address() as AddressInfo).port}`, close: () => new Promise((r) => server.close(() => r())) };
}
