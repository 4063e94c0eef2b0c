/**
 * One mapping from a period's state to its words (#19 item 3, domain/words.ts), and the places that print it: the
 * state machine driven through submit, return and accept; `duban status` and `duban show` on a real SQLite ledger.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main } from '../client/cli';
import { statusLines } from '../client/format';
import { Ledger } from '../ledger';
import type { BoardPeriod } from '../domain/tracker-state';
import {
  daysLeftWords,
  handBackPendingWords,
  handBackWords,
  lightWords,
  periodWords,
  stateWords,
  transferWords,
} from '../domain/words';
import { Driver, at } from './support/driver';
import { tracker } from './support/trackers';

describe('a period reads the same wherever it is shown', () => {
  test('after 报送: 已报送，待核实; after 退回: 已退回, never 已核实; after 核实: settled', () => {
    const d = Driver.start(tracker({ obligation: { verification: true } }), at('2026-01-02'));
    const words = () => {
      const p = d.t.status(d.now).periods[0]!;
      return stateWords({ colour: p.colour, verification: p.verification, submitted: p.submitted });
    };
    expect(words()).toBe('办理中');
    d.act('submit', { by: '黄丽娟', evidence: { text: '已报送' } });
    expect(d.t.status(d.now).periods[0]).toMatchObject({ colour: 'done', verification: 'pending' });
    expect(words()).toBe('已报送，待核实');
    // The light's word never says 已办结 beside 已报送，待核实 (the CLI's head line, the board, the page's banner).
    expect(lightWords({ colour: 'done', verification: 'pending' })).toBe('已报送');
    expect(statusLines(d.t.status(d.now))[0]).not.toMatch(/已办结/);
    expect(statusLines(d.t.status(d.now))[1]).toMatch(/^ {2}2025年度 {2}截止2026-02-28 {2}已报送，待核实$/);
    d.act('verify', { by: '办公室', decision: 'return', reason: '缺少附件' });
    expect(words()).toBe('已退回，待重新报送');
    expect(words()).not.toMatch(/已核实|已办结/);
    d.runUntil(at('2026-03-03'));
    expect(words()).toBe('已退回，待重新报送，已逾期');
    d.act('submit', { by: '黄丽娟', evidence: { text: '补充附件' } });
    d.act('verify', { by: '办公室', decision: 'accept', rating: '良好' });
    expect(d.t.history[0]).toMatchObject({ period: '2025', outcome: 'late' });
    expect(lightWords({ colour: 'done', verification: 'accepted' })).toBe('已办结');
  });

  test('days left are for work still to do', () => {
    expect(daysLeftWords(103, 'done')).toBe('');
    expect(daysLeftWords(103, 'green')).toBe('还剩103天');
    expect(daysLeftWords(0, 'yellow')).toBe('今天截止');
    expect(daysLeftWords(-12, 'red')).toBe('已逾期12天');
    expect(['2026', '2025-2026', '2026-H2', '2026-Q1', '2026-05', 'once'].map(periodWords)).toEqual([
      '2026年度',
      '2025—2026年度',
      '2026年下半年',
      '2026年第一季度',
      '2026年5月',
      '一次性',
    ]);
  });
});

describe('退回 and 转办 read the same on the page, the board and the command line', () => {
  test('a 退回 waiting names who, the day and why; the board marks it', () => {
    expect(handBackWords({ by: '教育局联络员', reason: '不属本单位' }, '2026-03-03')).toBe(
      '待处理的退回：教育局联络员于2026-03-03退回，理由：不属本单位',
    );
    expect(handBackPendingWords('教育局联络员')).toBe('待处理退回（教育局联络员）');
    expect(handBackPendingWords(undefined)).toBe('待处理退回');
  });

  test('each side of a 转办 names the other unit, by name when the record has it', () => {
    expect(transferWords('transferred_out', { to: 'scjgj', toName: '市市场监管局', toTracker: 'x/scjgj' })).toBe(
      '转办给市市场监管局',
    );
    expect(transferWords('transferred_in', { from: 'jyj', fromName: '市教育局', fromTracker: 'x/jyj' })).toBe(
      '由市教育局转来',
    );
    expect(transferWords('transferred_in', { from: 'jyj' })).toBe('由jyj转来');
    expect(transferWords('transferred_out', {})).toBeUndefined();
    expect(transferWords('handed_back', { toName: '市市场监管局' })).toBeUndefined();
  });
});

describe('duban status, in Chinese, from the ledger', () => {
  let dir: string;
  const saved = { ...process.env };
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'duban-words-'));
    process.env.DUBAN_DATA_DIR = path.join(dir, 'data');
    delete process.env.DATABASE_URL;
    const ledger = await Ledger.open({ sqliteFile: path.join(dir, 'data', 'ledger.sqlite'), migrate: true });
    const now = Date.now();
    const day = 86_400_000;
    const row = (p: Partial<BoardPeriod>): BoardPeriod => ({
      period: '2026',
      colour: 'green',
      due: '2027-02-28',
      dueAt: now + 103 * day,
      originalDue: '2027-02-28',
      endsAt: now + 400 * day,
      progressCount: 0,
      submitted: false,
      verification: 'not required',
      ...p,
    });
    const write = async (obligation: string, unit: string, periods: BoardPeriod[]) =>
      ledger.applyWrite({
        trackerId: `${obligation}/${unit}`,
        obligation,
        unit,
        at: now,
        events: [],
        red: [],
        board: {
          tracker: {
            colour: periods[0]!.colour,
            period: periods[0]!.period,
            due: periods[0]!.due,
            dueAt: periods[0]!.dueAt,
            openPeriods: periods.length,
            paused: false,
            active: true,
          },
          periods,
        },
      });
    // Submitted, waiting for verification, due in 103 days: done work, not "103 days left".
    await write('annual-report', 'sfj', [row({ colour: 'done', submitted: true, verification: 'pending' })]);
    await write('special-task', 'fgw', [
      row({
        period: 'once',
        colour: 'red',
        due: '2026-01-05',
        originalDue: '2026-01-05',
        dueAt: now - 12 * day,
        // Handed back (退回), waiting for the office: the command line marks it as the web board does.
        handBackBy: '发改委联络员',
        handBackAt: now,
      }),
    ]);
    await ledger.close();
  });
  afterAll(() => {
    process.env = saved;
  });

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

  test('duban status: Chinese words, no days left for done work, a one-off is 一次性', async () => {
    const r = await run('status');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const lines = r.out.split('\n');
    expect(lines[0]).toMatch(/^单位\s+逾期\s+临近\s+办理中\s+办结\s+免除$/);
    expect(lines).toContainEqual(expect.stringMatching(/^合计\s+1\s+0\s+0\s+1\s+0$/));
    const done = lines.find((l) => l.includes('annual-report/sfj'))!;
    expect(done).toMatch(/^已报送\s+annual-report\/sfj\s+2026年度\s+截止2027-02-28 {2}已报送，待核实$/);
    expect(done).not.toMatch(/天|days/);
    const red = lines.find((l) => l.includes('special-task/fgw'))!;
    expect(red).toMatch(
      /^逾期\s+special-task\/fgw\s+一次性\s+截止2026-01-05 {2}逾期未完成 {2}已逾期12天 {2}未签收 {2}待处理退回（发改委联络员）$/,
    );
    const json = JSON.parse((await run('status', '--json')).out) as {
      items: { tracker: string; handBackBy?: string }[];
    };
    expect(json.items.find((i) => i.tracker === 'special-task/fgw')?.handBackBy).toBe('发改委联络员');
    expect(json.items.find((i) => i.tracker === 'annual-report/sfj')).not.toHaveProperty('handBackBy');
    expect(r.out).toContain('共2个期次');
    expect(r.out).not.toMatch(/\b(done|red|overdue|days left|periods)\b/);
  });
});
