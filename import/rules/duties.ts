/**
 * The pattern rules: a plan's paragraphs -> its time-bound duties and its not-time-bound items. Each rule states a
 * general pattern of Chinese administrative writing (docs/import.md lists them), never one seed's wording. Pure.
 *
 * A paragraph is cut into sentences (。；！？) and each sentence into clauses (，：). A clause carrying a time
 * element (a cadence, a date, an offset from an event, or a quantity: 不少于N次, N%, N人, N学时) starts a duty;
 * a clause that is only a time phrase ("2022年4月底前,") opens the duty of the clause after it; a clause with a
 * quantity but no cadence after a duty of the same sentence is a duty of its own with the sentence's cadence
 * ("每年至少安排4次…,至少组织1次…"). A clause with only an unquantified word (定期, 及时, 常态化, 持续…) is listed
 * as not time-bound (DOMAIN.md 16).
 */
import { NUMERAL, readNumber } from './numbers';
import { CleanText, NUMBERING, Paragraph, cleanText, matchingForm } from './text';
import { planLevel, splitNames, subjectNames } from './names';

export type Period = 'year' | 'half-year' | 'quarter' | 'month' | 'once';
export type DueRule =
  | { rule: 'period-end' }
  | { rule: 'next-month-day'; monthDay: string; before?: boolean }
  | { rule: 'in-period-month-day'; monthDay: string }
  | { rule: 'next-month-end' }
  | { rule: 'after-period-end'; days: number }
  | { rule: 'following-month-day'; day: number; before?: boolean }
  | { rule: 'fixed-date'; date: string }
  | { rule: 'before-event'; event: string; months: number };
export type Completion = 'single' | 'quota' | 'rate' | 'count' | 'per-person';

export interface Review {
  field: string;
  why: string;
}

export interface Duty {
  /** The source's words, verbatim (traditional characters kept). */
  quote: string;
  /** Where the quote is: paragraph index and offsets in its text. */
  paragraph: number;
  start: number;
  end: number;
  line: number;
  /** The numbering path: 一、(一) or 八、(二十九)加强对行政执法行为的制约和监督. */
  article: string;
  period: Period;
  every?: number;
  due: DueRule;
  completion: Completion;
  quota?: number;
  quotaUnit?: 'times' | 'hours';
  threshold?: number;
  measure?: string;
  event?: { id: string; note: string };
  /** 牵头单位 and 责任单位 as written (or the group words of the sentence when no 责任单位 is given). */
  leadNames: string[];
  assigneeNames: string[];
  /** Where the assignees came from. */
  assigneeSource: 'annotation' | 'sentence' | 'none';
  /** Group words in the rest of the duty's sentence, used when the quote itself names nobody. */
  contextNames?: string[];
  reviews: Review[];
}

export interface Untimed {
  quote: string;
  paragraph: number;
  start: number;
  end: number;
  line: number;
  article: string;
  word: string;
  why: string;
}

export interface PlanAnalysis {
  title: string;
  /** The plan's own level (区, 市, 州, 自治区…) from its title: 区政府 in a district's plan is the government itself. */
  level?: string;
  paragraphs: Paragraph[];
  duties: Duty[];
  untimed: Untimed[];
  noise: CleanText['noise'];
}

export interface AnalyseOptions {
  /** The year the plan is for (--year): anchors cycles of several years; dates before it are past. */
  year?: number;
}

const N = NUMERAL;
const re = (s: string, flags = '') => new RegExp(s, flags);

// ── cadences ────────────────────────────────────────────────────────────────────────────────────────────────────
const EVERY_N_YEARS = re(`每隔(${N})年|每(${N})年(?!内)(?=[^\\d]|$)`);
const HALF_YEAR = /每半年|半年一次|每个半年/;
const QUARTER = /每季度?|每个季度|按季度?|季度一次/;
const MONTH = /每月|每个月|按月|月度(?:报告|统计)/;
const YEAR = /每年|每一年|逐年|年度(?:报告|目录|计划报告)/;
const FIRST_HALF = /(?<!\d年)上半年/;
const YEAR_END = /(?<![\d年])(?:年底|年末)(?:之?前|以前)/;
const YEAR_CLOSE = /年终(?:述职|检查|总结)(?!相)/;

