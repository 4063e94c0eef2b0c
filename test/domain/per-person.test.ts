/**
 * Per-person quotas (issue 12.2): every person on the unit's roster must reach the quota (000 L153 / 004 L123:
 * 每人每年接受不少于60学时的业务知识和法律法规培训). Records carry person, date and hours; the period is complete
 * when nobody is short; the status lists who is short and by how much.
 */
import { renderNotice } from '../../channels/email/templates';
import { parseRosterCsv, rosterOf } from '../../domain/roster';
import type { TrackerDefinition } from '../../domain/trackers';
import { Driver, at } from '../support/driver';
import { tracker } from '../support/trackers';

const people = [
  { id: '15010001', name: '王建国' },
  { id: '15010002', name: '李红' },
  { id: '15010003', name: '赵强' },
];
const training = (): TrackerDefinition => ({
  ...tracker({
    obligation: {
      id: 'officer-training',
      period: 'year',
      due: { rule: 'period-end' },
      completion: 'per-person',
      quota: 60,
      roster: '执法人员',
      quotaUnit: 'hours',
    },
    reminders: [20, 0],
  }),
  people,
});

/** Records `hours` for a person in as many 8-hour days (and a remainder) as it takes, in March 2027. */
function train(d: Driver, person: string, hours: number): void {
  for (let day = 1; hours > 0; day++) {
    const h = Math.min(8, hours);
    d.act('record', {
      by: '市场监管局',
      person,
      date: `2027-03-${String(day).padStart(2, '0')}`,
      hours: h,
      topic: '行政处罚法培训',
    });
    hours -= h;
  }
}

describe('a roster where one person falls short', () => {
  test('two of three reach 60 hours: the period stays open, the status names who is short and by how much', () => {
    const d = Driver.start(training(), at('2027-04-01'));
    train(d, '15010001', 60);
    train(d, '15010002', 64);
    train(d, '15010003', 48);
    const p = d.t.status(d.now).periods[0]!;
    expect(p.people).toEqual({ total: 3, reached: 2, short: [{ id: '15010003', name: '赵强', has: 48, short: 12 }] });
    expect(d.t.history).toEqual([]);
    // Short after due: red, escalated like any unfinished period.
    d.runUntil(at('2028-01-05'));
    expect(d.t.status(d.now).colour).toBe('red');
    expect(d.names()).toContain('2027 2028-01-03 e1.0');
  });

  test('the last person reaching the quota completes the period, judged by the day of that record', () => {
    const d = Driver.start(training(), at('2027-04-01'));
    train(d, '15010001', 60);
    train(d, '15010002', 60);
    train(d, '15010003', 56);
    d.runUntil(at('2028-01-04'));
    // Held on 30 December, recorded after due: on time.
    d.act('record', { by: 'x', person: '15010003', date: '2027-12-30', hours: 4, topic: '补训' });
    expect(d.t.history).toEqual([expect.objectContaining({ period: '2027', outcome: 'on_time' })]);
    const event = d.t
      .takeEvents()
      .filter((e) => e.kind === 'quota_event')
      .pop();
    expect(event).toMatchObject({
      data: { person: '15010003', amount: 4, personTotal: 60, quota: 60, reached: 3, people: 3 },
    });
  });

  test('what a per-person record refuses', () => {
    const d = Driver.start(training(), at('2027-04-01'));
    d.refused('record', { by: 'x', date: '2027-03-01', topic: 't', hours: 8 }, /逐人统计：请填写人员/);
    d.refused(
      'record',
      { by: 'x', person: '99999999', date: '2027-03-01', topic: 't', hours: 8 },
      /人员“99999999”不在本单位人员名单中/,
    );
    d.refused('record', { by: 'x', person: '15010001', date: '2027-03-01', topic: 't' }, /学时须大于0且不超过24/);
    d.refused('record', { by: 'x', person: '15010001', date: '2027-03-01', topic: 't', hours: 25 }, /不超过24/);
    d.refused('record', { by: 'x', person: '15010001', date: '2027-04-02', topic: 't', hours: 8 }, /尚未到来/);
    d.refused('record', { by: 'x', person: '15010001', date: '2026-12-31', topic: 't', hours: 8 }, /不在2027年度内/);
    d.refused('submit', { by: 'x', evidence: { text: 'a' } }, /无需报送材料/);
    // A unit-level quota refuses person and hours.
    const unit = Driver.start(
      tracker({
        obligation: { id: 'lectures', period: 'year', due: { rule: 'period-end' }, completion: 'quota', quota: 2 },
      }),
      at('2027-04-01'),
    );
    unit.refused(
      'record',
      { by: 'x', person: '15010001', date: '2027-03-01', topic: 't' },
      /按单位统计活动，不填人员和学时/,
    );
  });

  test('a changed roster reaches the running tracker: a person removed no longer holds the period open', () => {
    const d = Driver.start(training(), at('2027-04-01'));
    train(d, '15010001', 60);
    train(d, '15010002', 60);
    const changed = { ...training(), people: people.slice(0, 2) };
    d.act('updateDefinition', { by: 'admin', definition: changed });
    expect(d.t.history).toEqual([expect.objectContaining({ period: '2027', outcome: 'on_time' })]);
  });

  test('a quota of times (至少一次): one record per person, no hours', () => {
    const def: TrackerDefinition = {
      ...tracker({
        obligation: {
          id: 'head-training',
          period: 'year',
          due: { rule: 'period-end' },
          completion: 'per-person',
          quota: 1,
          roster: '部门负责人',
          quotaUnit: 'times',
        },
      }),
      people: people.slice(0, 1),
    };
    const d = Driver.start(def, at('2027-04-01'));
    d.refused(
      'record',
      { by: 'x', person: '15010001', date: '2027-03-01', topic: 't', hours: 8 },
      /按次数统计，不填学时/,
    );
    d.act('record', { by: 'x', person: '15010001', date: '2027-03-01', topic: '法治专题脱产培训' });
    expect(d.t.history[0]!.outcome).toBe('on_time');
  });
});

