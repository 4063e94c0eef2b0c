/**
 * The pure rules of a running tracker: outcomes (DOMAIN.md 15), board colours (DOMAIN.md 11) and the checks of
 * user-supplied text and evidence. Used by the period state machine (period-state.ts).
 */

export type Outcome = 'on_time' | 'on_time_extended' | 'late' | 'missed' | 'waived';
export type Colour = 'green' | 'yellow' | 'red' | 'done' | 'waived';
export const RATINGS = ['优秀', '良好', '合格', '不合格'] as const;
export type Rating = (typeof RATINGS)[number];

/**
 * How a completed period counts: on time by the original due; on time with extension by an approved later due;
 * late otherwise. A period that closed with no completion is missed.
 */
export function completionOutcome(completedAt: number, originalDueAt: number, extendedDueAt?: number): Outcome {
  if (completedAt <= originalDueAt) return 'on_time';
  if (extendedDueAt !== undefined && completedAt <= extendedDueAt) return 'on_time_extended';
  return 'late';
}

/** The same rule by dates (YYYY-MM-DD), for quotas judged by the day the events took place. */
export function completionOutcomeByDate(completedOn: string, originalDue: string, extendedDue?: string): Outcome {
  if (completedOn <= originalDue) return 'on_time';
  if (extendedDue !== undefined && completedOn <= extendedDue) return 'on_time_extended';
  return 'late';
}

export interface ColourInput {
  now: number;
  waived: boolean;
  complete: boolean;
  /** From this instant the item is near due: 3 working days before due (DOMAIN.md 11). */
  yellowAt: number;
  /** The due instant in force. */
  dueAt: number;
  /** Figures reported below the threshold (rate and count obligations): yellow before due whatever the date. */
  atRisk?: boolean;
}

export function colourAt(s: ColourInput): Colour {
  if (s.waived) return 'waived';
  if (s.complete) return 'done';
  if (s.now > s.dueAt) return 'red';
  if (s.now >= s.yellowAt || s.atRisk) return 'yellow';
  return 'green';
}

/** The next instant at which the colour changes by itself (green to yellow, yellow to red), if any. */
export function nextColourChange(s: ColourInput): number | undefined {
  if (s.waived || s.complete) return undefined;
  if (s.now < s.yellowAt && !s.atRisk) return s.yellowAt;
  if (s.now <= s.dueAt) return s.dueAt + 1;
  return undefined;
}

/** The longest text a request may carry (a note, a reason, a topic). */
export const MAX_TEXT = 2000;

/** Problems with user-supplied text, or undefined when it is acceptable. */
export function checkText(label: string, value: unknown, required: boolean): string | undefined {
  if (value === undefined || value === null || value === '') return required ? `${label}为必填项` : undefined;
  if (typeof value !== 'string') return `${label}须为文字`;
  if (value.trim() === '') return required ? `${label}为必填项` : `${label}为空`;
  if (value.length > MAX_TEXT) return `${label}超过${MAX_TEXT}个字符`;
  // Terminal escapes and other control characters have no place in a record people read on screens and paper.
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u2028\u2029]/.test(value)) return `${label}含有控制字符`;
  return undefined;
}

/** A file of evidence, kept by its content hash (DOMAIN.md 23); the bytes live outside the workflow. */
export interface EvidenceFile {
  name: string;
  /** Media type, as checked from the content. */
  type: string;
  size: number;
  sha256: string;
}

/** Evidence of a submission or a progress note (佐证材料): a note, a link, a document number and/or files. */
export interface Evidence {
  text?: string;
  link?: string;
  documentNumber?: string;
  files?: EvidenceFile[];
}

/** At most this many files per submission or progress note; their bytes are checked where they arrive. */
export const MAX_EVIDENCE_FILES = 20;

/** Problems with evidence, or undefined. `required`: at least one of a note, a link, a document number or a file. */
export function checkEvidence(e: Evidence | undefined, required = true): string | undefined {
  const needed = '须提供佐证材料：说明、链接、文号或文件至少一项';
  if (e === undefined || e === null) return required ? needed : undefined;
  if (typeof e !== 'object') return needed;
  for (const [label, value] of [
    ['佐证说明', e.text],
    ['佐证链接', e.link],
    ['文号', e.documentNumber],
  ] as const) {
    const problem = checkText(label, value, false);
    if (problem) return problem;
  }
  if (e.link && !/^https?:\/\/\S+$/i.test(e.link)) return `佐证链接“${e.link}”不是 http(s) 网址`;
  const files = e.files ?? [];
  if (!Array.isArray(files)) return '佐证文件须为列表';
  if (files.length > MAX_EVIDENCE_FILES) return `佐证文件最多${MAX_EVIDENCE_FILES}个`;
  for (const [i, f] of files.entries()) {
    if (!f || typeof f !== 'object') return `第${i + 1}个佐证文件不是文件记录`;
    const name =
      checkText(`第${i + 1}个佐证文件的名称`, f.name, true) ??
      (f.name.length > 255 ? `第${i + 1}个佐证文件的名称超过255个字符` : undefined);
    if (name) return name;
    if (typeof f.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(f.sha256))
      return `第${i + 1}个佐证文件（${f.name}）缺少 SHA-256 哈希值`;
    if (typeof f.type !== 'string' || !/^[a-z]+\/[a-z0-9.+-]+$/i.test(f.type))
      return `第${i + 1}个佐证文件（${f.name}）缺少文件类型`;
    if (!Number.isSafeInteger(f.size) || f.size <= 0) return `第${i + 1}个佐证文件（${f.name}）缺少文件大小`;
  }
  if (required && !e.text && !e.link && !e.documentNumber && files.length === 0) return needed;
  return undefined;
}

/** The number of a 督办单 (a level-2 escalation) as documents write it, e.g. 督〔2027〕12号: unique per office and year. */
export function supervisionNumberText(year: number, n: number): string {
  return `督〔${year}〕${n}号`;
}
