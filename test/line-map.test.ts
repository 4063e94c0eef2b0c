/**
 * The line-level source map of the workflow bundle (worker/line-map.ts): VLQ numbers read back as written, and a
 * cut-down map sends each generated line where the full map sends its first mapped column.
 */
import fc from 'fast-check';
import { decodeVlq, encodeVlq, lineLevelMap } from '../worker/line-map';

test('VLQ numbers read back as written', () => {
  expect(decodeVlq('AAAA')).toEqual([0, 0, 0, 0]);
  expect(decodeVlq('SAAQ')).toEqual([9, 0, 0, 8]);
  expect(decodeVlq('gCAAgB')).toEqual([32, 0, 0, 16]);
  expect(encodeVlq([-1, 1000, 0])).toBe('Dw+BA');
  fc.assert(
    fc.property(fc.array(fc.integer({ min: -(2 ** 30), max: 2 ** 30 }), { maxLength: 6 }), (values) => {
      expect(decodeVlq(encodeVlq(values))).toEqual(values);
    }),
  );
  expect(() => decodeVlq('A!')).toThrow(/not a base64 VLQ digit/);
  expect(() => decodeVlq('g')).toThrow(/ends inside a number/);
});

/** Absolute [source, line, column] of the first source segment of each generated line. */
function firstPerLine(mappings: string): ([number, number, number] | undefined)[] {
  let s = 0;
  let l = 0;
  let c = 0;
  return mappings.split(';').map((group) => {
    let first: [number, number, number] | undefined;
    for (const seg of group.split(',').filter(Boolean)) {
      const v = decodeVlq(seg);
      if (v.length < 4) continue;
      s += v[1]!;
      l += v[2]!;
      c += v[3]!;
      first ??= [s, l, c];
    }
    return first;
  });
}

test('each line keeps its first mapping, at column 0, and nothing else', () => {
  // Line 0: two segments from source 0; line 1: none; line 2: a column-only segment, then source 1; line 3: back.
  const segments = [
    [
      [4, 0, 10, 2],
      [9, 0, 1, 5, 0],
    ],
    [],
    [[3], [6, 1, -8, -7]],
    [[0, -1, 20, 0]],
  ];
  const mappings = segments.map((line) => line.map((seg) => encodeVlq(seg)).join(',')).join(';');
  const full = {
    version: 3 as const,
    sources: ['/build/domain/a.ts', '/build/workflows/b.ts'],
    names: ['x'],
    sourcesContent: ['...', '...'],
    mappings,
  };
  const cut = lineLevelMap(full, '/build');
  expect(cut.sources).toEqual(['domain/a.ts', 'workflows/b.ts']);
  expect(cut.names).toEqual([]);
  expect(cut).not.toHaveProperty('sourcesContent');
  expect(firstPerLine(cut.mappings)).toEqual(firstPerLine(full.mappings));
  expect(firstPerLine(full.mappings)).toEqual([[0, 10, 2], undefined, [1, 3, 0], [0, 23, 0]]);
  for (const group of cut.mappings.split(';').filter(Boolean)) {
    expect(group.split(',')).toHaveLength(1);
    expect(decodeVlq(group)[0]).toBe(0);
  }
});
