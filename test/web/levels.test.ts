/**
 * Issue #24, levels (DOMAIN.md 26): roles and scope at each level of a three-level directory (测试省 → 测试市 → 甲县,
 * test/fixtures/levels), in a real Chromium against the dev server, a worker with the real activities, a SQLite
 * ledger and an SMTP server where the sign-in links arrive.
 *
 * - a county department's liaison sees their unit only;
 * - the city office reads the county's board, trackers and files, and cannot verify the county departments' work;
 * - the county office verifies its own departments, and reads nothing above it;
 * - the province's office reads every level and acts only on its own department;
 * - the province's leadership reads everything, drilling down province → city → county; the city's its subtree;
 * - the year report rolls up per jurisdiction and per level, formula-safe in CSV and XLSX.
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { Duban } from '../../access/temporal';
import { openLedger } from '../../access/ledger';
import { loadInputs } from '../../config/load';
import { Settings, loadSettings } from '../../config/settings';
import { Ledger } from '../../ledger';
import { RunningWeb, startWeb } from '../../web/server';
import { TestBrowser, signInThroughPages, startBrowser } from '../support/browser';
import { EngineWorker, devServerEnv, startEngineWorker } from '../support/engine';
import { SmtpSink, startSmtpSink } from '../support/smtp';

jest.setTimeout(300_000);

const levels = path.join(__dirname, '..', 'fixtures', 'levels');
/** The root's name holds markup and a formula: pages escape it, spreadsheets keep it text. */
const EVIL_ROOT = '=1+1<b>测试省</b>';
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');

