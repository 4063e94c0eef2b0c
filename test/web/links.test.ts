/**
 * Signed action links end to end (issue 10, DOMAIN.md 22), in a real Chromium against the dev server, a worker
 * with the real activities and the links configured, a real SQLite ledger and a real SMTP server: a reminder
 * arrives, the test takes the links out of the message, opens them, acknowledges and submits with a file; every
 * GET changes nothing; every refusal shows a clear page and changes nothing.
 *
 * Screenshots (a phone-sized link page and its confirmation) go to test-output/web/ (not committed).
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { APIRequestContext, BrowserContext, Page } from 'playwright-core';
import { Ledger } from '../../ledger';
import { LinkClaims, LinkKey, parseLinkKeys, signLink, verifyLink } from '../../channels/links';
import { Duban } from '../../access/temporal';
import { openLedger } from '../../access/ledger';
import { loadInputs } from '../../config/load';
import { Settings, linkSettings, loadSettings } from '../../config/settings';
import { workflowIdFor } from '../../workflows/messages';
import { RunningWeb, startWeb } from '../../web/server';
import { TestBrowser, signInThroughPages, startBrowser } from '../support/browser';
import { EngineWorker, devServerEnv, startEngineWorker, startTracker } from '../support/engine';
import { ReceivedMail, SmtpSink, startSmtpSink } from '../support/smtp';
import { periodWords } from '../../domain/words';

jest.setTimeout(300_000);

const fixtures = path.join(__dirname, '..', 'fixtures');
const outputDir = path.join(__dirname, '..', '..', 'test-output', 'web');
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
/** The liaison's name as the directory gives it: quotes and markup, shown as text everywhere. */
const EVIL_NAME = '蒋"联络员\'<script>alert(1)</script>';
const key = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;
const KEY_NEW = key('k2');
const KEY_OLD = key('k1');
const KEY_GONE = key('k0');

const shanghaiDay = (offsetDays: number) =>
  new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(
    new Date(Date.now() + offsetDays * 86_400_000),
  );

function catalogYaml(): string {
  return `timeZone: Asia/Shanghai
noticeHour: 9
obligations:
  - id: report-soon
    title: 专项工作情况报告
    basis:
      - { document: 测试市专项工作方案, article: 第五条, quote: 各单位应于规定日期前报送专项工作情况 }
    deliverable: 专项工作情况报告（盖章PDF）
    assignees: { units: [county-a] }
    period: once
    due: { rule: fixed-date, date: "${shanghaiDay(8)}" }
  - id: old-report
    title: 年度依法行政报告
    basis:
      - { document: 法治政府建设与责任落实督察工作规定, quote: 每年3月1日之前 }
    assignees: { units: [justice] }
    period: year
    due: { rule: next-month-day, monthDay: "03-01", before: true }
  - id: study
    title: 集体学法
    basis:
      - { document: 实施方案, quote: 每季度要开展一次集体学法活动 }
    assignees: { units: [finance] }
    completion: quota
    quota: 1
    period: quarter
    due: { rule: period-end }
`;
}

