/**
 * A real Chromium for the web tests: Debian's `chromium` driven by playwright-core through its executable path
 * (no browser download). Installed with apt-get when missing (CI runs as root), as test/support/postgres.ts does
 * for PostgreSQL, with a CJK font for legible screenshots. DUBAN_TEST_CHROMIUM points at another executable.
 */
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Browser, BrowserContext, Page, chromium } from 'playwright-core';
import type { SmtpSink } from './smtp';

const DEBIAN_CHROMIUM = '/usr/bin/chromium';

export function chromiumPath(): string {
  const wanted = process.env.DUBAN_TEST_CHROMIUM ?? DEBIAN_CHROMIUM;
  if (existsSync(wanted)) return wanted;
  if (process.env.DUBAN_TEST_CHROMIUM) throw new Error(`DUBAN_TEST_CHROMIUM=${wanted}: no such file`);
  if (process.getuid?.() !== 0)
    throw new Error(
      'Chromium is not installed and the tests are not root: apt-get install chromium, or set DUBAN_TEST_CHROMIUM',
    );
  execSync('apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium', {
    stdio: 'inherit',
  });
  if (!existsSync(DEBIAN_CHROMIUM))
    throw new Error('chromium not found at /usr/bin/chromium after apt-get install chromium');
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

/** The sign-in link mailed to `email` after the sink's `since`-th message (waits up to 10 s). */
export async function signInLinkFor(sink: SmtpSink, email: string, since: number): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const m = sink.messages
      .slice(since)
      .find((x) => x.envelopeTo.includes(email) && /登录链接/.test(x.parsed.subject ?? ''));
    if (m) return /http:\/\/\S+\/login\/[A-Za-z0-9_-]{43}/.exec(m.parsed.text ?? '')![0];
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no sign-in link arrived for ${email}`);
}

/**
 * Signs in on `page` as a person does: the address in the form, the link that arrives at the test's SMTP server,
 * its confirmation page (opening the link changes nothing), the board. Returns the link.
 */
export async function signInThroughPages(page: Page, webUrl: string, sink: SmtpSink, email: string): Promise<string> {
  await page.goto(`${webUrl}/login`);
  const since = sink.messages.length;
  await page.fill('input[name=email]', email);
  await page.click('button[type=submit]');
  await page.waitForSelector('text=请查收邮件');
  const link = await signInLinkFor(sink, email, since);
  await page.goto(link);
  await page.waitForSelector('text=确认登录');
  await Promise.all([page.waitForURL(`${webUrl}/`), page.click('button:has-text("登录")')]);
  return link;
}
