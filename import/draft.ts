/**
 * The draft catalog: duties mapped to the directory and written as catalog YAML in duban's own format, every
 * inferred value with a `# review:` comment saying why, unmapped names listed at the top and beside their duty.
 * Also the events file that event-relative duties need to validate.
 */
import { stringify } from 'yaml';
import { DirectoryView, Target, mapName } from './rules/names';
import { Duty, DueRule, PlanAnalysis, Review } from './rules/duties';

export interface DraftObligation {
  id: string;
  title: string;
  duty: Duty;
  units: string[];
  tags: string[];
  lead?: string;
  /** Names that mapped to nothing (listed, never dropped). */
  unmapped: string[];
  reviews: Review[];
  /** Per-person duties need a roster the plan does not give: written commented out. */
  commentedOut: boolean;
}

export interface Draft {
  title: string;
  obligations: DraftObligation[];
  unmapped: string[];
  events: { id: string; note: string }[];
}

const scalar = (v: unknown) => stringify(v, { lineWidth: 0 }).trimEnd();

function targetsOf(names: string[], dir: DirectoryView, reviews: Review[], field: string, level?: string) {
  const units = new Set<string>();
  const tags = new Set<string>();
  const unmapped: string[] = [];
  for (const name of names) {
    const m = mapName(name, dir, level);
    if (m.targets.length === 0) {
      unmapped.push(name);
      continue;
    }
    for (const t of m.targets as Target[]) {
      if ('tag' in t) tags.add(t.tag);
      else units.add(t.unit);
    }
    if (m.how) reviews.push({ field, why: `“${name}”${m.how}` });
  }
  return { units: [...units], tags: [...tags], unmapped };
}

/** Whether a unit can carry a tracker: validation wants a supervisor for every assigned unit. */
function assignable(dir: DirectoryView, id: string): boolean {
  return dir.units.some((u) => u.id === id && u.supervisor !== undefined);
}

export function buildDraft(analysis: PlanAnalysis, dir: DirectoryView): Draft {
  const obligations: DraftObligation[] = [];
  const allUnmapped = new Set<string>();
  const used = new Set<string>();
  analysis.duties.forEach((duty) => {
    const reviews: Review[] = [...duty.reviews];
    const assigned = targetsOf(duty.assigneeNames, dir, reviews, 'assignees', analysis.level);
    const leads = targetsOf(duty.leadNames, dir, reviews, 'lead', analysis.level);
    const unmapped = [...assigned.unmapped, ...leads.unmapped];
    let units = assigned.units.filter((u) => {
      if (assignable(dir, u)) return true;
      reviews.push({
        field: 'assignees',
        why: `单位 ${u} 没有上级督察单位（supervisor），不能分派：已略去，请在名录中补充`,
      });
      return false;
    });
    const tags = assigned.tags.filter((t) => dir.units.some((u) => u.tags.includes(t) && u.supervisor !== undefined));
    if (units.length === 0 && tags.length === 0) {
      const fallback =
        dir.units.find((u) => u.kind === 'government' && u.supervisor) ?? dir.units.find((u) => u.supervisor);
      units = fallback ? [fallback.id] : [];
      reviews.push({
        field: 'assignees',
        why:
          duty.assigneeNames.length === 0
            ? `文件未写责任单位：暂定 ${fallback?.name ?? '（无）'}，请指定`
            : `“${duty.assigneeNames.join('、')}”未对应到名录：暂定 ${fallback?.name ?? '（无）'}，请指定`,
      });
    }
    const lead = leads.units.find((u) => dir.units.some((x) => x.id === u));
    if (leads.units.length > 1)
      reviews.push({ field: 'lead', why: `牵头单位有${leads.units.length}个，catalog 只记一个：取第一个` });
    for (const n of unmapped) allUnmapped.add(n);
    let id = `${duty.period === 'once' ? 'once' : duty.period}-l${duty.line}`;
    for (let k = 2; used.has(id); k++) id = `${duty.period === 'once' ? 'once' : duty.period}-l${duty.line}-${k}`;
    used.add(id);
    obligations.push({
      id,
      title: titleOf(duty),
      duty,
      units,
      tags,
      ...(lead ? { lead } : {}),
      unmapped,
      reviews,
      commentedOut: duty.completion === 'per-person',
    });
  });
  return {
    title: analysis.title,
    obligations,
    unmapped: [...allUnmapped],
    events: analysis.duties.flatMap((d) => (d.event ? [d.event] : [])),
  };
}

/** A title for notices: the quote without its leading date phrase, one line, at most 60 characters. */
function titleOf(d: Duty): string {
  const t = d.quote
    .replace(/^(?:\d{4}年(?:\d{1,2}月)?(?:年底|底|末)?(?:之?前|以前)?|确保|確保|严格|嚴格)[,，]?/, '')
    .replace(/\s+/g, ' ')
    .trim();
  return t.length > 60 ? `${t.slice(0, 59)}…` : t;
}

