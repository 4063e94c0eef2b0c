/**
 * The import's pattern rules (import/rules), one family at a time: positive and negative sentences, simplified and
 * traditional characters. Pure code: no files, no servers.
 */
import { analysePlan, Duty } from '../../import/rules/duties';
import { mapName, nameKey, splitNames } from '../../import/rules/names';
import { readNumber } from '../../import/rules/numbers';
import { cleanText, matchingForm } from '../../import/rules/text';
import { quoteOverlap } from '../../import/rules/quotes';
import { loadDirectory } from '../../config/load';
import { directoryView } from '../../import';

const TITLE = 'XX市法治政府建设2027年工作要点';

/** The duties of one paragraph under a title. */
function duties(body: string): Duty[] {
  return analysePlan(`${TITLE}\n${body}\n`, { year: 2027 }).duties;
}
function one(body: string): Duty {
  const found = duties(body);
  expect(found).toHaveLength(1);
  return found[0]!;
}
const untimed = (body: string) => analysePlan(`${TITLE}\n${body}\n`).untimed;

describe('numbers', () => {
  test.each([
    ['4', 4],
    ['一', 1],
    ['两', 2],
    ['兩', 2],
    ['十五', 15],
    ['六十', 60],
  ])('%s is %d', (text, n) => expect(readNumber(text)).toBe(n));
  test('words are not numbers', () => expect(readNumber('多')).toBeUndefined());
});

describe('dates', () => {
  test('a dated one-off: 2022年4月底前 is the last day of April', () => {
    const d = one('2022年4月底前,梳理制定证明事项目录并向社会公开。');
    expect(d.period).toBe('once');
    expect(d.due).toEqual({ rule: 'fixed-date', date: '2022-04-30' });
    expect(d.quote).toBe('2022年4月底前,梳理制定证明事项目录并向社会公开');
    expect(d.reviews.some((r) => /早于 2027/.test(r.why))).toBe(true); // past: marked for review
  });
  test('traditional: 2024年年底前…不低於90% is a dated rate target', () => {
    const d = one('2024年年底前旗縣(市、區)行政機關負責人出庭應訴率不低於90%。');
    expect(d.due).toEqual({ rule: 'fixed-date', date: '2024-12-31' });
    expect(d.completion).toBe('rate');
    expect(d.threshold).toBe(90);
    expect(d.quote).toContain('應訴率不低於90%'); // verbatim, traditional kept
  });
  test('之前 is exclusive: 2027年6月30日前 is due on 29 June', () => {
    expect(one('2027年6月30日前完成行政规范性文件清理。').due).toEqual({ rule: 'fixed-date', date: '2027-06-29' });
  });
  test("每年3月1日之前 … 上一年度: the next year's 1 March, exclusive", () => {
    const d = one('每年3月1日之前,政府各部门向本级政府报告上一年度法治政府建设情况。');
    expect(d.period).toBe('year');
    expect(d.due).toEqual({ rule: 'next-month-day', monthDay: '03-01', before: true });
  });
  test('a signature date, a horizon and a plan year are not duties', () => {
    expect(duties('昌吉回族自治州人民政府2015年7月30日印发。')).toEqual([]);
    expect(duties('到2020年,基本建成法治政府。')).toEqual([]);
    expect(duties('到2025年,政府行为全面纳入法治轨道。')).toEqual([]);
  });
  test('2025年前 reads as the end of 2024, marked for review', () => {
    const d = one('2025年前实现对各级政府法治政府建设督察全覆盖。');
    expect(d.due).toEqual({ rule: 'fixed-date', date: '2024-12-31' });
    expect(d.reviews.some((r) => r.field === 'due')).toBe(true);
  });
});

