/**
 * The workflow bundle, made once at build time (`npm run build` runs this after tsc) instead of by every worker at
 * start: bundling loads webpack into the worker, which then keeps well over a hundred MB it never needs again and
 * takes seconds to start. worker/factory.ts loads the bundle written here when it is not older than the compiled
 * workflows it was made from, and bundles from source otherwise (a tree compiled without `npm run build`).
 *
 *   node dist/worker/bundle.js          writes dist/workflow-bundle.js (and its source map)
 */
import { bundleWorkflowCode } from '@temporalio/worker';
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

async function main(): Promise<void> {
  const { code, sourceMap } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    logger: {
      trace() {},
      debug() {},
      info() {},
      warn: (m) => console.warn(m),
      error: (m) => console.error(m),
      log() {},
    },
  });
  writeFileSync(`${PREBUILT_BUNDLE}.map`, sourceMap);
  writeFileSync(PREBUILT_BUNDLE, code);
  console.log(JSON.stringify({ bundle: path.relative(process.cwd(), PREBUILT_BUNDLE), bytes: code.length }));
}

if (require.main === module)
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
