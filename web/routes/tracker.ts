/** A tracker (`/t/<obligation>/<unit>`): its page, its actions (one form, one Update) and its evidence files. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createReadStream, existsSync } from 'node:fs';
import { latestSnapshot } from '../../access/registered';
import { setStandIn } from '../../access/stand-ins';
import { actionLabel, isAction } from '../../domain/actions';
import { ID_PATTERN } from '../../domain/model';
import { timeZoneOf, trackerId } from '../../domain/trackers';
import { performAction, readForm } from '../actions';
import type { WebContext } from '../context';
import { liveStatus, trackerRecord } from '../data';
import { storedPath } from '../evidence';
import * as pages from '../pages';
import { allowedActions, maySee } from '../roles';
import { Signed, csrfRefused, forbidden, requireSignedIn, sameSecret } from '../session';

interface TrackerParams {
  trackerId: string;
  obligation: string;
  unit: string;
}

const trackerParams = (req: FastifyRequest): TrackerParams | undefined => {
  const p = req.params as { obligation: string; unit: string };
  if (!ID_PATTERN.test(p.obligation) || !ID_PATTERN.test(p.unit)) return undefined;
  return { trackerId: trackerId(p.obligation, p.unit), obligation: p.obligation, unit: p.unit };
};

/** The tracker page: the ledger's record of it and the tracker's live status, with the forms the person may use. */
async function renderTracker(
  d: WebContext,
  req: FastifyRequest,
  reply: FastifyReply,
  s: Signed,
  t: TrackerParams,
  extra: { error?: string; done?: string; status?: number } = {},
) {
  const [snapshot, state, record, status] = await Promise.all([
    latestSnapshot(d.ledger),
    d.ledger.trackerState(t.trackerId),
    trackerRecord(d.ledger, t.trackerId),
    liveStatus(d.duban, t.trackerId),
  ]);
  if (!state && !status && record.notices.length + record.events.length + record.outcomes.length === 0)
    return d.message(req, reply, 404, '找不到跟踪项', `没有跟踪项 ${t.trackerId}。`);
  const running = !!status && !status.retired;
  return d.page(
    reply.code(extra.status ?? 200),
    pages.trackerPage(
      { ...d.ctxOf(req), timeZone: snapshot ? timeZoneOf(snapshot.catalog, t.obligation) : undefined },
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
        limits: { maxFileBytes: d.web.maxFileBytes, maxFiles: d.web.maxFiles },
      },
    ),
  );
}

export function trackerRoutes(app: FastifyInstance, d: WebContext): void {
  app.get('/t/:obligation/:unit', async (req, reply) => {
    const s = requireSignedIn(d, req, reply);
    if (!s) return reply;
    const t = trackerParams(req);
    if (!t) return reply.callNotFound();
    if (!maySee(s.person, t.unit)) return forbidden(d, req, reply);
    const done = (req.query as Record<string, string | undefined>).done;
    return renderTracker(d, req, reply, s, t, {
      done:
        done && isAction(done)
          ? `已${actionLabel(done)}，已记录办理人 ${s.person.name}（${s.person.email}）。`
          : undefined,
    });
  });

  app.get('/t/:obligation/:unit/files/:sha256', async (req, reply) => {
    const s = requireSignedIn(d, req, reply);
    if (!s) return reply;
    const t = trackerParams(req);
    const sha = (req.params as { sha256: string }).sha256;
    if (!t || !/^[0-9a-f]{64}$/.test(sha)) return reply.callNotFound();
    if (!maySee(s.person, t.unit)) return forbidden(d, req, reply);
    const file = await d.ledger.web.evidenceFile(t.trackerId, sha);
    const where = file && storedPath(d.evidenceDir, sha);
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

  // 代办: kept in the ledger for the unit (not an Update: it is the unit's, not one tracker's).
  app.post('/t/:obligation/:unit/stand-in', async (req, reply) => {
    const s = requireSignedIn(d, req, reply);
    if (!s) return reply;
    const t = trackerParams(req);
    if (!t) return reply.callNotFound();
    if (!maySee(s.person, t.unit) || !allowedActions(s.person, t.unit).includes('acknowledge'))
      return forbidden(d, req, reply, '只有本单位的负责人、联络员可以设置代办，未作任何更改。');
    const form = await readForm(req);
    if (!sameSecret(form.fields._csrf ?? '', s.csrf)) return csrfRefused(d, req, reply);
    const f = (k: string) => (form.fields[k] ?? '').trim();
    const result = await setStandIn(
      d.ledger,
      {
        unit: t.unit,
        absent: f('absent'),
        standIn: f('standIn'),
        from: f('from'),
        to: f('to'),
        by: `${s.person.name} <${s.person.email}>`,
      },
      Date.now(),
    );
    if ('error' in result)
      return renderTracker(d, req, reply, s, t, { error: `${result.error}，未作任何更改。`, status: 422 });
    d.log({ level: 'info', msg: 'stand-in set', unit: t.unit, id: result.id, who: s.person.email });
    return renderTracker(d, req, reply, s, t, {
      done: `已设置代办：${result.standIn.from} 至 ${result.standIn.to}，${result.standIn.absent.name}的通知改发${result.standIn.standIn.name}（${result.standIn.absent.name}抄送）。`,
    });
  });

  app.post('/t/:obligation/:unit/:action', async (req, reply) => {
    const s = requireSignedIn(d, req, reply);
    if (!s) return reply;
    const t = trackerParams(req);
    const action = (req.params as { action: string }).action;
    if (!t || !isAction(action)) return reply.callNotFound();
    if (!maySee(s.person, t.unit) || !allowedActions(s.person, t.unit).includes(action))
      return forbidden(d, req, reply, '您无权办理该事项，未作任何更改。');
    const form = await readForm(req);
    if (!sameSecret(form.fields._csrf ?? '', s.csrf)) return csrfRefused(d, req, reply);
    const result = await performAction(d, s.person, t.trackerId, action, form);
    if ('error' in result) return renderTracker(d, req, reply, s, t, { error: result.error, status: 422 });
    return reply.redirect(pages.trackerHref(t.trackerId, `?done=${action}`), 303);
  });
}
