/**
 * 协办 in the state machine and the action rule (DOMAIN.md 28): the cooperating units of a tracker receive its
 * reminders (not its escalations), may 签收 and 反馈进展, each recorded with its unit beside the lead's own, and are
 * refused everything else in Chinese; the lead (主办) alone submits. One rule (domain/actions.ts, domain/cooperation.ts)
 * decides what the web's forms and the emails' links offer them.
 */
import { colours, statusLines } from '../../client/format';
import {
  ACTIONS,
  COOPERATOR_ACTIONS,
  actionsFor,
  cooperatorRefusal,
  linkActionsFor,
  offeredActions,
} from '../../domain/actions';
import { LEAD_ONLY_LABELS } from '../../domain/cooperation';
import { noticeRecipients } from '../../domain/planner';
import type { TrackerDefinition, UnitRef } from '../../domain/trackers';
import { Driver, at } from '../support/driver';
import { tracker } from '../support/trackers';

const contact = (unit: string, who: string) => ({ name: `${unit}${who}`, email: `${unit}.${who}@test.example.org` });
const unitRef = (id: string, name: string): UnitRef => ({
  id,
  name,
  head: contact(id, 'head'),
  liaison: contact(id, 'liaison'),
  deputies: [contact(id, 'deputy')],
});
const fgw = unitRef('fgw', '市发改委');
const tjj = unitRef('tjj', '市统计局');
/** The annual report of 市财政局 (the lead), with 市发改委 and 市统计局 cooperating. */
const withCooperators = (): TrackerDefinition => ({ ...tracker(), cooperators: [fgw, tjj] });

describe('协办 on the tracker', () => {
  const start = at('2026-01-02');
  const coop = { by: '发改委联络员', email: fgw.liaison.email, unit: 'fgw' };
  const lead = { by: '财政局联络员', email: 'liaison@test.example.org' };

  test('reminders go to each cooperating unit (liaison, head in copy); escalations do not', () => {
    const t = withCooperators();
    expect(noticeRecipients(t, 'reminder', 0)).toEqual({
      to: ['liaison@test.example.org', fgw.liaison.email, tjj.liaison.email],
      cc: ['head@test.example.org', fgw.head.email, tjj.head.email],
    });
    for (const level of [1, 2, 3]) {
      const r = noticeRecipients(t, 'escalation', level, false);
      expect([...r.to, ...r.cc].filter((a) => a.startsWith('fgw.') || a.startsWith('tjj.'))).toEqual([]);
    }
    // Without cooperators the reminder is what it always was.
    expect(noticeRecipients(tracker(), 'reminder', 0)).toEqual({
      to: ['liaison@test.example.org'],
      cc: ['head@test.example.org'],
    });
  });

  test('a cooperator acknowledges and reports progress with its unit; the lead’s own 签收 stays its own', () => {
    const d = Driver.start(withCooperators(), start);
    d.runUntil(at('2026-02-10'));
    expect(d.names()).toEqual(['2025 2026-02-09 r10']);
    expect(d.sent[0]!.to).toContain(fgw.liaison.email);

    d.act('acknowledge', coop);
    let p = d.t.status(d.now).periods[0]!;
    expect(p.acknowledged).toBeUndefined();
    expect(p.cooperators).toEqual([
      {
        unit: 'fgw',
        name: '市发改委',
        acknowledged: { by: `发改委联络员 <${fgw.liaison.email}>`, at: d.now },
        progressCount: 0,
      },
      { unit: 'tjj', name: '市统计局', progressCount: 0 },
    ]);
    d.refused(
      'acknowledge',
      { ...coop, by: '发改委负责人' },
      /^2025年度已由协办单位市发改委的发改委联络员 <fgw\.liaison@test\.example\.org>签收$/,
    );
    d.act('progress', { ...coop, note: '已提供本委数据' });
    d.act('acknowledge', lead);
    p = d.t.status(d.now).periods[0]!;
    expect(p.acknowledged?.by).toBe('财政局联络员 <liaison@test.example.org>');
    expect(p.progress.slice(-1)).toEqual([
      expect.objectContaining({ note: '已提供本委数据', unit: 'fgw', unitName: '市发改委' }),
    ]);
    expect(p.cooperators?.[0]?.progressCount).toBe(1);
    expect(p.progressCount).toBe(1);

    // The ledger's events say which unit acted.
    const events = d.t.takeEvents().filter((e) => e.kind === 'acknowledged' || e.kind === 'progress');
    expect(events.map((e) => [e.kind, e.data?.unit ?? null])).toEqual([
      ['acknowledged', 'fgw'],
      ['progress', 'fgw'],
      ['acknowledged', null],
    ]);
    expect(events[0]!.data).toMatchObject({ unitName: '市发改委', cooperator: true });

    // The board's row lists each cooperator and whether it acknowledged; `duban show` says the same.
    expect(d.t.boardPeriods(d.now)[0]!.cooperators).toEqual([
      { unit: 'fgw', acknowledgedBy: `发改委联络员 <${fgw.liaison.email}>`, acknowledgedAt: expect.any(Number) },
      { unit: 'tjj' },
    ]);
    expect(statusLines(d.t.status(d.now), colours(false))[1]).toContain('协办：市发改委已签收、市统计局未签收');
  });

  test('only the lead submits: a cooperator’s submit, record, extension and 退回 are refused in Chinese, changing nothing', () => {
    const d = Driver.start(withCooperators(), start);
    d.runUntil(at('2026-02-10'));
    d.refused(
      'submit',
      { ...coop, evidence: { text: '报告已完成' } },
      /^市发改委是本任务的协办单位，只能签收和反馈进展；报送材料由主办单位市财政局办理$/,
    );
    d.refused(
      'requestExtension',
      { ...coop, newDue: '2026-03-31', reason: '等数据' },
      /申请延期由主办单位市财政局办理/,
    );
    d.refused('handBack', { ...coop, reason: '不是本委的事' }, /退回由主办单位市财政局办理/);
    d.refused('waive', { ...coop, reason: '免' }, /只能签收和反馈进展；该事项由主办单位市财政局办理/);
    // A unit that is not a cooperator of this tracker cannot act through it at all.
    d.refused('acknowledge', { by: '教育局', unit: 'jyj' }, /^单位jyj不是本任务（annual-report\/unit）的协办单位$/);
    // The lead's own request naming its own unit is the lead's.
    d.act('submit', { ...lead, unit: 'unit', evidence: { text: '已报送' } });
    expect(d.t.status(d.now).history).toEqual([expect.objectContaining({ period: '2025', outcome: 'on_time' })]);
  });

  test('a tracker without cooperators has no cooperator fields in its status or board rows', () => {
    const d = Driver.start(tracker(), start);
    d.runUntil(at('2026-02-10'));
    expect(d.t.status(d.now).periods[0]!.cooperators).toBeUndefined();
    expect(Object.keys(d.t.boardPeriods(d.now)[0]!)).not.toContain('cooperators');
    d.refused('acknowledge', coop, /^单位fgw不是本任务/);
  });
});

