/**
 * Signed action links (DOMAIN.md 22): a token in a notice's links, bound to one recipient's address, one
 * tracker-period and the actions that person may take, valid until the period's ladder ends plus a grace.
 *
 * Format: `v1.<key id>.<payload, base64url JSON>.<HMAC-SHA256 of "v1.<key id>.<payload>", base64url>`. The key id
 * names which of the settings' keys signed it, so keys rotate: new links are signed with the first key, and a
 * link signed with an older key keeps working while that key is still listed. A removed key, a changed byte or an
 * expired link is refused. Opening a link never changes anything: the web page's form does (web/).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { LINK_ACTIONS, LinkAction } from '../domain/actions';

/** What a link lets its recipient do (the unit's actions, and `view`, always included): domain/actions.ts. */
export { LINK_ACTIONS };
export type { LinkAction };

export interface LinkClaims {
  trackerId: string;
  period: string;
  /** The recipient's address: the action is recorded as this person. */
  email: string;
  /** The recipient's name as the directory has it. */
  name: string;
  actions: LinkAction[];
  /** Epoch ms after which the link is refused. */
  expiresAt: number;
  /** 代办: the recipient stands in for this person (the unit's head or liaison, away); actions record both. */
  onBehalfOf?: { name: string; email: string };
}

export interface LinkKey {
  id: string;
  secret: Buffer;
}

/** Keys from the setting's text: "id:base64secret,id2:base64secret" (the first signs). */
export function parseLinkKeys(text: string | undefined): LinkKey[] {
  if (!text) return [];
  return text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const [id, secret] = part.split(':');
      if (!id || !/^[A-Za-z0-9_-]{1,16}$/.test(id) || !secret)
        throw new Error('每个链接密钥须写作“编号:base64密钥”，编号只能用英文字母、数字、“-”或“_”');
      const bytes = Buffer.from(secret, 'base64');
      if (bytes.length < 32) throw new Error(`链接密钥 ${id} 短于32字节；可用 openssl rand -base64 32 生成`);
      return { id, secret: bytes };
    });
}

const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64url');
const mac = (key: LinkKey, signed: string) => createHmac('sha256', key.secret).update(signed).digest();

export function signLink(claims: LinkClaims, keys: readonly LinkKey[]): string {
  const key = keys[0];
  if (!key) throw new Error('未设置链接密钥（DUBAN_LINK_KEYS）');
  const payload = b64(
    JSON.stringify({
      t: claims.trackerId,
      p: claims.period,
      r: claims.email,
      n: claims.name,
      a: claims.actions,
      x: claims.expiresAt,
      ...(claims.onBehalfOf ? { b: [claims.onBehalfOf.name, claims.onBehalfOf.email] } : {}),
    }),
  );
  const signed = `v1.${key.id}.${payload}`;
  return `${signed}.${b64(mac(key, signed))}`;
}

export type LinkCheck =
  | { ok: true; claims: LinkClaims }
  | { ok: false; reason: 'malformed' | 'unknown-key' | 'bad-signature' | 'expired'; message: string };

/** Verifies a token: its form, its key, its signature (in constant time), then its expiry. */
export function verifyLink(token: string, keys: readonly LinkKey[], now: number): LinkCheck {
  const parts = token.split('.');
  if (parts.length !== 4 || parts[0] !== 'v1') return { ok: false, reason: 'malformed', message: '链接格式不正确' };
  const [, id, payload, signature] = parts as [string, string, string, string];
  const key = keys.find((k) => k.id === id);
  if (!key) return { ok: false, reason: 'unknown-key', message: '链接已失效（签名密钥已更换）' };
  const expected = mac(key, `v1.${id}.${payload}`);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { ok: false, reason: 'bad-signature', message: '链接无效（签名不符）' };
  let raw: { t?: unknown; p?: unknown; r?: unknown; n?: unknown; a?: unknown; x?: unknown; b?: unknown };
  try {
    raw = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed', message: '链接格式不正确' };
  }
  const actions = Array.isArray(raw.a)
    ? raw.a.filter((x): x is LinkAction => (LINK_ACTIONS as readonly string[]).includes(x as string))
    : [];
  if (
    typeof raw.t !== 'string' ||
    typeof raw.p !== 'string' ||
    typeof raw.r !== 'string' ||
    typeof raw.x !== 'number'
  ) {
    return { ok: false, reason: 'malformed', message: '链接格式不正确' };
  }
  if (now > raw.x) return { ok: false, reason: 'expired', message: '链接已过期，请登录系统办理或联系督办单位' };
  return {
    ok: true,
    claims: {
      trackerId: raw.t,
      period: raw.p,
      email: raw.r,
      name: typeof raw.n === 'string' ? raw.n : raw.r,
      actions,
      expiresAt: raw.x,
      ...(Array.isArray(raw.b) && typeof raw.b[0] === 'string' && typeof raw.b[1] === 'string'
        ? { onBehalfOf: { name: raw.b[0], email: raw.b[1] } }
        : {}),
    },
  };
}
