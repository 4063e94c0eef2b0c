/**
 * Comparing quotes: the same words of a plan, whatever their characters (繁/简), width or punctuation. Used to
 * tell which drafted duties a catalog already carries (`duban import plan --compare`) and by the import bench. Pure.
 */
import { matchingForm } from './text';

/** A quote reduced to its words: simplified, no punctuation or blanks. */
export const quoteKey = (s: string) => matchingForm(s).replace(/[\s,.:;!?()"“”‘’、。《》〈〉〔〕\-—%]/g, '');

function longestCommon(a: string, b: string): number {
  let best = 0;
  const prev = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    let diag = 0;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = a[i - 1] === b[j - 1] ? diag + 1 : 0;
      if (prev[j]! > best) best = prev[j]!;
      diag = up;
    }
  }
  return best;
}

/** How much of the shorter quote the two share as one run of words: 0 (nothing) to 1 (one contains the other). */
export function quoteOverlap(a: string, b: string): number {
  const x = quoteKey(a);
  const y = quoteKey(b);
  if (!x || !y) return 0;
  if (x.includes(y) || y.includes(x)) return 1;
  // Different numbers are different duties however much else is shared: 2022年…盟市…90% and 2024年…旗县…90%.
  const numbers = (k: string) => (k.match(/\d+/g) ?? []).join(' ');
  if (numbers(x) !== numbers(y)) return 0;
  // A short shared run (出庭应诉率) is a shared term, not the same duty.
  const common = longestCommon(x, y);
  return common < 8 ? 0 : common / Math.min(x.length, y.length);
}

/** Two quotes are of the same duty when they share most of the shorter one. */
export const SAME_DUTY = 0.6;