describe('levels in a real browser: each level reads its subtree and acts on what it supervises', () => {
  let env: TestWorkflowEnvironment;
  let sink: SmtpSink;
  let engine: EngineWorker;
  let ledger: Ledger;
  let duban: Duban;
  let web: RunningWeb;
  let browser: TestBrowser;
  let settings: Settings;
  let dir: string | undefined;

  beforeAll(async () => {
    env = await devServerEnv();
    sink = await startSmtpSink();
    dir = mkdtempSync(path.join(tmpdir(), 'duban-levels-web-'));
    writeFileSync(
      path.join(dir, 'directory.yaml'),
      readFileSync(path.join(levels, 'directory.yaml'), 'utf8').replace(
        'jurisdiction: 测试省',
        `jurisdiction: ${JSON.stringify(EVIL_ROOT)}`,
      ),
    );
    settings = loadSettings({
      TEMPORAL_ADDRESS: env.address,
      DUBAN_TASK_QUEUE: 'levels-e2e',
      DUBAN_DATA_DIR: path.join(dir, 'data'),
      SMTP_URL: sink.url,
      DUBAN_WEB_PORT: '0',
    });
    ledger = await openLedger(settings, { migrate: true });
    engine = await startEngineWorker({ connection: env.nativeConnection, taskQueue: 'levels-e2e', sink, ledger });
    duban = await Duban.connect(settings);
    const inputs = loadInputs({
      catalog: path.join(levels, 'catalog.yaml'),
      directory: path.join(dir, 'directory.yaml'),
    });
    await duban.register(inputs.trackers, { by: 'test' });
    await ledger.saveDirectorySnapshot({ directory: inputs.directory, catalog: inputs.catalog, by: 'test' });
    for (let i = 0; i < 150 && (await ledger.trackerStates()).length < inputs.trackers.length; i++)
      await new Promise((r) => setTimeout(r, 200));
    expect((await ledger.trackerStates()).length).toBe(4);
    web = await startWeb({ settings, duban, ledger, log: () => undefined });
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

  async function signIn(email: string): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext();
    const page = await context.newPage();
    await signInThroughPages(page, web.url, sink, email);
    return { context, page };
  }
  const status = async (page: Page, url: string) => (await page.goto(`${web.url}${url}`))!.status();
  const unitRows = (page: Page) =>
    page.locator('table.units tbody tr[data-unit]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-unit')));
  const childRows = (page: Page) =>
    page
      .locator('table.jurisdictions tbody tr[data-jurisdiction]')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-jurisdiction')));
  const trail = (page: Page) => page.locator('nav.trail').textContent();
  const eventsOf = (trackerId: string) => ledger.events({ trackerId });
  const sha = createHash('sha256').update(PDF).digest('hex');

  test("a county department's liaison sees their own unit only", async () => {
    const { context, page } = await signIn('county-finance.liaison@test.example.org');
    expect(await unitRows(page)).toEqual(['county-finance']);
    // Not an office nor leadership: no jurisdiction to drill into.
    expect(await page.locator('nav.trail').count()).toBe(0);
    expect(
      await page.locator('tr[data-tracker]').evaluateAll((r) => r.map((x) => x.getAttribute('data-tracker'))),
    ).toEqual(['annual-report/county-finance']);
    expect(await status(page, '/t/annual-report/county-justice')).toBe(403);
    expect(await status(page, '/t/annual-report/city-justice')).toBe(403);
    expect(await status(page, '/?jurisdiction=county')).toBe(403);
    expect(await status(page, '/report?jurisdiction=county')).toBe(403);
    expect(await status(page, '/t/annual-report/county-finance')).toBe(200);
    await context.close();
  });

  test('a county department submits its report with a file', async () => {
    const { context, page } = await signIn('county-justice.liaison@test.example.org');
    await page.goto(`${web.url}/t/annual-report/county-justice`);
    await page.fill('#form-submit input[name=documentNumber]', '甲司发〔2027〕1号');
    await page.setInputFiles('#form-submit input[type=file]', {
      name: '年度报告.pdf',
      mimeType: 'application/pdf',
      buffer: PDF,
    });
    await Promise.all([page.waitForURL(/done=submit/), page.click('#form-submit button[type=submit]')]);
    expect(await page.textContent('.summary')).toContain('已报送，待核实');
    await context.close();
  });

  test("the city office reads the county's board, trackers and files, and cannot verify the county's work", async () => {
    const { context, page } = await signIn('city-office.liaison@test.example.org');
    // The board starts at the city: the province above is named, not linked; the county is a row with its totals.
    expect(await trail(page)).toBe(`辖区：${EVIL_ROOT} › 测试市`);
    expect(await page.locator('nav.trail a').count()).toBe(0);
    expect(await page.locator('main b, main script').evaluateAll((x) => x.map((e) => e.textContent))).not.toContain(
      '测试省',
    );
    expect(await childRows(page)).toEqual(['county']);
    const county = page.locator('table.jurisdictions tr[data-jurisdiction="county"]');
    expect(Number(await county.locator('td[data-colour=done]').textContent())).toBe(1);
    expect(Number(await county.locator('td.total').textContent())).toBe(2);
    expect(await unitRows(page)).toEqual(['city-justice']);
    expect(Number(await page.locator('tr[data-jurisdiction-total="city"] td.total').textContent())).toBe(3);
    // The province's own department is outside the city.
    expect(await page.locator('tr[data-tracker="annual-report/province-justice"]').count()).toBe(0);

    // Down to the county: its departments, and the way back up to the city.
    await Promise.all([page.waitForURL(/jurisdiction=county/), county.locator('a').click()]);
    expect(await trail(page)).toBe(`辖区：${EVIL_ROOT} › 测试市 › 甲县`);
    expect(await page.locator('nav.trail a').evaluateAll((a) => a.map((x) => x.textContent))).toEqual(['测试市']);
    expect((await unitRows(page)).sort()).toEqual(['county-finance', 'county-justice']);

    // It reads the county department's tracker and file, and is offered no action there.
    expect(await status(page, '/t/annual-report/county-justice')).toBe(200);
    expect(await page.textContent('main')).toContain('甲司发〔2027〕1号');
    expect(await page.locator('form.act').count()).toBe(0);
    const file = await context.request.get(`${web.url}/t/annual-report/county-justice/files/${sha}`);
    expect(file.status()).toBe(200);
    expect(Buffer.from(await file.body()).equals(PDF)).toBe(true);
    // A verification posted by hand is refused and changes nothing.
    await page.goto(`${web.url}/t/annual-report/city-justice`);
    // On its own department the office's forms are there (免除, 转办 …).
    expect(await page.locator('#form-waive').count()).toBe(1);
    const csrf = await page.getAttribute('#form-waive input[name=_csrf]', 'value');
    const before = await eventsOf('annual-report/county-justice');
    const refused = await context.request.post(`${web.url}/t/annual-report/county-justice/verify`, {
      form: { _csrf: csrf!, decision: 'accept', rating: '良好' },
    });
    expect(refused.status()).toBe(403);
    expect(await refused.text()).toContain('您无权办理该事项，未作任何更改。');
    expect(await eventsOf('annual-report/county-justice')).toEqual(before);
    // Its own department, and its own office's superior's, as the tree says.
    expect(await status(page, '/t/annual-report/province-justice')).toBe(403);
    expect(await status(page, '/?jurisdiction=root')).toBe(403);
    await context.close();
  });

  test('the county office verifies its own departments and reads nothing above the county', async () => {
    const { context, page } = await signIn('county-office.liaison@test.example.org');
    expect(await trail(page)).toBe(`辖区：${EVIL_ROOT} › 测试市 › 甲县`);
    expect(await page.locator('nav.trail a').count()).toBe(0);
    expect((await unitRows(page)).sort()).toEqual(['county-finance', 'county-justice']);
    expect(await status(page, '/?jurisdiction=city')).toBe(403);
    expect(await status(page, '/t/annual-report/city-justice')).toBe(403);
    expect(await context.request.get(`${web.url}/report?jurisdiction=city`).then((r) => r.status())).toBe(403);

    // A 转办 goes only to a unit the office supervises directly: not up to the city's department.
    await page.goto(`${web.url}/t/annual-report/county-finance`);
    const before = await eventsOf('annual-report/county-finance');
    await page.fill('#form-transfer input[name=to]', 'city-justice');
    await page.fill('#form-transfer textarea[name=reason]', '应由市司法局办理');
    const [refused] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.click('#form-transfer button[type=submit]'),
    ]);
    expect(refused.status()).toBe(422);
    expect(await page.textContent('.error')).toContain(
      '只能转办给本督察单位直接督办的单位（“city-justice”不是），未作任何更改。',
    );
    expect(await eventsOf('annual-report/county-finance')).toEqual(before);

    await page.goto(`${web.url}/t/annual-report/county-justice`);
    expect(await page.locator('#form-submit').count()).toBe(0);
    await page.selectOption('#form-verify select[name=rating]', '良好');
    await Promise.all([page.waitForURL(/done=verify/), page.click('#form-verify button[value=accept]')]);
    const accepted = (await eventsOf('annual-report/county-justice')).find((e) => e.kind === 'verification_accepted')!;
    expect(accepted.actor).toBe('沈科长 <county-office.liaison@test.example.org>');
    const outcomes = await ledger.outcomes({ trackerId: 'annual-report/county-justice' });
    expect(outcomes.map((o) => o.outcome)).toEqual(['on_time']);

    // Its year report: the county alone, rolled up for the county.
    await page.goto(`${web.url}/report?year=${outcomes[0]!.due_year}`);
    expect(
      await page
        .locator('table.rollup tr[data-jurisdiction]')
        .evaluateAll((r) => r.map((x) => x.getAttribute('data-jurisdiction'))),
    ).toEqual(['county']);
    expect(
      await page.locator('table.report tr[data-unit]').evaluateAll((r) => r.map((x) => x.getAttribute('data-unit'))),
    ).toEqual(['county-justice']);
    await context.close();
  });

  test('the region office reads every level and acts only on the units it supervises directly', async () => {
    const { context, page } = await signIn('province-office.liaison@test.example.org');
    // Its board starts at the top: its own department as a unit row, the city as a jurisdiction row.
    expect(await trail(page)).toBe(`辖区：${EVIL_ROOT}`);
    expect(await unitRows(page)).toEqual(['province-justice']);
    expect(await childRows(page)).toEqual(['city']);
    // Down to the county, two levels below: it reads the county department's tracker, and is offered no form there.
    expect(await status(page, '/?jurisdiction=county')).toBe(200);
    expect((await unitRows(page)).sort()).toEqual(['county-finance', 'county-justice']);
    expect(await status(page, '/t/annual-report/county-justice')).toBe(200);
    expect(await page.locator('form.act').count()).toBe(0);
    // On its own department the office's forms are there; on the city's department (the city office's), none,
    // and a verification posted by hand is refused and changes nothing.
    await page.goto(`${web.url}/t/annual-report/province-justice`);
    expect(await page.locator('#form-waive').count()).toBe(1);
    const csrf = await page.getAttribute('#form-waive input[name=_csrf]', 'value');
    expect(await status(page, '/t/annual-report/city-justice')).toBe(200);
    expect(await page.locator('form.act').count()).toBe(0);
    const before = await eventsOf('annual-report/city-justice');
    const refused = await context.request.post(`${web.url}/t/annual-report/city-justice/waive`, {
      form: { _csrf: csrf!, reason: '越级免除' },
    });
    expect(refused.status()).toBe(403);
    expect(await eventsOf('annual-report/city-justice')).toEqual(before);
    // The reports of every jurisdiction beneath it.
    expect(await context.request.get(`${web.url}/report?jurisdiction=county`).then((r) => r.status())).toBe(200);
    expect(await context.request.get(`${web.url}/report?jurisdiction=city`).then((r) => r.status())).toBe(200);
    await context.close();
  });

  test("leadership: the province's reads everything, drilling down; the city's its subtree; the report rolls up", async () => {
    const year = (await ledger.outcomes({ trackerId: 'annual-report/county-justice' }))[0]!.due_year;
    const { context, page } = await signIn('province.leader@test.example.org');
    expect(await trail(page)).toBe(`辖区：${EVIL_ROOT}`);
    expect(await unitRows(page)).toEqual(['province-justice']);
    expect(await childRows(page)).toEqual(['city']);
    // Four trackers; the county department's verified period (办结) and the next period it opened.
    expect(Number(await page.locator('tr[data-jurisdiction-total="root"] td.total').textContent())).toBe(5);
    // Markup in a jurisdiction's name is text.
    expect(await page.locator('main b', { hasText: '测试省' }).count()).toBe(1);
    expect(await page.locator('nav.trail b').textContent()).toBe(EVIL_ROOT);
    await page.click('table.jurisdictions tr[data-jurisdiction="city"] a');
    await page.waitForURL(/jurisdiction=city/);
    expect(await childRows(page)).toEqual(['county']);
    await page.click('table.jurisdictions tr[data-jurisdiction="county"] a');
    await page.waitForURL(/jurisdiction=county/);
    expect(await page.locator('nav.trail a').evaluateAll((a) => a.map((x) => x.textContent))).toEqual([
      EVIL_ROOT,
      '测试市',
    ]);
    expect(await status(page, '/t/annual-report/county-finance')).toBe(200);
    expect(await page.locator('form.act').count()).toBe(0);

    // The report: per jurisdiction (its whole subtree), per level, each jurisdiction's circular.
    await page.goto(`${web.url}/report?year=${year}`);
    const rollup = (attr: string) =>
      page
        .locator(`table.rollup tr[${attr}]`)
        .evaluateAll((rows, a) => rows.map((r) => [r.getAttribute(a), r.querySelectorAll('td')[1]?.textContent]), attr);
    // The county department verified on time is the only unit with a period due in the year: one unit a row.
    expect(await rollup('data-jurisdiction')).toEqual([
      ['root', '1'],
      ['city', '1'],
      ['county', '1'],
    ]);
    expect(await rollup('data-level')).toEqual([['county', '1']]);
    expect(await page.locator('pre.circular[data-jurisdiction="county"]').textContent()).toContain('甲县');
    const csv = await (await context.request.get(`${web.url}/report.csv?year=${year}`)).text();
    expect(csv).toContain('按辖区汇总（含下级辖区）');
    expect(csv).toContain(`'${EVIL_ROOT}`);
    expect(csv).not.toMatch(/(^|,)=1\+1/m);
    const xlsx = await context.request.get(`${web.url}/report.xlsx?year=${year}&jurisdiction=city`);
    expect(xlsx.status()).toBe(200);
    expect(xlsx.headers()['content-disposition']).toContain(encodeURIComponent(`${year}年度考核（测试市）.xlsx`));
    const { default: ExcelJS } = await import('exceljs');
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(Buffer.from(await xlsx.body()) as unknown as ArrayBuffer);
    const sheet = book.getWorksheet('辖区汇总')!;
    expect(sheet.getRow(3).getCell(1).value).toBe(`${EVIL_ROOT} › 测试市`);
    expect(sheet.getRow(3).getCell(1).type).toBe(ExcelJS.ValueType.String);
    await context.close();

    // The city's leadership: the city and the county, not the province's own department.
    const city = await signIn('city.leader@test.example.org');
    expect(await trail(city.page)).toBe(`辖区：${EVIL_ROOT} › 测试市`);
    expect(await status(city.page, '/t/annual-report/county-finance')).toBe(200);
    expect(await status(city.page, '/t/annual-report/province-justice')).toBe(403);
    await city.context.close();
  });
});
