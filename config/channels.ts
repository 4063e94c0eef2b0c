/**
 * The channels' secrets and endpoints, from the settings only (docs/channels.md): the directory names a channel,
 * the environment (or a secrets file) holds what it needs under that name:
 * - DUBAN_CHANNEL_<NAME>_KEY: 企业微信 robot key, 钉钉 access_token, 飞书 hook id, 阿里云 AccessKeyId;
 * - DUBAN_CHANNEL_<NAME>_SECRET: 钉钉 加签 secret, 飞书 signing secret, 阿里云 AccessKeySecret, webhook secret;
 * - DUBAN_CHANNEL_SECRETS_FILE: a YAML file `name: { key: …, secret: … }`, for deployments that mount secrets as files;
 *   the environment wins.
 * <NAME> is the channel's name in capitals, every character other than a letter or digit as "_".
 * The providers' addresses default to the real ones; DUBAN_WECOM_URL, DUBAN_DINGTALK_URL, DUBAN_FEISHU_URL and
 * DUBAN_ALIYUN_SMS_URL point them elsewhere (a gateway, or the loopback fakes of `npm start` and the tests).
 * Nothing here is logged or printed; describeChannel names the settings, never their values.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { Channel, ChannelKind } from '../domain/model';

export interface ChannelSecret {
  key?: string;
  secret?: string;
}

export function secretVariable(name: string, part: 'KEY' | 'SECRET'): string {
  return `DUBAN_CHANNEL_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_${part}`;
}

/** What each kind needs: a key, a secret, or both; a robot's signing secret is optional (keyword or IP security). */
const NEEDS: Record<ChannelKind, { key: boolean; secret: boolean }> = {
  wecom: { key: true, secret: false },
  dingtalk: { key: true, secret: false },
  feishu: { key: true, secret: false },
  sms: { key: true, secret: true },
  webhook: { key: false, secret: true },
};

export class ChannelSecretsError extends Error {}

/** The secrets of every channel, by name: environment first, then the secrets file. */
export function loadChannelSecrets(env: NodeJS.ProcessEnv = process.env): (name: string) => ChannelSecret {
  let file: Record<string, ChannelSecret> = {};
  const path = env.DUBAN_CHANNEL_SECRETS_FILE;
  if (path) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new ChannelSecretsError(
        `DUBAN_CHANNEL_SECRETS_FILE：无法读取 ${path}（${(err as NodeJS.ErrnoException).code ?? '错误'}）`,
      );
    }
    const parsed: unknown = parseYaml(text);
    if (parsed !== null && (typeof parsed !== 'object' || Array.isArray(parsed)))
      throw new ChannelSecretsError(`DUBAN_CHANNEL_SECRETS_FILE：${path} 须为渠道名称到 { key, secret } 的映射`);
    for (const [name, v] of Object.entries((parsed ?? {}) as Record<string, unknown>)) {
      const e = (v ?? {}) as Record<string, unknown>;
      if (typeof v !== 'object' || Array.isArray(v) || Object.keys(e).some((k) => k !== 'key' && k !== 'secret'))
        throw new ChannelSecretsError(`DUBAN_CHANNEL_SECRETS_FILE：${path}，${name}：只能有 key 和 secret`);
      file[name] = {
        ...(e.key !== undefined ? { key: String(e.key) } : {}),
        ...(e.secret !== undefined ? { secret: String(e.secret) } : {}),
      };
    }
  }
  const snapshot = { ...env };
  file = { ...file };
  return (name) => {
    const key = snapshot[secretVariable(name, 'KEY')] || file[name]?.key;
    const secret = snapshot[secretVariable(name, 'SECRET')] || file[name]?.secret;
    return { ...(key ? { key } : {}), ...(secret ? { secret } : {}) };
  };
}

/** Why a channel cannot be used with these secrets (which setting to set), or undefined when it can. */
export function missingSecret(c: Pick<Channel, 'name' | 'kind'>, s: ChannelSecret): string | undefined {
  const need = NEEDS[c.kind];
  const missing = [
    ...(need.key && !s.key ? [secretVariable(c.name, 'KEY')] : []),
    ...(need.secret && !s.secret ? [secretVariable(c.name, 'SECRET')] : []),
  ];
  if (missing.length === 0) return undefined;
  return `渠道“${c.name}”（${c.kind}）在设置中没有密钥：请设置 ${missing.join(' 和 ')}，或写在 DUBAN_CHANNEL_SECRETS_FILE 所指文件的“${c.name}”下`;
}

export interface ChannelEndpoints {
  wecom?: string;
  dingtalk?: string;
  feishu?: string;
  aliyun?: string;
}

export function channelEndpoints(env: NodeJS.ProcessEnv = process.env): ChannelEndpoints {
  const pick = (v: string | undefined) => (v && v.trim() ? v.trim() : undefined);
  return {
    ...(pick(env.DUBAN_WECOM_URL) ? { wecom: pick(env.DUBAN_WECOM_URL) } : {}),
    ...(pick(env.DUBAN_DINGTALK_URL) ? { dingtalk: pick(env.DUBAN_DINGTALK_URL) } : {}),
    ...(pick(env.DUBAN_FEISHU_URL) ? { feishu: pick(env.DUBAN_FEISHU_URL) } : {}),
    ...(pick(env.DUBAN_ALIYUN_SMS_URL) ? { aliyun: pick(env.DUBAN_ALIYUN_SMS_URL) } : {}),
  };
}
