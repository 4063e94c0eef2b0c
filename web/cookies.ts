/**
 * The two cookies of the web service (the session, and the anonymous CSRF token of the sign-in forms), read and
 * written here rather than with @fastify/cookie: its current release loads the ESM-only `cookie` package with a
 * dynamic import, which Jest's CommonJS runtime cannot do. Values are base64url tokens, so no encoding is needed.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';

export function readCookie(req: FastifyRequest, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      const value = part
        .slice(eq + 1)
        .trim()
        .replace(/^"(.*)"$/, '$1');
      return /^[A-Za-z0-9_-]{1,200}$/.test(value) ? value : undefined;
    }
  }
  return undefined;
}

export interface CookieOptions {
  secure: boolean;
  /** Seconds; 0 removes the cookie. Absent: a browser-session cookie. */
  maxAge?: number;
}

/** HttpOnly, SameSite=Lax, Path=/, and Secure over TLS. */
export function setCookie(reply: FastifyReply, name: string, value: string, o: CookieOptions): void {
  const parts = [`${name}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Lax'];
  if (o.secure) parts.push('Secure');
  if (o.maxAge !== undefined) parts.push(`Max-Age=${o.maxAge}`);
  const existing = reply.getHeader('Set-Cookie');
  const list = existing === undefined ? [] : Array.isArray(existing) ? existing.map(String) : [String(existing)];
  reply.header('Set-Cookie', [...list, parts.join('; ')]);
}
