// A workflow whose one activity fails for good: for the test of how the worker logs activity failures.
import { proxyActivities } from '@temporalio/workflow';

const { deliver } = proxyActivities<{ deliver(): Promise<void> }>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 1 },
});

export async function failingWorkflow(): Promise<void> {
  await deliver();
}
