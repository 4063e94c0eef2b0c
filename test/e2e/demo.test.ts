/**
 * Issue #19 items 2 and 9 through the installed command: `duban start` on the built-in defaults (as `npm start`
 * runs it), with its own dev server, mail catcher, ledger and web service. Its first board shows red, yellow,
 * green and 办结, a numbered 督办单 is in the mail, and none of the first reminders says it was delayed (they were
 * planned before the trackers existed; nothing failed). A second start changes and sends nothing.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { simpleParser } from 'mailparser';
import { freePort } from '../support/ports';

jest.setTimeout(300_000);
const root = path.resolve(__dirname, '..', '..');

describe('npm start: the demo', () => {
  const data = mkdtempSync(path.join(tmpdir(), 'duban-demo-start-'));
  /** Every `duban start` this suite ran: stopped at the end also when an expectation failed, or jest never exits. */
  const children: ReturnType<typeof spawn>[] = [];
  afterAll(async () => {
    for (const c of children)
      if (c.exitCode === null && c.signalCode === null) {
        const gone = new Promise((r) => c.once('exit', r));
        c.kill('SIGINT');
        await Promise.race([gone, new Promise((r) => setTimeout(r, 15_000))]);
        if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      }
    rmSync(data, { recursive: true, force: true });
  });

  async function run(env: NodeJS.ProcessEnv) {
    const child = spawn(process.execPath, [path.join(root, 'bin', 'duban.js'), 'start'], {
      cwd: data,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    const until = Date.now() + 180_000;
    while (!output.includes('已就绪。') && Date.now() < until) {
      if (child.exitCode !== null) throw new Error(output);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(output).toContain('已就绪。');
    return { child, exited, output: () => output };
  }

  test('the first board shows every colour and a 督办单; no delay note on any first notice; a restart sends nothing', async () => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      TZ: 'UTC',
      DUBAN_DATA_DIR: data,
      DUBAN_TEMPORAL_PORT: String(await freePort()),
      DUBAN_UI_PORT: String(await freePort()),
      DUBAN_MAIL_PORT: String(await freePort()),
      DUBAN_WEB_PORT: String(await freePort()),
    };
    for (const k of ['TEMPORAL_ADDRESS', 'SMTP_URL', 'DATABASE_URL', 'DUBAN_CATALOG', 'DUBAN_DIRECTORY', 'DUBAN_DEMO'])
      delete env[k];
    const first = await run(env);
    const statusEnv = { ...env, TEMPORAL_ADDRESS: `127.0.0.1:${env.DUBAN_TEMPORAL_PORT}` };
    const board = () => {
      const r = spawnSync(process.execPath, [path.join(root, 'bin', 'duban.js'), 'status', '--json'], {
        cwd: data,
        env: statusEnv,
        encoding: 'utf8',
      });
      expect(r.status).toBe(0);
      return JSON.parse(r.stdout) as { items: { trackerId?: string; obligation?: string; colour?: string }[] };
    };
    // The trackers settle their first steps within seconds: wait until the demo's 办结 and 督办单 are on the board.
    let colours = new Set<string>();
    for (let i = 0; i < 60; i++) {
      colours = new Set(board().items.map((x) => String(x.colour)));
      if (['red', 'yellow', 'green', 'done'].every((c) => colours.has(c))) break;
      await new Promise((r) => setTimeout(r, 1_000));
    }
    expect([...colours].sort()).toEqual(expect.arrayContaining(['done', 'green', 'red', 'yellow']));

    // Two levels (issue 24.7): the county 乙县 is a jurisdiction of its own, whose board holds its departments only.
    const county = spawnSync(
      process.execPath,
      [path.join(root, 'bin', 'duban.js'), 'status', '--json', '--jurisdiction', 'yixian'],
      { cwd: data, env: statusEnv, encoding: 'utf8' },
    );
    expect(county.status).toBe(0);
    const countyBoard = JSON.parse(county.stdout) as { jurisdiction: { name: string }; items: { unit: string }[] };
    expect(countyBoard.jurisdiction.name).toContain('乙县');
    expect(countyBoard.items.length).toBeGreaterThan(0);
    expect(new Set(countyBoard.items.map((i) => i.unit))).toEqual(
      new Set(countyBoard.items.map((i) => i.unit).filter((u) => u.startsWith('yx-'))),
    );
    expect(board().items.length).toBeGreaterThan(countyBoard.items.length);

    const mailFolder = path.join(data, 'mail');
    const readMail = async () =>
      Promise.all(readdirSync(mailFolder).map(async (f) => simpleParser(readFileSync(path.join(mailFolder, f)))));
    let mails = await readMail();
    for (let i = 0; i < 30 && !mails.some((m) => /督〔\d{4}〕\d+号/.test(m.subject ?? '')); i++) {
      await new Promise((r) => setTimeout(r, 1_000));
      mails = await readMail();
    }
    // One 督办单, one copy for each of its recipients (their own links and Message-ID, issue 19.5), none twice.
    const supervision = mails.filter((m) => /^【督办督办单 督〔\d{4}〕\d+号】/.test(m.subject ?? ''));
    expect(new Set(supervision.map((m) => m.subject)).size).toBe(1);
    expect(new Set(supervision.map((m) => m.messageId)).size).toBe(supervision.length);
    const notices = mails.filter((m) => (m.subject ?? '').startsWith('【督办'));
    expect(notices.length).toBeGreaterThan(3);
    // Issue #19: every first reminder said "本通知原定于…因系统故障或积压延迟送达" though nothing had failed.
    expect(notices.filter((m) => /延迟送达/.test(m.text ?? ''))).toEqual([]);

    first.child.kill('SIGINT');
    expect(await first.exited).toBe(0);
    const before = readdirSync(mailFolder).sort();
    const second = await run(env);
    // The demo keeps its dates: nothing changed, nothing started again (the 办结 one-off ended for good).
    expect(second.output()).toMatch(/新建0项，更新0项/);
    await new Promise((r) => setTimeout(r, 3_000));
    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);
    expect(readdirSync(mailFolder).sort()).toEqual(before);
  });
});
