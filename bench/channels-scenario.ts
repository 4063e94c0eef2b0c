/**
 * The channels' storm, shared by test/reliability/channels-storm.test.ts (which asserts) and
 * bench/channels.bench.ts (which prints): `notices` notices at one instant spread over `robots` robots (60 %
 * 企业微信, 20 % 钉钉, 20 % 飞书), `dispatchers` workers' dispatchers on one ledger (SQLite), and a dead worker that
 * claimed the first message of `deadClaims` robots and never finished. The clock is simulated (5 s a round); the
 * HTTP requests and the fakes are real.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ChannelDispatcher, ROBOT_LIMITS, StoredItem } from '../activities/channels';
import { parseLinkKeys } from '../channels/links';
import { ChannelFakes, Received } from '../channels/fakes';
import { loadChannelSecrets, secretVariable } from '../config/channels';
import { Ledger } from '../ledger';
import type { ChannelSendInsert, ChannelSendRow } from '../ledger/channel-sends';

export type RobotKind = 'wecom' | 'dingtalk' | 'feishu';

export interface StormResult {
  received: Received[];
  requests: ChannelFakes['requests'];
  rows: ChannelSendRow[];
  kindOf: (i: number) => RobotKind;
  /** The robot's key, as the fakes name it. */
  keyOf: (i: number) => string;
  simulatedMs: number;
  wallMs: number;
}

export async function runChannelStorm(o: {
  notices: number;
  robots: number;
  dispatchers?: number;
  deadClaims?: number;
  maxMinutes?: number;
  /** A ledger of the caller's (PostgreSQL in a test), left open; default a new SQLite ledger. */
  ledger?: Ledger;
}): Promise<StormResult> {
  const kindOf = (i: number): RobotKind => (i < o.robots * 0.6 ? 'wecom' : i < o.robots * 0.8 ? 'dingtalk' : 'feishu');
  const name = (i: number) => `robot-${String(i).padStart(3, '0')}`;
  const keyOf = (i: number) => `key-${i}`;
  let clock = Date.parse('2027-03-02T01:00:00Z');
  const now = () => clock;
  const env: Record<string, string> = {};
  const wecom: string[] = [];
  const dingtalk: { token: string; secret: string; keyword: string }[] = [];
  const feishu: { hook: string; secret: string }[] = [];
  for (let i = 0; i < o.robots; i++) {
    env[secretVariable(name(i), 'KEY')] = keyOf(i);
    env[secretVariable(name(i), 'SECRET')] = `SECsecret-${i}`;
    if (kindOf(i) === 'wecom') wecom.push(keyOf(i));
    if (kindOf(i) === 'dingtalk') dingtalk.push({ token: keyOf(i), secret: `SECsecret-${i}`, keyword: '督办' });
    if (kindOf(i) === 'feishu') feishu.push({ hook: keyOf(i), secret: `SECsecret-${i}` });
  }
  const fakes = new ChannelFakes({ wecom, dingtalk, feishu, now });
  const urls = await fakes.start();
  const ownDir = o.ledger ? undefined : mkdtempSync(path.join(tmpdir(), 'duban-channel-scenario-'));
  const ledger = o.ledger ?? (await Ledger.open({ sqliteFile: path.join(ownDir!, 'l.db') }));
  const keys = parseLinkKeys(`k:${Buffer.alloc(32, 3).toString('base64')}`);
  const make = () =>
    new ChannelDispatcher({
      ledger,
      links: { keys, baseUrl: 'https://duban.xx.gov.cn', graceMs: 0 },
      secrets: loadChannelSecrets(env),
      endpoints: { wecom: urls.wecom, dingtalk: urls.dingtalk, feishu: urls.feishu },
      log: { info: () => undefined, warn: () => undefined, error: () => undefined },
      now,
      settleMs: 1_000,
    });
  try {
    const rows: ChannelSendInsert[] = [];
    for (let n = 0; n < o.notices; n++) {
      const r = n % o.robots;
      const key = `duty-${n}/unit-${n}/2027/2027-03-01/r0`;
      const claims = {
        trackerId: `duty-${n}/unit-${n}`,
        period: '2027',
        email: `u${n}@xx.example.org`,
        name: `联络员${n}`,
        actions: ['acknowledge', 'submit', 'view'] as ('acknowledge' | 'submit' | 'view')[],
        expiresAt: clock + 365 * 86_400_000,
      };
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
        links: [
          { label: '签收', action: 'acknowledge', claims },
          { label: '报送材料', action: 'submit', claims },
        ],
        mentions: [],
      };
      rows.push({
        sendKey: `${key}#${name(r)}`,
        noticeKey: key,
        channel: name(r),
        kind: kindOf(r),
        target: '',
        trackerId: claims.trackerId,
        period: '2027',
        item: JSON.stringify(stored),
      });
    }
    await ledger.channels.add(rows, clock);
    // The dead worker (kill -9): claims in hand, never finished; its leases must run out.
    clock += 1_000;
    for (let r = 0; r < (o.deadClaims ?? 0); r++)
      await ledger.channels.claim(name(r), clock, { max: 50, limits: ROBOT_LIMITS[kindOf(r)] });
    const ds = Array.from({ length: o.dispatchers ?? 2 }, make);
    const started = clock;
    const wallStart = Date.now();
    for (let minute = 0; minute < (o.maxMinutes ?? 60); minute++) {
      for (let s = 0; s < 60; s += 5) {
        clock += 5_000;
        await Promise.all(ds.map((d) => d.tick()));
      }
      if ((await ledger.channels.due(clock + 3_600_000)).length === 0) break;
    }
    const simulatedMs = clock - started;
    const wallMs = Date.now() - wallStart;
    return {
      received: fakes.received(),
      requests: fakes.requests,
      rows: await ledger.channels.rows(),
      kindOf,
      keyOf,
      simulatedMs,
      wallMs,
    };
  } finally {
    await fakes.stop();
    if (!o.ledger) await ledger.close();
    if (ownDir) rmSync(ownDir, { recursive: true, force: true });
  }
}

/** The most messages one robot received in any sliding minute. */
export function busiestMinute(received: Received[], key: string): number {
  const at = received.filter((m) => m.to === key).map((m) => m.at);
  let most = 0;
  for (const t of at) most = Math.max(most, at.filter((x) => x > t - 60_000 && x <= t).length);
  return most;
}
