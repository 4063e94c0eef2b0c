/**
 * The embedded mailbox (`/mail`) and what the local robot and SMS fakes received (`/channels`): only when started
 * by `npm start` with its mail catcher and fakes, never in production.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { latestSnapshot } from '../../access/registered';
import type { WebContext } from '../context';
import { listMail, readMail } from '../mailbox';
import * as pages from '../pages';

export function mailRoutes(app: FastifyInstance, d: WebContext): void {
  // Times in the catalog's zone, as every other page shows them (the messages' Date headers say +0000).
  const ctx = async (req: FastifyRequest) => ({
    ...d.ctxOf(req),
    timeZone: (await latestSnapshot(d.ledger))?.catalog.timeZone,
  });
  const received = d.channelMessages;
  if (received)
    app.get('/channels', async (req, reply) => d.page(reply, pages.channelListPage(await ctx(req), received())));
  const folder = d.mailFolder;
  if (!folder) return;
  app.get('/mail', async (req, reply) => d.page(reply, pages.mailListPage(await ctx(req), listMail(folder))));
  app.get('/mail/:name', async (req, reply) => {
    const m = readMail(folder, (req.params as { name: string }).name);
    if (!m) return reply.callNotFound();
    return d.page(reply, pages.mailPage(await ctx(req), m));
  });
}