describe('cadences', () => {
  test.each([
    ['政府各部门每季度要开展一次集体学法活动。', 'quarter'],
    ['政府各部门每半年要向本级人民政府报告1次推进依法行政情况。', 'half-year'],
    ['政府各部門每半年要向本級人民政府報告1次推進依法行政情況。', 'half-year'],
    ['各级政府每年向同级党委报告法治政府建设情况。', 'year'],
    ['每月报送行政执法统计数据。', 'month'],
  ])('%s -> %s', (text, period) => expect(one(text).period).toBe(period));
  test('每隔两年: a cycle of two years, its anchor left for review', () => {
    const d = one('全面落实规范性文件每隔两年清理公示制度。');
    expect(d.period).toBe('year');
    expect(d.every).toBe(2);
    expect(d.reviews.some((r) => r.field === 'anchor')).toBe(true);
  });
  test('上半年 is 30 June of each year; 年底前 the year end', () => {
    expect(one('上半年完成权责清单调整。').due).toEqual({ rule: 'in-period-month-day', monthDay: '06-30' });
    const d = one('年底前完成行政执法案卷评查。');
    expect(d.period).toBe('year');
    expect(d.due).toEqual({ rule: 'period-end' });
  });
  test('a report once a year is one submission, not a quota', () => {
    const d = one('州、县市人民政府每年向同级党委、人大常委会和上一级人民政府报告1次推进依法行政情况。');
    expect(d.completion).toBe('single');
    expect(d.due).toEqual({ rule: 'next-month-day', monthDay: '03-01', before: true });
  });
  test('the yearly report published: before 1 April', () => {
    expect(one('严格落实法治政府建设年度报告制度,按期向社会公开。').due).toEqual({
      rule: 'next-month-day',
      monthDay: '04-01',
      before: true,
    });
  });
});

describe('quantities', () => {
  test.each([
    ['每年至少安排4次区政府全体会议学法讲座。', 4],
    ['各級政府和部門領導班子每年舉辦兩期以上法治專題講座。', 2],
    ['政府组成部门主要负责人带头专题讲法不少于1次。', 1],
    ['每年至少组织一次行政执法案卷评查检查。', 1],
  ])('%s -> quota %d', (text, quota) => {
    const d = one(text);
    expect(d.completion).toBe('quota');
    expect(d.quota).toBe(quota);
  });
  test("two quotas in one sentence are two duties, the second with the first one's cadence", () => {
    const found = duties('每年至少安排4次区政府全体会议学法讲座,至少组织1次领导班子成员旁听人民法院庭审活动。');
    expect(found.map((d) => [d.period, d.quota])).toEqual([
      ['year', 4],
      ['year', 1],
    ]);
  });
  test('per person: 每人每年不少于60学时 (simplified and traditional)', () => {
    for (const text of [
      '确保每人每年接受不少于60学时的法律法规培训。',
      '確保每人每年接受不少於60學時的法律法規培訓。',
    ]) {
      const d = one(text);
      expect(d.completion).toBe('per-person');
      expect(d.quota).toBe(60);
      expect(d.quotaUnit).toBe('hours');
    }
  });
  test.each([
    ['确保符合法定条件的依申请公开答复率实现100%。', 100],
    ['确保办理满意率达95%以上。', 95],
    ['法治课时不少于总课时额的10%。', 10],
  ])('rate: %s -> %d', (text, threshold) => {
    const d = one(text);
    expect(d.completion).toBe('rate');
    expect(d.threshold).toBe(threshold);
  });
  test('count: 最少3人, 不得少于5名', () => {
    expect(one('各盟市应当达到最少3人的行政复议办案人员标准。').threshold).toBe(3);
    const d = one('县级政府法制机构专职人员不得少于5名。');
    expect(d.completion).toBe('count');
    expect(d.threshold).toBe(5);
  });
  test('a bare 一次 without a cadence is not a duty', () => {
    expect(duties('全面推行审批服务马上办、网上办、一次办。')).toEqual([]);
  });
});

