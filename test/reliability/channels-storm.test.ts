/**
 * A storm on the channels beside email, with real processes (issue 22; the scenario in
 * bench/channels-process-storm.ts): notices at one instant, each by email and on its unit's group robot, spread over
 * 50 robots (30 企业微信, 10 钉钉, 10 飞书), two worker processes on one ledger and a Temporal dev server of the test's
 * own, a worker killed with SIGKILL twice during the storm (and started again). Asserted: 0 lost, by email and on
 * the robots; no robot over its limit in any minute (the fakes would have answered 45009, 130101 or 9499), none of
 * them answering "too fast"; the notices merged into fewer robot messages; a repeat, by email or on a robot,
 * only where a killed worker's claim was taken over (`attempts >= 2` in the ledger) and bounded as for email: at
 * most one message a connection (email) or a robot (channels) and kill. The drain times are printed (the bench
 * compares them with email alone).
 *
 * Size: DUBAN_CHANNEL_STORM_NOTICES, else DUBAN_RELIABILITY_NOTICES (`npm run test:reliability`: 2,000), else 300.
 */
import { ROBOT_LIMITS } from '../../activities/channels';
import { busiestMinute, noticeCopies, runProcessStorm } from '../../bench/channels-process-storm';

jest.setTimeout(900_000);

const N = Number(process.env.DUBAN_CHANNEL_STORM_NOTICES ?? process.env.DUBAN_RELIABILITY_NOTICES ?? 300);
const ROBOTS = 50;
const KILLS = 2;
const CONNECTIONS = 5;

test(`${N} notices by email and over ${ROBOTS} robots at one instant, a worker SIGKILLed ${KILLS} times: none lost, repeats bounded, no robot over its limit`, async () => {
  const r = await runProcessStorm({ notices: N, robots: ROBOTS, workers: 2, kills: KILLS, connections: CONNECTIONS });
  expect(r.kills).toHaveLength(KILLS);

  // Email: every recipient's copy of every notice arrived; a repeat is the same Message-ID, traced to a taken-over
  // claim.
  const arrived = new Set(r.mails.map((m) => m.key));
  const lostEmails = r.expected.filter((k) => !arrived.has(k));
  const byId = new Map<string, number>();
  for (const m of r.mails.filter((x) => r.expected.includes(x.key)))
    byId.set(m.messageId, (byId.get(m.messageId) ?? 0) + 1);
  const repeatedEmails = [...byId].filter(([, n]) => n > 1).map(([id]) => id);
  const noticeRow = new Map(r.notices.map((n) => [n.message_id, n]));

  // Robots: every notice in an accepted message; a repeat only of a row whose claim was taken over.
  const copies = noticeCopies(r.received);
  const lostOnRobots = Array.from({ length: N }, (_, n) => r.unitName(n)).filter((u) => !copies.has(u));
  const repeatedOnRobots = [...copies].filter(([, at]) => at.length > 1);
  const rowOf = (unit: string) => r.channelRows.find((row) => JSON.parse(row.item).item.unitName === unit);
  // The messages whose notices came again: at most one in flight a robot and worker when it was killed.
  const firstCopies = new Set(repeatedOnRobots.map(([, at]) => at[0]!));

  const figures = {
    scenario: 'channels-storm',
    notices: N,
    robots: ROBOTS,
    workerKills: r.kills.length,
    emails: { delivered: arrived.size, lost: lostEmails.length, duplicated: r.mails.length - byId.size },
    robotMessages: r.received.length,
    noticesPerRobotMessage: Number((N / r.received.length).toFixed(1)),
    robotNotices: { delivered: copies.size, lost: lostOnRobots.length, repeated: repeatedOnRobots.length },
    startSeconds: r.startSeconds,
    emailDrainSeconds: r.emailDrainSeconds,
    robotDrainSeconds: r.robotDrainSeconds,
  };
  console.log(JSON.stringify(figures));

  expect(lostEmails).toEqual([]);
  // Each repeat with its ledger row, so that a failure says which message and what the ledger knows of it.
  const repeats = repeatedEmails.map((id) => {
    const row = noticeRow.get(id);
    return { id, key: r.mails.find((m) => m.messageId === id)?.key, attempts: row?.attempts, status: row?.status };
  });
  for (const x of repeats) expect(x).toEqual({ ...x, attempts: expect.any(Number) });
  for (const x of repeats) expect({ ...x, taken: (x.attempts ?? 0) >= 2 }).toEqual({ ...x, taken: true });
  expect(figures.emails.duplicated).toBeLessThanOrEqual(KILLS * CONNECTIONS);

  expect(lostOnRobots).toEqual([]);
  expect(r.channelRows).toHaveLength(N);
  expect(r.channelRows.filter((row) => row.status !== 'sent')).toEqual([]);
  for (const [unit, at] of repeatedOnRobots) {
    expect(at).toHaveLength(2);
    expect(rowOf(unit)!.attempts).toBeGreaterThanOrEqual(2);
  }
  expect(firstCopies.size).toBeLessThanOrEqual(KILLS * ROBOTS);

  // Rate limits: no robot ever refused for speed; none over its limit in any sliding minute.
  const tooFast = r.requests.filter((q) => {
    const b = q.body as { errcode?: number; code?: number };
    return b.errcode === 45009 || b.errcode === 130101 || b.code === 9499;
  });
  expect(tooFast).toEqual([]);
  for (let i = 0; i < ROBOTS; i++)
    expect(busiestMinute(r.received, r.keyOf(i))).toBeLessThanOrEqual(ROBOT_LIMITS[r.kindOf(i)].perMinute);
  // Merged: each unit has its own email, a robot fewer messages than notices (how many fewer depends on how fast
  // the notices fall due: here as fast as the workers send their emails; the figures are printed above).
  expect(r.received.length).toBeLessThan(N);
});
