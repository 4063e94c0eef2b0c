/**
 * Signed action links from the notices (DOMAIN.md 22, docs/web.md): no sign-in; the link's recipient acts.
 *
 * GET shows the task and the form and changes nothing (mail scanners open every link). POST carries a CSRF token
 * bound to the link and to a double-submit cookie, and a one-time nonce claimed in the ledger, so a double submit
 * is answered once. The tracker and the period come from the signed claims only, never from the URL or the form.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createHash, createHmac } from 'node:crypto';
import { Snapshot, latestSnapshot } from '../../access/registered';
import { LinkClaims, verifyLink } from '../../channels/links';
import { linkSettings } from '../../config/settings';
import { LinkAction, actionLabel, isLinkAction } from '../../domain/actions';
import { DEFAULT_TIME_ZONE, ID_PATTERN } from '../../domain/model';
import { standInDay, standInOn } from '../../domain/stand-ins';
import { timeZoneOf } from '../../domain/trackers';
import { Form, performAction, readForm } from '../actions';
import type { WebContext } from '../context';
import { readCookie } from '../cookies';
import { liveStatus } from '../data';
import { html } from '../html';
import * as pages from '../pages';
import { Person, cooperatorIds, personFor, standingOn } from '../roles';
import { CSRF_COOKIE, anonymousCsrf, csrfRefused, sameSecret, token } from '../session';

interface LinkRequest {
  token: string;
  action: LinkAction;
  claims: LinkClaims;
  trackerId: string;
  obligation: string;
  unit: string;
  /** The recipient as the directory has them now, named and addressed as the link says (协办: with their unit). */
  person: Person & { onBehalfOf?: string; cooperating?: string };
  /** The registered directory and catalog the check read (the receipt reuses it: no second trip). */
  snapshot: Snapshot | undefined;
}