describe('event-relative', () => {
  test('N个月前 an event: before-event, the event named', () => {
    const d = one('確保政府在人大常委會召開審議法規草案會議的1個月前提出立法議案。');
    expect(d.period).toBe('once');
    expect(d.due).toMatchObject({ rule: 'before-event', months: 1 });
    expect(d.event?.note).toContain('會議');
  });
  test('有效期届满前6个月', () => {
    expect(one('行政规范性文件有效期届满前6个月,主要执行部门要开展评估。').due).toMatchObject({ months: 6 });
  });
  test('3年前 (years ago) is no deadline; 3月1日前 is a month-day, not an event', () => {
    expect(duties('该制度3年前已经建立。')).toEqual([]);
    const d = one('每年3月1日前报告上一年度工作。');
    expect(d.due.rule).toBe('next-month-day');
  });
});

describe('not time-bound', () => {
  test.each([
    ['定期开展应急演练。', '定期'],
    ['定期開展應急演練。', '定期'],
    ['及时反馈司法建议采纳情况。', '及时'],
    ['常态化开展学习。', '常态化'],
    ['持续推进简政放权。', '持续'],
  ])('%s is listed, not scheduled', (text, word) => {
    expect(duties(text)).toEqual([]);
    expect(untimed(text).map((u) => u.word)).toEqual([word]);
  });
  test('任期内至少一次 is per term of office: listed, not scheduled', () => {
    expect(duties('全区各行政执法部门负责人任期内至少接受一次法治专题脱产培训。')).toEqual([]);
    expect(untimed('全区各行政执法部门负责人任期内至少接受一次法治专题脱产培训。')[0]?.word).toBe('任期内');
  });
});

describe('articles and responsible units', () => {
  test('the numbering path and the 责任单位 of the paragraph', () => {
    const plan = [
      TITLE,
      '一、强化组织领导',
      '(一)加强学法。每年至少安排4次学法讲座。(牵头单位:市司法局;责任单位:市直各部门〔单位〕,各县〔区〕)',
    ].join('\n');
    const [d] = analysePlan(plan).duties;
    expect(d!.article).toBe('一、(一)加强学法');
    expect(d!.leadNames).toEqual(['市司法局']);
    expect(d!.assigneeNames).toEqual(['市直各部门〔单位〕', '各县〔区〕']);
  });
  test('a 责任单位 line after the paragraph (another layout)', () => {
    const [d] = analysePlan(`${TITLE}\n3.每年开展一次执法检查。\n责任单位:州司法局、州直各行政执法部门\n`).duties;
    expect(d!.assigneeNames).toEqual(['州司法局', '州直各行政执法部门']);
  });
  test('names split at 、 and , but not inside brackets', () => {
    expect(splitNames('区司法局、旗縣(市、區),各街道办事处')).toEqual(['区司法局', '旗縣(市、區)', '各街道办事处']);
  });
});

describe('names to the directory', () => {
  const dir = directoryView(loadDirectory());
  test.each([
    ['市司法局', [{ unit: 'sfj' }]],
    ['区司法局', [{ unit: 'sfj' }]],
    ['州政府办公室', [{ unit: 'zfb' }]],
    ['各县〔区〕', [{ tag: '县区' }]],
    ['旗縣(市、區)', [{ tag: '县区' }]],
    ['市直各部门〔单位〕', [{ tag: '市直部门' }]],
    ['全区各行政执法部门', [{ tag: '行政执法部门' }]],
    ['区委依法治区办', [{ unit: 'yfzsb' }]],
  ])('%s', (name, targets) => expect(mapName(name, dir).targets).toEqual(targets));
  test('a name the directory lacks maps to nothing (the draft lists it)', () => {
    expect(mapName('区法学会', dir).targets).toEqual([]);
    expect(mapName('政府法制办', dir).targets).toEqual([]);
  });
  test("the plan's own level: 区政府 in a district plan is the government itself", () => {
    expect(mapName('区政府', dir, '区').targets).toEqual([{ unit: 'szf' }]);
    expect(mapName('县市人民政府', dir, '州').targets).toEqual([{ tag: '县区' }]);
  });
  test('keys fold characters, brackets and fillers', () => {
    expect(nameKey('各縣〔區〕')).toBe(nameKey('县区'));
  });
});

