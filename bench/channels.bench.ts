/**
 * Channels benchmark (docs/performance.md, "Channels"): a storm of notices at one instant over rate-limited robots
 * (bench/channels-scenario.ts), two dispatchers on one SQLite ledger against the loopback fakes. Prints the
 * messages a robot got in its busiest minute against its limit, how many notices a message carried, the simulated
 * time to drain (what the robots' limits cost) and the wall time the dispatchers' work took. Asserts nothing.
 *
 *   npm run bench:channels      (BENCH_NOTICES=2000, BENCH_ROBOTS=50 by default)
 */
import { ROBOT_LIMITS } from '../activities/channels';
import { busiestMinute, runChannelStorm } from './channels-scenario';

async function main() {
  const notices = Number(process.env.BENCH_NOTICES ?? 2000);
  const robots = Number(process.env.BENCH_ROBOTS ?? 50);
  const r = await runChannelStorm({ notices, robots, dispatchers: 2, deadClaims: 0 });
  const byKind = new Map<string, { robots: number; busiest: number; limit: number }>();
  for (let i = 0; i < robots; i++) {
    const k = r.kindOf(i);
    const e = byKind.get(k) ?? { robots: 0, busiest: 0, limit: ROBOT_LIMITS[k].perMinute! };
    e.robots++;
    e.busiest = Math.max(e.busiest, busiestMinute(r.received, r.keyOf(i)));
    byKind.set(k, e);
  }
  const unsent = r.rows.filter((row) => row.status !== 'sent').length;
  console.log(
    JSON.stringify(
      {
        notices,
        robots,
        messages: r.received.length,
        noticesPerMessage: Number((notices / r.received.length).toFixed(1)),
        unsent,
        drainSimulatedSeconds: Math.round(r.simulatedMs / 1000),
        dispatchWallSeconds: Number((r.wallMs / 1000).toFixed(1)),
        busiestMinuteByKind: Object.fromEntries(byKind),
      },
      null,
      2,
    ),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
