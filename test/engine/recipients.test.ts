/**
 * Per-recipient links through the tracker workflow (issue 19.5), on the time-skipping server: every notice of a
 * period goes to each of its recipients as a copy of their own, exactly once, also when the SMTP server fails an
 * attempt; each copy's links are signed for its recipient alone; each recipient's copies form one thread.
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { randomBytes } from 'node:crypto';
import { recipientMessageId } from '../../activities';
import { parseLinkKeys, verifyLink } from '../../channels/links';
import { WorkingCalendar } from '../../domain/calendar';
import { formatDate } from '../../domain/dates';
import { parsePeriod } from '../../domain/periods';
import { planPeriod } from '../../domain/planner';
import type { TrackerDefinition } from '../../domain/trackers';
import { localDay } from '../../domain/zone';
import { Ledger } from '../../ledger';
import {
  EngineWorker,
  startEngineWorker,
  startTracker,
  statusOf,
  tempLedgerFile,
  timeSkippingEnv,
} from '../support/engine';
import { SmtpSink, startSmtpSink } from '../support/smtp';
import { tracker } from '../support/trackers';

jest.setTimeout(300_000);

const dueDay = formatDate(localDay(Date.now(), 'Asia/Shanghai') + 21);
const definition: TrackerDefinition = {
  ...tracker({
    obligation: { id: 'personal', period: 'once', due: { rule: 'fixed-date', date: dueDay } },
    reminders: [3, 0],
    escalation: [{ level: 1, after: 1, repeatWeekly: false }],
  }),
  trackerId: 'personal/unit',
};
const keys = parseLinkKeys(`k1:${randomBytes(32).toString('base64')}`);
const from = { name: '督办系统', address: 'duban@test.example.org' };

let env: TestWorkflowEnvironment;
let sink: SmtpSink;
let ledger: Ledger;
let engine: EngineWorker;

beforeAll(async () => {
  env = await timeSkippingEnv();
  sink = await startSmtpSink();
  ledger = await Ledger.open({ sqliteFile: tempLedgerFile() });
  engine = await startEngineWorker({
    connection: env.nativeConnection,
    taskQueue: 'recipients',
    sink,
    ledger,
    links: { keys, baseUrl: 'https://duban.test', graceMs: 86_400_000 },
  });
});
afterAll(async () => {
  await engine?.stop();
  await ledger?.close();
  await sink?.close();
  await env?.teardown();
});

test('each notice reaches each recipient once, with only their links, one thread each, through a failed attempt', async () => {
  const handle = await startTracker(env.client, 'recipients', definition);
  await statusOf(handle);
  const plan = planPeriod(definition, parsePeriod('once', 'once')!, new WorkingCalendar());
  const [first] = plan.notices;
  // The first copy attempted of the first reminder meets a 451; the tracker retries.
  await env.sleep(first!.at - 60_000 - (await env.currentTimeMs()));
  sink.failNext = 1;
  const end = plan.notices[plan.notices.length - 1]!.at + 3_600_000;
  await env.sleep(end - (await env.currentTimeMs()));
  expect(sink.transientFailures).toBe(1);

  const notices = await ledger.notices({ trackerId: definition.trackerId });
  expect(notices.map((n) => n.status)).toEqual(plan.notices.map(() => 'sent'));
  let previous = new Map<string, string>();
  for (const n of notices) {
    const recipients = [...new Set([...JSON.parse(n.recipients_to), ...JSON.parse(n.recipients_cc)] as string[])];
    const copies = sink.messages.filter((m) => m.key.startsWith(`${n.send_key}/to/`));
    // Exactly one copy per recipient, to that recipient alone.
    expect(copies.map((m) => m.envelopeTo[0]).sort()).toEqual([...recipients].sort());
    expect(copies.every((m) => m.envelopeTo.length === 1)).toBe(true);
    for (const m of copies) {
      const recipient = m.envelopeTo[0]!;
      expect(m.messageId).toBe(recipientMessageId(n.message_id, recipient, from));
      const tokens = [...(m.parsed.text ?? '').matchAll(/\/a\/([^/\s]+)\/\w+/g)].map((x) => x[1]!);
      expect(tokens.length).toBeGreaterThan(0);
      for (const token of tokens)
        expect(verifyLink(token, keys, await env.currentTimeMs())).toMatchObject({
          ok: true,
          claims: { email: recipient },
        });
      // The recipient's thread: the reply goes to their own copy of the period's previous notice.
      if (previous.has(recipient)) expect(m.parsed.inReplyTo).toBe(previous.get(recipient));
    }
    previous = new Map(copies.map((m) => [m.envelopeTo[0]!, m.messageId]));
    const rows = await ledger.noticeCopies(n.send_key);
    expect(rows.map((r) => r.status)).toEqual(recipients.map(() => 'sent'));
  }
  expect(sink.messages.length).toBe(new Set(sink.messages.map((m) => m.messageId)).size);
});
