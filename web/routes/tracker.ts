/** A tracker (`/t/<obligation>/<unit>`): its page, its actions (one form, one Update) and its evidence files. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createReadStream, existsSync } from 'node:fs';
import { latestSnapshot } from '../../access/registered';
import { setStandIn } from '../../access/stand-ins';
import { actionLabel, isAction } from '../../domain/actions';
import { DEFAULT_TIME_ZONE, ID_PATTERN } from '../../domain/model';
import { formatLocal } from '../../domain/zone';
import { timeZoneOf, trackerId } from '../../domain/trackers';
import { Form, performAction, readForm } from '../actions';
import type { WebContext } from '../context';
import { liveStatus, trackerRecord } from '../data';
import { storedPath } from '../evidence';
import { html } from '../html';
import * as pages from '../pages';
import { TrackerStanding, WebAction, allowedActions, cooperatorIds, maySee, standingOn } from '../roles';
import { Signed, csrfRefused, forbidden, requireSignedIn, sameSecret, sha256, token } from '../session';

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

/**
 * The person's standing on the tracker from the registered files: its unit's staff, its office, and (协办) the
 * staff of its cooperating units, who see it and may 签收 and 反馈进展 only.
 */
function standingFor(s: Signed, t: TrackerParams): TrackerStanding {
  return standingOn(s.person, t.unit, cooperatorIds(s.snapshot, t.obligation, t.unit));
}

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
  const cooperatorUnits = cooperatorIds(snapshot, t.obligation, t.unit);
  const standing = standingOn(s.person, t.unit, cooperatorUnits);
  const nameOf = (id: string) => snapshot?.directory.units.find((u) => u.id === id)?.name ?? id;
  // 代办: the unit's own staff see its ranges still to come or running, each with a cancel button.
  const zone = snapshot ? timeZoneOf(snapshot.catalog, t.obligation) : DEFAULT_TIME_ZONE;
  const standIns =
    running && standing.actions.includes('acknowledge') && !standing.cooperating
      ? (await d.ledger.standIns.forUnits([t.unit], formatLocal(Date.now(), zone).slice(0, 10))).map((r) => ({
          id: r.id,
          absent: r.absent.name,
          standIn: r.standIn.name,
          from: r.from,
          to: r.to,
        }))
      : [];
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
        actions: running ? standing.actions : [],
        cooperators: cooperatorUnits.map((id) => ({ id, name: nameOf(id) })),
        ...(standing.cooperating
          ? { cooperating: { id: standing.cooperating, name: nameOf(standing.cooperating) } }
          : {}),
        formToken: token,
        standIns,
        error: extra.error,
        done: extra.done,
        limits: { maxFileBytes: d.web.maxFileBytes, maxFiles: d.web.maxFiles },
      },
    ),
  );
}

/** What a finished form did, for its banner: a verification that did not pass is a return (退回重办). */
const doneLabel = (done: string) => (done === 'return' ? '退回重办' : isAction(done) ? actionLabel(done) : done);

/**
 * A 代办 form posted by the unit's own staff (head or liaison), with its CSRF token: the session, the tracker and
 * the form's trimmed fields; otherwise the refusal has been sent (`doing` names the act in it) and this is undefined.
 */
async function standInForm(d: WebContext, req: FastifyRequest, reply: FastifyReply, doing: string) {
  const s = requireSignedIn(d, req, reply);
  if (!s) return undefined;
  const t = trackerParams(req);
  if (!t) {
    reply.callNotFound();
    return undefined;
  }
  if (!maySee(s.person, t.unit) || !allowedActions(s.person, t.unit).includes('acknowledge')) {
    forbidden(d, req, reply, `只有本单位的负责人、联络员可以${doing}代办，未作任何更改。`);
    return undefined;
  }
  const form = await readForm(req);
  if (!sameSecret(form.fields._csrf ?? '', s.csrf)) {
    csrfRefused(d, req, reply);
    return undefined;
  }
  return { s, t, field: (k: string) => (form.fields[k] ?? '').trim() };
}

/** 代办 cancelled from the tracker page by the unit's staff: only a range of this unit, once (a repeat says so). */
async function cancelStandIn(d: WebContext, req: FastifyRequest, reply: FastifyReply) {
  const posted = await standInForm(d, req, reply, '取消');
  if (!posted) return reply;
  const { s, t } = posted;
  const id = posted.field('id');
  const mine = (await d.ledger.standIns.forUnits([t.unit], '0000-01-01')).find((r) => r.id === id);
  if (!mine || !(await d.ledger.standIns.cancel(id, Date.now())))
    return renderTracker(d, req, reply, s, t, { error: '没有这项代办，或已取消，未作任何更改。', status: 422 });
  d.log({ level: 'info', msg: 'stand-in cancelled', unit: t.unit, id, who: s.person.email });
  return renderTracker(d, req, reply, s, t, {
    done: `已取消代办：${mine.from} 至 ${mine.to}，${mine.absent.name}的通知不再改发${mine.standIn.name}。`,
  });
}

