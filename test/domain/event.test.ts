/**
 * Event-relative deadlines (issue 12.1): "在人大常委會召開審議法規草案會議的1個月前提出立法議案" (000 L35). The
 * tracker waits without notices until its event has a date, plans from it, and re-plans when the date moves or is
 * cancelled: no notice lost, none repeated, none for the old date.
 */
import { formatDate, parseDate } from '../../domain/dates';
import { dueDate } from '../../domain/due';
import { ONCE } from '../../domain/periods';
import { noticeKey, planWindow } from '../../domain/planner';
import type { TrackerDefinition } from '../../domain/trackers';
import { Driver, at, calendar } from '../support/driver';
import { tracker } from '../support/trackers';

const bill = (date?: string): TrackerDefinition =>
  tracker({
    obligation: {
      id: 'legislative-bill',
      period: 'once',
      due: { rule: 'before-event', event: 'pc-session-2027-06', months: 1, ...(date ? { date } : {}) },
    },
    reminders: [10, 3, 1, 0],
  });
/** The definition the tracker receives when the event gets (or loses) a date. */
const withDate = (d: Driver, date: string | undefined) =>
  d.act('updateDefinition', { by: 'admin', definition: bill(date) });
const keys = (d: Driver) => d.sent.map(noticeKey);

describe('the due date from the event', () => {
  test('1 month before the session, by the corresponding day; after-event by days', () => {
    const due = (rule: Parameters<typeof dueDate>[0]) => formatDate(dueDate(rule, ONCE, false, calendar).due);
    expect(due({ rule: 'before-event', event: 'e', months: 1, date: '2027-06-20' })).toBe('2027-05-20');
    expect(due({ rule: 'before-event', event: 'e', months: 1, date: '2027-03-31' })).toBe('2027-02-28');
    expect(due({ rule: 'before-event', event: 'e', months: 6, date: '2028-08-31' })).toBe('2028-02-29');
    expect(due({ rule: 'after-event', event: 'e', days: 30, date: '2027-03-15' })).toBe('2027-04-14');
    expect(() => due({ rule: 'before-event', event: 'e', months: 1 })).toThrow('等待事件e确定日期');
  });

  test('duban plan lists the waiting tracker instead of its notices', () => {
    const plan = planWindow([bill(), tracker()], calendar, {
      from: parseDate('2027-01-01')!,
      to: parseDate('2027-12-31')!,
    });
    expect(plan.waiting).toEqual([{ trackerId: 'legislative-bill/unit', event: 'pc-session-2027-06' }]);
    expect(plan.notices.every((n) => n.trackerId === 'annual-report/unit')).toBe(true);
  });
});

