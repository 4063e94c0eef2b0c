/** The embedded mailbox (`/mail`): only when started by `npm start` with its mail catcher, never in production. */
import type { FastifyInstance } from 'fastify';
import type { WebContext } from '../context';
import { listMail, readMail } from '../mailbox';
import * as pages from '../pages';

export function mailRoutes(app: FastifyInstance, d: WebContext): void {
  const folder = d.mailFolder;
  if (!folder) return;
  app.get('/mail', async (req, reply) => d.page(reply, pages.mailListPage(d.ctxOf(req), listMail(folder))));
  app.get('/mail/:name', async (req, reply) => {
    const m = readMail(folder, (req.params as { name: string }).name);
    if (!m) return reply.callNotFound();
    return d.page(reply, pages.mailPage(d.ctxOf(req), m));
  });
}
