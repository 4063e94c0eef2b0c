/**
 * Stack traces of workflow code from the build's bundle (worker/bundle.ts, DUBAN_WORKFLOW_STACK_TRACES): by default
 * a frame names the source file and line, through the line-level source map; with `names` only the function.
 * Read through Temporal's `__stack_trace` query (what the UI's Stack Trace tab shows) on a sleeping tracker.
 */
import { Worker } from '@temporalio/worker';
import * as path from 'node:path';
import { loadInputs } from '../config/load';
import { loadSettings } from '../config/settings';
import { WorkingCalendar } from '../domain/calendar';
import { Ledger } from '../ledger';
import { createSmtpTransport } from '../channels/email/smtp';
import { createEngineWorker } from '../worker/factory';
import { startSmtpSink } from './support/smtp';
import { startTracker, statusOf, tempLedgerFile, timeSkippingEnv } from './support/engine';

jest.setTimeout(120_000);

// What `npm run build` wrote (seen from dist/; under ts-jest worker/bundle.ts would look beside the sources).
const BUILT = path.join(__dirname, '..', 'dist', 'workflow-bundle.js');

test('the setting: `source` unless told, and a value it does not know is refused by name', () => {
  expect(loadSettings({}).worker.stackTraces).toBe('source');
  expect(loadSettings({ DUBAN_WORKFLOW_STACK_TRACES: 'names' }).worker.stackTraces).toBe('names');
  expect(() => loadSettings({ DUBAN_WORKFLOW_STACK_TRACES: 'full' })).toThrow(
    /DUBAN_WORKFLOW_STACK_TRACES（配置文件中的 worker\.stackTraces）：须为 "source"、"names" 之一，而不是文本 "full"/,
  );
});

test.each([
  ['source', /at trackerWorkflow \(workflows\/tracker\.ts:\d+:\d+\)/],
  ['names', /at trackerWorkflow \(null:null:null\)/],
] as const)('DUBAN_WORKFLOW_STACK_TRACES=%s', async (stackTraces, frame) => {
  const env = await timeSkippingEnv();
  const sink = await startSmtpSink();
  const ledger = await Ledger.open({ sqliteFile: tempLedgerFile() });
  const transport = createSmtpTransport({ url: sink.url, maxConnections: 1 });
  let worker: Worker | undefined;
  try {
    const taskQueue = `stack-${stackTraces}`;
    worker = await createEngineWorker({
      connection: env.nativeConnection,
      taskQueue,
      prebuiltBundlePath: BUILT,
      stackTraces,
      ledger,
      transport,
      connections: 1,
      from: { name: '督办系统', address: 'duban@test.example.org' },
      calendar: new WorkingCalendar(),
    });
    const w = worker;
    await w.runUntil(async () => {
      const definition = loadInputs({}).trackers.find((t) => t.obligation.id === 'annual-report-dept')!;
      const handle = await startTracker(env.client, taskQueue, definition);
      await statusOf(handle);
      const trace = await handle.query<string>('__stack_trace');
      expect(trace).toMatch(frame);
      if (stackTraces === 'names') expect(trace).not.toMatch(/tracker\.ts:\d+/);
      await handle.terminate();
    });
  } finally {
    transport.close();
    await ledger.close();
    await sink.close();
    await env.teardown();
  }
});
