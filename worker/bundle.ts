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

/**
 * The bundle with an empty inline source map; the real map is written beside it (workflow-bundle.js.map). The SDK
 * reads the inline map to rewrite the stack trace it records for every promise a workflow creates: with the real
 * map that cost a worker about 100 MB and a tenth of its CPU per notice (docs/performance.md). Stack traces of
 * workflow code then name lines of dist/workflow-bundle.js, whose code is the compiled JavaScript of dist/.
 */
export function withoutInlineSourceMap(code: string): { code: string; map: string } {
  const at = code.lastIndexOf('//# sourceMappingURL=data:');
  const base64 = code.indexOf('base64,', at);
  if (at < 0 || base64 < 0) throw new Error('the workflow bundle has no inline source map to move out');
  const map = Buffer.from(code.slice(base64 + 'base64,'.length).trim(), 'base64').toString('utf8');
  const empty = { version: 3, file: path.basename(PREBUILT_BUNDLE), sources: [], names: [], mappings: '' };
  const inline = Buffer.from(JSON.stringify(empty)).toString('base64');
  return { code: `${code.slice(0, at)}//# sourceMappingURL=data:application/json;base64,${inline}\n`, map };
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
  const { code, map } = withoutInlineSourceMap(bundle.code);
  writeFileSync(`${PREBUILT_BUNDLE}.map`, map);
  writeFileSync(PREBUILT_BUNDLE, code);
  console.log(JSON.stringify({ bundle: path.relative(process.cwd(), PREBUILT_BUNDLE), bytes: code.length }));
}

if (require.main === module)
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