export function trackerRoutes(app: FastifyInstance, d: WebContext): void {
  app.get('/t/:obligation/:unit', async (req, reply) => {
    const s = requireSignedIn(d, req, reply);
    if (!s) return reply;
    const t = trackerParams(req);
    if (!t) return reply.callNotFound();
    if (!standingFor(s, t).maySee) return forbidden(d, req, reply);
    const q = req.query as Record<string, string | undefined>;
    const done = q.done && (isAction(q.done) || q.done === 'return') ? q.done : undefined;
    return renderTracker(d, req, reply, s, t, {
      done: done
        ? q.repeat
          ? `已提交，请勿重复提交：该表单已${doneLabel(done)}，未重复办理。`
          : `已${doneLabel(done)}，已记录办理人 ${s.person.name}（${s.person.email}）。`
        : undefined,
    });
  });

  app.get('/t/:obligation/:unit/files/:sha256', async (req, reply) => {
    const s = requireSignedIn(d, req, reply);
    if (!s) return reply;
    const t = trackerParams(req);
    const sha = (req.params as { sha256: string }).sha256;
    if (!t || !/^[0-9a-f]{64}$/.test(sha)) return reply.callNotFound();
    if (!standingFor(s, t).maySee) return forbidden(d, req, reply);
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
    const posted = await standInForm(d, req, reply, '设置');
    if (!posted) return reply;
    const { s, t, field: f } = posted;
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

  app.post('/t/:obligation/:unit/stand-in/cancel', (req, reply) => cancelStandIn(d, req, reply));

  app.post('/t/:obligation/:unit/:action', async (req, reply) => {
    const s = requireSignedIn(d, req, reply);
    if (!s) return reply;
    const t = trackerParams(req);
    const action = (req.params as { action: string }).action;
    if (!t || !isAction(action)) return reply.callNotFound();
    const standing = standingFor(s, t);
    if (!standing.maySee || !standing.actions.includes(action))
      return forbidden(d, req, reply, '您无权办理该事项，未作任何更改。');
    const form = await readForm(req);
    if (!sameSecret(form.fields._csrf ?? '', s.csrf)) return csrfRefused(d, req, reply);
    return answerOnce(d, req, reply, s, t, action, form);
  });
}

/**
 * A signed-in form is answered once (issue 19.6): its one-time token is claimed in the ledger before the Update is
 * sent; a replay or a double click finds it claimed and changes nothing (it is shown where the first answer went,
 * or told the first is still being sent). A refusal gives the token back, so the corrected form can be sent again.
 */
async function answerOnce(
  d: WebContext,
  req: FastifyRequest,
  reply: FastifyReply,
  s: Signed,
  t: TrackerParams,
  action: WebAction,
  form: Form,
) {
  const formToken = form.fields._form ?? '';
  if (!/^[A-Za-z0-9_-]{43}$/.test(formToken)) return csrfRefused(d, req, reply);
  const tokenHash = sha256(formToken);
  const claim = { tokenHash, sessionHash: s.sessionHash, trackerId: t.trackerId, action, email: s.person.email };
  if (!(await d.ledger.web.claimFormSubmission({ ...claim, createdAt: Date.now() }))) {
    const earlier = await d.ledger.web.formSubmission(tokenHash);
    d.log({ level: 'info', msg: 'form replayed', tracker: t.trackerId, action, who: s.person.email });
    if (earlier?.result && earlier.sessionHash === s.sessionHash && earlier.trackerId === t.trackerId)
      return reply.redirect(earlier.result, 303);
    return d.message(
      req,
      reply,
      409,
      '请勿重复提交',
      '已提交，请勿重复提交：该表单正在办理或已办理，未重复办理。请稍后打开跟踪项页面查看结果。',
      html`<p><a href="${pages.trackerHref(t.trackerId)}">返回跟踪项</a></p>`,
    );
  }
  let result: Awaited<ReturnType<typeof performAction>>;
  try {
    // 协办: a cooperating unit's staff act for their unit, which the tracker records (and holds to 签收 and 反馈).
    const cooperating = standingFor(s, t).cooperating;
    const person = cooperating ? { ...s.person, cooperating } : s.person;
    result = await performAction(d, person, t.trackerId, action, form);
  } catch (err) {
    await d.ledger.web.releaseFormSubmission(tokenHash);
    throw err;
  }
  if ('error' in result) {
    await d.ledger.web.releaseFormSubmission(tokenHash);
    return renderTracker(d, req, reply, s, t, { error: result.error, status: 422 });
  }
  // A return is a verification that did not pass: its banner says 退回, never 已核实.
  const done = action === 'verify' && form.fields.decision === 'return' ? 'return' : action;
  await d.ledger.web.finishFormSubmission(tokenHash, pages.trackerHref(t.trackerId, `?done=${done}&repeat=1`));
  return reply.redirect(pages.trackerHref(t.trackerId, `?done=${done}`), 303);
}
