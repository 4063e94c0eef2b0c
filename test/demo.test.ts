/**
 * Issue #19 item 9: `npm start`'s first board shows green, yellow and red, a 督办单 and 办结 on any start date,
 * with the real planner and the real clock (the demo items are dated relative to the first start: config/demo.ts).
 * Each start date registers the demo catalog through the state machine (test/support/driver.ts performs the
 * workflow's steps with the real planner) and reads the colours the board would show.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DEMO_DONE, DEMO_ITEMS, demoCatalog } from '../config/demo';
import { DEFAULT_DIRECTORY, DEFAULT_EVENTS, DEFAULT_ROSTERS, loadInputs } from '../config/load';
import { WorkingCalendar } from '../domain/calendar';
import { parseDate } from '../domain/dates';
import { formatLocal, localDay, zonedInstant } from '../domain/zone';
import { Driver } from './support/driver';

const zone = 'Asia/Shanghai';
const calendar = new WorkingCalendar();

/** Start dates: working days, a weekend, the eve of 国庆 and of 春节, a 调休 Saturday, and today. */
const STARTS: [string, number][] = [
  ['2026-12-02', 10],
  ['2026-12-05', 15],
  ['2026-09-30', 8],
  ['2027-02-05', 23],
  ['2026-09-27', 10],
  ['2027-03-01', 9],
];

describe('the demo of npm start', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  const today = localDay(Date.now(), zone);
  const hourNow = Number(formatLocal(Date.now(), zone).slice(11, 13));
  test.each([...STARTS, ['today', hourNow] as [string, number]])(
    'first started on %s at %i:00: green, yellow, red, a 督办单 and 办结',
    (date, hour) => {
      const day = date === 'today' ? today : parseDate(date)!;
      const startAt = date === 'today' ? Date.now() : zonedInstant(day, zone, hour);
      const dir = mkdtempSync(path.join(tmpdir(), 'duban-demo-'));
      dirs.push(dir);
      const file = demoCatalog(dir, calendar, day);
      const inputs = loadInputs({
        catalog: file,
        directory: DEFAULT_DIRECTORY,
        rosters: DEFAULT_ROSTERS,
        events: DEFAULT_EVENTS,
      });
      const colours = new Map<string, string>();
      const drivers = new Map<string, Driver>();
      for (const t of inputs.trackers) {
        const d = Driver.start(t, startAt);
        drivers.set(t.trackerId, d);
        colours.set(t.trackerId, d.t.colour(startAt));
      }
      const demo = (id: string) => drivers.get(`${id}/${DEMO_ITEMS.find((i) => i.id === id)!.unit}`)!;
      // The 办结 item: duban start submits it at its first registration.
      demo(DEMO_DONE.obligation).act('submit', { by: '演示数据（duban start）', evidence: { text: '已报送' } });
      expect(demo(DEMO_DONE.obligation).t.history[0]).toMatchObject({ outcome: 'on_time' });
      expect(demo(DEMO_DONE.obligation).t.colour(startAt)).toBe('done');
      expect(demo('demo-due-soon').t.colour(startAt)).toBe('yellow');
      expect(demo('demo-overdue').t.colour(startAt)).toBe('red');
      expect(demo('demo-supervision').t.colour(startAt)).toBe('red');
      // Its catch-up at registration is the 督办单 (level 2); the overdue one's is the level-1 催办通知.
      expect(demo('demo-supervision').sent.map((n) => [n.stage, n.level])).toEqual([['escalation', 2]]);
      expect(demo('demo-overdue').sent.map((n) => [n.stage, n.level])).toEqual([['escalation', 1]]);
      // The seeds' obligations give the green rows.
      expect([...colours.values()].filter((c) => c === 'green').length).toBeGreaterThan(20);
    },
  );

  test('written once: a later start reads the same file, so the demo keeps its dates', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'duban-demo-'));
    dirs.push(dir);
    const first = readFileSync(demoCatalog(dir, calendar, parseDate('2026-12-02')!), 'utf8');
    const later = readFileSync(demoCatalog(dir, calendar, parseDate('2027-01-15')!), 'utf8');
    expect(later).toBe(first);
    expect(first).toContain('date: "2026-11-24"'); // demo-supervision: 6 working days before 2 December 2026
  });
});