describe('noisy text', () => {
  const page = [
    '人民網',
    '人民網>>內蒙古頻道>>本網專稿',
    '首页 | 政务公开 | 打印 | 关闭',
    '2022年09月12日22:17 | 來源:人民網-內蒙古頻道',
    '小字號',
    'XX市法治政府建设实施方案',
    '?。ㄒ唬加强督办(dū bàn)工作。各级政府每年向同级党委报告法治',
    '政府建设情况,并向社会公开。',
    '二、定期开展应急演练。',
  ].join('\n');
  test('navigation, pinyin and mojibake are dropped, broken lines joined, the quote verbatim', () => {
    const clean = cleanText(page);
    const texts = clean.paragraphs.map((p) => p.text);
    expect(texts[0]).toBe('XX市法治政府建设实施方案');
    expect(texts[1]).toBe('加强督办工作。各级政府每年向同级党委报告法治政府建设情况,并向社会公开。');
    expect(clean.noise.map((n) => n.why)).toEqual(expect.arrayContaining(['网页导航或来源行', '括号中的拼音', '乱码']));
    const a = analysePlan(page);
    expect(a.title).toBe('XX市法治政府建设实施方案');
    expect(a.duties.map((d) => d.quote)).toEqual(['各级政府每年向同级党委报告法治政府建设情况']);
    expect(a.untimed.map((u) => u.word)).toEqual(['定期']);
  });
  test('full-width punctuation and digits match like half-width ones', () => {
    expect(matchingForm('不低於９０％，')).toBe('不低于90%,');
    const d = one('确保办理满意率达９５％以上。');
    expect(d.threshold).toBe(95);
    expect(d.quote).toBe('确保办理满意率达９５％以上'); // the source's own characters
  });
});

describe('a plan in another layout (a county, numbered items, deadlines within the period)', () => {
  const plan = [
    'XX县2027年依法行政工作要点',
    '一、各乡镇每季度结束后15日内向县司法局报送行政执法统计数据。',
    '二、县直各部门于次月10日前报送上月行政复议案件办理情况。',
    '三、每年12月底前,县政府组织开展一次行政执法案卷评查。',
    '四、力争三年内实现全覆盖,5年前的档案要整理归档。',
  ].join('\n');
  const found = analysePlan(plan, { year: 2027 }).duties;
  test('each item is one duty, its quote without the numbering marker', () => {
    expect(found.map((d) => d.quote)).toEqual([
      '各乡镇每季度结束后15日内向县司法局报送行政执法统计数据',
      '县直各部门于次月10日前报送上月行政复议案件办理情况',
      '每年12月底前,县政府组织开展一次行政执法案卷评查',
    ]);
  });
  test('结束后15日内, 次月10日前, 12月底前', () => {
    expect(found.map((d) => [d.period, d.due])).toEqual([
      ['quarter', { rule: 'after-period-end', days: 15 }],
      ['month', { rule: 'following-month-day', day: 10, before: true }],
      ['year', { rule: 'period-end' }],
    ]);
    expect(found[0]!.assigneeNames).toEqual(['各乡镇']);
    expect(found[1]!.assigneeNames).toEqual(['县直各部门']);
  });
});

describe('quotes of the same duty', () => {
  test('folded characters and punctuation; one inside the other', () => {
    expect(
      quoteOverlap(
        '各級政府和部門領導班子每年舉辦兩期以上法治專題講座。',
        '各级政府和部门领导班子每年举办两期以上法治专题讲座',
      ),
    ).toBe(1);
    expect(
      quoteOverlap('每年培训时间不少于30课时', '抓好企业经营管理人员的法治宣传教育,每年培训时间不少于30课时'),
    ).toBe(1);
  });
  test('different numbers or only a shared term: different duties', () => {
    expect(
      quoteOverlap(
        '2022年年底前盟市行政機關負責人出庭應訴率不低於90%',
        '2024年年底前旗縣(市、區)行政機關負責人出庭應訴率不低於90%',
      ),
    ).toBe(0);
    expect(quoteOverlap('加强出庭应诉工作机制建设', '提高出庭应诉率')).toBe(0);
    expect(quoteOverlap('出庭应诉率', '提高出庭应诉率水平')).toBe(1);
  });
});
