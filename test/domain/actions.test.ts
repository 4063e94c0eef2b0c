/**
 * The action vocabulary (domain/actions.ts): every action has its Chinese label and the role that takes it, every
 * ledger event kind its label, and the one rule that picks an email's links is the one that picks the web's forms.
 */
import {
  ACTIONS,
  ALL_ACTIONS,
  Action,
  EVENT_LABELS,
  LINK_ACTIONS,
  actionLabel,
  actionsFor,
  eventLabel,
  offeredActions,
} from '../../domain/actions';
import type { Requests } from '../../domain/requests';

// Every request of the tracker's contract but the registration's own; a new request fails here until it is named.
const REQUESTS: Record<keyof Requests, true> = {
  submit: true,
  record: true,
  verify: true,
  requestExtension: true,
  decideExtension: true,
  waive: true,
  urge: true,
  handBack: true,
  refuseHandBack: true,
  transfer: true,
  acknowledge: true,
  progress: true,
  report: true,
  pause: true,
  resume: true,
  updateDefinition: true,
  retire: true,
};

const HAN = /^[\u4e00-\u9fff]+$/;

describe('the action vocabulary', () => {
  test('every action a person takes has a Chinese label and a role', () => {
    const people = Object.keys(REQUESTS).filter((r) => r !== 'updateDefinition');
    expect([...ALL_ACTIONS].sort()).toEqual(people.sort());
    for (const a of ALL_ACTIONS) {
      expect(ACTIONS[a].label).toMatch(HAN);
      expect(['unit', 'office', 'admin']).toContain(ACTIONS[a].by);
      expect(actionLabel(a)).toBe(ACTIONS[a].label);
    }
    expect(new Set(ALL_ACTIONS.map((a) => ACTIONS[a].label)).size).toBe(ALL_ACTIONS.length);
  });

  test('every ledger event kind has a Chinese label; an unknown kind is shown as it is', () => {
    for (const [kind, label] of Object.entries(EVENT_LABELS)) {
      expect(label).toMatch(HAN);
      expect(eventLabel(kind)).toBe(label);
    }
    expect(eventLabel('period_opened')).toBe('期次开始');
    expect(eventLabel('something_new')).toBe('something_new');
  });

  test('links carry the unit’s actions and view', () => {
    expect(LINK_ACTIONS).toEqual([
      'view',
      'acknowledge',
      'progress',
      'submit',
      'record',
      'report',
      'requestExtension',
      'handBack',
    ]);
    expect(actionLabel('view')).toBe('查看');
  });

  test('who may: the unit acts on its work, the office verifies and decides, administrators pause and retire', () => {
    const none = { ofUnit: false, supervises: false, admin: false };
    expect(actionsFor(none)).toEqual([]);
    expect(actionsFor({ ...none, ofUnit: true })).toEqual([
      'acknowledge',
      'progress',
      'submit',
      'record',
      'report',
      'requestExtension',
      'handBack',
    ]);
    expect(actionsFor({ ...none, supervises: true })).toEqual([
      'verify',
      'decideExtension',
      'waive',
      'urge',
      'transfer',
      'refuseHandBack',
    ]);
    expect(actionsFor({ ...none, admin: true })).toEqual(['pause', 'resume', 'retire']);
  });
});

