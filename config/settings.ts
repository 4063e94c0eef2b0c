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

const bool = z.union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])]).transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');
const positiveInt = z.coerce.number().int().positive();
const hostPort = z.string().regex(/^(\[[0-9a-fA-F:]+\]|[^\s:/]+):\d{1,5}$/, { message: 'must be host:port, e.g. 0.0.0.0:9464' });
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
  /** Metrics, health and alerts (docs/deployment.md, "Metrics and health"). */
  operations: z
    .strictObject({
      /** host:port of the worker's Prometheus endpoint (/metrics): the SDK's metrics and duban's. Off when absent. */
      metricsAddress: hostPort.optional(),
      /** How often the worker reads the board for the `duban_trackers` gauge. */
      metricsRefreshSeconds: positiveInt.default(30),
      /** host:port of the worker's /healthz and /readyz. Off when absent. */
      healthAddress: hostPort.optional(),
      /** A dead-man's-switch URL (e.g. Healthchecks) pinged after every digest run. A secret: never logged. */
      heartbeatUrl: z.string().regex(/^https?:\/\/\S+$/, { message: 'must be an http:// or https:// URL' }).optional(),
      /** How long SMTP may fail before the board shows it to the administrator. */
      smtpAlertAfterSeconds: positiveInt.default(1800),
    })
    .default({ metricsRefreshSeconds: 30, smtpAlertAfterSeconds: 1800 }),
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
  DUBAN_METRICS_ADDRESS: ['operations', 'metricsAddress'],
  DUBAN_METRICS_REFRESH_SECONDS: ['operations', 'metricsRefreshSeconds'],
  DUBAN_HEALTH_ADDRESS: ['operations', 'healthAddress'],
  DUBAN_HEARTBEAT_URL: ['operations', 'heartbeatUrl'],
  DUBAN_SMTP_ALERT_AFTER_SECONDS: ['operations', 'smtpAlertAfterSeconds'],
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
    operations: {
      metricsAddress: s.operations.metricsAddress,
      healthAddress: s.operations.healthAddress,
      // The URL's path is the secret of a Healthchecks check: only its host is shown.
      heartbeat: s.operations.heartbeatUrl ? redactHeartbeatUrl(s.operations.heartbeatUrl) : undefined,
      smtpAlertAfterSeconds: s.operations.smtpAlertAfterSeconds,
    },
  };
}

/** A dead-man's-switch URL as it may be logged: scheme and host only (its path and query carry the check's key). */
export function redactHeartbeatUrl(raw: string): string {
  try {
    const url = new URL(raw);
    return `${url.protocol}//${url.host}/***`;
  } catch {
    return '(unparseable URL)';
  }
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
