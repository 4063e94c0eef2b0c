/**
 * Web benchmark (issue #9): the board and a tracker page on 10,000 trackers (the register bench's directory:
 * 500 units x 20 obligations), rendered by the server for the supervising office's staff, who see every unit.
 * Targets: the board under 200 ms, a tracker page under 50 ms, the board's page weight under 300 KB.
 * The ledger is SQLite with the board rows, a snapshot and one tracker's history written directly; the tracker's
 * live status comes from a stub (the Temporal query is not measured here). Prints one JSON object.
 *
 *   npm run bench:web      (BENCH_UNITS, BENCH_OBLIGATIONS, BENCH_RUNS to resize)
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Ledger } from '../ledger';
import type { Duban } from '../access/temporal';
import { loadSettings } from '../config/settings';
import { buildWebServer } from '../web/server';
import { syntheticDirectory } from './synthetic';

const UNITS = Number(process.env.BENCH_UNITS ?? 500);
const OBLIGATIONS = Number(process.env.BENCH_OBLIGATIONS ?? 20);
const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const COLOURS = ['green', 'green', 'green', 'yellow', 'red', 'done', 'waived'];

async function main() {
  const dir = mkdtempSync(path.join(tmpdir(), 'duban-web-bench-'));
  const settings = loadSettings({ DUBAN_DATA_DIR: dir, SMTP_URL: 'smtp://127.0.0.1:9', DUBAN_WEB_PORT: '0' });
  const ledger = await Ledger.open({ sqliteFile: path.join(dir, 'ledger.sqlite') });
  const directory = syntheticDirectory(UNITS);
  const catalog = {
    timeZone: 'Asia/Shanghai',
    noticeHour: 9,
    defaults: {},
    obligations: Array.from({ length: OBLIGATIONS }, (_, i) => ({
      id: `obligation-${i}`,
      title: `任务${i}`,
      basis: [{ document: '基准文件', quote: '基准' }],
    })),
  };
  await ledger.saveDirectorySnapshot({ directory, catalog, by: 'bench' });
  const now = Date.now();
  await ledger.db.transaction(async (tx) => {
    for (let u = 0; u < UNITS; u++) {
      for (let o = 0; o < OBLIGATIONS; o++) {
        await tx.run(
          'INSERT INTO tracker_state (tracker_id, obligation, unit, period, colour, due, due_at, active, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?)',
          [
            `obligation-${o}/unit-${u}`,
            `obligation-${o}`,
            `unit-${u}`,
            '2027',
            COLOURS[(u * 7 + o) % COLOURS.length]!,
            '2027-02-28',
            now + ((u + o) % 90) * 86_400_000,
            now,
          ],
        );
      }
    }
  });
  const tracker = 'obligation-0/unit-0';
  for (let i = 0; i < 12; i++) {
    await ledger.beginNotice({
      sendKey: `${tracker}/2027/2027-02-28/r${i}`,
      trackerId: tracker,
      obligation: 'obligation-0',
      unit: 'unit-0',
      period: '2027',
      stage: i < 4 ? 'reminder' : 'escalation',
      level: i < 4 ? 0 : 1 + (i % 3),
      step: i,
      plannedAt: now - i * 86_400_000,
      firedAt: now - i * 86_400_000,
      due: '2027-02-28',
      messageId: `<${i}@bench>`,
      to: ['head-0@bench.example.org'],
      cc: ['office-head@bench.example.org'],
    });
  }
  await ledger.recordEvents(
    Array.from({ length: 12 }, (_, i) => ({
      eventKey: `${tracker}/e${i}`,
      trackerId: tracker,
      obligation: 'obligation-0',
      unit: 'unit-0',
      period: '2027',
      kind: i % 2 ? 'extension_requested' : 'submission',
      at: now - i * 3_600_000,
      actor: '联络员',
      data: {
        evidence: { text: '基准报送说明'.repeat(10), documentNumber: '基〔2027〕1号' },
        newDue: '2027-03-31',
        reason: '基准',
      },
    })),
  );

  const status = {
    trackerId: tracker,
    obligation: 'obligation-0',
    unit: 'unit-0',
    period: '2027',
    due: '2027-02-28',
    originalDue: '2027-02-28',
    colour: 'green',
    paused: false,
    retired: false,
    completion: 'single',
    quota: 1,
    recorded: 0,
    submitted: false,
    verification: 'not required',
    provisionalYears: [],
    history: [],
  };
  const duban = { status: async () => status } as unknown as Duban;
  const times: Record<string, number[]> = {};
  const app = await buildWebServer({
    settings,
    duban,
    ledger,
    log: (e) => {
      if (e.msg === 'request' && typeof e.ms === 'number') (times[String(e.path)] ??= []).push(e.ms);
      if (e.level === 'error') console.error(e);
    },
  });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const secret = randomBytes(32).toString('base64url');
  await ledger.web.createSession({
    sessionHash: createHash('sha256').update(secret).digest('hex'),
    email: 'office-liaison@bench.example.org',
    csrf: 'x'.repeat(43),
    now,
  });
  const get = async (url: string) => {
    const r = await fetch(base + url, { headers: { cookie: `duban_session=${secret}` } });
    if (r.status !== 200) throw new Error(`${url}: ${r.status}`);
    return Buffer.byteLength(await r.text());
  };
  let boardBytes = 0;
  let trackerBytes = 0;
  for (let i = 0; i < RUNS + 2; i++) {
    boardBytes = await get('/');
    trackerBytes = await get(`/t/${tracker}`);
  }
  const stats = (xs: number[]) => {
    const s = xs.slice(2).sort((a, b) => a - b);
    return { median: s[Math.floor(s.length / 2)], p90: s[Math.floor(s.length * 0.9)], max: s[s.length - 1] };
  };
  console.log(
    JSON.stringify({
      trackers: UNITS * OBLIGATIONS,
      units: UNITS,
      boardMs: stats(times['/']!),
      boardKB: Math.round(boardBytes / 1024),
      trackerPageMs: stats(times[`/t/${tracker}`]!),
      trackerPageKB: Math.round(trackerBytes / 1024),
    }),
  );
  await app.close();
  await ledger.close();
  rmSync(dir, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
