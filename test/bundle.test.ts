/**
 * The prebuilt workflow bundle (worker/bundle.ts): the worker gets a line-level inline source map (the SDK rewrites
 * a stack trace through it for every promise a workflow creates) whose frames still name the source file and line,
 * the full map lies beside the bundle, and the pure domain modules are loaded once and shared by every workflow.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../config/load';
import { SHARED_DOMAIN_MODULES, withEmptySourceMap, withLineSourceMap } from '../worker/bundle';
import { decodeVlq } from '../worker/line-map';

// What `npm run build` wrote (worker/bundle.ts PREBUILT_BUNDLE, seen from dist/).
const PREBUILT_BUNDLE = path.join(__dirname, '..', 'dist', 'workflow-bundle.js');

const inlineMap = (code: string) => {
  const at = code.lastIndexOf('base64,');
  return JSON.parse(Buffer.from(code.slice(at + 'base64,'.length).trim(), 'base64').toString('utf8'));
};

test('the full inline source map is moved out, a line-level one left in, and the code left as it was', () => {
  const map = {
    version: 3,
    sources: [`${PROJECT_ROOT}/workflows/tracker.ts`],
    names: ['run'],
    sourcesContent: ['run();'],
    mappings: 'AAAAA,IAAI',
  };
  const code = `"use strict";\nrun();\n//# sourceMappingURL=data:application/json;base64,${Buffer.from(JSON.stringify(map)).toString('base64')}\n`;
  const out = withLineSourceMap(code);
  expect(JSON.parse(out.map)).toEqual(map);
  expect(out.code.startsWith('"use strict";\nrun();\n//# sourceMappingURL=data:application/json;base64,')).toBe(true);
  expect(inlineMap(out.code)).toMatchObject({ sources: ['workflows/tracker.ts'], names: [], mappings: 'AAAA' });
  expect(() => withLineSourceMap('run();')).toThrow(/no inline source map/);
  // DUBAN_WORKFLOW_STACK_TRACES=names: no positions at all.
  const names = withEmptySourceMap(out.code);
  expect(names.startsWith('"use strict";\nrun();\n//# sourceMappingURL=')).toBe(true);
  expect(inlineMap(names)).toMatchObject({ sources: [], mappings: '' });
});

test('the built bundle carries a line-level map, its full map beside it, and preloads the shared domain modules', () => {
  // `npm test` builds first (package.json); the bundle is what every spawned worker runs.
  const code = readFileSync(PREBUILT_BUNDLE, 'utf8');
  const lines = inlineMap(code);
  expect(lines.sourcesContent).toBeUndefined();
  // The line that declares the tracker workflow maps to the line of workflows/tracker.ts that declares it.
  const generated = code.split('\n').findIndex((l) => /^\s*(async )?function trackerWorkflow\(/.test(l));
  expect(generated).toBeGreaterThan(0);
  let [source, line] = [0, 0];
  const groups = lines.mappings.split(';');
  for (let i = 0; i <= generated; i++)
    for (const seg of groups[i]!.split(',').filter(Boolean)) {
      const v = decodeVlq(seg);
      source += v[1]!;
      line += v[2]!;
    }
  expect(lines.sources[source]).toBe('workflows/tracker.ts');
  const original = readFileSync(path.join(PROJECT_ROOT, 'workflows', 'tracker.ts'), 'utf8').split('\n')[line];
  expect(original).toContain('export async function trackerWorkflow(');
  const map = JSON.parse(readFileSync(`${PREBUILT_BUNDLE}.map`, 'utf8'));
  expect(map.sources.some((s: string) => s.includes('workflows/tracker'))).toBe(true);
  const preload = /exports\.preloadModules = function preloadModules\(\) \{([^}]*)\}/.exec(code)?.[1] ?? '';
  for (const m of SHARED_DOMAIN_MODULES) expect(preload).toContain(`./dist/domain/${m}.js`);
  // zod stays out: domain/trackers (schemas) is not among the workflows' imports at run time.
  expect(code).not.toContain('node_modules/zod');
});
