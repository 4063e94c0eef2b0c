/**
 * The workflow bundle, made once at build time (`npm run build` runs this after tsc) instead of by every worker at
 * start: bundling loads webpack into the worker, which then keeps well over a hundred MB it never needs again and
 * takes seconds to start. worker/factory.ts loads the bundle written here when it is not older than the compiled
 * workflows it was made from, and bundles from source otherwise (a tree compiled without `npm run build`).
 *
 *   node dist/worker/bundle.js          writes dist/workflow-bundle.js (and its source map beside it)
 */
import { BundleOptions, bundleWorkflowCode } from '@temporalio/worker';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../config/load';
import { SourceMapV3, lineLevelMap } from './line-map';

/** Where the build writes the bundle: beside the compiled folders (dist/). */
export const PREBUILT_BUNDLE = path.join(__dirname, '..', 'workflow-bundle.js');

/** The compiled folders the bundle is made from: the workflows and everything they import. */
const SOURCES = ['workflows', 'domain'].map((d) => path.join(__dirname, '..', d));

function newestSource(): number {
  let newest = 0;
  for (const dir of SOURCES) {
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir, { recursive: true, encoding: 'utf8' }))
      if (f.endsWith('.js')) newest = Math.max(newest, statSync(path.join(dir, f)).mtimeMs);
  }
  return newest;
}

/** The prebuilt bundle's path, if it exists and no compiled workflow or domain file is newer than it. */
export function prebuiltBundle(): string | undefined {
  if (!existsSync(PREBUILT_BUNDLE)) return undefined;
  return statSync(PREBUILT_BUNDLE).mtimeMs >= newestSource() ? PREBUILT_BUNDLE : undefined;
}

/**
 * The pure domain modules the workflows use, loaded once into the worker's shared V8 context and shared (frozen)
 * by every workflow, instead of instantiated again for each cached tracker (the SDK's `preloadModules`). They hold
 * no per-workflow state (domain/ is pure; zone.ts caches only formatters and offsets, the same for every caller).
 * Not domain/trackers: its schemas pull zod into the bundle.
 */
export const SHARED_DOMAIN_MODULES = ['tracker-state', 'period-state', 'planner', 'requests', 'tracking'];

/** The options every duban bundle is made with: the build's, and the tests' (test/support/engine.ts). */
export function workflowBundleOptions(logger: BundleOptions['logger']): BundleOptions {
  return {
    workflowsPath: require.resolve('../workflows'),
    preloadModules: SHARED_DOMAIN_MODULES.map((m) => require.resolve(`../domain/${m}`)),
    logger,
  };
}

/** The bundle's code before its inline source map, and that map (JSON text). */
function splitInlineMap(code: string): { head: string; map: string } {
  const at = code.lastIndexOf('//# sourceMappingURL=data:');
  const base64 = code.indexOf('base64,', at);
  if (at < 0 || base64 < 0) throw new Error('the workflow bundle has no inline source map');
  return {
    head: code.slice(0, at),
    map: Buffer.from(code.slice(base64 + 'base64,'.length).trim(), 'base64').toString('utf8'),
  };
}

const inlineMap = (head: string, map: object) =>
  `${head}//# sourceMappingURL=data:application/json;base64,${Buffer.from(JSON.stringify(map)).toString('base64')}\n`;

/**
 * The bundle with a line-level inline source map (worker/line-map.ts) in place of the full one; the full map is
 * returned to be written beside it (workflow-bundle.js.map). The SDK maps every frame of the stack trace it records
 * for each promise a workflow creates through the inline map: the full map cost a worker about 100 MB and a tenth
 * of its CPU a notice (docs/performance.md); one mapping a line still names the source file and line.
 */
export function withLineSourceMap(code: string): { code: string; map: string } {
  const { head, map } = splitInlineMap(code);
  const full = { ...(JSON.parse(map) as SourceMapV3), file: path.basename(PREBUILT_BUNDLE) };
  return { code: inlineMap(head, lineLevelMap(full, PROJECT_ROOT)), map };
}

/**
 * The bundle with an empty inline source map (DUBAN_WORKFLOW_STACK_TRACES=names): the SDK finds no position for any
 * frame, which costs the least; frames of workflow code name their function only (`at trackerWorkflow
 * (null:null:null)`).
 */
export function withEmptySourceMap(code: string): string {
  const empty = { version: 3, file: path.basename(PREBUILT_BUNDLE), sources: [], names: [], mappings: '' };
  return inlineMap(splitInlineMap(code).head, empty);
}

async function main(): Promise<void> {
  const bundle = await bundleWorkflowCode(
    workflowBundleOptions({
      trace() {},
      debug() {},
      info() {},
      warn: (m) => console.warn(m),
      error: (m) => console.error(m),
      log() {},
    }),
  );
  const { code, map } = withLineSourceMap(bundle.code);
  writeFileSync(`${PREBUILT_BUNDLE}.map`, map);
  writeFileSync(PREBUILT_BUNDLE, code);
  console.log(JSON.stringify({ bundle: path.relative(process.cwd(), PREBUILT_BUNDLE), bytes: code.length }));
}

if (require.main === module)
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
