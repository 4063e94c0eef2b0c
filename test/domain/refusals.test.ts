/**
 * Every text a person reads is Chinese (#19 item 7): refusals a page or the command line shows, validation problems,
 * planning problems on the board, alerts, and the command line's own words. Two nets, because neither alone is
 * enough: the source can be read completely but only by rules; running code is the truth but only for the inputs
 * tried.
 *
 * 1. The source. test/support/user-text.ts reads the syntax tree of every file whose text reaches people (SCOPE
 *    below: the clients, the domain, the loaders, the workflow, the web, the ledger's open errors, the channels'
 *    alert) and finds each text by what carries it: the errors that are shown (`new RefusedError(…)`,
 *    `new InputError(…)`, `new PlanningError(…)`, any `new Error(…)` there), refusals and problems
 *    (`refuse(…)`, `add(path, …)`, `bad(field, …)`, `fileProblem(file, …)`), the properties and variables named
 *    message, error, problem, text and reason (zod's `message:`, `{ error }` results, a problem's message), and
 *    what the command line prints (`out(…)`, `err(…)`). Every piece of such a text that reads as English (two
 *    English words in a row, outside names like `duban start`) fails the test with its file and line. Canaries
 *    check that the rules still reach the places they must.
 * 2. The code, driven with bad input: the tracker's state machine with random requests; validation with random
 *    damage to valid files (wrong types, unknown keys, huge and broken texts), which also reaches zod's own
 *    messages; the settings with bad values; commander's parse errors and the option checks through the command
 *    line itself; the planner's refusals; the SMTP alert; the rosters, events and calendar files; a unit sheet.
 *    Every message must hold Chinese.
 */
import fc from 'fast-check';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { Command } from 'commander';
import { buildProgram, main } from '../../client/cli';
import { commanderMessage } from '../../client/commander-words';
import { InvalidInputError, loadCalendarFile, loadEventsFile, loadInputs } from '../../config/load';
import { ENVIRONMENT, SettingsError, loadSettings } from '../../config/settings';
import { PlanningError, trackerPeriodPlan } from '../../domain/planner';
import { Refusal, RequestName } from '../../domain/requests';
import { parseRosterCsv } from '../../domain/roster';
import { TrackerState } from '../../domain/tracker-state';
import { checkEvidence, checkText } from '../../domain/tracking';
import { validateDocuments } from '../../domain/validate';
import { periodWords } from '../../domain/words';
import { directoryFromRows } from '../../import/directory';
import { SmtpHealth } from '../../channels/email/smtp';
import { smtpAlertText } from '../../worker/operations';
import { Driver, at, calendar } from '../support/driver';
import { tracker } from '../support/trackers';
import { CHINESE, ROOT, Site, readsAsEnglish, sourceFiles, userTexts } from '../support/user-text';

/** Where the texts people read are made (net 1). */
const SCOPE = [
  'access',
  'client',
  'config',
  'domain',
  'import',
  'workflows',
  'web',
  'ledger/index.ts',
  'activities/channels.ts',
  'channels/transport.ts',
  'worker/main.ts',
];

/** Texts in SCOPE that read as English on purpose, each with the reason no person reads it. */
const EXEMPT: { file: string; text: RegExp; why: string }[] = [
  {
    file: 'web/routes/health.ts',
    text: /no answer within/,
    why: "the readiness probe answers monitors in JSON, like the worker's /readyz",
  },
];

const source = (file: string) => readFileSync(path.join(ROOT, 'domain', file), 'utf8');

