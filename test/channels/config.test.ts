/**
 * Channels in the directory and the catalog: resolved into tracker definitions without secrets; bad input (unknown
 * channel, a channel without its secret, a malformed mobile, a webhook that is not https) refused at validate with
 * file, line and field, so that nothing is registered.
 */
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DEFAULT_DIRECTORY, DEFAULT_EVENTS, DEFAULT_ROSTERS, InvalidInputError, loadInputs } from '../../config/load';
import { channelRows } from '../../activities/channels';
import { demoDirectory } from '../../channels/fakes/local';
import { loadChannelSecrets, secretVariable } from '../../config/channels';
import { SECRETS, catalogFile, directoryWith, withChannels as good } from './support';

const dir = mkdtempSync(path.join(tmpdir(), 'duban-channels-'));

function problemsOf(directory: string, env: NodeJS.ProcessEnv = SECRETS) {
  try {
    loadInputs({ catalog: catalogFile, directory, env });
  } catch (e) {
    if (e instanceof InvalidInputError) return e.problems;
    throw e;
  }
  return [];
}

test('the directory names channels; definitions carry names and kinds, never a secret', () => {
  const inputs = loadInputs({ catalog: catalogFile, directory: directoryWith(good), env: SECRETS });
  const justice = inputs.trackers.find((t) => t.unit.id === 'justice')!;
  expect(justice.channels).toMatchObject({
    unit: [{ name: 'justice-wecom', kind: 'wecom' }],
    office: [
      { name: 'office-ding', kind: 'dingtalk', mention: true },
      { name: 'oa', kind: 'webhook', url: 'https://oa.xx.gov.cn/duban/events' },
    ],
    leadership: [{ name: 'leaders-feishu', kind: 'feishu' }],
    sms: { name: 'sms', kind: 'sms', signName: 'XX市依法治市办', templateCode: 'SMS_100' },
    steps: { reminders: ['unit'], level1: ['unit'], level2: ['unit', 'office', 'sms'], level3: ['leadership'] },
  });
  expect(justice.unit.head.mobile).toBe('13800000001');
  const all = JSON.stringify(inputs.trackers);
  for (const secret of Object.values(SECRETS)) expect(all).not.toContain(secret);
});

test('a mobile written with +86 is kept as its 11 digits, for @-mentions and SMS alike', () => {
  const file = directoryWith((t) => good(t).replace('mobile: "13800000001"', 'mobile: "+8613800000001"'));
  const inputs = loadInputs({ catalog: catalogFile, directory: file, env: SECRETS });
  const justice = inputs.trackers.find((t) => t.unit.id === 'justice')!;
  expect(justice.unit.head.mobile).toBe('13800000001');
  expect(JSON.stringify(inputs.trackers)).not.toContain('+86');
});

test('a directory without channels gives definitions without a channels field (their hashes do not change)', () => {
  const inputs = loadInputs({
    catalog: catalogFile,
    directory: path.join(__dirname, '../fixtures/directory.yaml'),
    env: {},
  });
  expect(inputs.trackers.every((t) => t.channels === undefined)).toBe(true);
});

