/**
 * Per-recipient links (issue 19.5): a notice to the liaison with the head in copy goes as one message to each,
 * each holding only its recipient's signed links, so that no link in the liaison's mailbox acts as the head.
 * Each copy is claimed on its own in the ledger (the same lease and fence), so each recipient gets exactly one
 * message per notice, also when a retry follows a copy that failed; the copies thread by per-recipient Message-IDs
 * derived from the notice's, and the ledger still shows one notice.
 */
import { randomBytes } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import nodemailer from 'nodemailer';
import { createActivities, DeliveryRequest, messageIdFor, recipientMessageId } from '../activities';
import { parseLinkKeys, verifyLink } from '../channels/links';
import { WorkingCalendar } from '../domain/calendar';
import { noticeKey } from '../domain/planner';
import { Ledger } from '../ledger';
import { tempLedgerFile } from './support/engine';
import { TestPostgres, startTestPostgres } from './support/postgres';
import { SmtpSink, startSmtpSink } from './support/smtp';
import { tracker } from './support/trackers';

jest.setTimeout(60_000);

const keys = parseLinkKeys(`k1:${randomBytes(32).toString('base64')}`);
const from = { name: '督办系统', address: 'duban@test.example.org' };
let sink: SmtpSink;
let ledger: Ledger;
let pg: TestPostgres | undefined;

beforeAll(async () => {
  sink = await startSmtpSink();
});

afterAll(async () => {
  await sink?.close();
});

const t = tracker();
const dueAt = Date.UTC(2027, 1, 28, 16);
function request(step: number, thread: string[] = []): DeliveryRequest {
  const at = Date.UTC(2027, 1, 20, 1) + step;
  return {
    definition: t,
    notice: {
      at,
      day: 0,
      trackerId: t.trackerId,
      obligation: t.obligation.id,
      unit: t.unit.id,
      period: '2026',
      due: '2027-02-28',
      stage: 'reminder',
      level: 0,
      step,
      to: [t.unit.liaison.email],
      cc: [t.unit.head.email],
    },
    period: { label: '2026', due: '2027-02-28', originalDue: '2027-02-28', dueAt, endsAt: dueAt + 90 * 86_400_000 },
    firedAt: at,
    thread,
    progress: { recorded: 0, quota: 1 },
  };
}

const linkTokens = (text: string) => [...text.matchAll(/\/a\/([^/\s"]+)\/\w+/g)].map((m) => m[1]!);

describe.each(['sqlite', 'postgres'] as const)('on %s', (dialect) => {
  beforeAll(async () => {
    sink.messages.length = 0;
    if (dialect === 'postgres') {
      pg = await startTestPostgres();
      ledger = await Ledger.open({ databaseUrl: pg.url });
      // An external test database may hold an earlier run's rows.
      await ledger.db.run("DELETE FROM notices WHERE tracker_id = 'annual-report/unit'");
    } else ledger = await Ledger.open({ sqliteFile: tempLedgerFile() });
  });
  afterAll(async () => {
    await ledger?.close();
    await pg?.stop();
  });

  test('the liaison and the head each get one message with only their own links; a retry sends nothing more', async () => {
    const transport = nodemailer.createTransport({ url: sink.url, pool: true, maxConnections: 2 } as never);
    const activities = createActivities({
      ledger,
      transport,
      from,
      calendar: new WorkingCalendar(),
      connections: 2,
      links: { keys, baseUrl: 'https://duban.test', graceMs: 0 },
    });
    const env = new MockActivityEnvironment();
    const deliver = (req: DeliveryRequest) => env.run(activities.deliverNotice, req);
    try {
      const first = request(3);
      const key = noticeKey(first.notice);
      const messageId = messageIdFor(key, from);
      // The head's copy fails once (451): the attempt fails, the liaison's copy having gone out.
      let calls = 0;
      const realRefuse = (sink as unknown as { refuse?: (raw: Buffer) => boolean }).refuse;
      (sink as unknown as { refuse: (raw: Buffer) => boolean }).refuse = (raw) =>
        raw.toString('utf8').includes(`${key}/to/${t.unit.head.email}`) && calls++ === 0;
      await expect(deliver(first)).rejects.toThrow();
      expect(sink.messages.map((m) => m.envelopeTo)).toEqual([[t.unit.liaison.email]]);
      // The tracker's retry: only the head's copy is sent now.
      await expect(deliver(first)).resolves.toMatchObject({ messageId, status: 'sent' });
      // And a retry after success sends nothing.
      await expect(deliver(first)).resolves.toMatchObject({ messageId, status: 'already-sent' });
      (sink as unknown as { refuse?: (raw: Buffer) => boolean }).refuse = realRefuse;

      const copies = sink.messages.filter((m) => m.key.startsWith(key));
      expect(copies.map((m) => m.envelopeTo)).toEqual([[t.unit.liaison.email], [t.unit.head.email]]);
      for (const m of copies) {
        const recipient = m.envelopeTo[0]!;
        // The headers still show the notice's people: to the liaison, the head in copy.
        expect(m.to).toEqual([t.unit.liaison.email]);
        expect(m.cc).toEqual([t.unit.head.email]);
        expect(m.messageId).toBe(recipientMessageId(messageId, recipient, from));
        // Every link in the copy, in the text and the HTML part, acts as its recipient and nobody else.
        const tokens = [...linkTokens(m.parsed.text ?? ''), ...linkTokens(String(m.parsed.html ?? ''))];
        expect(tokens.length).toBeGreaterThanOrEqual(8);
        for (const token of tokens) {
          const check = verifyLink(token, keys, Date.now());
          expect(check).toMatchObject({ ok: true, claims: { email: recipient } });
        }
        const other = recipient === t.unit.head.email ? t.unit.liaison : t.unit.head;
        expect(m.parsed.text).not.toContain(other.name + '：');
        expect(m.parsed.text).toContain('仅供您本人使用');
      }
      // The ledger shows one notice, sent to both; each copy is a row of its own, sent once.
      const rows = await ledger.notices({ trackerId: t.trackerId });
      expect(rows).toEqual([
        expect.objectContaining({
          send_key: key,
          status: 'sent',
          accepted: JSON.stringify([t.unit.liaison.email, t.unit.head.email]),
        }),
      ]);
      const copyRows = await ledger.noticeCopies(key);
      expect(copyRows.map((r) => [r.recipient, r.status, r.attempts])).toEqual([
        [t.unit.head.email, 'sent', 2], // its first attempt met the 451
        [t.unit.liaison.email, 'sent', 1],
      ]);

      // The period's next notice threads each copy to that recipient's copy of the first.
      const second = request(1, [messageId]);
      await deliver(second);
      const next = sink.messages.filter((m) => m.key.startsWith(noticeKey(second.notice)));
      expect(next).toHaveLength(2);
      for (const m of next) {
        const recipient = m.envelopeTo[0]!;
        expect(m.parsed.inReplyTo).toBe(recipientMessageId(messageId, recipient, from));
        expect(m.parsed.references).toBe(recipientMessageId(messageId, recipient, from));
      }
    } finally {
      transport.close();
    }
  });
});
