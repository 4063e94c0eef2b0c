/**
 * The web service's import (issue 23.3, docs/import.md "From the web service"): an administrator's uploaded plan
 * (.txt, .docx, .html) and unit list sheet (.xlsx, .csv), checked by content and size, run through the same
 * functions as `duban import` (import/), and the drafts kept for their uploader to download. Nothing is registered:
 * the drafts are files, not a catalog in the ledger.
 *
 * Drafts live in `<evidence folder>/drafts/<id>/` (the folder every web instance shares), each with `meta.json`
 * naming its owner; an id is a random 256-bit token; a set older than DRAFT_TTL_MS is removed by the next import.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse, stringify } from 'yaml';
import { FileProblem, InvalidInputError, loadInputs } from '../config/load';
import type { Directory } from '../domain/model';
import { validateDocuments } from '../domain/validate';
import { PlanImport, PlanReadError, importPlan } from '../import';
import { SheetReadError, importDirectory } from '../import/directory';
import { cleanName, detectKind, formatSize } from './evidence';
import { token } from './session';

/** How long a set of drafts can be downloaded. */
export const DRAFT_TTL_MS = 24 * 3600_000;

export type UploadKind = 'plan' | 'sheet';

const ALLOWED: Record<UploadKind, string[]> = { plan: ['txt', 'docx', 'html', 'htm'], sheet: ['xlsx', 'csv'] };
const KIND_WORDS: Record<UploadKind, string> = {
  plan: '工作方案请上传 .txt、.docx 或 .html 文件',
  sheet: '单位名录表请上传 .xlsx 或 .csv 文件',
};

export interface Upload {
  name: string;
  ext: string;
  data: Buffer;
}

/** Text, as far as bytes can tell: no NUL in its first 64 KB (UTF-16 and binary files have them). */
function looksLikeText(b: Buffer): boolean {
  return !b.subarray(0, 64 * 1024).includes(0);
}

/**
 * One uploaded file, checked: not empty, within the size limit, an extension of its kind, and content that is what
 * the extension says (a .docx or .xlsx is such a package, a .txt, .html or .csv is text). An error is in Chinese and
 * names the file.
 */
export function checkUpload(
  u: { name: string; data: Buffer } | undefined,
  kind: UploadKind,
  maxBytes: number,
): Upload | { error: string } {
  if (!u) return { error: `请选择文件：${KIND_WORDS[kind]}` };
  const name = cleanName(u.name);
  const ext = /\.([A-Za-z0-9]+)$/.exec(name)?.[1]?.toLowerCase() ?? '';
  if (u.data.length === 0) return { error: `文件“${name}”是空文件` };
  if (u.data.length > maxBytes) return { error: `文件“${name}”超过大小上限（${formatSize(maxBytes)}）` };
  if (!ALLOWED[kind].includes(ext)) {
    if (kind === 'plan' && ext === 'pdf')
      return { error: `文件“${name}”是 PDF：不读取 PDF（其文字层会丢失段落和序号），请另存为 .docx 或 .txt` };
    if (kind === 'plan' && ext === 'doc') return { error: `文件“${name}”是旧版 Word 格式：请另存为 .docx 后上传` };
    if (kind === 'sheet' && ext === 'xls') return { error: `文件“${name}”是旧版 Excel 格式：请另存为 .xlsx 后上传` };
    return { error: `文件“${name}”的类型不对：${KIND_WORDS[kind]}` };
  }
  const content = detectKind(u.data);
  const packaged = ext === 'docx' || ext === 'xlsx';
  if (packaged ? content !== ext : content !== undefined || !looksLikeText(u.data))
    return {
      error: `文件“${name}”的内容与扩展名不符（${content ? `内容是 ${content.toUpperCase()} 文件` : packaged ? `不是 .${ext} 文件` : '不是文本文件'}）`,
    };
  return { name, ext, data: u.data };
}

/** A sheet's problems in Chinese, each with its row and column as the sheet shows them. */
export async function directoryFromSheet(
  sheet: Upload,
  jurisdiction: string | undefined,
): Promise<{ yaml: string; units: number; directory: Directory } | { problems: string[] }> {
  let result: Awaited<ReturnType<typeof importDirectory>>;
  try {
    result = await importDirectory(sheet.data, sheet.name, { jurisdiction });
  } catch (e) {
    // exceljs on a damaged package: the file, in Chinese; the library's words are for the log.
    if (e instanceof SheetReadError) return { problems: [e.message] };
    return { problems: [`单位名录表“${sheet.name}”无法读取：请用 Excel 或 WPS 打开后另存为 .xlsx 或 .csv`] };
  }
  if (result.problems.length)
    return {
      problems: result.problems.map(
        (p) =>
          `${p.row > 0 ? `第${p.row}行` : ''}${p.column ? `，“${p.column}”列` : ''}${p.row > 0 ? '：' : ''}${p.message}`,
      ),
    };
  const checked = validateDocuments(undefined, parse(result.yaml));
  return { yaml: result.yaml, units: result.units, directory: checked.directory! };
}

