/**
 * Issue #19 items 2 and 10 in the pure core: a tracker registered mid-period catches up with one notice meant for
 * the moment it started (no delay note, no reminder the next day saying the same), and the supervising office's
 * 催办 (urge): at once for a red period, one a working day, refused in Chinese otherwise.
 */
import { catchUpOnStart, noticeKey, planPeriod, trackerPeriodPlan, urgeNotice } from '../../domain/planner';
import { parsePeriod } from '../../domain/periods';
import { Driver, at, calendar } from '../support/driver';
import { tracker } from '../support/trackers';

/** A one-off due Friday 20 November 2026 (a working day), with the default reminders 10, 3, 1 and 0. */
const oneOff = () =>
  tracker({ obligation: { id: 'task', period: 'once', due: { rule: 'fixed-date', date: '2026-11-20' } } });

describe('a tracker registered mid-period (catch-up)', () => {
  test('the planner: the latest notice already due goes out at once, meant for now; the next working day is covered', () => {
    const t = oneOff();
    const plan = planPeriod(t, parsePeriod('once', 'once')!, calendar);
    // Registered Wednesday 18 November at 10:00: r10 (6 Nov) and r3 (17 Nov) have passed, r1 is on the 19th.
    const now = at('2026-11-18', 10);
    const c = catchUpOnStart(plan.notices, calendar, t.timeZone, now)!;
    const key = (step: number) => noticeKey(plan.notices.find((n) => n.stage === 'reminder' && n.step === step)!);
    expect(c.at).toBe(now);
    expect(c.notice).toBe(key(3));
    expect([...c.passOver].sort()).toEqual([key(10), key(1)].sort());
    // Nothing was due: no catch-up.
    expect(catchUpOnStart(plan.notices, calendar, t.timeZone, at('2026-11-01'))).toBeUndefined();
    // The plan of a first period says so; without the request it does not (a next period, a re-plan).
    expect(trackerPeriodPlan(t, calendar, { now, catchUp: true }).catchUp).toEqual(c);
    expect(trackerPeriodPlan(t, calendar, { now }).catchUp).toBeUndefined();
  });

  test('one catch-up, meant for the registration: then the ladder resumes after the next working day', () => {
    const d = Driver.start(oneOff(), at('2026-11-18', 10));
    d.runUntil(at('2026-11-26'));
    expect(d.names()).toEqual(['once 2026-11-17 r3', 'once 2026-11-20 r0', 'once 2026-11-23 e1.0']);
    // The catch-up is meant for 18 November 10:00 (sent then: not late); the others for their planned instants.
    expect(d.meant).toEqual([at('2026-11-18', 10), d.sent[1]!.at, d.sent[2]!.at]);
  });

  test('registered before the notice hour of a reminder day: the catch-up stands for that day too', () => {
    // Thursday 19 November 08:00: r3 (17 Nov) passed; r1 at 09:00 today would repeat it an hour later.
    const d = Driver.start(oneOff(), at('2026-11-19', 8));
    d.runUntil(at('2026-11-21'));
    expect(d.names()).toEqual(['once 2026-11-17 r3']);
  });

  test('an escalation is never passed over by a catch-up', () => {
    // Registered on the due day at 10:00: r0 passed, e1 is the next working day.
    const d = Driver.start(oneOff(), at('2026-11-20', 10));
    d.runUntil(at('2026-11-24'));
    expect(d.names()).toEqual(['once 2026-11-20 r0', 'once 2026-11-23 e1.0']);
  });

  test('a notice the tracker reached late (worker down) is meant for its planned instant: it says it was delayed', () => {
    const d = Driver.start(oneOff(), at('2026-11-01'));
    // Nobody woke the tracker until 14:00 on the 17th (a worker down since before r3 at 09:00).
    d.now = at('2026-11-17', 14);
    d.settle();
    expect(d.names()).toEqual(['once 2026-11-06 r10', 'once 2026-11-17 r3']);
    expect(d.meant[1]).toBe(d.sent[1]!.at);
  });

  test('resume after a pause: the latest notice due is meant for the resume, not for its planned instant', () => {
    const d = Driver.start(oneOff(), at('2026-11-01'));
    d.act('pause', { by: 'admin' });
    d.runUntil(at('2026-11-19', 12));
    d.act('resume', { by: 'admin' });
    expect(d.names()).toEqual(['once 2026-11-19 r1']);
    expect(d.meant).toEqual([at('2026-11-19', 12)]);
  });
});

