/**
 * The web service's rules that need no Temporal server: sign-in links, rate limits, sessions (idle timeout,
 * revocation), the mailbox only in the embedded mode, evidence recognised by content, escaping, CSV formulas,
 * roles from the directory. Requests go over HTTP to the server on loopback, with a real SQLite ledger and a real
 * SMTP server.
 */
import type { FastifyInstance } from 'fastify';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import ExcelJS from 'exceljs';
import { Ledger } from '../../ledger';
import { loadInputs } from '../../config/load';
import { Settings, loadSettings } from '../../config/settings';
import type { Duban } from '../../access/temporal';
import { detectKind, checkFile, EvidenceError } from '../../web/evidence';
import { csvField, reportCsv } from '../../access/report';
import { html, safe } from '../../web/html';
import { trackerPage } from '../../web/pages';
import { allowedActions, maySee, personFor } from '../../web/roles';
import { buildRequest, buildWebServer, loggablePath } from '../../web/server';
import { parseLinkKeys, signLink } from '../../channels/links';
import { TestPostgres, startTestPostgres } from '../support/postgres';
import { SmtpSink, startSmtpSink } from '../support/smtp';

const fixtures = path.join(__dirname, '..', 'fixtures');

/** A ZIP archive with stored (uncompressed) entries: enough for the detector, which reads the names. */
function zip(names: string[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const name of names) {
    const n = Buffer.from(name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(n.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(n.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, n);
    centrals.push(central, n);
    offset += 30 + n.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(names.length, 8);
  end.writeUInt16LE(names.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

const ole2 = (stream: string) =>
  Buffer.concat([
    Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]),
    Buffer.alloc(500),
    Buffer.from(stream, 'utf16le'),
    Buffer.alloc(100),
  ]);

describe('evidence files are recognised by their content', () => {
  test('every accepted kind, and nothing else', async () => {
    const book = new ExcelJS.Workbook();
    book.addWorksheet('a').addRow([1]);
    const xlsx = Buffer.from(await book.xlsx.writeBuffer());
    expect(detectKind(xlsx)).toBe('xlsx');
    expect(detectKind(Buffer.from('%PDF-1.7\n'))).toBe('pdf');
    expect(detectKind(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0]))).toBe('png');
    expect(detectKind(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0]))).toBe('jpg');
    expect(detectKind(zip(['[Content_Types].xml', 'word/document.xml']))).toBe('docx');
    expect(detectKind(zip(['OFD.xml', 'Doc_0/Document.xml']))).toBe('ofd');
    expect(detectKind(ole2('WordDocument'))).toBe('doc');
    expect(detectKind(ole2('Workbook'))).toBe('xls');
    expect(detectKind(zip(['payload.exe']))).toBeUndefined();
    expect(detectKind(Buffer.from('<html><script>alert(1)</script>'))).toBeUndefined();
    expect(detectKind(Buffer.from('MZ\x90\x00'))).toBeUndefined();
  });

  test('a name that says another kind than the content, an empty or oversized file, are refused', () => {
    const limits = { maxFileBytes: 100 };
    expect(checkFile({ name: '报告.PDF', data: Buffer.from('%PDF-1.4 x') }, limits)).toMatchObject({
      kind: 'pdf',
      type: 'application/pdf',
      name: '报告.PDF',
    });
    expect(() => checkFile({ name: 'a.docx', data: zip(['[Content_Types].xml', 'xl/workbook.xml']) }, limits)).toThrow(
      EvidenceError,
    );
    expect(() => checkFile({ name: 'a.pdf', data: Buffer.alloc(0) }, limits)).toThrow(/空文件/);
    expect(() =>
      checkFile({ name: 'a.pdf', data: Buffer.concat([Buffer.from('%PDF-'), Buffer.alloc(100)]) }, limits),
    ).toThrow(/超过大小上限/);
    expect(checkFile({ name: '../../etc/passwd\u0000.pdf', data: Buffer.from('%PDF-1.4') }, limits).name).toBe(
      'passwd.pdf',
    );
  });
});

