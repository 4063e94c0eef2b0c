/**
 * What every route group is given (web/server.ts builds it once, with buildContext): the settings, the one client
 * module to Temporal, the ledger, the log, and the small helpers every page answer uses. A route group is a
 * function of this and the Fastify app, so a test can build the app with one group alone.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import * as path from 'node:path';
import type { Transporter } from 'nodemailer';
import type { Duban } from '../access/temporal';
import { createSmtpTransport } from '../channels/email/smtp';
import { Settings, SettingsError, parseMailbox } from '../config/settings';
import type { Ledger } from '../ledger';
import type { SafeHtml } from './html';
import * as pages from './pages';
import type { ChannelMessage, PageContext } from './pages';
import { csrfOf } from './session';

/** What the web service is built from (web/server.ts builds it; the route groups read it through WebContext). */
export interface WebOptions {
  settings: Settings;
  duban: Duban;
  ledger: Ledger;
  /** The embedded mode of `npm start`: the mail catcher's folder, readable in the browser. Never in production. */
  mailFolder?: string;
  /** The embedded mode of `npm start`: what the local robot and SMS fakes received (channels/fakes/local.ts). */
  channelMessages?: () => ChannelMessage[];
  /** Structured log lines (JSON); default: standard error. */
  log?: (entry: Record<string, unknown>) => void;
  /** The SMTP transport for sign-in links (default: from the settings). */
  transport?: Transporter;
  /** The route groups to register (default: all); a test may build the app with one. */
  routes?: readonly RouteGroup[];
}

export interface WebContext {
  settings: Settings;
  web: Settings['web'];
  duban: Duban;
  ledger: Ledger;
  log: (entry: Record<string, unknown>) => void;
  /** Cookies are Secure and HSTS is sent when the service is reached over HTTPS. */
  secure: boolean;
  /** The embedded mail catcher's folder (`npm start` only). */
  mailFolder?: string;
  /** What the local robot and SMS fakes received (`npm start` only), oldest first. */
  channelMessages?: () => import('./pages').ChannelMessage[];
  /** The SMTP transport for sign-in links. */
  transport: Transporter;
  from: { name: string; address: string };
  evidenceDir: string;
  /** The page context of a request: who is signed in, the CSRF token for its forms. */
  ctxOf(req: FastifyRequest): PageContext;
  /** Sends a rendered page. */
  page(reply: FastifyReply, body: string): FastifyReply;
  /** Sends a message page (a refusal, a confirmation) with its status. */
  message(
    req: FastifyRequest,
    reply: FastifyReply,
    status: number,
    title: string,
    text: string,
    extra?: SafeHtml,
  ): FastifyReply;
}

/** The route groups of the web service, in the order they are registered. */
export const ROUTE_GROUPS = ['health', 'sign-in', 'board', 'tracker', 'links', 'reports', 'mail', 'import'] as const;
export type RouteGroup = (typeof ROUTE_GROUPS)[number];

/** What every route group is given: the settings' parts, and the helpers that answer with a page. */
export function buildContext(o: WebOptions, secure: boolean): WebContext {
  const { settings } = o;
  if (!settings.smtp && !o.transport)
    throw new SettingsError('须设置 SMTP_URL（配置文件中的 smtp.url）：登录链接通过邮件发送');
  const d: WebContext = {
    settings,
    web: settings.web,
    duban: o.duban,
    ledger: o.ledger,
    log: o.log ?? ((e) => process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), ...e })}\n`)),
    secure,
    mailFolder: o.mailFolder,
    channelMessages: o.channelMessages,
    transport: o.transport ?? createSmtpTransport(settings.smtp!),
    from: parseMailbox(settings.smtp?.from ?? '督办系统 <duban@localhost.localdomain>'),
    evidenceDir: settings.web.evidenceDir ?? path.join(settings.dataDir, 'evidence'),
    ctxOf: (req) => ({
      person: req.signed?.person,
      csrf: csrfOf(req),
      mailbox: !!o.mailFolder,
      channels: !!o.channelMessages,
    }),
    page: (reply, body) => reply.type('text/html; charset=utf-8').send(body),
    message: (req, reply, status, title, text, extra) =>
      d.page(reply.code(status), pages.messagePage(d.ctxOf(req), title, text, extra)),
  };
  return d;
}
