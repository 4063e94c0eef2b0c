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
  nodes: { id: number; callFrame: CallFrame }[];
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
