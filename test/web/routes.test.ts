/**
 * The web service's route groups stand alone (issue 20.1): an app built with one group answers that group's
 * routes and nothing else, with the shared hooks (security headers, error pages, sessions) in place. No Temporal:
 * these routes never reach a tracker.
 */
import type { FastifyInstance } from 'fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Duban } from '../../access/temporal';
import { loadSettings } from '../../config/settings';
import { Ledger } from '../../ledger';
import { ROUTE_GROUPS } from '../../web/context';
import { WebOptions, buildWebServer } from '../../web/server';
import { SmtpSink, startSmtpSink } from '../support/smtp';

describe('route groups', () => {
  let dir: string;
  let sink: SmtpSink;
  let ledger: Ledger;
  const apps: FastifyInstance[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'duban-routes-'));
    sink = await startSmtpSink();
    ledger = await Ledger.open({ sqliteFile: path.join(dir, 'ledger.sqlite') });
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await ledger?.close();
    await sink?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function serve(routes: (typeof ROUTE_GROUPS)[number][], extra: Partial<WebOptions> = {}) {
    const settings = loadSettings({ DUBAN_DATA_DIR: dir, SMTP_URL: sink.url, DUBAN_WEB_PORT: '0' });
    const app = await buildWebServer({ settings, duban: {} as Duban, ledger, log: () => undefined, routes, ...extra });
    apps.push(app);
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    return (url: string, init: RequestInit = {}) => fetch(base + url, { redirect: 'manual', ...init });
  }

  test('the board alone: / asks to sign in, and the sign-in pages are not there', async () => {
    const get = await serve(['board']);
    const board = await get('/');
    expect([board.status, board.headers.get('location')]).toEqual([303, '/login']);
    const login = await get('/login');
    expect(login.status).toBe(404);
    expect(login.headers.get('x-frame-options')).toBe('DENY');
    expect(await login.text()).toContain('找不到页面');
    expect((await get('/healthz')).status).toBe(404);
  });

  test('sign-in alone: its form is there, the board and the reports are not', async () => {
    const get = await serve(['sign-in']);
    const login = await get('/login');
    expect(login.status).toBe(200);
    expect(await login.text()).toContain('name="email"');
    expect(login.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect((await get('/')).status).toBe(404);
    expect((await get('/report')).status).toBe(404);
  });

  test('health alone: liveness and the stylesheet, no pages', async () => {
    const get = await serve(['health']);
    expect(await (await get('/healthz')).text()).toBe('ok');
    expect((await get('/static/duban.css')).headers.get('content-type')).toContain('text/css');
    expect((await get('/supervision')).status).toBe(404);
  });

  test('the local channels page (npm start): what each robot and phone received, newest first, escaped', async () => {
    const get = await serve(['mail'], {
      channelMessages: () => [
        { at: '2026-12-02T01:00:00.000Z', kind: 'wecom', to: 'sfj-wecom', text: '【督办提醒】第一条' },
        { at: '2026-12-02T02:00:00.000Z', kind: 'sms', to: '13800000000', text: '<script>alert(1)</script>第二条' },
      ],
    });
    const res = await get('/channels');
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(page).toContain('企业微信群机器人');
    expect(page).toContain('短信');
    expect(page).toContain('2026/12/2 10:00'); // Beijing time, as every page shows it
    expect(page).not.toContain('<script>alert(1)</script>');
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;第二条');
    expect(page.indexOf('第二条')).toBeLessThan(page.indexOf('第一条'));
    expect(page).toContain('href="/channels"');
    // Without the fakes (any real deployment) there is no such page.
    const plain = await serve(['mail']);
    expect((await plain('/channels')).status).toBe(404);
  });
});
