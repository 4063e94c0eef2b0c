/**
 * The duban command run as a user would, as a child process, against the dev server, a worker process and an
 * SMTP server: register (twice, with a change, with --prune), act, status, show, report; and `duban start`
 * started, stopped and started again.
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Ledger } from '../../ledger';
import { parseLinkKeys, signLink } from '../../channels/links';
import { loadInputs } from '../../config/load';
import { workflowIdFor } from '../../workflows/messages';
import { trackerWorkflow } from '../../workflows/tracker';
import { devServerEnv } from '../support/engine';
import { SmtpSink, startSmtpSink } from '../support/smtp';
import { WorkerProcess, spawnWorker } from '../support/worker-process';
import { freePort } from '../support/ports';

jest.setTimeout(300_000);

const root = path.resolve(__dirname, '..', '..');
const fixtures = path.join(__dirname, '..', 'fixtures');

describe('the duban command against a running service', () => {
  let env: TestWorkflowEnvironment;
  let sink: SmtpSink;
  let worker: WorkerProcess;
  let dir: string;
  let cliEnv: Record<string, string>;
  let catalog: string;
  let directory: string;

  const duban = (...args: string[]) => {
    const r = spawnSync(process.execPath, [path.join(root, 'bin', 'duban.js'), ...args], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, ...cliEnv },
    });
    const json = () => {
      try {
        return JSON.parse(r.stdout);
      } catch {
        throw new Error(`duban ${args.join(' ')} (exit ${r.status}) printed no JSON:\n${r.stdout}\n${r.stderr}`);
      }
    };
    return { code: r.status, stdout: r.stdout, stderr: r.stderr, json };
  };

  beforeAll(async () => {
    env = await devServerEnv();
    sink = await startSmtpSink();
    dir = mkdtempSync(path.join(tmpdir(), 'duban-e2e-'));
    catalog = path.join(dir, 'catalog.yaml');
    directory = path.join(dir, 'directory.yaml');
    copyFileSync(path.join(fixtures, 'catalog.yaml'), catalog);
    copyFileSync(path.join(fixtures, 'directory.yaml'), directory);
    cliEnv = {
      TEMPORAL_ADDRESS: env.address,
      DUBAN_TASK_QUEUE: 'e2e',
      DUBAN_DATA_DIR: path.join(dir, 'data'),
      SMTP_URL: sink.url,
      DUBAN_USER: '测试管理员',
      TZ: 'UTC',
      DUBAN_DIGEST: 'false',
    };
    worker = spawnWorker(cliEnv, path.join(dir, 'worker.log'));
    // Wait until the worker polls its task queue (it bundles the workflows first), so updates are answered.
    for (let i = 0; i < 300; i++) {
      const q = await env.client.workflowService.describeTaskQueue({
        namespace: 'default',
        taskQueue: { name: 'e2e' },
        taskQueueType: 1,
      });
      if ((q.pollers?.length ?? 0) > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  afterAll(async () => {
    await worker?.kill('SIGTERM');
    await sink?.close();
    await env?.teardown();
  });

  test('register is idempotent, carries changes to running trackers, and retires only with --prune', async () => {
    const first = duban('register', catalog, directory, '--json');
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.json()).toMatchObject({
      started: [
        'annual-report/county-a',
        'half-year-report/finance',
        'half-year-report/justice',
        'study-session/finance',
      ],
      updated: [],
      retired: [],
    });

    expect(duban('register', catalog, directory, '--json').json()).toMatchObject({
      started: [],
      updated: [],
      unchanged: expect.arrayContaining(['study-session/finance']),
    });

    writeFileSync(
      directory,
      readFileSync(directory, 'utf8').replace(
        'finance.liaison@test.example.org',
        'finance.new-liaison@test.example.org',
      ),
    );
    expect(duban('register', catalog, directory, '--dry-run', '--json').json()).toMatchObject({
      dryRun: true,
      updated: ['half-year-report/finance', 'study-session/finance'],
    });
    expect(duban('register', catalog, directory, '--json').json()).toMatchObject({
      started: [],
      updated: ['half-year-report/finance', 'study-session/finance'],
    });
    expect(duban('register', catalog, directory, '--json').json()).toMatchObject({ updated: [] });

    const text = readFileSync(catalog, 'utf8');
    writeFileSync(catalog, text.slice(0, text.indexOf('  - id: study-session')));
    const listed = duban('register', catalog, directory);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/已不在文件中（仍在运行；用 --prune 停用）：study-session\/finance/);
    const wouldRetire = duban('register', catalog, directory, '--prune', '--dry-run');
    expect([wouldRetire.code, wouldRetire.stdout]).toEqual([
      0,
      '将新建0项，将更新0项，未变3项，将停用1项\n将停用：study-session/finance\n',
    ]);
    expect((await env.client.workflow.getHandle(workflowIdFor('study-session/finance')).describe()).status.name).toBe(
      'RUNNING',
    );
    expect(duban('register', catalog, directory, '--prune', '--json').json()).toMatchObject({
      retired: ['study-session/finance'],
    });
    expect(duban('submit', 'study-session', 'finance', '--text', 'x').code).toBe(2);
    // Retired is for good: putting the obligation back does not start it again.
    writeFileSync(catalog, text);
    expect(duban('register', catalog, directory, '--json').json()).toMatchObject({
      started: [],
      ended: ['study-session/finance'],
    });
    writeFileSync(catalog, text.slice(0, text.indexOf('  - id: study-session')));
  });

  test("register --prune lists and retires only this deployment's trackers, never another task queue's", async () => {
    // Another deployment in the same namespace: its tracker runs on its own task queue (no worker here polls it).
    const foreign = await env.client.workflow.start('trackerWorkflow', {
      workflowId: 'duban/foreign-obligation/foreign-unit',
      taskQueue: 'another-deployment',
      args: [{}],
    });
    const unscoped = "WorkflowType = 'trackerWorkflow' AND ExecutionStatus = 'Running'";
    for (let i = 0; i < 100; i++) {
      const ids: string[] = [];
      for await (const w of env.client.workflow.list({ query: unscoped })) ids.push(w.workflowId);
      if (ids.includes(foreign.workflowId)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const listed = duban('register', catalog, directory);
    expect(listed.code).toBe(0);
    expect(listed.stdout).not.toContain('foreign');
    const pruned = duban('register', catalog, directory, '--prune', '--json').json();
    expect(pruned.removed).toEqual([]);
    expect(pruned.retired).toEqual([]);
    expect((await foreign.describe()).status.name).toBe('RUNNING');
    await foreign.terminate('test over');
  });

  test('a broken catalog registers nothing', () => {
    const broken = path.join(dir, 'broken.yaml');
    writeFileSync(
      broken,
      readFileSync(catalog, 'utf8')
        .replace('monthDay: "03-01"', 'monthDay: "02-30"')
        .replace('tags: [市直部门]', 'tags: [新部门]'),
    );
    const r = duban('register', broken, directory);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/broken\.yaml:\d+:\d+: obligations\[0\] \(annual-report\) › due\.monthDay/);
    expect(r.stderr).toMatch(/未作任何更改。/);
    expect(duban('register', catalog, directory, '--json').json()).toMatchObject({
      started: [],
      updated: [],
      retired: [],
    });
  });

  test('act on trackers; refusals and unknown trackers exit with 2 and say why', async () => {
    const submitted = duban(
      'submit',
      'annual-report',
      'county-a',
      '--doc',
      '甲政发〔2027〕1号',
      '--link',
      'https://example.org/r',
      '--json',
    );
    expect(submitted.code).toBe(0);
    expect(submitted.json()).toMatchObject({
      trackerId: 'annual-report/county-a',
      colour: 'done',
      periods: [expect.objectContaining({ submitted: true, verification: 'pending' })],
    });
    const accepted = duban('verify', 'annual-report', 'county-a', '--accept', '--rating', '良好', '--json');
    expect(accepted.code).toBe(0);
    expect(duban('verify', 'annual-report', 'county-a', '--accept', '--rating', '很好').code).toBe(2);

    const early = duban('extend', 'request', 'half-year-report', 'justice', '--to', '2000-01-01', '--reason', '测试');
    expect(early.code).toBe(2);
    expect(early.stderr).toMatch(/half-year-report\/justice: 新截止日期2000-01-01不晚于现截止日期/);
    const wrong = duban('record', 'half-year-report', 'justice', '--date', '2026-11-01', '--topic', '讲座');
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/以报送材料完成，无需登记活动/);
    const unknown = duban('submit', 'no-such', 'unit', '--text', 'x');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/(没有督办任务|督办任务)no-such\/unit/);
    expect(duban('verify', 'annual-report', 'county-a').stderr).toMatch(/--accept 和 --return 须且只能给出一个/);

    // 签收 and 反馈: recorded with who, shown in the status; reminders continue.
    const acked = duban('ack', 'half-year-report', 'justice', '--by', '司法局联络员', '--json');
    expect(acked.code).toBe(0);
    expect(acked.json().periods[0]).toMatchObject({ acknowledged: { by: '司法局联络员' } });
    expect(duban('ack', 'half-year-report', 'justice').stderr).toMatch(/已由司法局联络员.*签收/);
    const noted = duban(
      'progress',
      'half-year-report',
      'justice',
      '--note',
      '初稿已完成',
      '--link',
      'https://example.org/draft',
      '--json',
    );
    expect(noted.json().periods[0]).toMatchObject({
      progressCount: 1,
      progress: [expect.objectContaining({ note: '初稿已完成' })],
    });
    expect(duban('progress', 'half-year-report', 'justice', '--note', '').code).toBe(2);
    expect(duban('submit', 'half-year-report', 'justice', '--text', 'x', '--period', '1999-H1').stderr).toMatch(
      /1999年上半年未开放/,
    );

    expect(duban('pause', 'half-year-report', 'justice', '--json').json()).toMatchObject({ paused: true });
    expect(duban('pause', 'half-year-report', 'justice').stderr).toMatch(/督办任务已暂停/);
    expect(duban('resume', 'half-year-report', 'justice', '--json').json()).toMatchObject({ paused: false });
  });

  test('status, show and report read the board and the ledger', async () => {
    let board: { units: { unit: string; done: number }[]; items: { tracker: string; colour: string }[] } = {
      units: [],
      items: [],
    };
    for (let i = 0; i < 50; i++) {
      board = duban('status', '--json').json();
      if (
        board.items.some((x) => x.tracker === 'annual-report/county-a' && x.colour === 'done') &&
        board.items.every((x) => x.colour)
      )
        break;
      await new Promise((r) => setTimeout(r, 200));
    }
    // One row per open period, and the periods done or waived this year: county-a's report is done (verified),
    // and its next period is held.
    expect([...new Set(board.items.map((i) => i.tracker))].sort()).toEqual([
      'annual-report/county-a',
      'half-year-report/finance',
      'half-year-report/justice',
    ]);
    expect(board.items.filter((i) => i.tracker === 'annual-report/county-a').map((i) => i.colour)).toContain('done');
    const table = duban('status');
    expect(table.stdout).toMatch(/单位\s+逾期\s+临近\s+办理中\s+办结\s+免除/);
    expect(duban('status', '--unit', 'justice', '--json').json().items).toHaveLength(1);

    const shown = duban('show', 'annual-report', 'county-a', '--json').json();
    expect(shown.events.map((e: { kind: string }) => e.kind)).toEqual(
      expect.arrayContaining(['submission', 'outcome']),
    );
    expect(shown.outcomes).toEqual([expect.objectContaining({ outcome: 'on_time' })]);
    expect(duban('show', 'annual-report', 'county-a').stdout).toMatch(/报送（submission） 办理人 测试管理员/);
    expect(duban('show', 'nothing', 'here').code).toBe(2);

    const ledger = await Ledger.open({ sqliteFile: path.join(dir, 'data', 'ledger.sqlite') });
    const outcomes = await ledger.outcomes();
    await ledger.close();
    const year = outcomes[0]!.due_year;
    const report = duban('report', '--year', String(year), '--directory', directory, '--format', 'json').json();
    expect(report.units).toEqual([
      expect.objectContaining({
        unit: 'county-a',
        unitName: '甲县',
        due: outcomes.length,
        onTime: 1,
        onTimeRate: 1,
        rank: 1,
      }),
    ]);
    const csv = duban('report', '--year', String(year), '--directory', directory, '--format', 'csv').stdout;
    expect(csv.startsWith('\uFEFF排名,单位,单位名称')).toBe(true);
    expect(csv).toMatch(/\r\n1,county-a,甲县,1,1,0,0,0,0,0,100\.0%\r\n$/);
  });

  test('a tracker whose definition cannot be planned shows as broken; register with the corrected files repairs it', async () => {
    const text = readFileSync(catalog, 'utf8');
    const entry =
      '  - id: broken-duty\n    title: 专项工作报告\n    basis:\n      - { document: 实施方案, quote: 每半年报告一次 }\n    assignees: { units: [justice] }\n    period: half-year\n    due: { rule: after-period-end, days: 15 }\n';
    writeFileSync(catalog, text + entry);
    try {
      // Registered by an older version with a ladder the planner cannot run (validation refuses such files now).
      const good = loadInputs({ catalog, directory }).trackers.find((t) => t.trackerId === 'broken-duty/justice')!;
      const bad = { ...good, reminders: [1_000_000] };
      await env.client.workflow.start(trackerWorkflow, {
        workflowId: workflowIdFor(bad.trackerId),
        taskQueue: 'e2e',
        args: [{ definition: bad, definitionHash: 'old' }],
        memo: { definitionHash: 'old' },
      });
      let items: { tracker: string; colour: string; problem?: string }[] = [];
      for (let i = 0; i < 50 && items.length === 0; i++) {
        items = duban('status', '--colour', 'broken', '--json').json().items;
        if (items.length === 0) await new Promise((r) => setTimeout(r, 200));
      }
      expect(items).toEqual([
        expect.objectContaining({
          tracker: 'broken-duty/justice',
          colour: 'broken',
          problem: expect.stringMatching(/1000000个工作日/),
        }),
      ]);
      expect(duban('status').stdout).toMatch(/无法排期\s+broken-duty\/justice .*无法排期：.*1000000个工作日/);
      expect(duban('show', 'broken-duty', 'justice').stdout).toMatch(/无法排期：.*1000000个工作日/);
      const refused = duban('submit', 'broken-duty', 'justice', '--text', '已报送');
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/无法排期：.*duban register/);

      expect(duban('register', catalog, directory, '--json').json()).toMatchObject({
        started: [],
        updated: ['broken-duty/justice'],
      });
      const repaired = duban('submit', 'broken-duty', 'justice', '--text', '已报送', '--json');
      expect(repaired.code).toBe(0);
      expect(repaired.json().problem).toBeUndefined();
      expect(repaired.json().periods).toEqual([expect.objectContaining({ submitted: true })]);
      expect(duban('status', '--colour', 'broken', '--json').json().items).toEqual([]);
    } finally {
      writeFileSync(catalog, text);
      duban('retire', 'broken-duty', 'justice', '--reason', '测试结束');
    }
  });

  test('duban web serves the pages, never the mail catcher, and stops on SIGTERM', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [path.join(root, 'bin', 'duban.js'), 'web'], {
      cwd: dir,
      env: { ...process.env, ...cliEnv, DUBAN_WEB_PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    for (let i = 0; i < 150 && !output.includes('duban web：'); i++) await new Promise((r) => setTimeout(r, 100));
    expect(output).toContain(`duban web：http://127.0.0.1:${port}`);
    const login = await fetch(`http://127.0.0.1:${port}/login`);
    expect(login.status).toBe(200);
    expect(await login.text()).toContain('lang="zh-CN"');
    expect((await fetch(`http://127.0.0.1:${port}/mail`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${port}/`, { redirect: 'manual' })).status).toBe(303);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    // One JSON line per request, without tokens.
    expect(output).toMatch(
      /\{"time":"[^"]+","level":"info","msg":"request","method":"GET","path":"\/login","status":200/,
    );
  });

  /** `duban start` as a child process, waited for until it says it is ready. */
  async function startService(startEnv: NodeJS.ProcessEnv, cwd: string) {
    const child = spawn(process.execPath, [path.join(root, 'bin', 'duban.js'), 'start'], {
      cwd,
      env: startEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    const until = Date.now() + 120_000;
    while (!output.includes('已就绪。') && Date.now() < until) {
      if (child.exitCode !== null) throw new Error(output);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(output).toContain('已就绪。');
    return { child, exited, output: () => output };
  }

  async function startEnvironment(data: string): Promise<NodeJS.ProcessEnv> {
    const startEnv: NodeJS.ProcessEnv = {
      ...process.env,
      TZ: 'UTC',
      DUBAN_DATA_DIR: data,
      DUBAN_TEMPORAL_PORT: String(await freePort()),
      DUBAN_UI_PORT: String(await freePort()),
      DUBAN_MAIL_PORT: String(await freePort()),
      DUBAN_WEB_PORT: String(await freePort()),
      DUBAN_CATALOG: catalog,
      DUBAN_DIRECTORY: directory,
    };
    delete startEnv.TEMPORAL_ADDRESS;
    delete startEnv.SMTP_URL;
    return startEnv;
  }

  test('duban start: started, stopped and started again, state intact, nothing sent twice', async () => {
    const data = mkdtempSync(path.join(tmpdir(), 'duban-start-'));
    const startEnv = await startEnvironment(data);
    const run = () => startService(startEnv, data);
    const first = await run();
    expect(first.output()).toMatch(/3项督办任务在运行（新建3项，更新0项，未变0项）/);
    // The board it prints is the board `duban status` prints: the same counts, from the same rows.
    const counts = (text: string) => text.split('\n').filter((l) => /^(单位|合计|county-a|finance|justice)\s/.test(l));
    const status = spawnSync(process.execPath, [path.join(root, 'bin', 'duban.js'), 'status'], {
      cwd: data,
      encoding: 'utf8',
      env: startEnv,
    });
    expect(counts(status.stdout).length).toBeGreaterThan(1);
    expect(counts(first.output())).toEqual(counts(status.stdout));
    const periods = /看板共(\d+)个期次/.exec(first.output())![1];
    expect(status.stdout).toContain(`共${periods}个期次`);
    expect(first.output()).toMatch(/Temporal Web UI: http:\/\/127\.0\.0\.1:\d+/);
    // The web service runs too, with the mail catcher's messages readable in the browser.
    const web = /浏览器中的看板：(http:\/\/127\.0\.0\.1:\d+)/.exec(first.output())![1]!;
    expect((await fetch(`${web}/login`)).status).toBe(200);
    expect((await fetch(`${web}/mail`)).status).toBe(200);
    // Its action-link key: made in the data folder, readable by its owner only, shared by the worker and the web.
    const keyFile = path.join(data, 'link-key');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const linkKey = readFileSync(keyFile, 'utf8');
    const view = signLink(
      {
        trackerId: 'annual-report/county-a',
        period: '2026',
        email: 'office.liaison@test.example.org',
        name: '吴科长',
        actions: ['view'],
        expiresAt: Date.now() + 60_000,
      },
      parseLinkKeys(linkKey.trim()),
    );
    const viewPage = await fetch(`${web}/a/${view}/view`);
    expect(viewPage.status).toBe(200);
    expect(await viewPage.text()).toContain('本期办理记录');
    expect(first.output()).not.toContain(linkKey.trim().split(':')[1]!);
    await new Promise((r) => setTimeout(r, 3_000));
    first.child.kill('SIGINT');
    expect(await first.exited).toBe(0);
    expect(first.output()).toContain('duban 已停止。');
    const mailFolder = path.join(data, 'mail');
    const before = readdirSync(mailFolder).sort();

    const second = await run();
    expect(second.output()).toMatch(/新建0项，更新0项，未变3项/);
    await new Promise((r) => setTimeout(r, 3_000));
    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);
    const after = readdirSync(mailFolder).sort();
    expect(after).toEqual(before);
    // The same key across restarts, so links already sent keep working.
    expect(readFileSync(keyFile, 'utf8')).toBe(linkKey);
    const ids = after.map(
      (f) => /^Message-ID:\s*(<[^>]+>)/im.exec(readFileSync(path.join(mailFolder, f), 'utf8'))?.[1],
    );
    expect(new Set(ids).size).toBe(ids.length);
  });

  test('duban start restarts its dev server when it dies, and stops with a clear message when restarts run out', async () => {
    const data = mkdtempSync(path.join(tmpdir(), 'duban-start-restart-'));
    const startEnv: NodeJS.ProcessEnv = { ...(await startEnvironment(data)), DUBAN_DEV_SERVER_RESTARTS: '1' };
    const service = await startService(startEnv, data);
    const devServerPid = () => {
      const ps = spawnSync('ps', ['-o', 'pid=,args=', '--ppid', String(service.child.pid)], {
        encoding: 'utf8',
      }).stdout;
      const line = ps.split('\n').find((l) => l.includes('start-dev'));
      if (!line) throw new Error(`no dev server among the children of duban start:\n${ps}`);
      return Number(line.trim().split(/\s+/)[0]);
    };
    const waitForOutput = async (text: string) => {
      for (const until = Date.now() + 60_000; !service.output().includes(text) && Date.now() < until;)
        await new Promise((r) => setTimeout(r, 200));
      expect(service.output()).toContain(text);
    };

    const first = devServerPid();
    process.kill(first, 'SIGKILL');
    await waitForOutput(
      'Temporal 开发服务器停止运行（被信号SIGKILL终止）；正在重启（第1次，最多1次），其状态保存在磁盘上',
    );
    await waitForOutput('Temporal 开发服务器已重新运行');
    expect(devServerPid()).not.toBe(first);
    // The restarted server has the trackers (its state is on disk) and the worker serves them again.
    const cli = { ...startEnv, TEMPORAL_ADDRESS: `127.0.0.1:${startEnv.DUBAN_TEMPORAL_PORT}` };
    const paused = spawnSync(
      process.execPath,
      [path.join(root, 'bin', 'duban.js'), 'pause', 'annual-report', 'county-a', '--json'],
      { cwd: data, encoding: 'utf8', env: cli },
    );
    expect(paused.stderr).toBe('');
    expect(JSON.parse(paused.stdout)).toMatchObject({ trackerId: 'annual-report/county-a', paused: true });

    process.kill(devServerPid(), 'SIGKILL');
    expect(await service.exited).toBe(1);
    expect(service.output()).toMatch(
      /Temporal 开发服务器停止运行（被信号SIGKILL终止），最近十分钟内已重启1次；duban start 不再重启，全部停止。日志见 .*temporal\.log/,
    );
    expect(service.output()).toContain('duban 已停止。');
  });
});
