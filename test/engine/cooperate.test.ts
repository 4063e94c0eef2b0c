/**
 * 协办 and 提级督办 (#24 items 5, 2) through Temporal's time-skipping server, with the real workflow and activities,
 * a real SMTP server, a SQLite ledger, the web service and Chromium:
 * - a reminder reaches the cooperating units, each person in a copy of their own carrying only their own signed
 *   links (签收, 反馈进展, 查看; never 报送材料); a cooperator acknowledges (recorded with its unit), its submit is
 *   refused in Chinese; another cooperator's staff see the lead's tracker on the web and may 签收 and 反馈进展 only,
 *   then see the lead's submission;
 * - a period still open after its last escalation step goes up to the office above the unit's supervising office:
 *   one 督办单 numbered in that office's own sequence, listed in its register, sent once.
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Duban } from '../../access/temporal';
import { openLedger } from '../../access/ledger';
import { verifyLink } from '../../channels/links';
import { loadInputs } from '../../config/load';
import { Settings, linkSettings, loadSettings } from '../../config/settings';
import { WorkingCalendar } from '../../domain/calendar';
import { formatDate } from '../../domain/dates';
import type { TrackerDefinition } from '../../domain/trackers';
import { localDay } from '../../domain/zone';
import { Ledger } from '../../ledger';
import { RunningWeb, startWeb } from '../../web/server';
import { acknowledgeUpdate, submitUpdate, workflowIdFor } from '../../workflows/messages';
import { TestBrowser, signInThroughPages, startBrowser } from '../support/browser';
import {
  EngineWorker,
  expectRefusal,
  startEngineWorker,
  startTracker,
  statusOf,
  timeSkippingEnv,
} from '../support/engine';
import { ReceivedMail, SmtpSink, startSmtpSink } from '../support/smtp';

jest.setTimeout(300_000);

const fixtures = path.join(__dirname, '..', 'fixtures');
/** Screenshots (not committed). */
const outputDir = path.join(__dirname, '..', '..', 'test-output', 'web');
const zone = 'Asia/Shanghai';
const calendar = new WorkingCalendar();
const taskQueue = 'cooperate-test';

/** 市委依法治市办 supervised by 自治区依法治区办, the office a period is raised to. */
const directoryYaml = () =>
  `${readFileSync(path.join(fixtures, 'directory.yaml'), 'utf8').replace(
    '    tags: [督察单位]\n',
    '    tags: [督察单位]\n    supervisor: region\n',
  )}  - id: region
    name: 自治区依法治区办
    kind: office
    contacts:
      head: { name: 区主任, email: region.head@test.example.org }
      liaison: { name: 区科长, email: region.liaison@test.example.org }
`;

const basis = '    basis: [{ document: 测试市专项工作方案, quote: 各单位应按期报送 }]\n';
const catalogYaml = (coopDue: string, overdue: string) => `timeZone: Asia/Shanghai
noticeHour: 9
obligations:
  - id: coop-report
    title: 营商环境专项报告
${basis}    assignees: { units: [finance] }
    cooperators: { units: [justice, county-a] }
    period: once
    due: { rule: fixed-date, date: "${coopDue}" }
  - id: raised
    title: 行政执法案卷评查整改报告
${basis}    assignees: { units: [justice, finance] }
    period: once
    due: { rule: fixed-date, date: "${overdue}" }
    escalation: [{ level: 1, after: 1 }, { level: 2, after: 2 }]
    raiseAfter: 1
  - id: level-two
    title: 行政复议案件统计
${basis}    assignees: { units: [county-a] }
    period: once
    due: { rule: fixed-date, date: "${overdue}" }
    escalation: [{ level: 1, after: 1 }, { level: 2, after: 2 }]
`;

