/**
 * Plan text as it arrives, made fit for the pattern rules: web-page noise dropped, broken lines joined, and beside
 * every paragraph a matching form (simplified characters, half-width punctuation) of exactly the same length, so a
 * rule that matches the matching form can quote the source's own characters at the same offsets (quotes stay
 * verbatim, traditional characters included; docs/catalog.md).
 *
 * Pure: no Node built-ins (importable anywhere, unit-tested in test/import/).
 */
import type * as OpenCCModule from 'opencc-js' with { 'resolution-mode': 'import' };

// opencc-js declares its types as an ES module but ships a CommonJS build, which `require` loads.
const OpenCC = require('opencc-js') as typeof OpenCCModule;

export interface Paragraph {
  /** The source's text, cleaned of noise, lines joined. Quotes are cut from it. */
  text: string;
  /** The same text for matching: simplified characters, half-width punctuation and digits; same length as text. */
  norm: string;
  /** The 1-based line of the cleaned input where the paragraph starts. */
  line: number;
}

export interface Noise {
  line: number;
  text: string;
  why: string;
}

export interface CleanText {
  paragraphs: Paragraph[];
  /** What was dropped, so the report can show it: a line or a fragment, and why. */
  noise: Noise[];
}

let converter: ((s: string) => string) | undefined;

/** 繁→简 with OpenCC's Traditional-to-Mainland tables (phrases as well as characters). */
export function toSimplified(text: string): string {
  const convert = (converter ??= OpenCC.Converter({ from: 't', to: 'cn' }));
  return convert(text);
}

/**
 * Simplified text of the same length as the input. OpenCC converts phrase by phrase and a phrase may change length
 * (rarely, e.g. regional vocabulary); then the text is converted one character at a time, which keeps offsets.
 */
export function alignedSimplified(text: string): string {
  const whole = toSimplified(text);
  if (whole.length === text.length) return whole;
  let out = '';
  for (const ch of text) {
    const one = toSimplified(ch);
    out += one.length === ch.length ? one : ch;
  }
  return out;
}

/** Full-width ASCII (！ to ～) and the ideographic space become their half-width forms; same length. */
export function halfWidth(text: string): string {
  return text.replace(/[\uFF01-\uFF5E\u3000]/g, (c) =>
    c === '\u3000' ? ' ' : String.fromCharCode(c.charCodeAt(0) - 0xfee0),
  );
}

/** The matching form of a text: simplified, half-width. */
export function matchingForm(text: string): string {
  return halfWidth(alignedSimplified(text));
}

// Pinyin in parentheses after characters, as some sites print it: 督办(dū bàn). Only latin letters with or
// without tone marks, and spaces, count: (2021—2025年) or (一) are never pinyin.
const PINYIN =
  /(?<=[\u4e00-\u9fff])[(（]\s*[a-zA-Zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňḿ]+(?:\s+[a-zA-Zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňḿ]+)*\s*[)）]/g;

// Mojibake: text in one encoding read as another leaves replacement characters and runs of bopomofo letters mixed
// with stray punctuation and question marks, e.g. "?。ㄒ唬" where "(一)" was. Chinese plans contain no bopomofo,
// so a run holding one is noise; it takes along the question marks and punctuation around it and at most one
// character right after it.
const MOJIBAKE =
  /[?？\uFFFD]*[。，、；：]?[?？\uFFFD]*[\u3105-\u312F\u31A0-\u31BF]+[\u4e00-\u9fff]?[?？\uFFFD]*|\uFFFD+/g;

// Navigation, share buttons and page furniture of government sites: lines made of such words and separators.
const NAV_LINE =
  /^(?:首页|首頁|当前位置|當前位置|您现在的位置|您的位置|字号|字號|小字号|小字號|中字号|大字号|打印|关闭|關閉|分享|分享到|收藏|返回顶部|返回|上一篇|下一篇|扫一扫|掃一掃|微信|微博|责任编辑|責任編輯|来源|來源|浏览次数|瀏覽次數|发布时间|發布時間|【|】|[\s|｜/·•>»›、:：,，\-\d年月日时分秒（）()]|大|中|小)+$/;
