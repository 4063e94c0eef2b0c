/**
 * The web service end to end, in a real Chromium (Debian's, through playwright-core), against the dev server, a
 * worker with the real activities, a real SQLite ledger and a real SMTP server where the sign-in links arrive.
 *
 * Screenshots of the board and a tracker page are written to test-output/web/ (not committed).
 */
import { boardStates } from '../../web/data';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { Ledger } from '../../ledger';
import { loadInputs } from '../../config/load';
import { Settings, loadSettings } from '../../config/settings';
import { Duban } from '../../access/temporal';
import { openLedger } from '../../access/ledger';
import { RunningWeb, startWeb } from '../../web/server';
import { TestBrowser, signInLinkFor, signInThroughPages, startBrowser } from '../support/browser';
import { EngineWorker, devServerEnv, startEngineWorker } from '../support/engine';
import { SmtpSink, startSmtpSink } from '../support/smtp';
import { periodWords } from '../../domain/words';

jest.setTimeout(300_000);

const fixtures = path.join(__dirname, '..', 'fixtures');
const outputDir = path.join(__dirname, '..', '..', 'test-output', 'web');
const EVIL_UNIT = '=1+1<script>alert(1)</script><img src=x onerror=alert(2)>甲县';
const EVIL_TEXT = '<script>alert(3)</script><img src=x onerror=alert(4)>已按要求报送';
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(64, 1)]);
const MAX_FILE_BYTES = 64 * 1024;

