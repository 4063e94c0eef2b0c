/**
 * Service settings for the worker and the clients: environment variables, optionally a YAML file named by
 * DUBAN_CONFIG (environment wins). Validated with zod; a wrong setting stops the process at start with the name
 * of the setting. Secrets (SMTP password, API key, database password) live here only: they never enter workflow
 * arguments, history, logs or the ledger.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { LinkKey, parseLinkKeys } from '../activities/links';

const bool = z.union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])]).transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');
const positiveInt = z.coerce.number().int().positive();
const mailbox = z.string().regex(/^\s*(.*?)\s*<([^<>\s@]+@[^<>\s@]+)>\s*$|^[^<>\s@]+@[^<>\s@]+$/, { message: 'must be an address, or "Name <address>"' });

export const settingsSchema = z.strictObject({
  temporal: z
    .strictObject({
      address: z.string().min(1).default('127.0.0.1:7233'),
      namespace: z.string().min(1).default('default'),
      taskQueue: z.string().min(1).default('duban'),
      /** Temporal Cloud API key; implies TLS. */
      apiKey: z.string().min(1).optional(),
      tls: z
        .strictObject({
          enabled: bool.default(false),
          caFile: z.string().min(1).optional(),
          certFile: z.string().min(1).optional(),
          keyFile: z.string().min(1).optional(),
          serverName: z.string().min(1).optional(),
        })
        .default({ enabled: false }),
    })
    .default({ address: '127.0.0.1:7233', namespace: 'default', taskQueue: 'duban', tls: { enabled: false } }),
  smtp: z
    .strictObject({
      url: z.string().regex(/^smtps?:\/\/\S+$/, { message: 'must be smtp://host:port or smtps://host:port (user:password@ before the host when needed)' }),
      from: mailbox.default('督办系统 <duban@localhost.localdomain>'),
      requireTls: bool.default(false),
      caFile: z.string().min(1).optional(),
      allowInvalidCertificates: bool.default(false),
      maxConnections: positiveInt.default(5),
    })
    .optional(),
  database: z
    .strictObject({
      /** postgres://user:password@host:5432/db; absent: SQLite in the data folder. */
      url: z.string().regex(/^postgres(ql)?:\/\/\S+$/, { message: 'must be postgres://user:password@host:port/database' }).optional(),
      caFile: z.string().min(1).optional(),
    })
    .default({}),
  dataDir: z.string().min(1).default('.duban'),
  /** An administrator's calendar file adding or replacing years of holiday data (docs/calendar.md). */
  calendar: z.string().min(1).optional(),
  /** The supervisor digest (DOMAIN.md 12): one email per office and working day, at this local hour. */
  digest: z
    .strictObject({
      enabled: bool.default(true),
      timeZone: z.string().min(1).default('Asia/Shanghai'),
      hour: z.coerce.number().int().min(0).max(23).default(9),
    })
    .default({ enabled: true, timeZone: 'Asia/Shanghai', hour: 9 }),
  worker: z
    .strictObject({
      /** Default: 4 per SMTP connection (worker/factory.ts), so no attempt waits past its timeout. */
      maxConcurrentActivities: positiveInt.optional(),
      /** Default 1000 (worker/factory.ts): bounds the worker's memory; evicted trackers replay a short history. */
      maxCachedWorkflows: positiveInt.optional(),
    })
    .default({}),
  /** `duban web` (docs/web.md): the browser service for units, supervising offices and leadership. */
  web: z
    .strictObject({
      host: z.string().min(1).default('127.0.0.1'),
      port: z.coerce.number().int().min(0).max(65535).default(8080),
      /** The address people open, used in sign-in links, e.g. https://duban.example.gov.cn (default: http://host:port). */
      baseUrl: z.string().regex(/^https?:\/\/[^\s/]+(\/[^\s]*)?$/, { message: 'must be an http(s) address such as https://duban.example.gov.cn' }).optional(),
      /** A session unused this long ends. */
      sessionIdleMinutes: positiveInt.default(120),
      /** How long an emailed sign-in link stays valid. */
      signInLinkMinutes: positiveInt.default(15),
      maxFileBytes: positiveInt.default(20 * 1024 * 1024),
      maxFiles: positiveInt.default(10),
      /** Evidence files, kept by SHA-256 (default: <dataDir>/evidence). */
      evidenceDir: z.string().min(1).optional(),
      tlsCertFile: z.string().min(1).optional(),
      tlsKeyFile: z.string().min(1).optional(),
      /** Behind a reverse proxy: take the client's address from X-Forwarded-For (for the sign-in rate limit). */
      trustProxy: bool.default(false),
      /** Administrators (addresses): they also pause, resume and retire trackers (DOMAIN.md 21). */
      admins: z.preprocess(
        (v) => (typeof v === 'string' ? v.split(/[,;\s]+/).filter(Boolean) : v),
        z.array(z.email({ message: 'is not an email address' })),
      ).default([]),
    })
    .prefault({}),
  /**
   * Signed action links in notices (docs/web.md, DOMAIN.md 22). The keys are a secret: "id:base64,id2:base64",
   * the first signs, the others still verify (rotation). No key: no links, and notices say to sign in instead.
   */
  links: z
    .strictObject({
      keys: z.string().min(1).optional(),
      /** Days a link stays valid after its period's ladder ends. */
      graceDays: z.coerce.number().int().min(0).max(365).default(7),
    })
    .prefault({}),
});