describe('an event date entered late, moved earlier, moved later, cancelled', () => {
  test('waiting: no notices, green, requests refused with what it waits for', () => {
    const d = Driver.start(bill(), at('2027-03-01'));
    expect(d.t.status(d.now)).toMatchObject({ waitingFor: 'pc-session-2027-06', colour: 'green', periods: [] });
    expect(d.t.boardTracker(d.now)).toMatchObject({ waitingFor: 'pc-session-2027-06', active: true });
    d.runUntil(at('2027-06-30'));
    expect(d.sent).toEqual([]);
    d.refused('submit', { by: 'x', evidence: { text: 'a' } }, /正等待事件pc-session-2027-06确定日期/);
  });

  test('entered late: of the notices already due only the latest goes out, then the rest of the ladder after the next working day', () => {
    const d = Driver.start(bill(), at('2027-03-01'));
    // Entered on Tuesday 18 May: due Thursday 20 May; r10 and r3 have passed.
    d.now = at('2027-05-18', 10);
    withDate(d, '2027-06-20');
    expect(d.t.status(d.now)).toMatchObject({
      periods: [expect.objectContaining({ period: 'once', due: '2027-05-20' })],
    });
    expect(d.t.status(d.now).waitingFor).toBeUndefined();
    d.runUntil(at('2027-05-25'));
    // Names show the planned day: r3 (planned 17 May) is the catch-up sent on the 18th; it stands for r1 of the
    // 19th (issue #19: not a catch-up and the next reminder the following day). It was meant for the 18th.
    expect(d.names()).toEqual(['once 2027-05-17 r3', 'once 2027-05-20 r0', 'once 2027-05-21 e1.0']);
    expect(d.sent[0]!.due).toBe('2027-05-20');
    expect(d.meant[0]).toBe(at('2027-05-18', 10));
  });

  test('moved earlier: the unit hears of the new date at once; nothing is repeated or sent for the old date', () => {
    const d = Driver.start(bill('2027-06-20'), at('2027-05-01'));
    d.runUntil(at('2027-05-07'));
    expect(d.names()).toEqual(['once 2027-05-06 r10']);
    // The session moves from 20 June to 14 June: due 14 May, whose r3 (11 May) is still ahead.
    withDate(d, '2027-06-14');
    d.runUntil(at('2027-05-12'));
    expect(d.names()).toEqual(['once 2027-05-06 r10', 'once 2027-05-11 r3']);
    // Moved earlier again, past several steps: only the latest step due goes out, once.
    withDate(d, '2027-06-12');
    expect(d.names().slice(2)).toEqual(['once 2027-05-12 r0']);
    d.runUntil(at('2027-05-31'));
    expect(new Set(keys(d)).size).toBe(keys(d).length);
    expect(d.sent.filter((n) => n.day > parseDate('2027-05-12')!).every((n) => n.due === '2027-05-12')).toBe(true);
  });

  test('moved later: what is already due under the new date is not sent again; the ladder resumes from the new date', () => {
    const d = Driver.start(bill('2027-06-20'), at('2027-05-01'));
    d.runUntil(at('2027-05-18'));
    expect(d.names()).toEqual(['once 2027-05-06 r10', 'once 2027-05-17 r3']);
    // Moved 3 days later: due Sunday 23 May, so the reminders count from Friday 21 May. The new r10 and r3 have
    // passed and rank no higher than the r3 sent: neither is sent.
    withDate(d, '2027-06-23');
    d.runUntil(at('2027-05-26'));
    expect(d.names().slice(2)).toEqual(['once 2027-05-20 r1', 'once 2027-05-21 r0', 'once 2027-05-24 e1.0']);
    expect(d.sent.slice(2).every((n) => n.due === '2027-05-23')).toBe(true);
    expect(d.t.status(d.now).periods[0]).toMatchObject({ due: '2027-05-23', colour: 'red' });
  });

  test('cancelled: the period waits without notices and is never missed; a date restored repeats nothing', () => {
    const d = Driver.start(bill('2027-06-20'), at('2027-05-01'));
    d.runUntil(at('2027-05-07'));
    withDate(d, undefined);
    expect(d.t.status(d.now)).toMatchObject({ waitingFor: 'pc-session-2027-06', colour: 'green' });
    d.runUntil(at('2028-07-01'));
    expect(d.names()).toEqual(['once 2027-05-06 r10']);
    expect(d.t.history).toEqual([]);
    // A new date a year on (due Sunday 20 August 2028): its ladder runs from the start.
    withDate(d, '2028-09-20');
    d.runUntil(at('2028-08-19'));
    expect(d.names()).toEqual([
      'once 2027-05-06 r10',
      'once 2028-08-04 r10',
      'once 2028-08-15 r3',
      'once 2028-08-17 r1',
      'once 2028-08-18 r0',
    ]);
    d.act('submit', { by: '市司法局', evidence: { documentNumber: 'X府议〔2028〕1号' } });
    expect(d.t.history).toEqual([expect.objectContaining({ period: 'once', outcome: 'on_time', due: '2028-08-20' })]);
    expect(d.t.next(d.now).kind).toBe('end');
  });

  test('cancelled and restored to the same date: nothing is repeated; the step that fell due meanwhile goes out', () => {
    const d = Driver.start(bill('2027-06-20'), at('2027-05-01'));
    d.runUntil(at('2027-05-18'));
    withDate(d, undefined);
    d.runUntil(at('2027-05-19'));
    withDate(d, '2027-06-20');
    d.runUntil(at('2027-05-21'));
    expect(d.names()).toEqual([
      'once 2027-05-06 r10',
      'once 2027-05-17 r3',
      'once 2027-05-19 r1',
      'once 2027-05-20 r0',
      'once 2027-05-21 e1.0',
    ]);
    expect(new Set(keys(d)).size).toBe(keys(d).length);
  });
});
