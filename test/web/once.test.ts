/**
 * Issue 19 items 6, 8 and 10 on the web, in a real Chromium against the dev server, a worker with the real
 * activities, a real SQLite ledger and a real SMTP server:
 * - a signed-in form is answered once: three identical POSTs of the 进展 form record one entry, a double click in
 *   the browser records one;
 * - 催办 from the tracker page: the office's liaison urges a red period, the message arrives, the ledger names who,
 *   the page then shows the form disabled with the day the next may go, and a second one is refused in Chinese;
 * - a 390x844 phone: the board, the tracker page, the year report and a link page are no wider than the screen,
 *   the board has its days-left column and totals, and no date wraps in the middle.
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { Ledger } from '../../ledger';
import { LinkKey, signLink } from '../../channels/links';
import { Duban } from '../../access/temporal';
import { openLedger } from '../../access/ledger';
import { loadInputs } from '../../config/load';
import { Settings, linkSettings, loadSettings } from '../../config/settings';
import { RunningWeb, startWeb } from '../../web/server';
import { TestBrowser, signInThroughPages, startBrowser } from '../support/browser';
import { EngineWorker, devServerEnv, startEngineWorker, startTracker } from '../support/engine';
import { SmtpSink, startSmtpSink } from '../support/smtp';

jest.setTimeout(300_000);

const fixtures = path.join(__dirname, '..', 'fixtures');
const TRACKER = 'old-report/justice';
/** The overdue period of TRACKER: last year's, in Beijing. */
const LAST_YEAR = String(
  Number(new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date()).slice(0, 4)) - 1,
);

const shanghaiDay = (offsetDays: number) =>
  new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(
    new Date(Date.now() + offsetDays * 86_400_000),
  );

const catalogYaml = () => `timeZone: Asia/Shanghai
noticeHour: 9
obligations:
  - id: report-soon
    title: 专项工作情况报告（一份标题很长的任务，用来检验窄屏上的表格是否只在自己的框内滚动）
    basis:
      - { document: 测试市专项工作方案, article: 第五条, quote: 各单位应于规定日期前报送专项工作情况 }
    assignees: { units: [county-a, justice, finance] }
    period: once
    due: { rule: fixed-date, date: "${shanghaiDay(8)}" }
  - id: old-report
    title: 年度依法行政报告
    basis:
      - { document: 法治政府建设与责任落实督察工作规定, quote: 每年3月1日之前 }
    assignees: { units: [justice] }
    period: year
    due: { rule: next-month-day, monthDay: "03-01", before: true }
`;

