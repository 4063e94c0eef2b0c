/**
 * `duban web`: the browser service (docs/web.md). Fastify, server-rendered pages, no JavaScript in the browser.
 *
 * Stateless: sessions, sign-in links and rate-limit counters live in the ledger database, so several instances
 * behind a reverse proxy share the load. Every change goes to the tracker as its Update through the one client
 * module (access/temporal.ts); the tracker's own refusal message is shown on the page.
 */
import formbody from '@fastify/formbody';
import multipart from '@fastify/multipart';
import Fastify, { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import * as path from 'node:path';
import type { Transporter } from 'nodemailer';
import { createSmtpTransport } from '../activities/email';
import { LINK_ACTIONS, LinkAction, LinkClaims, verifyLink } from '../activities/links';
import type { Ledger } from '../ledger';
import { reportCsv, reportWorkbook, yearReport } from '../access/report';
import { Duban, RefusedError, UnknownTrackerError } from '../access/temporal';
import { Settings, SettingsError, linkSettings, parseMailbox, readSettingFile, webBaseUrl } from '../config/settings';
import { DEFAULT_TIME_ZONE, ID_PATTERN } from '../domain/model';
import { RATINGS } from '../domain/tracking';
import { localYear } from '../domain/zone';
import { timeZoneOf } from '../domain/trackers';
import type { Requests } from '../workflows/messages';
import * as data from './data';
import { CheckedFile, EvidenceError, checkFile, formatSize, removeStoredFile, storeFile, storedPath } from './evidence';

import { listMail, readMail } from './mailbox';
import { readCookie, setCookie } from './cookies';
import { html } from './html';
import * as pages from './pages';
import { ALL_ACTIONS, Person, WebAction, allowedActions, maySee, officesOf, personFor } from './roles';

export interface WebOptions {
  settings: Settings;
  duban: Duban;
  ledger: Ledger;
  /** The embedded mode of `npm start`: the mail catcher's folder, readable in the browser. Never in production. */
  mailFolder?: string;
  /** Structured log lines (JSON); default: standard error. */
  log?: (entry: Record<string, unknown>) => void;
  /** The SMTP transport for sign-in links (default: from the settings). */
  transport?: Transporter;
}

const SESSION_COOKIE = 'duban_session';
const CSRF_COOKIE = 'duban_csrf';
const SIGN_IN_WINDOW_MS = 15 * 60_000;
const SIGN_IN_PER_ADDRESS = 5;
const SIGN_IN_PER_CLIENT = 30;
const BOARD_ITEMS = 300;
const COLOUR_ORDER: Record<string, number> = { broken: -1, red: 0, yellow: 1, green: 2, done: 3, waived: 4 };

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const token = () => randomBytes(32).toString('base64url');
const sameSecret = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
};

interface Signed {
  person: Person;
  sessionHash: string;
  csrf: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    signed?: Signed;
    /** The CSRF cookie set by this very response, before the browser has it. */
    anonymousCsrf?: string;
  }
}

/** The address people open: the setting, or the listening address. */
export function baseUrlOf(s: Settings, port?: number): string {
  return webBaseUrl(s, port);
}

/** Paths as they may be logged: sign-in tokens replaced, no query strings. */
export function loggablePath(url: string): string {
  return url
    .split('?')[0]!
    .replace(/^\/login\/[^/]+/, '/login/***')
    .replace(/^\/a\/[^/]+/, '/a/***');
}

