/**
 * The bare Temporal peer's worker process, started by bench/storm.bench.ts: the workflow beside it and a local
 * activity sending the peers' message through the peers' pooled transport (bench/peers.ts), with the limits duban's
 * worker runs with (worker/limits.ts: deliveries at once, cached workflows) and its bundle's treatment (the
 * source map out of the bundle, worker/bundle.ts), so that the two differ only in what a notice does.
 */
import { DefaultLogger, NativeConnection, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { ACTIVITIES_PER_CONNECTION, DEFAULT_CACHED_WORKFLOWS, STICKY_QUEUE_TIMEOUT } from '../../worker/limits';
import { withLineSourceMap } from '../../worker/bundle';
import { PEER_CONNECTIONS, peerMessage, peerTransport } from '../peers';

export interface BareActivities {
  send(i: number): Promise<void>;
}

const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} };

async function main() {
  Runtime.install({ logger: new DefaultLogger('ERROR') }); // as duban's worker in the bench (DUBAN_LOG_LEVEL=ERROR)
  const transport = peerTransport(Number(process.env.SINK_PORT));
  const bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('./workflows'), logger: quiet });
  const worker = await Worker.create({
    connection: await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS! }),
    taskQueue: process.env.TASK_QUEUE!,
    workflowBundle: { code: withLineSourceMap(bundle.code).code },
    activities: {
      async send(i: number) {
        await transport.sendMail(peerMessage(i, `<bare.${process.env.TASK_QUEUE}.${i}@bench>`));
      },
    } satisfies BareActivities,
    maxConcurrentLocalActivityExecutions: PEER_CONNECTIONS * ACTIVITIES_PER_CONNECTION,
    maxCachedWorkflows: Number(process.env.DUBAN_MAX_CACHED_WORKFLOWS ?? DEFAULT_CACHED_WORKFLOWS),
    stickyQueueScheduleToStartTimeout: STICKY_QUEUE_TIMEOUT,
  });
  process.once('SIGTERM', () => worker.shutdown());
  console.log('ready');
  await worker.run();
  transport.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