describe('催办 (urge) for a red period', () => {
  const by = { by: '依法治市办王明', email: 'office-liaison@test.example.org' };

  test('refused before due, in Chinese; at once when red; once a working day; the next working day again', () => {
    const d = Driver.start(oneOff(), at('2026-11-01'));
    d.runUntil(at('2026-11-20', 12));
    d.refused('urge', by, /尚未逾期（截止2026-11-20），只有逾期未完成（红色）的任务可以催办/);
    // Saturday 21 November: red (due passed), a day off.
    d.runUntil(at('2026-11-21', 10));
    const before = d.sent.length;
    d.act('urge', { ...by, note: '请于下周一前报送' });
    const urge = d.sent[before]!;
    expect(urge).toMatchObject({ stage: 'urge', at: at('2026-11-21', 10), period: 'once', due: '2026-11-20' });
    expect(urge.to).toEqual(['head@test.example.org', 'liaison@test.example.org']);
    expect(urge.cc).toEqual(['office-liaison@test.example.org']);
    expect(d.meant[before]).toBe(at('2026-11-21', 10));
    expect(d.t.takeEvents()).toContainEqual(
      expect.objectContaining({
        kind: 'urged',
        actor: '依法治市办王明 <office-liaison@test.example.org>',
        data: { note: '请于下周一前报送' },
      }),
    );
    // The next may go from the start of the next working day, Monday 23 November.
    expect(d.t.status(d.now).periods[0]!.lastUrge).toMatchObject({
      by: '依法治市办王明 <office-liaison@test.example.org>',
      nextFrom: at('2026-11-23', 0),
    });
    d.runUntil(at('2026-11-22', 18));
    d.refused(
      'urge',
      by,
      /该一次性任务已于2026-11-21由依法治市办王明 <office-liaison@test\.example\.org>催办过，每个工作日最多催办一次；2026-11-23起可再次催办/,
    );
    d.runUntil(at('2026-11-23', 8));
    d.act('urge', by);
    expect(d.names().filter((n) => n.endsWith('urge'))).toHaveLength(2);
    // The ladder went on regardless: the urge is off it (e1 of 23 November was sent after it).
    d.runUntil(at('2026-11-23', 12));
    expect(d.names().slice(-2)).toEqual(['once 2026-11-23 urge', 'once 2026-11-23 e1.0']);
  });

  test('refused while paused and once the work is in; a pending one is passed over when the work comes in', () => {
    const d = Driver.start(oneOff(), at('2026-11-01'));
    d.runUntil(at('2026-11-24', 12));
    d.act('pause', { by: 'admin' });
    d.refused('urge', by, /督办已暂停/);
    d.act('resume', { by: 'admin' });
    d.refused('urge', { ...by, note: 'x'.repeat(2001) }, /催办意见超过2000字/);
    d.refused('urge', { ...by, note: '  ' }, /催办意见不能为空白/);
    // Accepted, then the work arrives before the loop sends it: the urge is not sent.
    d.t.check('urge', by, d.now);
    d.t.apply('urge', by, d.now);
    d.t.apply('submit', { by: 'x', evidence: { text: '已报送' } }, d.now);
    const before = d.sent.length;
    d.settle();
    expect(d.sent.slice(before).filter((n) => n.stage === 'urge')).toEqual([]);
  });

  test('a 催办 held by a pause goes out on resume, meant for the resume (no delay note)', () => {
    const d = Driver.start(oneOff(), at('2026-11-01'));
    d.runUntil(at('2026-11-24', 12));
    d.t.check('urge', by, d.now);
    d.t.apply('urge', by, d.now);
    d.t.apply('pause', { by: 'admin' }, d.now);
    const before = d.sent.length;
    d.settle();
    expect(d.sent.length).toBe(before);
    d.now = at('2026-11-24', 16);
    d.act('resume', { by: 'admin' });
    expect(d.sent.slice(before).map((n) => n.stage)).toEqual(['urge']);
    expect(d.meant[before]).toBe(at('2026-11-24', 16));
  });

  test('work waiting for verification, and a waived period, are not urged', () => {
    const t = tracker({
      obligation: { id: 'task', period: 'once', due: { rule: 'fixed-date', date: '2026-11-20' }, verification: true },
    });
    const d = Driver.start(t, at('2026-11-01'));
    d.runUntil(at('2026-11-24', 12));
    d.act('submit', { by: 'x', evidence: { text: '已报送' } });
    d.refused('urge', by, /该一次性任务已报送，无需催办/);
    const w = Driver.start(oneOff(), at('2026-11-01'));
    w.runUntil(at('2026-11-24', 12));
    // Waived, before the loop settles it.
    w.t.apply('waive', { by: 'office', reason: '任务取消' }, w.now);
    w.refused('urge', by, /该一次性任务已免除，无需催办/);
  });

  test('urgeNotice: keyed by the local day, so a period has one a day whatever the retries', () => {
    const t = oneOff();
    const plan = trackerPeriodPlan(t, calendar, { now: at('2026-11-01') });
    const a = urgeNotice(t, plan, at('2026-11-23', 8));
    const b = urgeNotice(t, plan, at('2026-11-23', 23));
    expect(noticeKey(a)).toBe(noticeKey(b));
    expect(noticeKey(a)).toBe('task/unit/once/2026-11-20/u2026-11-23');
    expect(noticeKey(urgeNotice(t, plan, at('2026-11-24', 8)))).not.toBe(noticeKey(a));
  });
});
