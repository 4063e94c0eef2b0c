/**
 * Import in the web service (issue 23.3), in a real Chromium: an administrator uploads a seed plan and a unit list
 * sheet (.xlsx, built here from the demo directory) and downloads the draft catalog, the review report and the
 * directory, the very files `duban import plan` gives for the same plan and directory; bad input is answered on the
 * page in Chinese with the row and column; files are checked by content; a non-administrator is refused, a form
 * without its CSRF token too; a draft is its uploader's alone. Nothing is registered (no Temporal at all here).
 */
import ExcelJS from 'exceljs';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { parse } from 'yaml';
import { latestSnapshot } from '../../access/registered';
import type { Duban } from '../../access/temporal';
import { DEFAULT_DIRECTORY, loadDirectory, loadInputs } from '../../config/load';
import { Settings, loadSettings } from '../../config/settings';
import { Ledger } from '../../ledger';
import { RunningWeb, startWeb } from '../../web/server';
import { TestBrowser, signInThroughPages, startBrowser } from '../support/browser';
import { SmtpSink, startSmtpSink } from '../support/smtp';

jest.setTimeout(180_000);

const root = path.resolve(__dirname, '..', '..');
const fixtures = path.join(__dirname, '..', 'fixtures');
const SEED = path.join(root, 'bench', 'import', 'seeds', '003_4ba20fc61f612668.txt');
const ADMIN = 'admin@test.example.org';
const OTHER_ADMIN = 'admin2@test.example.org';
const LIAISON = 'justice.liaison@test.example.org';

/** The demo directory as an office keeps it: one unit a row, headers in Chinese. */
async function demoSheet(file: string): Promise<void> {
  const d = loadDirectory(DEFAULT_DIRECTORY);
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('单位名录');
  ws.addRow([
    '单位名称',
    '编号',
    '类别/标签',
    '上级督察单位',
    '主要负责人',
    '负责人邮箱',
    '联络员',
    '联络员邮箱',
    '手机',
  ]);
  d.units.forEach((u, i) =>
    ws.addRow([
      u.name,
      u.id,
      (u.tags ?? []).join('、'),
      d.units.find((x) => x.id === u.supervisor)?.name ?? '',
      u.contacts.head.name,
      u.contacts.head.email,
      u.contacts.liaison.name,
      u.contacts.liaison.email,
      i === 0 ? '138 0000 0001' : '',
    ]),
  );
  await wb.xlsx.writeFile(file);
}

