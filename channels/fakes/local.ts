/**
 * The channels of `npm start` (client/start.ts): the loopback fakes stand in for every provider, so a newcomer sees
 * the robots and phones receive their messages with no account anywhere.
 *
 * - With the built-in demo data, the directory used is the built-in one plus demo channels (written to
 *   `<data>/directory.yaml`): 市司法局's 企业微信 robot, 市委依法治市办's 钉钉 robot (@-mentioning on escalations),
 *   the leadership's 飞书 bot, and SMS to 市司法局's head. DUBAN_DEMO_CHANNELS=false leaves the built-in directory.
 * - Every channel of the directory without a secret in the settings gets a local one, kept in
 *   `<data>/channel-secrets.yaml` (mode 0600) and named by DUBAN_CHANNEL_SECRETS_FILE.
 * - Unless DUBAN_WECOM_URL, DUBAN_DINGTALK_URL, DUBAN_FEISHU_URL or DUBAN_ALIYUN_SMS_URL point elsewhere, the
 *   providers' addresses are the fakes'; each accepted message is printed (by channel name, never by key) and kept
 *   in `<data>/channels.jsonl`, which `receivedMessages` reads (for a page like /mail).
 */
import { chmodSync, existsSync, readFileSync, appendFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { parse as parseYaml, stringify } from 'yaml';
import { ChannelFakes, Received } from '.';
import { loadChannelSecrets, missingSecret } from '../../config/channels';
import type { Channel } from '../../domain/model';

export const DEMO_CHANNELS = `# Demo channels of \`npm start\` (channels/fakes/local.ts): the loopback fakes receive them.
channels:
  - { name: sfj-wecom, kind: wecom }
  - { name: yfzsb-dingtalk, kind: dingtalk, mention: true }
  - { name: leaders-feishu, kind: feishu }
  - { name: sms, kind: sms, signName: XX市依法治市办, templateCode: SMS_DEMO }
leadershipChannels: [leaders-feishu]

`;

/** The built-in directory with the demo channels: text edits, so its comments stay. */
export function demoDirectory(builtIn: string): string {
  return builtIn
    .replace(/\nunits:\n/, `\n${DEMO_CHANNELS}units:\n`)
    .replace(/(\n {2}- id: yfzsb\n(?: {4}.*\n)*?)( {4}contacts:\n)/, '$1    channels: [yfzsb-dingtalk]\n$2')
    .replace(/(\n {2}- id: sfj\n(?: {4}.*\n)*?)( {4}contacts:\n)/, '$1    channels: [sfj-wecom]\n$2')
    .replace(
      /(\n {2}- id: sfj\n(?: {4}.*\n)*? {6}head: \{ name: [^,]+, email: [^ }]+)( \})/,
      '$1, mobile: "13800000000"$2',
    );
}

/**
 * The SMS template text the demo's fake has "approved": like a real one, the platform's address is fixed text in it,
 * not a variable (docs/channels.md, "阿里云 SMS").
 */
function demoTemplate(site: string): string {
  return `\${unit}：\${task}截止\${due}，\${stage}。请登录${site}办理。`;
}

export interface ReceivedLine {
  at: string;
  kind: Received['kind'];
  /** The channel's name, or the mobile for SMS. */
  to: string;
  text: string;
}