export interface PlanDrafts {
  result: PlanImport;
  /** What `duban validate` says of the draft with the directory (a fault of the importer when not empty). */
  invalid: FileProblem[];
}

/** The plan through the importer, its drafts written to `dir` and checked together as `duban validate` would. */
export async function planDrafts(
  plan: Upload,
  directory: { yaml: string } | { registered: Directory },
  year: number | undefined,
  dir: string,
): Promise<PlanDrafts | { problems: string[] }> {
  const directoryYaml = 'yaml' in directory ? directory.yaml : stringify(directory.registered, { lineWidth: 0 });
  const asObject =
    'yaml' in directory ? validateDocuments(undefined, parse(directory.yaml)).directory! : directory.registered;
  let result: PlanImport;
  try {
    result = await importPlan(plan.data, plan.name, asObject, { year, eventsFile: DRAFT_FILES.events.file });
  } catch (e) {
    if (e instanceof PlanReadError) return { problems: [e.message] };
    throw e;
  }
  const files: [keyof typeof DRAFT_FILES, string | undefined][] = [
    ['catalog', result.yaml],
    ['events', result.eventsYaml],
    ['report', result.html],
    ['directory', directoryYaml],
  ];
  for (const [k, text] of files) if (text !== undefined) writeDraft(dir, k, text);
  let invalid: FileProblem[] = [];
  try {
    loadInputs({
      catalog: path.join(dir, DRAFT_FILES.catalog.file),
      directory: path.join(dir, DRAFT_FILES.directory.file),
      ...(result.eventsYaml ? { events: path.join(dir, DRAFT_FILES.events.file) } : {}),
    });
  } catch (e) {
    if (!(e instanceof InvalidInputError)) throw e;
    invalid = e.problems;
  }
  return { result, invalid };
}

/** The files of a set of drafts: their names on disk and in a download, their labels and types. */
export const DRAFT_FILES = {
  catalog: { file: 'draft-catalog.yaml', label: '任务清单草稿', type: 'text/yaml; charset=utf-8' },
  events: { file: 'draft-catalog.events.yaml', label: '事件文件', type: 'text/yaml; charset=utf-8' },
  report: { file: 'review.html', label: '审核报告', type: 'text/html; charset=utf-8' },
  directory: { file: 'directory.yaml', label: '单位名录', type: 'text/yaml; charset=utf-8' },
} as const;

const DRAFT_ID = /^[A-Za-z0-9_-]{43}$/;
const draftsRoot = (evidenceDir: string) => path.join(evidenceDir, 'drafts');

/** A new, empty set of drafts owned by `owner`; older sets are removed on the way. */
export function newDraftSet(evidenceDir: string, owner: string, now = Date.now()): { id: string; dir: string } {
  pruneDrafts(evidenceDir, now);
  const id = token();
  const dir = path.join(draftsRoot(evidenceDir), id);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(path.join(dir, 'meta.json'), JSON.stringify({ owner, createdAt: now }));
  return { id, dir };
}

export function writeDraft(dir: string, key: keyof typeof DRAFT_FILES, text: string): void {
  writeFileSync(path.join(dir, DRAFT_FILES[key].file), text);
}

/** A draft file for its owner while it lasts; undefined for anyone else, an unknown id or file, or an old set. */
export function draftFile(
  evidenceDir: string,
  id: string,
  file: string,
  owner: string,
  now = Date.now(),
): { data: Buffer; type: string } | undefined {
  const known = Object.values(DRAFT_FILES).find((f) => f.file === file);
  if (!DRAFT_ID.test(id) || !known) return undefined;
  const dir = path.join(draftsRoot(evidenceDir), id);
  try {
    const meta = JSON.parse(readFileSync(path.join(dir, 'meta.json'), 'utf8')) as { owner: string; createdAt: number };
    if (meta.owner !== owner || now - meta.createdAt > DRAFT_TTL_MS) return undefined;
    const where = path.join(dir, file);
    return existsSync(where) ? { data: readFileSync(where), type: known.type } : undefined;
  } catch {
    return undefined;
  }
}

/** Removes a set of drafts that came to nothing (the plan could not be read). */
export function discardDraftSet(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Removes the sets of drafts older than DRAFT_TTL_MS. */
export function pruneDrafts(evidenceDir: string, now = Date.now()): void {
  const root = draftsRoot(evidenceDir);
  if (!existsSync(root)) return;
  for (const id of readdirSync(root)) {
    const dir = path.join(root, id);
    try {
      if (now - statSync(dir).mtimeMs > DRAFT_TTL_MS) rmSync(dir, { recursive: true, force: true });
    } catch {
      // Removed meanwhile by another instance.
    }
  }
}
