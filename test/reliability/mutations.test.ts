/**
 * Hostile and broken input through the command line (issue 13): a seeded generator mutates the shipped and test
 * catalogs, directories and a calendar file (keys deleted, wrong types, huge numbers and strings, line breaks in
 * names, unusual Unicode, binary junk, truncation, alias bombs, deep nesting) and runs `validate`, `plan --json`,
 * `register --dry-run --json` and `register --json` in-process on each, the two registrations against a dev server
 * of the test's own (no worker: a started tracker waits on its task queue, which is all the count needs). Every run
 * must end with 0 (valid) or 2 (bad input, reported with the file), print no stack trace, and take less than 10 s;
 * a set of files that validates must also plan, and fit Temporal's limits. No registration is partial: a refused
 * input starts nothing (every refused case registers into one namespace, which must stay empty), an accepted one
 * starts every tracker its dry run said it would (each accepted case registers into a namespace of its own, and
 * the workflows on its task queue are counted), and a dry run starts nothing (its namespace stays empty).
 *
 * Deterministic (fixed seed), bounded in count and time. Prints its figures.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Client } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { parse, stringify } from 'yaml';
import { main } from '../../client/cli';
import { assertRegistrable, loadInputs } from '../../config/load';
import { DEV_SERVER_DYNAMIC_CONFIG, temporalCliPath } from '../../config/servers';
import { DEFINITION_MAX_BYTES } from '../../domain/validate';
import { quietRuntime } from '../support/engine';

const root = path.resolve(__dirname, '..', '..');
const SEED = 0x5eed_0013;
const CASES = 340;
const MAX_RUN_MS = 10_000;
/** Namespaces made at the dev server's start for the accepted cases' registrations, one each (16 at this seed). */
const ACCEPTED_NAMESPACES = 40;
const TASK_QUEUE = 'mutations';

const CALENDAR = `years:
  "2027":
    source: 测试通知
    published: "2026-11-10"
    holidays:
      - { name: 元旦, from: "2027-01-01", to: "2027-01-03" }
      - { name: 春节, from: "2027-02-05", to: "2027-02-12" }
    workdays: ["2027-02-20", "2026-12-27"]
`;

const bases = [
  { catalog: 'config/defaults/catalog.yaml', directory: 'config/defaults/directory.yaml' },
  { catalog: 'test/fixtures/catalog.yaml', directory: 'test/fixtures/directory.yaml' },
].map((b) => ({
  catalog: readFileSync(path.join(root, b.catalog), 'utf8'),
  directory: readFileSync(path.join(root, b.directory), 'utf8'),
}));

/** mulberry32: small, fast, and the same sequence everywhere. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!,
  };
}
type Rng = ReturnType<typeof rng>;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Slot = { parent: Json[] | { [k: string]: Json }; key: string | number };

/** Every (container, key) in a value, so a mutation can land anywhere. */
function slots(v: Json, out: Slot[] = []): Slot[] {
  if (Array.isArray(v)) {
    v.forEach((x, i) => {
      out.push({ parent: v, key: i });
      slots(x, out);
    });
  } else if (v !== null && typeof v === 'object') {
    for (const k of Object.keys(v)) {
      out.push({ parent: v, key: k });
      slots(v[k]!, out);
    }
  }
  return out;
}
const get = (s: Slot) => (s.parent as Record<string | number, Json>)[s.key]!;
const set = (s: Slot, x: Json) => ((s.parent as Record<string | number, Json>)[s.key] = x);

const HUGE_NUMBERS = [1e9, 1e20, -1e9, 100_000, 1_000_000, 2 ** 53 + 2, 1e308, -0.5, 2.5, 0, -1];
const WEIRD_TEXT = [
  '市司法局\r\nBcc: victim@example.org',
  '第一行\n第二行',
  '\u202e局法司市',
  '零\u200b宽\u200d字符',
  '\u001b[31m红色\u001b[0m',
  'tab\there',
  'e\u0301\u0301\u0301',
  '😀🏛️👩‍⚖️',
  '\u2028separator',
  '',
  '   ',
  '=HYPERLINK("http://x")',
  '<script>alert(1)</script>',
  '\ud800',
  '9999-12-31',
  '02-29',
  '0000-01-01',
  'Asia/Shangai',
];