const BREADCRUMB = />>|›|»|＞＞|\s>\s/;
const SOURCE_LINE = /^\s*\d{4}年\d{1,2}月\d{1,2}日\s*\d{1,2}:\d{2}.*(来源|來源)/;
const PORTAL = /^(人民网|人民網|新华网|新華網|中国政府网|中國政府網)$/;

/** A numbering marker at the start of a line: 一、 (一) 1. (1) 第一条; a heading or an item starts there. */
export const NUMBERING =
  /^\s*(?:[一二三四五六七八九十百]+、|[(（][一二三四五六七八九十百]+[)）]|\d{1,3}[.．、](?!\d)|[(（]\d{1,3}[)）]|第[一二三四五六七八九十百]+[条章节])/;
// Where a line ends a sentence or a parenthetical: the next line starts afresh.
const CLOSED = /[。；;！!？?：:”」』)）〕】]\s*$/;
const TITLE_END = /(?:方案|要点|纲要|綱要|计划|計劃|意见|意見|规划|規劃|办法|辦法|通知)\s*$/;
const ANNOTATION_START = /^\s*[(（]?\s*(?:牵头单位|牽頭單位|责任单位|責任單位|配合单位|配合單位)/;

/**
 * Cleans a plan's text and cuts it into paragraphs.
 * - Lines of navigation and page furniture, the portal's name, the "date | source" line, breadcrumbs: dropped.
 * - Pinyin in parentheses and mojibake runs: cut out of the line.
 * - A line that does not end a sentence, followed by one that starts no numbered item, is a broken line: joined.
 *   Headings (a numbering marker and a short text) and short lines such as the title are never joined on.
 */
export function cleanText(raw: string): CleanText {
  const noise: Noise[] = [];
  const lines = raw.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  const kept: { text: string; line: number }[] = [];
  lines.forEach((original, i) => {
    const line = i + 1;
    let text = original.replace(/[\t\u00a0]/g, ' ');
    const trimmed = text.trim();
    if (trimmed === '') {
      kept.push({ text: '', line });
      return;
    }
    if (PORTAL.test(trimmed) || (trimmed.length <= 60 && BREADCRUMB.test(trimmed)) || SOURCE_LINE.test(trimmed)) {
      noise.push({ line, text: trimmed, why: '网页导航或来源行' });
      return;
    }
    if ((trimmed.length <= 40 && NAV_LINE.test(trimmed)) || menuLine(trimmed)) {
      noise.push({ line, text: trimmed, why: '网页导航或来源行' });
      return;
    }
    text = text.replace(PINYIN, (m) => {
      noise.push({ line, text: m, why: '括号中的拼音' });
      return '';
    });
    text = text.replace(MOJIBAKE, (m) => {
      noise.push({ line, text: m, why: '乱码' });
      return '';
    });
    kept.push({ text: text.trim(), line });
  });

  const paragraphs: Paragraph[] = [];
  let current: { text: string; line: number } | undefined;
  const flush = () => {
    if (current && current.text !== '')
      paragraphs.push({ text: current.text, norm: matchingForm(current.text), line: current.line });
    current = undefined;
  };
  for (const k of kept) {
    if (k.text === '') {
      flush();
      continue;
    }
    if (current && joins(current.text, k.text)) {
      current.text += k.text;
      continue;
    }
    flush();
    current = { ...k };
  }
  flush();
  return { paragraphs, noise };
}

/** A menu: three or more short items between separators (首页 | 政务公开 | 打印). */
function menuLine(line: string): boolean {
  if (line.length > 80) return false;
  const items = line.split(/\s*[|｜]\s*|\s{2,}/).filter((s) => s !== '');
  return items.length >= 3 && items.every((s) => s.length <= 8 && !/[。，,；;]/.test(s));
}

/** Whether `next` continues the broken line `previous`. */
function joins(previous: string, next: string): boolean {
  if (CLOSED.test(previous)) return false;
  if (NUMBERING.test(next) || ANNOTATION_START.test(next)) return false;
  if (previous.length < 20) return false;
  // A title line (…实施方案, …工作要点) ends its line though it has no full stop.
  if (previous.length <= 80 && TITLE_END.test(previous)) return false;
  if (NUMBERING.test(previous) && previous.length < 40 && !/[。；;]/.test(previous)) return false;
  return true;
}
