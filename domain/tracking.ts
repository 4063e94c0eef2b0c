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
  if (value === undefined || value === null || value === '') return required ? `${label} is required` : undefined;
  if (typeof value !== 'string') return `${label} must be text`;
  if (value.trim() === '') return required ? `${label} is required` : `${label} is empty`;
  if (value.length > MAX_TEXT) return `${label} is longer than ${MAX_TEXT} characters`;
  // Terminal escapes and other control characters have no place in a record people read on screens and paper.
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u2028\u2029]/.test(value))
    return `${label} contains control characters`;
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
  const needed = 'evidence is required: a note, a link, a document number or a file';
  if (e === undefined || e === null) return required ? needed : undefined;
  if (typeof e !== 'object') return needed;
  for (const [label, value] of [
    ['evidence text', e.text],
    ['evidence link', e.link],
    ['document number', e.documentNumber],
  ] as const) {
    const problem = checkText(label, value, false);
    if (problem) return problem;
  }
  if (e.link && !/^https?:\/\/\S+$/i.test(e.link)) return `evidence link "${e.link}" is not an http(s) address`;
  const files = e.files ?? [];
  if (!Array.isArray(files)) return 'evidence files must be a list';
  if (files.length > MAX_EVIDENCE_FILES) return `at most ${MAX_EVIDENCE_FILES} evidence files`;
  for (const [i, f] of files.entries()) {
    if (!f || typeof f !== 'object') return `evidence file ${i + 1} is not a file record`;
    const name =
      checkText(`evidence file ${i + 1} name`, f.name, true) ??
      (f.name.length > 255 ? `evidence file ${i + 1} name is longer than 255 characters` : undefined);
    if (name) return name;
    if (typeof f.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(f.sha256))
      return `evidence file ${i + 1} (${f.name}) has no SHA-256 hash`;
    if (typeof f.type !== 'string' || !/^[a-z]+\/[a-z0-9.+-]+$/i.test(f.type))
      return `evidence file ${i + 1} (${f.name}) has no media type`;
    if (!Number.isSafeInteger(f.size) || f.size <= 0) return `evidence file ${i + 1} (${f.name}) has no size`;
  }
  if (required && !e.text && !e.link && !e.documentNumber && files.length === 0) return needed;
  return undefined;
}

/** The number of a 督办单 (a level-2 escalation) as documents write it, e.g. 督〔2027〕12号: unique per office and year. */
export function supervisionNumberText(year: number, n: number): string {
  return `督〔${year}〕${n}号`;
}