function hugeString(r: Rng): string {
  const size = r.pick([300, 5_000, 100_000, 3_000_000]);
  return r.pick(['名', 'a', '长文本\n', '\u0000', '𠀀']).repeat(Math.ceil(size / 3));
}

/** Mutations of the parsed document, written back as YAML. */
const valueMutations: Record<string, (doc: Json, r: Rng) => void> = {
  deleteKey(doc, r) {
    const keyed = slots(doc).filter((s) => !Array.isArray(s.parent));
    const s = r.pick(keyed);
    delete (s.parent as Record<string, Json>)[s.key as string];
  },
  wrongType(doc, r) {
    set(r.pick(slots(doc)), r.pick<Json>([42, 'text', [], {}, null, true, [1, 2], { a: 1 }]));
  },
  hugeNumber(doc, r) {
    const numeric = slots(doc).filter((s) => typeof get(s) === 'number');
    set(r.pick(numeric.length ? numeric : slots(doc)), r.pick(HUGE_NUMBERS));
  },
  hugeNumberLadder(doc, r) {
    const obligations = (doc as { obligations?: Json[] }).obligations;
    const o = Array.isArray(obligations) ? (r.pick(obligations) as Record<string, Json>) : undefined;
    if (!o || typeof o !== 'object') return;
    const n = r.pick([100_000, 1_000_000, 1e9, 251, 250]);
    const which = r.int(4);
    if (which === 0) o.reminders = [n, 3, 1, 0];
    else if (which === 1)
      o.escalation = [
        { level: 1, after: 1 },
        { level: 3, after: n, repeatWeekly: true },
      ];
    else if (which === 2) o.due = { rule: 'after-period-end', [r.pick(['days', 'months'])]: n };
    else
      Object.assign(o, {
        period: 'once',
        due: {
          rule: 'fixed-date',
          date: r.pick(['9999-12-31', '2101-01-01', '1999-12-31', '2100-12-31', '2027-06-30']),
        },
      });
  },
  hugeString(doc, r) {
    const texts = slots(doc).filter((s) => typeof get(s) === 'string');
    set(r.pick(texts), hugeString(r));
  },
  weirdText(doc, r) {
    const texts = slots(doc).filter((s) => typeof get(s) === 'string');
    const s = r.pick(texts);
    set(s, r.next() < 0.5 ? r.pick(WEIRD_TEXT) : `${get(s)}${r.pick(WEIRD_TEXT)}`);
  },
  duplicateEntry(doc, r) {
    const lists = slots(doc).filter((s) => Array.isArray(get(s)) && (get(s) as Json[]).length > 0);
    if (!lists.length) return;
    const list = get(r.pick(lists)) as Json[];
    list.push(structuredClone(r.pick(list)));
  },
  manyEntries(doc, r) {
    const lists = slots(doc).filter((s) => Array.isArray(get(s)) && (get(s) as Json[]).length > 0);
    if (!lists.length) return;
    const list = get(r.pick(lists)) as Json[];
    const one = list[0]!;
    for (let i = 0, n = r.pick([60, 600, 3_000]); i < n; i++) list.push(structuredClone(one));
  },
  unknownKey(doc, r) {
    const maps = slots(doc).filter((s) => {
      const v = get(s);
      return v !== null && typeof v === 'object' && !Array.isArray(v);
    });
    const target = maps.length ? (get(r.pick(maps)) as Record<string, Json>) : (doc as Record<string, Json>);
    target[r.pick(['verfication', 'x'.repeat(100_000), '\u0000key', '名字'])] = 1;
  },
};

