/**
 * A storm on the channels (docs/channels.md; the scenario in bench/channels-scenario.ts): 2,000 notices at one
 * instant spread over 50 robots (30 企业微信, 10 钉钉, 10 飞书), two workers' dispatchers sharing one ledger, a third
 * worker dead with claims in hand. Every notice reaches its robot exactly once, no robot gets more than its limit
 * in any minute (the fakes would answer 45009, 130101 or 9499), and the notices are merged into far fewer messages,
 * counted. The email side of a storm is test/reliability/faults.test.ts's.
 */
import { ROBOT_LIMITS } from '../../activities/channels';
import { busiestMinute, runChannelStorm } from '../../bench/channels-scenario';

jest.setTimeout(300_000);

const NOTICES = Number(process.env.DUBAN_CHANNEL_STORM_NOTICES ?? 2000);
const ROBOTS = 50;

test(`${NOTICES} notices over ${ROBOTS} robots at one instant: none lost, none twice, no robot over its limit`, async () => {
  const r = await runChannelStorm({ notices: NOTICES, robots: ROBOTS, dispatchers: 2, deadClaims: 10 });
  expect(r.rows.filter((row) => row.status !== 'sent')).toEqual([]);
  // Exactly once: each notice's title appears in exactly one accepted message.
  const count = new Map<string, number>();
  for (const m of r.received)
    for (const hit of m.text.matchAll(/第(\d+)项任务（/g)) count.set(hit[1]!, (count.get(hit[1]!) ?? 0) + 1);
  expect(count.size).toBe(NOTICES);
  expect([...count.values()].every((c) => c === 1)).toBe(true);
  // No robot was ever refused for speed, and none got more than its limit in any sliding minute.
  const tooFast = r.requests.filter((q) => {
    const b = q.body as { errcode?: number; code?: number };
    return b.errcode === 45009 || b.errcode === 130101 || b.code === 9499;
  });
  expect(tooFast).toEqual([]);
  for (let i = 0; i < ROBOTS; i++)
    expect(busiestMinute(r.received, r.keyOf(i))).toBeLessThanOrEqual(ROBOT_LIMITS[r.kindOf(i)].perMinute!);
  // Merged: many notices a message.
  expect(r.received.length).toBeLessThan(NOTICES / 4);
  process.stdout.write(
    `channels storm: ${NOTICES} notices, ${ROBOTS} robots, ${r.received.length} messages (${(NOTICES / r.received.length).toFixed(1)} notices a message), drained in ${Math.round(r.simulatedMs / 1000)} s of simulated time\n`,
  );
});