describe('duban web in a real browser', () => {
  let env: TestWorkflowEnvironment;
  let sink: SmtpSink;
  let engine: EngineWorker;
  let ledger: Ledger;
  let duban: Duban;
  let web: RunningWeb;
  let browser: TestBrowser;
  let settings: Settings;
  let trackerCount: number;
  const dialogs: string[] = [];
  const logs: Record<string, unknown>[] = [];

  // Removed in afterAll, also when a test failed.
  let dir: string | undefined;
  beforeAll(async () => {
    env = await devServerEnv();
    sink = await startSmtpSink();
    dir = mkdtempSync(path.join(tmpdir(), 'duban-web-'));
    const directory = readFileSync(path.join(fixtures, 'directory.yaml'), 'utf8').replace(
      'name: 甲县',
      `name: ${JSON.stringify(EVIL_UNIT)}`,
    );
    writeFileSync(path.join(dir, 'directory.yaml'), directory);
    settings = loadSettings({
      TEMPORAL_ADDRESS: env.address,
      DUBAN_TASK_QUEUE: 'web-e2e',
      DUBAN_DATA_DIR: path.join(dir, 'data'),
      SMTP_URL: sink.url,
      DUBAN_WEB_PORT: '0',
      DUBAN_WEB_MAX_FILE_BYTES: String(MAX_FILE_BYTES),
      DUBAN_WEB_MAX_FILES: '3',
      DUBAN_ADMINS: 'admin@test.example.org',
    });
    ledger = await openLedger(settings, { migrate: true });
    engine = await startEngineWorker({ connection: env.nativeConnection, taskQueue: 'web-e2e', sink, ledger });
    duban = await Duban.connect(settings);
    const inputs = loadInputs({
      catalog: path.join(fixtures, 'catalog.yaml'),
      directory: path.join(dir, 'directory.yaml'),
    });
    trackerCount = inputs.trackers.length;
    await duban.register(inputs.trackers, { by: 'test' });
    await ledger.saveDirectorySnapshot({ directory: inputs.directory, catalog: inputs.catalog, by: 'test' });
    for (let i = 0; i < 150 && (await ledger.trackerStates()).length < trackerCount; i++)
      await new Promise((r) => setTimeout(r, 200));
    web = await startWeb({ settings, duban, ledger, log: (e) => logs.push(e) });
    // Ready: Temporal, the ledger and SMTP all answer.
    const ready = await fetch(`${web.url}/readyz`);
    expect(ready.status).toBe(200);
    browser = await startBrowser();
    mkdirSync(outputDir, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await web?.close();
    await duban?.close();
    await engine?.stop();
    await ledger?.close();
    await sink?.close();
    await env?.teardown();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const watch = (page: Page) => page.on('dialog', (d) => (dialogs.push(d.message()), void d.dismiss()));

  /** The sign-in link that arrives for `email` after `since` messages. */
  const linkFor = (email: string, since: number) => signInLinkFor(sink, email, since);

  async function signIn(email: string): Promise<{ context: BrowserContext; page: Page; link: string }> {
    const context = await browser.newContext();
    const page = await context.newPage();
    watch(page);
    const link = await signInThroughPages(page, web.url, sink, email);
    return { context, page, link };
  }

  const eventsOf = (trackerId: string) => ledger.events({ trackerId });
  const sessions = async () =>
    Number((await ledger.db.all<{ n: number }>('SELECT COUNT(*) AS n FROM web_sessions'))[0]!.n);
  const evidenceFiles = () => {
    try {
      return readdirSync(settings.web.evidenceDir!, { recursive: true }).length;
    } catch {
      return 0;
    }
  };

  test('an unknown address gets the same page and no email; the page has no script and a strict CSP', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const response = await page.goto(`${web.url}/login`);
    expect(response!.headers()['content-security-policy']).toContain("default-src 'none'");
    expect(response!.headers()['content-security-policy']).not.toContain('unsafe-inline');
    expect(await page.getAttribute('html', 'lang')).toBe('zh-CN');
    const since = sink.messages.length;
    await page.fill('input[name=email]', 'nobody@test.example.org');
    await page.click('button[type=submit]');
    const unknownText = await page.textContent('main');
    await page.goto(`${web.url}/login`);
    await page.fill('input[name=email]', 'leader1@test.example.org');
    await page.click('button[type=submit]');
    expect(await page.textContent('main')).toBe(unknownText);
    await linkFor('leader1@test.example.org', since);
    await new Promise((r) => setTimeout(r, 300));
    expect(sink.messages.slice(since).filter((m) => m.envelopeTo.includes('nobody@test.example.org'))).toHaveLength(0);
    expect(await page.locator('script').count()).toBe(0);
    // No token in the logs.
    expect(JSON.stringify(logs)).not.toMatch(/\/login\/[A-Za-z0-9_-]{43}/);
    await context.close();
  });

  test("a unit's liaison sees its own board, submits with a PDF, and the tracker shows done; refusals change nothing", async () => {
    const { context, page, link } = await signIn('county-a.liaison@test.example.org');
    // The board shows the ledger's colours, for this unit only.
    const states = (await boardStates(ledger)).filter((t) => t.unit === 'county-a');
    const row = page.locator('tr[data-unit="county-a"]');
    for (const colour of ['red', 'yellow', 'green', 'done', 'waived']) {
      expect(Number(await row.locator(`td[data-colour=${colour}]`).textContent())).toBe(
        states.filter((s) => s.colour === colour).length,
      );
    }
    expect(await page.locator('tr[data-unit]').count()).toBe(1);
    // The unit's name holding markup is shown as text.
    expect(await row.locator('td a').textContent()).toBe(EVIL_UNIT);
    expect(await page.locator('main script, main img').count()).toBe(0);

    // The link cannot be used again.
    const again = await page.goto(link);
    expect(again!.status()).toBe(400);
    expect(await page.textContent('main')).toContain('链接无效');

    const tracker = `${web.url}/t/annual-report/county-a`;
    // Another unit's tracker: 403, page and action alike.
    expect((await page.goto(`${web.url}/t/half-year-report/finance`))!.status()).toBe(403);
    const before = await eventsOf('half-year-report/finance');
    const page403 = await page.goto(tracker);
    expect(page403!.status()).toBe(200);
    const csrf = await page.getAttribute('#form-submit input[name=_csrf]', 'value');
    const other = await context.request.post(`${web.url}/t/half-year-report/finance/submit`, {
      form: { _csrf: csrf!, text: '越权报送' },
    });
    expect(other.status()).toBe(403);
    expect(await eventsOf('half-year-report/finance')).toEqual(before);

    // A form without its CSRF token.
    const mine = await eventsOf('annual-report/county-a');
    const noCsrf = await context.request.post(`${web.url}/t/annual-report/county-a/submit`, {
      form: { text: '没有校验码' },
    });
    expect(noCsrf.status()).toBe(403);
    expect(await noCsrf.text()).toContain('表单已失效');

    // A mislabelled file (a PNG called .pdf) and an oversized one: refused on the page, nothing stored.
    for (const [file, message] of [
      [{ name: 'report.pdf', mimeType: 'application/pdf', buffer: PNG }, '扩展名与内容不符'],
      [
        {
          name: 'big.pdf',
          mimeType: 'application/pdf',
          buffer: Buffer.concat([PDF, Buffer.alloc(MAX_FILE_BYTES, 0x20)]),
        },
        '超过',
      ],
      [
        { name: 'tool.exe', mimeType: 'application/pdf', buffer: Buffer.from('MZ\x90\x00 not a document') },
        '不是可接受的格式',
      ],
    ] as const) {
      await page.goto(tracker);
      await page.fill('#form-submit textarea[name=text]', '附件测试');
      await page.setInputFiles('#form-submit input[type=file]', file);
      const [response] = await Promise.all([
        page.waitForResponse((r) => r.request().method() === 'POST'),
        page.click('#form-submit button[type=submit]'),
      ]);
      expect([413, 422]).toContain(response.status());
      expect(await page.textContent('main')).toContain(message);
    }
    expect(evidenceFiles()).toBe(0);

    // A request the tracker refuses: its own message on the page.
    await page.goto(tracker);
    await page.fill('#form-requestExtension input[name=newDue]', '2026-01-02');
    await page.fill('#form-requestExtension textarea[name=reason]', '测试');
    const [refused] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.click('#form-requestExtension button[type=submit]'),
    ]);
    expect(refused.status()).toBe(422);
    expect(await page.textContent('.error')).toMatch(/不晚于现截止日期/);
    expect(await eventsOf('annual-report/county-a')).toEqual(mine);

    // The submission with a PDF.
    await page.goto(tracker);
    await page.fill('#form-submit input[name=documentNumber]', '甲政发〔2027〕1号');
    await page.fill('#form-submit textarea[name=text]', EVIL_TEXT);
    await page.setInputFiles('#form-submit input[type=file]', {
      name: '年度报告.pdf',
      mimeType: 'application/pdf',
      buffer: PDF,
    });
    await Promise.all([page.waitForURL(/done=submit/), page.click('#form-submit button[type=submit]')]);
    // Handed in, not yet verified: the banner says so, never 已办结 beside 核实：待核实 (#19 item 3).
    expect(await page.textContent('.summary')).toContain('已报送，待核实');
    expect(await page.textContent('.summary')).not.toContain('已办结');
    expect(await page.textContent('main')).toContain(EVIL_TEXT);
    expect(await page.locator('main script, main img').count()).toBe(0);
    const sha = createHash('sha256').update(PDF).digest('hex');
    const download = await context.request.get(`${tracker}/files/${sha}`);
    expect(download.status()).toBe(200);
    expect(Buffer.from(await download.body()).equals(PDF)).toBe(true);
    const submission = (await eventsOf('annual-report/county-a')).find((e) => e.kind === 'submission')!;
    expect(submission.actor).toBe('蒋联络员 <county-a.liaison@test.example.org>');
    expect(JSON.parse(submission.data!).evidence.files[0]).toMatchObject({
      name: '年度报告.pdf',
      sha256: sha,
      size: PDF.length,
      type: 'application/pdf',
    });
    const files = await ledger.db.all<{ sha256: string; uploaded_by: string }>(
      'SELECT sha256, uploaded_by FROM evidence_files',
    );
    expect(files).toEqual([{ sha256: sha, uploaded_by: '蒋联络员 <county-a.liaison@test.example.org>' }]);
    await page.screenshot({ path: path.join(outputDir, 'tracker.png'), fullPage: true });
    expect(readFileSync(path.join(outputDir, 'tracker.png')).subarray(1, 4).toString()).toBe('PNG');
    await context.close();
  });

  test('an expired sign-in link is refused and opens no session', async () => {
    const secret = 'x'.repeat(43);
    await ledger.web.saveSignInLink({
      tokenHash: createHash('sha256').update(secret).digest('hex'),
      email: 'office.head@test.example.org',
      createdAt: Date.now() - 20 * 60_000,
      expiresAt: Date.now() - 5 * 60_000,
    });
    const n = await sessions();
    const context = await browser.newContext();
    const page = await context.newPage();
    expect((await page.goto(`${web.url}/login/${secret}`))!.status()).toBe(400);
    await page.goto(`${web.url}/login`);
    const csrf = await page.getAttribute('input[name=_csrf]', 'value');
    const confirm = await context.request.post(`${web.url}/login/confirm`, { form: { _csrf: csrf!, token: secret } });
    expect(confirm.status()).toBe(400);
    expect(await sessions()).toBe(n);
    await context.close();
  });

  test("the supervising office's staff verify from the page and the board changes", async () => {
    const { context, page } = await signIn('office.liaison@test.example.org');
    expect((await page.locator('tr[data-unit]').allTextContents()).length).toBe(3);
    await page.screenshot({ path: path.join(outputDir, 'board.png'), fullPage: true });
    expect(await page.locator('tr[data-tracker="annual-report/county-a"] .light').textContent()).toBe('已报送，待核实');
    await page.goto(`${web.url}/t/annual-report/county-a`);
    // Offices verify; they do not submit for the unit.
    expect(await page.locator('#form-submit').count()).toBe(0);
    await page.selectOption('#form-verify select[name=rating]', '良好');
    await Promise.all([page.waitForURL(/done=verify/), page.click('#form-verify button[value=accept]')]);
    const outcomes = await ledger.outcomes({ trackerId: 'annual-report/county-a' });
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]!.outcome).toBe('on_time');
    const accepted = (await eventsOf('annual-report/county-a')).find((e) => e.kind === 'verification_accepted')!;
    expect(accepted.actor).toBe('吴科长 <office.liaison@test.example.org>');
    // The tracker moved on to its next period, and the board says so.
    for (
      let i = 0;
      i < 100 &&
      (await ledger.trackerStates()).find((t) => t.trackerId === 'annual-report/county-a')!.period ===
        outcomes[0]!.period;
      i++
    )
      await new Promise((r) => setTimeout(r, 100));
    const state = (await ledger.trackerStates()).find((t) => t.trackerId === 'annual-report/county-a')!;
    expect(state.period).not.toBe(outcomes[0]!.period);
    await page.goto(`${web.url}/`);
    const item = page.locator(`tr[data-tracker="annual-report/county-a"][data-period="${state.period}"]`);
    // The period in words (2027年度), its label in the row's data.
    expect(await item.locator('td').nth(3).textContent()).toBe(periodWords(state.period));
    expect(await item.locator('.light').textContent()).not.toBe('已办结');

    // The year report with CSV (formula-escaped) and XLSX downloads.
    const year = outcomes[0]!.due_year;
    await page.goto(`${web.url}/report?year=${year}`);
    expect(await page.textContent('table.report')).toContain(EVIL_UNIT);
    const csv = await (await context.request.get(`${web.url}/report.csv?year=${year}`)).text();
    expect(csv).toContain(`'${EVIL_UNIT}`);
    expect(csv).not.toMatch(/,=1\+1/);
    const xlsx = await context.request.get(`${web.url}/report.xlsx?year=${year}`);
    expect(xlsx.status()).toBe(200);
    expect(
      Buffer.from(await xlsx.body())
        .subarray(0, 2)
        .toString(),
    ).toBe('PK');
    await context.close();
  });

  test('a unit asks for an extension and records a study session; the office approves and waives; the board follows', async () => {
    const unit = await signIn('finance.liaison@test.example.org');
    const post = (page: Page, form: string) =>
      Promise.all([page.waitForURL(/done=/), page.click(`${form} button[type=submit]`)]);
    await unit.page.goto(`${web.url}/t/half-year-report/finance`);
    const due = (await ledger.trackerStates()).find((t) => t.trackerId === 'half-year-report/finance')!.due;
    const later = new Date(Date.parse(`${due}T00:00:00Z`) + 10 * 86_400_000).toISOString().slice(0, 10);
    await unit.page.fill('#form-requestExtension input[name=newDue]', later);
    await unit.page.fill('#form-requestExtension textarea[name=reason]', '需等待统计数据');
    await post(unit.page, '#form-requestExtension');
    expect(await unit.page.textContent('.summary')).toContain(`延期申请待审批（至 ${later}`);
    // A quota obligation: its form records an event of today, inside the period.
    await unit.page.goto(`${web.url}/t/study-session/finance`);
    expect(await unit.page.locator('#form-submit').count()).toBe(0);
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date());
    await unit.page.fill('#form-record input[name=date]', today);
    await unit.page.fill('#form-record input[name=topic]', '行政处罚法专题');
    await post(unit.page, '#form-record');
    expect(await unit.page.textContent('.summary')).toContain('已办结');
    await unit.context.close();

    const office = await signIn('office.liaison@test.example.org');
    await office.page.goto(`${web.url}/t/half-year-report/finance`);
    await office.page.fill('#form-decideExtension textarea[name=reason]', '同意');
    await Promise.all([
      office.page.waitForURL(/done=decideExtension/),
      office.page.click('#form-decideExtension button[value=yes]'),
    ]);
    expect(await office.page.textContent('.summary')).toMatch(
      new RegExp(`${later}（原截止 \\d{4}-\\d{2}-\\d{2}，已延期）`),
    );
    await office.page.goto(`${web.url}/t/half-year-report/justice`);
    await office.page.fill('#form-waive textarea[name=reason]', '机构调整，本期不适用');
    await post(office.page, '#form-waive');
    expect(await office.page.textContent('.summary')).toContain('已免除');
    const events = await eventsOf('half-year-report/justice');
    expect(events.find((e) => e.kind === 'waived')).toMatchObject({
      actor: '吴科长 <office.liaison@test.example.org>',
    });
    // The board shows what the ledger holds.
    for (
      let i = 0;
      i < 50 &&
      !(await boardStates(ledger)).some((t) => t.trackerId === 'half-year-report/justice' && t.colour === 'waived');
      i++
    )
      await new Promise((r) => setTimeout(r, 100));
    await office.page.goto(`${web.url}/`);
    const states = await boardStates(ledger);
    for (const unitId of ['justice', 'finance', 'county-a']) {
      for (const colour of ['red', 'yellow', 'green', 'done', 'waived']) {
        const shown = Number(
          await office.page.locator(`tr[data-unit="${unitId}"] td[data-colour=${colour}]`).textContent(),
        );
        expect([unitId, colour, shown]).toEqual([
          unitId,
          colour,
          states.filter((t) => t.unit === unitId && t.colour === colour).length,
        ]);
      }
    }
    expect(Number(await office.page.locator('tr[data-unit="justice"] td[data-colour=waived]').textContent())).toBe(1);
    await office.context.close();
  });

  test('代办 from the page: the unit names a stand-in, sees the range listed and cancels it; the ledger follows', async () => {
    const unit = await signIn('finance.liaison@test.example.org');
    const page = unit.page;
    await page.goto(`${web.url}/t/half-year-report/finance`);
    expect(await page.locator('#stand-ins').count()).toBe(0);
    const day = (offset: number) =>
      new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(
        new Date(Date.now() + offset * 86_400_000),
      );
    await page.selectOption('#form-stand-in select[name=absent]', 'finance.head@test.example.org');
    await page.fill('#form-stand-in input[name=standIn]', 'finance.deputy@test.example.org');
    await page.fill('#form-stand-in input[name=from]', day(0));
    await page.fill('#form-stand-in input[name=to]', day(5));
    await Promise.all([page.waitForLoadState('load'), page.click('#form-stand-in button[type=submit]')]);
    expect(await page.textContent('main')).toContain('已设置代办');
    const [range] = await ledger.standIns.forUnits(['finance'], '0000-01-01');
    expect(range).toMatchObject({
      absent: { name: '冯局长' },
      standIn: { name: '褚副局长' },
      from: day(0),
      to: day(5),
    });
    expect(await page.locator(`#stand-ins li[data-stand-in="${range!.id}"]`).textContent()).toContain(
      '冯局长的通知改发褚副局长',
    );

    await Promise.all([
      page.waitForLoadState('load'),
      page.click(`#stand-ins li[data-stand-in="${range!.id}"] button`),
    ]);
    expect(await page.textContent('main')).toContain('已取消代办');
    expect(await page.locator('#stand-ins').count()).toBe(0);
    expect(await ledger.standIns.forUnits(['finance'], '0000-01-01')).toEqual([]);
    // Another unit's staff cannot cancel it: refused, and nothing changes.
    const other = await signIn('justice.liaison@test.example.org');
    const refused = await other.context.request.post(`${web.url}/t/half-year-report/finance/stand-in/cancel`, {
      form: { id: range!.id, _csrf: 'x' },
    });
    expect(refused.status()).toBe(403);
    await other.context.close();
    await unit.context.close();
  });

  test("leadership read everything and act on nothing; another unit's staff cannot download its files; administrators may pause", async () => {
    const sha = createHash('sha256').update(PDF).digest('hex');
    const fileUrl = `${web.url}/t/annual-report/county-a/files/${sha}`;
    const stranger = await signIn('justice.liaison@test.example.org');
    expect((await stranger.context.request.get(fileUrl)).status()).toBe(403);
    await stranger.context.close();
    const leader = await signIn('leader2@test.example.org');
    expect((await leader.context.request.get(fileUrl)).status()).toBe(200);
    expect(await leader.page.locator('tr[data-unit]').count()).toBe(3);
    await leader.page.goto(`${web.url}/t/half-year-report/finance`);
    expect(await leader.page.locator('form.act').count()).toBe(0);
    await leader.context.close();
    const admin = await signIn('admin@test.example.org');
    await admin.page.goto(`${web.url}/t/half-year-report/finance`);
    expect(await admin.page.locator('#form-pause').count()).toBe(1);
    expect(await admin.page.locator('#form-submit, #form-verify').count()).toBe(0);
    await admin.context.close();
    expect(dialogs).toEqual([]);
  });
});
