/** The channels' pure text: what each stage says, merging within a size limit, inert user text, SMS parameters. */
import {
  ChannelItem,
  inert,
  mergeItems,
  robotMessage,
  smsParams,
  stageText,
  toFeishuPost,
  toMarkdown,
} from '../../channels/compose';

const item = (n: number, over: Partial<ChannelItem> = {}): ChannelItem => ({
  key: `k${n}`,
  obligationTitle: `任务${n}`,
  unitName: `单位${n}`,
  period: '2027',
  due: '2027-03-01',
  stage: 'reminder',
  level: 0,
  step: 1,
  links: [{ label: '签收', url: `https://d.example/a/${n}/acknowledge` }],
  ...over,
});

test('each stage in the words of the notice', () => {
  expect(stageText({ stage: 'reminder', level: 0, step: 0 })).toBe('今日截止');
  expect(stageText({ stage: 'reminder', level: 0, step: 3 })).toBe('距截止还有3个工作日');
  expect(stageText({ stage: 'escalation', level: 1, step: 0 })).toBe('已逾期，请单位负责人督促办理');
  expect(stageText({ stage: 'escalation', level: 2, step: 0, supervisionNumber: '督〔2027〕3号' })).toBe(
    '督办单 督〔2027〕3号',
  );
  expect(stageText({ stage: 'escalation', level: 3, step: 2 })).toBe('逾期未办，列入通报');
});

test('one item is titled by its task; several are numbered under a count; every title says 督办', () => {
  expect(robotMessage([item(1)]).title).toBe('【督办提醒】任务1');
  const m = robotMessage([item(1), item(2, { stage: 'escalation', level: 1 })]);
  expect(m.title).toBe('【督办提醒与督办】共2项待办');
  expect(toMarkdown(m)).toContain('1. 任务1（单位1，2027）');
  expect(toMarkdown(m)).toContain('2. 任务2（单位2，2027）：截止 2027-03-01，已逾期');
});

test('merging keeps order, never splits or repeats an item, and shortens an item too large alone', () => {
  const items = Array.from({ length: 25 }, (_, i) => item(i));
  const fits = (m: ReturnType<typeof robotMessage>) => Buffer.byteLength(toMarkdown(m)) <= 600;
  const merged = mergeItems(items, fits);
  expect(merged.flatMap((m) => m.keys)).toEqual(items.map((i) => i.key));
  expect(merged.every(fits)).toBe(true);
  const huge = item(99, { obligationTitle: '很长的任务名称'.repeat(40) });
  const [alone] = mergeItems([huge], fits);
  expect(alone!.keys).toEqual(['k99']);
  expect(fits(alone!)).toBe(true);
});

test('user text cannot make links, headings or mentions; 飞书 gets links as a tags', () => {
  expect(inert('[x](http://e) **b** <@all> #h')).toBe('［x］（http://e） ＊＊b＊＊ ＜＠all＞ ＃h');
  const post = toFeishuPost(robotMessage([item(1)]));
  expect(post.content[1]).toEqual([{ tag: 'a', text: '签收', href: 'https://d.example/a/1/acknowledge' }]);
});

test('SMS parameters carry no link and stay within 35 characters', () => {
  const p = smsParams(item(1, { obligationTitle: '法'.repeat(50) }));
  expect(Object.values(p).join('')).not.toContain('/a/');
  for (const v of Object.values(p)) expect([...v].length).toBeLessThanOrEqual(35);
  expect(p.task!.endsWith('…')).toBe(true);
});
