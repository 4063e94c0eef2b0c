import { randomBytes } from 'node:crypto';
import { LinkClaims, parseLinkKeys, signLink, verifyLink } from '../activities/links';

const key = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;
const claims: LinkClaims = { trackerId: 'annual-report/sfj', period: '2026', email: 'liaison@example.org', name: '黄丽娟', actions: ['view', 'acknowledge', 'submit'], expiresAt: 2_000_000_000_000 };

describe('signed action links', () => {
  const keys = parseLinkKeys(`${key('k2')},${key('k1')}`);

  test('a link verifies with its claims, and the current key signs it', () => {
    const token = signLink(claims, keys);
    expect(token.split('.')[1]).toBe('k2');
    expect(verifyLink(token, keys, 1_900_000_000_000)).toEqual({ ok: true, claims });
  });

  test('one flipped bit anywhere, a removed key, an expired link and garbage are refused', () => {
    const token = signLink(claims, keys);
    for (let i = 0; i < token.length; i += 7) {
      const c = token[i]!;
      const flipped = token.slice(0, i) + (c === 'A' ? 'B' : 'A') + token.slice(i + 1);
      if (flipped === token) continue;
      expect(verifyLink(flipped, keys, 0).ok).toBe(false);
    }
    expect(verifyLink(token, keys.slice(1), 0)).toMatchObject({ ok: false, reason: 'unknown-key' });
    expect(verifyLink(token, keys, claims.expiresAt + 1)).toMatchObject({ ok: false, reason: 'expired' });
    expect(verifyLink('not a token', keys, 0)).toMatchObject({ ok: false, reason: 'malformed' });
  });

  test('keys rotate: a link signed by an older key still listed keeps working', () => {
    const old = signLink(claims, keys.slice(1));
    expect(verifyLink(old, keys, 0).ok).toBe(true);
  });

  test('a token for another tracker cannot be made by editing the payload', () => {
    const [v, id, , sig] = signLink(claims, keys).split('.');
    const forged = Buffer.from(JSON.stringify({ t: 'annual-report/other', p: '2026', r: claims.email, n: claims.name, a: claims.actions, x: claims.expiresAt })).toString('base64url');
    expect(verifyLink(`${v}.${id}.${forged}.${sig}`, keys, 0)).toMatchObject({ ok: false, reason: 'bad-signature' });
  });

  test('keys are checked when read from the settings', () => {
    expect(() => parseLinkKeys('k1:c2hvcnQ=')).toThrow(/shorter than 32 bytes/);
    expect(() => parseLinkKeys('bad id:abc')).toThrow(/id:base64secret/);
    expect(parseLinkKeys(undefined)).toEqual([]);
  });
});
