/** A directory with channels over the test fixtures, and the secrets that go with it (shared by the channel tests). */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { secretVariable } from '../../config/channels';

export const fixtureDirectory = readFileSync(path.join(__dirname, '../fixtures/directory.yaml'), 'utf8');
export const catalogFile = path.join(__dirname, '../fixtures/catalog.yaml');
const dir = mkdtempSync(path.join(tmpdir(), 'duban-channels-'));

export const CHANNELS = `channels:
  - { name: justice-wecom, kind: wecom }
  - { name: office-ding, kind: dingtalk, mention: true }
  - { name: leaders-feishu, kind: feishu }
  - { name: oa, kind: webhook, url: "https://oa.xx.gov.cn/duban/events" }
  - { name: sms, kind: sms, signName: XX市依法治市办, templateCode: SMS_100 }
leadershipChannels: [leaders-feishu]
`;

/** The fixture directory with the channels above: the office's 钉钉 and webhook, 市司法局's 企业微信, mobiles. */
export const withChannels = (t: string, webhookUrl = 'https://oa.xx.gov.cn/duban/events') =>
  t
    .replace('units:\n', `${CHANNELS.replace('https://oa.xx.gov.cn/duban/events', webhookUrl)}units:\n`)
    .replace('    tags: [督察单位]\n', '    tags: [督察单位]\n    channels: [office-ding, oa]\n')
    .replace(
      '      head: { name: 郑局长, email: justice.head@test.example.org }',
      '      head: { name: 郑局长, email: justice.head@test.example.org, mobile: "13800000001" }',
    )
    .replace(
      '      liaison: { name: 王联络员, email: justice.liaison@test.example.org }',
      '      liaison: { name: 王联络员, email: justice.liaison@test.example.org, mobile: "13800000002" }',
    )
    .replace(
      '    supervisor: office\n    contacts:\n      head: { name: 郑局长',
      '    supervisor: office\n    channels: [justice-wecom]\n    contacts:\n      head: { name: 郑局长',
    );

export function directoryWith(edit: (text: string) => string): string {
  const file = path.join(dir, `directory-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, edit(fixtureDirectory));
  return file;
}

export const SECRETS: Record<string, string> = {
  [secretVariable('justice-wecom', 'KEY')]: 'wecom-key-0001',
  [secretVariable('office-ding', 'KEY')]: 'ding-token-0002',
  [secretVariable('office-ding', 'SECRET')]: 'SECding0003',
  [secretVariable('leaders-feishu', 'KEY')]: 'feishu-hook-0004',
  [secretVariable('leaders-feishu', 'SECRET')]: 'feishu-secret-0008',
  [secretVariable('oa', 'SECRET')]: 'oa-secret-0005',
  [secretVariable('sms', 'KEY')]: 'LTAI-0006',
  [secretVariable('sms', 'SECRET')]: 'sms-secret-0007',
};

/** The loopback fakes' accounts matching SECRETS. */
export const FAKE_ACCOUNTS = {
  wecom: ['wecom-key-0001'],
  dingtalk: [{ token: 'ding-token-0002', secret: 'SECding0003', keyword: '督办' }],
  feishu: [{ hook: 'feishu-hook-0004', secret: 'feishu-secret-0008' }],
  sms: [
    {
      accessKeyId: 'LTAI-0006',
      accessKeySecret: 'sms-secret-0007',
      signNames: ['XX市依法治市办'],
      templates: { SMS_100: '您单位承担的${task}截止${due}，${stage}，请登录https://duban.xx.gov.cn办理。' },
    },
  ],
  webhooks: { oa: 'oa-secret-0005' },
};