describe('import in the web service', () => {
  let sink: SmtpSink;
  let ledger: Ledger;
  let web: RunningWeb;
  let browser: TestBrowser;
  let settings: Settings;
  let dir: string | undefined;
  let registeredUnits: string[];

  beforeAll(async () => {
    sink = await startSmtpSink();
    dir = mkdtempSync(path.join(tmpdir(), 'duban-web-import-'));
    settings = loadSettings({
      DUBAN_DATA_DIR: path.join(dir, 'data'),
      SMTP_URL: sink.url,
      DUBAN_WEB_PORT: '0',
      DUBAN_WEB_MAX_FILE_BYTES: String(256 * 1024),
      DUBAN_ADMINS: `${ADMIN},${OTHER_ADMIN}`,
    });
    ledger = await Ledger.open({ sqliteFile: path.join(dir, 'ledger.sqlite') });
    // A registered directory, so that its liaison can sign in (and be refused).
    const inputs = loadInputs({
      catalog: path.join(fixtures, 'catalog.yaml'),
      directory: path.join(fixtures, 'directory.yaml'),
    });
    await ledger.saveDirectorySnapshot({ directory: inputs.directory, catalog: inputs.catalog, by: 'test' });
    registeredUnits = inputs.directory.units.map((u) => u.id);
    web = await startWeb({ settings, duban: {} as Duban, ledger, log: () => undefined });
    browser = await startBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await web?.close();
    await ledger?.close();
    await sink?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function signIn(email: string): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext();
    const page = await context.newPage();
    await signInThroughPages(page, web.url, sink, email);
    return { context, page };
  }

  /** Clicks a download link and returns what arrived. */
  async function download(page: Page, label: string): Promise<string> {
    const [d] = await Promise.all([page.waitForEvent('download'), page.click(`a:has-text("${label}")`)]);
    return readFileSync((await d.path())!, 'utf8');
  }

  test('an administrator uploads a seed plan and a directory sheet and downloads the same drafts the command gives', async () => {
    const work = path.join(dir!, 'plan');
    mkdirSync(work);
    const sheet = path.join(work, '单位名录.xlsx');
    await demoSheet(sheet);
    const { context, page } = await signIn(ADMIN);
    try {
      await page.click('nav a:has-text("导入")');
      await page.waitForSelector('h1:has-text("导入工作方案和单位名录")');
      const form = page.locator('form[action="/import/plan"]');
      await form.locator('input[name=plan]').setInputFiles(SEED);
      await form.locator('input[name=sheet]').setInputFiles(sheet);
      await form.locator('input[name=year]').fill('2027');
      await form.locator('input[name=jurisdiction]').fill('XX市');
      await form.locator('button[type=submit]').click();
      await page.waitForSelector('h1:has-text("导入结果")');
      const text = (await page.textContent('main'))!;
      expect(text).toContain('已读取 “003_4ba20fc61f612668.txt”、“单位名录.xlsx”');
      expect(text).toMatch(/《[^》]+》：识别出 \d+ 项有时限的任务/);
      expect(text).not.toContain('未通过 duban validate');
      const catalog = await download(page, '任务清单草稿');
      const report = await download(page, '审核报告');
      const directory = await download(page, '单位名录');
      expect(parse(catalog).obligations.length).toBeGreaterThanOrEqual(3);
      expect(report).toMatch(/^<!doctype html>/i);
      // The sheet's 手机 column is the liaison's mobile in the directory.
      expect(parse(directory).units[0].contacts.liaison.mobile).toBe('13800000001');

      // The command on the same plan and the downloaded directory writes the same files.
      const plan = path.join(work, path.basename(SEED));
      copyFileSync(SEED, plan);
      writeFileSync(path.join(work, 'directory.yaml'), directory);
      const out = path.join(work, 'draft-catalog.yaml');
      const cli = spawnSync(
        process.execPath,
        [
          path.join(root, 'bin', 'duban.js'),
          'import',
          'plan',
          plan,
          '--directory',
          path.join(work, 'directory.yaml'),
          '--out',
          out,
          '--report',
          path.join(work, 'review.html'),
          '--year',
          '2027',
        ],
        { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } },
      );
      expect(cli.stderr).toBe('');
      expect(cli.status).toBe(0);
      expect(catalog).toBe(readFileSync(out, 'utf8'));
      expect(report).toBe(readFileSync(path.join(work, 'review.html'), 'utf8'));
      // Nothing registered: the ledger's directory is still the one registered before.
      expect((await latestSnapshot(ledger))!.directory.units.map((u) => u.id)).toEqual(registeredUnits);

      // The draft is its uploader's: another administrator cannot download it.
      const href = (await page.getAttribute('a:has-text("任务清单草稿")', 'href'))!;
      const other = await signIn(OTHER_ADMIN);
      const theirs = await other.context.request.get(`${web.url}${href}`);
      expect(theirs.status()).toBe(404);
      expect(await theirs.text()).toContain('找不到草稿');
      await other.context.close();
    } finally {
      await context.close();
    }
  });

  test('bad input is answered on the page in Chinese, with the row and column; files are checked by content', async () => {
    const { context, page } = await signIn(ADMIN);
    const work = path.join(dir!, 'bad');
    mkdirSync(work);
    try {
      const csv = path.join(work, 'units.csv');
      writeFileSync(
        csv,
        [
          '单位名称,编号,上级督察单位,主要负责人,负责人邮箱,联络员,联络员邮箱,手机',
          '市委依法治市办,yfzsb,,王建国,w@xx.example.org,李静,l@xx.example.org,13800000001',
          '市司法局,sfj,市纪委,杨德明,not-an-email,黄丽娟,h@xx.example.org,1380000',
          '<script>alert(1)</script>,evil,yfzsb,某甲,a@xx.example.org,某乙,b@xx.example.org,',
          '<script>alert(1)</script>,evil2,yfzsb,某甲,a@xx.example.org,某乙,b@xx.example.org,',
        ].join('\n'),
      );
      const dialogs: string[] = [];
      page.on('dialog', (d) => (dialogs.push(d.message()), void d.dismiss()));
      await page.goto(`${web.url}/import`);
      const form = page.locator('form[action="/import/directory"]');
      await form.locator('input[name=sheet]').setInputFiles(csv);
      await form.locator('button[type=submit]').click();
      await page.waitForSelector('.error');
      const errors = (await page.textContent('form[action="/import/directory"] .error'))!;
      expect(errors).toContain('单位名录表“units.csv”有 4 处问题，未生成草稿');
      expect(errors).toContain('第3行，“负责人邮箱”列：“not-an-email”不是有效的邮箱地址');
      expect(errors).toContain('第3行，“手机”列：“1380000”不是有效的大陆手机号码');
      expect(errors).toContain('第3行，“上级督察单位”列：未知的上级督察单位“市纪委”');
      expect(errors).toContain('第5行，“单位名称”列：单位“<script>alert(1)</script>”重复（另见第4行）');
      expect(dialogs).toEqual([]);
      expect(await page.locator('a[download]').count()).toBe(0);

      // A spreadsheet that is text under an .xlsx name; a PDF as a plan; a year that is not one.
      const fake = path.join(work, 'units.xlsx');
      writeFileSync(fake, '单位名称,编号\n');
      await page.locator('form[action="/import/directory"] input[name=sheet]').setInputFiles(fake);
      await page.locator('form[action="/import/directory"] button[type=submit]').click();
      await page.waitForSelector('text=内容与扩展名不符');
      expect(await page.textContent('form[action="/import/directory"] .error')).toContain(
        '文件“units.xlsx”的内容与扩展名不符（不是 .xlsx 文件）',
      );
      const pdf = path.join(work, 'plan.pdf');
      writeFileSync(pdf, '%PDF-1.4\n');
      await page.locator('form[action="/import/plan"] input[name=plan]').setInputFiles(pdf);
      await page.locator('form[action="/import/plan"] button[type=submit]').click();
      await page.waitForSelector('text=不读取 PDF');
      await page.locator('form[action="/import/plan"] input[name=plan]').setInputFiles(SEED);
      await page.locator('form[action="/import/plan"] input[name=year]').fill('27年');
      await page.locator('form[action="/import/plan"] button[type=submit]').click();
      await page.waitForSelector('text=不是 2000 至 2100 之间的年份');
      expect(await page.textContent('form[action="/import/plan"] .error')).toContain(
        '“年度”：“27年”不是 2000 至 2100 之间的年份',
      );
      // Without a sheet, the plan's names map to the registered directory; the names it lacks are listed by line.
      await page.locator('form[action="/import/plan"] input[name=plan]').setInputFiles(SEED);
      await page.locator('form[action="/import/plan"] input[name=year]').fill('2027');
      await page.locator('form[action="/import/plan"] button[type=submit]').click();
      await page.waitForSelector('h1:has-text("导入结果")');
      expect(await page.textContent('main')).toContain('单位名录：已登记的单位名录');
      expect(await page.textContent('ul.review')).toMatch(
        /第\d+行（[^）]+）：“[^”]+”在单位名录中找不到对应的单位或标签/,
      );
    } finally {
      await context.close();
    }
  });

  test('a liaison is refused, and a form without its CSRF token changes nothing', async () => {
    const liaison = await signIn(LIAISON);
    try {
      expect(await liaison.page.locator('nav a:has-text("导入")').count()).toBe(0);
      const res = await liaison.page.goto(`${web.url}/import`);
      expect(res!.status()).toBe(403);
      expect(await liaison.page.textContent('main')).toContain(
        '只有系统管理员（DUBAN_ADMINS）可以导入工作方案和单位名录',
      );
      const post = await liaison.context.request.post(`${web.url}/import/plan`, {
        multipart: { plan: { name: 'plan.txt', mimeType: 'text/plain', buffer: readFileSync(SEED) } },
      });
      expect(post.status()).toBe(403);
    } finally {
      await liaison.context.close();
    }
    const admin = await signIn(ADMIN);
    try {
      const before = drafts();
      const post = await admin.context.request.post(`${web.url}/import/plan`, {
        multipart: { plan: { name: 'plan.txt', mimeType: 'text/plain', buffer: readFileSync(SEED) }, year: '2027' },
      });
      expect(post.status()).toBe(403);
      expect(await post.text()).toContain('表单已失效');
      expect(drafts()).toBe(before);
    } finally {
      await admin.context.close();
    }
  });

  /** How many sets of drafts exist. */
  const drafts = () => {
    try {
      return readdirSync(path.join(settings.web.evidenceDir!, 'drafts')).length;
    } catch {
      return 0;
    }
  };
});
