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
