/**
 * The registration bench's peer (bench/register.bench.ts): a plain loop of `client.workflow.start` of the bare
 * Temporal workflow (bench/bare-temporal/workflows.ts), N of them, 32 at a time as `duban register` starts
 * trackers, from a process of its own as `duban register` is; each workflow sleeps until a year from now.
 *
 *   TEMPORAL_ADDRESS=… TASK_QUEUE=… BENCH_STARTS=10000 node dist/bench/bare-temporal/start-loop.js
 */
import { Client, Connection } from '@temporalio/client';

async function main() {
  const n = Number(process.env.BENCH_STARTS ?? 10_000);
  const taskQueue = process.env.TASK_QUEUE!;
  const client = new Client({ connection: await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! }) });
  const instant = Date.now() + 365 * 86_400_000;
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < n) {
        const i = next++;
        await client.workflow.start('bareNotice', { workflowId: `${taskQueue}-${i}`, taskQueue, args: [i, instant] });
      }
    }),
  );
  await client.connection.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
