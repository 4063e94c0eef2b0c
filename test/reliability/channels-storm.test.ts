/**
 * A storm on the channels (docs/channels.md): 2,000 notices at one instant spread over 50 robots (30 企业微信,
 * 10 钉钉, 10 飞书), two workers' dispatchers sharing one ledger, one of them dying with claims in hand. Every
 * notice reaches its robot exactly once, no robot gets more than its limit in any minute (the fakes would answer
 * 45009, 130101 or 9499), and the notices are merged into far fewer messages, counted. The clock is simulated;
 * the ledger (SQLite), the HTTP requests and the fakes are real. The email side of a storm is
 * test/reliability/faults.test.ts's.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ChannelDispatcher, ROBOT_LIMITS, StoredItem } from '../../activities/channels';
import { parseLinkKeys } from '../../activities/links';
import { ChannelFakes } from '../../channels/fakes';
import { loadChannelSecrets, secretVariable } from '../../config/channels';
import { Ledger } from '../../ledger';
import type { ChannelSendInsert } from '../../ledger/channel-sends';

jest.setTimeout(300_000);

const NOTICES = Number(process.env.DUBAN_CHANNEL_STORM_NOTICES ?? 2000);
const ROBOTS = 50;
const kindOf = (i: number) => (i < 30 ? 'wecom' : i < 40 ? 'dingtalk' : 'feishu') as 'wecom' | 'dingtalk' | 'feishu';
const name = (i: number) => `robot-${String(i).padStart(2, '0')}`;

test(`${NOTICES} notices over ${ROBOTS} robots at one instant: none lost, none twice, no robot over its limit`, async () => {
  let clock = Date.parse('2027-03-02T01:00:00Z');
  const now = () => clock;
  const env: Record<string, string> = {};
  const wecom: string[] = [];
  const dingtalk: { token: string; secret: string; keyword: string }[] = [];
  const feishu: { hook: string; secret: string }[] = [];
  for (let i = 0; i < ROBOTS; i++) {
    env[secretVariable(name(i), 'KEY')] = `key-${i}`;
    env[secretVariable(name(i), 'SECRET')] = `SECsecret-${i}`;
    if (kindOf(i) === 'wecom') wecom.push(`key-${i}`);
    if (kindOf(i) === 'dingtalk') dingtalk.push({ token: `key-${i}`, secret: `SECsecret-${i}`, keyword: '督办' });
    if (kindOf(i) === 'feishu') feishu.push({ hook: `key-${i}`, secret: `SECsecret-${i}` });
  }
  const fakes = new ChannelFakes({ wecom, dingtalk, feishu, now });
  const urls = await fakes.start();
  const ledger = await Ledger.open({ sqliteFile: path.join(mkdtempSync(path.join(tmpdir(), 'duban-storm-')), 'l.db') });
  const keys = parseLinkKeys(`k:${Buffer.alloc(32, 3).toString('base64')}`);
  const make = () =>
    new ChannelDispatcher({
      ledger,
      links: { keys, baseUrl: 'https://duban.xx.gov.cn', graceMs: 0 },
      secrets: loadChannelSecrets(env),
      endpoints: { wecom: urls.wecom, dingtalk: urls.dingtalk, feishu: urls.feishu },
      site: 'https://duban.xx.gov.cn',
      log: { info: () => undefined, warn: () => undefined, error: () => undefined },
      now,
      settleMs: 1_000,
    });
  try {
    const rows: ChannelSendInsert[] = [];
    for (let n = 0; n < NOTICES; n++) {
      const r = n % ROBOTS;
      const key = `duty-${n}/unit-${n}/2027/2027-03-01/r0`;
      const stored: StoredItem = {
        channel: { name: name(r), kind: kindOf(r), mention: false },
        item: {
          key,
          obligationTitle: `第${n}项任务`,
          unitName: `第${n}单位`,
          period: '2027',
          due: '2027-03-01',
          stage: 'reminder',
          level: 0,
          step: 0,
        },
        links: ['acknowledge', 'submit'].map((action) => ({
          label: action === 'submit' ? '报送材料' : '签收',
          action: action as 'acknowledge' | 'submit',
          claims: {
            trackerId: `duty-${n}/unit-${n}`,
            period: '2027',
            email: `u${n}@xx.example.org`,
            name: `联络员${n}`,
            actions: ['acknowledge', 'submit', 'view'],
            expiresAt: clock + 365 * 86_400_000,
          },
        })),
        mentions: [],
      };
      rows.push({
        sendKey: `${key}#${name(r)}`,
        noticeKey: key,
        channel: name(r),
        kind: kindOf(r),
        target: '',
        trackerId: `duty-${n}/unit-${n}`,
        period: '2027',
        item: JSON.stringify(stored),
      });
    }
    await ledger.channels.add(rows, clock);
    // A third worker claims ten robots' first messages and dies (kill -9): its leases must run out.
    clock += 1_000;
    for (let r = 0; r < 10; r++)
      expect((await ledger.channels.claim(name(r), clock, { max: 50, limits: ROBOT_LIMITS[kindOf(r)] })).state).toBe(
        'claimed',
      );
    const a = make();
    const b = make();
    const started = clock;
    let minutes = 0;
    for (; minutes < 30; minutes++) {
      for (let s = 0; s < 60; s += 5) {
        clock += 5_000;
        await Promise.all([a.tick(), b.tick()]);
      }
      const left = (await ledger.channels.rows()).filter((r) => r.status !== 'sent');
      if (left.length === 0) break;
    }
    const sent = await ledger.channels.rows();
    expect(sent.filter((r) => r.status !== 'sent')).toEqual([]);
    // Exactly once: each notice's title appears in exactly one accepted message of its robot.
    const count = new Map<string, number>();
    for (const m of fakes.received())
      for (const hit of m.text.matchAll(/第(\d+)项任务/g)) count.set(hit[1]!, (count.get(hit[1]!) ?? 0) + 1);
    expect(count.size).toBe(NOTICES);
    expect([...count.values()].every((c) => c === 1)).toBe(true);
    // No robot ever refused for speed, and none got more than its limit in any sliding minute.
    const tooFast = fakes.requests.filter((r) => {
      const b2 = r.body as { errcode?: number; code?: number };
      return b2.errcode === 45009 || b2.errcode === 130101 || b2.code === 9499;
    });
    expect(tooFast).toEqual([]);
    for (let r = 0; r < ROBOTS; r++) {
      const at = fakes.received({ to: `key-${r}` }).map((m) => m.at);
      const limit = ROBOT_LIMITS[kindOf(r)].perMinute;
      for (const t of at) expect(at.filter((x) => x > t - 60_000 && x <= t).length).toBeLessThanOrEqual(limit);
    }
    const messages = fakes.received().length;
    // Merged: many notices a message.
    expect(messages).toBeLessThan(NOTICES / 4);
    process.stdout.write(
      `channels storm: ${NOTICES} notices, ${ROBOTS} robots, ${messages} messages (${(NOTICES / messages).toFixed(1)} notices a message), drained in ${Math.round((clock - started) / 1000)} s of simulated time, ${minutes + 1} minute(s) of rounds\n`,
    );
  } finally {
    await fakes.stop();
    await ledger.close();
  }
});