export type Settings = z.infer<typeof settingsSchema>;

/** Each environment variable and where it goes in the settings. */
export const ENVIRONMENT: Record<string, string[]> = {
  TEMPORAL_ADDRESS: ['temporal', 'address'],
  TEMPORAL_NAMESPACE: ['temporal', 'namespace'],
  DUBAN_TASK_QUEUE: ['temporal', 'taskQueue'],
  TEMPORAL_API_KEY: ['temporal', 'apiKey'],
  TEMPORAL_TLS: ['temporal', 'tls', 'enabled'],
  TEMPORAL_TLS_CA_PATH: ['temporal', 'tls', 'caFile'],
  TEMPORAL_TLS_CLIENT_CERT_PATH: ['temporal', 'tls', 'certFile'],
  TEMPORAL_TLS_CLIENT_KEY_PATH: ['temporal', 'tls', 'keyFile'],
  TEMPORAL_TLS_SERVER_NAME: ['temporal', 'tls', 'serverName'],
  SMTP_URL: ['smtp', 'url'],
  MAIL_FROM: ['smtp', 'from'],
  SMTP_REQUIRE_TLS: ['smtp', 'requireTls'],
  SMTP_CA_FILE: ['smtp', 'caFile'],
  SMTP_ALLOW_INVALID_CERTIFICATES: ['smtp', 'allowInvalidCertificates'],
  SMTP_MAX_CONNECTIONS: ['smtp', 'maxConnections'],
  DATABASE_URL: ['database', 'url'],
  DATABASE_CA_FILE: ['database', 'caFile'],
  DUBAN_DATA_DIR: ['dataDir'],
  DUBAN_CALENDAR: ['calendar'],
  DUBAN_DIGEST: ['digest', 'enabled'],
  DUBAN_DIGEST_TIME_ZONE: ['digest', 'timeZone'],
  DUBAN_DIGEST_HOUR: ['digest', 'hour'],
  DUBAN_MAX_CONCURRENT_ACTIVITIES: ['worker', 'maxConcurrentActivities'],
  DUBAN_MAX_CACHED_WORKFLOWS: ['worker', 'maxCachedWorkflows'],
  DUBAN_WEB_HOST: ['web', 'host'],
  DUBAN_WEB_PORT: ['web', 'port'],
  DUBAN_WEB_BASE_URL: ['web', 'baseUrl'],
  DUBAN_WEB_SESSION_IDLE_MINUTES: ['web', 'sessionIdleMinutes'],
  DUBAN_WEB_SIGN_IN_LINK_MINUTES: ['web', 'signInLinkMinutes'],
  DUBAN_WEB_MAX_FILE_BYTES: ['web', 'maxFileBytes'],
  DUBAN_WEB_MAX_FILES: ['web', 'maxFiles'],
  DUBAN_EVIDENCE_DIR: ['web', 'evidenceDir'],
  DUBAN_WEB_TLS_CERT_FILE: ['web', 'tlsCertFile'],
  DUBAN_WEB_TLS_KEY_FILE: ['web', 'tlsKeyFile'],
  DUBAN_WEB_TRUST_PROXY: ['web', 'trustProxy'],
  DUBAN_ADMINS: ['web', 'admins'],
  DUBAN_LINK_KEYS: ['links', 'keys'],
  DUBAN_LINK_GRACE_DAYS: ['links', 'graceDays'],
};