describe('the one rule of what a cooperator is offered', () => {
  const none = { ofUnit: false, supervises: false, admin: false };

  test('签收 and 反馈进展, as forms and as links; the lead’s staff keep everything', () => {
    expect(actionsFor({ ...none, cooperates: true })).toEqual([...COOPERATOR_ACTIONS]);
    expect(linkActionsFor(false, 'single', true, true)).toEqual(['acknowledge', 'progress', 'view']);
    expect(linkActionsFor(false, 'quota', false, true)).toEqual(['acknowledge', 'progress', 'view']);
    // Staff of the lead who also belong to a cooperator act as the lead.
    expect(actionsFor({ ...none, ofUnit: true, cooperates: true })).toContain('submit');
    expect(linkActionsFor(false, 'single', true)).toEqual(['view']);
  });

  test('the refusal names the action in the vocabulary’s words; 签收 applies to the cooperator’s own', () => {
    for (const [action, label] of Object.entries(LEAD_ONLY_LABELS))
      expect(label).toBe(ACTIONS[action as keyof typeof ACTIONS].label);
    for (const a of COOPERATOR_ACTIONS) expect(cooperatorRefusal(a, '市发改委', '市财政局')).toBeUndefined();
    const open = [
      {
        submitted: false,
        verification: 'not required',
        acknowledged: { by: '财政局' },
        cooperators: [{ unit: 'fgw' }, { unit: 'tjj', acknowledged: { by: '统计局' } }],
      },
    ];
    const offered = (cooperator?: string) =>
      offeredActions(actionsFor({ ...none, cooperates: true }), { completion: 'single', open, cooperator });
    expect(offered('fgw')).toEqual([{ action: 'acknowledge' }, { action: 'progress' }]);
    expect(offered('tjj')).toEqual([
      { action: 'acknowledge', unavailable: '本单位（协办）本期已签收' },
      { action: 'progress' },
    ]);
  });
});
