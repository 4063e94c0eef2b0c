/**
 * Import for administrators (`/import`, issue 23.3): a plan document and a unit list sheet uploaded, the same
 * drafts as `duban import plan` and `duban import directory` given back to download (web/imports.ts). Signed in,
 * administrators only (the settings' DUBAN_ADMINS), CSRF-checked like every form; nothing is registered.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { latestSnapshot } from '../../access/registered';
import type { Directory } from '../../domain/model';
import { Form, readForm } from '../actions';
import type { WebContext } from '../context';
import { ImportFormView, ImportResultView, importPage, importResultPage } from '../import-pages';
import {
  checkUpload,
  directoryFromSheet,
  discardDraftSet,
  draftFile,
  newDraftSet,
  planDrafts,
  writeDraft,
} from '../imports';
import { Signed, csrfRefused, forbidden, requireSignedIn, sameSecret } from '../session';

const ONLY_ADMINS = '只有系统管理员（DUBAN_ADMINS）可以导入工作方案和单位名录。';

/** The signed-in administrator, or undefined after answering (sign in first; others refused). */
function admin(d: WebContext, req: FastifyRequest, reply: FastifyReply): Signed | undefined {
  const s = requireSignedIn(d, req, reply);
  if (!s) return undefined;
  if (!s.person.admin) {
    void forbidden(d, req, reply, ONLY_ADMINS);
    return undefined;
  }
  return s;
}

/** The form's fields and files once its CSRF token is checked; undefined after refusing. */
async function checkedForm(d: WebContext, req: FastifyRequest, reply: FastifyReply, s: Signed) {
  const form = await readForm(req);
  if (!sameSecret(form.fields._csrf ?? '', s.csrf)) {
    void csrfRefused(d, req, reply);
    return undefined;
  }
  return form;
}

const field = (form: Form, name: string) => (form.fields[name] ?? '').trim();
const upload = (form: Form, name: string) => form.uploads.find((u) => u.field === name);

async function formPage(
  d: WebContext,
  req: FastifyRequest,
  reply: FastifyReply,
  extra: Pick<ImportFormView, 'errors' | 'values'> = {},
) {
  const registered = !!(await latestSnapshot(d.ledger));
  return d.page(
    reply.code(extra.errors ? 422 : 200),
    importPage(d.ctxOf(req), { registered, maxBytes: d.web.maxFileBytes, ...extra }),
  );
}

/** `/import/directory`: a sheet to a directory YAML, or every bad row in Chinese. */
async function importDirectoryForm(d: WebContext, req: FastifyRequest, reply: FastifyReply, s: Signed, form: Form) {
  const jurisdiction = field(form, 'jurisdiction') || undefined;
  const values = { jurisdiction: field(form, 'jurisdiction') };
  const refuse = (title: string, lines: string[]) =>
    formPage(d, req, reply, { errors: { form: 'directory', title, lines }, values });
  const sheet = checkUpload(upload(form, 'sheet'), 'sheet', d.web.maxFileBytes);
  if ('error' in sheet) return refuse('单位名录表无法导入', [sheet.error]);
  const made = await directoryFromSheet(sheet, jurisdiction);
  if ('problems' in made) return refuse(`单位名录表“${sheet.name}”有 ${made.problems.length} 处问题`, made.problems);
  const set = newDraftSet(d.evidenceDir, s.person.email);
  writeDraft(set.dir, 'directory', made.yaml);
  d.log({ level: 'info', msg: 'directory imported', who: s.person.email, units: made.units, drafts: set.id });
  const view: ImportResultView = {
    id: set.id,
    files: ['directory'],
    sources: [sheet.name],
    summary: [`单位名录草稿：${made.units} 个单位。`],
    review: ['领导（通报接收人）和所属地区不在表中，草稿中已注明，请核对。'],
    invalid: [],
    preview: { title: '单位名录草稿', text: made.yaml },
    next: 'duban validate 任务清单.yaml directory.yaml',
  };
  return d.page(reply, importResultPage(d.ctxOf(req), view));
}

