/**
 * One ledger per deployment (issue 14.2): worker processes, as an operator runs them, against the dev server. The
 * first worker records its ledger in Temporal; a second worker on the same namespace and task queue with another
 * ledger (another SQLite file, or a PostgreSQL database) is refused at start, exit code 2, with both ledgers named
 * and no password shown; a worker with the same ledger joins.
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { devServerEnv } from '../support/engine';
import { TestPostgres, startTestPostgres } from '../support/postgres';
import { SmtpSink, startSmtpSink } from '../support/smtp';
import { WorkerProcess, spawnWorker } from '../support/worker-process';

jest.setTimeout(240_000);

describe('one ledger per deployment', () => {
  let env: TestWorkflowEnvironment;
  let sink: SmtpSink;
  let pg: TestPostgres;
  let dir: string;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    env = await devServerEnv();
    sink = await startSmtpSink();
    pg = await startTestPostgres();
    dir = mkdtempSync(path.join(tmpdir(), 'duban-deployment-'));
  });
  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null) await w.kill('SIGTERM');
    await sink?.close();
    await pg?.stop();
    await env?.teardown();
  });

  const workerEnv = (extra: Record<string, string>) => ({
    TEMPORAL_ADDRESS: env.address,
    DUBAN_TASK_QUEUE: 'deployment-test',
    SMTP_URL: sink.url,
    DUBAN_DIGEST: 'false',
    ...extra,
  });

  async function pollers(): Promise<number> {
    const q = await env.client.workflowService.describeTaskQueue({
      namespace: 'default',
      taskQueue: { name: 'deployment-test' },
      taskQueueType: 1,
    });
    return q.pollers?.length ?? 0;
  }

  async function waitFor(what: string, check: () => Promise<boolean> | boolean, ms = 90_000) {
    for (const until = Date.now() + ms; Date.now() < until;) {
      if (await check()) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  test('a second worker with a different ledger is refused at start, naming both; the same ledger joins', async () => {
    const first = path.join(dir, 'first');
    const a = spawnWorker(workerEnv({ DUBAN_DATA_DIR: first }), path.join(dir, 'a.log'));
    workers.push(a);
    await waitFor('the first worker to poll', async () => (await pollers()) > 0);
    const memo = (await env.client.workflow.getHandle('duban/deployment/deployment-test').describe()).memo as Record<
      string,
      string
    >;
    expect(memo.ledger).toBe(`SQLite ${path.join(first, 'ledger.sqlite')} (DUBAN_DATA_DIR, no DATABASE_URL)`);
    expect(memo.ledgerIdentity).toMatch(/^[0-9a-f-]{36}$/);

    const second = path.join(dir, 'second');
    const b = spawnWorker(workerEnv({ DUBAN_DATA_DIR: second }), path.join(dir, 'b.log'));
    workers.push(b);
    expect(await b.exited).toBe(2);
    const refused = readFileSync(path.join(dir, 'b.log'), 'utf8');
    expect(refused).toContain(
      '已拒绝：此 worker 的台账不是其部署的台账（namespace default，task queue deployment-test）',
    );
    expect(refused).toContain(`部署的台账：SQLite ${path.join(first, 'ledger.sqlite')}`);
    expect(refused).toContain(`此 worker 的台账：SQLite ${path.join(second, 'ledger.sqlite')}`);
    expect(refused).toContain(memo.ledgerIdentity);
    expect(refused).not.toMatch(/\n\s+at /);

    // An administrator whose settings name the second ledger registers nothing.
    const fixtures = path.join(__dirname, '..', 'fixtures');
    const register = spawnSync(
      process.execPath,
      [
        path.join(__dirname, '..', '..', 'bin', 'duban.js'),
        'register',
        path.join(fixtures, 'catalog.yaml'),
        path.join(fixtures, 'directory.yaml'),
      ],
      {
        cwd: dir,
        encoding: 'utf8',
        env: { ...process.env, TZ: 'UTC', ...workerEnv({ DUBAN_DATA_DIR: second }) },
      },
    );
    expect(register.status).toBe(2);
    expect(register.stderr).toContain(
      `此台账不是 task queue deployment-test 上部署所用的台账：部署的台账是 SQLite ${path.join(first, 'ledger.sqlite')}`,
    );
    expect(register.stderr).toContain(`此台账是 SQLite ${path.join(second, 'ledger.sqlite')}`);
    expect(register.stderr).toContain('未登记任何任务');
    const trackers: string[] = [];
    for await (const w of env.client.workflow.list({ query: "WorkflowType = 'trackerWorkflow'" }))
      trackers.push(w.workflowId);
    expect(trackers).toEqual([]);

    // PostgreSQL: the URL is named with its password replaced.
    const url = new URL(pg.url);
    url.password = 'sekrit-pw';
    const c = spawnWorker(workerEnv({ DUBAN_DATA_DIR: first, DATABASE_URL: url.toString() }), path.join(dir, 'c.log'));
    workers.push(c);
    expect(await c.exited).toBe(2);
    const refusedPg = readFileSync(path.join(dir, 'c.log'), 'utf8');
    expect(refusedPg).toContain(
      `此 worker 的台账：PostgreSQL postgres://postgres:***@${url.host}/duban (DATABASE_URL)`,
    );
    expect(refusedPg).toContain(`部署的台账：SQLite ${path.join(first, 'ledger.sqlite')}`);
    expect(refusedPg).not.toContain('sekrit-pw');

    // A second worker on the deployment's own ledger shares the load.
    const d = spawnWorker(workerEnv({ DUBAN_DATA_DIR: first }), path.join(dir, 'd.log'));
    workers.push(d);
    await waitFor('the second worker to poll', async () => (await pollers()) > 1);
    expect(d.child.exitCode).toBeNull();
    expect(a.child.exitCode).toBeNull();
  });
});
