/**
 * A source map cut down to one mapping a line: where each line of the workflow bundle came from (file and line),
 * without the column-by-column segments, the names and the sources' text of the full map.
 *
 * The SDK maps a stack trace through the bundle's inline map for every promise a workflow creates (for the
 * `__stack_trace` query) and for every error: with the full map that cost a worker about 100 MB and a tenth of its
 * CPU a notice (docs/performance.md); with no map at all every frame of workflow code read `null:null:null`. One
 * mapping a line keeps frames that name the source file and line (`domain/period-state.ts:212`) at a small part of
 * the cost. The full map still lies beside the bundle (dist/workflow-bundle.js.map) for tools.
 *
 * Source map v3 (https://sourcemaps.info/spec.html): `mappings` holds one group a generated line, separated by
 * `;`, of segments separated by `,`; a segment is 1, 4 or 5 base64 VLQ numbers: generated column (relative to the
 * previous segment of the line), then source index, original line, original column and name index, each relative
 * to the previous segment of the whole map.
 */

export interface SourceMapV3 {
  version: 3;
  file?: string;
  sources: string[];
  names?: string[];
  mappings: string;
  sourceRoot?: string;
  sourcesContent?: (string | null)[];
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DIGIT = new Map([...BASE64].map((c, i) => [c, i]));

/** The numbers of one segment, as written (relative values). */
export function decodeVlq(segment: string): number[] {
  const out: number[] = [];
  let value = 0;
  let shift = 0;
  for (const c of segment) {
    const digit = DIGIT.get(c);
    if (digit === undefined) throw new Error(`source map: '${c}' is not a base64 VLQ digit in "${segment}"`);
    value += (digit & 31) * 2 ** shift;
    if (digit & 32) {
      shift += 5;
      continue;
    }
    out.push(value & 1 ? -Math.floor(value / 2) : Math.floor(value / 2));
    value = 0;
    shift = 0;
  }
  if (shift !== 0) throw new Error(`source map: segment "${segment}" ends inside a number`);
  return out;
}

export function encodeVlq(values: number[]): string {
  let out = '';
  for (const v of values) {
    let rest = v < 0 ? -v * 2 + 1 : v * 2;
    do {
      let digit = rest % 32;
      rest = Math.floor(rest / 32);
      if (rest > 0) digit |= 32;
      out += BASE64[digit];
    } while (rest > 0);
  }
  return out;
}

/**
 * The map with, for each generated line, its first segment that names a source, moved to column 0; no names, no
 * sources' text. `relativeTo` strips that prefix from the sources (the build machine's checkout), so frames read
 * `domain/planner.ts:88`.
 */
export function lineLevelMap(map: SourceMapV3, relativeTo?: string): SourceMapV3 {
  let source = 0;
  let line = 0;
  let column = 0;
  // What the reduced map last wrote, for its own relative numbers.
  let outSource = 0;
  let outLine = 0;
  let outColumn = 0;
  const lines = map.mappings.split(';').map((group) => {
    let first: [number, number, number] | undefined;
    for (const segment of group.split(',')) {
      if (!segment) continue;
      const v = decodeVlq(segment);
      if (v.length < 4) continue;
      source += v[1]!;
      line += v[2]!;
      column += v[3]!;
      first ??= [source, line, column];
    }
    if (!first) return '';
    const out = encodeVlq([0, first[0] - outSource, first[1] - outLine, first[2] - outColumn]);
    [outSource, outLine, outColumn] = first;
    return out;
  });
  const prefix = relativeTo?.endsWith('/') ? relativeTo : relativeTo ? `${relativeTo}/` : undefined;
  return {
    version: 3,
    ...(map.file ? { file: map.file } : {}),
    sources: map.sources.map((s) => (prefix && s.startsWith(prefix) ? s.slice(prefix.length) : s)),
    names: [],
    mappings: lines.join(';'),
  };
}