describe('escaping', () => {
  test('every interpolation is escaped unless it is markup made by html or safe', () => {
    const evil = '<script>alert(1)</script><img src=x onerror=alert(2)>"\'`&';
    expect(html`<p title="${evil}">${evil}</p>`.value).toBe(
      '<p title="&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;&quot;&#39;&#96;&amp;">&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;&quot;&#39;&#96;&amp;</p>',
    );
    expect(html`<ul>${['<a>', html`<li>${'<b>'}</li>`, null, undefined, false, 0]}</ul>`.value).toBe(
      '<ul>&lt;a&gt;<li>&lt;b&gt;</li>0</ul>',
    );
    expect(html`${safe('<br>')}`.value).toBe('<br>');
  });

  test("a tracker page shows times in the tracker's zone, the catalog's default when it has none", () => {
    const at = Date.UTC(2027, 0, 4, 0, 30); // 08:30 in Beijing, 01:30 in Berlin
    const view = {
      trackerId: 'o/u',
      notices: [],
      outcomes: [],
      files: [],
      actions: [],
      limits: { maxFileBytes: 1, maxFiles: 1 },
      events: [
        {
          event_key: 'k',
          tracker_id: 'o/u',
          obligation: 'o',
          unit: 'u',
          period: '2027',
          kind: 'submission' as const,
          at,
          actor: 'a',
          data: null,
          recorded_at: at,
        },
      ],
    };
    expect(trackerPage({}, view)).toContain('08:30:00');
    const berlin = trackerPage({ timeZone: 'Europe/Berlin' }, view);
    expect(berlin).toContain('01:30:00');
    expect(berlin).not.toContain('08:30:00');
  });

  test('CSV cells that a spreadsheet would run as a formula are neutralised', () => {
    expect(csvField('=HYPERLINK(1)')).toBe("'=HYPERLINK(1)");
    for (const s of ['+1', '-1+2', '@SUM(A1)', '\t=1']) expect(csvField(s).startsWith("'")).toBe(true);
    expect(csvField('\r=1')).toBe('"\'\r=1"');
    expect(csvField(-1)).toBe('-1');
    const csv = reportCsv({
      year: 2027,
      circular: '',
      units: [
        {
          rank: 1,
          unit: 'u',
          unitName: '=cmd|"/c calc"!A1',
          due: 1,
          onTime: 1,
          onTimeExtended: 0,
          late: 0,
          missed: 0,
          overdue: 0,
          waived: 0,
          onTimeRate: 1,
          lateItems: [],
          missedItems: [],
          overdueItems: [],
        },
      ],
    });
    expect(csv).toContain(`"'=cmd|""/c calc""!A1"`);
  });

  test('sign-in tokens never reach a log line', () => {
    expect(loggablePath(`/login/${'a'.repeat(43)}?x=1`)).toBe('/login/***');
    expect(loggablePath('/t/annual-report/sfj?done=submit')).toBe('/t/annual-report/sfj');
    expect(loggablePath('/a/v1.k1.eyJ0IjoiYSJ9.c2ln/acknowledge?x=1')).toBe('/a/***/acknowledge');
  });
});

describe('roles come from the directory', () => {
  const { directory } = loadInputs({
    catalog: path.join(fixtures, 'catalog.yaml'),
    directory: path.join(fixtures, 'directory.yaml'),
  });
  test('unit staff, office staff, leadership, administrators; anyone else is nobody', () => {
    const deputy = personFor('Finance.Deputy@test.example.org', directory, [])!;
    expect([...deputy.units]).toEqual(['finance']);
    expect(allowedActions(deputy, 'finance')).toEqual([
      'acknowledge',
      'progress',
      'submit',
      'record',
      'report',
      'requestExtension',
      'handBack',
    ]);
    expect(maySee(deputy, 'justice')).toBe(false);
    const office = personFor('office.head@test.example.org', directory, [])!;
    expect([...office.supervises].sort()).toEqual(['county-a', 'finance', 'justice']);
    expect(allowedActions(office, 'justice')).toEqual([
      'verify',
      'decideExtension',
      'waive',
      'urge',
      'transfer',
      'refuseHandBack',
    ]);
    const leader = personFor('leader1@test.example.org', directory, [])!;
    expect(maySee(leader, 'justice')).toBe(true);
    expect(allowedActions(leader, 'justice')).toEqual([]);
    const admin = personFor('root@test.example.org', directory, ['root@test.example.org'])!;
    expect(allowedActions(admin, 'justice')).toEqual(['pause', 'resume', 'retire']);
    expect(personFor('stranger@test.example.org', directory, [])).toBeUndefined();
  });

  test('the request records the signed-in person, name and address', () => {
    const p = personFor('finance.liaison@test.example.org', directory, [])!;
    const r = buildRequest('submit', { text: ' 已报送 ', period: '2027', link: '' }, [], p);
    expect(r).toEqual({
      action: 'submit',
      request: {
        by: '陈联络员',
        email: 'finance.liaison@test.example.org',
        period: '2027',
        evidence: { text: '已报送', link: undefined, documentNumber: undefined, files: undefined },
      },
    });
    expect(buildRequest('verify', {}, [], p)).toHaveProperty('problem');
  });
});

