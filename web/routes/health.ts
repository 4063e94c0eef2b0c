/** The stylesheet, liveness (`/healthz`) and readiness (`/readyz`): no sign-in. */
import type { FastifyInstance } from 'fastify';
import type { WebContext } from '../context';
import * as pages from '../pages';

const within = <T>(p: Promise<T>, ms: number, what: string) =>
  Promise.race([
    p,
    new Promise<T>((_, reject) =>
      setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms).unref(),
    ),
  ]);

/** A dependency's answer; an error's message is cut short. */
async function check(fn: () => Promise<unknown>): Promise<{ ok: boolean; error?: string }> {
  try {
    await fn();
    return { ok: true };
  } catch (err) {
    // A URL's password inside a driver's message (user:secret@host) is replaced, wherever it appears.
    const message = String((err as Error)?.message ?? err).replace(
      /\b([a-z][a-z0-9+.-]*:\/\/[^:/?#\s@]*):[^@/\s]*@/gi,
      '$1:***@',
    );
    return { ok: false, error: message.slice(0, 300) };
  }
}

export function healthRoutes(app: FastifyInstance, d: WebContext): void {
  app.get('/static/duban.css', async (_req, reply) =>
    reply.type('text/css; charset=utf-8').header('Cache-Control', 'public, max-age=3600').send(pages.STYLESHEET),
  );
  app.get('/healthz', async (_req, reply) => reply.type('text/plain').send('ok'));

  // Ready when what a request needs answers: Temporal (actions), the ledger (every page) and SMTP (sign-in links).
  // SMTP is asked at most every 30 seconds, so a load balancer's probes do not open a connection each.
  let smtpChecked: { at: number; check: { ok: boolean; error?: string } } | undefined;
  app.get('/readyz', async (_req, reply) => {
    const now = Date.now();
    const [temporal, database] = await Promise.all([
      check(() => within(d.duban.client.workflowService.getSystemInfo({}), 5_000, 'Temporal')),
      check(() => within(d.ledger.ping(), 5_000, 'the ledger')),
    ]);
    if (!smtpChecked || now - smtpChecked.at > 30_000 || !smtpChecked.check.ok)
      smtpChecked = { at: now, check: await check(() => within(d.transport.verify(), 5_000, 'SMTP')) };
    const checks = { temporal, database, smtp: smtpChecked.check };
    const ready = temporal.ok && database.ok && smtpChecked.check.ok;
    return reply.code(ready ? 200 : 503).send({ ready, checks });
  });
}
