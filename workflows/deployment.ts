/**
 * The deployment's record in Temporal: one workflow per task queue (`duban/deployment/<taskQueue>`) whose memo
 * names the deployment's ledger. The first worker starts it; every later worker describes it and refuses to run
 * with a different ledger, because two ledgers mean two numbering sequences of 督办单 and two records
 * (docs/deployment.md). It waits for ever on a condition that never holds: no timers, no history growth.
 */
import { condition } from '@temporalio/workflow';

export const DEPLOYMENT_WORKFLOW_PREFIX = 'duban/deployment/';

export function deploymentWorkflowId(taskQueue: string): string {
  return `${DEPLOYMENT_WORKFLOW_PREFIX}${taskQueue}`;
}

/** What the deployment workflow's memo holds. `ledger` is a description for people, password redacted. */
export interface DeploymentMemo {
  ledgerIdentity: string;
  ledger: string;
  recordedAt: string;
}

export async function deploymentWorkflow(): Promise<void> {
  await condition(() => false);
}
