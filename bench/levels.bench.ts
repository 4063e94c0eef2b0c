/**
 * Levels benchmark (issue #24): a region-sized directory generated here, 12 cities x 10 counties x 40 departments
 * plus the region's own 50 departments (each jurisdiction with its office and leadership: 4,983 units), and 20
 * obligations assigned to every department (97,000 trackers). Prints one JSON object per part; asserts nothing.
 *
 * - `validate`: validating the region's files and resolving its trackers;
 * - `plan`: the planner for a year over every tracker (all notices of the year if nobody ever submits);
 * - `web`: the board for the region office, a city office and a county office, and the year report (page, CSV,
 *   and the builder alone), on a SQLite ledger filled with every tracker's board rows and a year of outcomes
 *   (server time as the web service logs it; targets: board < 300 ms, report < 2 s);
 * - `register`: `duban register` on the dev server with a worker process, first and unchanged, on a subset of the
 *   obligations (BENCH_REGISTER_OBLIGATIONS, default 2: 9,700 trackers; 97,000 real workflow starts take too long
 *   on a 2-core machine), extrapolated to the whole catalog and labelled so; the worker's memory once all sleep.
 *
 *   npm run bench:levels      (BENCH_ONLY=validate,plan,web,register; BENCH_CITIES, BENCH_COUNTIES,
 *                              BENCH_DEPARTMENTS, BENCH_REGION_DEPARTMENTS, BENCH_OBLIGATIONS, BENCH_RUNS,
 *                              BENCH_REGISTER_OBLIGATIONS, BENCH_YEAR)
 */
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { SMTPServer } from 'smtp-server';
import { stringify } from 'yaml';
import { yearReport } from '../access/report';
import { boardView } from '../access/board';
import type { Duban } from '../access/temporal';
import { PROJECT_ROOT } from '../config/load';
import { devServerEnvironment } from '../config/servers';
import { loadSettings } from '../config/settings';
import { WorkingCalendar } from '../domain/calendar';
import { parseDate } from '../domain/dates';
import type { Catalog, Directory, DueRule, PeriodKind } from '../domain/model';
import { planWindow } from '../domain/planner';
import { resolveTrackers } from '../domain/trackers';
import { validateDocuments } from '../domain/validate';
import { Ledger } from '../ledger';
import { buildWebServer } from '../web/server';
import { SEARCH_ATTRIBUTES } from '../workflows/messages';

const CITIES = Number(process.env.BENCH_CITIES ?? 12);
const COUNTIES = Number(process.env.BENCH_COUNTIES ?? 10);
const DEPARTMENTS = Number(process.env.BENCH_DEPARTMENTS ?? 40);
const REGION_DEPARTMENTS = Number(process.env.BENCH_REGION_DEPARTMENTS ?? 50);
const OBLIGATIONS = Number(process.env.BENCH_OBLIGATIONS ?? 20);
const REGISTER_OBLIGATIONS = Number(process.env.BENCH_REGISTER_OBLIGATIONS ?? 2);
const RUNS = Number(process.env.BENCH_RUNS ?? 10);
const YEAR = Number(process.env.BENCH_YEAR ?? new Date().getUTCFullYear());
const ONLY = new Set((process.env.BENCH_ONLY ?? 'validate,plan,web,register').split(','));

const contact = (who: string) => ({ name: who, email: `${who}@bench.example.org` });
const leaders = (who: string) => [{ ...contact(`${who}-leader`), title: '领导' }];

/** The region: its office and departments; each city an office; each county an office and departments. */
function regionDirectory() {
  const units: object[] = [];
  const jurisdictions: object[] = [];
  const unit = (id: string, name: string, kind: string, jurisdiction?: string, supervisor?: string, tags?: string[]) =>
    units.push({
      id,
      name,
      kind,
      ...(jurisdiction ? { jurisdiction } : {}),
      ...(supervisor ? { supervisor } : {}),
      ...(tags ? { tags } : {}),
      contacts: { head: contact(`${id}-head`), liaison: contact(`${id}-liaison`) },
    });
  unit('region-office', '自治区依法治区办', 'office');
  for (let d = 0; d < REGION_DEPARTMENTS; d++)
    unit(`r-d${d}`, `自治区厅局${d}`, 'department', undefined, 'region-office', ['部门']);
  for (let c = 0; c < CITIES; c++) {
    const city = `city-${c}`;
    jurisdictions.push({ id: city, name: `第${c}市`, level: 'city', leadership: leaders(city) });
    unit(`c${c}-office`, `第${c}市依法治市办`, 'office', city, 'region-office');
    for (let x = 0; x < COUNTIES; x++) {
      const county = `county-${c}-${x}`;
      jurisdictions.push({
        id: county,
        name: `第${c}市第${x}县`,
        parent: city,
        level: 'county',
        leadership: leaders(county),
      });
      unit(`c${c}-x${x}-office`, `第${c}市第${x}县依法治县办`, 'office', county, `c${c}-office`);
      for (let d = 0; d < DEPARTMENTS; d++)
        unit(`c${c}-x${x}-d${d}`, `第${c}市第${x}县部门${d}`, 'department', county, `c${c}-x${x}-office`, ['部门']);
    }
  }
  return { jurisdiction: '基准自治区', level: 'province', leadership: leaders('region'), jurisdictions, units };
}