describe('signed action links in a real browser', () => {
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
  const dialogs: string[] = [];

  // Removed in afterAll, also when a test failed.
  let dir: string | undefined;
  beforeAll(async () => {
    env = await devServerEnv();
    sink = await startSmtpSink();
    dir = mkdtempSync(path.join(tmpdir(), 'duban-links-'));
    const directory = readFileSync(path.join(fixtures, 'directory.yaml'), 'utf8').replace(
      'name: 蒋联络员',
      `name: ${JSON.stringify(EVIL_NAME)}`,
    );
    writeFileSync(path.join(dir, 'directory.yaml'), directory);
    writeFileSync(path.join(dir, 'catalog.yaml'), catalogYaml());
    settings = loadSettings({
      TEMPORAL_ADDRESS: env.address,
      DUBAN_TASK_QUEUE: 'links-e2e',
      DUBAN_DATA_DIR: path.join(dir, 'data'),
      SMTP_URL: sink.url,
      DUBAN_WEB_PORT: '0',
      DUBAN_LINK_KEYS: `${KEY_NEW},${KEY_OLD}`,
      DUBAN_LINK_GRACE_DAYS: '3',
    });
    ledger = await openLedger(settings, { migrate: true });
    duban = await Duban.connect(settings);
    // The web first: the worker's links point at its address (port 0 picks one).
    web = await startWeb({ settings, duban, ledger, log: (e) => logs.push(e) });
    const links = linkSettings(settings)!;
    keys = links.keys;
    engine = await startEngineWorker({
      connection: env.nativeConnection,
      taskQueue: 'links-e2e',
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
    // A period long overdue and still open (DOMAIN.md 19): its latest escalation goes out at once.
    await startTracker(
      env.client,
      'links-e2e',
      inputs.trackers.find((t) => t.trackerId === 'old-report/justice')!,
      { period: String(Number(shanghaiDay(0).slice(0, 4)) - 1) },
    );
    browser = await startBrowser();
    mkdirSync(outputDir, { recursive: true });
  });

  afterAll(async () => {
    // The action links' request times (GET page, POST to confirmation), for docs/performance.md; not asserted.
    const timings = logs
      .filter((e) => e.msg === 'request' && String(e.path).startsWith('/a/'))
      .map((e) => ({ method: e.method, path: e.path, status: e.status, ms: e.ms }));
    if (timings.length)
      writeFileSync(path.join(outputDir, 'link-timings.json'), `${JSON.stringify(timings, null, 1)}\n`);
    await browser?.close();
    await web?.close();
    await duban?.close();
    await engine?.stop();
    await ledger?.close();
    await sink?.close();
    await env?.teardown();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function messageFor(email: string, subject: RegExp): Promise<ReceivedMail> {
    for (let i = 0; i < 300; i++) {
      const m = sink.messages.find((x) => x.envelopeTo.includes(email) && subject.test(x.parsed.subject ?? ''));
      if (m) return m;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`no message ${subject} arrived for ${email}`);
  }

  /** Every action link in a message's text, with its verified claims. */
  function linksIn(m: ReceivedMail): { url: string; token: string; action: string; claims: LinkClaims }[] {
    return [...(m.parsed.text ?? '').matchAll(/http:\/\/\S+\/a\/([A-Za-z0-9_.-]+)\/([A-Za-z]+)/g)].map((x) => {
      const check = verifyLink(x[1]!, keys, Date.now());
      if (!check.ok) throw new Error(`a link in the message does not verify: ${check.message}`);
      return { url: x[0], token: x[1]!, action: x[2]!, claims: check.claims };
    });
  }

  /** What must not change on a GET or a refusal: the tracker's status and the ledger's events. */
  async function stateOf(trackerId: string) {
    const status = await duban.status(trackerId).catch(() => undefined);
    return {
      status: JSON.stringify(status),
      events: await ledger.events({ trackerId }),
      submissions: await ledger.db.all('SELECT nonce, result FROM web_link_submissions ORDER BY nonce'),
    };
  }

  const periodOf = async (trackerId: string) => (await duban.status(trackerId)).periods[0]!.period;
  const sign = (
    c: Partial<LinkClaims> & Pick<LinkClaims, 'trackerId' | 'period' | 'email' | 'name'>,
    withKeys: LinkKey[] = keys,
  ) =>
    signLink(
      {
        actions: ['view', 'acknowledge', 'progress', 'submit', 'record', 'requestExtension'],
        expiresAt: Date.now() + 86_400_000,
        ...c,
      },
      withKeys,
    );

  async function newPage(): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.browser.newContext({
      locale: 'zh-CN',
      viewport: { width: 390, height: 844 },
      isMobile: true,
    });
    const page = await context.newPage();
    page.on('dialog', (d) => (dialogs.push(d.message()), void d.dismiss()));
    return { context, page };
  }

  /** The form of a link page, posted with the same cookies (a second click, a replay, a forged field). */
  async function formOf(page: Page, action: string): Promise<Record<string, string>> {
    return {
      _csrf: (await page.getAttribute(`#form-${action} input[name=_csrf]`, 'value'))!,
      _nonce: (await page.getAttribute(`#form-${action} input[name=_nonce]`, 'value'))!,
    };
  }

  test('a reminder carries each recipient’s links in text and HTML; GET of every link changes nothing', async () => {
    // Each recipient has a copy of their own, holding only their own links (issue 19.5): nothing in the liaison's
    // mailbox can act as the head.
    const m = await messageFor('county-a.liaison@test.example.org', /专项工作情况报告/);
    const hm = await messageFor('county-a.head@test.example.org', /专项工作情况报告/);
    expect(m.parsed.subject).toContain('提醒');
    expect(m.envelopeTo).toEqual(['county-a.liaison@test.example.org']);
    expect(hm.envelopeTo).toEqual(['county-a.head@test.example.org']);
    expect(hm.messageId).not.toBe(m.messageId);
    const liaison = linksIn(m);
    const head = linksIn(hm);
    expect(liaison.every((l) => l.claims.email === 'county-a.liaison@test.example.org')).toBe(true);
    expect(head.every((l) => l.claims.email === 'county-a.head@test.example.org')).toBe(true);
    const links = [...liaison, ...head];
    // 退回 (hand back) is the unit's too (issue #24 item 4).
    const unitLinks = ['acknowledge', 'progress', 'submit', 'requestExtension', 'handBack', 'view'];
    expect(liaison.map((l) => l.action)).toEqual(unitLinks);
    expect(head.map((l) => l.action)).toEqual(unitLinks);
    expect(liaison[0]!.claims).toMatchObject({ trackerId: 'report-soon/county-a', name: EVIL_NAME });
    // The HTML part links the same addresses, and the name with markup stays text.
    for (const l of liaison) expect(m.parsed.html).toContain(`href="${l.url}"`);
    for (const l of head) expect(hm.parsed.html).toContain(`href="${l.url}"`);
    expect(m.parsed.html).not.toContain('<script>');
    expect(m.parsed.html).toContain('&lt;script&gt;');
    expect(m.parsed.text).toContain('打开链接只显示办理页面，不改变任何状态');
    // Signed with the current key; valid to the end of the ladder plus the grace.
    expect(liaison[0]!.token.split('.')[1]).toBe('k2');

    const before = await stateOf('report-soon/county-a');
    const context = await browser.newContext();
    for (const l of links) {
      const r = await context.request.get(l.url);
      expect([l.action, r.status()]).toEqual([l.action, 200]);
      expect(r.headers()['content-security-policy']).toContain("default-src 'none'");
      expect(r.headers()['referrer-policy']).toBe('no-referrer');
      const body = await r.text();
      expect(body).not.toContain('<script>');
      expect(body).toContain('专项工作情况报告');
    }
    expect(await stateOf('report-soon/county-a')).toEqual(before);
    // No token in the request logs.
    expect(JSON.stringify(logs)).not.toContain(liaison[0]!.token.split('.')[2]!);
    await context.close();
  });

  test('the liaison acknowledges from the link, then submits with a file: done, the ledger has the hash and the address, and no reminder follows', async () => {
    const m = await messageFor('county-a.liaison@test.example.org', /专项工作情况报告/);
    const mine = linksIn(m).filter((l) => l.claims.email === 'county-a.liaison@test.example.org');
    const url = (a: string) => mine.find((l) => l.action === a)!.url;
    const { context, page } = await newPage();

    await page.goto(url('acknowledge'));
    expect(await page.getAttribute('html', 'lang')).toBe('zh-CN');
    const facts = await page.textContent('table.facts');
    expect(facts).toContain('甲县');
    expect(facts).toContain(shanghaiDay(8));
    expect(facts).toContain('各单位应于规定日期前报送专项工作情况');
    expect(facts).toContain('专项工作情况报告（盖章PDF）');
    expect(await page.textContent('.note b')).toBe(EVIL_NAME);
    expect(await page.locator('script').count()).toBe(0);
    await page.screenshot({ path: path.join(outputDir, 'link-acknowledge.png'), fullPage: true });
    const fields = await formOf(page, 'acknowledge');
    await Promise.all([page.waitForLoadState(), page.click('#form-acknowledge button[type=submit]')]);
    await page.waitForSelector('text=已记入台账');
    expect(await page.textContent('td.by')).toBe(`${EVIL_NAME} <county-a.liaison@test.example.org>`);
    // A double submit (the same form again) is answered once.
    const again = await context.request.post(url('acknowledge'), { form: fields });
    expect(again.status()).toBe(200);
    expect(await again.text()).toContain('该表单已提交过，未重复办理');
    const acks = (await ledger.events({ trackerId: 'report-soon/county-a' })).filter((e) => e.kind === 'acknowledged');
    expect(acks.map((e) => e.actor)).toEqual([`${EVIL_NAME} <county-a.liaison@test.example.org>`]);
    // The view link shows it, read-only.
    await page.goto(url('view'));
    expect(await page.locator('form.act').count()).toBe(0);
    expect(await page.textContent('table.timeline')).toContain('签收');
    expect(await page.textContent('.status')).toContain('已签收');

    // The submission with a PDF.
    await page.goto(url('submit'));
    await page.fill('#form-submit input[name=documentNumber]', '甲政发〔2026〕9号');
    await page.fill('#form-submit textarea[name=text]', '<b>已报送</b>');
    await page.setInputFiles('#form-submit input[type=file]', {
      name: '专项报告.pdf',
      mimeType: 'application/pdf',
      buffer: PDF,
    });
    await Promise.all([page.waitForLoadState(), page.click('#form-submit button[type=submit]')]);
    await page.waitForSelector('text=已记入台账');
    const sha = createHash('sha256').update(PDF).digest('hex');
    expect(await page.textContent('table.receipt')).toContain(sha);
    expect(await page.textContent('table.receipt')).toContain('<b>已报送</b>');
    await page.screenshot({ path: path.join(outputDir, 'link-done.png'), fullPage: true });
    const submission = (await ledger.events({ trackerId: 'report-soon/county-a' })).find(
      (e) => e.kind === 'submission',
    )!;
    expect(submission.actor).toBe(`${EVIL_NAME} <county-a.liaison@test.example.org>`);
    expect(JSON.parse(submission.data!).evidence.files[0]).toMatchObject({ name: '专项报告.pdf', sha256: sha });
    expect(
      await ledger.db.all('SELECT sha256, uploaded_by FROM evidence_files WHERE tracker_id = ?', [
        'report-soon/county-a',
      ]),
    ).toEqual([{ sha256: sha, uploaded_by: `${EVIL_NAME} <county-a.liaison@test.example.org>` }]);
    // Done: the one-off is settled on time and its workflow has ended, so no timer is left to send a reminder.
    let outcomes = await ledger.outcomes({ trackerId: 'report-soon/county-a' });
    for (let i = 0; i < 100 && outcomes.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      outcomes = await ledger.outcomes({ trackerId: 'report-soon/county-a' });
    }
    expect(outcomes.map((o) => o.outcome)).toEqual(['on_time']);
    const handle = env.client.workflow.getHandle(workflowIdFor('report-soon/county-a'));
    for (let i = 0; i < 100 && (await handle.describe()).status.name === 'RUNNING'; i++)
      await new Promise((r) => setTimeout(r, 100));
    expect((await handle.describe()).status.name).toBe('COMPLETED');
    const reminders = sink.messages.filter((x) => /专项工作情况报告/.test(x.parsed.subject ?? '')).length;
    await new Promise((r) => setTimeout(r, 1000));
    expect(sink.messages.filter((x) => /专项工作情况报告/.test(x.parsed.subject ?? '')).length).toBe(reminders);
    expect(dialogs).toEqual([]);
    await context.close();
  });

  test('the escalation of an overdue period carries links for the unit and a view link for the others; the office sees who has not acknowledged', async () => {
    const m = await messageFor('justice.head@test.example.org', /年度依法行政报告/);
    const headLinks = linksIn(m);
    // The head's copy holds the head's links only; after due, no extension link.
    expect(headLinks.every((l) => l.claims.email === 'justice.head@test.example.org')).toBe(true);
    expect(headLinks.map((l) => l.action)).toEqual(['acknowledge', 'progress', 'submit', 'handBack', 'view']);
    // The supervising office's copy: a view link, its own.
    const officeCopies = sink.messages.filter(
      (x) =>
        /年度依法行政报告/.test(x.parsed.subject ?? '') &&
        x.envelopeTo.some((a) => a === 'office.liaison@test.example.org' || a === 'office.head@test.example.org'),
    );
    expect(officeCopies.length).toBeGreaterThan(0);
    for (const copy of officeCopies) {
      const officeLinks = linksIn(copy);
      expect(officeLinks.map((l) => [l.claims.email, l.action])).toEqual([[copy.envelopeTo[0], 'view']]);
    }

    // The office's staff see 未签收 on the board for the red period.
    const office = await signIn('office.liaison@test.example.org');
    const period = await periodOf('old-report/justice');
    const row = () => office.page.locator(`tr[data-tracker="old-report/justice"][data-period="${period}"]`);
    expect(await row().locator('.light').textContent()).toBe('红灯（逾期）');
    expect(await row().locator('.unack').textContent()).toBe('未签收');
    // The unit head acknowledges from the link; the board shows it.
    const { context, page } = await newPage();
    await page.goto(headLinks.find((l) => l.action === 'acknowledge')!.url);
    await Promise.all([page.waitForLoadState(), page.click('#form-acknowledge button[type=submit]')]);
    await page.waitForSelector('text=已记入台账');
    for (let i = 0; i < 100; i++) {
      await office.page.goto(`${web.url}/`);
      if ((await row().locator('.unack').count()) === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await row().locator('td').nth(6).textContent()).toBe('已签收');
    // The view link of the office opens the period read-only.
    const view = linksIn(officeCopies[0]!).find((l) => l.action === 'view')!;
    await page.goto(view.url);
    expect(await page.locator('form.act').count()).toBe(0);
    expect(await page.textContent('table.timeline')).toContain('郑局长');
    await context.close();
    await office.context.close();
  });

  async function signIn(email: string): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext();
    const page = await context.newPage();
    await signInThroughPages(page, web.url, sink, email);
    return { context, page };
  }

  test('refused with a clear page, and nothing changed: a flipped bit, an expiry, a removed key, another unit, an action not granted, a forged period, no CSRF token', async () => {
    const trackerId = 'old-report/justice';
    const period = await periodOf(trackerId);
    const who = { trackerId, period, email: 'justice.liaison@test.example.org', name: '王联络员' };
    const good = sign({ ...who, actions: ['view', 'progress'] });
    const context = await browser.newContext();
    const req = context.request;
    const before = await stateOf(trackerId);
    const expectPage = async (r: Awaited<ReturnType<APIRequestContext['get']>>, status: number, text: string) => {
      expect([r.url(), r.status()]).toEqual([r.url(), status]);
      const body = await r.text();
      expect(body).toContain(text);
      expect(body).toContain('未作任何更改');
    };

    // A token with one bit flipped (in the payload: the signature no longer matches).
    const parts = good.split('.');
    const payload = Buffer.from(parts[2]!, 'base64url');
    payload.writeUInt8(payload[5]! ^ 0x01, 5);
    const flipped = [parts[0], parts[1], payload.toString('base64url'), parts[3]].join('.');
    await expectPage(await req.get(`${web.url}/a/${flipped}/progress`), 403, '链接无效');
    await expectPage(await req.post(`${web.url}/a/${flipped}/progress`, { form: { note: 'x' } }), 403, '链接无效');
    // Expired.
    await expectPage(
      await req.get(`${web.url}/a/${sign({ ...who, expiresAt: Date.now() - 1000 })}/progress`),
      410,
      '链接已过期',
    );
    // Signed by a key since removed from the settings; an older key still listed works (rotation).
    await expectPage(
      await req.get(`${web.url}/a/${sign(who, parseLinkKeys(KEY_GONE))}/progress`),
      403,
      '签名密钥已更换',
    );
    expect((await req.get(`${web.url}/a/${sign(who, parseLinkKeys(KEY_OLD))}/progress`)).status()).toBe(200);
    // A properly signed token naming another unit's tracker for this recipient: they do not act for that unit.
    await expectPage(
      await req.get(
        `${web.url}/a/${sign({ ...who, trackerId: 'study/finance', period: await periodOf('study/finance') })}/progress`,
      ),
      403,
      '无权办理',
    );
    // An action the link does not grant.
    await expectPage(await req.get(`${web.url}/a/${good}/submit`), 403, '该链接不能用于“报送材料”');
    const viewOnly = sign({
      trackerId,
      period,
      email: 'office.liaison@test.example.org',
      name: '吴科长',
      actions: ['view'],
    });
    await expectPage(await req.get(`${web.url}/a/${viewOnly}/acknowledge`), 403, '无权办理');

    // The form, then forged and missing fields.
    const page = await context.newPage();
    await page.goto(`${web.url}/a/${good}/progress`);
    const fields = await formOf(page, 'progress');
    await expectPage(
      await req.post(`${web.url}/a/${good}/progress`, { form: { ...fields, note: '另一期', period: '2000' } }),
      403,
      `只适用于期次 ${period}`,
    );
    await expectPage(
      await req.post(`${web.url}/a/${good}/progress`, { form: { _nonce: fields._nonce!, note: '没有校验码' } }),
      403,
      '表单已失效',
    );
    // The CSRF token of another link is not this link's.
    const other = sign({ ...who, actions: ['view', 'progress', 'acknowledge'] });
    await expectPage(
      await req.post(`${web.url}/a/${other}/progress`, { form: { ...fields, note: '别的链接' } }),
      403,
      '表单已失效',
    );
    // Without the cookie the token was bound to (another browser).
    const stranger = await browser.newContext();
    await expectPage(
      await stranger.request.post(`${web.url}/a/${good}/progress`, { form: { ...fields, note: '没有 Cookie' } }),
      403,
      '表单已失效',
    );
    await stranger.close();
    expect(await stateOf(trackerId)).toEqual(before);
    await context.close();
  });

  test('代办: a stand-in’s link acts only while the range is live; cancelled or over, GET and POST are refused and nothing changes', async () => {
    const trackerId = 'old-report/justice';
    const period = await periodOf(trackerId);
    const absent = { name: '王联络员', email: 'justice.liaison@test.example.org' };
    const standIn = { name: '褚副局长', email: 'finance.deputy@test.example.org' };
    const link = sign({ trackerId, period, ...standIn, onBehalfOf: absent, actions: ['view', 'progress'] });
    const range = (from: string, to: string) => ({ unit: 'justice', absent, standIn, from, to, by: '测试', at: 1 });
    const context = await browser.newContext();
    const req = context.request;
    const expectRefused = async (r: Awaited<ReturnType<APIRequestContext['get']>>) => {
      expect(r.status()).toBe(403);
      const body = await r.text();
      expect(body).toContain('代办已结束');
      expect(body).toContain('褚副局长代王联络员办理的期限已结束或已被取消');
      expect(body).toContain('未作任何更改');
    };
    // No range at all, then one that ended yesterday (Beijing): refused.
    await expectRefused(await req.get(`${web.url}/a/${link}/progress`));
    await ledger.standIns.add('links-over', range(shanghaiDay(-3), shanghaiDay(-1)));
    await expectRefused(await req.get(`${web.url}/a/${link}/progress`));
    // Live today: the page opens with its form.
    await ledger.standIns.add('links-live', range(shanghaiDay(-1), shanghaiDay(1)));
    const before = await stateOf(trackerId);
    let fields: Record<string, string>;
    const page = await context.newPage();
    try {
      const opened = await page.goto(`${web.url}/a/${link}/progress`);
      expect(opened!.status()).toBe(200);
      fields = await formOf(page, 'progress');
    } finally {
      // Cancelled before the form is posted (the stand-in's notices go back to the liaison at once).
      expect(await ledger.standIns.cancel('links-live', Date.now())).toBe(true);
    }
    await expectRefused(
      await req.post(`${web.url}/a/${link}/progress`, { form: { ...fields, note: '代办已取消后提交' } }),
    );
    await expectRefused(await req.get(`${web.url}/a/${link}/progress`));
    expect(await stateOf(trackerId)).toEqual(before);
    await context.close();
  });

  test("the tracker's own refusals show its message on the link page, and nothing changes", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const post = async (form: string) => {
      const [response] = await Promise.all([
        page.waitForResponse((r) => r.request().method() === 'POST'),
        page.click(`${form} button[type=submit]`),
      ]);
      return response;
    };
    // An extension asked after due (a link sent before due, opened late).
    const old = {
      trackerId: 'old-report/justice',
      period: await periodOf('old-report/justice'),
      email: 'justice.liaison@test.example.org',
      name: '王联络员',
    };
    let before = await stateOf(old.trackerId);
    await page.goto(`${web.url}/a/${sign(old)}/requestExtension`);
    await page.fill('#form-requestExtension input[name=newDue]', shanghaiDay(30));
    await page.fill('#form-requestExtension textarea[name=reason]', '<script>alert(5)</script>');
    expect((await post('#form-requestExtension')).status()).toBe(422);
    expect(await page.textContent('.error')).toMatch(/已过截止时间：延期须在截止前/);
    expect(await stateOf(old.trackerId)).toEqual(before);

    // A date outside the period, then the period settled.
    const study = {
      trackerId: 'study/finance',
      period: await periodOf('study/finance'),
      email: 'finance.deputy@test.example.org',
      name: '褚副局长',
    };
    const recordUrl = `${web.url}/a/${sign(study)}/record`;
    before = await stateOf(study.trackerId);
    await page.goto(recordUrl);
    await page.fill('#form-record input[name=date]', '2001-01-01');
    await page.fill('#form-record input[name=topic]', '宪法');
    expect((await post('#form-record')).status()).toBe(422);
    expect(await page.textContent('.error')).toMatch(/日期2001-01-01不在/);
    expect(await stateOf(study.trackerId)).toEqual(before);
    // The refused form's nonce was given back: the same page can be corrected and sent.
    await page.fill('#form-record input[name=date]', shanghaiDay(0));
    await page.fill('#form-record input[name=topic]', '宪法');
    expect((await post('#form-record')).status()).toBe(200);
    await page.waitForSelector('text=已记入台账');
    for (
      let i = 0;
      i < 100 && (await duban.status(study.trackerId)).periods.some((p) => p.period === study.period);
      i++
    )
      await new Promise((r) => setTimeout(r, 100));
    before = await stateOf(study.trackerId);
    await page.goto(recordUrl);
    expect(await page.textContent('.status')).toContain('本期已结束');
    await page.fill('#form-record input[name=date]', shanghaiDay(0));
    await page.fill('#form-record input[name=topic]', '再登记一次');
    expect((await post('#form-record')).status()).toBe(422);
    expect(await page.textContent('.error')).toMatch(new RegExp(`${periodWords(study.period)}(未开放|已办结|已结束)`));
    expect(await stateOf(study.trackerId)).toEqual(before);
    expect(await page.locator('script').count()).toBe(0);
    await context.close();
  });

  /**
   * One click, one Update (issue 20.2): while one form is posted, every call on the ledger's database and on the
   * client module to Temporal is counted. The figures are in docs/web.md.
   */
  async function counted<T>(
    webLedger: Ledger,
    fn: () => Promise<T>,
  ): Promise<{ result: T; ledger: number; temporal: number; calls: string[] }> {
    const n = { ledger: 0, temporal: 0 };
    const calls: string[] = [];
    const wrap = (o: object, names: string[], key: keyof typeof n) => {
      const target = o as Record<string, (...a: unknown[]) => unknown>;
      const kept = names.map((name) => [name, target[name]!] as const);
      for (const [name, raw] of kept)
        target[name] = (...a: unknown[]) => {
          n[key]++;
          calls.push(`${name} ${String(a[0]).slice(0, 60)}`);
          return raw.apply(o, a);
        };
      return () => kept.forEach(([name, raw]) => (target[name] = raw));
    };
    const undo = [
      wrap(webLedger.db, ['all', 'run', 'exec', 'transaction'], 'ledger'),
      wrap(duban, ['act', 'status'], 'temporal'),
    ];
    try {
      return { result: await fn(), ...n, calls };
    } finally {
      undo.forEach((u) => u());
    }
  }

  test('one click, one Update: a link POST and a tracker-page POST with a file, counted', async () => {
    // A web service of its own, on its own connection to the ledger: the worker's writes are not counted.
    const webLedger = await openLedger(settings);
    const own = await startWeb({ settings, duban, ledger: webLedger, log: () => undefined });
    const trackerId = 'old-report/justice';
    const period = await periodOf(trackerId);
    const file = { name: '进展.pdf', mimeType: 'application/pdf', buffer: PDF };
    const who = { trackerId, period, email: 'justice.liaison@test.example.org', name: '王联络员' };
    const context = await browser.newContext();
    const url = `${own.url}/a/${sign({ ...who, actions: ['view', 'progress'] })}/progress`;
    const form = await (await context.request.get(url)).text();
    const field = (name: string) => new RegExp(`name="${name}" value="([^"]+)"`).exec(form)![1]!;
    const link = await counted(webLedger, () =>
      context.request.post(url, {
        multipart: { _csrf: field('_csrf'), _nonce: field('_nonce'), note: '计数：链接', files: file },
      }),
    );
    expect(link.result.status()).toBe(200);
    expect(await link.result.text()).toContain('已记入台账');
    // The Update alone reaches Temporal; the ledger: the snapshot's key, the nonce claimed, the file, the receipt.
    expect({ temporal: link.temporal, ledger: link.ledger }).toEqual({ temporal: 1, ledger: 4 });

    const signed = { context: await browser.newContext() };
    const signedPage = await signed.context.newPage();
    await signInThroughPages(signedPage, own.url, sink, 'justice.liaison@test.example.org');
    await signedPage.goto(`${own.url}/t/old-report/justice`);
    const csrf = await signedPage.getAttribute('#form-progress input[name=_csrf]', 'value');
    const once = await signedPage.getAttribute('#form-progress input[name=_form]', 'value');
    const page = await counted(webLedger, () =>
      signed.context.request.post(`${own.url}/t/old-report/justice/progress`, {
        multipart: {
          _csrf: csrf!,
          _form: once!,
          period,
          note: '计数：页面',
          files: { ...file, name: '进展2.pdf', buffer: Buffer.concat([PDF, Buffer.from('% 2\n')]) },
        },
        maxRedirects: 0,
      }),
    );
    expect(page.result.status()).toBe(303);
    // The session, the snapshot's key, the form's token claimed, the file, the token's answer; one Update.
    expect({ temporal: page.temporal, ledger: page.ledger }).toEqual({ temporal: 1, ledger: 5 });
    const recorded = await ledger.web.evidenceFiles(trackerId);
    expect(recorded.filter((f) => f.period === period).map((f) => f.name)).toEqual(
      expect.arrayContaining(['进展.pdf', '进展2.pdf']),
    );
    await context.close();
    await signed.context.close();
    await own.close();
    await webLedger.close();
  });
});