describe.each(['sqlite', 'postgres'] as const)(
  'sign-in, sessions, the 督办单 register and the embedded mailbox on %s',
  (dialect) => {
    let pg: TestPostgres | undefined;
    let sink: SmtpSink;
    let ledger: Ledger;
    let settings: Settings;
    let app: FastifyInstance;
    let embedded: FastifyInstance;
    let mailFolder: string;
    let appUrl: string;
    let embeddedUrl: string;

    /**
     * Over real HTTP: Fastify's inject needs light-my-request, which loads the ESM-only `cookie` package that
     * Jest cannot load on Node 20. The client address goes in X-Forwarded-For (the server trusts the proxy here).
     */
    async function call(
      base: string,
      o: { method?: string; url: string; headers?: Record<string, string>; payload?: string; client?: string },
    ) {
      const r = await fetch(base + o.url, {
        method: o.method ?? 'GET',
        headers: { ...o.headers, ...(o.client ? { 'x-forwarded-for': o.client } : {}) },
        body: o.payload,
        redirect: 'manual',
      });
      return {
        statusCode: r.status,
        headers: { 'set-cookie': r.headers.getSetCookie().join(', '), location: r.headers.get('location') },
        body: await r.text(),
      };
    }

    // Removed in afterAll, also when a test failed.
    let dir: string | undefined;
    beforeAll(async () => {
      sink = await startSmtpSink();
      dir = mkdtempSync(path.join(tmpdir(), 'duban-web-unit-'));
      settings = loadSettings({
        DUBAN_DATA_DIR: dir,
        SMTP_URL: sink.url,
        DUBAN_WEB_PORT: '0',
        DUBAN_WEB_SESSION_IDLE_MINUTES: '30',
        DUBAN_WEB_TRUST_PROXY: 'true',
      });
      if (dialect === 'postgres') pg = await startTestPostgres();
      ledger = await Ledger.open(pg ? { databaseUrl: pg.url } : { sqliteFile: path.join(dir, 'ledger.sqlite') });
      const inputs = loadInputs({
        catalog: path.join(fixtures, 'catalog.yaml'),
        directory: path.join(fixtures, 'directory.yaml'),
      });
      await ledger.saveDirectorySnapshot({ directory: inputs.directory, catalog: inputs.catalog, by: 'test' });
      // No Temporal here: these pages never reach a tracker.
      const duban = {} as Duban;
      app = await buildWebServer({ settings, duban, ledger, log: () => undefined });
      mailFolder = path.join(dir, 'mail');
      mkdirSync(mailFolder);
      embedded = await buildWebServer({ settings, duban, ledger, log: () => undefined, mailFolder });
      appUrl = await app.listen({ host: '127.0.0.1', port: 0 });
      embeddedUrl = await embedded.listen({ host: '127.0.0.1', port: 0 });
    });
    afterAll(async () => {
      await app?.close();
      await embedded?.close();
      await ledger?.close();
      await sink?.close();
      await pg?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    const csrfCookie = async () => {
      const r = await call(appUrl, { method: 'GET', url: '/login' });
      const cookie = String(r.headers['set-cookie']).split(';')[0]!;
      const csrf = /name="_csrf" value="([^"]+)"/.exec(r.body)![1]!;
      return { cookie, csrf };
    };
    const askLink = async (email: string, client = '127.0.0.1') => {
      const { cookie, csrf } = await csrfCookie();
      return call(appUrl, {
        method: 'POST',
        url: '/login',
        client,
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ _csrf: csrf, email }).toString(),
      });
    };
    const linkIn = async (email: string, since: number) => {
      let m = sink.messages.slice(since).find((x) => x.envelopeTo.includes(email));
      for (let i = 0; i < 200 && !m; i++) {
        await new Promise((r) => setTimeout(r, 25));
        m = sink.messages.slice(since).find((x) => x.envelopeTo.includes(email));
      }
      if (!m) throw new Error(`no sign-in link for ${email}`);
      return /\/login\/([A-Za-z0-9_-]{43})/.exec(m.parsed.text ?? '')![1]!;
    };
    const signIn = async (email: string) => {
      const since = sink.messages.length;
      expect((await askLink(email, '10.0.0.9')).statusCode).toBe(200);
      const token = await linkIn(email, since);
      const { cookie, csrf } = await csrfCookie();
      const r = await call(appUrl, {
        method: 'POST',
        url: '/login/confirm',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ _csrf: csrf, token }).toString(),
      });
      expect(r.statusCode).toBe(303);
      const setCookie = String(r.headers['set-cookie']);
      expect(setCookie).toMatch(/HttpOnly/);
      expect(setCookie).toMatch(/SameSite=Lax/);
      return { session: setCookie.split(';')[0]!, token };
    };

    test('/readyz names what is not reachable: here no Temporal (the ledger and SMTP are), so 503', async () => {
      const r = await call(appUrl, { url: '/readyz' });
      expect(r.statusCode).toBe(503);
      const body = JSON.parse(r.body);
      expect(body).toMatchObject({
        ready: false,
        checks: { temporal: { ok: false }, database: { ok: true }, smtp: { ok: true } },
      });
      expect((await call(appUrl, { url: '/healthz' })).statusCode).toBe(200);
    });

    test('a sign-in request without its CSRF token is refused', async () => {
      const r = await call(appUrl, {
        method: 'POST',
        url: '/login',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'email=leader1%40test.example.org',
      });
      expect(r.statusCode).toBe(403);
    });

    test('requests are limited per address, known or not, with the same answer', async () => {
      const answers: number[][] = [[], []];
      for (let i = 0; i < 7; i++) {
        answers[0]!.push((await askLink('county-a.head@test.example.org', `10.1.0.${i}`)).statusCode);
        answers[1]!.push((await askLink('no-such-person@test.example.org', `10.2.0.${i}`)).statusCode);
      }
      expect(answers[0]).toEqual([200, 200, 200, 200, 200, 429, 429]);
      expect(answers[1]).toEqual(answers[0]);
    });

    test('requests are limited per client', async () => {
      const codes: number[] = [];
      for (let i = 0; i < 32; i++)
        codes.push((await askLink(`person${i}@elsewhere.example.org`, '10.3.0.1')).statusCode);
      expect(codes.slice(0, 30).every((c) => c === 200)).toBe(true);
      expect(codes.slice(30)).toEqual([429, 429]);
    });

    test("a worker's open SMTP alert is shown above the board, in Chinese, until it is cleared", async () => {
      const { session } = await signIn('justice.liaison@test.example.org');
      const since = Date.UTC(2027, 2, 1, 1, 0);
      await ledger.raiseAlert('smtp', 'SMTP 已有30分钟未接收任何邮件', since, since + 1_800_000);
      const board = await call(appUrl, { method: 'GET', url: '/', headers: { cookie: session } });
      expect(board.body).toMatch(
        /<p class="error" role="alert" data-alert="smtp">系统告警（自<span class="when">2027\/3\/1 09:00:00<\/span>起）：邮件系统未能发送通知/,
      );
      await ledger.clearAlert('smtp', since + 3_600_000);
      const after = await call(appUrl, { method: 'GET', url: '/', headers: { cookie: session } });
      expect(after.body).not.toContain('data-alert=');
    });

    test('a link signs in once; the session ends at logout and after the idle timeout', async () => {
      const { session, token } = await signIn('justice.liaison@test.example.org');
      const board = await call(appUrl, { method: 'GET', url: '/', headers: { cookie: session } });
      expect(board.statusCode).toBe(200);
      expect(board.body).toContain('王联络员');
      // Used once: no second session from the same link.
      const { cookie, csrf } = await csrfCookie();
      const again = await call(appUrl, {
        method: 'POST',
        url: '/login/confirm',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ _csrf: csrf, token }).toString(),
      });
      expect(again.statusCode).toBe(400);
      // Logout revokes the session in the ledger: the cookie is worth nothing after.
      const logoutCsrf = /name="_csrf" value="([^"]+)"/.exec(board.body)![1]!;
      const out = await call(appUrl, {
        method: 'POST',
        url: '/logout',
        headers: { cookie: session, 'content-type': 'application/x-www-form-urlencoded' },
        payload: `_csrf=${logoutCsrf}`,
      });
      expect(out.statusCode).toBe(303);
      expect((await call(appUrl, { method: 'GET', url: '/', headers: { cookie: session } })).statusCode).toBe(303);

      const second = await signIn('justice.liaison@test.example.org');
      expect((await call(appUrl, { method: 'GET', url: '/', headers: { cookie: second.session } })).statusCode).toBe(
        200,
      );
      await ledger.db.run('UPDATE web_sessions SET last_seen_at = ? WHERE revoked_at IS NULL', [
        Date.now() - 31 * 60_000,
      ]);
      const idle = await call(appUrl, { method: 'GET', url: '/', headers: { cookie: second.session } });
      expect(idle.statusCode).toBe(303);
      expect(idle.headers.location).toBe('/login');
    });

    test('the database holds only hashes of links and sessions', async () => {
      const { session, token } = await signIn('finance.head@test.example.org');
      const dump = JSON.stringify([
        await ledger.db.all('SELECT * FROM web_sessions'),
        await ledger.db.all('SELECT * FROM web_sign_in_links'),
      ]);
      expect(dump).not.toContain(token);
      expect(dump).not.toContain(session.split('=')[1]);
    });

    test("the 督办单 register: an office sees its own, a unit's staff see none, leadership see all", async () => {
      const claim = {
        sendKey: 'half-year-report/justice/2026-H2/2027-01-15/e2.0',
        trackerId: 'half-year-report/justice',
        obligation: 'half-year-report',
        unit: 'justice',
        period: '2026-H2',
        stage: 'escalation' as const,
        level: 2,
        step: 0,
        plannedAt: Date.now(),
        firedAt: Date.now(),
        due: '2027-01-15',
        messageId: '<x@duban>',
        to: ['justice.head@test.example.org'],
        cc: [],
      };
      await ledger.beginNotice(claim);
      expect((await ledger.supervisionNumber(claim.sendKey, 'office', 2027)).number).toBe(1);
      const office = await signIn('office.head@test.example.org');
      const page = await call(appUrl, { url: '/supervision?year=2027', headers: { cookie: office.session } });
      expect(page.body).toContain('督〔2027〕1号');
      expect(page.body).toContain('市司法局');
      expect(page.body).toContain('部门半年依法行政情况报告');
      const unit = await signIn('county-a.liaison@test.example.org');
      expect((await call(appUrl, { url: '/supervision', headers: { cookie: unit.session } })).body).not.toContain(
        '督〔2027〕1号',
      );
      const leader = await signIn('leader2@test.example.org');
      expect((await call(appUrl, { url: '/supervision', headers: { cookie: leader.session } })).body).toContain(
        '督〔2027〕1号',
      );
    });

    test('without a link key, an action link is refused with a clear page; the form nonces are claimed once', async () => {
      const token = signLink(
        {
          trackerId: 'annual-report/county-a',
          period: '2026',
          email: 'county-a.liaison@test.example.org',
          name: '蒋联络员',
          actions: ['view', 'acknowledge'],
          expiresAt: Date.now() + 60_000,
        },
        parseLinkKeys(`k1:${'a'.repeat(44)}`),
      );
      const r = await call(appUrl, { url: `/a/${token}/acknowledge` });
      expect(r.statusCode).toBe(404);
      expect(r.body).toContain('本系统未启用邮件办理链接');
      expect(r.body).toContain('未作任何更改');
      const row = {
        nonce: 'n'.repeat(43),
        trackerId: 'annual-report/county-a',
        period: '2026',
        action: 'acknowledge',
        email: 'county-a.liaison@test.example.org',
        createdAt: Date.now(),
      };
      expect(await ledger.web.claimLinkSubmission(row)).toBe(true);
      expect(await ledger.web.claimLinkSubmission(row)).toBe(false);
      await ledger.web.releaseLinkSubmission(row.nonce);
      expect(await ledger.web.claimLinkSubmission(row)).toBe(true);
      await ledger.web.finishLinkSubmission(row.nonce, '{"ok":1}');
      // A finished submit keeps its nonce: a release after it changes nothing.
      await ledger.web.releaseLinkSubmission(row.nonce);
      expect(await ledger.web.linkSubmission(row.nonce)).toMatchObject({
        trackerId: row.trackerId,
        result: '{"ok":1}',
      });
    });

    test('the mail catcher is readable in the embedded mode only, with sign-in links clickable', async () => {
      writeFileSync(
        path.join(mailFolder, '2026-01-01T00-00-00-000Z-abc.eml'),
        'From: duban@x\r\nTo: a@x\r\nSubject: =?UTF-8?B?55m75b2V6ZO+5o6l?=\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=E8=AF=B7=E6=89=93=E5=BC=80 http://127.0.0.1:8080/login/abc <script>x</script>\r\n',
      );
      expect((await call(appUrl, { method: 'GET', url: '/mail' })).statusCode).toBe(404);
      const list = await call(embeddedUrl, { method: 'GET', url: '/mail' });
      expect(list.body).toContain('登录链接');
      const one = await call(embeddedUrl, { method: 'GET', url: '/mail/2026-01-01T00-00-00-000Z-abc.eml' });
      expect(one.body).toContain('<a href="http://127.0.0.1:8080/login/abc">');
      expect(one.body).toContain('请打开');
      expect(one.body).toContain('&lt;script&gt;');
      expect((await call(embeddedUrl, { method: 'GET', url: '/mail/..%2Fledger.sqlite' })).statusCode).toBe(404);
    });
  },
);
