/**
 * `duban simulate`: runs the real tracker workflows and activities on the time-skipping test server, with a
 * temporary ledger and a local SMTP sink, and shows every email a catalog would send in a window, one .eml file
 * per message. An administrator previews a catalog before registering it; its notices match `duban plan`.
 *
 * The time-skipping server starts at the real current time and only moves forward, so the window starts today or
 * later. Each tracker starts at the first of its periods that has a notice in the window, with the notices
 * already due at that moment skipped, and continues as new through the following periods as it would in service.
 */
import { DefaultLogger, Runtime, makeTelemetryFilterString } from '@temporalio/worker';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createEngineWorker } from '../worker/factory';
import { createSmtpTransport } from '../channels/email/smtp';
import { Ledger } from '../ledger';
import type { Inputs } from '../config/load';
import { timeSkippingEnvironment } from '../config/servers';
import { DayNumber, MS_PER_DAY } from '../domain/dates';
import { firstPeriodNotYetDue, planWindow } from '../domain/planner';
import { zonedInstant } from '../domain/zone';
import { trackerWorkflow } from '../workflows/tracker';
import { workflowIdFor } from '../workflows/messages';
import { decodeEncodedWords, headerValue, startMailSink } from '../channels/sink';

export interface SimulatedMail {
  /** The notice's key: each recipient's copy of a notice (personal links) has the same. */
  key: string;
  /** Whom this copy went to (the SMTP envelope): with personal links, one recipient per copy. */
  recipients: string[];
  messageId: string;
  date: number;
  to: string[];
  cc: string[];
  subject: string;
  file?: string;
}

const addresses = (s: string) => (s.match(/[^\s<>,"]+@[^\s<>,"]+/g) ?? []).map((a) => a.toLowerCase());

/** Where the preview's action links point: the web of `npm start` unless DUBAN_WEB_BASE_URL says otherwise. */
export const SIMULATE_BASE_URL = 'http://127.0.0.1:8080';

export async function simulate(
  inputs: Inputs,
  window: { from: DayNumber; to: DayNumber },
  outDir?: string,
  options: { baseUrl?: string } = {},
): Promise<SimulatedMail[]> {
  const zone = inputs.catalog.timeZone;
  const start = zonedInstant(window.from, zone, 0);
  const end = zonedInstant(window.to + 1, zone, 0);
  try {
    // Quiet: the core's own warnings would otherwise mix into the preview's output.
    Runtime.install({
      logger: new DefaultLogger('ERROR'),
      telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }) } },
    });
  } catch {
    // already installed by the caller
  }
  const env = await timeSkippingEnvironment();
  const mails: SimulatedMail[] = [];
  if (outDir) mkdirSync(outDir, { recursive: true });
  const sink = await startMailSink(0, (buffer, recipients) => {
    const raw = buffer.toString('utf8');
    const head = raw.slice(0, raw.search(/\r?\n\r?\n/));
    const mail: SimulatedMail = {
      key: headerValue(head, 'X-Duban-Key').replace(/\/to\/[^/]+$/, ''),
      recipients: recipients.map((a) => a.toLowerCase()),
      messageId: headerValue(head, 'Message-ID'),
      date: Date.parse(headerValue(head, 'Date')),
      to: addresses(headerValue(head, 'To')),
      cc: addresses(headerValue(head, 'Cc')),
      subject: decodeEncodedWords(headerValue(head, 'Subject')),
    };
    if (outDir) {
      mail.file = path.join(
        outDir,
        `${String(mails.length + 1).padStart(5, '0')}-${`${mail.key}-${mail.recipients.join('-')}`.replace(/[^A-Za-z0-9._-]+/g, '_')}.eml`,
      );
      writeFileSync(mail.file, raw);
    }
    mails.push(mail);
  });
  const ledger = await Ledger.open({
    sqliteFile: path.join(mkdtempSync(path.join(tmpdir(), 'duban-simulate-')), 'ledger.sqlite'),
  });
  const transport = createSmtpTransport({ url: sink.url, maxConnections: 5 });
  try {
    const now = await env.currentTimeMs();
    if (start + MS_PER_DAY <= now)
      throw new RangeError('simulate 从今天起向后预演：--from 须为今天或以后（过去的通知用 duban plan 查看）');
    const taskQueue = 'simulate';
    const worker = await createEngineWorker({
      connection: env.nativeConnection,
      taskQueue,
      ledger,
      transport,
      connections: 5,
      from: { name: '督办系统（预览）', address: 'duban@simulate.invalid' },
      calendar: inputs.calendar,
      // A throwaway key, so the preview shows the links as recipients will see them; no server accepts them.
      links: {
        keys: [{ id: 'preview', secret: randomBytes(32) }],
        baseUrl: (options.baseUrl ?? process.env.DUBAN_WEB_BASE_URL ?? SIMULATE_BASE_URL).replace(/\/+$/, ''),
        graceMs: 7 * MS_PER_DAY,
      },
    });
    await worker.runUntil(async () => {
      const planned = new Set(planWindow(inputs.trackers, inputs.calendar, window).notices.map((n) => n.trackerId));
      if (start > now) await env.sleep(start - now);
      for (const t of inputs.trackers) {
        if (!planned.has(t.trackerId)) continue;
        // Registered at the window's start, as the live service would be: periods due before it are never opened
        // (duban plan leaves their notices out under the same assumption).
        const period = firstPeriodNotYetDue(t, inputs.calendar, start).label;
        await env.client.workflow.start(trackerWorkflow, {
          workflowId: workflowIdFor(t.trackerId),
          taskQueue,
          args: [{ definition: t, period, searchAttributes: false, catchUp: false }],
        });
      }
      await env.sleep(end - (await env.currentTimeMs()));
    });
  } finally {
    transport.close();
    await ledger.close();
    await sink.close();
    await env.teardown();
  }
  return mails
    .filter((m) => m.date >= start && m.date < end)
    .sort((a, b) => a.date - b.date || (a.key < b.key ? -1 : 1));
}