describe('what applies now (the emails’ links and the web’s forms)', () => {
  const unit = actionsFor({ ofUnit: true, supervises: false, admin: false });
  const names = (offers: { action: Action }[]) => offers.map((o) => o.action);

  test('an email: the work action of the obligation’s kind, an extension only before due', () => {
    expect(names(offeredActions(unit, { completion: 'single', beforeDue: true }))).toEqual([
      'acknowledge',
      'progress',
      'submit',
      'requestExtension',
      'handBack',
    ]);
    expect(names(offeredActions(unit, { completion: 'quota', beforeDue: false }))).toEqual([
      'acknowledge',
      'progress',
      'record',
      'handBack',
    ]);
    expect(names(offeredActions(unit, { completion: 'rate' }))).toContain('report');
    // What an email does not know (the period's state) disables nothing.
    expect(offeredActions(unit, { completion: 'single' }).every((o) => !o.unavailable)).toBe(true);
  });

  const period = { submitted: false, verification: 'not submitted' };

  test('a form that cannot apply is shown disabled with its reason', () => {
    const all = actionsFor({ ofUnit: true, supervises: true, admin: true });
    const acked = offeredActions(all, {
      completion: 'single',
      open: [{ ...period, acknowledged: { by: '黄丽娟', at: 1 } }],
      paused: false,
    });
    const by = (a: Action) => acked.find((o) => o.action === a);
    expect(by('acknowledge')?.unavailable).toBe('本期已签收');
    expect(by('verify')?.unavailable).toBe('尚未报送材料，无需核实');
    expect(by('submit')?.unavailable).toBeUndefined();
    expect(by('decideExtension')).toBeUndefined();
    expect(by('pause')?.unavailable).toBeUndefined();
    expect(by('resume')).toBeUndefined();

    const submitted = offeredActions(all, {
      open: [{ submitted: true, verification: 'pending', pendingExtension: {} }],
      paused: true,
    });
    expect(submitted.find((o) => o.action === 'verify')?.unavailable).toBeUndefined();
    expect(names(submitted)).toContain('decideExtension');
    expect(names(submitted)).toContain('resume');
    expect(names(submitted)).not.toContain('pause');

    const closed = offeredActions(unit, { open: [] });
    expect(closed.every((o) => o.unavailable === '当前没有未办结的期次')).toBe(true);
  });

  test('no verification required: no verify form', () => {
    const office = actionsFor({ ofUnit: false, supervises: true, admin: false });
    expect(names(offeredActions(office, { verification: false, open: [period] }))).toEqual([
      'waive',
      'urge',
      'transfer',
    ]);
  });

  test('退回 and 转办: 不同意退回 only while a 退回 waits; nothing submitted moves', () => {
    const office = actionsFor({ ofUnit: false, supervises: true, admin: false });
    const waiting = offeredActions([...office, ...unit], {
      open: [{ ...period, handBack: { by: '黄丽娟', at: 1, reason: '不属本单位' } }],
    });
    expect(names(waiting)).toContain('refuseHandBack');
    expect(waiting.find((o) => o.action === 'handBack')?.unavailable).toBe('已退回，等待督察单位处理');
    const done = offeredActions([...office, ...unit], { open: [{ submitted: true, verification: 'pending' }] });
    expect(done.find((o) => o.action === 'transfer')?.unavailable).toBe('已报送的期次不能退回或转办');
    expect(names(done)).not.toContain('refuseHandBack');
  });

  test('催办 only for a red period, and shown disabled the working day after one was sent, naming the next day', () => {
    const office = actionsFor({ ofUnit: false, supervises: true, admin: false });
    const urge = (open: Parameters<typeof offeredActions>[1]['open'], now?: number) =>
      offeredActions(office, { verification: false, open, now, timeZone: 'Asia/Shanghai' }).find(
        (o) => o.action === 'urge',
      );
    expect(urge([{ ...period, colour: 'yellow' }])?.unavailable).toBe('没有逾期未办结的期次，无需催办');
    expect(urge([{ ...period, colour: 'red' }], Date.UTC(2026, 10, 25, 2))?.unavailable).toBeUndefined();
    // Sent on Wednesday 2026-11-25 at 10:00 in Beijing; the next may go from Thursday.
    const lastUrge = { at: Date.UTC(2026, 10, 25, 2), by: '吴科长', nextFrom: Date.UTC(2026, 10, 25, 16) };
    const red = [{ ...period, colour: 'red', lastUrge }];
    expect(urge(red, Date.UTC(2026, 10, 25, 8))?.unavailable).toBe(
      '今日已催办（吴科长），每个工作日最多催办一次；2026-11-26起可再次催办',
    );
    expect(urge(red, Date.UTC(2026, 10, 25, 16))?.unavailable).toBeUndefined();
    // Without a clock (an email), the tracker decides.
    expect(urge(red)?.unavailable).toBeUndefined();
  });
});
