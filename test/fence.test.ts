/**
 * The fence of a send attempt (issue 21): an attempt that stood still past its lease (SIGSTOP, a paused VM, a long
 * GC) and lost its claim to another attempt sends nothing, records why, and leaves the notice to the holder.
 * The processes and pauses themselves are in test/reliability/pause.test.ts; here one process plays both attempts.
 */
import nodemailer from 'nodemailer';
import { ConnectionSlots, RetryLater, UnrecordedResults, sendOnce } from '../activities/delivery';
import { Ledger, NoticeClaim } from '../ledger';
import { tempLedgerFile } from './support/engine';
import { SmtpSink, startSmtpSink } from './support/smtp';

jest.setTimeout(60_000);

let sink: SmtpSink;
let ledger: Ledger;

beforeAll(async () => {
  sink = await startSmtpSink();
  ledger = await Ledger.open({ sqliteFile: tempLedgerFile() });
});

afterAll(async () => {
  await ledger?.close();
  await sink?.close();
});

const claim = (sendKey: string): NoticeClaim => ({
  sendKey,
  trackerId: 'annual-report/justice',
  obligation: 'annual-report',
  unit: 'justice',
  period: '2027',
  stage: 'reminder',
  level: 0,
  step: 0,
  plannedAt: Date.UTC(2027, 1, 20, 1),
  firedAt: Date.UTC(2027, 1, 20, 1),
  due: '2027-03-01',
  messageId: `<${sendKey.replace(/\W/g, '.')}@duban.test>`,
  to: ['head@justice.test'],
  cc: [],
});

test('an attempt that stood still past its lease, its claim taken over meanwhile, sends nothing and says why', async () => {
  const transport = nodemailer.createTransport({ url: sink.url, pool: true, maxConnections: 2 } as never);
  const warned: { message: string; meta?: Record<string, unknown> }[] = [];
  const log = { warn: (message: string, meta?: Record<string, unknown>) => warned.push({ message, meta }) };
  const leaseMs = 300;
  const quiet = { info: () => undefined, warn: () => undefined };
  const d = {
    ledger,
    transport,
    slots: new ConnectionSlots(2),
    unrecorded: new UnrecordedResults(ledger, () => quiet),
    leaseMs,
    log,
  };
  const key = 'annual-report/justice/2027/reminder/0';
  const message = { from: 'duban@duban.test', to: ['head@justice.test'], subject: '提醒', text: '正文' };
  const ctx = { heartbeat: () => undefined };
  try {
    // The first attempt holds the claim, then stands still in its build step (as a stopped process would) for
    // longer than its lease; meanwhile the tracker's retry takes the claim over and sends.
    let resume!: () => void;
    const paused = new Promise<void>((r) => (resume = r));
    let stale: Promise<unknown> | undefined;
    const building = new Promise<void>((started) => {
      stale = sendOnce(
        d,
        claim(key),
        async () => {
          started();
          await paused;
          return { ...message, subject: '提醒（旧）' };
        },
        ctx,
      ).catch((err: unknown) => err);
    });
    await building;
    await new Promise((r) => setTimeout(r, 2 * leaseMs));
    const retry = await sendOnce(d, claim(key), async () => message, ctx);
    expect(retry).toMatchObject({ state: 'sent', status: 'sent' });
    // The first attempt wakes: it must not send.
    resume();
    const err = await stale;
    expect(err).toBeInstanceOf(RetryLater);
    expect(String((err as Error).message)).toMatch(/claim was lost before sending.*nothing was sent/);
    expect(sink.messages.filter((m) => m.key === key).map((m) => m.parsed.subject)).toEqual(['提醒']);
    expect(warned).toEqual([
      expect.objectContaining({
        message: expect.stringMatching(/abandoned/),
        meta: expect.objectContaining({ sendKey: key }),
      }),
    ]);
    const [row] = await ledger.notices({ trackerId: 'annual-report/justice' });
    expect(row).toMatchObject({ status: 'sent', subject: '提醒', attempts: 2, abandoned: 1 });
    expect(row!.abandoned_reason).toMatch(/lease ran out/);
  } finally {
    transport.close();
  }
});

test('an attempt whose lease ran out while it stood still, nobody having taken over, also sends nothing', async () => {
  const transport = nodemailer.createTransport({ url: sink.url, pool: true, maxConnections: 1 } as never);
  const leaseMs = 200;
  const quiet = { info: () => undefined, warn: () => undefined };
  const d = {
    ledger,
    transport,
    slots: new ConnectionSlots(1),
    unrecorded: new UnrecordedResults(ledger, () => quiet),
    leaseMs,
    log: quiet,
  };
  const key = 'annual-report/justice/2027/reminder/1';
  const message = { from: 'duban@duban.test', to: ['head@justice.test'], subject: '再次提醒', text: '正文' };
  try {
    const stale = sendOnce(
      d,
      claim(key),
      async () => {
        // Longer than the lease and than a renewal's interval: the renewal timer is not running yet in this step.
        await new Promise((r) => setTimeout(r, 3 * leaseMs));
        return message;
      },
      { heartbeat: () => undefined },
    );
    await expect(stale).rejects.toBeInstanceOf(RetryLater);
    expect(sink.messages.filter((m) => m.key === key)).toHaveLength(0);
    // The retry claims it afresh and sends once.
    await expect(sendOnce(d, claim(key), async () => message, { heartbeat: () => undefined })).resolves.toMatchObject({
      state: 'sent',
    });
    expect(sink.messages.filter((m) => m.key === key)).toHaveLength(1);
  } finally {
    transport.close();
  }
});