/** Mutations of the raw text. */
const textMutations: Record<string, (text: string, r: Rng) => string | Buffer> = {
  truncate: (t, r) => t.slice(0, r.int(t.length)),
  binaryJunk(t, r) {
    const junk = Buffer.from(Array.from({ length: 1 + r.int(64) }, () => r.int(256)));
    const at = r.int(t.length);
    return Buffer.concat([Buffer.from(t.slice(0, at)), junk, Buffer.from(t.slice(at))]);
  },
  wholeBinary: (_, r) => Buffer.from(Array.from({ length: 1 + r.int(4096) }, () => r.int(256))),
  utf16: (t) => Buffer.from(`\ufeff${t}`, 'utf16le'),
  aliasBomb(t, r) {
    const bomb = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 9; i++)
      bomb.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(',')}]`,
      );
    return r.next() < 0.5 ? `${bomb.join('\n')}\n${t}` : `${t}\nbomb:\n${bomb.map((l) => `  ${l}`).join('\n')}\n`;
  },
  undefinedAlias: (t) => t.replace(/noticeHour: \d+|jurisdiction: .*/, (m) => `${m.split(':')[0]}: *nowhere`),
  manyAliases: (t) => `${t}\nx-anchor: &x 1\nx-list: [${Array(150).fill('*x').join(', ')}]\n`,
  deepFlow: (t, r) => {
    const depth = r.pick([40, 1000, 200_000]);
    return t.replace(
      /\n(\w+):/,
      (m, k: string) => `\n${k}: ${'['.repeat(depth)}${r.next() < 0.5 ? ']'.repeat(depth) : ''}\n${k}x:`,
    );
  },
  deepBlock: (t, r) =>
    `${t}\nextra:\n${Array.from({ length: r.pick([40, 500]) }, (_, i) => `${' '.repeat(i + 1)}k${i}:`).join('\n')}\n`,
  dashes: (t, r) => `${t}\nextra: \n  ${'- '.repeat(r.pick([40, 1_000_000]))}x\n`,
  flipBytes(t, r) {
    const b = Buffer.from(t);
    for (let i = 0, n = 1 + r.int(8); i < n; i++) b[r.int(b.length)] = r.int(128);
    return b;
  },
  shuffleIndent: (t, r) =>
    t
      .split('\n')
      .map((l) => (r.next() < 0.1 ? ` ${l}` : l))
      .join('\n'),
  deleteLines: (t, r) =>
    t
      .split('\n')
      .filter(() => r.next() > 0.1)
      .join('\n'),
  duplicateKeyLine: (t, r) => {
    const lines = t.split('\n');
    const i = r.int(lines.length);
    lines.splice(i, 0, lines[i] ?? '');
    return lines.join('\n');
  },
  tooBig: (t) => `${t}\n# ${'x'.repeat(5 * 1024 * 1024)}\n`,
  empty: () => '',
  tabs: (t) => t.replace(/\n {2}/g, '\n\t'),
};

/** Calendar files: the neighbouring-year make-up day is valid; the rest mostly not. */
const calendarMutations: ((r: Rng) => string)[] = [
  () => CALENDAR,
  (r) => CALENDAR.replace('"2027-02-12"', `"${r.pick(['2027-02-30', '2099-12-31', '2026-12-31', '2027-01-01', 'x'])}"`),
  (r) => CALENDAR.replace('"2026-12-27"', `"${r.pick(['2025-12-27', '2028-01-02', '2027-13-01', '12-27'])}"`),
  (r) => CALENDAR.replace('"2027"', `"${r.pick(['9999', '27', '1999', 'year', '2101'])}"`),
  (r) => CALENDAR.replace('source: 测试通知', `source: ${r.pick(['', '[]', '"a\\nb"', 'x'.repeat(300)])}`),
  (r) => CALENDAR.replace('holidays:', r.pick(['holiday:', 'holidays: 3\n    extra:'])),
  (r) =>
    `years:\n  "2027":\n    source: s\n    holidays:\n${Array.from({ length: r.pick([3, 12]) }, (_, i) => `      - { name: h${i}, from: "2027-${String(i + 1).padStart(2, '0')}-01", to: "2027-${String(i + 1).padStart(2, '0')}-28" }`).join('\n')}\n`,
];

