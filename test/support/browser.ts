/**
 * A real Chromium for the web tests: Debian's `chromium` driven by playwright-core through its executable path
 * (no browser download). Installed with apt-get when missing (CI runs as root), as test/support/postgres.ts does
 * for PostgreSQL, with a CJK font for legible screenshots. DUBAN_TEST_CHROMIUM points at another executable.
 */
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Browser, BrowserContext, chromium } from 'playwright-core';

const DEBIAN_CHROMIUM = '/usr/bin/chromium';

export function chromiumPath(): string {
  const wanted = process.env.DUBAN_TEST_CHROMIUM ?? DEBIAN_CHROMIUM;
  if (existsSync(wanted)) return wanted;
  if (process.env.DUBAN_TEST_CHROMIUM) throw new Error(`DUBAN_TEST_CHROMIUM=${wanted}: no such file`);
  if (process.getuid?.() !== 0) throw new Error('Chromium is not installed and the tests are not root: apt-get install chromium, or set DUBAN_TEST_CHROMIUM');
  execSync('apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium', { stdio: 'inherit' });
  if (!existsSync(DEBIAN_CHROMIUM)) throw new Error('chromium not found at /usr/bin/chromium after apt-get install chromium');
  return DEBIAN_CHROMIUM;
}

/** Chinese pages need a CJK font, or the screenshots show empty boxes: Debian's WenQuanYi Micro Hei when none. */
function ensureCjkFont(): void {
  let fonts = '';
  try {
    fonts = execSync('fc-list :lang=zh family', { encoding: 'utf8' });
  } catch {
    // No fontconfig at all: chromium's package brings it; try installing the font below.
  }
  if (fonts.trim() || process.getuid?.() !== 0) return;
  execSync('DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei', { stdio: 'inherit' });
}

export interface TestBrowser {
  browser: Browser;
  /** A fresh profile: its own cookies, as a different person's browser. */
  newContext(): Promise<BrowserContext>;
  close(): Promise<void>;
}

export async function startBrowser(): Promise<TestBrowser> {
  const executablePath = chromiumPath();
  ensureCjkFont();
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      // No --user-data-dir here: playwright-core refuses it in launch() and gives every launch a fresh profile of
      // its own in a temporary folder, which is what the tests need.
    ],
  });
  return {
    browser,
    newContext: () => browser.newContext({ locale: 'zh-CN', viewport: { width: 1280, height: 900 } }),
    close: () => browser.close(),
  };
}
