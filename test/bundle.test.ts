/**
 * The prebuilt workflow bundle (worker/bundle.ts): the worker gets an empty inline source map (the SDK rewrites a
 * stack trace through it for every promise a workflow creates), the real map lies beside the bundle, and the pure
 * domain modules are loaded once and shared by every workflow.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { SHARED_DOMAIN_MODULES, withoutInlineSourceMap } from '../worker/bundle';

// What `npm run build` wrote (worker/bundle.ts PREBUILT_BUNDLE, seen from dist/).
const PREBUILT_BUNDLE = path.join(__dirname, '..', 'dist', 'workflow-bundle.js');

const inlineMap = (code: string) => {
  const at = code.lastIndexOf('base64,');
  return JSON.parse(Buffer.from(code.slice(at + 'base64,'.length).trim(), 'base64').toString('utf8'));
};

test('the inline source map is moved out, and the code left as it was', () => {
  const map = { version: 3, sources: ['workflows/tracker.ts'], names: [], mappings: 'AAAA' };
  const code = `"use strict";\nrun();\n//# sourceMappingURL=data:application/json;base64,${Buffer.from(JSON.stringify(map)).toString('base64')}\n`;
  const out = withoutInlineSourceMap(code);
  expect(JSON.parse(out.map)).toEqual(map);
  expect(out.code.startsWith('"use strict";\nrun();\n//# sourceMappingURL=data:application/json;base64,')).toBe(true);
  expect(inlineMap(out.code)).toMatchObject({ sources: [], mappings: '' });
  expect(() => withoutInlineSourceMap('run();')).toThrow(/no inline source map/);
});

test('the built bundle carries an empty map, its real map beside it, and preloads the shared domain modules', () => {
  // `npm test` builds first (package.json); the bundle is what every spawned worker runs.
  const code = readFileSync(PREBUILT_BUNDLE, 'utf8');
  expect(inlineMap(code)).toMatchObject({ sources: [], mappings: '' });
  const map = JSON.parse(readFileSync(`${PREBUILT_BUNDLE}.map`, 'utf8'));
  expect(map.sources.some((s: string) => s.includes('workflows/tracker'))).toBe(true);
  const preload = /exports\.preloadModules = function preloadModules\(\) \{([^}]*)\}/.exec(code)?.[1] ?? '';
  for (const m of SHARED_DOMAIN_MODULES) expect(preload).toContain(`./dist/domain/${m}.js`);
  // zod stays out: domain/trackers (schemas) is not among the workflows' imports at run time.
  expect(code).not.toContain('node_modules/zod');
});
