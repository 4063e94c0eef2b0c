/**
 * One click, one Update (docs/web.md): the form's fields and files become the tracker request of its action, the
 * files are checked and stored by hash, the Update goes through the one client module (access/temporal.ts), and
 * the status it returns names the period the files belong to (no second call to Temporal). The callers (a tracker
 * page's form, a signed link's form) have checked who the person is, that they may act, and the CSRF token.
 */
import type { FastifyRequest } from 'fastify';
import { RefusedError, UnknownTrackerError } from '../access/temporal';
import { transferTarget } from '../access/transfer';
import { cooperatorMay } from '../domain/actions';
import { RATINGS } from '../domain/tracking';
import type { Requests } from '../workflows/messages';
import type { WebContext } from './context';
import { CheckedFile, EvidenceError, checkFile, removeStoredFile, storeFile } from './evidence';
import type { Person, WebAction } from './roles';

export interface Form {
  fields: Record<string, string>;
  /** The files, each with its form field (`field`) and the name the person's computer gave it. */
  uploads: { name: string; data: Buffer; field?: string }[];
}

/** A form's fields and files: urlencoded, or multipart (files kept in memory until every check has passed). */
export async function readForm(req: FastifyRequest): Promise<Form> {
  const fields: Record<string, string> = {};
  const uploads: Form['uploads'] = [];
  if (req.isMultipart()) {
    for await (const part of req.parts()) {
      if (part.type === 'file') {
        const buffer = await part.toBuffer();
        // An empty file input still sends a part with no name and no bytes.
        if (part.filename || buffer.length) uploads.push({ name: part.filename, data: buffer, field: part.fieldname });
      } else {
        fields[part.fieldname] = String(part.value ?? '');
      }
    }
  } else {
    for (const [k, v] of Object.entries((req.body ?? {}) as Record<string, unknown>))
      fields[k] = String(Array.isArray(v) ? v[0] : (v ?? ''));
  }
  return { fields, uploads };
}

/** The form's files, checked; or what the person must fix. */
function checkedFiles(d: WebContext, action: WebAction, form: Form): CheckedFile[] | { error: string } {
  try {
    if (form.uploads.length && action !== 'submit' && action !== 'progress')
      throw new EvidenceError('该事项不接受附件');
    if (form.uploads.length > d.web.maxFiles) throw new EvidenceError(`附件最多 ${d.web.maxFiles} 个`);
    return form.uploads.map((u) => checkFile(u, { maxFileBytes: d.web.maxFileBytes }));
  } catch (err) {
    if (!(err instanceof EvidenceError)) throw err;
    return { error: `${err.message}，未作任何更改。` };
  }
}

/**
 * One action by one person on one tracker: files checked, stored by hash, the Update sent, the files recorded
 * (in the period the returned status names when the form named none). A refusal's message is the tracker's own.
 */
export async function performAction(
  d: WebContext,
  person: Person & { onBehalfOf?: string; cooperating?: string },
  trackerId: string,
  action: WebAction,
  form: Form,
): Promise<{ ok: true } | { error: string }> {
  const files = checkedFiles(d, action, form);
  if ('error' in files) return files;
  const request = buildRequest(action, form.fields, files, person);
  if ('problem' in request) return { error: request.problem };
  if (request.action === 'transfer') {
    // Levels: a 转办 acts on the target's tracker too, so the office must supervise the target directly (in one
    // level, an office supervises every unit it may give work to).
    if (request.request.to && !person.supervises.has(request.request.to))
      return { error: `只能转办给本督察单位直接督办的单位（“${request.request.to}”不是），未作任何更改。` };
    const target = await transferTarget(d.ledger, trackerId, request.request.to);
    if ('error' in target) return target;
    request.request.target = target.definition;
  }
  // Files are stored before the tracker hears of them, so a recorded hash always has its file; a refusal
  // removes the ones this request brought.
  const added = files.filter((f) => storeFile(d.evidenceDir, f));
  let status;
  try {
    status = await d.duban.act(trackerId, request.action, request.request);
  } catch (err) {
    for (const f of added)
      if (!(await d.ledger.web.evidenceReferenced(f.sha256))) removeStoredFile(d.evidenceDir, f.sha256);
    if (err instanceof RefusedError || err instanceof UnknownTrackerError) {
      d.log({
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
    await d.ledger.web.recordEvidenceFiles(
      files.map((f) => ({
        sha256: f.sha256,
        trackerId,
        period: request.request.period ?? status.periods[0]?.period ?? '',
        name: f.name,
        type: f.type,
        size: f.size,
        uploadedBy: `${person.name} <${person.email}>`,
        uploadedAt: Date.now(),
      })),
    );
  }
  d.log({
    level: 'info',
    msg: 'action',
    tracker: trackerId,
    action,
    who: person.email,
    files: files.map((f) => f.sha256),
  });
  return { ok: true };
}

/** A form's request, typed as the Update of its action (workflows/messages.ts), or what the person must fix. */
type BuiltRequest = { [A in WebAction]: { action: A; request: Requests[A] } }[WebAction] | { problem: string };

/** The tracker request for a form: the signed-in person as the actor, the form's fields in the Update's shape. */
export function buildRequest(
  action: WebAction,
  f: Record<string, string>,
  files: CheckedFile[],
  person: Person & { onBehalfOf?: string; cooperating?: string },
): BuiltRequest {
  const text = (k: string) => {
    const v = (f[k] ?? '').replace(/\r\n/g, '\n').trim();
    return v === '' ? undefined : v;
  };
  const base = {
    by: person.name,
    email: person.email,
    ...(person.onBehalfOf ? { onBehalfOf: person.onBehalfOf } : {}),
    // 协办: the cooperating unit the person acts for (from the directory, never from the form), on the actions a
    // cooperating unit takes; staff of the supervising office who also work for a cooperator verify as the office.
    ...(person.cooperating && cooperatorMay(action) ? { unit: person.cooperating } : {}),
    ...(text('period') ? { period: text('period') } : {}),
  };
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
    case 'urge':
      return { action, request: { ...base, note: text('note') } };
    case 'handBack':
    case 'refuseHandBack':
      return { action, request: { ...base, reason: text('reason') ?? '' } };
    case 'transfer':
      // The target unit's definition is added by performAction (it reads the registered directory).
      return { action, request: { ...base, to: text('to') ?? '', reason: text('reason') ?? '', target: undefined! } };
    case 'waive':
    case 'retire':
      return { action, request: { ...base, reason: text('reason') ?? '' } };
    case 'acknowledge':
    case 'pause':
    case 'resume':
      return { action, request: base };
  }
}
