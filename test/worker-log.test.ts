/**
 * Failures in the worker's JSON log (issue 14.6): an Error is written with its name, message, code and chain of
 * causes, never as `"error":{}`, and passwords in URLs are redacted. The SDK's own "Activity failed" record is
 * checked through the worker's logger on a real (time-skipping) Temporal server.
 */
import { Runtime, Worker } from '@temporalio/worker';
import { timeSkippingEnvironment } from '../config/servers';
import { jsonLogger, logLine, serializeError } from '../worker/main';

/** An error as nodemailer raises it when the mail server refuses the connection, with Node's error as cause. */
function smtpConnectionError(): Error {
  const socket = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:2525'), {
    code: 'ECONNREFUSED',
    errno: -111,
    syscall: 'connect',
    address: '127.0.0.1',
    port: 2525,
  });
  return Object.assign(new Error('Connection to smtp://duban:hunter2@127.0.0.1:2525 failed', { cause: socket }), {
    code: 'ESOCKET',
    command: 'CONN',
  });
}

describe('worker log records of failures', () => {
  test('an Error becomes name, message, code and causes; never {}; passwords redacted', () => {
    const line = JSON.parse(logLine({ message: 'Activity failed', error: smtpConnectionError(), durationMs: 12n }));
    expect(line).toEqual({
      message: 'Activity failed',
      durationMs: '12',
      error: {
        name: 'Error',
        message: 'Connection to smtp://duban:***@127.0.0.1:2525 failed',
        code: 'ESOCKET',
        command: 'CONN',
        cause: {
          name: 'Error',
          message: 'connect ECONNREFUSED 127.0.0.1:2525',
          code: 'ECONNREFUSED',
          errno: -111,
          syscall: 'connect',
          address: '127.0.0.1',
          port: 2525,
        },
      },
    });
    const aggregate = serializeError(
      new AggregateError(
        [new Error('connect ECONNREFUSED ::1:5432'), new Error('connect ECONNREFUSED 127.0.0.1:5432')],
        '',
      ),
    );
    expect(aggregate).toMatchObject({
      name: 'AggregateError',
      errors: [{ message: 'connect ECONNREFUSED ::1:5432' }, { message: 'connect ECONNREFUSED 127.0.0.1:5432' }],
    });
    expect(logLine({ error: 'postgres://u:pw@db/x refused' })).toBe('{"error":"postgres://u:***@db/x refused"}');
    // A cause that is its own cause does not loop for ever.
    const loop = new Error('loop');
    (loop as { cause?: unknown }).cause = loop;
    expect(JSON.stringify(serializeError(loop)).length).toBeLessThan(2000);
  });

  test("the SDK's 'Activity failed' record carries the message, code and cause", async () => {
    const lines: string[] = [];
    Runtime.install({ logger: jsonLogger('WARN', (l) => lines.push(l)) });
    const env = await timeSkippingEnvironment();
    try {
      const worker = await Worker.create({
        connection: env.nativeConnection,
        taskQueue: 'worker-log',
        workflowsPath: require.resolve('./support/failing-workflow'),
        activities: {
          async deliver() {
            throw smtpConnectionError();
          },
        },
      });
      await worker.runUntil(
        env.client.workflow.execute('failingWorkflow', { workflowId: 'worker-log', taskQueue: 'worker-log' }).then(
          () => {
            throw new Error('the workflow should have failed');
          },
          () => undefined,
        ),
      );
    } finally {
      await env.teardown();
    }
    expect(lines.join('')).not.toContain('"error":{}');
    expect(lines.join('')).not.toContain('hunter2');
    const failed = lines.map((l) => JSON.parse(l)).find((r) => r.message === 'Activity failed');
    expect(failed).toBeDefined();
    expect(failed.level).toBe('WARN');
    expect(failed.error).toMatchObject({
      message: 'Connection to smtp://duban:***@127.0.0.1:2525 failed',
      code: 'ESOCKET',
      cause: { message: 'connect ECONNREFUSED 127.0.0.1:2525', code: 'ECONNREFUSED' },
    });
    // The workflow's failure comes from the workflow sandbox (another realm): serialised too, with its cause.
    const workflowFailed = lines.map((l) => JSON.parse(l)).find((r) => r.message === 'Workflow failed');
    expect(workflowFailed.error).toMatchObject({
      message: 'Activity task failed',
      cause: { message: 'Connection to smtp://duban:***@127.0.0.1:2525 failed' },
    });
  });
});