const SHAPES: { period: PeriodKind; due: DueRule; quota?: number }[] = [
  { period: 'year', due: { rule: 'next-month-day', monthDay: '03-01', before: true } },
  { period: 'year', due: { rule: 'next-month-day', monthDay: '04-01', before: true } },
  { period: 'half-year', due: { rule: 'after-period-end', days: 15 } },
  { period: 'quarter', due: { rule: 'period-end' }, quota: 1 },
  { period: 'year', due: { rule: 'period-end' }, quota: 4 },
  { period: 'month', due: { rule: 'after-period-end', months: 1 } },
];

function regionCatalog(obligations: number) {
  return {
    obligations: Array.from({ length: obligations }, (_, i) => {
      const shape = SHAPES[i % SHAPES.length]!;
      return {
        id: `obligation-${i}`,
        title: `任务${i}`,
        basis: [{ document: '基准文件', quote: '基准' }],
        assignees: { tags: ['部门'] },
        period: shape.period,
        due: shape.due,
        reminders: [3, 0],
        ...(shape.quota ? { completion: 'quota', quota: shape.quota } : {}),
      };
    }),
  };
}

const seconds = (from: bigint) => Number((Number(process.hrtime.bigint() - from) / 1e9).toFixed(3));
const print = (o: object) => console.log(JSON.stringify(o));

function validated(): { catalog: Catalog; directory: Directory } {
  const started = process.hrtime.bigint();
  const v = validateDocuments(regionCatalog(OBLIGATIONS), regionDirectory());
  if (!v.catalog || !v.directory) throw new Error(JSON.stringify(v.problems.slice(0, 3)));
  const validateSeconds = seconds(started);
  const resolving = process.hrtime.bigint();
  const trackers = resolveTrackers(v.catalog, v.directory);
  if (ONLY.has('validate'))
    print({
      benchmark: 'levels: validate and resolve',
      units: v.directory.units.length,
      jurisdictions: (v.directory.jurisdictions?.length ?? 0) + 1,
      trackers: trackers.length,
      validateSeconds,
      resolveSeconds: seconds(resolving),
    });
  return { catalog: v.catalog, directory: v.directory };
}

function plan(catalog: Catalog, directory: Directory) {
  const trackers = resolveTrackers(catalog, directory);
  const calendar = new WorkingCalendar();
  const window = { from: parseDate(`${YEAR}-01-01`)!, to: parseDate(`${YEAR}-12-31`)! };
  const started = process.hrtime.bigint();
  const result = planWindow(trackers, calendar, window);
  const s = seconds(started);
  print({
    benchmark: 'levels: plan one year',
    year: YEAR,
    trackers: trackers.length,
    notices: result.notices.length,
    seconds: s,
    noticesPerSecond: Math.round(result.notices.length / s),
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
  });
}