interface Case {
  name: string;
  files: { catalog: string | Buffer; directory: string | Buffer; calendar?: string };
}

function generate(count: number): Case[] {
  const r = rng(SEED);
  const cases: Case[] = [];
  const valueNames = Object.keys(valueMutations);
  const textNames = Object.keys(textMutations);
  for (let i = 0; i < count; i++) {
    const base = bases[i % bases.length]!;
    const which = r.next() < 0.55 ? 'catalog' : 'directory';
    const files: Case['files'] = { catalog: base.catalog, directory: base.directory };
    let name: string;
    const kind = r.next();
    if (kind < 0.08) {
      name = 'calendar';
      files.calendar = r.pick(calendarMutations)(r);
    } else if (kind < 0.55) {
      const m = r.pick(valueNames);
      name = `${which}.${m}`;
      const doc = parse(base[which]) as Json;
      for (let n = 1 + (r.next() < 0.2 ? r.int(3) : 0); n > 0; n--) valueMutations[m]!(doc, r);
      files[which] = stringify(doc, { lineWidth: 0 });
    } else {
      const m = r.pick(textNames);
      name = `${which}.${m}`;
      files[which] = textMutations[m]!(base[which], r);
    }
    cases.push({ name: `${i}:${name}`, files });
  }
  return cases;
}

