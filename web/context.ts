/**
 * What every route group is given (web/server.ts builds it once): the settings, the one client module to Temporal,
 * the ledger, the log, and the small helpers every page answer uses. A route group is a function of this and the
 * Fastify app, so a test can build the app with one group alone.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Transporter } from 'nodemailer';
import type { Duban } from '../access/temporal';
import type { Settings } from '../config/settings';
import type { Ledger } from '../ledger';
import type { SafeHtml } from './html';
import type { PageContext } from './pages';

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
export const ROUTE_GROUPS = ['health', 'sign-in', 'board', 'tracker', 'links', 'reports', 'mail'] as const;
export type RouteGroup = (typeof ROUTE_GROUPS)[number];