describe('the reminder to the liaison lists who is short and by how much', () => {
  test('names, hours short, and the count beyond the names shown', () => {
    const d = Driver.start(training(), at('2027-04-01'));
    train(d, '15010001', 60);
    train(d, '15010003', 50);
    const p = d.t.periods[0]!;
    const notice = p.plan.notices[0]!;
    const text = renderNotice({
      definition: training(),
      notice,
      period: { label: '2027', due: p.plan.due, originalDue: p.plan.originalDue },
      sentOn: '2027-12-02',
      progress: { recorded: 0, quota: 60, people: p.peopleProgress() },
    }).text;
    expect(text).toContain('本期每人须达到60学时，已达标1人/共3人；尚未达标：李红（差60学时）、赵强（差10学时）。');
    const many = renderNotice({
      definition: training(),
      notice,
      period: { label: '2027', due: p.plan.due, originalDue: p.plan.originalDue },
      sentOn: '2027-12-02',
      progress: {
        recorded: 0,
        quota: 60,
        people: { total: 52, reached: 20, short: [{ id: '1', name: '甲', has: 0, short: 60 }] },
      },
    }).text;
    expect(many).toContain('已达标20人/共52人；尚未达标：甲（差60学时）等32人。');
  });
});

describe('the rosters file (CSV)', () => {
  test('rows become people per unit and roster; BOM, CRLF and quoted cells are read', () => {
    const text =
      '\uFEFFunit,roster,person,name\r\nscjgj,执法人员,15010001,王建国\r\nscjgj,执法人员,15010002,"李红, 副科长"\r\nsfj,执法人员,15020001,周敏\r\n';
    const { entries, problems } = parseRosterCsv(text);
    expect(problems).toEqual([]);
    expect(rosterOf(entries, 'scjgj', '执法人员')).toEqual([
      { id: '15010001', name: '王建国' },
      { id: '15010002', name: '李红, 副科长' },
    ]);
    expect(entries[2]).toMatchObject({ unit: 'sfj', line: 4 });
  });

  test('every bad row is reported with its line and column', () => {
    const text =
      'unit,roster,person,name\nscjgj,执法人员,15010001,王建国\nscjgj,执法人员,15010001,王建国\nscjgj,,15010003,赵强\nscjgj,执法人员,15010004,=HYPERLINK("x")\nscjgj,执法人员,15010005,钱,多\n';
    expect(parseRosterCsv(text).problems).toEqual([
      { line: 3, column: 'person', message: '人员“15010001”已在单位 scjgj 的名单 执法人员 中（第2行）' },
      { line: 4, column: 'roster', message: '为空' },
      { line: 5, column: 'name', message: '“=HYPERLINK("x")”以电子表格公式的字符开头（=、+、-、@）' },
      { line: 6, message: '有5个单元格，但表头只有4列（名称中的逗号须加引号）' },
    ]);
    expect(parseRosterCsv('unit,person,name,dept\n').problems).toEqual([
      { line: 1, message: '缺少列 roster；未知的列 "dept"：列应为 unit,roster,person,name' },
    ]);
    expect(parseRosterCsv('').problems[0]!.message).toMatch(/文件为空/);
  });
});