/** `/import/plan`: a plan (and optionally its directory sheet) to the draft catalog, report and events. */
async function importPlanForm(d: WebContext, req: FastifyRequest, reply: FastifyReply, s: Signed, form: Form) {
  const values = { year: field(form, 'year'), jurisdiction: field(form, 'jurisdiction') };
  const refuse = (title: string, lines: string[]) =>
    formPage(d, req, reply, { errors: { form: 'plan', title, lines }, values });
  let year: number | undefined;
  if (values.year) {
    if (!/^\d{4}$/.test(values.year) || Number(values.year) < 2000 || Number(values.year) > 2100)
      return refuse('表单有误', [`“年度”：“${values.year}”不是 2000 至 2100 之间的年份，如 2027`]);
    year = Number(values.year);
  }
  const plan = checkUpload(upload(form, 'plan'), 'plan', d.web.maxFileBytes);
  if ('error' in plan) return refuse('工作方案无法导入', [plan.error]);
  let directory: { yaml: string } | { registered: Directory };
  const sources = [plan.name];
  if (upload(form, 'sheet')) {
    const sheet = checkUpload(upload(form, 'sheet'), 'sheet', d.web.maxFileBytes);
    if ('error' in sheet) return refuse('单位名录表无法导入', [sheet.error]);
    const made = await directoryFromSheet(sheet, values.jurisdiction || undefined);
    if ('problems' in made) return refuse(`单位名录表“${sheet.name}”有 ${made.problems.length} 处问题`, made.problems);
    directory = { yaml: made.yaml };
    sources.push(sheet.name);
  } else {
    const registered = (await latestSnapshot(d.ledger))?.directory;
    if (!registered) return refuse('缺少单位名录', ['尚未登记单位名录：请同时上传单位名录表（.xlsx 或 .csv）']);
    directory = { registered };
  }
  const set = newDraftSet(d.evidenceDir, s.person.email);
  const made = await planDrafts(plan, directory, year, set.dir);
  if ('problems' in made) {
    discardDraftSet(set.dir);
    return refuse('工作方案无法导入', made.problems);
  }
  const { result, invalid } = made;
  const dr = result.draft;
  d.log({ level: 'info', msg: 'plan imported', who: s.person.email, duties: dr.obligations.length, drafts: set.id });
  const commented = dr.obligations.filter((o) => o.commentedOut).length;
  const reviews = dr.obligations.reduce((n, o) => n + o.reviews.length, 0);
  const view: ImportResultView = {
    id: set.id,
    files: result.eventsYaml ? ['catalog', 'events', 'report', 'directory'] : ['catalog', 'report', 'directory'],
    sources,
    summary: [
      `《${dr.title}》：识别出 ${dr.obligations.length} 项有时限的任务${commented ? `（其中 ${commented} 项按人计，草稿中已注释）` : ''}，${result.analysis.untimed.length} 处没有时限的表述（不排期，见审核报告）。`,
      `需要核对的推断：${reviews} 处（草稿中的 # review: 注释）。单位名录：${'yaml' in directory ? '由上传的名录表生成' : '已登记的单位名录'}。`,
    ],
    review: dr.obligations.flatMap((o) =>
      o.unmapped.map((n) => `第${o.duty.line}行（${o.id}）：“${n}”在单位名录中找不到对应的单位或标签`),
    ),
    invalid: invalid.map((p) => `${p.file.split('/').pop()} 第${p.line}行 ${p.field}：${p.message}`),
    preview: { title: '任务清单草稿', text: result.yaml },
    next: `duban validate draft-catalog.yaml directory.yaml${result.eventsYaml ? ' --events draft-catalog.events.yaml' : ''}`,
  };
  return d.page(reply.code(invalid.length ? 422 : 200), importResultPage(d.ctxOf(req), view));
}

export function importRoutes(app: FastifyInstance, d: WebContext): void {
  app.get('/import', async (req, reply) => (admin(d, req, reply) ? formPage(d, req, reply) : reply));

  app.post('/import/directory', async (req, reply) => {
    const s = admin(d, req, reply);
    const form = s && (await checkedForm(d, req, reply, s));
    return s && form ? importDirectoryForm(d, req, reply, s, form) : reply;
  });

  app.post('/import/plan', async (req, reply) => {
    const s = admin(d, req, reply);
    const form = s && (await checkedForm(d, req, reply, s));
    return s && form ? importPlanForm(d, req, reply, s, form) : reply;
  });

  app.get('/import/drafts/:id/:file', async (req, reply) => {
    const s = admin(d, req, reply);
    if (!s) return reply;
    const { id, file } = req.params as { id: string; file: string };
    const found = draftFile(d.evidenceDir, id, file, s.person.email);
    if (!found)
      return d.message(req, reply, 404, '找不到草稿', '没有这份草稿，或已超过 24 小时，或不是您上传的。请重新导入。');
    return reply
      .type(found.type)
      .header('Content-Disposition', `attachment; filename="${file}"`)
      .header('Cache-Control', 'private, no-store')
      .send(found.data);
  });
}
