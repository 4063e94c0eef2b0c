/**
 * 代办 (domain/stand-ins.ts): the range's first and last days are inclusive in the catalog's zone (Beijing midnight,
 * not UTC's), the stand-in takes the absent person's place and the absent person is copied, the latest range wins an
 * overlap, and a stand-in that cannot apply is refused naming the field.
 */
import { StandIn, checkStandIn, routeToStandIns, standInDay, standInOn } from '../../domain/stand-ins';
import { Driver, at } from '../support/driver';
import { tracker } from '../support/trackers';

const head = { name: '张主任', email: 'sfj.head@xx.example.org' };
const liaison = { name: '黄丽娟', email: 'sfj.liaison@xx.example.org' };
const deputy = { name: '李副主任', email: 'sfj.deputy@xx.example.org' };
const away: StandIn = {
  unit: 'sfj',
  absent: head,
  standIn: deputy,
  from: '2027-02-01',
  to: '2027-02-10',
  by: '黄丽娟',
  at: 1,
};
const zone = 'Asia/Shanghai';

describe('代办 ranges', () => {
  test('first and last day inclusive, in the catalog zone', () => {
    const at = (iso: string) => standInOn([away], head.email, standInDay(Date.parse(iso), zone));
    // 2027-02-01 00:00 in Beijing is 2027-01-31 16:00 UTC.
    expect(at('2027-01-31T15:59:59Z')).toBeUndefined();
    expect(at('2027-01-31T16:00:00Z')).toBe(away);
    // The last day, to its last second in Beijing.
    expect(at('2027-02-10T15:59:59Z')).toBe(away);
    expect(at('2027-02-10T16:00:00Z')).toBeUndefined();
    // Another zone shifts the edges with it.
    expect(standInOn([away], head.email, standInDay(Date.parse('2027-02-01T04:59:59Z'), 'Asia/Urumqi'))).toBe(away);
    expect(
      standInOn([away], head.email, standInDay(Date.parse('2027-01-31T17:59:59Z'), 'Asia/Urumqi')),
    ).toBeUndefined();
  });

  test('the stand-in takes the absent person’s place; the absent person is in copy; others unchanged', () => {
    const r = routeToStandIns({ to: [head.email, liaison.email], cc: ['office@xx.example.org'] }, [away], '2027-02-05');
    expect(r.to).toEqual([deputy.email, liaison.email]);
    expect(r.cc).toEqual(['office@xx.example.org', head.email]);
    expect(r.behalf.get(deputy.email)).toBe(away);
    // A copy recipient away is replaced in the copy line.
    const cc = routeToStandIns({ to: [liaison.email], cc: [head.email] }, [away], '2027-02-05');
    expect(cc.to).toEqual([liaison.email]);
    expect(cc.cc).toEqual([deputy.email, head.email]);
    // Outside the range nothing changes.
    const out = routeToStandIns({ to: [head.email], cc: [] }, [away], '2027-02-11');
    expect(out).toMatchObject({ to: [head.email], cc: [] });
    expect(out.behalf.size).toBe(0);
    // A stand-in who is already a recipient is named once.
    const both = routeToStandIns({ to: [head.email, deputy.email], cc: [] }, [away], '2027-02-05');
    expect(both.to).toEqual([deputy.email]);
    expect(both.cc).toEqual([head.email]);
  });

  test('the latest range named wins an overlap', () => {
    const later: StandIn = { ...away, standIn: liaison, from: '2027-02-05', to: '2027-02-06', at: 2 };
    expect(standInOn([away, later], head.email, '2027-02-05')).toBe(later);
    expect(standInOn([later, away], head.email, '2027-02-04')).toBe(away);
  });

  test('refused: not the head or liaison, a stand-in outside the directory, oneself, dates out of order', () => {
    const units = [{ id: 'sfj', name: '市司法局', head, liaison, deputies: [deputy] }];
    const base = { unit: 'sfj', absent: head.email, standIn: deputy.email, from: '2027-02-01', to: '2027-02-10' };
    expect(checkStandIn(base, units)).toEqual({ absent: head, standIn: deputy });
    expect(checkStandIn({ ...base, unit: 'x' }, units)).toEqual({ error: '单位名录中没有编号为“x”的单位' });
    expect(checkStandIn({ ...base, absent: deputy.email }, units)).toMatchObject({
      error: expect.stringContaining('--absent sfj.deputy@xx.example.org：须为市司法局的主要负责人或联络员'),
    });
    expect(checkStandIn({ ...base, standIn: 'nobody@x.org' }, units)).toMatchObject({
      error: expect.stringContaining('--stand-in nobody@x.org'),
    });
    expect(checkStandIn({ ...base, standIn: head.email }, units)).toEqual({ error: '代办人不能是本人' });
    expect(checkStandIn({ ...base, from: '2027-02-11' }, units)).toMatchObject({
      error: '--to 2027-02-10 早于 --from 2027-02-11',
    });
    expect(checkStandIn({ ...base, to: '2027-02-30' }, units)).toMatchObject({
      error: expect.stringContaining('--to'),
    });
  });
});

describe('an action by a stand-in', () => {
  test('records who acted for whom: the actor names both, the event carries onBehalfOf', () => {
    const d = Driver.start(tracker(), at('2026-01-02'));
    d.act('acknowledge', { by: '李副主任', email: deputy.email, onBehalfOf: `${head.name} <${head.email}>` });
    const [event] = d.t.takeEvents().filter((e) => e.kind === 'acknowledged');
    expect(event).toMatchObject({
      actor: `李副主任 <${deputy.email}>（代张主任 <${head.email}>）`,
      data: { onBehalfOf: `张主任 <${head.email}>` },
    });
    expect(d.t.status(d.now).periods[0]!.acknowledged?.by).toContain('（代张主任');
    d.refused('progress', { by: 'x', note: 'n', onBehalfOf: ' ' }, /onBehalfOf/);
  });
});
