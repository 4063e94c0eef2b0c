/**
 * The 催办 (urge) message (issue #19 item 10): to the unit's head and liaison, naming the office and who urged, the
 * days overdue and the office's note; every supplied text escaped in the HTML, none of it in a header.
 */
import { renderNotice } from '../channels/email/templates';
import { WorkingCalendar } from '../domain/calendar';
import { parseDate } from '../domain/dates';
import { trackerPeriodPlan, urgeNotice } from '../domain/planner';
import { zonedInstant } from '../domain/zone';
import { tracker } from './support/trackers';

const calendar = new WorkingCalendar();

test('a 催办 names who urged and their note, counts the days overdue, and escapes what people typed', () => {
  const t = tracker({ obligation: { id: 'task', period: 'once', due: { rule: 'fixed-date', date: '2026-11-20' } } });
  const now = zonedInstant(parseDate('2026-11-24')!, 'Asia/Shanghai', 10);
  const plan = trackerPeriodPlan(t, calendar, { now });
  const n = urgeNotice(t, plan, now);
  const r = renderNotice({
    definition: t,
    notice: n,
    period: { label: 'once', due: plan.due, originalDue: plan.originalDue },
    sentOn: '2026-11-24',
    progress: { recorded: 0, quota: 1 },
    urge: { by: '王明\r\nBcc: x@evil.example <office-liaison@test.example.org>', note: '<b>请于本周五前报送</b>' },
  });
  expect(r.subject).toBe('【督办催办】市财政局：法治政府建设年度报告（一次性任务）2026年11月20日截止，已逾期4天');
  expect(r.text).toContain('head、liaison同志：');
  expect(r.text).toContain(
    '市委依法治市办（王明 Bcc: x@evil.example）现就市财政局逾期未完成的以下任务进行催办（已逾期4天）',
  );
  expect(r.text).toContain('催办意见：<b>请于本周五前报送</b>');
  expect(r.text).toMatch(/编号：U-once$/);
  expect(r.html).toContain('&lt;b&gt;请于本周五前报送&lt;/b&gt;');
  expect(r.html).not.toContain('<b>请于');
  expect(r.text).not.toMatch(/延迟送达/);
});
