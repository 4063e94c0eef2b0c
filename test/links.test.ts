import { randomBytes } from 'node:crypto';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { recipientLinks, trackerUrl } from '../activities';
import { LinkClaims, parseLinkKeys, signLink, verifyLink } from '../channels/links';
import { renderDigest, renderNotice } from '../channels/email/templates';
import { localLinkKey } from '../client/start';
import { loadInputs } from '../config/load';
import { describeSettings, linkSettings, loadSettings } from '../config/settings';
import { WorkingCalendar } from '../domain/calendar';
import { trackerPeriodPlan } from '../domain/planner';

const key = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;
const claims: LinkClaims = {
  trackerId: 'annual-report/sfj',
  period: '2026',
  email: 'liaison@example.org',
  name: '黄丽娟',
  actions: ['view', 'acknowledge', 'submit'],
  expiresAt: 2_000_000_000_000,
};

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
    const forged = Buffer.from(
      JSON.stringify({
        t: 'annual-report/other',
        p: '2026',
        r: claims.email,
        n: claims.name,
        a: claims.actions,
        x: claims.expiresAt,
      }),
    ).toString('base64url');
    expect(verifyLink(`${v}.${id}.${forged}.${sig}`, keys, 0)).toMatchObject({ ok: false, reason: 'bad-signature' });
  });

  test('keys are checked when read from the settings', () => {
    expect(() => parseLinkKeys('k1:c2hvcnQ=')).toThrow(/短于32字节/);
    expect(() => parseLinkKeys('bad id:abc')).toThrow(/编号:base64密钥/);
    expect(parseLinkKeys(undefined)).toEqual([]);
  });
});

