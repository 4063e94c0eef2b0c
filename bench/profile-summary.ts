/**
 * Summarises the `.cpuprofile` files of a folder (bench/profile-window.ts writes them): per file, the busy time and
 * where it went, by package or project file and by function, self time, largest first.
 *
 *   node dist/bench/profile-summary.js /tmp/prof [top=25]
 */
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface Profile {
  nodes: { id: number; callFrame: CallFrame; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

/** A package (`@temporalio/worker`), a project file (`activities/delivery.js`) or a V8 category (`(idle)`). */
function placeOf(cf: CallFrame): string {
  const url = cf.url;
  if (!url) return `(${cf.functionName || 'native'})`;
  if (url.startsWith('node:')) return 'node:';
  const nm = url.split('node_modules/');
  if (nm.length > 1) {
    const parts = nm[nm.length - 1]!.split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  const dist = url.split('/dist/');
  return dist.length > 1 ? dist[dist.length - 1]! : url;
}

function summarise(file: string, top: number): string[] {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const frames = new Map(p.nodes.map((n) => [n.id, n.callFrame]));
  const places = new Map<string, number>();
  const functions = new Map<string, number>();
  let total = 0;
  let idle = 0;
  p.samples.forEach((id, i) => {
    const us = p.timeDeltas[i] ?? 0;
    const cf = frames.get(id)!;
    total += us;
    if (cf.functionName === '(idle)') {
      idle += us;
      return;
    }
    const place = placeOf(cf);
    places.set(place, (places.get(place) ?? 0) + us);
    const fn = `${cf.functionName || '(anonymous)'} ${place}:${cf.lineNumber + 1}`;
    functions.set(fn, (functions.get(fn) ?? 0) + us);
  });
  const busy = total - idle;
  // Inclusive time of the project's own functions (workflow bundle, dist/): what each costs with all it calls.
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const inclusive = new Map<number, number>();
  const sum = (id: number): number => {
    const known = inclusive.get(id);
    if (known !== undefined) return known;
    const node = byId.get(id)!;
    const t = (self.get(id) ?? 0) + (node.children ?? []).reduce((a, c) => a + sum(c), 0);
    inclusive.set(id, t);
    return t;
  };
  const own = new Map<string, number>();
  const onStack = new Set<string>();
  const visit = (id: number) => {
    const node = byId.get(id)!;
    const cf = node.callFrame;
    const mine = /workflow-bundle|\/dist\//.test(cf.url) && !cf.url.includes('node_modules');
    const key = `${cf.functionName || '(anonymous)'} ${placeOf(cf)}:${cf.lineNumber + 1}`;
    // A function on the stack twice (recursion) counts once, at its outermost call.
    const counted = mine && !onStack.has(key);
    if (counted) {
      own.set(key, (own.get(key) ?? 0) + sum(id));
      onStack.add(key);
    }
    for (const c of node.children ?? []) visit(c);
    if (counted) onStack.delete(key);
  };
  visit(p.nodes[0]!.id);
  const rows = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, v]) => `  ${(v / 1000).toFixed(0).padStart(7)} ms ${((100 * v) / busy).toFixed(1).padStart(5)}%  ${k}`);
  return [
    `${path.basename(file)}: ${(total / 1000).toFixed(0)} ms sampled, ${(busy / 1000).toFixed(0)} ms busy`,
    ' by place (self time):',
    ...rows(places),
    ' by function (self time):',
    ...rows(functions),
    " the project's functions (inclusive time):",
    ...rows(own),
  ];
}

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node dist/bench/profile-summary.js DIR [top]');
  process.exit(2);
}
const top = Number(process.argv[3] ?? 25);
for (const f of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')))
  console.log(summarise(path.join(dir, f), top).join('\n'));
