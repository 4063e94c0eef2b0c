/**
 * The channels' claims on PostgreSQL (row locks with FOR UPDATE, BIGINT columns read back as text): three
 * dispatchers and a dead worker's claims on one ledger; every notice once, no robot over its limit in any minute.
 */
import { ROBOT_LIMITS } from '../../activities/channels';
import { busiestMinute, runChannelStorm } from '../../bench/channels-scenario';
import { Ledger } from '../../ledger';
import { TestPostgres, startTestPostgres } from '../support/postgres';

jest.setTimeout(300_000);

let pg: TestPostgres | undefined;
let ledger: Ledger | undefined;
beforeAll(async () => {
  pg = await startTestPostgres();
  ledger = await Ledger.open({ databaseUrl: pg.url });
});
afterAll(async () => {
  await ledger?.close();
  await pg?.stop();
});

test('PostgreSQL: 600 notices over 10 robots, three dispatchers, a dead one: once each, within every limit', async () => {
  const r = await runChannelStorm({ notices: 600, robots: 10, dispatchers: 3, deadClaims: 3, ledger });
  expect(r.rows).toHaveLength(600);
  expect(r.rows.filter((row) => row.status !== 'sent')).toEqual([]);
  const count = new Map<string, number>();
  for (const m of r.received)
    for (const hit of m.text.matchAll(/第(\d+)项任务（/g)) count.set(hit[1]!, (count.get(hit[1]!) ?? 0) + 1);
  expect(count.size).toBe(600);
  expect([...count.values()].every((c) => c === 1)).toBe(true);
  for (let i = 0; i < 10; i++)
    expect(busiestMinute(r.received, r.keyOf(i))).toBeLessThanOrEqual(ROBOT_LIMITS[r.kindOf(i)].perMinute!);
  expect(r.requests.filter((q) => (q.body as { errcode?: number }).errcode === 45009)).toEqual([]);
  // The kept numbers come back as numbers.
  expect(typeof r.rows[0]!.attempts).toBe('number');
  expect(typeof r.rows[0]!.created_at).toBe('number');
});