export async function buildWebServer(o: WebOptions): Promise<FastifyInstance> {
  const { settings, duban, ledger } = o;
  const web = settings.web;
  const log = o.log ?? ((e) => process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), ...e })}\n`));
  const tls =
    web.tlsCertFile || web.tlsKeyFile
      ? {
          cert: readSettingFile('DUBAN_WEB_TLS_CERT_FILE', web.tlsCertFile),
          key: readSettingFile('DUBAN_WEB_TLS_KEY_FILE', web.tlsKeyFile),
        }
      : undefined;
  if (tls && (!tls.cert || !tls.key))
    throw new SettingsError('DUBAN_WEB_TLS_CERT_FILE and DUBAN_WEB_TLS_KEY_FILE go together');
  const secure = !!tls || (web.baseUrl ?? '').startsWith('https:');
  if (!settings.smtp && !o.transport)
    throw new SettingsError('SMTP_URL (smtp.url in the config file) is required: sign-in links are sent by email');
  const transport = o.transport ?? createSmtpTransport(settings.smtp!);
  const ownTransport = !o.transport;
  const from = parseMailbox(settings.smtp?.from ?? '督办系统 <duban@localhost.localdomain>');
  const idleMs = web.sessionIdleMinutes * 60_000;
  const evidenceDir = web.evidenceDir ?? path.join(settings.dataDir, 'evidence');

  const app = Fastify({
    logger: false,
    bodyLimit: 256 * 1024,
    // Action-link tokens (a signed payload) are longer than Fastify's default limit of 100 characters per path part.
    routerOptions: { maxParamLength: 2048 },
    trustProxy: web.trustProxy,
    ...(tls ? { https: { cert: tls.cert!, key: tls.key! } } : {}),
  } as Parameters<typeof Fastify>[0]) as unknown as FastifyInstance;
  app.addHook('onClose', async () => {
    if (ownTransport) transport.close();
  });
  await app.register(formbody);
  await app.register(multipart, {
    limits: {
      fileSize: web.maxFileBytes,
      files: web.maxFiles,
      fields: 30,
      fieldSize: 16 * 1024,
      parts: web.maxFiles + 30,
    },
  });

  const started = new WeakMap<FastifyRequest, number>();
  app.addHook('onRequest', async (req) => void started.set(req, performance.now()));
  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header(
      'Content-Security-Policy',
      "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    reply.header('X-Content-Type-Options', 'nosniff');
    reply.header('X-Frame-Options', 'DENY');
    // Sign-in links carry their token in the path: never send it on as a Referer.
    reply.header('Referrer-Policy', 'no-referrer');
    if (!reply.hasHeader('Cache-Control')) reply.header('Cache-Control', 'no-store');
    if (secure) reply.header('Strict-Transport-Security', 'max-age=31536000');
    return payload;
  });
  app.addHook('onResponse', async (req, reply) => {
    const t = started.get(req);
    log({
      level: 'info',
      msg: 'request',
      method: req.method,
      path: loggablePath(req.url),
      status: reply.statusCode,
      ms: t === undefined ? undefined : Math.round(performance.now() - t),
      who: req.signed?.person.email,
    });
  });
  app.setErrorHandler(async (err: Error & { statusCode?: number; code?: string }, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500)
      log({
        level: 'error',
        msg: 'request failed',
        method: req.method,
        path: loggablePath(req.url),
        error: err.message,
      });
    const message =
      status === 413
        ? `上传的文件超过限制（每个不超过 ${formatSize(web.maxFileBytes)}，最多 ${web.maxFiles} 个），未作任何更改。`
        : status === 500
          ? '服务器出错，未完成操作。请稍后再试。'
          : '请求无效，未作任何更改。';
    return page(
      reply.code(status),
      ctxOf(req),
      pages.messagePage(ctxOf(req), status === 500 ? '出错了' : '未办理', message),
    );
  });
  app.setNotFoundHandler(async (req, reply) =>
    page(reply.code(404), ctxOf(req), pages.messagePage(ctxOf(req), '找不到页面', '没有这个页面。')),
  );

  const ctxOf = (req: FastifyRequest): pages.PageContext => ({
    person: req.signed?.person,
    csrf: req.signed?.csrf ?? req.anonymousCsrf ?? readCookie(req, CSRF_COOKIE),
    mailbox: !!o.mailFolder,
  });
  const page = (reply: FastifyReply, _ctx: pages.PageContext, body: string) =>
    reply.type('text/html; charset=utf-8').send(body);

  /** An anonymous CSRF cookie for the sign-in forms (double submit): set once, echoed in the form. */
  const anonymousCsrf = (req: FastifyRequest, reply: FastifyReply): string => {
    const existing = readCookie(req, CSRF_COOKIE);
    if (existing && existing.length === 43) return existing;
    const fresh = token();
    setCookie(reply, CSRF_COOKIE, fresh, { secure });
    req.anonymousCsrf = fresh;
    return fresh;
  };

  /** Reads the session cookie; resolves the person from the directory as registered. */
  app.addHook('preHandler', async (req) => {
    const raw = readCookie(req, SESSION_COOKIE);
    if (!raw) return;
    const sessionHash = sha256(raw);
    const now = Date.now();
    const session = await data.findSession(ledger, sessionHash, now, idleMs);
    if (!session) return;
    const snapshot = await data.latestSnapshot(ledger);
    const person = personFor(session.email, snapshot?.directory, web.admins);
    // Someone removed from the directory loses access at once, whatever their session says.
    if (!person) return;
    if (now - session.lastSeenAt > 60_000) await data.touchSession(ledger, sessionHash, now);
    req.signed = { person, sessionHash, csrf: session.csrf };
  });

  const requireSignedIn = (req: FastifyRequest, reply: FastifyReply): Signed | undefined => {
    if (req.signed) return req.signed;
    if (req.method === 'GET') void reply.redirect('/login', 303);
    else
      void page(
        reply.code(403),
        ctxOf(req),
        pages.messagePage(ctxOf(req), '请先登录', '登录已失效，请重新登录。未作任何更改。'),
      );
    return undefined;
  };
  const forbidden = (req: FastifyRequest, reply: FastifyReply, message = '您无权查看或办理该事项。') =>
    page(reply.code(403), ctxOf(req), pages.messagePage(ctxOf(req), '无权访问', message));
  const csrfRefused = (req: FastifyRequest, reply: FastifyReply) =>
    page(
      reply.code(403),
      ctxOf(req),
      pages.messagePage(
        ctxOf(req),
        '表单已失效',
        '表单缺少有效的安全校验码（可能已过期或来自其他网站），未作任何更改。请返回页面刷新后重新提交。',
      ),
    );

  app.get('/static/duban.css', async (_req, reply) =>
    reply.type('text/css; charset=utf-8').header('Cache-Control', 'public, max-age=3600').send(pages.STYLESHEET),
  );
  app.get('/healthz', async (_req, reply) => reply.type('text/plain').send('ok'));

  // Ready when what a request needs answers: Temporal (actions), the ledger (every page) and SMTP (sign-in links).
  // SMTP is asked at most every 30 seconds, so a load balancer's probes do not open a connection each.
  let smtpChecked: { at: number; check: { ok: boolean; error?: string } } | undefined;
  const within = <T>(p: Promise<T>, ms: number, what: string) =>
    Promise.race([
      p,
      new Promise<T>((_, reject) =>
        setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms).unref(),
      ),
    ]);
  const check = async (fn: () => Promise<unknown>) => {
    try {
      await fn();
      return { ok: true };
    } catch (err) {
      return {
        ok: false,
        error: String((err as Error)?.message ?? err)
          .replace(/\b([a-z][a-z0-9+.-]*:\/\/[^:/?#\s@]*):[^@/\s]*@/gi, '$1:***@')
          .slice(0, 300),
      };
    }
  };
  app.get('/readyz', async (_req, reply) => {
    const now = Date.now();
    const [temporal, database] = await Promise.all([
      check(() => within(duban.client.workflowService.getSystemInfo({}), 5_000, 'Temporal')),
      check(() => within(ledger.db.all('SELECT 1'), 5_000, 'the ledger')),
    ]);
    if (!smtpChecked || now - smtpChecked.at > 30_000 || !smtpChecked.check.ok)
      smtpChecked = { at: now, check: await check(() => within(transport.verify(), 5_000, 'SMTP')) };
    const checks = { temporal, database, smtp: smtpChecked.check };
    const ready = temporal.ok && database.ok && smtpChecked.check.ok;
    return reply.code(ready ? 200 : 503).send({ ready, checks });
  });

  // -------------------------------------------------------------------------------------------------------------
  // Sign-in by emailed link.

  app.get('/login', async (req, reply) => {
    anonymousCsrf(req, reply);
    return page(reply, ctxOf(req), pages.signInPage(ctxOf(req)));
  });

  app.post('/login', async (req, reply) => {
    const body = (req.body ?? {}) as Record<string, string>;
    const csrf = readCookie(req, CSRF_COOKIE);
    if (!csrf || !sameSecret(String(body._csrf ?? ''), csrf)) return csrfRefused(req, reply);
    const email = String(body.email ?? '')
      .trim()
      .toLowerCase();
    if (!/^[^\s@<>]+@[^\s@<>]+$/.test(email) || email.length > 254) {
      return page(reply.code(400), ctxOf(req), pages.signInPage(ctxOf(req), '请输入有效的电子邮箱地址。'));
    }
    const now = Date.now();
    // Counted for every address, known or not, so the limit itself tells nothing about who exists.
    const perAddress = await data.hitRateLimit(ledger, `sign-in/address/${email}`, SIGN_IN_WINDOW_MS, now);
    const perClient = await data.hitRateLimit(ledger, `sign-in/client/${req.ip}`, SIGN_IN_WINDOW_MS, now);
    if (perAddress > SIGN_IN_PER_ADDRESS || perClient > SIGN_IN_PER_CLIENT) {
      log({ level: 'warn', msg: 'sign-in rate limited', client: req.ip });
      return page(
        reply.code(429),
        ctxOf(req),
        pages.messagePage(ctxOf(req), '请求过于频繁', '登录链接的请求过于频繁，请15分钟后再试。'),
      );
    }
    const snapshot = await data.latestSnapshot(ledger);
    const person = personFor(email, snapshot?.directory, web.admins);
    if (person) {
      const secret = token();
      await data.saveSignInLink(ledger, {
        tokenHash: sha256(secret),
        email: person.email,
        createdAt: now,
        expiresAt: now + web.signInLinkMinutes * 60_000,
      });
      const link = `${baseUrlOf(settings, (app.server.address() as { port?: number } | null)?.port)}/login/${secret}`;
      // Not awaited: the answer takes as long for an unknown address as for a known one.
      transport
        .sendMail({
          from: { name: from.name, address: from.address },
          to: { name: person.name, address: person.email },
          subject: '法治政府建设督办系统登录链接',
          text: [
            `${person.name}，您好：`,
            '',
            `请在${web.signInLinkMinutes}分钟内打开下面的链接登录法治政府建设督办系统（链接只能使用一次）：`,
            '',
            link,
            '',
            '如果这不是您本人的操作，请忽略本邮件，您的账户不会有任何变化。',
            '',
            '（本邮件由系统自动发送，请勿回复。）',
          ].join('\n'),
        })
        .then(
          () => log({ level: 'info', msg: 'sign-in link sent', to: person.email }),
          (err: Error) => log({ level: 'error', msg: 'sign-in link not sent', to: person.email, error: err.message }),
        );
    }
    return page(reply, ctxOf(req), pages.signInSentPage(ctxOf(req), web.signInLinkMinutes));
  });

  // Opening the link changes nothing (mail scanners open every link): the page asks to confirm with a POST.
  app.get('/login/:token', async (req, reply) => {
    const secret = (req.params as { token: string }).token;
    anonymousCsrf(req, reply);
    const email = /^[A-Za-z0-9_-]{43}$/.test(secret)
      ? await data.peekSignInLink(ledger, sha256(secret), Date.now())
      : undefined;
    if (!email) return page(reply.code(400), ctxOf(req), invalidLink(req));
    return page(reply, ctxOf(req), pages.signInConfirmPage(ctxOf(req), secret));
  });

  const invalidLink = (req: FastifyRequest) =>
    pages.messagePage(
      ctxOf(req),
      '链接无效',
      '该登录链接无效、已使用或已过期。请重新申请登录链接。',
      html`<p><a href="/login">重新申请登录链接</a></p>`,
    );

  app.post('/login/confirm', async (req, reply) => {
    const body = (req.body ?? {}) as Record<string, string>;
    const csrf = readCookie(req, CSRF_COOKIE);
    if (!csrf || !sameSecret(String(body._csrf ?? ''), csrf)) return csrfRefused(req, reply);
    const secret = String(body.token ?? '');
    const now = Date.now();
    const email = /^[A-Za-z0-9_-]{43}$/.test(secret)
      ? await data.consumeSignInLink(ledger, sha256(secret), now)
      : undefined;
    if (!email) return page(reply.code(400), ctxOf(req), invalidLink(req));
    const sessionSecret = token();
    await data.createSession(ledger, { sessionHash: sha256(sessionSecret), email, csrf: token(), now });
    log({ level: 'info', msg: 'signed in', who: email });
    setCookie(reply, SESSION_COOKIE, sessionSecret, { secure });
    return reply.redirect('/', 303);
  });

  app.post('/logout', async (req, reply) => {
    const s = requireSignedIn(req, reply);
    if (!s) return reply;
    const body = (req.body ?? {}) as Record<string, string>;
    if (!sameSecret(String(body._csrf ?? ''), s.csrf)) return csrfRefused(req, reply);
    await data.revokeSession(ledger, s.sessionHash, Date.now());
    setCookie(reply, SESSION_COOKIE, '', { secure, maxAge: 0 });
    return reply.redirect('/login', 303);
  });

  // -------------------------------------------------------------------------------------------------------------
  // The board.

  app.get('/', async (req, reply) => {
    const s = requireSignedIn(req, reply);
    if (!s) return reply;
    const q = req.query as Record<string, string | undefined>;
    const filter = {
      unit: q.unit || undefined,
      obligation: q.obligation || undefined,
      colour: q.colour && q.colour in COLOUR_ORDER ? q.colour : undefined,
    };
    const snapshot = await data.latestSnapshot(ledger);
    const unitNames = new Map((snapshot?.directory.units ?? []).map((u) => [u.id, u.name]));
    const titles = new Map((snapshot?.catalog.obligations ?? []).map((o) => [o.id, o.title]));
    const states = (await data.boardStates(ledger, { obligation: filter.obligation, colour: filter.colour })).filter(
      (t) => maySee(s.person, t.unit) && (!filter.unit || t.unit === filter.unit),
    );
    const counts = new Map<string, { red: number; yellow: number; green: number; done: number; waived: number }>();
    for (const t of states) {
      const c = counts.get(t.unit) ?? { red: 0, yellow: 0, green: 0, done: 0, waived: 0 };
      if (t.colour in c) c[t.colour as keyof typeof c]++;
      counts.set(t.unit, c);
    }
    const units = [...counts.entries()]
      .map(([unit, c]) => ({ unit, name: unitNames.get(unit) ?? unit, ...c }))
      .sort((a, b) => b.red - a.red || b.yellow - a.yellow || b.green - a.green || (a.unit < b.unit ? -1 : 1));
    states.sort(
      (a, b) =>
        (COLOUR_ORDER[a.colour] ?? 9) - (COLOUR_ORDER[b.colour] ?? 9) ||
        a.dueAt - b.dueAt ||
        (a.trackerId < b.trackerId ? -1 : 1),
    );
    const visibleUnits = (snapshot?.directory.units ?? []).filter((u) => maySee(s.person, u.id));
    return page(
      reply,
      ctxOf(req),
      pages.boardPage(ctxOf(req), {
        units,
        items: states.slice(0, BOARD_ITEMS).map((t) => ({
          ...t,
          obligationTitle: titles.get(t.obligation) ?? t.obligation,
          unitName: unitNames.get(t.unit) ?? t.unit,
        })),
        total: states.length,
        filter,
        unitChoices: visibleUnits.map((u) => ({ id: u.id, name: u.name })),
        obligationChoices: (snapshot?.catalog.obligations ?? []).map((o) => ({ id: o.id, title: o.title })),
        shownLimit: BOARD_ITEMS,
      }),
    );
  });

  // -------------------------------------------------------------------------------------------------------------
  // A tracker: its page, its actions, its files.

  const trackerParams = (req: FastifyRequest) => {
    const p = req.params as { obligation: string; unit: string };
    if (!ID_PATTERN.test(p.obligation) || !ID_PATTERN.test(p.unit)) return undefined;
    return { trackerId: `${p.obligation}/${p.unit}`, obligation: p.obligation, unit: p.unit };
  };

  const renderTracker = async (
    req: FastifyRequest,
    reply: FastifyReply,
    s: Signed,
    t: { trackerId: string; obligation: string; unit: string },
    extra: { error?: string; done?: string; status?: number } = {},
  ) => {
    const [snapshot, state, record, status] = await Promise.all([
      data.latestSnapshot(ledger),
      data.trackerState(ledger, t.trackerId),
      data.trackerRecord(ledger, t.trackerId),
      data.liveStatus(duban, t.trackerId),
    ]);
    if (!state && !status && record.notices.length + record.events.length + record.outcomes.length === 0) {
      return page(
        reply.code(404),
        ctxOf(req),
        pages.messagePage(ctxOf(req), '找不到跟踪项', `没有跟踪项 ${t.trackerId}。`),
      );
    }
    const running = !!status && !status.retired;
    return page(
      reply.code(extra.status ?? 200),
      ctxOf(req),
      pages.trackerPage(
        { ...ctxOf(req), timeZone: snapshot ? timeZoneOf(snapshot.catalog, t.obligation) : undefined },
        {
          trackerId: t.trackerId,
          obligation: snapshot?.catalog.obligations.find((o) => o.id === t.obligation),
          unit: snapshot?.directory.units.find((u) => u.id === t.unit),
          state,
          status,
          ...record,
          actions: running ? allowedActions(s.person, t.unit) : [],
          error: extra.error,
          done: extra.done,
          limits: { maxFileBytes: web.maxFileBytes, maxFiles: web.maxFiles },
        },
      ),
    );
  };

  app.get('/t/:obligation/:unit', async (req, reply) => {
    const s = requireSignedIn(req, reply);
    if (!s) return reply;
    const t = trackerParams(req);
    if (!t) return reply.callNotFound();
    if (!maySee(s.person, t.unit)) return forbidden(req, reply);
    const done = (req.query as Record<string, string | undefined>).done;
    return renderTracker(req, reply, s, t, {
      done:
        done && (done in pages.ACTION_LABEL || done === 'return')
          ? `已${done === 'return' ? '退回重办' : pages.ACTION_LABEL[done as WebAction]}，已记录办理人 ${s.person.name}（${s.person.email}）。`
          : undefined,
    });
  });

  app.get('/t/:obligation/:unit/files/:sha256', async (req, reply) => {
    const s = requireSignedIn(req, reply);
    if (!s) return reply;
    const t = trackerParams(req);
    const sha = (req.params as { sha256: string }).sha256;
    if (!t || !/^[0-9a-f]{64}$/.test(sha)) return reply.callNotFound();
    if (!maySee(s.person, t.unit)) return forbidden(req, reply);
    const file = await data.evidenceFile(ledger, t.trackerId, sha);
    const where = file && storedPath(evidenceDir, sha);
    if (!file || !where || !existsSync(where)) return reply.callNotFound();
    const ascii = file.name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
    return reply
      .type(file.type)
      .header(
        'Content-Disposition',
        `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(file.name)}`,
      )
      .header('Cache-Control', 'private, no-store')
      .send(createReadStream(where));
  });

  /** A form's fields and files: urlencoded, or multipart (files kept in memory until every check has passed). */
  const readForm = async (req: FastifyRequest) => {
    const fields: Record<string, string> = {};
    const uploads: { name: string; data: Buffer }[] = [];
    if (req.isMultipart()) {
      for await (const part of req.parts()) {
        if (part.type === 'file') {
          const buffer = await part.toBuffer();
          // An empty file input still sends a part with no name and no bytes.
          if (part.filename || buffer.length) uploads.push({ name: part.filename, data: buffer });
        } else {
          fields[part.fieldname] = String(part.value ?? '');
        }
      }
    } else {
      for (const [k, v] of Object.entries((req.body ?? {}) as Record<string, unknown>))
        fields[k] = String(Array.isArray(v) ? v[0] : (v ?? ''));
    }
    return { fields, uploads };
  };

  /**
   * One action by one person on one tracker, once the caller has checked who the person is, that they may take
   * it, and the CSRF token: files checked, stored by hash, the Update sent through the client module, the files
   * recorded. The signed action links of the emails (issue 10) call this with the link's recipient.
   */
  const performAction = async (
    person: Person,
    trackerId: string,
    action: WebAction,
    form: { fields: Record<string, string>; uploads: { name: string; data: Buffer }[] },
  ): Promise<{ ok: true } | { error: string }> => {
    let files: CheckedFile[];
    try {
      if (form.uploads.length && action !== 'submit' && action !== 'progress')
        throw new EvidenceError('该事项不接受附件');
      if (form.uploads.length > web.maxFiles) throw new EvidenceError(`附件最多 ${web.maxFiles} 个`);
      files = form.uploads.map((u) => checkFile(u, { maxFileBytes: web.maxFileBytes }));
    } catch (err) {
      if (!(err instanceof EvidenceError)) throw err;
      return { error: `${err.message}，未作任何更改。` };
    }
    const request = buildRequest(action, form.fields, files, person);
    if ('problem' in request) return { error: request.problem };
    // Files are stored before the tracker hears of them, so a recorded hash always has its file; a refusal
    // removes the ones this request brought.
    const added = files.filter((f) => storeFile(evidenceDir, f));
    try {
      await duban.act(trackerId, request.action, request.request);
    } catch (err) {
      for (const f of added)
        if (!(await data.evidenceReferenced(ledger, f.sha256))) removeStoredFile(evidenceDir, f.sha256);
      if (err instanceof RefusedError || err instanceof UnknownTrackerError) {
        log({
          level: 'info',
          msg: 'request refused',
          tracker: trackerId,
          action,
          who: person.email,
          reason: err.message,
        });
        return { error: err.message.replace(/^[^:]+\/[^:]+: /, '') };
      }
      throw err;
    }
    if (files.length) {
      const status = await data.liveStatus(duban, trackerId);
      await data.recordEvidenceFiles(
        ledger,
        files.map((f) => ({
          sha256: f.sha256,
          trackerId,
          period: request.request.period ?? status?.periods[0]?.period ?? '',
          name: f.name,
          type: f.type,
          size: f.size,
          uploadedBy: `${person.name} <${person.email}>`,
          uploadedAt: Date.now(),
        })),
      );
    }
    log({
      level: 'info',
      msg: 'action',
      tracker: trackerId,
      action,
      who: person.email,
      files: files.map((f) => f.sha256),
    });
    return { ok: true };
  };

  app.post('/t/:obligation/:unit/:action', async (req, reply) => {
    const s = requireSignedIn(req, reply);
    if (!s) return reply;
    const t = trackerParams(req);
    const action = (req.params as { action: string }).action as WebAction;
    if (!t || !ALL_ACTIONS.includes(action)) return reply.callNotFound();
    if (!maySee(s.person, t.unit) || !allowedActions(s.person, t.unit).includes(action))
      return forbidden(req, reply, '您无权办理该事项，未作任何更改。');
    const form = await readForm(req);
    if (!sameSecret(form.fields._csrf ?? '', s.csrf)) return csrfRefused(req, reply);
    const result = await performAction(s.person, t.trackerId, action, form);
    if ('error' in result) return renderTracker(req, reply, s, t, { error: result.error, status: 422 });
    // A return is a verification that did not pass: its banner says 退回, never 已核实.
    const done = action === 'verify' && form.fields.decision === 'return' ? 'return' : action;
    return reply.redirect(pages.trackerHref(t.trackerId, `?done=${done}`), 303);
  });

  // -------------------------------------------------------------------------------------------------------------
  // Signed action links from the notices (DOMAIN.md 22, docs/web.md): no sign-in; the link's recipient acts.
  //
  // GET shows the task and the form and changes nothing (mail scanners open every link). POST carries a CSRF token
  // bound to the link and to a double-submit cookie, and a one-time nonce claimed in the ledger, so a double submit
  // is answered once. The tracker and the period come from the signed claims only, never from the URL or the form.

  const linkKeys = linkSettings(settings)?.keys ?? [];
  // The form's CSRF secret is derived from each link key, so every instance with the same keys agrees.
  const linkCsrfSecrets = linkKeys.map((k) =>
    createHmac('sha256', k.secret).update('duban/link-form-csrf/v1').digest(),
  );
  const linkCsrf = (secret: Buffer, cookie: string, linkToken: string) =>
    createHmac('sha256', secret).update(`${cookie}\n${linkToken}`).digest('base64url');

  const linkRefused = (req: FastifyRequest, reply: FastifyReply, status: number, title: string, message: string) => {
    log({ level: 'info', msg: 'action link refused', status, reason: title });
    return page(
      reply.code(status),
      ctxOf(req),
      pages.messagePage(
        { csrf: undefined, mailbox: !!o.mailFolder },
        title,
        `${message}未作任何更改。`,
        html`<p>如需办理，请 <a href="/login">登录督办系统</a> 或联系督办单位。</p>`,
      ),
    );
  };

  interface LinkRequest {
    token: string;
    action: LinkAction;
    claims: LinkClaims;
    trackerId: string;
    obligation: string;
    unit: string;
    /** The recipient as the directory has them now, named and addressed as the link says. */
    person: Person;
  }

  /** Checks a link and its action: the page of a refusal is sent, and undefined returned, when it fails. */
  const checkLink = async (req: FastifyRequest, reply: FastifyReply): Promise<LinkRequest | undefined> => {
    const p = req.params as { token: string; action: string };
    if (!linkKeys.length) {
      void linkRefused(req, reply, 404, '链接无效', '本系统未启用邮件办理链接。');
      return undefined;
    }
    const check = verifyLink(p.token, linkKeys, Date.now());
    if (!check.ok) {
      void linkRefused(
        req,
        reply,
        check.reason === 'expired' ? 410 : 403,
        check.reason === 'expired' ? '链接已过期' : '链接无效',
        `${check.message}。`,
      );
      return undefined;
    }
    const claims = check.claims;
    const action = p.action as LinkAction;
    if (!(LINK_ACTIONS as readonly string[]).includes(action) || !claims.actions.includes(action)) {
      void linkRefused(
        req,
        reply,
        403,
        '无权办理',
        `该链接不能用于“${pages.LINK_ACTION_LABEL[p.action] ?? p.action}”。`,
      );
      return undefined;
    }
    const [obligation, unit, ...rest] = claims.trackerId.split('/');
    if (!obligation || !unit || rest.length || !ID_PATTERN.test(obligation) || !ID_PATTERN.test(unit)) {
      void linkRefused(req, reply, 403, '链接无效', '链接指向的跟踪项不存在。');
      return undefined;
    }
    // The directory as registered now: someone removed from it, or no longer staff of the unit, cannot act.
    const snapshot = await data.latestSnapshot(ledger);
    const known = personFor(claims.email, snapshot?.directory, web.admins);
    const mayAct = action === 'view' ? !!known : !!known && allowedActions(known, unit).includes(action as WebAction);
    if (!known || !mayAct) {
      void linkRefused(req, reply, 403, '无权办理', '链接的收件人已不在单位名录中，或已不再负责该单位的这项工作。');
      return undefined;
    }
    return {
      token: p.token,
      action,
      claims,
      trackerId: claims.trackerId,
      obligation,
      unit,
      person: { ...known, name: claims.name, email: claims.email },
    };
  };

  /** The task page of a link: the period's state from the tracker itself, the form, or (view) the period's record. */
  const renderLinkPage = async (
    req: FastifyRequest,
    reply: FastifyReply,
    l: LinkRequest,
    extra: { error?: string; status?: number } = {},
  ) => {
    const csrfCookie = anonymousCsrf(req, reply);
    const [snapshot, status, events] = await Promise.all([
      data.latestSnapshot(ledger),
      data.liveStatus(duban, l.trackerId),
      ledger.events({ trackerId: l.trackerId }),
    ]);
    const unit = snapshot?.directory.units.find((u) => u.id === l.unit);
    const supervisor = unit?.supervisor ? snapshot?.directory.units.find((u) => u.id === unit.supervisor) : undefined;
    const base = `/a/${l.token}`;
    return page(
      reply.code(extra.status ?? 200),
      ctxOf(req),
      pages.linkPage(
        {
          csrf: linkCsrf(linkCsrfSecrets[0]!, csrfCookie, l.token),
          mailbox: !!o.mailFolder,
          timeZone: snapshot ? timeZoneOf(snapshot.catalog, l.obligation) : undefined,
        },
        {
          formAction: `${base}/${l.action}`,
          action: l.action,
          trackerId: l.trackerId,
          period: l.claims.period,
          recipient: { name: l.claims.name, email: l.claims.email },
          obligation: snapshot?.catalog.obligations.find((x) => x.id === l.obligation),
          unitName: unit?.name ?? l.unit,
          open: status?.periods.find((x) => x.period === l.claims.period),
          outcome: status?.history.find((h) => h.period === l.claims.period)?.outcome,
          completion: status?.completion,
          quota: status?.quota,
          supervisor: supervisor && {
            name: supervisor.name,
            contact: `${supervisor.contacts.liaison.name} ${supervisor.contacts.liaison.email}`,
          },
          nonce: token(),
          events: l.action === 'view' ? events.filter((e) => e.period === l.claims.period) : [],
          limits: { maxFileBytes: web.maxFileBytes, maxFiles: web.maxFiles },
          error: extra.error,
          others: l.claims.actions
            .filter((a) => a !== l.action)
            .map((a) => ({ label: pages.LINK_ACTION_LABEL[a] ?? a, href: `${base}/${a}` })),
        },
      ),
    );
  };

  app.get('/a/:token/:action', async (req, reply) => {
    const l = await checkLink(req, reply);
    if (!l) return reply;
    return renderLinkPage(req, reply, l);
  });

  app.post('/a/:token/:action', async (req, reply) => {
    const l = await checkLink(req, reply);
    if (!l) return reply;
    if (l.action === 'view') return linkRefused(req, reply, 405, '无需提交', '查看链接只用于查看。');
    const form = await readForm(req);
    const cookie = readCookie(req, CSRF_COOKIE);
    const given = form.fields._csrf ?? '';
    if (!cookie || !linkCsrfSecrets.some((secret) => sameSecret(given, linkCsrf(secret, cookie, l.token))))
      return csrfRefused(req, reply);
    // The tracker and period are the link's: a form that names another is refused, never followed.
    for (const [field, bound] of [
      ['period', l.claims.period],
      ['trackerId', l.trackerId],
    ] as const) {
      const named = form.fields[field];
      if (named !== undefined && named !== '' && named !== bound)
        return linkRefused(
          req,
          reply,
          403,
          '无权办理',
          `该链接只适用于${field === 'period' ? `期次 ${bound}` : `跟踪项 ${bound}`}。`,
        );
    }
    const nonce = form.fields._nonce ?? '';
    if (!/^[A-Za-z0-9_-]{43}$/.test(nonce)) return csrfRefused(req, reply);
    const now = Date.now();
    const claimed = await data.claimLinkSubmission(ledger, {
      nonce,
      trackerId: l.trackerId,
      period: l.claims.period,
      action: l.action,
      email: l.claims.email,
      createdAt: now,
    });
    if (!claimed) {
      const earlier = await data.linkSubmission(ledger, nonce);
      if (earlier?.result && earlier.trackerId === l.trackerId && earlier.email === l.claims.email) {
        return page(
          reply,
          ctxOf(req),
          pages.linkDonePage(ctxOf(req), JSON.parse(earlier.result) as pages.LinkReceipt, true),
        );
      }
      return linkRefused(req, reply, 409, '正在办理', '该表单已提交，正在办理中，请稍后刷新页面查看结果。');
    }
    let result: Awaited<ReturnType<typeof performAction>>;
    try {
      result = await performAction(l.person, l.trackerId, l.action as WebAction, {
        fields: { ...form.fields, period: l.claims.period },
        uploads: form.uploads,
      });
    } catch (err) {
      await data.releaseLinkSubmission(ledger, nonce);
      throw err;
    }
    if ('error' in result) {
      await data.releaseLinkSubmission(ledger, nonce);
      return renderLinkPage(req, reply, l, { error: result.error, status: 422 });
    }
    const snapshot = await data.latestSnapshot(ledger);
    const obligation = snapshot?.catalog.obligations.find((x) => x.id === l.obligation);
    const receipt: pages.LinkReceipt = {
      action: l.action,
      trackerId: l.trackerId,
      title: obligation?.title ?? l.obligation,
      unitName: snapshot?.directory.units.find((u) => u.id === l.unit)?.name ?? l.unit,
      period: pages.periodText(obligation, l.claims.period),
      by: `${l.claims.name} <${l.claims.email}>`,
      at: now,
      details: receiptDetails(l.action, form.fields),
      files: form.uploads.map((u) => ({
        name: u.name,
        size: u.data.length,
        sha256: createHash('sha256').update(u.data).digest('hex'),
      })),
    };
    await data.finishLinkSubmission(ledger, nonce, JSON.stringify(receipt));
    return page(reply, ctxOf(req), pages.linkDonePage(ctxOf(req), receipt, false));
  });

  // -------------------------------------------------------------------------------------------------------------
  // The year report, its downloads, and the 督办单 register.

  /** The current year in the registered catalog's zone, not the server's. */
  const thisYear = (snapshot: data.Snapshot | undefined) =>
    localYear(Date.now(), snapshot?.catalog.timeZone ?? DEFAULT_TIME_ZONE);
  const reportFor = async (s: Signed, yearText?: string) => {
    const snapshot = await data.latestSnapshot(ledger);
    const year = /^\d{4}$/.test(yearText ?? '') ? Number(yearText) : thisYear(snapshot);
    const units = new Map((snapshot?.directory.units ?? []).map((u) => [u.id, u.name]));
    const zone = snapshot?.catalog.timeZone ?? DEFAULT_TIME_ZONE;
    return yearReport(ledger, year, { units }, { zone, maySee: (unit) => maySee(s.person, unit) });
  };

  app.get('/report', async (req, reply) => {
    const s = requireSignedIn(req, reply);
    if (!s) return reply;
    const report = await reportFor(s, (req.query as Record<string, string | undefined>).year);
    const now = thisYear(await data.latestSnapshot(ledger));
    const years = [...new Set([report.year, now + 1, now, now - 1, now - 2])].sort((a, b) => b - a);
    return page(reply, ctxOf(req), pages.reportPage(ctxOf(req), report, years));
  });
  app.get('/report.csv', async (req, reply) => {
    const s = requireSignedIn(req, reply);
    if (!s) return reply;
    const report = await reportFor(s, (req.query as Record<string, string | undefined>).year);
    return reply
      .type('text/csv; charset=utf-8')
      .header(
        'Content-Disposition',
        `attachment; filename="report-${report.year}.csv"; filename*=UTF-8''${encodeURIComponent(`${report.year}年度考核.csv`)}`,
      )
      .send(reportCsv(report));
  });
  app.get('/report.xlsx', async (req, reply) => {
    const s = requireSignedIn(req, reply);
    if (!s) return reply;
    const report = await reportFor(s, (req.query as Record<string, string | undefined>).year);
    return reply
      .type('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
      .header(
        'Content-Disposition',
        `attachment; filename="report-${report.year}.xlsx"; filename*=UTF-8''${encodeURIComponent(`${report.year}年度考核.xlsx`)}`,
      )
      .send(await reportWorkbook(report));
  });

  app.get('/supervision', async (req, reply) => {
    const s = requireSignedIn(req, reply);
    if (!s) return reply;
    const q = req.query as Record<string, string | undefined>;
    const snapshot = await data.latestSnapshot(ledger);
    const allowed = officesOf(s.person, snapshot?.directory);
    const units = new Map((snapshot?.directory.units ?? []).map((u) => [u.id, u.name]));
    const titles = new Map((snapshot?.catalog.obligations ?? []).map((o) => [o.id, o.title]));
    // The form's field is still `office` (a URL users may have kept).
    const filter = {
      supervisor: q.office || undefined,
      year: /^\d{4}$/.test(q.year ?? '') ? Number(q.year) : undefined,
    };
    const rows = (await data.supervisionRegister(ledger, filter)).filter(
      (r) => allowed === 'all' || allowed.includes(r.supervisor),
    );
    const supervisors = [
      ...new Set((snapshot?.directory.units ?? []).map((u) => u.supervisor).filter((x): x is string => !!x)),
    ]
      .filter((id) => allowed === 'all' || allowed.includes(id))
      .map((id) => ({ id, name: units.get(id) ?? id }));
    return page(
      reply,
      ctxOf(req),
      pages.supervisionPage(
        ctxOf(req),
        rows.map((r) => ({
          ...r,
          supervisorName: units.get(r.supervisor) ?? r.supervisor,
          unitName: units.get(r.unit) ?? r.unit,
          obligationTitle: titles.get(r.obligation) ?? r.obligation,
        })),
        filter,
        supervisors,
      ),
    );
  });

  // -------------------------------------------------------------------------------------------------------------
  // The embedded mailbox: only when started by `npm start` with its mail catcher.

  if (o.mailFolder) {
    const folder = o.mailFolder;
    app.get('/mail', async (req, reply) => page(reply, ctxOf(req), pages.mailListPage(ctxOf(req), listMail(folder))));
    app.get('/mail/:name', async (req, reply) => {
      const m = readMail(folder, (req.params as { name: string }).name);
      if (!m) return reply.callNotFound();
      return page(reply, ctxOf(req), pages.mailPage(ctxOf(req), m));
    });
  }

  return app;
}

/** The fields a confirmation page repeats back, by action. */
function receiptDetails(action: LinkAction, f: Record<string, string>): [string, string][] {
  const fields: Record<string, [string, string][]> = {
    progress: [['进展情况', 'note']],
    submit: [
      ['文号', 'documentNumber'],
      ['链接', 'link'],
      ['说明', 'text'],
    ],
    record: [
      ['人员编号', 'person'],
      ['学时', 'hours'],
      ['日期', 'date'],
      ['主题', 'topic'],
    ],
    report: [
      ['分子', 'numerator'],
      ['分母', 'denominator'],
      ['数量', 'count'],
      ['说明', 'note'],
    ],
    requestExtension: [
      ['新截止日期', 'newDue'],
      ['理由', 'reason'],
    ],
  };
  return (fields[action] ?? [])
    .map(([label, key]) => [label, (f[key] ?? '').trim()] as [string, string])
    .filter(([, v]) => v !== '');
}

/** A form's request, typed as the Update of its action (workflows/messages.ts), or what the person must fix. */
type BuiltRequest = { [A in WebAction]: { action: A; request: Requests[A] } }[WebAction] | { problem: string };

/** The tracker request for a form: the signed-in person as the actor, the form's fields in the Update's shape. */
export function buildRequest(
  action: WebAction,
  f: Record<string, string>,
  files: CheckedFile[],
  person: Person,
): BuiltRequest {
  const text = (k: string) => {
    const v = (f[k] ?? '').replace(/\r\n/g, '\n').trim();
    return v === '' ? undefined : v;
  };
  const base = { by: person.name, email: person.email, ...(text('period') ? { period: text('period') } : {}) };
  const fileRefs = files.length
    ? files.map((x) => ({ name: x.name, type: x.type, size: x.size, sha256: x.sha256 }))
    : undefined;
  switch (action) {
    case 'submit':
      return {
        action,
        request: {
          ...base,
          evidence: { text: text('text'), link: text('link'), documentNumber: text('documentNumber'), files: fileRefs },
        },
      };
    case 'progress':
      return {
        action,
        request: { ...base, note: text('note') ?? '', ...(fileRefs ? { evidence: { files: fileRefs } } : {}) },
      };
    case 'record': {
      const hours = text('hours');
      return {
        action,
        request: {
          ...base,
          date: text('date') ?? '',
          topic: text('topic') ?? '',
          ...(text('person') ? { person: text('person') } : {}),
          ...(hours !== undefined ? { hours: Number(hours) } : {}),
        },
      };
    }
    case 'report': {
      const num = (k: string) => (text(k) === undefined ? undefined : Number(text(k)));
      return {
        action,
        request: {
          ...base,
          numerator: num('numerator'),
          denominator: num('denominator'),
          count: num('count'),
          note: text('note'),
        },
      };
    }
    case 'requestExtension':
      return { action, request: { ...base, newDue: text('newDue') ?? '', reason: text('reason') ?? '' } };
    case 'verify': {
      const decision = f.decision === 'return' ? 'return' : f.decision === 'accept' ? 'accept' : undefined;
      if (!decision) return { problem: '请选择“核实通过”或“退回重办”。未作任何更改。' };
      // A rating that is not one of RATINGS is left out: the tracker's validator then asks for one.
      const rating = RATINGS.find((r) => r === text('rating'));
      return {
        action,
        request: { ...base, decision, ...(decision === 'accept' ? { rating } : {}), reason: text('reason') },
      };
    }
    case 'decideExtension':
      if (f.approve !== 'yes' && f.approve !== 'no') return { problem: '请选择“批准”或“驳回”。未作任何更改。' };
      return { action, request: { ...base, approve: f.approve === 'yes', reason: text('reason') } };
    case 'waive':
    case 'retire':
      return { action, request: { ...base, reason: text('reason') ?? '' } };
    case 'acknowledge':
    case 'pause':
    case 'resume':
      return { action, request: base };
  }
}

export interface RunningWeb {
  url: string;
  app: FastifyInstance;
  close(): Promise<void>;
}

/** Starts listening; `port: 0` picks a free port (tests). */
export async function startWeb(o: WebOptions): Promise<RunningWeb> {
  const app = await buildWebServer(o);
  await app.listen({ host: o.settings.web.host, port: o.settings.web.port });
  const port = (app.server.address() as { port: number }).port;
  return { url: baseUrlOf(o.settings, port), app, close: () => app.close() };
}