/** The fields a confirmation page repeats back, by action. */
const RECEIPT_FIELDS: Partial<Record<LinkAction, [string, string][]>> = {
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

function receiptDetails(action: LinkAction, f: Record<string, string>): [string, string][] {
  return (RECEIPT_FIELDS[action] ?? [])
    .map(([label, key]) => [label, (f[key] ?? '').trim()] as [string, string])
    .filter(([, v]) => v !== '');
}

/** The link routes and the helpers they share, around the settings' link keys. */
class LinkRoutes {
  private readonly keys;
  // The form's CSRF secret is derived from each link key, so every instance with the same keys agrees.
  private readonly csrfSecrets: Buffer[];

  constructor(private readonly d: WebContext) {
    this.keys = linkSettings(d.settings)?.keys ?? [];
    this.csrfSecrets = this.keys.map((k) => createHmac('sha256', k.secret).update('duban/link-form-csrf/v1').digest());
  }

  csrf(secret: Buffer, cookie: string, linkToken: string): string {
    return createHmac('sha256', secret).update(`${cookie}\n${linkToken}`).digest('base64url');
  }

  csrfMatches(given: string, cookie: string | undefined, linkToken: string): boolean {
    return !!cookie && this.csrfSecrets.some((secret) => sameSecret(given, this.csrf(secret, cookie, linkToken)));
  }

  refused(req: FastifyRequest, reply: FastifyReply, status: number, title: string, message: string) {
    this.d.log({ level: 'info', msg: 'action link refused', status, reason: title });
    return this.d.page(
      reply.code(status),
      pages.messagePage(
        { csrf: undefined, mailbox: !!this.d.mailFolder },
        title,
        `${message}未作任何更改。`,
        html`<p>如需办理，请 <a href="/login">登录督办系统</a> 或联系督办单位。</p>`,
      ),
    );
  }

  /** Checks a link and its action: the page of a refusal is sent, and undefined returned, when it fails. */
  async check(req: FastifyRequest, reply: FastifyReply): Promise<LinkRequest | undefined> {
    const p = req.params as { token: string; action: string };
    if (!this.keys.length) {
      void this.refused(req, reply, 404, '链接无效', '本系统未启用邮件办理链接。');
      return undefined;
    }
    const check = verifyLink(p.token, this.keys, Date.now());
    if (!check.ok) {
      const expired = check.reason === 'expired';
      void this.refused(req, reply, expired ? 410 : 403, expired ? '链接已过期' : '链接无效', `${check.message}。`);
      return undefined;
    }
    const claims = check.claims;
    const action = p.action;
    if (!isLinkAction(action) || !claims.actions.includes(action)) {
      void this.refused(req, reply, 403, '无权办理', `该链接不能用于“${pages.linkActionLabel(action)}”。`);
      return undefined;
    }
    const [obligation, unit, ...rest] = claims.trackerId.split('/');
    if (!obligation || !unit || rest.length || !ID_PATTERN.test(obligation) || !ID_PATTERN.test(unit)) {
      void this.refused(req, reply, 403, '链接无效', '链接指向的跟踪项不存在。');
      return undefined;
    }
    // The directory as registered now: someone removed from it, or no longer staff of the unit, cannot act.
    const snapshot = await latestSnapshot(this.d.ledger);
    const known = personFor(claims.email, snapshot?.directory, this.d.web.admins);
    // 代办: a stand-in acts with the rights of the person they stand in for, who must still hold them.
    const absent = claims.onBehalfOf && personFor(claims.onBehalfOf.email, snapshot?.directory, this.d.web.admins);
    // 协办: a cooperating unit's staff may 签收 and 反馈进展, for their unit (the registered catalog says which).
    const standing = known && standingOn(absent || known, unit, cooperatorIds(snapshot, obligation, unit));
    const mayAct = action === 'view' ? !!known : !!standing && standing.actions.includes(action);
    if (!known || !mayAct) {
      const why = '链接的收件人已不在单位名录中，或已不再负责该单位的这项工作。';
      void this.refused(req, reply, 403, '无权办理', why);
      return undefined;
    }
    // 代办: the stand-in's rights last as long as the range (cancelled or over, the link no longer acts for anyone).
    // The same rule as the routing (domain/stand-ins.ts standInOn), on today in the catalog's zone.
    if (claims.onBehalfOf) {
      const day = standInDay(Date.now(), snapshot ? timeZoneOf(snapshot.catalog, obligation) : DEFAULT_TIME_ZONE);
      const live = standInOn(
        await this.d.ledger.standIns.forAbsent(claims.onBehalfOf.email, day),
        claims.onBehalfOf.email,
        day,
      );
      if (live?.standIn.email !== claims.email) {
        const why = `${claims.name}代${claims.onBehalfOf.name}办理的期限已结束或已被取消，该链接不能再代为办理。`;
        void this.refused(req, reply, 403, '代办已结束', why);
        return undefined;
      }
    }
    const person = {
      ...known,
      name: claims.name,
      email: claims.email,
      ...(claims.onBehalfOf ? { onBehalfOf: `${claims.onBehalfOf.name} <${claims.onBehalfOf.email}>` } : {}),
      ...(standing && standing.cooperating ? { cooperating: standing.cooperating } : {}),
    };
    return { token: p.token, action, claims, trackerId: claims.trackerId, obligation, unit, person, snapshot };
  }

  /** The task page of a link: the period's state from the tracker itself, the form, or (view) the period's record. */
  async render(
    req: FastifyRequest,
    reply: FastifyReply,
    l: LinkRequest,
    extra: { error?: string; status?: number } = {},
  ) {
    const d = this.d;
    const csrfCookie = anonymousCsrf(d, req, reply);
    const [snapshot, status, events] = await Promise.all([
      latestSnapshot(d.ledger),
      liveStatus(d.duban, l.trackerId),
      l.action === 'view' ? d.ledger.events({ trackerId: l.trackerId }) : [],
    ]);
    const unit = snapshot?.directory.units.find((u) => u.id === l.unit);
    const supervisor = unit?.supervisor ? snapshot?.directory.units.find((u) => u.id === unit.supervisor) : undefined;
    const base = `/a/${l.token}`;
    const view: pages.LinkView = {
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
      events: events.filter((e) => e.period === l.claims.period),
      limits: { maxFileBytes: d.web.maxFileBytes, maxFiles: d.web.maxFiles },
      error: extra.error,
      others: l.claims.actions
        .filter((a) => a !== l.action)
        .map((a) => ({ label: actionLabel(a), href: `${base}/${a}` })),
      ...((c) => (c ? { cooperating: { id: c.id, name: c.name } } : {}))(
        snapshot?.directory.units.find((u) => u.id === l.person.cooperating),
      ),
    };
    const ctx = {
      csrf: this.csrf(this.csrfSecrets[0]!, csrfCookie, l.token),
      mailbox: !!d.mailFolder,
      timeZone: snapshot ? timeZoneOf(snapshot.catalog, l.obligation) : undefined,
    };
    return d.page(reply.code(extra.status ?? 200), pages.linkPage(ctx, view));
  }

  /** The form's fields that name a tracker or a period must name the link's own; the refusal's text otherwise. */
  boundFieldsRefusal(l: LinkRequest, form: Form): string | undefined {
    for (const [field, bound] of [
      ['period', l.claims.period],
      ['trackerId', l.trackerId],
    ] as const) {
      const named = form.fields[field];
      if (named !== undefined && named !== '' && named !== bound)
        return `该链接只适用于${field === 'period' ? `期次 ${bound}` : `跟踪项 ${bound}`}。`;
    }
    return undefined;
  }

  /** What the confirmation page shows, and what a second submit of the same form is answered with. */
  receipt(l: LinkRequest, form: Form, at: number): pages.LinkReceipt {
    const snapshot = l.snapshot;
    const obligation = snapshot?.catalog.obligations.find((x) => x.id === l.obligation);
    return {
      action: l.action,
      trackerId: l.trackerId,
      title: obligation?.title ?? l.obligation,
      unitName: snapshot?.directory.units.find((u) => u.id === l.unit)?.name ?? l.unit,
      period: pages.periodText(obligation, l.claims.period),
      by: `${l.claims.name} <${l.claims.email}>`,
      at,
      details: receiptDetails(l.action, form.fields),
      files: form.uploads.map((u) => ({
        name: u.name,
        size: u.data.length,
        sha256: createHash('sha256').update(u.data).digest('hex'),
      })),
    };
  }

  /** A submit: bound to the link, claimed once by its nonce, one Update; the receipt kept for a second submit. */
  async submit(req: FastifyRequest, reply: FastifyReply, l: LinkRequest) {
    const d = this.d;
    if (l.action === 'view') return this.refused(req, reply, 405, '无需提交', '查看链接只用于查看。');
    const form = await readForm(req);
    if (!this.csrfMatches(form.fields._csrf ?? '', readCookie(req, CSRF_COOKIE), l.token))
      return csrfRefused(d, req, reply);
    // The tracker and period are the link's: a form that names another is refused, never followed.
    const bound = this.boundFieldsRefusal(l, form);
    if (bound) return this.refused(req, reply, 403, '无权办理', bound);
    const nonce = form.fields._nonce ?? '';
    if (!/^[A-Za-z0-9_-]{43}$/.test(nonce)) return csrfRefused(d, req, reply);
    const now = Date.now();
    const claim = { nonce, trackerId: l.trackerId, period: l.claims.period, action: l.action, email: l.claims.email };
    if (!(await d.ledger.web.claimLinkSubmission({ ...claim, createdAt: now }))) {
      const earlier = await d.ledger.web.linkSubmission(nonce);
      if (earlier?.result && earlier.trackerId === l.trackerId && earlier.email === l.claims.email) {
        const receipt = JSON.parse(earlier.result) as pages.LinkReceipt;
        return d.page(reply, pages.linkDonePage(d.ctxOf(req), receipt, true));
      }
      return this.refused(req, reply, 409, '正在办理', '该表单已提交，正在办理中，请稍后刷新页面查看结果。');
    }
    let result: Awaited<ReturnType<typeof performAction>>;
    try {
      const fields = { ...form.fields, period: l.claims.period };
      result = await performAction(d, l.person, l.trackerId, l.action, { fields, uploads: form.uploads });
    } catch (err) {
      await d.ledger.web.releaseLinkSubmission(nonce);
      throw err;
    }
    if ('error' in result) {
      await d.ledger.web.releaseLinkSubmission(nonce);
      return this.render(req, reply, l, { error: result.error, status: 422 });
    }
    const receipt = this.receipt(l, form, now);
    await d.ledger.web.finishLinkSubmission(nonce, JSON.stringify(receipt));
    return d.page(reply, pages.linkDonePage(d.ctxOf(req), receipt, false));
  }
}

export function linkRoutes(app: FastifyInstance, d: WebContext): void {
  const links = new LinkRoutes(d);
  app.get('/a/:token/:action', async (req, reply) => {
    const l = await links.check(req, reply);
    if (!l) return reply;
    return links.render(req, reply, l);
  });
  app.post('/a/:token/:action', async (req, reply) => {
    const l = await links.check(req, reply);
    if (!l) return reply;
    return links.submit(req, reply, l);
  });
}
