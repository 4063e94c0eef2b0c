/**
 * The review report in a real Chromium: it loads nothing from outside (one self-contained file), each duty's
 * quote is highlighted in its paragraph beside the draft fields, and a plan carrying markup shows it as text and
 * runs none of it.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadDirectory } from '../../config/load';
import { importPlanText } from '../../import';
import { TestBrowser, startBrowser } from '../support/browser';

const root = path.resolve(__dirname, '..', '..');
let browser: TestBrowser;
let dir: string;

beforeAll(async () => {
  browser = await startBrowser();
  dir = mkdtempSync(path.join(tmpdir(), 'duban-import-report-'));
});
afterAll(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function open(html: string) {
  const file = path.join(dir, `report-${Math.random().toString(36).slice(2)}.html`);
  writeFileSync(file, html);
  const context = await browser.newContext();
  const page = await context.newPage();
  const requests: string[] = [];
  const dialogs: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await page.goto(pathToFileURL(file).href);
  return { page, context, requests, dialogs, url: pathToFileURL(file).href };
}

test('seed 004: every duty highlighted in its paragraph, nothing loaded from outside', async () => {
  const text = readFileSync(path.join(root, 'bench', 'import', 'seeds', '004_47836408a47aeb20.txt'), 'utf8');
  const result = importPlanText(text, '004.txt', loadDirectory(), { year: 2027 });
  const { page, context, requests } = await open(result.html);
  try {
    expect(requests).toEqual([requests[0]]); // the file itself, nothing else
    const sections = page.locator('section.duty');
    expect(await sections.count()).toBe(result.draft.obligations.length);
    const marks = await page.locator('section.duty mark').allTextContents();
    expect(marks).toEqual(result.draft.obligations.map((o) => o.duty.quote));
    const lectures = page.locator('section.duty', { hasText: '每年至少安排4次区政府全体会议学法讲座' }).first();
    await expect(lectures.locator('mark').isVisible()).resolves.toBe(true);
    expect(await lectures.locator('td').allTextContents()).toEqual(expect.arrayContaining(['quota 4次', '单位 szf']));
    expect(await page.locator('#untimed + table tr').count()).toBeGreaterThan(10);
  } finally {
    await context.close();
  }
});

test('markup in the plan is shown as text and never runs', async () => {
  const hostile = [
    'XX市法治政府建设2027年工作要点<script>alert("title")</script>',
    '一、每年至少安排4次学法讲座<img src=x onerror=alert(1)>。(责任单位:<b>市司法局</b>)',
    '二、定期开展<script>alert(2)</script>演练。',
  ].join('\n');
  const result = importPlanText(hostile, 'x<script>.txt', loadDirectory());
  const { page, context, requests, dialogs } = await open(result.html);
  try {
    await page.waitForTimeout(200);
    expect(dialogs).toEqual([]);
    expect(requests).toHaveLength(1); // no <img src=x> fetched
    expect(await page.locator('script, img').count()).toBe(0);
    expect(await page.locator('section.duty mark').first().textContent()).toBe(
      '每年至少安排4次学法讲座<img src=x onerror=alert(1)>',
    );
    expect(await page.locator('body').textContent()).toContain('<script>alert(2)</script>');
  } finally {
    await context.close();
  }
});
