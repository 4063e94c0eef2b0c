/**
 * Every refusal a page or the command line can show is Chinese (#19 item 7). Two nets: the source of every refusal
 * (each `refuse(...)` and each problem the text and evidence checks return) must carry Chinese text, and the state
 * machine driven with random requests of every kind, on trackers of every completion kind, at random instants,
 * must refuse only in Chinese.
 */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Refusal, RequestName } from '../../domain/requests';
import { TrackerState } from '../../domain/tracker-state';
import { checkEvidence, checkText } from '../../domain/tracking';
import { periodWords } from '../../domain/words';
import { Driver, at } from '../support/driver';
import { tracker } from '../support/trackers';

const CHINESE = /[\u4e00-\u9fff]/;

/** The text of each call `name(` ... `)` in a source, balanced on parentheses. */
function callArguments(source: string, name: string): string[] {
  const found: string[] = [];
  for (let i = source.indexOf(`${name}(`); i >= 0; i = source.indexOf(`${name}(`, i + 1)) {
    let depth = 0;
    let j = i + name.length;
    for (; j < source.length; j++) {
      if (source[j] === '(') depth++;
      else if (source[j] === ')' && --depth === 0) break;
    }
    found.push(source.slice(i + name.length + 1, j));
  }
  return found;
}

/** Literal text of an argument ('…', `…` without its ${…} parts); empty when it passes a variable on. */
function literalText(arg: string): string {
  const literals = arg.match(/'[^']*'|`(?:[^`\\]|\\.)*`/g) ?? [];
  return literals.map((l) => l.replace(/\$\{[^}]*\}/g, '')).join('');
}

const source = (file: string) => readFileSync(path.join(__dirname, '../../domain', file), 'utf8');

describe('refusals are Chinese', () => {
  test.each(['period-state.ts', 'tracker-state.ts'])('every refuse(...) in domain/%s has Chinese text', (file) => {
    const args = callArguments(source(file), 'this.refuse').filter((a) => a.trim() !== 'message: string');
    expect(args.length).toBeGreaterThan(10);
    const english = args.filter((a) => literalText(a) !== '' && !CHINESE.test(literalText(a)));
    expect(english).toEqual([]);
  });

  test('every problem the text and evidence checks return is Chinese', () => {
    const returns = [...source('tracking.ts').matchAll(/return (`(?:[^`\\]|\\.)*`|'[^']*')/g)].map((m) => m[1]!);
    const problems = returns.filter((r) => !/^'(on_time|on_time_extended|late|waived|done|red|yellow|green)'$/.test(r));
    expect(problems.length).toBeGreaterThan(8);
    expect(problems.filter((r) => !CHINESE.test(literalText(r)))).toEqual([]);
    expect(checkText('理由', '', true)).toBe('理由为必填项');
    expect(checkEvidence({ files: [{ name: 'a.pdf', type: 'application/pdf', size: 1, sha256: 'x' }] })).toMatch(
      /^第1个佐证文件（a\.pdf）缺少 SHA-256/,
    );
  });

  test('the examples the issue named read as people expect', () => {
    const d = Driver.start(tracker({ obligation: { verification: true } }), at('2026-01-02'));
    d.act('submit', { by: '黄丽娟', evidence: { text: '已报送' } });
    d.refused('submit', { by: '黄丽娟', evidence: { text: '再报' } }, /^2025年度已报送$/);
    d.refused('verify', { by: '办公室', decision: 'return', reason: '' }, /^退回理由为必填项$/);
    d.refused('acknowledge', { by: 'x', period: '2019' }, /^2019年度未开放；开放中的：2025年度、2026年度$/);
    expect(periodWords('once')).toBe('一次性');
  });

  const names: RequestName[] = [
    'submit',
    'record',
    'verify',
    'requestExtension',
    'decideExtension',
    'waive',
    'acknowledge',
    'progress',
    'report',
    'pause',
    'resume',
    'retire',
  ];
  const kinds = [
    {},
    { completion: 'quota' as const, quota: 2, due: { rule: 'period-end' as const } },
    { completion: 'rate' as const, threshold: 90, verification: true },
    { completion: 'count' as const, threshold: 3 },
  ];
  const anything = fc.oneof(
    fc.constant(undefined),
    fc.constant(''),
    fc.constant('  '),
    fc.string({ maxLength: 6 }),
    fc.constantFrom('2026', '2025', '2019', 'once', '2026-02-30', '2026-03-10', '2027-12-31', 'not-an-email'),
    fc.integer({ min: -5, max: 30 }),
    fc.boolean(),
    fc.constant({}),
    fc.constant({ link: 'ftp://x' }),
    fc.constant({ text: 'ok' }),
  );
  const request = fc.record(
    {
      by: fc.oneof(fc.constant('黄丽娟'), anything),
      email: anything,
      period: anything,
      evidence: anything,
      date: anything,
      topic: anything,
      decision: fc.oneof(fc.constantFrom('accept', 'return'), anything),
      rating: fc.oneof(fc.constantFrom('优秀', '良好'), anything),
      reason: anything,
      newDue: anything,
      approve: anything,
      note: anything,
      numerator: anything,
      denominator: anything,
      count: anything,
      person: anything,
      hours: anything,
    },
    { requiredKeys: ['by'] },
  );

  test('the state machine, driven at random, refuses only in Chinese', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...kinds),
        fc.array(fc.tuple(fc.constantFrom(...names), request, fc.integer({ min: 0, max: 20 })), {
          minLength: 1,
          maxLength: 12,
        }),
        (kind, steps) => {
          const d = Driver.start(tracker({ obligation: kind }), at('2026-01-02'));
          let refusals = 0;
          for (const [name, req, days] of steps) {
            d.runUntil(d.now + days * 86_400_000);
            try {
              (d.t as TrackerState).check(name, req as never, d.now);
              d.act(name, req as never);
            } catch (err) {
              if (!(err instanceof Refusal)) throw err;
              refusals++;
              if (!CHINESE.test(err.message)) throw new Error(`refusal without Chinese: ${err.message}`);
            }
          }
          return refusals >= 0;
        },
      ),
      { numRuns: 300 },
    );
  });
});
