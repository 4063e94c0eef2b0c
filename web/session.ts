/**
 * Sessions and CSRF (docs/web.md): the session cookie holds a random token whose SHA-256 hash the ledger keeps;
 * each session has its own CSRF token, echoed in every form. Before sign-in, the forms use a double-submit cookie.
 * The person behind a session is resolved on every request from the directory as registered, so someone removed
 * from it loses access at once.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Snapshot, latestSnapshot } from '../access/registered';
import type { WebContext } from './context';
import { readCookie, setCookie } from './cookies';
import { Person, personFor } from './roles';

export const SESSION_COOKIE = 'duban_session';
export const CSRF_COOKIE = 'duban_csrf';

export const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
/** A fresh random token: 32 bytes, base64url (43 characters). */
export const token = () => randomBytes(32).toString('base64url');
/** Compares two secrets in constant time; an empty one never matches. */
export const sameSecret = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
};

export interface Signed {
  person: Person;
  sessionHash: string;
  csrf: string;
  /** The registered directory and catalog the person was resolved from (协办 reads the catalog: no second trip). */
  snapshot?: Snapshot;
}

declare module 'fastify' {
  interface FastifyRequest {
    signed?: Signed;
    /** The CSRF cookie set by this very response, before the browser has it. */
    anonymousCsrf?: string;
  }
}

/** The CSRF token a page's forms carry: the session's, or the anonymous double-submit cookie. */
export function csrfOf(req: FastifyRequest): string | undefined {
  return req.signed?.csrf ?? req.anonymousCsrf ?? readCookie(req, CSRF_COOKIE);
}

/** An anonymous CSRF cookie for the sign-in and link forms (double submit): set once, echoed in the form. */
export function anonymousCsrf(d: WebContext, req: FastifyRequest, reply: FastifyReply): string {
  const existing = readCookie(req, CSRF_COOKIE);
  if (existing && existing.length === 43) return existing;
  const fresh = token();
  setCookie(reply, CSRF_COOKIE, fresh, { secure: d.secure });
  req.anonymousCsrf = fresh;
  return fresh;
}

/** Reads the session cookie on every request; resolves the person from the directory as registered. */
export function addSessionHook(app: FastifyInstance, d: WebContext): void {
  const idleMs = d.web.sessionIdleMinutes * 60_000;
  app.addHook('preHandler', async (req) => {
    const raw = readCookie(req, SESSION_COOKIE);
    if (!raw) return;
    const sessionHash = sha256(raw);
    const now = Date.now();
    const session = await d.ledger.web.findSession(sessionHash, now, idleMs);
    if (!session) return;
    const snapshot = await latestSnapshot(d.ledger);
    const person = personFor(session.email, snapshot?.directory, d.web.admins);
    // Someone removed from the directory loses access at once, whatever their session says.
    if (!person) return;
    if (now - session.lastSeenAt > 60_000) await d.ledger.web.touchSession(sessionHash, now);
    req.signed = { person, sessionHash, csrf: session.csrf, snapshot };
  });
}

/** The signed-in session, or undefined after answering: a GET goes to sign in, anything else is refused. */
export function requireSignedIn(d: WebContext, req: FastifyRequest, reply: FastifyReply): Signed | undefined {
  if (req.signed) return req.signed;
  if (req.method === 'GET') void reply.redirect('/login', 303);
  else void d.message(req, reply, 403, '请先登录', '登录已失效，请重新登录。未作任何更改。');
  return undefined;
}

export function forbidden(
  d: WebContext,
  req: FastifyRequest,
  reply: FastifyReply,
  message = '您无权查看或办理该事项。',
): FastifyReply {
  return d.message(req, reply, 403, '无权访问', message);
}

export function csrfRefused(d: WebContext, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  return d.message(
    req,
    reply,
    403,
    '表单已失效',
    '表单缺少有效的安全校验码（可能已过期或来自其他网站），未作任何更改。请返回页面刷新后重新提交。',
  );
}
