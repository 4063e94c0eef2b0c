/**
 * Channels benchmark (docs/performance.md, "Channels"): the same storm twice in one run, with real processes
 * (bench/channels-process-storm.ts: a Temporal dev server, two worker processes on one SQLite ledger, a real SMTP
 * server, the providers' loopback fakes): first by email alone, then by email and on 50 rate-limited robots. For
 * each it prints the time from the instant the workers start to the last email and to the last robot message,
 * what was lost or repeated, how many notices a robot message carried and the busiest minute of each kind of
 * robot against its limit. Asserts nothing.
 *
 * BENCH_SIMULATED_NOTICES=10000 also runs the ledger-level storm with a simulated clock (bench/channels-scenario.ts,
 * two in-process dispatchers): enough notices a robot for the rate limits, not the size limits, to decide.
 *
 *   npm run bench:channels      (BENCH_NOTICES=2000, BENCH_ROBOTS=50 by default)
 */
import { rmSync } from 'node:fs';
import { ROBOT_LIMITS } from '../activities/channels';
import { ProcessStormResult, busiestMinute, noticeCopies, runProcessStorm } from './channels-process-storm';
import { busiestMinute as simulatedBusiest, runChannelStorm } from './channels-scenario';

function figures(r: ProcessStormResult, robots: number) {
  const arrived = new Set(r.mails.map((m) => m.key));
  const ids = new Set(r.mails.map((m) => m.messageId));
  const copies = noticeCopies(r.received);
  const byKind = new Map<string, { robots: number; busiest: number; limit: number }>();
  for (let i = 0; i < robots; i++) {
    const k = r.kindOf(i);
    const e = byKind.get(k) ?? { robots: 0, busiest: 0, limit: ROBOT_LIMITS[k].perMinute };
    e.robots++;
    e.busiest = Math.max(e.busiest, busiestMinute(r.received, r.keyOf(i)));
    byKind.set(k, e);
  }
  return {
    robots,
    trackersStartedInSeconds: r.startSeconds,
    emails: {
      expected: r.expected.length,
      lost: r.expected.filter((k) => !arrived.has(k)).length,
      duplicated: r.mails.length - ids.size,
      drainSeconds: r.emailDrainSeconds,
    },
    ...(robots
      ? {
          robotMessages: {
            messages: r.received.length,
            noticesPerMessage: Number((copies.size / Math.max(1, r.received.length)).toFixed(1)),
            lostNotices: r.expected.length / 2 - copies.size,
            repeatedNotices: [...copies.values()].filter((c) => c.length > 1).length,
            drainSeconds: r.robotDrainSeconds,
            busiestMinuteByKind: Object.fromEntries(byKind),
          },
        }
      : {}),
  };
}

async function simulated(notices: number, robots: number) {
  const r = await runChannelStorm({ notices, robots, dispatchers: 2, deadClaims: 0 });
  const byKind = new Map<string, number>();
  for (let i = 0; i < robots; i++)
    byKind.set(r.kindOf(i), Math.max(byKind.get(r.kindOf(i)) ?? 0, simulatedBusiest(r.received, r.keyOf(i))));
  return {
    notices,
    robots,
    messages: r.received.length,
    noticesPerMessage: Number((notices / r.received.length).toFixed(1)),
    unsent: r.rows.filter((row) => row.status !== 'sent').length,
    drainSimulatedSeconds: Math.round(r.simulatedMs / 1000),
    dispatchWallSeconds: Number((r.wallMs / 1000).toFixed(1)),
    busiestMinuteByKind: Object.fromEntries(byKind),
  };
}

async function main() {
  const notices = Number(process.env.BENCH_NOTICES ?? 2000);
  const robots = Number(process.env.BENCH_ROBOTS ?? 50);
  // Each storm's folder (its ledger and logs) is read for the figures, then removed.
  const storm = async (n: number) => {
    const r = await runProcessStorm({ notices, robots: n, workers: 2 });
    try {
      return figures(r, n);
    } finally {
      rmSync(r.dir, { recursive: true, force: true });
    }
  };
  const emailAlone = await storm(0);
  const withRobots = await storm(robots);
  const sim = process.env.BENCH_SIMULATED_NOTICES;
  console.log(
    JSON.stringify(
      {
        notices,
        workers: 2,
        emailAlone,
        emailAndRobots: withRobots,
        ...(sim ? { simulated: await simulated(Number(sim), robots) } : {}),
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
