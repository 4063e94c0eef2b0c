/**
 * Numbers as plans write them: Arabic digits (full-width ones are made half-width before) or Chinese numerals
 * (一, 十五, 两), read with nzh. Pure.
 */
import Nzh from 'nzh';

/** A Chinese numeral or digits as written in a plan; undefined when it is not a number. */
export function readNumber(text: string): number | undefined {
  const t = text.trim();
  if (/^\d+(?:\.\d+)?$/.test(t)) return Number(t);
  // nzh reads 二 but not 两 / 兩 (the form used before a measure word: 两期, 两次): the same number.
  const zh = t.replace(/[两兩]/g, '二');
  if (!/^[零〇一二三四五六七八九十百千]+$/.test(zh)) return undefined;
  const n = Number(Nzh.cn.decodeS(zh));
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

/** The characters a number may be written with, for building patterns. */
export const NUMERAL = '(?:\\d+(?:\\.\\d+)?|[零〇一二两兩三四五六七八九十百]+)';