describe('links in notices, digests, settings and npm start', () => {
  const inputs = loadInputs({
    catalog: path.join(__dirname, 'fixtures', 'catalog.yaml'),
    directory: path.join(__dirname, 'fixtures', 'directory.yaml'),
  });
  const keys = parseLinkKeys(key('k1'));
  const cfg = { keys, baseUrl: 'https://duban.example.gov.cn/', graceMs: 7 * 86_400_000 };
  const tracker = inputs.trackers.find((t) => t.trackerId === 'annual-report/county-a')!;
  const plan = trackerPeriodPlan(tracker, new WorkingCalendar(), {
    period: '2026',
    now: Date.parse('2026-06-01T00:00:00Z'),
    digest: false,
  });
  const render = (t: typeof tracker, stage: 'reminder' | 'escalation', level: number) => {
    const n = plan.notices.find((x) => x.stage === stage && x.level === level)!;
    const links = recipientLinks(
      t,
      [...n.to, ...n.cc],
      { label: plan.period, dueAt: plan.dueAt, endsAt: plan.endsAt },
      n.at,
      cfg,
    );
    return {
      n,
      links,
      r: renderNotice({
        definition: t,
        notice: n,
        period: { label: plan.period, due: plan.due, originalDue: plan.originalDue },
        sentOn: '2027-02-10',
        progress: { recorded: 0, quota: 1 },
        links,
      }),
    };
  };
  const tokensOf = (text: string) =>
    [...text.matchAll(/https:\/\/duban\.example\.gov\.cn\/a\/([A-Za-z0-9_.-]+)\/(\w+)/g)].map((m) => ({
      action: m[2]!,
      check: verifyLink(m[1]!, keys, plan.dueAt),
    }));

  test('a reminder carries every recipient’s links in its text and HTML parts, each signed for that recipient and period', () => {
    const { n, r } = render(tracker, 'reminder', 0);
    const found = tokensOf(r.text);
    expect(new Set(found.map((f) => (f.check.ok ? f.check.claims.email : '')))).toEqual(new Set([...n.to, ...n.cc]));
    for (const f of found) {
      expect(f.check).toMatchObject({
        ok: true,
        claims: { trackerId: 'annual-report/county-a', period: '2026', expiresAt: plan.endsAt + cfg.graceMs },
      });
      if (f.check.ok) expect(f.check.claims.actions).toContain(f.action);
    }
    expect(
      found.filter((f) => f.check.ok && f.check.claims.email === tracker.unit.liaison.email).map((f) => f.action),
    ).toEqual(['acknowledge', 'progress', 'submit', 'requestExtension', 'handBack', 'view']);
    const hrefs = [...r.html.matchAll(/href="([^"]+)"/g)].map((m) => m[1]);
    expect(hrefs.sort()).toEqual([...r.text.matchAll(/https:\/\/\S+\/a\/\S+/g)].map((m) => m[0]).sort());
    expect(r.text).toContain('打开链接只显示办理页面，不改变任何状态');
    expect(r.text).toContain(tracker.supervisor.liaison.email);
    // Without a key: no links, and nothing said about them.
    const plain = renderNotice({
      definition: tracker,
      notice: n,
      period: { label: plan.period, due: plan.due, originalDue: plan.originalDue },
      sentOn: '2027-02-10',
      progress: { recorded: 0, quota: 1 },
    });
    expect(plain.text).not.toMatch(/\/a\/|点击以下链接/);
    // Without a key but with a web service: the notice says to sign in there instead.
    const signIn = renderNotice({
      definition: tracker,
      notice: n,
      period: { label: plan.period, due: plan.due, originalDue: plan.originalDue },
      sentOn: '2027-02-10',
      progress: { recorded: 0, quota: 1 },
      signInUrl: 'https://duban.example.gov.cn',
    });
    expect(signIn.text).toContain('也可登录督办系统办理签收、反馈进展和报送：https://duban.example.gov.cn/login');
    expect(signIn.html).toContain('<a href="https://duban.example.gov.cn/login">');
    const both = renderNotice({
      ...{
        definition: tracker,
        notice: n,
        period: { label: plan.period, due: plan.due, originalDue: plan.originalDue },
        sentOn: '2027-02-10',
        progress: { recorded: 0, quota: 1 },
      },
      links: render(tracker, 'reminder', 0).links,
      signInUrl: 'https://duban.example.gov.cn',
    });
    expect(both.text).not.toContain('也可登录督办系统');
  });

  test('the 督办单 (level 2) gives the unit its actions and the supervising office a view link', () => {
    const { r } = render(tracker, 'escalation', 2);
    const found = tokensOf(r.text).map((f) => (f.check.ok ? `${f.check.claims.email} ${f.action}` : 'bad'));
    expect(found).toContain(`${tracker.supervisor.liaison.email} view`);
    expect(found).toContain(`${tracker.supervisor.head.email} view`);
    expect(found.filter((f) => f.startsWith(tracker.supervisor.liaison.email))).toEqual([
      `${tracker.supervisor.liaison.email} view`,
    ]);
    // Sent after due: the unit may not ask for an extension from it.
    expect(found.filter((f) => f.startsWith(tracker.unit.head.email))).toEqual(
      ['acknowledge', 'progress', 'submit', 'handBack', 'view'].map((a) => `${tracker.unit.head.email} ${a}`),
    );
  });

  test('names with CRLF, quotes and <script> stay text: no header or markup injection', () => {
    const evil = 'X\r\nBcc: victim@example.org\r\n"<script>alert(1)</script>\'';
    const t = {
      ...tracker,
      unit: {
        ...tracker.unit,
        name: evil,
        liaison: { ...tracker.unit.liaison, name: evil },
        head: { ...tracker.unit.head, name: evil },
      },
    };
    const { r } = render(t, 'reminder', 0);
    expect(r.subject).not.toMatch(/[\r\n]/);
    expect(r.html).not.toContain('<script>');
    expect(r.html).toContain('&lt;script&gt;');
    // The recipient's line above their links is one line (the body is no header, but a reader must not be misled).
    expect(r.text).toContain(`X Bcc: victim@example.org "<script>alert(1)</script>'：\n  签收：https://`);
    for (const f of tokensOf(r.text)) expect(f.check).toMatchObject({ ok: true, claims: { name: evil } });
  });

  test('the digest links each item to its tracker page', () => {
    const r = renderDigest({
      supervisorName: '市委依法治市办',
      day: '2027-03-02',
      items: [
        {
          unitName: '甲县<b>',
          obligationTitle: '年度报告',
          period: '2026',
          due: '2027-02-28',
          url: trackerUrl(cfg.baseUrl, 'annual-report/county-a'),
        },
      ],
    });
    expect(r.text).toContain('查看：https://duban.example.gov.cn/t/annual-report/county-a');
    expect(r.html).toContain('<a href="https://duban.example.gov.cn/t/annual-report/county-a">年度报告</a>');
    expect(r.html).toContain('甲县&lt;b&gt;');
  });

  test('settings: DUBAN_LINK_KEYS and the grace; a bad key names the setting; the keys are never described', () => {
    const k = key('k9');
    const s = loadSettings({
      DUBAN_LINK_KEYS: k,
      DUBAN_LINK_GRACE_DAYS: '3',
      DUBAN_WEB_BASE_URL: 'https://duban.example.gov.cn/',
    });
    expect(linkSettings(s)).toMatchObject({
      baseUrl: 'https://duban.example.gov.cn',
      graceMs: 3 * 86_400_000,
      keys: [{ id: 'k9' }],
    });
    expect(JSON.stringify(describeSettings(s))).not.toContain(k.split(':')[1]!);
    expect(describeSettings(s).links).toEqual({ keyIds: ['k9'], graceDays: 3 });
    expect(linkSettings(loadSettings({}))).toBeUndefined();
    expect(linkSettings(loadSettings({ DUBAN_WEB_PORT: '9000' }))).toBeUndefined();
    expect(() => linkSettings(loadSettings({ DUBAN_LINK_KEYS: 'k1:c2hvcnQ=' }))).toThrow(/DUBAN_LINK_KEYS.*短于32字节/);
    expect(linkSettings(loadSettings({ DUBAN_LINK_KEYS: k, DUBAN_WEB_PORT: '9000' }))!.baseUrl).toBe(
      'http://127.0.0.1:9000',
    );
  });

  test('npm start makes its key once, readable by its owner only, and reuses it', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'duban-key-'));
    const first = localLinkKey(dir);
    expect(parseLinkKeys(first)).toHaveLength(1);
    expect(statSync(path.join(dir, 'link-key')).mode & 0o777).toBe(0o600);
    expect(localLinkKey(dir)).toBe(first);
  });
});