describe('net 1: every text in the source that reaches people is Chinese', () => {
  const sites: Site[] = SCOPE.flatMap((dir) =>
    sourceFiles(dir).flatMap((file) => userTexts(file, { plainErrors: true, output: file.startsWith('client') })),
  );

  test('no text a person reads is English', () => {
    const english = sites
      .filter((s) => readsAsEnglish(s.text))
      .filter((s) => !EXEMPT.some((e) => e.file === s.file && e.text.test(s.text)))
      .map((s) => `${s.file}:${s.line} ${s.rule} ${s.text}`);
    expect(english).toEqual([]);
  });

  test('the rules reach the refusals, problems and outputs they must (canaries)', () => {
    const seen = (file: string, text: string) => sites.some((s) => s.file === file && s.text.includes(text));
    // The workflow's own refusals (its update validator) and the planner's problems.
    expect(seen('workflows/tracker.ts', '该督办任务正在转入下一轮运行')).toBe(true);
    expect(seen('domain/planner.ts', '确定日期（duban event set')).toBe(true);
    expect(seen('domain/due.ts', '等待事件')).toBe(true);
    // The state machines' refusals, zod's messages, validation's and the loaders' problems.
    expect(seen('domain/period-state.ts', '退回理由为必填项') || seen('domain/period-state.ts', '理由')).toBe(true);
    expect(seen('domain/model.ts', '不是有效的邮箱地址')).toBe(true);
    expect(seen('domain/validate.ts', '没有选中任何单位')).toBe(true);
    expect(seen('config/load.ts', '不是文本文件')).toBe(true);
    expect(seen('import/directory.ts', '不是有效的大陆手机号码')).toBe(true);
    // The command line's output, errors and alerts.
    expect(seen('client/cli.ts', '未作任何更改')).toBe(true);
    expect(seen('client/start.ts', 'Temporal 开发服务器')).toBe(true);
    expect(seen('client/commands/catalog.ts', '确定日期（确定前不发通知）')).toBe(true);
    expect(seen('activities/channels.ts', '发送失败且不会自行恢复')).toBe(true);
    expect(seen('access/temporal.ts', '没有督办任务')).toBe(true);
    expect(sites.filter((s) => CHINESE.test(s.text)).length).toBeGreaterThan(400);
  });

  test('the scanner finds English wherever a rule looks', () => {
    const english = (code: string, options = {}) =>
      userTexts('x.ts', { plainErrors: true, ...options }, code)
        .filter((s) => readsAsEnglish(s.text))
        .map((s) => s.rule);
    expect(english("throw new RefusedError('period is closed');")).toEqual(['new RefusedError']);
    expect(english('throw new Error(`the tracker ${id} is starting`);')).toEqual(['new Error']);
    expect(english("this.refuse(`${p} ${n === 1 ? 'is' : 'is not'} open`);")).toEqual(['refuse(…)']);
    expect(english("add(['due'], 'give exactly one of days or months');")).toEqual(['add(…)']);
    expect(english("z.string().min(1, { message: 'must not be empty' });")).toEqual(['message:']);
    expect(english("return { error: 'no such unit' };")).toEqual(['error:']);
    expect(english('const text = `Channel ${name} is broken`;')).toEqual(['const text']);
    expect(english("io.err('warning: ' + 'the web did not start');", { output: true })).toEqual(['err(…)']);
    // Chinese, names, file names and code words are not English.
    expect(english('throw new InputError(`--from “${t}”不是日期`);')).toEqual([]);
    expect(english("io.out(`duban start：${x}`); io.out('Temporal Web UI: x');", { output: true })).toEqual([]);
    expect(english("throw new Error(path.join(dir, 'temporal.log'));")).toEqual([]);
    expect(english("log.error('SMTP is not taking messages', { smtp: url });")).toEqual([]);
  });

  test('every problem the text and evidence checks return is Chinese', () => {
    const returns = [...source('tracking.ts').matchAll(/return (`(?:[^`\\]|\\.)*`|'[^']*')/g)].map((m) => m[1]!);
    const problems = returns.filter((r) => !/^'(on_time|on_time_extended|late|waived|done|red|yellow|green)'$/.test(r));
    expect(problems.length).toBeGreaterThan(8);
    expect(problems.filter((r) => !CHINESE.test(r))).toEqual([]);
    expect(checkText('理由', '', true)).toBe('理由为必填项');
    expect(checkEvidence({ files: [{ name: 'a.pdf', type: 'application/pdf', size: 1, sha256: 'x' }] })).toMatch(
      /^第1个佐证文件（a\.pdf）缺少 SHA-256/,
    );
  });
});

describe('net 2: the code, driven with bad input, answers in Chinese', () => {
  test('the examples the issue named read as people expect', () => {
    const d = Driver.start(tracker({ obligation: { verification: true } }), at('2026-01-02'));
    d.act('submit', { by: '黄丽娟', evidence: { text: '已报送' } });
    d.refused('submit', { by: '黄丽娟', evidence: { text: '再报' } }, /^2025年度已报送$/);
    d.refused('verify', { by: '办公室', decision: 'return', reason: '' }, /^退回理由为必填项$/);
    d.refused('acknowledge', { by: 'x', period: '2019' }, /^2019年度未开放；开放中的：2025年度、2026年度$/);
    expect(periodWords('once')).toBe('一次性');
  });

  const names: RequestName[] = [
    'submit',
    'record',
    'verify',
    'requestExtension',
    'decideExtension',
    'waive',
    'acknowledge',
    'progress',
    'report',
    'pause',
    'resume',
    'retire',
  ];
  const kinds = [
    {},
    { completion: 'quota' as const, quota: 2, due: { rule: 'period-end' as const } },
    { completion: 'rate' as const, threshold: 90, verification: true },
    { completion: 'count' as const, threshold: 3 },
  ];
  const anything = fc.oneof(
    fc.constant(undefined),
    fc.constant(''),
    fc.constant('  '),
    fc.string({ maxLength: 6 }),
    fc.constantFrom('2026', '2025', '2019', 'once', '2026-02-30', '2026-03-10', '2027-12-31', 'not-an-email'),
    fc.integer({ min: -5, max: 30 }),
    fc.boolean(),
    fc.constant({}),
    fc.constant({ link: 'ftp://x' }),
    fc.constant({ text: 'ok' }),
  );
  const request = fc.record(
    {
      by: fc.oneof(fc.constant('黄丽娟'), anything),
      email: anything,
      period: anything,
      evidence: anything,
      date: anything,
      topic: anything,
      decision: fc.oneof(fc.constantFrom('accept', 'return'), anything),
      rating: fc.oneof(fc.constantFrom('优秀', '良好'), anything),
      reason: anything,
      newDue: anything,
      approve: anything,
      note: anything,
      numerator: anything,
      denominator: anything,
      count: anything,
      person: anything,
      hours: anything,
    },
    { requiredKeys: ['by'] },
  );

  test('the state machine, driven at random, refuses only in Chinese', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...kinds),
        fc.array(fc.tuple(fc.constantFrom(...names), request, fc.integer({ min: 0, max: 20 })), {
          minLength: 1,
          maxLength: 12,
        }),
        (kind, steps) => {
          const d = Driver.start(tracker({ obligation: kind }), at('2026-01-02'));
          let refusals = 0;
          for (const [name, req, days] of steps) {
            d.runUntil(d.now + days * 86_400_000);
            try {
              (d.t as TrackerState).check(name, req as never, d.now);
              d.act(name, req as never);
            } catch (err) {
              if (!(err instanceof Refusal)) throw err;
              refusals++;
              if (!CHINESE.test(err.message)) throw new Error(`refusal without Chinese: ${err.message}`);
            }
          }
          return refusals >= 0;
        },
      ),
      { numRuns: 300 },
    );
  });

  /** Each line of a message holds Chinese (a list of problems is one line each). */
  const allChinese = (text: string) => text.split('\n').every((l) => l.trim() === '' || CHINESE.test(l));

  test('validation, given random damage to valid files, reports every problem in Chinese', () => {
    const fixture = (name: string) => parseYaml(readFileSync(path.join(ROOT, 'test', 'fixtures', name), 'utf8'));
    /** Every path into a value: where damage can go. */
    const paths = (v: unknown, at: (string | number)[] = []): (string | number)[][] =>
      v !== null && typeof v === 'object'
        ? [at, ...Object.entries(v).flatMap(([k, x]) => paths(x, [...at, Array.isArray(v) ? Number(k) : k]))]
        : [at];
    const bad = fc.constantFrom<unknown>(
      undefined,
      null,
      '',
      '  ',
      'x',
      '名'.repeat(3000),
      'a\nb',
      '\u202e局',
      '=SUM(A1)',
      'not-an-email',
      '13800',
      '2027-02-30',
      '13-01',
      'quarterly',
      'fixed-date',
      'once',
      'after-event',
      -1,
      0,
      1.5,
      25,
      100000,
      2 ** 60,
      true,
      [],
      [1, 'x'],
      {},
      { typo: 1 },
    );
    const damage = fc.array(fc.tuple(fc.boolean(), fc.nat(), bad, fc.constantFrom('typo', 'verifcation', '名字')), {
      minLength: 1,
      maxLength: 4,
    });
    fc.assert(
      fc.property(damage, (steps) => {
        const docs = { catalog: fixture('catalog.yaml'), directory: fixture('directory.yaml') };
        for (const [inCatalog, n, value, key] of steps) {
          const doc = inCatalog ? docs.catalog : docs.directory;
          const all = paths(doc).filter((p) => p.length > 0);
          const at = all[n % all.length]!;
          const parent = at.slice(0, -1).reduce<any>((v, k) => v[k], doc);
          const last = at[at.length - 1]!;
          if (value === undefined) delete parent[last];
          else parent[last] = structuredClone(value);
          // An unknown key beside it, sometimes: typos must not hide the rest.
          if (n % 3 === 0 && parent && typeof parent === 'object' && !Array.isArray(parent))
            parent[key] = structuredClone(value ?? 1);
        }
        const { problems } = validateDocuments(docs.catalog, docs.directory);
        const english = problems.filter((p) => !CHINESE.test(p.message));
        if (english.length) throw new Error(`not Chinese: ${english.map((p) => p.message).join(' | ')}`);
      }),
      { numRuns: 400 },
    );
  });

  test('the loaders: files broken as YAML, as text, as calendars, events and rosters', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'duban-chinese-'));
    const write = (name: string, text: string | Buffer) => {
      const file = path.join(dir, name);
      writeFileSync(file, text);
      return file;
    };
    const good = (name: string) => readFileSync(path.join(ROOT, 'test', 'fixtures', name), 'utf8');
    const catalogs = [
      'obligations: [\n',
      'a: 1\na: 2\n',
      '\tobligations: 1\n',
      'x: *nowhere\n',
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1]),
      Buffer.from([0xc4, 0xe3, 0xba, 0xc3]),
      `${'['.repeat(100)}`,
      good('catalog.yaml').replace('period: year', 'period: year\n    period: month'),
    ];
    for (const text of catalogs) {
      let message = '';
      try {
        loadInputs({
          catalog: write('catalog.yaml', text),
          directory: write('directory.yaml', good('directory.yaml')),
        });
      } catch (e) {
        if (!(e instanceof InvalidInputError)) throw e;
        message = e.message;
      }
      expect(message).not.toBe('');
      expect(allChinese(message)).toBe(true);
    }
    const calendars = [
      'years: 3\n',
      'years:\n  "27": { source: s, holidays: [] }\n',
      'years:\n  "2027": { source: "", holidays: [{ name: x, from: 2027-02-30, to: 2026-01-01 }], extra: 1 }\n',
      'years:\n  "2027": { source: s, holidays: [{ name: x, from: "2027-01-01", to: "2027-03-30" }] }\n',
      'years:\n  "9999": { source: s, holidays: [] }\n',
    ];
    for (const text of calendars) {
      const { problems } = loadCalendarFile(write('calendar.yaml', text));
      expect(problems.length).toBeGreaterThan(0);
      expect(problems.filter((p) => !CHINESE.test(p.message))).toEqual([]);
    }
    const events = [
      '[]\n',
      'events: 3\nextra: 1\n',
      'events:\n  - 1\n  - { id: "bad id", when: 1 }\n  - { id: a, date: 2027-13-01, note: [] }\n  - { id: a }\n',
    ];
    for (const text of events) {
      const { problems } = loadEventsFile(write('events.yaml', text));
      expect(problems.length).toBeGreaterThan(0);
      expect(problems.filter((p) => !CHINESE.test(p.message))).toEqual([]);
    }
    for (const text of [
      '',
      'unit,person,dept\n',
      'unit,roster,person,name\na,,=x,"b"\na,r,1,n,extra\na,r,1,n\na,r,1,n\n',
    ]) {
      const { problems } = parseRosterCsv(text);
      expect(problems.length).toBeGreaterThan(0);
      expect(problems.filter((p) => !CHINESE.test(p.message))).toEqual([]);
    }
    for (const rows of [
      [],
      [['编号', '手机']],
      [
        ['单位名称', '编号', '主要负责人', '邮箱', '上级督察单位', '手机'],
        ['', 'a', '甲', 'a@x.org', '', ''],
        ['市司法局', 'bad id', '', 'nope', '市纪委', '123'],
        ['市司法局', 'sfj', '乙', 'b@x.org', '市司法局', '=1+1'],
      ],
    ]) {
      const { problems } = directoryFromRows(rows);
      expect(problems.length).toBeGreaterThan(0);
      expect(problems.filter((p) => !CHINESE.test(p.message))).toEqual([]);
    }
  });

  test('settings with bad values: every line of the refusal is Chinese', () => {
    const refusal = (env: NodeJS.ProcessEnv): string => {
      try {
        loadSettings(env);
      } catch (e) {
        if (e instanceof SettingsError) return e.message;
        throw e;
      }
      return '';
    };
    for (const value of ['not a value', '-5', '99999999999999999999999', 'x:y:z']) {
      const env = Object.fromEntries(Object.keys(ENVIRONMENT).map((k) => [k, value]));
      const message = refusal({ ...env, DUBAN_OPERATOR_WEBHOOK_SECRET: undefined });
      expect(message).not.toBe('');
      expect(allChinese(message)).toBe(true);
    }
    const config = path.join(mkdtempSync(path.join(tmpdir(), 'duban-chinese-')), 'duban.yaml');
    writeFileSync(
      config,
      'temporal: 3\nsmtp: { url: [1], maxConnections: 0 }\nworker: { stackTraces: all }\nweb: { port: -1, admins: [x] }\nfrobnicate: 1\n',
    );
    const message = refusal({ DUBAN_CONFIG: config });
    expect(message.split('\n').length).toBeGreaterThan(4);
    expect(allChinese(message)).toBe(true);
    writeFileSync(config, 'a: [\n');
    expect(allChinese(refusal({ DUBAN_CONFIG: config }))).toBe(true);
    expect(allChinese(refusal({ DUBAN_LINK_KEYS: 'k1:c2hvcnQ=' }))).toBe(true);
    // Temporal's own configuration, read by its library: a key it does not know, a profile that is not there.
    const toml = path.join(path.dirname(config), 'temporal.toml');
    writeFileSync(toml, '[profile.default]\nadress = "x:1"\n');
    for (const env of [{ TEMPORAL_CONFIG_FILE: toml }, { TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'nope' }]) {
      const message = refusal(env);
      expect(message).not.toBe('');
      expect(allChinese(message)).toBe(true);
    }
  });

  test("the command line: commander's own errors and the option checks, through main()", async () => {
    const run = async (...args: string[]) => {
      let out = '';
      let err = '';
      const code = await main(
        ['node', 'duban', ...args],
        (s) => (out += s),
        (s) => (err += s),
      );
      return { code, out, err };
    };
    for (const args of [
      ['nosuch'],
      ['--nosuch'],
      ['submit'],
      ['submit', 'a', 'b', '--by'],
      ['record', 'a', 'b', '--topic', 't'],
      ['status', '--colour', 'purple'],
      ['show', 'a'],
      ['plan', '--form', '2027-01-01'],
      ['plan', '--from', '2027-13-01'],
      ['plan', '--from', '2027-03-01', '--to', '2027-01-01'],
      ['ics', '--unit', 'nobody'],
      ['validate', 'only-a-catalog.yaml'],
      ['submit', 'a', 'b', '--link', 'ftp://x'],
      ['import', 'plan', 'x.pdf', '--directory', 'd.yaml', '--out', 'o.yaml', '--year', '20'],
    ]) {
      const r = await run(...args);
      expect({ args, code: r.code, err: r.err }).toEqual({ args, code: 2, err: r.err });
      expect(r.err).not.toBe('');
      expect({ args, err: r.err, chinese: allChinese(r.err) }).toEqual({ args, err: r.err, chinese: true });
      expect(r.err).not.toMatch(/^error: /m);
    }
    // Every command's --help: commander's headings and facts in Chinese, every description Chinese; what stays as
    // typed is the syntax (options, arguments) and the example command lines.
    const commands: string[][] = [[]];
    const walk = (c: Command, at: string[]) =>
      c.commands.forEach((sub) => {
        commands.push([...at, sub.name()]);
        walk(sub, [...at, sub.name()]);
      });
    walk(
      buildProgram(
        () => undefined,
        () => undefined,
      ),
      [],
    );
    expect(commands.length).toBeGreaterThan(30);
    for (const at of commands) {
      const r = await run(...at, '--help');
      expect(r.code).toBe(0);
      const english = r.out
        .split('\n')
        .filter((l) => !/^\s*(duban |npm |npx |[A-Z_]+=)/.test(l))
        .filter(
          (l) => readsAsEnglish(l) || /\b(Usage|Options|Commands|Arguments):|\((default|choices|required)/.test(l),
        );
      expect({ command: at.join(' '), english }).toEqual({ command: at.join(' '), english: [] });
    }
    // A message of commander's that the table does not know is passed on, not lost.
    expect(commanderMessage('error: something new')).toBe('error: something new');
  });

  test('the planner refuses what it cannot plan in Chinese; the SMTP alert is Chinese', () => {
    const now = at('2026-01-02');
    const cases = [
      tracker({ reminders: [100_000] }),
      tracker({ obligation: { period: 'once', due: { rule: 'before-event', event: 'session', months: 1 } } }),
      tracker({ obligation: { period: 'once', due: { rule: 'fixed-date', date: '2300-01-01' } } }),
    ];
    for (const t of cases) expect(() => trackerPeriodPlan(t, calendar, { now })).toThrow(PlanningError);
    for (const [t, period] of [
      [cases[0]!, undefined],
      [cases[1]!, undefined],
      [cases[2]!, 'once'],
      [tracker({ obligation: { period: 'quarter', due: { rule: 'period-end' } } }), '2026-Q5'],
    ] as const) {
      try {
        trackerPeriodPlan(t, calendar, { now, period });
        throw new Error('planned');
      } catch (e) {
        expect(e).toBeInstanceOf(PlanningError);
        expect((e as Error).message).toMatch(CHINESE);
      }
    }
    const health = new SmtpHealth();
    health.failed(Object.assign(new Error('Invalid login'), { code: 'EAUTH', responseCode: 535 }), now - 1_800_000);
    expect(smtpAlertText(health, 'smtp://duban:pw@mail.example.org:587', now)).toMatch(
      /^SMTP 已有30分钟未接收任何邮件（1次尝试失败）：535 Invalid login \(EAUTH\)。/,
    );
    expect(smtpAlertText(new SmtpHealth(), 'smtp://x', now)).toMatch(CHINESE);
  });
});
