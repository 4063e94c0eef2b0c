/**
 * The one call the command line and the web service make: a plan's bytes and file name, and the directory, give
 * the draft catalog YAML, its events file, the review report HTML and the problems. Nothing is registered.
 */
import { Directory } from '../domain/model';
import { Draft, buildDraft, draftYaml, eventsYaml } from './draft';
import { readPlan } from './read';
import { reportHtml } from './report';
import { PlanAnalysis, analysePlan } from './rules/duties';
import { DirectoryView } from './rules/names';
import { ROOT_JURISDICTION } from '../domain/jurisdictions';
import { SAME_DUTY, quoteOverlap } from './rules/quotes';

export { PlanReadError } from './read';

export interface PlanImport {
  analysis: PlanAnalysis;
  draft: Draft;
  /** The draft catalog in duban's format. */
  yaml: string;
  /** The events file the draft's event-relative duties name (undefined when there are none). */
  eventsYaml?: string;
  /** The review report, one self-contained HTML file. */
  html: string;
  /** What a person must act on before the draft is usable: unmapped names, an empty result. */
  problems: string[];
}

export function directoryView(directory: Directory): DirectoryView {
  return {
    units: directory.units.map((u) => ({
      id: u.id,
      name: u.name,
      kind: u.kind,
      tags: [...(u.tags ?? [])],
      ...(u.supervisor ? { supervisor: u.supervisor } : {}),
      ...(u.jurisdiction !== undefined && u.jurisdiction !== ROOT_JURISDICTION ? { nested: true } : {}),
    })),
  };
}

/** Imports a plan's text (already read from its file). */
export function importPlanText(
  text: string,
  source: string,
  directory: Directory,
  options: { year?: number; eventsFile?: string } = {},
): PlanImport {
  // Without --year, dates before this year are past (DOMAIN.md 17) and cycles start this year.
  const year = options.year ?? new Date().getUTCFullYear();
  const analysis = analysePlan(text, { year });
  const draft = buildDraft(analysis, directoryView(directory));
  const problems: string[] = [];
  if (draft.obligations.length === 0) problems.push(`${source}：未找到有时限的任务（见审核报告中“没有时限的表述”）`);
  for (const n of draft.unmapped) problems.push(`${source}：“${n}”在单位名录中没有对应的单位或标签`);
  return {
    analysis,
    draft,
    yaml: draftYaml(draft, source, { year, eventsFile: options.eventsFile }),
    ...(draft.events.length ? { eventsYaml: eventsYaml(draft) } : {}),
    html: reportHtml(analysis, draft, source),
    problems,
  };
}

/** Imports a plan file's bytes: what the web upload calls (input bytes + file name). */
export async function importPlan(
  bytes: Uint8Array,
  fileName: string,
  directory: Directory,
  options: { year?: number; eventsFile?: string } = {},
): Promise<PlanImport> {
  return importPlanText(await readPlan(bytes, fileName), fileName, directory, options);
}

export interface Comparison {
  /** Drafted duties an obligation of the catalog already quotes. */
  covered: { id: string; obligation: string }[];
  /** Drafted duties no obligation of the catalog quotes: missing, or left out on purpose (say so in the catalog). */
  missing: { id: string; line: number; quote: string }[];
}

/** Which drafted duties a catalog already carries, by quote (any of an obligation's basis quotes). */
export function compareWithCatalog(draft: Draft, obligations: { id: string; quotes: string[] }[]): Comparison {
  const covered: Comparison['covered'] = [];
  const missing: Comparison['missing'] = [];
  for (const o of draft.obligations) {
    const hit = obligations.find((c) => c.quotes.some((q) => quoteOverlap(q, o.duty.quote) >= SAME_DUTY));
    if (hit) covered.push({ id: o.id, obligation: hit.id });
    else missing.push({ id: o.id, line: o.duty.line, quote: o.duty.quote });
  }
  return { covered, missing };
}
