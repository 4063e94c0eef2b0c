/**
 * The words of 协办 and 提级督办 (DOMAIN.md 28, 26) in a notice and on a channel: a cooperating unit's copy greets its
 * liaison and says what it may do; a raise is a 督办单 of the office above, to the unit head, numbered by that
 * office; a robot or an SMS names it as such.
 */
import { renderNotice } from '../channels/email/templates';
import { stageText } from '../channels/compose';
import type { PlannedNotice } from '../domain/planner';
import type { TrackerDefinition, UnitRef } from '../domain/trackers';
import { tracker } from './support/trackers';

const person = (name: string, email: string) => ({ name, email });
const fgw: UnitRef = {
  id: 'fgw',
  name: '市发改委',
  head: person('孙主任', 'fgw.head@test.example.org'),
  liaison: person('钱联络员', 'fgw.liaison@test.example.org'),
  deputies: [],
};
const region: UnitRef = {
  id: 'region',
  name: '自治区依法治区办',
  head: person('区主任', 'region.head@test.example.org'),
  liaison: person('区科长', 'region.liaison@test.example.org'),
  deputies: [],
};
const t: TrackerDefinition = { ...tracker(), cooperators: [fgw], raise: { after: 3, office: region } };
const base = {
  definition: t,
  period: { label: '2025', due: '2026-02-28', originalDue: '2026-02-28' },
  progress: { recorded: 0, quota: 1 },
};
const notice = (stage: PlannedNotice['stage'], level: number, step: number) =>
  ({ stage, level, step }) as PlannedNotice;

test('a cooperating unit’s copy of a reminder greets its liaison and says the lead submits; the shared copy names both', () => {
  const own = renderNotice({ ...base, sentOn: '2026-02-25', notice: notice('reminder', 0, 3), cooperating: fgw });
  expect(own.text).toMatch(/^钱联络员同志：/);
  expect(own.text).toContain(
    '市发改委是以下任务的协办单位，该任务由市财政局主办，将于2026年2月28日截止（距截止还有3天）。请配合主办单位办理，签收并反馈进展；材料由主办单位报送。',
  );
  expect(own.text).toContain('主办单位：市财政局\n协办单位：市发改委');
  expect(own.html).toContain(
    '<th style="text-align:left;vertical-align:top;padding:4px 12px 4px 0;white-space:nowrap">协办单位</th>',
  );
  const shared = renderNotice({ ...base, sentOn: '2026-02-25', notice: notice('reminder', 0, 3) });
  expect(shared.text).toMatch(/^liaison同志：/);
  expect(shared.text).toContain('市财政局承担的以下任务将于2026年2月28日截止');
});

test('a raise is the office above’s 督办单 to the unit head, numbered by it', () => {
  const r = renderNotice({
    ...base,
    sentOn: '2026-04-07',
    notice: notice('raise', 3, 3),
    supervisionNumber: '督〔2026〕3号',
  });
  expect(r.subject).toBe(
    '【提级督办单 督〔2026〕3号】市财政局：法治政府建设年度报告（2025年度）2026年2月28日截止，已逾期38天',
  );
  expect(r.text).toMatch(/^head同志：/);
  expect(r.text).toContain(
    '自治区依法治区办现就市财政局逾期未完成的以下任务提级督办，发出督办单 督〔2026〕3号：市委依法治市办督办后该任务仍未完成（已逾期38天）。',
  );
  expect(r.text).toContain('提级督办单位：自治区依法治区办');
  expect(r.text).toMatch(/编号：X-2025$/);
  expect(stageText({ stage: 'raise', level: 3, step: 3, supervisionNumber: '督〔2026〕3号' })).toBe(
    '提级督办单 督〔2026〕3号',
  );
});
