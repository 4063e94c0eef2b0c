/**
 * The worker's default limits, in a module of their own so that a benchmark's peer can run with the same ones
 * without loading duban's activities (bench/bare-temporal/worker.ts).
 */

/**
 * Activities a worker runs at once per SMTP connection. An attempt holds a connection only while it sends; the
 * others wait their turn in the worker (nothing claimed). Four per connection keeps the wait of
 * the last one far below the activity's timeout even on a server that takes seconds per message.
 */
export const ACTIVITIES_PER_CONNECTION = 4;

/**
 * Workflows kept in the worker's cache by default. A sleeping tracker costs nothing when evicted (it replays the
 * short history of its current run when it wakes), so 10,000 trackers fit a worker of a few hundred MB.
 */
export const DEFAULT_CACHED_WORKFLOWS = 1000;

/**
 * How long a workflow task may wait on this worker's own (sticky) queue before the server hands it to any worker,
 * which must then replay the tracker's run from its start. The SDK's 10 s is shorter than a storm's queue on a busy
 * worker: at 2,000 notices due at once, a third of the wakes timed out there and were replayed, each replay adding
 * work that lengthened the queue (docs/performance.md). The cost is on a worker that dies: tasks already waiting
 * on its queue wait this long before another worker takes them (later ones go to the shared queue once the server
 * sees nobody polling); a worker that stops on SIGTERM hands them over at once.
 */
export const STICKY_QUEUE_TIMEOUT = '60 seconds';
