/**
 * Sign-in by emailed link (docs/web.md): the address asks for a link, the link's page asks to confirm (opening it
 * changes nothing: mail scanners open every link), the confirmation starts a session. Rate-limited per address and
 * per client, counted for every address so the limit tells nothing about who exists.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { latestSnapshot } from '../../access/registered';
import { webBaseUrl } from '../../config/settings';
import type { WebContext } from '../context';
import { readCookie, setCookie } from '../cookies';
import { html } from '../html';
import * as pages from '../pages';
import { Person, personFor } from '../roles';
import {
  CSRF_COOKIE,
  SESSION_COOKIE,
  anonymousCsrf,
  csrfRefused,
  requireSignedIn,
  sameSecret,
  sha256,
  token,
} from '../session';

const SIGN_IN_WINDOW_MS = 15 * 60_000;
const SIGN_IN_PER_ADDRESS = 5;
const SIGN_IN_PER_CLIENT = 30;
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** The sign-in email: not awaited by the caller, so an unknown address is answered as fast as a known one. */
function sendSignInLink(d: WebContext, person: Person, link: string): void {
  d.transport
    .sendMail({
      from: { name: d.from.name, address: d.from.address },
      to: { name: person.name, address: person.email },
      subject: '法治政府建设督办系统登录链接',
      text: [
        `${person.name}，您好：`,
        '',
        `请在${d.web.signInLinkMinutes}分钟内打开下面的链接登录法治政府建设督办系统（链接只能使用一次）：`,
        '',
        link,
        '',
        '如果这不是您本人的操作，请忽略本邮件，您的账户不会有任何变化。',
        '',
        '（本邮件由系统自动发送，请勿回复。）',
      ].join('\n'),
    })
    .then(
      () => d.log({ level: 'info', msg: 'sign-in link sent', to: person.email }),
      (err: Error) => d.log({ level: 'error', msg: 'sign-in link not sent', to: person.email, error: err.message }),
    );
}

export function signInRoutes(app: FastifyInstance, d: WebContext): void {
  const { ledger, web } = d;
  const invalidLink = (req: FastifyRequest) =>
    pages.messagePage(
      d.ctxOf(req),
      '链接无效',
      '该登录链接无效、已使用或已过期。请重新申请登录链接。',
      html`<p><a href="/login">重新申请登录链接</a></p>`,
    );

  app.get('/login', async (req, reply) => {
    anonymousCsrf(d, req, reply);
    return d.page(reply, pages.signInPage(d.ctxOf(req)));
  });

  app.post('/login', async (req, reply) => {
    const body = (req.body ?? {}) as Record<string, string>;
    const csrf = readCookie(req, CSRF_COOKIE);
    if (!csrf || !sameSecret(String(body._csrf ?? ''), csrf)) return csrfRefused(d, req, reply);
    const email = String(body.email ?? '')
      .trim()
      .toLowerCase();
    if (!/^[^\s@<>]+@[^\s@<>]+$/.test(email) || email.length > 254)
      return d.page(reply.code(400), pages.signInPage(d.ctxOf(req), '请输入有效的电子邮箱地址。'));
    const now = Date.now();
    // Counted for every address, known or not, so the limit itself tells nothing about who exists.
    const perAddress = await ledger.web.hitRateLimit(`sign-in/address/${email}`, SIGN_IN_WINDOW_MS, now);
    const perClient = await ledger.web.hitRateLimit(`sign-in/client/${req.ip}`, SIGN_IN_WINDOW_MS, now);
    if (perAddress > SIGN_IN_PER_ADDRESS || perClient > SIGN_IN_PER_CLIENT) {
      d.log({ level: 'warn', msg: 'sign-in rate limited', client: req.ip });
      return d.message(req, reply, 429, '请求过于频繁', '登录链接的请求过于频繁，请15分钟后再试。');
    }
    const snapshot = await latestSnapshot(ledger);
    const person = personFor(email, snapshot?.directory, web.admins);
    if (person) {
      const secret = token();
      await ledger.web.saveSignInLink({
        tokenHash: sha256(secret),
        email: person.email,
        createdAt: now,
        expiresAt: now + web.signInLinkMinutes * 60_000,
      });
      const port = (app.server.address() as { port?: number } | null)?.port;
      sendSignInLink(d, person, `${webBaseUrl(d.settings, port)}/login/${secret}`);
    }
    return d.page(reply, pages.signInSentPage(d.ctxOf(req), web.signInLinkMinutes));
  });

  // Opening the link changes nothing (mail scanners open every link): the page asks to confirm with a POST.
  app.get('/login/:token', async (req, reply) => {
    const secret = (req.params as { token: string }).token;
    anonymousCsrf(d, req, reply);
    const email = TOKEN.test(secret) ? await ledger.web.peekSignInLink(sha256(secret), Date.now()) : undefined;
    if (!email) return d.page(reply.code(400), invalidLink(req));
    return d.page(reply, pages.signInConfirmPage(d.ctxOf(req), secret));
  });

  app.post('/login/confirm', async (req, reply) => {
    const body = (req.body ?? {}) as Record<string, string>;
    const csrf = readCookie(req, CSRF_COOKIE);
    if (!csrf || !sameSecret(String(body._csrf ?? ''), csrf)) return csrfRefused(d, req, reply);
    const secret = String(body.token ?? '');
    const now = Date.now();
    const email = TOKEN.test(secret) ? await ledger.web.consumeSignInLink(sha256(secret), now) : undefined;
    if (!email) return d.page(reply.code(400), invalidLink(req));
    const sessionSecret = token();
    await ledger.web.createSession({ sessionHash: sha256(sessionSecret), email, csrf: token(), now });
    d.log({ level: 'info', msg: 'signed in', who: email });
    setCookie(reply, SESSION_COOKIE, sessionSecret, { secure: d.secure });
    return reply.redirect('/', 303);
  });

  app.post('/logout', async (req, reply) => {
    const s = requireSignedIn(d, req, reply);
    if (!s) return reply;
    const body = (req.body ?? {}) as Record<string, string>;
    if (!sameSecret(String(body._csrf ?? ''), s.csrf)) return csrfRefused(d, req, reply);
    await ledger.web.revokeSession(s.sessionHash, Date.now());
    setCookie(reply, SESSION_COOKIE, '', { secure: d.secure, maxAge: 0 });
    return reply.redirect('/login', 303);
  });
}
