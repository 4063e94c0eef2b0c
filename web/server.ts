/**
 * `duban web`: the browser service (docs/web.md). Fastify, server-rendered pages, no JavaScript in the browser.
 *
 * Stateless: sessions, sign-in links and rate-limit counters live in the ledger database, so several instances
 * behind a reverse proxy share the load. Every change goes to the tracker as its Update through the one client
 * module (access/temporal.ts); the tracker's own refusal message is shown on the page.
 * This file builds Fastify, its hooks and error handler, and registers the route groups of web/routes/.
 * Sessions and CSRF are web/session.ts; one click, one Update is web/actions.ts.
 */
import formbody from '@fastify/formbody';
import multipart from '@fastify/multipart';
import Fastify, { FastifyInstance, FastifyRequest } from 'fastify';
import { Settings, SettingsError, readSettingFile, webBaseUrl } from '../config/settings';
import { ROUTE_GROUPS, RouteGroup, WebContext, WebOptions, buildContext } from './context';
import { formatSize } from './evidence';
import { boardRoutes } from './routes/board';
import { healthRoutes } from './routes/health';
import { importRoutes } from './routes/import';
import { linkRoutes } from './routes/links';
import { mailRoutes } from './routes/mail';
import { reportRoutes } from './routes/reports';
import { signInRoutes } from './routes/sign-in';
import { trackerRoutes } from './routes/tracker';
import { addSessionHook } from './session';

export { buildRequest } from './actions';
export type { WebOptions } from './context';

const ROUTES: Record<RouteGroup, (app: FastifyInstance, d: WebContext) => void> = {
  health: healthRoutes,
  'sign-in': signInRoutes,
  board: boardRoutes,
  tracker: trackerRoutes,
  links: linkRoutes,
  reports: reportRoutes,
  mail: mailRoutes,
  import: importRoutes,
};

const SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  // Sign-in links carry their token in the path: never send it on as a Referer.
  'Referrer-Policy': 'no-referrer',
};

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

/** The TLS certificate and key when the settings name them (both or neither). */
function tlsOf(web: Settings['web']): { cert: Buffer; key: Buffer } | undefined {
  if (!web.tlsCertFile && !web.tlsKeyFile) return undefined;
  const cert = readSettingFile('DUBAN_WEB_TLS_CERT_FILE', web.tlsCertFile);
  const key = readSettingFile('DUBAN_WEB_TLS_KEY_FILE', web.tlsKeyFile);
  if (!cert || !key) throw new SettingsError('DUBAN_WEB_TLS_CERT_FILE 和 DUBAN_WEB_TLS_KEY_FILE 须同时设置');
  return { cert, key };
}

/** Security headers on every answer, and one structured log line per request. */
function addHooks(app: FastifyInstance, d: WebContext): void {
  const started = new WeakMap<FastifyRequest, number>();
  app.addHook('onRequest', async (req) => void started.set(req, performance.now()));
  app.addHook('onSend', async (_req, reply, payload) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) reply.header(name, value);
    if (!reply.hasHeader('Cache-Control')) reply.header('Cache-Control', 'no-store');
    if (d.secure) reply.header('Strict-Transport-Security', 'max-age=31536000');
    return payload;
  });
  app.addHook('onResponse', async (req, reply) => {
    const t = started.get(req);
    const ms = t === undefined ? undefined : Math.round(performance.now() - t);
    const who = req.signed?.person.email;
    d.log({
      level: 'info',
      msg: 'request',
      method: req.method,
      path: loggablePath(req.url),
      status: reply.statusCode,
      ms,
      who,
    });
  });
}

/** Errors answer with a Chinese page that says nothing was changed; a 500 is logged, its details never shown. */
function addErrorHandlers(app: FastifyInstance, d: WebContext): void {
  app.setErrorHandler(async (err: Error & { statusCode?: number }, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500)
      d.log({
        level: 'error',
        msg: 'request failed',
        method: req.method,
        path: loggablePath(req.url),
        error: err.message,
      });
    const message =
      status === 413
        ? `上传的文件超过限制（每个不超过 ${formatSize(d.web.maxFileBytes)}，最多 ${d.web.maxFiles} 个），未作任何更改。`
        : status === 500
          ? '服务器出错，未完成操作。请稍后再试。'
          : '请求无效，未作任何更改。';
    return d.message(req, reply, status, status === 500 ? '出错了' : '未办理', message);
  });
  app.setNotFoundHandler(async (req, reply) => d.message(req, reply, 404, '找不到页面', '没有这个页面。'));
}

export async function buildWebServer(o: WebOptions): Promise<FastifyInstance> {
  const web = o.settings.web;
  const tls = tlsOf(web);
  const d = buildContext(o, !!tls || (web.baseUrl ?? '').startsWith('https:'));
  const app = Fastify({
    logger: false,
    bodyLimit: 256 * 1024,
    // Action-link tokens (a signed payload) are longer than Fastify's default limit of 100 characters per path part.
    routerOptions: { maxParamLength: 2048 },
    trustProxy: web.trustProxy,
    ...(tls ? { https: tls } : {}),
  } as Parameters<typeof Fastify>[0]) as unknown as FastifyInstance;
  app.addHook('onClose', async () => {
    if (!o.transport) d.transport.close();
  });
  await app.register(formbody);
  const parts = { fields: 30, fieldSize: 16 * 1024, parts: web.maxFiles + 30 };
  await app.register(multipart, { limits: { fileSize: web.maxFileBytes, files: web.maxFiles, ...parts } });
  addHooks(app, d);
  addErrorHandlers(app, d);
  addSessionHook(app, d);
  for (const group of ROUTE_GROUPS) if (!o.routes || o.routes.includes(group)) ROUTES[group](app, d);
  return app;
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