export class SettingsError extends Error {}

function setIn(target: Record<string, unknown>, keys: string[], value: unknown) {
  let node = target;
  for (const k of keys.slice(0, -1)) {
    if (typeof node[k] !== 'object' || node[k] === null) node[k] = {};
    node = node[k] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]!] = value;
}

/** The settings name a person would look for: the environment variable, and the key in the config file. */
function settingName(issuePath: PropertyKey[]): string {
  const key = issuePath.map(String).join('.');
  const env = Object.entries(ENVIRONMENT).find(([, p]) => p.join('.') === key)?.[0];
  return env ? `${env} (${key} in the config file)` : key;
}

export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  let raw: Record<string, unknown> = {};
  const file = env.DUBAN_CONFIG;
  if (file) {
    try {
      raw = (parseYaml(readFileSync(file, 'utf8')) as Record<string, unknown>) ?? {};
    } catch (err) {
      throw new SettingsError(`DUBAN_CONFIG ${file}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  for (const [name, keys] of Object.entries(ENVIRONMENT)) {
    const value = env[name];
    if (value !== undefined && value !== '') setIn(raw, keys, value);
  }
  const parsed = settingsSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const where = settingName(i.path);
      if (i.code === 'unrecognized_keys') return `${where ? `${where}: ` : ''}unknown setting${i.keys.length > 1 ? 's' : ''} ${i.keys.join(', ')}`;
      return `${where}: ${i.message}`;
    });
    throw new SettingsError(`invalid settings${file ? ` (${file} and environment)` : ' (environment)'}:\n  ${lines.join('\n  ')}`);
  }
  const settings = parsed.data;
  settings.dataDir = path.resolve(settings.dataDir);
  settings.web.evidenceDir = path.resolve(settings.web.evidenceDir ?? path.join(settings.dataDir, 'evidence'));
  return settings;
}

/** A URL with its password replaced, for logs and messages. */
export function redactUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '(unparseable URL)';
  }
}

/** The settings as they may be logged: secrets replaced. */
export function describeSettings(s: Settings): Record<string, unknown> {
  const redact = (url?: string) => (url ? redactUrl(url) : url);
  return {
    temporal: { address: s.temporal.address, namespace: s.temporal.namespace, taskQueue: s.temporal.taskQueue, tls: s.temporal.tls.enabled || !!s.temporal.apiKey, apiKey: s.temporal.apiKey ? '***' : undefined },
    smtp: s.smtp && { url: redact(s.smtp.url), from: s.smtp.from, requireTls: s.smtp.requireTls },
    database: s.database.url ? redact(s.database.url) : `sqlite:${path.join(s.dataDir, 'ledger.sqlite')}`,
    dataDir: s.dataDir,
    calendar: s.calendar,
    // The key ids only: the keys are secrets.
    links: s.links.keys ? { keyIds: linkKeyIds(s.links.keys), graceDays: s.links.graceDays } : 'off',
  };
}

function linkKeyIds(text: string): string[] {
  return text.split(',').map((p) => p.trim().split(':')[0] ?? '').filter(Boolean);
}

/** The address people open: web.baseUrl, or http(s)://host:port of the web settings. */
export function webBaseUrl(s: Settings, port?: number): string {
  if (s.web.baseUrl) return s.web.baseUrl.replace(/\/+$/, '');
  const scheme = s.web.tlsCertFile ? 'https' : 'http';
  return `${scheme}://${s.web.host.includes(':') ? `[${s.web.host}]` : s.web.host}:${port ?? s.web.port}`;
}

/**
 * The action links of a deployment: the keys parsed (a malformed key stops the process naming the setting), the
 * web's address, the grace. Undefined when no key is configured.
 */
export function linkSettings(s: Settings, port?: number): { keys: LinkKey[]; baseUrl: string; graceMs: number } | undefined {
  if (!s.links.keys) return undefined;
  let keys: LinkKey[];
  try {
    keys = parseLinkKeys(s.links.keys);
  } catch (err) {
    throw new SettingsError(`DUBAN_LINK_KEYS (links.keys in the config file): ${(err as Error).message}`);
  }
  if (!keys.length) return undefined;
  return { keys, baseUrl: webBaseUrl(s, port), graceMs: s.links.graceDays * 86_400_000 };
}

/** "Name <address>" or "address" into its parts. */
export function parseMailbox(text: string): { name: string; address: string } {
  const m = /^\s*(.*?)\s*<([^<>\s]+)>\s*$/.exec(text);
  if (m) return { name: m[1]!.replace(/^"|"$/g, ''), address: m[2]! };
  return { name: '督办系统', address: text.trim() };
}

/** TLS files are read at start so a missing file stops the process with the setting's name. */
export function readSettingFile(setting: string, file: string | undefined): Buffer | undefined {
  if (!file) return undefined;
  try {
    return readFileSync(file);
  } catch (err) {
    throw new SettingsError(`${setting}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** Connection options for Temporal (worker and clients alike): TLS, mutual TLS, API key. */
export async function temporalConnectionOptions(s: Settings) {
  const t = s.temporal;
  const files = {
    ca: readSettingFile('TEMPORAL_TLS_CA_PATH', t.tls.caFile),
    cert: readSettingFile('TEMPORAL_TLS_CLIENT_CERT_PATH', t.tls.certFile),
    key: readSettingFile('TEMPORAL_TLS_CLIENT_KEY_PATH', t.tls.keyFile),
  };
  if (!!files.cert !== !!files.key) throw new SettingsError('TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH go together (mutual TLS)');
  const useTls = t.tls.enabled || !!t.apiKey || !!files.ca || !!files.cert;
  return {
    address: t.address,
    apiKey: t.apiKey,
    tls: useTls
      ? {
          serverNameOverride: t.tls.serverName,
          serverRootCACertificate: files.ca,
          clientCertPair: files.cert && files.key ? { crt: files.cert, key: files.key } : undefined,
        }
      : undefined,
  };
}


/**
 * Where the settings put the ledger: PostgreSQL with DATABASE_URL, else SQLite in the data folder. The worker and
 * every command open it through this, so they all look in the same place.
 */
export function ledgerOptions(s: Settings): { databaseUrl?: string; sqliteFile: string; postgresSsl?: { ca: string }; source: string } {
  return {
    source: s.database.url ? 'DATABASE_URL' : 'DUBAN_DATA_DIR, no DATABASE_URL',
    databaseUrl: s.database.url,
    sqliteFile: path.join(s.dataDir, 'ledger.sqlite'),
    postgresSsl: s.database.caFile ? { ca: readSettingFile('DATABASE_CA_FILE', s.database.caFile)!.toString() } : undefined,
  };
}