describe('协办 and 提级督办 on the time-skipping server', () => {
  let env: TestWorkflowEnvironment;
  let sink: SmtpSink;
  let ledger: Ledger;
  let engine: EngineWorker;
  let duban: Duban;
  let web: RunningWeb;
  let browser: TestBrowser;
  let settings: Settings;
  let trackers: TrackerDefinition[];
  let dir: string | undefined;

  const of = (prefix: string) => sink.messages.filter((m) => m.key.startsWith(prefix));
  const waitFor = async (what: () => boolean, label: string) => {
    for (let i = 0; i < 300 && !what(); i++) await new Promise((r) => setTimeout(r, 100));
    if (!what()) throw new Error(`timed out waiting for ${label}`);
  };
  const copyTo = (prefix: string, email: string): ReceivedMail =>
    of(prefix).find((m) => m.envelopeTo.length === 1 && m.envelopeTo[0] === email)!;
  const linksIn = (m: ReceivedMail) =>
    [...(m.parsed.text ?? '').matchAll(/http:\/\/\S+\/a\/([A-Za-z0-9_.-]+)\/([A-Za-z]+)/g)].map((x) => {
      const check = verifyLink(x[1]!, linkSettings(settings)!.keys, Date.now());
      if (!check.ok) throw new Error(`a link does not verify: ${check.message}`);
      return { url: x[0], action: x[2]!, claims: check.claims };
    });

  beforeAll(async () => {
    env = await timeSkippingEnv();
    sink = await startSmtpSink();
    dir = mkdtempSync(path.join(tmpdir(), 'duban-cooperate-'));
    const base = calendar.onOrBefore(localDay(await env.currentTimeMs(), zone));
    // The cooperators' task is due in two working days: its reminder of 3 working days before due is already past
    // and goes out at once. The raised tasks were due so long ago that level 1, level 2 and the raise are past.
    const coopDue = formatDate(calendar.addWorkingDays(base, 2));
    const overdue = formatDate(calendar.addWorkingDays(calendar.onOrBefore(base - 1), -3));
    writeFileSync(path.join(dir, 'directory.yaml'), directoryYaml());
    writeFileSync(path.join(dir, 'catalog.yaml'), catalogYaml(coopDue, overdue));
    settings = loadSettings({
      TEMPORAL_ADDRESS: env.address,
      DUBAN_TASK_QUEUE: taskQueue,
      DUBAN_DATA_DIR: path.join(dir, 'data'),
      SMTP_URL: sink.url,
      DUBAN_WEB_PORT: '0',
      DUBAN_LINK_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    });
    ledger = await openLedger(settings, { migrate: true });
    duban = await Duban.connect(settings);
    web = await startWeb({ settings, duban, ledger, log: () => undefined });
    engine = await startEngineWorker({
      connection: env.nativeConnection,
      taskQueue,
      sink,
      ledger,
      links: { ...linkSettings(settings)!, baseUrl: web.url },
    });
    const inputs = loadInputs({ catalog: path.join(dir, 'catalog.yaml'), directory: path.join(dir, 'directory.yaml') });
    await ledger.saveDirectorySnapshot({ directory: inputs.directory, catalog: inputs.catalog, by: 'test' });
    trackers = inputs.trackers;
    for (const t of trackers) await startTracker(env.client, taskQueue, t);
    browser = await startBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await web?.close();
    await duban?.close();
    await engine?.stop();
    await ledger?.close();
    await sink?.close();
    await env?.teardown();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const coop = 'coop-report/finance';
  const justiceLiaison = 'justice.liaison@test.example.org';
  const countyLiaison = 'county-a.liaison@test.example.org';
  const financeLiaison = 'finance.liaison@test.example.org';

  test('the reminder reaches each cooperator in a copy of its own, with only its own links', async () => {
    const def = trackers.find((t) => t.trackerId === coop)!;
    expect(def.cooperators?.map((c) => c.id)).toEqual(['justice', 'county-a']);
    // Liaisons (lead's and cooperators'), heads in copy: six copies of the one reminder.
    await waitFor(() => of(`${coop}/`).length === 6, 'six copies of the reminder');
    const reminder = of(`${coop}/`);
    expect(new Set(reminder.map((m) => m.key.split('/to/')[0]))).toEqual(new Set([reminder[0]!.key.split('/to/')[0]]));
    expect(reminder[0]!.key).toMatch(/\/r3\/to\//);

    const mine = copyTo(`${coop}/`, justiceLiaison);
    expect(mine.parsed.text).toMatch(/^王联络员同志：/);
    expect(mine.parsed.text).toContain('市司法局是以下任务的协办单位，该任务由市财政局主办');
    expect(mine.parsed.text).toContain('协办单位：市司法局、甲县');
    const links = linksIn(mine);
    expect(links.map((l) => l.action)).toEqual(['acknowledge', 'progress', 'view']);
    expect(mine.parsed.text).not.toContain('报送材料');
    // Every link in the copy is its recipient's own.
    expect(new Set(links.map((l) => l.claims.email))).toEqual(new Set([justiceLiaison]));
    expect(links[0]!.claims).toMatchObject({ trackerId: coop, name: '王联络员' });

    // The lead's liaison has the lead's actions, 报送材料 among them, and nobody else's.
    const lead = linksIn(copyTo(`${coop}/`, financeLiaison));
    expect(lead.map((l) => l.action)).toEqual(expect.arrayContaining(['acknowledge', 'progress', 'submit', 'view']));
    expect(new Set(lead.map((l) => l.claims.email))).toEqual(new Set([financeLiaison]));
    expect(copyTo(`${coop}/`, financeLiaison).parsed.text).toMatch(/^陈联络员同志：/);
  });

  test('a cooperator acknowledges for its unit; its submit is refused in Chinese; its progress comes by its link', async () => {
    const handle = env.client.workflow.getHandle(workflowIdFor(coop));
    let status = await handle.executeUpdate(acknowledgeUpdate, {
      args: [{ by: '王联络员', email: justiceLiaison, unit: 'justice' }],
    });
    expect(status.periods[0]!.acknowledged).toBeUndefined();
    expect(status.periods[0]!.cooperators).toEqual([
      expect.objectContaining({
        unit: 'justice',
        acknowledged: expect.objectContaining({ by: `王联络员 <${justiceLiaison}>` }),
      }),
      expect.objectContaining({ unit: 'county-a', progressCount: 0 }),
    ]);
    await expectRefusal(
      handle.executeUpdate(submitUpdate, {
        args: [{ by: '王联络员', email: justiceLiaison, unit: 'justice', evidence: { text: '由我局代为报送' } }],
      }),
      /^市司法局是本任务的协办单位，只能签收和反馈进展；报送材料由主办单位市财政局办理$/,
    );
    expect((await statusOf(handle)).periods[0]!.submitted).toBe(false);

    // 反馈进展 through the cooperator's own link: the page says for which unit, the form records it.
    const progress = linksIn(copyTo(`${coop}/`, justiceLiaison)).find((l) => l.action === 'progress')!;
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(progress.url);
    expect(await page.textContent('[data-cooperating="justice"]')).toContain('您以协办单位市司法局的名义办理');
    await page.fill('textarea[name=note]', '已提供本局执法数据');
    await Promise.all([page.waitForSelector('text=已记入台账'), page.click('#form-progress button[type=submit]')]);
    await context.close();
    status = await statusOf(handle);
    expect(status.periods[0]!.progress.slice(-1)).toEqual([
      expect.objectContaining({ note: '已提供本局执法数据', unit: 'justice', unitName: '市司法局' }),
    ]);
    const events = await ledger.events({ trackerId: coop });
    expect(
      events.filter((e) => e.kind === 'acknowledged' || e.kind === 'progress').map((e) => JSON.parse(e.data!).unit),
    ).toEqual(['justice', 'justice']);
  });

  test("another cooperator's staff see the lead's tracker, may 签收 and 反馈进展 only, and then see the lead's submission", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await signInThroughPages(page, web.url, sink, countyLiaison);
    // The board lists the lead's task for the cooperator, with both units and who acknowledged.
    const row = page.locator(`tr[data-tracker="${coop}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain('市财政局（主办）');
    expect(await row.locator('[data-cooperator="justice"]').textContent()).toBe('市司法局（已签收）');
    expect(await row.locator('[data-cooperator="county-a"]').textContent()).toBe('甲县（未签收）');

    await page.goto(`${web.url}/t/${coop}`);
    expect(await page.textContent('[data-cooperating="county-a"]')).toContain('您是协办单位甲县的人员');
    expect(await page.locator('#form-acknowledge').count()).toBe(1);
    expect(await page.locator('#form-progress').count()).toBe(1);
    expect(await page.locator('#form-submit, #form-requestExtension, #form-handBack, #form-stand-in').count()).toBe(0);
    await Promise.all([page.waitForURL(/done=acknowledge/), page.click('#form-acknowledge button[type=submit]')]);
    expect(await page.textContent('[data-cooperator="county-a"]')).toContain('已签收');
    // Posting the lead's form anyway is refused, and changes nothing.
    const forged = await context.request.post(`${web.url}/t/${coop}/submit`, { form: { text: '甲县代为报送' } });
    expect(forged.status()).toBe(403);
    expect(await forged.text()).toContain('您无权办理该事项，未作任何更改。');

    // The lead submits; the cooperator's page shows the submission.
    await env.client.workflow.getHandle(workflowIdFor(coop)).executeUpdate(submitUpdate, {
      args: [{ by: '陈联络员', email: financeLiaison, evidence: { text: '营商环境专项报告已报送（财政局）' } }],
    });
    await page.goto(`${web.url}/t/${coop}`);
    expect(await page.locator('tr.event[data-kind="submission"]').textContent()).toContain(
      '营商环境专项报告已报送（财政局）',
    );
    mkdirSync(outputDir, { recursive: true });
    await page.screenshot({ path: path.join(outputDir, 'cooperator-tracker.png'), fullPage: true });
    await context.close();
  });

  test("the raise: one 督办单 of the office above, in that office's own sequence and register, sent once", async () => {
    const raised = ['raised/justice', 'raised/finance'];
    // Each raise goes to the unit head, with its office and the office above in copy: five copies each.
    await waitFor(
      () => raised.every((id) => of(`${id}/`).filter((m) => /\/x\/to\//.test(m.key)).length === 5),
      'the raises',
    );
    await waitFor(() => of('level-two/county-a/').length > 0, 'the level-2 督办单');
    const copy = copyTo('raised/justice/', 'justice.head@test.example.org');
    expect(copy.parsed.subject).toMatch(/^【提级督办单 督〔\d{4}〕[12]号】市司法局：行政执法案卷评查整改报告/);
    expect(copy.parsed.from?.value[0]?.name).toBe('自治区依法治区办（督办系统）');
    expect(copy.parsed.text).toMatch(/^郑局长同志：/);
    expect(copy.parsed.text).toContain('自治区依法治区办现就市司法局逾期未完成的以下任务提级督办');
    expect(copy.parsed.text).toContain('提级督办单位：自治区依法治区办');
    // Only the raise went out: levels 1 and 2, due before the tracker started, were passed over for it.
    for (const id of raised) expect(of(`${id}/`).every((m) => /\/x\/to\//.test(m.key))).toBe(true);

    const region = await ledger.web.supervisionRegister({ supervisor: 'region' });
    expect(region.map((r) => [r.trackerId, r.stage]).sort()).toEqual([
      ['raised/finance', 'raise'],
      ['raised/justice', 'raise'],
    ]);
    expect(region.map((r) => r.number).sort()).toEqual([1, 2]);
    // The office's own sequence starts at 1 too: the level-2 督办单 of 甲县.
    const office = await ledger.web.supervisionRegister({ supervisor: 'office' });
    expect(office.map((r) => [r.trackerId, r.number, r.stage])).toEqual([['level-two/county-a', 1, 'escalation']]);

    const status = await statusOf(env.client.workflow.getHandle(workflowIdFor('raised/justice')));
    expect(status.periods[0]!.raised).toMatchObject({ office: 'region', officeName: '自治区依法治区办' });
    // A week later nothing more was raised.
    const before = sink.messages.length;
    await env.sleep(7 * 86_400_000);
    await new Promise((r) => setTimeout(r, 1000));
    expect(sink.messages.slice(before).filter((m) => /\/x\//.test(m.key))).toEqual([]);
    for (const id of raised)
      expect((await ledger.notices({ trackerId: id })).filter((n) => n.stage === 'raise' && !n.recipient)).toHaveLength(
        1,
      );
  });
});