/** The periods of a shape that settle in `y` and the one open at its end (approximately, as the board holds them). */
function periodsOf(shape: number, y: number): { settled: [string, string][]; open: [string, string] } {
  const pad = (n: number) => String(n).padStart(2, '0');
  const monthEnd = (yy: number, m: number) => new Date(Date.UTC(yy, m, 0)).getUTCDate();
  switch (shape) {
    case 0:
      return { settled: [[`${y - 1}`, `${y}-02-28`]], open: [`${y}`, `${y + 1}-02-28`] };
    case 1:
      return { settled: [[`${y - 1}`, `${y}-03-31`]], open: [`${y}`, `${y + 1}-03-31`] };
    case 2:
      return {
        settled: [
          [`${y - 1}-H2`, `${y}-01-15`],
          [`${y}-H1`, `${y}-07-15`],
        ],
        open: [`${y}-H2`, `${y + 1}-01-15`],
      };
    case 3:
      return {
        settled: [
          [`${y}-Q1`, `${y}-03-31`],
          [`${y}-Q2`, `${y}-06-30`],
          [`${y}-Q3`, `${y}-09-30`],
        ],
        open: [`${y}-Q4`, `${y}-12-31`],
      };
    case 4:
      return { settled: [], open: [`${y}`, `${y}-12-31`] };
    default: {
      const settled: [string, string][] = [[`${y - 1}-12`, `${y}-01-31`]];
      for (let m = 1; m <= 10; m++) settled.push([`${y}-${pad(m)}`, `${y}-${pad(m + 1)}-${monthEnd(y, m + 1)}`]);
      return { settled, open: [`${y}-11`, `${y}-12-31`] };
    }
  }
}

const OUTCOMES = [...Array(15).fill('on_time'), 'on_time_extended', 'late', 'late', 'missed', 'waived'] as const;

