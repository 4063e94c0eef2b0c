/**
 * `duban import plan` and `duban import directory` run as a user runs them (the built command): every seed plan
 * gives a draft that `duban validate` accepts with the demo directory; a .docx built here and an .html page as
 * sites publish it are read; a PDF is refused; unit lists in .csv and .xlsx with bad rows are refused row by row
 * and nothing is written.
 */
import ExcelJS from 'exceljs';
import JSZip from 'jszip';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parse, stringify } from 'yaml';
import { loadDirectory } from '../../config/load';
import { importPlan } from '../../import';

const root = path.resolve(__dirname, '..', '..');
const seeds = path.join(root, 'bench', 'import', 'seeds');
const directory = path.join(root, 'config', 'defaults', 'directory.yaml');

function duban(...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(root, 'bin', 'duban.js'), ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, TZ: 'UTC' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'duban-import-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('duban import plan', () => {
  test.each(['000', '001', '003', '004'])('seed %s: the draft validates with the demo directory', (seed) => {
    const file = path.join(
      seeds,
      require('node:fs')
        .readdirSync(seeds)
        .find((f: string) => f.startsWith(`${seed}_`)),
    );
    const out = path.join(dir, `${seed}.yaml`);
    const report = path.join(dir, `${seed}.html`);
    const r = duban(
      'import',
      'plan',
      file,
      '--directory',
      directory,
      '--out',
      out,
      '--report',
      report,
      '--year',
      '2027',
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/识别出 \d+ 项有时限的任务/);
    const events = path.join(dir, `${seed}.events.yaml`);
    const v = duban('validate', out, directory, ...(existsSync(events) ? ['--events', events] : []));
    // The only words validate may add: a dated one-off of an old plan is already past (it is still a valid draft).
    const warnings = v.stderr.split('\n').filter((l) => l !== '');
    for (const w of warnings) expect(w).toMatch(/^警告：一次性任务 .*截止日期 \d{4}-\d{2}-\d{2} 已过/);
    expect(v.code).toBe(0);
    const yaml = readFileSync(out, 'utf8');
    expect(yaml).toContain('# review:');
    const catalog = parse(yaml) as { obligations: { basis: { quote: string }[] }[] };
    expect(catalog.obligations.length).toBeGreaterThan(2);
    // Every quote is the source's own words.
    const source = readFileSync(file, 'utf8');
    for (const o of catalog.obligations) expect(source).toContain(o.basis[0]!.quote);
    const html = readFileSync(report, 'utf8');
    expect(html).toContain('<mark>');
    expect(html).toContain('没有时限的表述');
    expect(html).not.toMatch(/<(script|link)\b/);
  });

  test('--json lists the duties, the not-time-bound items and the unmapped names', () => {
    const file = path.join(seeds, '004_47836408a47aeb20.txt');
    const r = duban('import', 'plan', file, '--directory', directory, '--out', path.join(dir, 'j.yaml'), '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.ok).toBe(true);
    const lectures = j.duties.find((d: { quote: string }) => d.quote === '每年至少安排4次区政府全体会议学法讲座');
    expect(lectures).toMatchObject({ period: 'year', completion: 'quota', quota: 4, units: ['szf'] });
    expect(j.untimed.some((u: { word: string }) => u.word === '定期')).toBe(true);
    expect(j.unmapped).toContain('区法学会');
  });

  test('a .docx (built here) is read paragraph by paragraph', async () => {
    const paragraphs = [
      'XX市法治政府建设2027年工作要点',
      '一、强化组织领导',
      '1.政府各部门每季度要开展一次“一把手讲法”集体学法活动。(责任单位:市直各部门)',
      '2.定期开展应急演练。',
    ];
    const docx = await buildDocx(paragraphs);
    const file = path.join(dir, 'plan.docx');
    writeFileSync(file, docx);
    const out = path.join(dir, 'docx.yaml');
    const r = duban('import', 'plan', file, '--directory', directory, '--out', out, '--json');
    expect(r.stderr).toBe('');
    const j = JSON.parse(r.stdout);
    expect(j.title).toBe('XX市法治政府建设2027年工作要点');
    expect(j.duties).toHaveLength(1);
    expect(j.duties[0]).toMatchObject({
      period: 'quarter',
      quota: 1,
      tags: ['市直部门'],
      article: '一、1.政府各部门每季度要开展一次“一把手讲法”集体学法活动',
    });
    expect(duban('validate', out, directory).code).toBe(0);
  });

  test('an .html page: navigation, scripts and styles skipped; user text escaped in the report', async () => {
    const html = `<!doctype html><html><head><meta charset="utf-8"><title>首页</title><style>p{color:red}</style>
<script>document.write("每年至少安排9次")</script></head><body>
<nav><a href="/">首页</a> | <a>政务公开</a></nav>
<div class="crumb">首页 &gt;&gt; 政务公开 &gt;&gt; 通知公告</div>
<h1>XX市法治政府建设实施方案</h1>
<p>（一）加强学法。每年至少安排4次政府全体会议学法讲座&lt;b&gt;。</p>
<footer>版权所有</footer></body></html>`;
    const directoryObject = loadDirectory(directory);
    const result = await importPlan(new TextEncoder().encode(html), 'plan.html', directoryObject);
    expect(result.draft.title).toBe('XX市法治政府建设实施方案');
    expect(result.draft.obligations.map((o) => [o.duty.quote, o.duty.quota])).toEqual([
      ['每年至少安排4次政府全体会议学法讲座<b>', 4],
    ]);
    expect(result.html).toContain('学法讲座&lt;b&gt;');
    expect(result.html).not.toContain('讲座<b>');
  });

  test('a county plan with deadlines within the period: the draft validates', () => {
    const file = path.join(dir, 'county.txt');
    writeFileSync(
      file,
      [
        'XX县2027年依法行政工作要点',
        '一、各部门每季度结束后15日内向县司法局报送行政执法统计数据。',
        '二、县直各部门于次月10日前报送上月行政复议案件办理情况。',
        '三、每年12月底前,县政府组织开展一次行政执法案卷评查。',
      ].join('\n'),
    );
    const out = path.join(dir, 'county.yaml');
    expect(duban('import', 'plan', file, '--directory', directory, '--out', out).code).toBe(0);
    const v = duban('validate', out, directory);
    expect(v.stderr).toBe('');
    expect(v.code).toBe(0);
  });

  test('--compare: the import finds the duties a catalog lacks (the two defects of the demo catalog it found)', () => {
    const defaults = path.join(root, 'config', 'defaults', 'catalog.yaml');
    const doc = parse(readFileSync(defaults, 'utf8'));
    doc.obligations = doc.obligations.filter(
      (o: { id: string }) => !['court-appearance-rate-city', 'court-hearing-attendance'].includes(o.id),
    );
    const before = path.join(dir, 'catalog-before.yaml');
    writeFileSync(before, stringify(doc));
    const run = (seed: string, catalog: string) => {
      const file = path.join(
        seeds,
        require('node:fs')
          .readdirSync(seeds)
          .find((f: string) => f.startsWith(`${seed}_`)),
      );
      const r = duban(
        'import',
        'plan',
        file,
        '--directory',
        directory,
        '--out',
        path.join(dir, 'cmp.yaml'),
        '--compare',
        catalog,
        '--json',
      );
      expect(r.code).toBe(0);
      return JSON.parse(r.stdout).compare.missing.map((m: { quote: string }) => m.quote);
    };
    expect(run('000', before)).toContain('2022年年底前盟市行政機關負責人出庭應訴率不低於90%');
    expect(run('004', before)).toContain('至少组织1次区政府及其各部门领导班子成员旁听人民法院庭审活动');
    expect(run('000', defaults)).not.toContain('2022年年底前盟市行政機關負責人出庭應訴率不低於90%');
    expect(run('004', defaults)).not.toContain('至少组织1次区政府及其各部门领导班子成员旁听人民法院庭审活动');
  });

  test('a PDF is refused with what to do instead; nothing is written', () => {
    const file = path.join(dir, 'plan.pdf');
    writeFileSync(file, '%PDF-1.4\n');
    const out = path.join(dir, 'pdf.yaml');
    const r = duban('import', 'plan', file, '--directory', directory, '--out', out);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/不读取 PDF.*请另存为 \.docx 或 \.txt/);
    expect(existsSync(out)).toBe(false);
  });

  test('--help has an example; a missing --directory is named', () => {
    const h = duban('import', 'plan', '--help');
    expect(h.code).toBe(0);
    expect(h.stdout).toContain('duban import plan 2027工作要点.docx --directory directory.yaml');
    const r = duban('import', 'plan', 'x.txt', '--out', path.join(dir, 'x.yaml'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--directory');
  });
});

/** A minimal .docx: the parts Word and mammoth need, one w:p per paragraph. */
async function buildDocx(paragraphs: string[]): Promise<Uint8Array> {
  const zip = new JSZip();
  zip.file(
    '[Content_Types].xml',
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
  );
  zip.file(
    '_rels/.rels',
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
  );
  const body = paragraphs
    .map(
      (p) => `<w:p><w:r><w:t xml:space="preserve">${p.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</w:t></w:r></w:p>`,
    )
    .join('');
  zip.file(
    'word/document.xml',
    `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>${body}</w:body></w:document>`,
  );
  return zip.generateAsync({ type: 'uint8array' });
}

describe('duban import directory', () => {
  const header = '单位名称,简称/编号,类别/标签,上级督察单位,主要负责人,负责人邮箱,联络员,联络员邮箱,手机';
  const good = [
    '市委依法治市办,yfzsb,督察单位,,王建国,yfzsb.head@xx.example.org,李静,yfzsb.liaison@xx.example.org,13800000001',
    '市司法局,sfj,市直部门,市委依法治市办,杨德明,sfj.head@xx.example.org,黄丽娟,sfj.liaison@xx.example.org,138 0000 0002',
    '甲区,county-a,县区,yfzsb,赵一,a.head@xx.example.org,钱二,a.liaison@xx.example.org,',
  ];

  test('a clean .csv becomes a directory that validates with a catalog', () => {
    const sheet = path.join(dir, 'units.csv');
    writeFileSync(sheet, `\uFEFF${[header, ...good].join('\r\n')}\r\n`);
    const out = path.join(dir, 'directory.yaml');
    const r = duban('import', 'directory', sheet, '--out', out, '--jurisdiction', 'XX市', '--json');
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ ok: true, units: 3, file: out });
    const d = parse(readFileSync(out, 'utf8'));
    expect(d.units.map((u: { id: string; kind: string }) => [u.id, u.kind])).toEqual([
      ['yfzsb', 'office'],
      ['sfj', 'department'],
      ['county-a', 'county'],
    ]);
    expect(d.units[1].supervisor).toBe('yfzsb'); // by name
    // The 手机 column is the liaison's mobile, a field of the directory (blanks dropped); no mobile, no field.
    expect(d.units[0].contacts.liaison).toEqual({
      name: '李静',
      email: 'yfzsb.liaison@xx.example.org',
      mobile: '13800000001',
    });
    expect(d.units[1].contacts.liaison.mobile).toBe('13800000002');
    expect(d.units[1].contacts.head.mobile).toBeUndefined();
    expect(d.units[2].contacts.liaison.mobile).toBeUndefined();
    expect(readFileSync(out, 'utf8')).not.toContain('no phone field');
    const catalog = path.join(dir, 'one.yaml');
    writeFileSync(
      catalog,
      'obligations:\n  - id: a\n    title: 测试\n    basis: [{ document: 文件, quote: 每年 }]\n    assignees: { tags: [县区], units: [sfj] }\n    period: year\n    due: { rule: period-end }\n',
    );
    expect(duban('validate', catalog, out).code).toBe(0);
  });

  test('bad rows in a .csv: each named by row and column; nothing written', () => {
    const sheet = path.join(dir, 'bad.csv');
    writeFileSync(
      sheet,
      [
        header,
        ...good,
        '市司法局,sfj2,市直部门,yfzsb,某甲,x.head@xx.example.org,某乙,x@xx.example.org,', // duplicate unit (row 5)
        '市财政局,czj,市直部门,市纪委,某丙,not-an-email,某丁,c@xx.example.org,1380000', // bad supervisor, email, mobile (row 6)
      ].join('\n'),
    );
    const out = path.join(dir, 'bad-directory.yaml');
    const r = duban('import', 'directory', sheet, '--out', out);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${sheet}:5:1: 第5行“单位名称”列: 单位“市司法局”重复（另见第3行）`);
    expect(r.stderr).toContain('第6行“负责人邮箱”列: “not-an-email”不是有效的邮箱地址');
    expect(r.stderr).toContain(`${sheet}:6:9: 第6行“手机”列: “1380000”不是有效的大陆手机号码`);
    expect(r.stderr).toContain('第6行“上级督察单位”列: 未知的上级督察单位“市纪委”');
    expect(r.stderr).toContain('未作任何更改。');
    expect(existsSync(out)).toBe(false);
  });

  test('separate mobile columns of the head and the liaison; +86 and dashes accepted; a bad one named by row and column', () => {
    const head = '单位名称,编号,主要负责人,负责人邮箱,负责人手机,联络员,联络员邮箱,联络员手机';
    const sheet = path.join(dir, 'mobiles.csv');
    writeFileSync(
      sheet,
      [
        head,
        '市委依法治市办,yfzsb,王建国,w@xx.example.org,+86 138-0000-0011,李静,l@xx.example.org,8613800000012',
        '市司法局,sfj,杨德明,y@xx.example.org,,黄丽娟,h@xx.example.org,13900000013',
      ].join('\n'),
    );
    const out = path.join(dir, 'mobiles.yaml');
    expect(duban('import', 'directory', sheet, '--out', out).code).toBe(0);
    const d = parse(readFileSync(out, 'utf8'));
    expect(d.units[0].contacts.head.mobile).toBe('13800000011');
    expect(d.units[0].contacts.liaison.mobile).toBe('13800000012');
    expect(d.units[1].contacts.head.mobile).toBeUndefined();
    expect(d.units[1].contacts.liaison.mobile).toBe('13900000013');
    // A landline in the head's column: refused with its row and column, nothing written.
    writeFileSync(
      sheet,
      [head, '市司法局,sfj,杨德明,y@xx.example.org,0991-2345678,黄丽娟,h@xx.example.org,'].join('\n'),
    );
    const bad = path.join(dir, 'mobiles-bad.yaml');
    const r = duban('import', 'directory', sheet, '--out', bad);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${sheet}:2:5: 第2行“负责人手机”列: “0991-2345678”不是有效的大陆手机号码`);
    expect(existsSync(bad)).toBe(false);
  });

  test('bad rows in an .xlsx (headers worded differently): named by row and column; nothing written', async () => {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('单位名录');
    ws.addRow(['序号', '单位全称', '编号', '分类', '上级单位', '主要负责人', '电子邮箱', '联系人', '联系电话']);
    ws.addRow([1, '市委依法治市办', 'yfzsb', '督察单位', '', '王建国', 'yfzsb@xx.example.org', '李静', '13800000001']);
    ws.addRow([2, '市教育局', 'jyj', '市直部门', '市委依法治市办', '', 'jyj@xx.example.org', '张三', '13800000003']);
    ws.addRow([3, '市教育局', 'jyj', '市直部门', '市委依法治市办', '李四', 'jyj@xx', '张三', '=HYPERLINK("x")']);
    const sheet = path.join(dir, 'units.xlsx');
    await wb.xlsx.writeFile(sheet);
    const out = path.join(dir, 'xlsx-directory.yaml');
    const r = duban('import', 'directory', sheet, '--out', out, '--json');
    expect(r.code).toBe(2);
    const j = JSON.parse(r.stdout);
    expect(j.ok).toBe(false);
    const lines = j.problems.map((p: { field: string; message: string }) => `${p.field}: ${p.message}`);
    expect(lines).toEqual(
      expect.arrayContaining([
        '第3行“主要负责人”列: 为空：主要负责人接收督办通知',
        '第4行“单位全称”列: 单位“市教育局”重复（另见第3行）',
        '第4行“编号”列: 编号“jyj”重复（另见第3行）',
        '第4行“电子邮箱”列: “jyj@xx”不是有效的邮箱地址',
      ]),
    );
    expect(existsSync(out)).toBe(false);
  });
});