// ── dates ───────────────────────────────────────────────────────────────────────────────────────────────────────
// A dated target: 2022年4月底前, 2024年年底前, 2023年6月30日前. 到2025年 (a plan's horizon) is not a target, and
// neither is a date without 前/底 (a signature, a publication date).
const DATED =
  /(\d{4})年(?:(\d{1,2})月(?:(?:底|末)(?:之?前|以前)?|(\d{1,2})日(之?前|以前|前))|(?:年底|年末|底)(?:之?前|以前)?)/;
const BY_YEAR = /(\d{4})年(?:之前|以前|前)(?!\d)/;
const MONTH_DAY = /(?:每年)?(?<!\d年|\d)(\d{1,2})月(\d{1,2})日(之前|以前|前)/;
// 次月10日前 (by the 10th of the following month); 结束后15日内 (within 15 days after the period).
const NEXT_MONTH_DAY = /次月(\d{1,2})日(之前|以前|前)?/;
const DAYS_AFTER = /(?:结束|期满|届满)?后(\d{1,3})(?:日|天)内/;
const MONTH_END_IN_YEAR = /每年(\d{1,2})月(?:底|末)(?:之?前|以前)?/;

// ── events ──────────────────────────────────────────────────────────────────────────────────────────────────────
// "在…会议的1个月前", "有效期届满前6个月": N months before an event another body dates. "3年前" (three years ago)
// and "3月1日前" (by 1 March) are not: the first has no 个月, the second is a month-day.
const MONTHS_BEFORE = re(`(${N})个?月前|届满前(${N})个月|到期前(${N})个月`);

// ── quantities ──────────────────────────────────────────────────────────────────────────────────────────────────
const PER_PERSON = re(
  `(?:每人|人均)[^,]{0,8}?(?:不少于|不低于|至少|达到)(${N})(学时|课时|小时)|(?:培训时间|学习时间|学时|课时)[^,]{0,4}?(?:不少于|不低于|至少)(${N})(学时|课时|小时)`,
);
const RATE = /(不低于|不少于|达到|达|实现|保持在?|超过|高于|[率例重])?\s*(\d+(?:\.\d+)?)%/;
const PEOPLE = re(`(?:最少|不少于|不得少于|至少|不低于)(${N})(?:人|名)(?![次员])|(${N})(?:人|名)以上`);
const TIMES_COMPARED = re(
  `(?:不少于|不低于|至少|最少)[^,]{0,14}?(${N})(?:次|期|场|轮|批)|(${N})(?:次|期|场|轮)(?:以上|及以上)`,
);
const TIMES_BARE = re(`(${N})(?:次|期|场)(?![数级])`);
const TERM = /任期内/;
const VAGUE = /定期|及时|即时|按时|按期|常态化|持续|经常性?|适时|有计划地?|动态/;
const REPORT_VERB = /报告|报送|提交|公开|公示|备案|述职|签订|发布|清理/;
const PUBLISH = /向社会公开|公开发布|向社会公布/;

interface Features {
  period?: Period;
  every?: number;
  firstHalf?: boolean;
  yearEnd?: boolean;
  yearClose?: boolean;
  dated?: { date: string; text: string };
  monthDay?: { monthDay: string; before: boolean };
  nextMonthDay?: { day: number; before: boolean };
  daysAfter?: number;
  months?: number;
  perPerson?: { quota: number };
  rate?: number;
  people?: number;
  times?: number;
  timesBare?: number;
  term?: boolean;
  vague?: string;
  /** The trigger's text alone, to tell a bare time phrase ("2022年4月底前") from a clause with its action. */
  triggerText: string;
}