test("the catalog's defaults.channels and an obligation's channels change which routes each step reaches", () => {
  const catalog = path.join(dir, 'catalog-routes.yaml');
  writeFileSync(
    catalog,
    readFileSync(catalogFile, 'utf8')
      .replace(
        'noticeHour: 9\n',
        'noticeHour: 9\ndefaults:\n  channels: { reminders: [unit, office], level2: [unit] }\n',
      )
      .replace('    lead: justice\n', '    lead: justice\n    channels: { level2: [sms] }\n'),
  );
  const inputs = loadInputs({ catalog, directory: directoryWith(good), env: SECRETS });
  const own = inputs.trackers.find((t) => t.unit.id === 'justice' && t.obligation.id === 'half-year-report')!;
  // reminders from the catalog's defaults, level2 the obligation's own, the rest the built-in defaults.
  expect(own.channels!.steps).toEqual({
    reminders: ['unit', 'office'],
    level1: ['unit'],
    level2: ['sms'],
    level3: ['leadership'],
  });
  const other = inputs.trackers.find((t) => t.obligation.id !== 'half-year-report' && t.channels)!;
  expect(other.channels!.steps).toMatchObject({ reminders: ['unit', 'office'], level2: ['unit'] });
  // And the rows a notice adds follow them: a reminder reaches the office's robot and webhook too; a 督办单 only SMS.
  const period = { label: '2027H1', due: '2027-07-15', dueAt: 0, endsAt: 1 };
  const rowsOf = (stage: 'reminder' | 'escalation', level: number, to: string) =>
    channelRows(
      {
        definition: own,
        notice: {
          at: 0,
          day: 0,
          trackerId: own.trackerId,
          obligation: own.obligation.id,
          unit: own.unit.id,
          period: '2027H1',
          due: '2027-07-15',
          stage,
          level,
          step: 0,
          to: [to],
          cc: [],
        },
        period,
        firedAt: 0,
      },
      { graceMs: 0, links: false },
    ).map((r) => r.channel);
  expect(rowsOf('reminder', 0, own.unit.liaison.email)).toEqual(['justice-wecom', 'office-ding', 'oa']);
  expect(rowsOf('escalation', 2, own.unit.head.email)).toEqual(['sms']);
});

test('an unknown channel is named with file, line and field', () => {
  const file = directoryWith((t) => good(t).replace('channels: [justice-wecom]', 'channels: [justice-wechat]'));
  const problems = problemsOf(file);
  expect(problems).toEqual([
    expect.objectContaining({
      file: expect.stringContaining(path.basename(file)),
      line: expect.any(Number),
      field: 'units[1] (justice) › channels[0]',
      message: expect.stringContaining('未知的渠道“justice-wechat”'),
    }),
  ]);
  const line = readFileSync(file, 'utf8').split('\n')[problems[0]!.line - 1];
  expect(line).toContain('justice-wechat');
});

test('a channel without its secret is refused, naming the setting to set, not a value', () => {
  const env = { ...SECRETS };
  delete env[secretVariable('office-ding', 'KEY')];
  delete env[secretVariable('sms', 'SECRET')];
  const problems = problemsOf(directoryWith(good), env);
  expect(problems.map((p) => [p.field, p.message])).toEqual([
    ['channels[1].name', expect.stringContaining('请设置 DUBAN_CHANNEL_OFFICE_DING_KEY')],
    ['channels[4].name', expect.stringContaining('请设置 DUBAN_CHANNEL_SMS_SECRET')],
  ]);
  expect(JSON.stringify(problems)).not.toContain('SECding0003');
});

test('secrets may come from the file DUBAN_CHANNEL_SECRETS_FILE names; the environment wins', () => {
  const file = path.join(dir, 'secrets.yaml');
  writeFileSync(file, 'office-ding: { key: from-file, secret: file-secret }\nsms: { key: LTAI-file, secret: s }\n');
  const get = loadChannelSecrets({ DUBAN_CHANNEL_SECRETS_FILE: file, DUBAN_CHANNEL_SMS_KEY: 'LTAI-env' });
  expect(get('office-ding')).toEqual({ key: 'from-file', secret: 'file-secret' });
  expect(get('sms')).toEqual({ key: 'LTAI-env', secret: 's' });
  const env: NodeJS.ProcessEnv = { ...SECRETS, DUBAN_CHANNEL_SECRETS_FILE: file };
  delete env[secretVariable('office-ding', 'KEY')];
  expect(problemsOf(directoryWith(good), env)).toEqual([]);
});