describe('signed-in forms answered once, 催办 from the page, and a phone-sized screen', () => {
  let env: TestWorkflowEnvironment;
  let sink: SmtpSink;
  let engine: EngineWorker;
  let ledger: Ledger;
  let duban: Duban;
  let web: RunningWeb;
  let browser: TestBrowser;
  let settings: Settings;
  let keys: LinkKey[];
  const logs: Record<string, unknown>[] = [];
  const slow = { on: false };

  // Removed in afterAll, also when a test failed.
  let dir: string | undefined;
  beforeAll(async () => {
    env = await devServerEnv();
    sink = await startSmtpSink();
    dir = mkdtempSync(path.join(tmpdir(), 'duban-once-'));
    writeFileSync(path.join(dir, 'directory.yaml'), readFileSync(path.join(fixtures, 'directory.yaml')));
    writeFileSync(path.join(dir, 'catalog.yaml'), catalogYaml());
    settings = loadSettings({
      TEMPORAL_ADDRESS: env.address,
      DUBAN_TASK_QUEUE: 'once-e2e',
      DUBAN_DATA_DIR: path.join(dir, 'data'),
      SMTP_URL: sink.url,
      DUBAN_WEB_PORT: '0',
      DUBAN_LINK_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    });
    ledger = await openLedger(settings, { migrate: true });
    duban = await Duban.connect(settings);
    // The double-click test holds the Update a moment, as a busy service would, so the second click lands on the
    // same page while the first is still being answered.
    const held = new Proxy(duban, {
      get(target, name) {
        if (name === 'act')
          return async (...args: Parameters<Duban['act']>) => {
            if (slow.on) await new Promise((r) => setTimeout(r, 1_500));
            return target.act(...args);
          };
        const value = Reflect.get(target, name) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    web = await startWeb({ settings, duban: held, ledger, log: (e) => logs.push(e) });
    const links = linkSettings(settings)!;
    keys = links.keys;
    engine = await startEngineWorker({
      connection: env.nativeConnection,
      taskQueue: 'once-e2e',
      sink,
      ledger,
      links: { ...links, baseUrl: web.url },
    });
    const inputs = loadInputs({ catalog: path.join(dir, 'catalog.yaml'), directory: path.join(dir, 'directory.yaml') });
    await ledger.saveDirectorySnapshot({ directory: inputs.directory, catalog: inputs.catalog, by: 'test' });
    await duban.register(
      inputs.trackers.filter((t) => t.obligation.id !== 'old-report'),
      { by: 'test' },
    );
    // Last year's period, long overdue and still open: red.
    await startTracker(
      env.client,
      'once-e2e',
      inputs.trackers.find((t) => t.trackerId === TRACKER)!,
      {
        period: String(Number(shanghaiDay(0).slice(0, 4)) - 1),
      },
    );
    for (let i = 0; i < 150 && (await ledger.trackerStates()).length < inputs.trackers.length; i++)
      await new Promise((r) => setTimeout(r, 200));
    browser = await startBrowser();
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

  async function signIn(email: string, phone = false): Promise<{ context: BrowserContext; page: Page }> {
    const context = phone
      ? await browser.browser.newContext({ locale: 'zh-CN', viewport: { width: 390, height: 844 }, isMobile: true })
      : await browser.newContext();
    const page = await context.newPage();
    await signInThroughPages(page, web.url, sink, email);
    return { context, page };
  }

  const progressCount = async () => (await duban.status(TRACKER)).periods[0]!.progressCount;
  const settle = () => new Promise((r) => setTimeout(r, 1_000));

  test('three identical POSTs of the 进展 form record one entry; the repeats are told 已提交，请勿重复提交', async () => {
    const { context, page } = await signIn('justice.liaison@test.example.org');
    await page.goto(`${web.url}/t/${TRACKER}`);
    const field = async (name: string) => (await page.getAttribute(`#form-progress input[name=${name}]`, 'value'))!;
    const form = {
      _csrf: await field('_csrf'),
      _form: await field('_form'),
      period: LAST_YEAR,
      note: '重放：同一表单提交三次',
    };
    expect(form._form).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const before = await progressCount();
    const answers = [];
    for (let i = 0; i < 3; i++) {
      const r = await context.request.post(`${web.url}/t/${TRACKER}/progress`, { multipart: form, maxRedirects: 0 });
      answers.push([r.status(), r.headers().location]);
    }
    expect(answers).toEqual([
      [303, `/t/${TRACKER}?done=progress`],
      [303, `/t/${TRACKER}?done=progress&repeat=1`],
      [303, `/t/${TRACKER}?done=progress&repeat=1`],
    ]);
    await page.goto(`${web.url}${answers[1]![1]}`);
    expect(await page.textContent('p[role=status]')).toContain('已提交，请勿重复提交');
    await settle();
    expect(await progressCount()).toBe(before + 1);
    const entries = (await ledger.events({ trackerId: TRACKER })).filter(
      (e) => e.kind === 'progress' && (e.data ?? '').includes('重放'),
    );
    expect(entries).toHaveLength(1);
    // A form without its one-time token (a page from before this version, a forged POST) changes nothing.
    const bare = await context.request.post(`${web.url}/t/${TRACKER}/progress`, {
      multipart: { ...form, _form: '' },
      maxRedirects: 0,
    });
    expect(bare.status()).toBe(403);
    expect(await progressCount()).toBe(before + 1);
    // A refusal gives the token back: the corrected form goes through once.
    await page.goto(`${web.url}/t/${TRACKER}`);
    const again = { ...form, _form: await field('_form') };
    const empty = await context.request.post(`${web.url}/t/${TRACKER}/progress`, {
      multipart: { ...again, note: '' },
      maxRedirects: 0,
    });
    expect(empty.status()).toBe(422);
    const fixed = await context.request.post(`${web.url}/t/${TRACKER}/progress`, {
      multipart: { ...again, note: '改正后再次提交' },
      maxRedirects: 0,
    });
    expect([fixed.status(), fixed.headers().location]).toEqual([303, `/t/${TRACKER}?done=progress`]);
    expect(await progressCount()).toBe(before + 2);
    await context.close();
  });

  test('a double click on 提交进展 in Chromium records one entry', async () => {
    const { context, page } = await signIn('justice.head@test.example.org');
    await page.goto(`${web.url}/t/${TRACKER}`);
    const before = await progressCount();
    await page.fill('#form-progress textarea[name=note]', '双击提交');
    slow.on = true;
    const button = '#form-progress button[type=submit]';
    // Two clicks of the mouse 300 ms apart, the first POST still being answered: the browser abandons it and
    // shows the answer to the second (Playwright's own click waits for the first navigation, a person does not).
    const box = (await page.locator(button).boundingBox())!;
    const answers: number[] = [];
    page.on('response', (r) => {
      if (r.request().method() === 'POST') answers.push(r.status());
    });
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await new Promise((r) => setTimeout(r, 300));
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await page.waitForSelector('text=请勿重复提交');
    expect(answers).toEqual([409]);
    await page.waitForLoadState();
    await settle();
    slow.on = false;
    await settle();
    expect(await page.textContent('main')).toContain('已提交，请勿重复提交');
    // Both clicks reached the service (the second found the first's token claimed); one was acted on.
    expect(logs.some((e) => e.msg === 'form replayed' && e.who === 'justice.head@test.example.org')).toBe(true);
    expect(await progressCount()).toBe(before + 1);
    let rows = 0;
    for (let i = 0; i < 50 && rows === 0; i++) {
      await page.goto(`${web.url}/t/${TRACKER}`);
      rows = await page.locator('tr.event[data-kind=progress]', { hasText: '双击提交' }).count();
      if (rows === 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(rows).toBe(1);
    await context.close();
  });

  test('the office urges a red item from the page: one 催办 email, who in the ledger, then disabled and refused in Chinese', async () => {
    const { context, page } = await signIn('office.liaison@test.example.org');
    await page.goto(`${web.url}/t/${TRACKER}`);
    expect(await page.locator('form#form-urge').count()).toBe(1);
    // A period not yet due offers no 催办.
    await page.goto(`${web.url}/t/report-soon/county-a`);
    expect(await page.locator('form#form-urge').count()).toBe(0);
    expect(await page.textContent('section.unavailable[data-action=urge]')).toContain('无需催办');

    await page.goto(`${web.url}/t/${TRACKER}`);
    const csrf = (await page.getAttribute('#form-urge input[name=_csrf]', 'value'))!;
    const since = sink.messages.length;
    await page.fill('#form-urge textarea[name=note]', '请于本周内报送');
    await Promise.all([page.waitForURL(/done=urge/), page.click('#form-urge button[type=submit]')]);
    expect(await page.textContent('p[role=status]')).toContain('已催办');
    const urgeMail = async () => {
      for (let i = 0; i < 200; i++) {
        const m = sink.messages.slice(since).filter((x) => /^【督办催办/.test(x.parsed.subject ?? ''));
        if (m.length) return m;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error('no 催办 arrived');
    };
    const mails = await urgeMail();
    expect(mails.flatMap((m) => m.envelopeTo)).toEqual(expect.arrayContaining(['justice.head@test.example.org']));
    expect(mails[0]!.parsed.text).toContain('吴科长');
    expect(mails[0]!.parsed.text).toContain('请于本周内报送');
    const urged = (await ledger.events({ trackerId: TRACKER })).filter((e) => e.kind === 'urged');
    expect(urged).toHaveLength(1);
    expect(urged[0]!.actor).toContain('吴科长');
    expect(urged[0]!.actor).toContain('office.liaison@test.example.org');

    // Once sent, the page shows the form disabled with the reason and the day the next may go.
    let reason = '';
    for (let i = 0; i < 100; i++) {
      await page.goto(`${web.url}/t/${TRACKER}`);
      const section = page.locator('section.unavailable[data-action=urge]');
      if (await section.count()) {
        reason = (await section.textContent()) ?? '';
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(reason).toMatch(/今日已催办（吴科长.*），每个工作日最多催办一次；\d{4}-\d{2}-\d{2}起可再次催办/);
    expect(await page.locator('form#form-urge').count()).toBe(0);

    // A second one the same working day (a stale page, a script) is refused in Chinese and changes nothing.
    const mailsBefore = sink.messages.length;
    const second = await context.request.post(`${web.url}/t/${TRACKER}/urge`, {
      form: { _csrf: csrf, _form: randomBytes(32).toString('base64url'), note: '再次催办' },
      maxRedirects: 0,
    });
    expect(second.status()).toBe(422);
    expect(await second.text()).toMatch(/催办过，每个工作日最多催办一次；\d{4}-\d{2}-\d{2}起可再次催办/);
    await settle();
    expect((await ledger.events({ trackerId: TRACKER })).filter((e) => e.kind === 'urged')).toHaveLength(1);
    expect(sink.messages.slice(mailsBefore).filter((x) => /^【督办催办/.test(x.parsed.subject ?? ''))).toHaveLength(0);
    await context.close();
  });

  test('at 390x844 the board, the tracker page, the year report and a link page fit the screen; dates never wrap', async () => {
    const { context, page } = await signIn('office.liaison@test.example.org', true);
    const link = signLink(
      {
        trackerId: 'report-soon/county-a',
        period: 'once',
        email: 'county-a.liaison@test.example.org',
        name: '蒋联络员',
        actions: ['view', 'submit'],
        expiresAt: Date.now() + 86_400_000,
      },
      keys,
    );
    const widths: Record<string, number> = {};
    for (const [name, url] of [
      ['board', '/'],
      ['tracker', `/t/${TRACKER}`],
      ['report', `/report?year=${LAST_YEAR}`],
      ['link', `/a/${link}/submit`],
    ] as const) {
      const r = await page.goto(`${web.url}${url}`);
      expect(r!.status()).toBe(200);
      widths[name] = Number(await page.evaluate('document.documentElement.scrollWidth'));
      // Every date and time is one line (a narrow column never breaks one in the middle).
      const broken = (await page.evaluate(
        "[...document.querySelectorAll('.when')].filter((e) => e.getClientRects().length > 1).map((e) => e.textContent)",
      )) as string[];
      expect({ name, broken }).toEqual({ name, broken: [] });
    }
    expect(widths).toEqual({
      board: expect.any(Number),
      tracker: expect.any(Number),
      report: expect.any(Number),
      link: expect.any(Number),
    });
    for (const [name, w] of Object.entries(widths)) expect({ name, fits: w <= 390 }).toEqual({ name, fits: true });

    // The board's days-left column (calendar days) and its totals.
    await page.goto(`${web.url}/`);
    expect(await page.textContent('table.items thead')).toContain('剩余/逾期（日历日）');
    const overdue = page.locator(`tr[data-tracker="${TRACKER}"][data-period="${LAST_YEAR}"] td.days`);
    expect(await overdue.textContent()).toMatch(/^已逾期\d+天$/);
    expect(await page.locator('tr[data-tracker="report-soon/county-a"] td.days').textContent()).toBe('还剩8天');
    const totals = page.locator('table.units tfoot tr.totals');
    expect(await totals.locator('td[data-colour=red]').textContent()).toBe('1');
    // Five periods open: the tracker of last year's overdue report has this year's too.
    expect(await totals.locator('td.total').textContent()).toBe('5');
    await context.close();
  });
});