/** Every tracker's board rows and a year of outcomes, written straight into the ledger's tables. */
async function fill(ledger: Ledger, catalog: Catalog, directory: Directory, now: number) {
  const trackers = resolveTrackers(catalog, directory);
  const at = (day: string) => Date.parse(`${day}T15:59:59Z`);
  let periodRows = 0;
  let outcomeRows = 0;
  let k = 0;
  await ledger.db.transaction(async (tx) => {
    for (const t of trackers) {
      k++;
      const shape = Number(t.obligation.id.split('-')[1]) % SHAPES.length;
      const { settled, open } = periodsOf(shape, YEAR);
      const ref = [t.trackerId, t.obligation.id, t.unit.id] as const;
      const row = async (period: string, due: string, colour: string, isOpen: boolean, outcome: string | null) => {
        periodRows++;
        await tx.run(
          `INSERT INTO period_state (tracker_id, period, obligation, unit, colour, due, due_at, original_due, ends_at,
             progress_count, submitted, verification, open, outcome, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, 'not required', ?, ?, ?)`,
          [
            ref[0],
            period,
            ref[1],
            ref[2],
            colour,
            due,
            at(due),
            due,
            at(due) + 365 * 86_400_000,
            isOpen ? 0 : 1,
            isOpen ? 1 : 0,
            outcome,
            now,
          ],
        );
      };
      let left = 0;
      for (const [i, [period, due]] of settled.entries()) {
        // One in 25 is still open, overdue (逾期未完成); the rest settled with an outcome.
        if ((k * 7 + i) % 25 === 0 && at(due) < now) {
          await row(period, due, 'red', true, null);
          left++;
          continue;
        }
        const outcome = OUTCOMES[(k * 13 + i * 7) % OUTCOMES.length]!;
        await row(period, due, outcome === 'waived' ? 'waived' : outcome === 'missed' ? 'red' : 'done', false, outcome);
        outcomeRows++;
        await tx.run(
          `INSERT INTO outcomes (tracker_id, obligation, unit, period, outcome, original_due, due, due_year, completed_at, settled_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [
            ...ref,
            period,
            outcome,
            due,
            due,
            Number(due.slice(0, 4)),
            outcome === 'missed' ? null : at(due) - 86_400_000,
            at(due),
          ],
        );
      }
      const colour = at(open[1]) < now ? 'red' : k % 20 === 0 ? 'yellow' : 'green';
      await row(open[0], open[1], colour, true, null);
      await tx.run(
        `INSERT INTO tracker_state (tracker_id, obligation, unit, period, colour, due, due_at, active, open_periods, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?)`,
        [...ref, open[0], left ? 'red' : colour, open[1], at(open[1]), 1 + left, now],
      );
    }
  });
  return { trackers: trackers.length, periodRows, outcomeRows };
}

async function web(catalog: Catalog, directory: Directory) {
  const dir = mkdtempSync(path.join(tmpdir(), 'duban-levels-bench-'));
  // BENCH_LEDGER: a file to fill once and keep (later runs reuse it, to try queries and indexes on the same rows).
  const kept = process.env.BENCH_LEDGER;
  try {
    const settings = loadSettings({ DUBAN_DATA_DIR: dir, SMTP_URL: 'smtp://127.0.0.1:9', DUBAN_WEB_PORT: '0' });
    const reuse = kept !== undefined && existsSync(kept);
    const ledger = await Ledger.open({ sqliteFile: kept ?? path.join(dir, 'ledger.sqlite'), migrate: true });
    await ledger.saveDirectorySnapshot({ directory, catalog, by: 'bench' });
    const now = Date.now();
    const filling = process.hrtime.bigint();
    const filled = reuse ? { reused: kept } : await fill(ledger, catalog, directory, now);
    await ledger.db.exec('ANALYZE');
    const fillSeconds = seconds(filling);

    // The builders alone, in this process: the board's count and cut, the report.
    const inProcess = async (fn: () => Promise<unknown>) => {
      const times: number[] = [];
      for (let i = 0; i < RUNS + 2; i++) {
        const started = process.hrtime.bigint();
        await fn();
        times.push(seconds(started) * 1000);
      }
      return stats(times);
    };
    const countyUnits = directory.units.filter((u) => u.jurisdiction === 'county-0-0').map((u) => u.id);
    const builders = {
      boardRegion: await inProcess(() => boardView(ledger, {}, 300, now)),
      boardCounty: await inProcess(() => boardView(ledger, { units: countyUnits }, 300, now)),
      reportRegion: await inProcess(() =>
        yearReport(
          ledger,
          YEAR,
          { units: new Map(directory.units.map((u) => [u.id, u.name])) },
          { now, levels: { directory } },
        ),
      ),
    };

    // Requests go one at a time: the last one logged is the one just answered.
    let lastMs: number | undefined;
    const duban = {} as Duban;
    const app = await buildWebServer({
      settings,
      duban,
      ledger,
      log: (e) => {
        if (e.msg === 'request' && typeof e.ms === 'number') lastMs = e.ms;
        if (e.level === 'error') console.error(e);
      },
    });
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    const sessionOf = async (email: string) => {
      const secret = randomBytes(32).toString('base64url');
      await ledger.web.createSession({
        sessionHash: createHash('sha256').update(secret).digest('hex'),
        email,
        csrf: 'x'.repeat(43),
        now: Date.now(),
      });
      return secret;
    };
    const pages: { who: string; email: string; url: string }[] = [
      { who: 'board, region office', email: 'region-office-liaison@bench.example.org', url: '/' },
      {
        who: 'board, region office in a city',
        email: 'region-office-liaison@bench.example.org',
        url: '/?jurisdiction=city-0',
      },
      { who: 'board, city office', email: 'c0-office-liaison@bench.example.org', url: '/' },
      { who: 'board, county office', email: 'c0-x0-office-liaison@bench.example.org', url: '/' },
      { who: 'board, region leadership, red only', email: 'region-leader@bench.example.org', url: '/?colour=red' },
      { who: 'report, region office', email: 'region-office-liaison@bench.example.org', url: `/report?year=${YEAR}` },
      {
        who: 'report CSV, region office',
        email: 'region-office-liaison@bench.example.org',
        url: `/report.csv?year=${YEAR}`,
      },
      { who: 'report, county office', email: 'c0-x0-office-liaison@bench.example.org', url: `/report?year=${YEAR}` },
    ];
    const results: Record<string, object> = {};
    for (const p of pages) {
      const secret = await sessionOf(p.email);
      const server: number[] = [];
      const client: number[] = [];
      let bytes = 0;
      for (let i = 0; i < RUNS + 2; i++) {
        lastMs = undefined;
        const started = process.hrtime.bigint();
        const r = await fetch(base + p.url, { headers: { cookie: `duban_session=${secret}` } });
        if (r.status !== 200) throw new Error(`${p.url}: ${r.status}`);
        bytes = Buffer.byteLength(await r.text());
        client.push(seconds(started) * 1000);
        if (lastMs !== undefined) server.push(lastMs);
      }
      results[p.who] = {
        url: p.url,
        serverMs: server.length ? stats(server) : undefined,
        clientMs: stats(client),
        kb: Math.round(bytes / 1024),
      };
    }
    await app.close();
    await ledger.close();
    print({
      benchmark: 'levels: board and report on a filled ledger (SQLite)',
      ...filled,
      units: directory.units.length,
      fillSeconds,
      inProcessMs: builders,
      pages: results,
      targets: { boardMs: 300, reportMs: 2000 },
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Median, p90 and max, leaving out the first two runs (warm-up). */
function stats(xs: number[]) {
  const s = xs.slice(2).sort((a, b) => a - b);
  const r = (n: number | undefined) => Math.round((n ?? 0) * 10) / 10;
  return { median: r(s[Math.floor(s.length / 2)]), p90: r(s[Math.floor(s.length * 0.9)]), max: r(s[s.length - 1]) };
}

function timed(args: string[], env: NodeJS.ProcessEnv) {
  const started = Date.now();
  const r = spawnSync(process.execPath, [path.join(PROJECT_ROOT, 'bin', 'duban.js'), ...args], {
    env,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  if (r.status !== 0) console.error(r.stderr);
  return { seconds: (Date.now() - started) / 1000, stdout: r.stdout };
}

/** VmRSS of a process, from /proc (Linux). */
function rssMb(pid: number): number | undefined {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Math.round(Number(kb) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

async function register(fullTrackers: number) {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const env = await devServerEnvironment(Object.values(SEARCH_ATTRIBUTES));
  const sink = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData: (s, _x, cb) => (s.on('data', () => undefined), s.on('end', () => cb())),
  });
  sink.on('error', () => undefined);
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
  const dir = mkdtempSync(path.join(tmpdir(), 'duban-levels-register-'));
  writeFileSync(path.join(dir, 'catalog.yaml'), stringify(regionCatalog(REGISTER_OBLIGATIONS)));
  writeFileSync(path.join(dir, 'directory.yaml'), stringify(regionDirectory()));
  const runEnv = {
    ...process.env,
    TZ: 'UTC',
    TEMPORAL_ADDRESS: env.address,
    DUBAN_TASK_QUEUE: 'levels-bench',
    DUBAN_DATA_DIR: path.join(dir, 'data'),
    SMTP_URL: `smtp://127.0.0.1:${(sink.server.address() as AddressInfo).port}`,
    DUBAN_DIGEST: 'false',
    DUBAN_LOG_LEVEL: 'ERROR',
  };
  const worker = spawn(process.execPath, [path.join(PROJECT_ROOT, 'dist', 'worker', 'main.js')], {
    env: runEnv,
    stdio: 'inherit',
  });
  try {
    const files = [path.join(dir, 'catalog.yaml'), path.join(dir, 'directory.yaml')];
    const first = timed(['register', ...files, '--json'], runEnv);
    const started = (JSON.parse(first.stdout) as { started: unknown[] }).started.length;
    // Every tracker planned its year and went to sleep: its colour is published.
    const settling = Date.now();
    let sleeping = 0;
    for (let i = 0; i < 1200; i++) {
      sleeping = (
        await env.client.workflow.count(
          `WorkflowType = 'trackerWorkflow' AND ExecutionStatus = 'Running' AND DubanColour IS NOT NULL`,
        )
      ).count;
      if (sleeping >= started) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const settleSeconds = (Date.now() - settling) / 1000;
    await new Promise((r) => setTimeout(r, 10_000));
    const workerRssMb = rssMb(worker.pid!);
    const second = timed(['register', ...files, '--json'], runEnv);
    const unchanged = (JSON.parse(second.stdout) as { unchanged: unknown[] }).unchanged.length;
    const status = timed(['status', '--jurisdiction', 'county-0-0', '--json'], runEnv);
    const factor = fullTrackers / started;
    print({
      benchmark: 'levels: registration (a subset of the catalog, measured), extrapolated to the whole',
      measured: {
        obligations: REGISTER_OBLIGATIONS,
        trackers: started,
        first: { seconds: first.seconds, trackersPerSecond: Math.round(started / first.seconds) },
        settledAfterSeconds: settleSeconds,
        sleeping,
        unchanged: { seconds: second.seconds, unchanged, trackersPerSecond: Math.round(unchanged / second.seconds) },
        workerRssMbAllSleeping: workerRssMb,
        statusOneCountySeconds: status.seconds,
      },
      extrapolatedNotMeasured: {
        obligations: OBLIGATIONS,
        trackers: fullTrackers,
        firstSeconds: Math.round(first.seconds * factor),
        unchangedSeconds: Math.round(second.seconds * factor),
        basis:
          'the measured rates held constant (registration is one start a tracker, unchanged one listing page of 1,000)',
      },
    });
  } finally {
    worker.kill('SIGTERM');
    await new Promise((r) => worker.once('exit', r));
    await new Promise<void>((r) => sink.close(() => r()));
    await env.teardown();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  const { catalog, directory } = validated();
  const trackers = resolveTrackers(catalog, directory).length;
  if (ONLY.has('plan')) plan(catalog, directory);
  if (ONLY.has('web')) await web(catalog, directory);
  if (ONLY.has('register')) await register(trackers);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