test('a malformed mobile, a plain-http webhook off loopback, an SMS channel without its template', () => {
  const file = directoryWith((t) =>
    good(t)
      .replace('mobile: "13800000001"', 'mobile: "1380000"')
      .replace('https://oa.xx.gov.cn/duban/events', 'http://oa.xx.gov.cn/duban/events')
      .replace(', templateCode: SMS_100', ''),
  );
  const problems = problemsOf(file);
  expect(problems.map((p) => [p.field, p.message])).toEqual(
    expect.arrayContaining([
      ['units[1] (justice) › contacts.head.mobile', '文本 "1380000" 不是有效的大陆手机号码，如 13800138000'],
    ]),
  );
  // The schema refuses the mobile before the channels are looked at; fixed, the channels' problems show.
  const second = problemsOf(
    directoryWith((t) =>
      good(t)
        .replace('https://oa.xx.gov.cn/duban/events', 'http://oa.xx.gov.cn/duban/events')
        .replace(', templateCode: SMS_100', ''),
    ),
  );
  expect(second.map((p) => [p.field, p.message])).toEqual([
    ['channels[3].url', expect.stringContaining('须为 https://')],
    ['channels[4]', expect.stringContaining('templateCode')],
  ]);
  expect(
    problemsOf(directoryWith((t) => good(t).replace('https://oa.xx.gov.cn/duban/events', 'http://127.0.0.1:9/hook'))),
  ).toEqual([]);
});

test("npm start's demo directory (the built-in one with channels) validates with the local secrets", () => {
  const file = directoryWith(() => demoDirectory(readFileSync(DEFAULT_DIRECTORY, 'utf8')));
  const env = {
    DUBAN_CHANNEL_SFJ_WECOM_KEY: 'k',
    DUBAN_CHANNEL_YFZSB_DINGTALK_KEY: 'k',
    DUBAN_CHANNEL_LEADERS_FEISHU_KEY: 'k',
    DUBAN_CHANNEL_SMS_KEY: 'k',
    DUBAN_CHANNEL_SMS_SECRET: 's',
  };
  const inputs = loadInputs({ directory: file, rosters: DEFAULT_ROSTERS, events: DEFAULT_EVENTS, env });
  const sfj = inputs.trackers.filter((t) => t.unit.id === 'sfj');
  expect(sfj.length).toBeGreaterThan(0);
  expect(sfj.every((t) => t.channels?.unit[0]?.name === 'sfj-wecom')).toBe(true);
  expect(sfj[0]!.unit.head.mobile).toBe('13800000000');
  expect(inputs.trackers.some((t) => t.channels?.office[0]?.name === 'yfzsb-dingtalk')).toBe(true);
});

test('duban validate and plan print no secret; validate names the missing setting at exit 2, plan needs none', () => {
  const root = path.join(__dirname, '..', '..');
  const run = (env: Record<string, string>, ...args: string[]) =>
    spawnSync(process.execPath, [path.join(root, 'bin', 'duban.js'), ...args], {
      encoding: 'utf8',
      env: { ...process.env, ...env, TZ: 'UTC' },
    });
  const directory = directoryWith(good);
  for (const args of [
    ['validate', catalogFile, directory],
    ['validate', catalogFile, directory, '--json'],
    ['plan', catalogFile, directory, '--from', '2027-01-01', '--to', '2027-03-31', '--json'],
  ]) {
    const r = run(SECRETS, ...args);
    expect(r.status).toBe(0);
    for (const secret of Object.values(SECRETS)) expect(r.stdout + r.stderr).not.toContain(secret);
  }
  const env = { ...SECRETS };
  delete env[secretVariable('office-ding', 'KEY')];
  const refused = run(env, 'validate', catalogFile, directory);
  expect(refused.status).toBe(2);
  // Reading commands need no secret: plan works without any.
  expect(run({}, 'plan', catalogFile, directory, '--from', '2027-01-01', '--to', '2027-01-31', '--json').status).toBe(
    0,
  );
  expect(refused.stderr).toContain('DUBAN_CHANNEL_OFFICE_DING_KEY');
  for (const secret of Object.values(env)) expect(refused.stdout + refused.stderr).not.toContain(secret);
});