const pad = (n: number) => String(n).padStart(2, '0');
function lastDay(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}
function dayBefore(year: number, month: number, day: number): string {
  const d = new Date(Date.UTC(year, month - 1, day - 1));
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

function features(norm: string): Features {
  const f: Features = { triggerText: '' };
  const hit = (m: RegExpMatchArray | null) => {
    if (m) f.triggerText += m[0];
    return m;
  };
  let m: RegExpMatchArray | null;
  if ((m = hit(norm.match(EVERY_N_YEARS)))) {
    const n = readNumber(m[1] ?? m[2] ?? '');
    if (n !== undefined && n >= 2 && n <= 10) {
      f.period = 'year';
      f.every = n;
    }
  }
  if (!f.period) {
    if (hit(norm.match(HALF_YEAR))) f.period = 'half-year';
    else if (hit(norm.match(QUARTER))) f.period = 'quarter';
    else if (hit(norm.match(MONTH))) f.period = 'month';
    else if (hit(norm.match(YEAR))) f.period = 'year';
  }
  if (hit(norm.match(FIRST_HALF))) f.firstHalf = true;
  if (hit(norm.match(YEAR_END))) f.yearEnd = true;
  if (hit(norm.match(YEAR_CLOSE))) f.yearClose = true;
  if ((m = hit(norm.match(DATED)))) {
    const year = Number(m[1]);
    const month = m[2] ? Number(m[2]) : 12;
    let date: string;
    if (m[3]) date = m[4] ? dayBefore(year, month, Number(m[3])) : `${year}-${pad(month)}-${pad(Number(m[3]))}`;
    else date = `${year}-${pad(month)}-${pad(lastDay(year, month))}`;
    f.dated = { date, text: m[0] };
  } else if ((m = hit(norm.match(BY_YEAR)))) {
    f.dated = { date: `${Number(m[1]) - 1}-12-31`, text: m[0] };
  }
  if (!f.dated) {
    if ((m = hit(norm.match(MONTH_END_IN_YEAR)))) {
      const month = Number(m[1]);
      if (month >= 1 && month <= 12)
        f.monthDay = { monthDay: `${pad(month)}-${pad(lastDay(2027, month))}`, before: false };
    } else if ((m = hit(norm.match(MONTH_DAY)))) {
      const month = Number(m[1]);
      const day = Number(m[2]);
      if (month >= 1 && month <= 12 && day >= 1 && day <= lastDay(2028, month))
        f.monthDay = { monthDay: `${pad(month)}-${pad(day)}`, before: true };
    }
  }
  if ((m = hit(norm.match(NEXT_MONTH_DAY)))) {
    const day = Number(m[1]);
    if (day >= 1 && day <= 31) f.nextMonthDay = { day, before: m[2] !== undefined };
  }
  if ((m = hit(norm.match(DAYS_AFTER)))) f.daysAfter = Number(m[1]);
  if ((m = hit(norm.match(MONTHS_BEFORE)))) {
    const n = readNumber(m[1] ?? m[2] ?? m[3] ?? '');
    if (n !== undefined && n <= 120) f.months = n;
  }
  const rate = norm.match(RATE);
  const perPerson = norm.match(PER_PERSON);
  if (perPerson && !rate) {
    hit(perPerson);
    const n = readNumber(perPerson[1] ?? perPerson[3] ?? '');
    if (n !== undefined) f.perPerson = { quota: n };
  }
  if (rate && (rate[1] !== undefined || /率|比例|占比|比重|课时/.test(norm))) {
    hit(rate);
    const n = Number(rate[2]);
    if (n > 0 && n <= 100) f.rate = n;
  }
  if (!f.rate && !f.perPerson && (m = hit(norm.match(PEOPLE)))) f.people = readNumber(m[1] ?? m[2] ?? '');
  if (!f.rate && !f.perPerson && !f.people) {
    if ((m = hit(norm.match(TIMES_COMPARED)))) f.times = readNumber(m[1] ?? m[2] ?? '');
    else if ((m = norm.match(TIMES_BARE))) {
      const n = readNumber(m[1] ?? '');
      if (n !== undefined && n <= 100) {
        f.timesBare = n;
        f.triggerText += m[0];
      }
    }
  }
  if (TERM.test(norm)) f.term = true;
  const vague = norm.match(VAGUE);
  if (vague) f.vague = vague[0];
  return f;
}

const hasCadence = (f: Features) =>
  f.period !== undefined ||
  f.firstHalf ||
  f.yearEnd ||
  f.yearClose ||
  f.dated !== undefined ||
  f.monthDay !== undefined ||
  f.nextMonthDay !== undefined;
const hasQuantity = (f: Features) =>
  f.perPerson !== undefined || f.rate !== undefined || f.people !== undefined || f.times !== undefined;
/** Whether a clause carries a time element of its own (a bare 一次 counts only beside a cadence). */
const isTrigger = (f: Features) => hasCadence(f) || f.months !== undefined || hasQuantity(f);

interface Heading {
  kind: string;
  marker: string;
  title: string;
}

function markerKind(marker: string): string {
  if (/^第/.test(marker)) return 'article';
  if (/^[(（][一二三四五六七八九十百]/.test(marker)) return '(cn)';
  if (/^[(（]\d/.test(marker)) return '(n)';
  if (/^\d/.test(marker)) return 'n.';
  return 'cn、';
}

function articleOf(stack: Heading[]): string {
  if (stack.length === 0) return '';
  const last = stack[stack.length - 1]!;
  return (
    stack
      .slice(0, -1)
      .map((h) => h.marker)
      .join('') +
    last.marker +
    last.title
  );
}

const ANNOTATION = /[(]\s*(?:牵头单位|责任单位|配合单位)\s*[:]/;
const ANNOTATION_LINE = /^\s*[(]?\s*(?:牵头单位|责任单位|配合单位)\s*[:]/;

function parseAnnotation(norm: string): { lead: string[]; assignees: string[] } {
  const body = norm.replace(/^[\s(]+/, '').replace(/[)\s。]+$/, '');
  const lead: string[] = [];
  const assignees: string[] = [];
  for (const part of body.split(/[;]|(?=责任单位\s*:)|(?=配合单位\s*:)/)) {
    const m = part.match(/^\s*(牵头单位|责任单位|配合单位)\s*:\s*([\s\S]*)$/);
    if (!m) continue;
    const names = splitNames(m[2]!);
    if (m[1] === '牵头单位') lead.push(...names);
    else if (m[1] === '责任单位') assignees.push(...names);
  }
  return { lead, assignees };
}

/**
 * The plan's title: the first short line that ends with a kind of plan (方案, 要点, 纲要, 计划, 意见, 规划, 办法);
 * a covering 通知 and 责任单位 lines are not titles. Its index too, so it is not read as a duty.
 */
function findTitle(paragraphs: Paragraph[]): { title: string; index: number } {
  const kind = /(?:方案|要点|纲要|计划|意见|规划|办法)(?:\([^)]*\))?$/;
  let index = paragraphs.findIndex(
    (p) => p.text.length <= 80 && kind.test(p.norm.trim()) && !ANNOTATION_LINE.test(p.norm) && !NUMBERING.test(p.norm),
  );
  if (index < 0) index = paragraphs.findIndex((p) => p.text.length <= 60 && !ANNOTATION_LINE.test(p.norm));
  const t = index >= 0 ? paragraphs[index]!.text : '未命名文件';
  // The catalog writes the title without 《》, and a title quoted inside it with 〈〉 (docs/catalog.md).
  return {
    title: t
      .replace(/^《(.*)》$/, '$1')
      .replace(/《/g, '〈')
      .replace(/》/g, '〉')
      .trim(),
    index,
  };
}

/** Splits [start, end) of a text at the given separators; offsets kept. */
function spans(norm: string, start: number, end: number, separators: RegExp): [number, number][] {
  const out: [number, number][] = [];
  let s = start;
  for (let i = start; i < end; i++) {
    if (separators.test(norm[i]!)) {
      if (i > s) out.push([s, i]);
      s = i + 1;
    }
  }
  if (end > s) out.push([s, end]);
  return out;
}

/** Trims blanks and stray quotation marks off a span. */
function trimSpan(text: string, [s, e]: [number, number]): [number, number] {
  while (s < e && /[\s,，、]/.test(text[s]!)) s++;
  while (e > s && /[\s,，、]/.test(text[e - 1]!)) e--;
  return [s, e];
}

export function analysePlan(raw: string, options: AnalyseOptions = {}): PlanAnalysis {
  const clean = cleanText(raw);
  const paragraphs = clean.paragraphs;
  const { title, index: titleIndex } = findTitle(paragraphs);
  const duties: Duty[] = [];
  const untimed: Untimed[] = [];
  const stack: Heading[] = [];
  let pending: Duty[] = []; // duties waiting for a 责任单位 line of their own (seed 001's layout)
  let eventCount = 0;
  const made: { duty: Duty; f: Features; sentenceNorm: string; sentenceRest: string }[] = [];

  paragraphs.forEach((p, index) => {
    const norm = p.norm;
    if (ANNOTATION_LINE.test(norm)) {
      const { lead, assignees } = parseAnnotation(norm);
      for (const d of pending) assignWith(d, lead, assignees);
      pending = [];
      return;
    }
    const numbered = norm.match(NUMBERING);
    if (numbered) {
      const marker = p.text.slice(0, numbered[0].length).trim();
      const kind = markerKind(numbered[0].trim());
      const at = stack.findIndex((h) => h.kind === kind);
      if (at >= 0) stack.splice(at);
      const rest = p.text.slice(numbered[0].length);
      const cut = rest.search(/[。;；]/);
      stack.push({ kind, marker, title: (cut >= 0 ? rest.slice(0, cut) : rest).trim().slice(0, 40) });
    }
    if (index === titleIndex) return;
    let bodyEnd = norm.length;
    let annotation: { lead: string[]; assignees: string[] } | undefined;
    const a = norm.search(ANNOTATION);
    if (a >= 0 && !/。/.test(norm.slice(a))) {
      annotation = parseAnnotation(norm.slice(a));
      bodyEnd = a;
    }
    const article = articleOf(stack);
    const found: Duty[] = [];
    // A numbered item's marker (一、 (二) 3.) is not part of what the unit must do.
    const bodyStart = numbered ? numbered[0].length : 0;
    for (const sentence of spans(norm, bodyStart, bodyEnd, /[。;!?]/)) {
      const clauses = spans(norm, sentence[0], sentence[1], /[,:]/).map((c) => trimSpan(norm, c));
      let current: { duty: Duty; f: Features } | undefined;
      let carry: { span: [number, number]; f: Features } | undefined;
      const sentenceNorm = norm.slice(sentence[0], sentence[1]);
      for (const span of clauses) {
        if (span[1] <= span[0]) continue;
        const text = norm.slice(span[0], span[1]);
        let f = features(text);
        let from = span[0];
        if (carry) {
          f = merge(carry.f, f);
          from = carry.span[0];
          carry = undefined;
        }
        const bareCount = f.timesBare !== undefined && f.period !== undefined;
        if (f.term) {
          // 任期内至少一次: a term of office is not a calendar period (docs/catalog.md, per-person quotas).
          untimed.push(
            untimedItem(
              p,
              index,
              [from, span[1]],
              article,
              '任期内',
              '按任期计算：需要每位负责人的任职起止日期，不按年度排期',
            ),
          );
          continue;
        }
        if (isTrigger(f) || bareCount) {
          // A clause that is only its time phrase ("2022年4月底前,") belongs to the clause after it.
          if (text.replace(/[在于到]/g, '').length - f.triggerText.length <= 2 && !hasQuantity(f)) {
            carry = { span: [from, span[1]], f };
            continue;
          }
          if (current && !hasCadence(f) && f.months === undefined && !quantityOf(current.duty) && hasQuantity(f)) {
            // The quantity of the duty just opened: "每年开展评查,不少于2次".
            extend(current.duty, p, span[1]);
            applyQuantity(current.duty, f);
            continue;
          }
          const inherited = !hasCadence(f) && current ? current.f : undefined;
          const merged = inherited ? merge(inherited, f) : f;
          const duty = makeDuty(p, index, [from, span[1]], article, merged);
          made.push({ duty, f: merged, sentenceNorm, sentenceRest: norm.slice(span[1], sentence[1]) });
          found.push(duty);
          current = { duty, f: merged };
          continue;
        }
        if (f.vague) {
          // "…年度报告制度,按期向社会公开": the word says how the dated duty just found is done.
          if (current && current.duty.end === from - 1 && text.length <= 12) {
            extend(current.duty, p, span[1]);
            continue;
          }
          untimed.push(
            untimedItem(p, index, [from, span[1]], article, f.vague, `“${f.vague}”没有给出周期或期限（DOMAIN.md 16）`),
          );
        }
      }
    }
    if (annotation) for (const d of found) assignWith(d, annotation.lead, annotation.assignees);
    else pending.push(...found);
    duties.push(...found);
  });

  for (const m of made) {
    decide(m.duty, m.f, m.sentenceNorm);
    const rest = subjectNames(m.sentenceRest);
    if (rest.length) m.duty.contextNames = rest;
    if (m.duty.event) {
      m.duty.event.id = `event-${++eventCount}`;
      m.duty.due = { rule: 'before-event', event: m.duty.event.id, months: f0(m.duty.due) };
    }
  }
  for (const d of duties) finish(d, options, title);
  const level = planLevel(title);
  return { title, ...(level ? { level } : {}), paragraphs, duties, untimed, noise: clean.noise };
}

const f0 = (due: DueRule) => (due.rule === 'before-event' ? due.months : 1);

function merge(a: Features, b: Features): Features {
  const out: Features = { ...a };
  for (const [k, v] of Object.entries(b) as [keyof Features, unknown][]) {
    if (v !== undefined && k !== 'triggerText') (out as unknown as Record<string, unknown>)[k] = v;
  }
  out.triggerText = a.triggerText + b.triggerText;
  return out;
}

function quantityOf(d: Duty): boolean {
  return d.completion !== 'single';
}

function extend(d: Duty, p: Paragraph, end: number) {
  d.end = end;
  d.quote = p.text.slice(d.start, end);
}

function applyQuantity(d: Duty, f: Features) {
  if (f.perPerson) {
    d.completion = 'per-person';
    d.quota = f.perPerson.quota;
    d.quotaUnit = 'hours';
  } else if (f.rate !== undefined) {
    d.completion = 'rate';
    d.threshold = f.rate;
  } else if (f.people !== undefined) {
    d.completion = 'count';
    d.threshold = f.people;
  } else if (f.times !== undefined || f.timesBare !== undefined) {
    d.completion = 'quota';
    d.quota = f.times ?? f.timesBare;
  }
}

function makeDuty(p: Paragraph, index: number, [start, end]: [number, number], article: string, f: Features): Duty {
  const d: Duty = {
    quote: p.text.slice(start, end),
    paragraph: index,
    start,
    end,
    line: p.line,
    article,
    period: 'year',
    due: { rule: 'period-end' },
    completion: 'single',
    leadNames: [],
    assigneeNames: [],
    assigneeSource: 'none',
    reviews: [],
  };
  applyQuantity(d, f);
  return d;
}

/** Cadence, due rule and completion of a duty whose quote is complete (the clauses it took in are known). */
function decide(d: Duty, f: Features, sentenceNorm: string): void {
  const quoteNorm = matchingForm(d.quote);
  const p = { text: d.quote };
  const start = 0;
  const review = (field: string, why: string) => d.reviews.push({ field, why });

  // One report or one publication a period is a submission, not a count of events: "每年…报告1次".
  if (
    d.completion === 'quota' &&
    d.quota === 1 &&
    REPORT_VERB.test(quoteNorm) &&
    !/讲|学|培训|评查|检查|演练|旁听|活动/.test(quoteNorm)
  ) {
    d.completion = 'single';
    delete d.quota;
  }
  if (d.completion === 'rate') {
    const measure = quoteNorm.match(/([\u4e00-\u9fff]{2,16}?率)(?=[^率]*\d+(?:\.\d+)?%)/);
    if (measure) d.measure = p.text.slice(start + measure.index!, start + measure.index! + measure[1]!.length);
  }
  if (f.months !== undefined) {
    d.period = 'once';
    const note = (quoteNorm.match(/[^,]*?(?:会议|届满|到期)/)?.[0] ?? quoteNorm).slice(0, 40);
    d.event = { id: 'event', note: p.text.slice(start, start + note.length) };
    d.due = { rule: 'before-event', event: 'event', months: f.months };
    review(
      'due',
      `距事件${f.months}个月前：事件日期由他方确定，请在事件文件中填写日期（docs/catalog.md，事件相对期限）`,
    );
    return;
  }
  if (f.dated) {
    d.period = 'once';
    d.due = { rule: 'fixed-date', date: f.dated.date };
    if (/之前|以前|前/.test(f.dated.text) && /日/.test(f.dated.text))
      review('due', `“${f.dated.text}”的“之前”不含当日（DOMAIN.md 3）`);
    if (/^\d{4}年(?:之前|以前|前)$/.test(f.dated.text))
      review('due', `“${f.dated.text}”读作上一年12月31日之前；若指当年内完成，改为当年12月31日`);
    return;
  }
  if (f.every) {
    d.period = 'year';
    d.every = f.every;
    review('anchor', `每${f.every}年一个周期：文件未说明起始年份，请填写上一次完成的年份`);
  } else if (f.period) d.period = f.period;
  else if (f.nextMonthDay) {
    d.period = 'month';
    review('period', '“次月…日前”：读作每月一期，请核对');
  } else if (f.firstHalf || f.yearEnd || f.yearClose || f.monthDay) d.period = 'year';
  else {
    d.period = 'year';
    review('period', '文件未写周期（如“每年”）：按年度计，请核对');
  }
  if (f.nextMonthDay && d.period !== 'once') {
    d.due = {
      rule: 'following-month-day',
      day: f.nextMonthDay.day,
      ...(f.nextMonthDay.before ? { before: true } : {}),
    };
    if (f.nextMonthDay.before) review('due', '“之前”不含当日（DOMAIN.md 3）');
    return;
  }
  if (f.daysAfter !== undefined && d.period !== 'once') {
    d.due = { rule: 'after-period-end', days: f.daysAfter };
    return;
  }
  if (f.monthDay?.monthDay === '12-31' && !f.monthDay.before && d.period === 'year') {
    d.due = { rule: 'period-end' };
    return;
  }
  if (f.monthDay) {
    if (/上一?年度|上年/.test(sentenceNorm) || d.period !== 'year')
      d.due = { rule: 'next-month-day', monthDay: f.monthDay.monthDay, ...(f.monthDay.before ? { before: true } : {}) };
    else {
      const [mm, dd] = f.monthDay.monthDay.split('-').map(Number) as [number, number];
      const md = f.monthDay.before ? dayBefore(2027, mm, dd).slice(5) : f.monthDay.monthDay;
      d.due =
        md === '02-28'
          ? { rule: 'next-month-day', monthDay: '03-01', before: true }
          : { rule: 'in-period-month-day', monthDay: md };
      review('due', '每年的月日期限：读作当年内；若指报告上一年度情况，改为次年的月日');
    }
    if (f.monthDay.before) review('due', `“之前”不含当日（DOMAIN.md 3）`);
  } else if (f.firstHalf) {
    d.due = { rule: 'in-period-month-day', monthDay: '06-30' };
    review('due', '“上半年”：读作每年6月30日前');
  } else if (f.yearEnd) {
    d.due = { rule: 'period-end' };
    review('due', '“年底前”：读作每年12月31日');
  } else if (f.yearClose) {
    d.due = { rule: 'next-month-end' };
    review('due', '“年终”：读作次年1月底前，文件未给日期');
  } else if (d.period === 'year' && /年度报告/.test(quoteNorm) && PUBLISH.test(quoteNorm)) {
    d.due = { rule: 'next-month-day', monthDay: '04-01', before: true };
    review('due', '文件未给日期：按《法治政府建设与责任落实督察工作规定》年度报告每年4月1日之前向社会公开');
  } else if (
    d.period === 'year' &&
    /报告|报送/.test(quoteNorm) &&
    /法治政府建设|依法行政/.test(quoteNorm) &&
    d.completion === 'single'
  ) {
    // 法治政府建设与责任落实督察工作规定 (厅字〔2019〕28号): the yearly report before 1 March, published before 1 April.
    d.due = { rule: 'next-month-day', monthDay: '03-01', before: true };
    review('due', '文件未给日期：按《法治政府建设与责任落实督察工作规定》每年3月1日之前报告上一年度情况');
  } else if (d.completion === 'single' && d.period !== 'year' && REPORT_VERB.test(quoteNorm)) {
    d.due = { rule: 'after-period-end', days: 15 };
    review('due', '文件未给日期：读作期末后15日内报送，请核对');
  } else {
    d.due = { rule: 'period-end' };
    review('due', '文件未给日期：读作期末（周期最后一天）');
  }
  return;
}

function assignWith(d: Duty, lead: string[], assignees: string[]) {
  if (assignees.length === 0 && lead.length === 0) return;
  d.leadNames = lead;
  d.assigneeNames = assignees.length ? assignees : lead;
  d.assigneeSource = 'annotation';
}

function untimedItem(
  p: Paragraph,
  index: number,
  [start, end]: [number, number],
  article: string,
  word: string,
  why: string,
): Untimed {
  return { quote: p.text.slice(start, end), paragraph: index, start, end, line: p.line, article, word, why };
}

function finish(d: Duty, options: AnalyseOptions, _title: string) {
  // The duty's own sentence naming who acts ("政府各部门每年…") is more precise than the paragraph's 责任单位,
  // which covers every task of the paragraph.
  const own = subjectNames(matchingForm(d.quote));
  // "…届满前6个月,主要执行部门要开展…": the subject may follow the time phrase, later in the sentence.
  const names = own.length ? own : d.assigneeSource === 'annotation' ? [] : (d.contextNames ?? []);
  if (names.length) {
    if (d.assigneeSource === 'annotation')
      d.reviews.push({
        field: 'assignees',
        why: `句中写明“${names.join('、')}”，段末责任单位为“${d.assigneeNames.join('、')}”：按句中主体`,
      });
    d.assigneeNames = names;
    d.assigneeSource = 'sentence';
  }
  if (d.due.rule === 'fixed-date' && options.year !== undefined && Number(d.due.date.slice(0, 4)) < options.year)
    d.reviews.push({
      field: 'due',
      why: `${d.due.date} 早于 ${options.year} 年：已过期的一次性任务，保留或删除（DOMAIN.md 17）`,
    });
  if (d.completion === 'per-person')
    d.reviews.push({ field: 'completion', why: '每人达标：需要名册（rosters.csv）列出每个单位的人员，草稿中先注释掉' });
  if (d.completion === 'count' || d.completion === 'rate')
    d.reviews.push({ field: 'completion', why: '一项标准：请确认按年度报送数据核对' });
}