async function run(argv: string[], env: Record<string, string> = {}) {
  let out = '';
  let err = '';
  // The service commands read their settings from the environment, as a user's shell gives them.
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  const started = Date.now();
  try {
    const code = await main(
      ['node', 'duban', ...argv],
      (s) => void (out += s),
      (s) => void (err += s),
    );
    return { code, out, err, ms: Date.now() - started };
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** Workflows of the suite's task queue in a namespace, any status: what registrations started there. */
async function started(client: Client, expected?: number): Promise<number> {
  const query = `TaskQueue = '${TASK_QUEUE}'`;
  // Visibility follows the starts by a moment: wait up to 15 s for the number expected, or read once.
  for (const deadline = Date.now() + 15_000; ;) {
    const { count } = await client.workflow.count(query);
    if (expected === undefined || count >= expected || Date.now() > deadline) return count;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const STACK = /\n\s+at [^\n]*\(?[^\n]*:\d+:\d+\)?|node:internal|\bTypeError\b|\bRangeError\b|\bReferenceError\b/;

describe('mutated input through the command line', () => {
  let env: TestWorkflowEnvironment;
  let dataDir: string;
  const clients = new Map<string, Client>();
  const client = (namespace: string) => {
    let c = clients.get(namespace);
    if (!c) clients.set(namespace, (c = new Client({ connection: env.connection, namespace })));
    return c;
  };
  // Settings of the register runs: the suite's dev server and ledger, one namespace per registration target.
  const registerEnv = (namespace: string) => ({
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_NAMESPACE: namespace,
    DUBAN_TASK_QUEUE: TASK_QUEUE,
    DUBAN_DATA_DIR: dataDir,
    DUBAN_USER: '变异测试',
  });

  beforeAll(async () => {
    quietRuntime();
    const namespaces = [
      'dry-run',
      'refused',
      ...Array.from({ length: ACCEPTED_NAMESPACES }, (_, i) => `accepted-${i}`),
    ];
    env = await TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'existing-path', path: temporalCliPath() },
        log: { format: 'text', level: 'never' },
        extraArgs: [...DEV_SERVER_DYNAMIC_CONFIG, ...namespaces.flatMap((n) => ['--namespace', n])],
      },
    });
    dataDir = mkdtempSync(path.join(tmpdir(), 'duban-mutations-data-'));
    // Registration reads the ledger (which trackers ended); with no worker, `duban migrate` creates it.
    const migrated = await run(['migrate'], registerEnv('default'));
    expect([migrated.code, migrated.err]).toEqual([0, '']);
  }, 120_000);
  afterAll(async () => {
    await env?.teardown();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  test(`${CASES} mutated catalogs, directories and calendars through validate, plan, register --dry-run and register: only exit codes 0 and 2, no stack trace, none over ${MAX_RUN_MS / 1000} s, no partial registration`, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'duban-mutations-'));
    const figures = {
      cases: 0,
      runs: 0,
      exit0: 0,
      exit2: 0,
      other: 0,
      stackTraces: 0,
      slow: 0,
      maxMs: 0,
      validButUnplannable: 0,
      overBudget: 0,
      registered: 0,
      trackersStarted: 0,
      partial: 0,
      maxRegisterMs: 0,
    };
    const failures: string[] = [];
    let accepted = 0;
    try {
      for (const c of generate(CASES)) {
        figures.cases++;
        const files = {
          catalog: path.join(dir, 'catalog.yaml'),
          directory: path.join(dir, 'directory.yaml'),
          calendar: path.join(dir, 'calendar.yaml'),
        };
        writeFileSync(files.catalog, c.files.catalog);
        writeFileSync(files.directory, c.files.directory);
        const calendarArgs = c.files.calendar !== undefined ? ['--calendar', files.calendar] : [];
        if (c.files.calendar !== undefined) writeFileSync(files.calendar, c.files.calendar);
        type Run = Awaited<ReturnType<typeof run>>;
        const runs: { validate: Run; plan: Run; dryRun: Run; register?: Run } = {
          validate: await run(['validate', files.catalog, files.directory, ...calendarArgs]),
          plan: await run([
            'plan',
            files.catalog,
            files.directory,
            ...calendarArgs,
            '--from',
            '2027-02-01',
            '--to',
            '2027-03-15',
            '--json',
          ]),
          // Every dry run goes to one namespace, where nothing may ever start.
          dryRun: await run(
            ['register', files.catalog, files.directory, ...calendarArgs, '--dry-run', '--json'],
            registerEnv('dry-run'),
          ),
        };
        // The real registration: a refused input into the shared namespace (which must stay empty), an accepted
        // one into a fresh namespace of its own, so that what it started can be counted.
        const namespace = runs.validate.code === 0 ? `accepted-${accepted++}` : 'refused';
        if (accepted > ACCEPTED_NAMESPACES)
          throw new Error(`more than ${ACCEPTED_NAMESPACES} mutated inputs validate: raise ACCEPTED_NAMESPACES`);
        const before = await started(client(namespace));
        const register = await run(
          ['register', files.catalog, files.directory, ...calendarArgs, '--json'],
          registerEnv(namespace),
        );
        runs.register = register;
        figures.maxRegisterMs = Math.max(figures.maxRegisterMs, register.ms);
        if (process.env.DUBAN_MUTATIONS_VERBOSE) {
          console.log(
            `${c.name}: ${Object.entries(runs)
              .map(([k, r]) => `${k} ${r.code} ${r.ms}ms`)
              .join(' ')} ${(runs.validate.err.split('\n')[1] ?? '').slice(0, 240)}`,
          );
        }
        for (const [command, r] of Object.entries(runs) as [string, Run][]) {
          figures.runs++;
          figures.maxMs = Math.max(figures.maxMs, r.ms);
          if (r.code === 0) figures.exit0++;
          else if (r.code === 2) figures.exit2++;
          else {
            figures.other++;
            failures.push(`${c.name} ${command}: exit ${r.code}: ${r.err.slice(0, 300)}`);
          }
          if (STACK.test(r.out + r.err)) {
            figures.stackTraces++;
            failures.push(`${c.name} ${command}: stack trace: ${r.err.slice(0, 300)}`);
          }
          if (r.ms > MAX_RUN_MS) {
            figures.slow++;
            failures.push(`${c.name} ${command}: ${r.ms} ms`);
          }
          // Bad input names a file with its line and says nothing was done.
          if (r.code === 2 && !/(catalog|directory|calendar)\.yaml:\d+:\d+: /.test(r.err))
            failures.push(`${c.name} ${command}: exit 2 without file and line: ${r.err.slice(0, 300)}`);
          // The registrations refuse exactly what validate refuses, and accept what it accepts.
          if (command === 'dryRun' || command === 'register') {
            if (r.code !== runs.validate.code)
              failures.push(
                `${c.name} ${command}: exit ${r.code}, validate exits ${runs.validate.code}: ${r.err.slice(0, 300)}`,
              );
          }
        }
        // Waits for as many as register says it started (visibility lags a moment behind the starts).
        const claimed = register.code === 0 ? (JSON.parse(register.out) as { started: string[] }).started.length : 0;
        const after = await started(client(namespace), register.code === 0 ? before + claimed : undefined);
        if (runs.validate.code === 0) {
          // What validates must run: plan succeeds, and every definition fits what Temporal carries.
          if (runs.plan.code !== 0) {
            figures.validButUnplannable++;
            failures.push(`${c.name}: validates but plan exits ${runs.plan.code}: ${runs.plan.err.slice(0, 300)}`);
          }
          const inputs = loadInputs(
            c.files.calendar !== undefined ? files : { catalog: files.catalog, directory: files.directory },
          );
          expect(() => assertRegistrable(inputs)).not.toThrow();
          // Names and titles that reach subjects, CSV rows and board columns are one line.
          for (const t of inputs.trackers) {
            const lines = [
              t.obligation.title,
              ...t.obligation.basis.flatMap((b) => [b.document, b.article ?? '']),
              t.unit.name,
              t.unit.head.name,
              t.unit.liaison.name,
              t.supervisor.name,
              ...t.leadership.flatMap((l) => [l.name, l.title ?? '']),
            ];
            const broken = lines.find((l) => /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(l) || l.length > 200);
            if (broken !== undefined)
              failures.push(
                `${c.name}: a name or title that is not one short line was accepted: ${JSON.stringify(broken.slice(0, 80))}`,
              );
          }
          const heaviest = Math.max(...inputs.trackers.map((t) => Buffer.byteLength(JSON.stringify(t))));
          if (heaviest > DEFINITION_MAX_BYTES) figures.overBudget++;
          // All or nothing: the dry run would start every tracker, the registration started every one, and
          // every one is on the task queue of its fresh namespace.
          if (runs.dryRun.code === 0 && register.code === 0) {
            const ids = inputs.trackers.map((t) => t.trackerId).sort();
            const dry = JSON.parse(runs.dryRun.out) as { dryRun: boolean; started: string[] };
            const real = JSON.parse(register.out) as { dryRun: boolean; started: string[] };
            figures.registered++;
            figures.trackersStarted += after - before;
            if (!dry.dryRun || JSON.stringify(dry.started) !== JSON.stringify(ids))
              failures.push(`${c.name}: the dry run would start ${dry.started.length} of ${ids.length} trackers`);
            if (real.dryRun || JSON.stringify(real.started) !== JSON.stringify(ids))
              failures.push(`${c.name}: register started ${real.started.length} of ${ids.length} trackers`);
            if (after - before !== ids.length) {
              figures.partial++;
              failures.push(
                `${c.name}: ${after - before} of ${ids.length} trackers are on the task queue after register`,
              );
            }
          }
        } else {
          if (runs.plan.code === 0) failures.push(`${c.name}: validate refuses what plan accepts`);
          if (after !== before) {
            figures.partial++;
            failures.push(`${c.name}: a refused input started ${after - before} workflows`);
          }
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // Nothing started in the dry runs' namespace, nor later in the refused inputs' one (visibility had time).
    const leftovers = { dryRun: await started(client('dry-run')), refused: await started(client('refused')) };
    // The figures of this run, for docs and for whoever reads the log.
    console.log(`mutations: ${JSON.stringify({ ...figures, leftovers })}`);
    expect(failures).toEqual([]);
    expect(leftovers).toEqual({ dryRun: 0, refused: 0 });
    expect(figures.cases).toBeGreaterThanOrEqual(300);
    expect(figures.exit0).toBeGreaterThan(0);
    expect(figures.registered).toBeGreaterThan(0);
    expect(figures.exit2).toBeGreaterThan(figures.cases);
    expect(figures.overBudget).toBe(0);
    expect(figures.partial).toBe(0);
  }, 600_000);
});