/** What the local fakes received, oldest first (from `<data>/channels.jsonl`). */
export function receivedMessages(dataDir: string): ReceivedLine[] {
  const file = path.join(dataDir, 'channels.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as ReceivedLine);
}

export interface LocalChannels {
  /** The directory file to register (the demo one, or undefined: the caller's). */
  directory?: string;
  fakes?: ChannelFakes;
  stop(): Promise<void>;
}

export async function startLocalChannels(
  dataDir: string,
  builtInDirectory: string,
  out: (line: string) => void,
  env: NodeJS.ProcessEnv = process.env,
): Promise<LocalChannels> {
  let directory: string | undefined;
  if (!env.DUBAN_DIRECTORY && env.DUBAN_DEMO_CHANNELS !== 'false') {
    directory = path.join(dataDir, 'directory.yaml');
    writeFileSync(directory, demoDirectory(readFileSync(builtInDirectory, 'utf8')));
  }
  const file = directory ?? env.DUBAN_DIRECTORY ?? builtInDirectory;
  let channels: Channel[] = [];
  try {
    const parsed = parseYaml(readFileSync(file, 'utf8')) as { channels?: Channel[] };
    channels = Array.isArray(parsed?.channels) ? parsed.channels : [];
  } catch {
    // Validation reports a broken directory with its lines; here it only has no channels.
  }
  // Local secrets for the channels the settings do not cover.
  const secretsFile = env.DUBAN_CHANNEL_SECRETS_FILE ?? path.join(dataDir, 'channel-secrets.yaml');
  const kept: Record<string, { key?: string; secret?: string }> = existsSync(secretsFile)
    ? ((parseYaml(readFileSync(secretsFile, 'utf8')) as Record<string, { key?: string; secret?: string }>) ?? {})
    : {};
  let changed = false;
  const current = loadChannelSecrets({ ...env, DUBAN_CHANNEL_SECRETS_FILE: undefined });
  for (const c of channels) {
    if (!c?.name || !c.kind) continue;
    const s = { ...kept[c.name], ...current(c.name) };
    if (!missingSecret(c, s) && (c.kind === 'wecom' || s.secret)) continue;
    kept[c.name] = {
      key: s.key ?? (c.kind === 'sms' ? `LTAI${randomBytes(8).toString('hex')}` : randomBytes(16).toString('hex')),
      secret: s.secret ?? (c.kind === 'wecom' ? undefined : `SEC${randomBytes(16).toString('hex')}`),
    };
    if (kept[c.name]!.secret === undefined) delete kept[c.name]!.secret;
    changed = true;
  }
  if (changed || !existsSync(secretsFile)) {
    writeFileSync(secretsFile, stringify(kept), { mode: 0o600 });
    chmodSync(secretsFile, 0o600);
  }
  env.DUBAN_CHANNEL_SECRETS_FILE = secretsFile;
  const ownFakes =
    !env.DUBAN_WECOM_URL && !env.DUBAN_DINGTALK_URL && !env.DUBAN_FEISHU_URL && !env.DUBAN_ALIYUN_SMS_URL;
  if (!ownFakes || channels.length === 0) return { directory, stop: async () => undefined };
  const secrets = loadChannelSecrets(env);
  const names = new Map<string, string>();
  const config = {
    wecom: [] as string[],
    dingtalk: [] as { token: string; secret?: string; keyword?: string }[],
    feishu: [] as { hook: string; secret?: string }[],
    sms: [] as {
      accessKeyId: string;
      accessKeySecret: string;
      signNames: string[];
      templates: Record<string, string>;
    }[],
  };
  for (const c of channels) {
    const s = secrets(c.name);
    if (!s.key && c.kind !== 'webhook') continue;
    names.set(s.key ?? c.name, c.name);
    if (c.kind === 'wecom') config.wecom.push(s.key!);
    if (c.kind === 'dingtalk') config.dingtalk.push({ token: s.key!, secret: s.secret, keyword: '督办' });
    if (c.kind === 'feishu') config.feishu.push({ hook: s.key!, secret: s.secret });
    if (c.kind === 'sms' && s.secret)
      config.sms.push({
        accessKeyId: s.key!,
        accessKeySecret: s.secret,
        signNames: [c.signName ?? ''],
        templates: { [c.templateCode ?? '']: demoTemplate(env.DUBAN_WEB_BASE_URL?.trim() || '督办平台') },
      });
  }
  const log = path.join(dataDir, 'channels.jsonl');
  const fakes = new ChannelFakes({
    ...config,
    onReceived: (r) => {
      const line: ReceivedLine = {
        at: new Date(r.at).toISOString(),
        kind: r.kind,
        to: r.kind === 'sms' ? r.to : (names.get(r.to) ?? r.kind),
        text: r.text,
      };
      appendFileSync(log, `${JSON.stringify(line)}\n`);
      const first = r.text.split('\n').find((l) => l.trim()) ?? '';
      out(`${r.kind.padEnd(8)} ${line.to}  ${first.replace(/\*\*/g, '')}\n`);
    },
  });
  const urls = await fakes.start(Number(env.DUBAN_CHANNELS_PORT ?? 0));
  env.DUBAN_WECOM_URL = urls.wecom;
  env.DUBAN_DINGTALK_URL = urls.dingtalk;
  env.DUBAN_FEISHU_URL = urls.feishu;
  env.DUBAN_ALIYUN_SMS_URL = urls.aliyun;
  return { directory, fakes, stop: () => fakes.stop() };
}