function dueYaml(due: DueRule): string {
  // Dates and month-days are quoted, as docs/catalog.md asks: "03-01" must never read as anything but text.
  const parts = Object.entries(due).map(
    ([k, v]) => `${k}: ${k === 'monthDay' || k === 'date' ? JSON.stringify(v) : scalar(v)}`,
  );
  return `{ ${parts.join(', ')} }`;
}

/** The catalog YAML text of a draft. */
export function draftYaml(draft: Draft, source: string, options: { year?: number; eventsFile?: string } = {}): string {
  const lines: string[] = [];
  lines.push(`# 任务清单草稿（draft catalog），由 \`duban import plan\` 从 ${source} 导入。`);
  lines.push(`# 《${draft.title}》：${draft.obligations.length}项有时限的任务。导入不登记任何任务。`);
  lines.push('# 请核对每一处 `# review:` 注释，然后先运行 `duban validate` 和 `duban plan`，再运行 `duban register`。');
  if (draft.events.length)
    lines.push(`# 以事件计时的任务引用了 ${options.eventsFile ?? '事件文件'} 中的事件：请用 --events 给出该文件。`);
  if (draft.unmapped.length) {
    lines.push('#');
    lines.push('# 单位名录中没有对应单位或标签的名称（请加入单位名录，或手工指定承办单位）：');
    for (const n of draft.unmapped) lines.push(`#   - ${n}`);
  }
  lines.push('');
  lines.push('timeZone: Asia/Shanghai');
  lines.push('noticeHour: 9');
  lines.push('obligations:');
  const active = draft.obligations.filter((o) => !o.commentedOut);
  for (const o of draft.obligations) {
    const block = obligationYaml(o, draft.title, options.year ?? new Date().getUTCFullYear());
    if (o.commentedOut) {
      lines.push('  # review: 按人计的任务，在有人员名单前已注释（见 docs/catalog.md，per-person quotas）：');
      for (const l of block) lines.push(`  # ${l.slice(2)}`);
    } else lines.push(...block);
    lines.push('');
  }
  if (active.length === 0) lines.push('  []');
  return `${lines.join('\n').trimEnd()}\n`;
}

function obligationYaml(o: DraftObligation, document: string, year: number): string[] {
  const d = o.duty;
  const out: string[] = [];
  const by = (field: string) => o.reviews.filter((r) => r.field === field);
  const comment = (field: string, indent: string) => by(field).map((r) => `${indent}# review: ${r.why}`);
  out.push(`  # 第${d.line}行${d.article ? `，${d.article}` : ''}`);
  if (o.unmapped.length) out.push(`  # review: 单位名录中没有的名称：${o.unmapped.join('、')}`);
  out.push(`  - id: ${o.id}`);
  out.push(`    # review: 标题取自原文；请缩短为单位须做的事`);
  out.push(`    title: ${scalar(o.title)}`);
  out.push('    basis:');
  out.push(`      - document: ${scalar(document)}`);
  if (d.article) out.push(`        article: ${scalar(d.article.slice(0, 200))}`);
  out.push(`        quote: ${scalar(d.quote)}`);
  out.push(...comment('assignees', '    '));
  out.push('    assignees:');
  if (o.units.length) out.push(`      units: [${o.units.join(', ')}]`);
  if (o.tags.length) out.push(`      tags: [${o.tags.map((t) => scalar(t)).join(', ')}]`);
  out.push(...comment('lead', '    '));
  if (o.lead) out.push(`    lead: ${o.lead}`);
  out.push(...comment('period', '    '));
  out.push(...comment('anchor', '    '));
  out.push(`    period: ${d.period}`);
  if (d.every) out.push(`    every: ${d.every}`, `    anchor: ${year}`);
  out.push(...comment('due', '    '));
  out.push(`    due: ${dueYaml(d.due)}`);
  out.push(...comment('completion', '    '));
  if (d.completion !== 'single') out.push(`    completion: ${d.completion}`);
  if (d.quota !== undefined) out.push(`    quota: ${d.quota}`);
  if (d.completion === 'per-person') out.push('    roster: 执法人员', `    quotaUnit: ${d.quotaUnit ?? 'hours'}`);
  if (d.threshold !== undefined) out.push(`    threshold: ${d.threshold}`);
  if (d.measure) out.push(`    measure: ${scalar(d.measure)}`);
  return out;
}

/** The events file for the draft's event-relative duties: dates left out until known. */
export function eventsYaml(draft: Draft): string {
  const lines = ['# 任务清单草稿的事件（duban import plan）：日期确定后逐一填写。', 'events:'];
  for (const e of draft.events) {
    lines.push(`  - id: ${e.id}`);
    lines.push(`    note: ${scalar(e.note)}`);
    lines.push('    # date: "YYYY-MM-DD"');
  }
  if (draft.events.length === 0) lines.push('  []');
  return `${lines.join('\n')}\n`;
}
