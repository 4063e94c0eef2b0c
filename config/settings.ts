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
import { ClientConfigProfile, loadClientConfig, loadClientConfigProfile } from '@temporalio/envconfig';
import { LinkKey, parseLinkKeys } from '../channels/links';
import { redactUrl } from '../ledger/redact';
import { DEFAULT_TIME_ZONE } from '../domain/model';
import { issueWords } from '../domain/validate';

const bool = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])])
  .transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');
const positiveInt = z.coerce.number().int().positive();
const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:]+\]|[^\s:/]+):\d{1,5}$/, { message: '须为“主机:端口”，如 0.0.0.0:9464' });
const mailbox = z.string().regex(/^\s*(.*?)\s*<([^<>\s@]+@[^<>\s@]+)>\s*$|^[^<>\s@]+@[^<>\s@]+$/, {
  message: '须为邮箱地址，或“名称 <地址>”',
});

export const settingsSchema = z.strictObject({
  /**
   * Temporal's connection comes first from Temporal's own configuration (TOML profiles and TEMPORAL_* variables,
   * resolved by @temporalio/envconfig in loadSettings); these keys of the config file are the last fallback.
   */
  temporal: z
    .strictObject({
      address: z.string().min(1).optional(),
      namespace: z.string().min(1).optional(),
      taskQueue: z.string().min(1).default('duban'),
      /** Temporal Cloud API key; implies TLS. */
      apiKey: z.string().min(1).optional(),
      tls: z
        .strictObject({
          enabled: bool.optional(),
          caFile: z.string().min(1).optional(),
          certFile: z.string().min(1).optional(),
          keyFile: z.string().min(1).optional(),
          serverName: z.string().min(1).optional(),
        })
        .optional(),
    })
    .default({ taskQueue: 'duban' }),
  smtp: z
    .strictObject({
      url: z.string().regex(/^smtps?:\/\/\S+$/, {
        message: '须为 smtp://主机:端口 或 smtps://主机:端口（需要时在主机前加 用户名:密码@）',
      }),
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
      url: z
        .string()
        .regex(/^postgres(ql)?:\/\/\S+$/, { message: '须为 postgres://用户名:密码@主机:端口/数据库' })
        .optional(),
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
      timeZone: z.string().min(1).default(DEFAULT_TIME_ZONE),
      hour: z.coerce.number().int().min(0).max(23).default(9),
    })
    .default({ enabled: true, timeZone: DEFAULT_TIME_ZONE, hour: 9 }),
  worker: z
    .strictObject({
      /** Default: 4 per SMTP connection (worker/factory.ts), so no attempt waits past its timeout. */
      maxConcurrentActivities: positiveInt.optional(),
      /** Default 1000 (worker/factory.ts): bounds the worker's memory; evicted trackers replay a short history. */
      maxCachedWorkflows: positiveInt.optional(),
      /**
       * Frames of workflow code in stack traces: `source` names file and line (workflows/tracker.ts:312), `names`
       * only the function, for less memory in a storm (worker/bundle.ts, docs/performance.md).
       */
      stackTraces: z.enum(['source', 'names']).default('source'),
      /**
       * How long a notice's claim lasts unless renewed (activities/delivery.ts): an attempt that stands still longer
       * loses it to a retry. Default 30; above nodemailer's 20-second socket timeout so one SMTP reply fits a lease.
       */
      sendLeaseSeconds: positiveInt.optional(),
    })
    .default({ stackTraces: 'source' }),
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
      heartbeatUrl: z
        .string()
        .regex(/^https?:\/\/\S+$/, { message: '须为 http:// 或 https:// 网址' })
        .optional(),
      /** How long SMTP may fail before the board shows it to the administrator. */
      smtpAlertAfterSeconds: positiveInt.default(1800),
      /** How often the worker checks whether the SMTP alert is due: it is raised at most this long after the delay. */
      smtpAlertCheckSeconds: positiveInt.default(5),
      /**
       * The operator channel (worker/operator-alert.ts): alerts are POSTed as JSON to this URL, signed with
       * HMAC-SHA256 of `<timestamp>.<body>` under webhookSecret (both secrets: never logged).
       */
      webhookUrl: z
        .string()
        .regex(/^https?:\/\/\S+$/, { message: '须为 http:// 或 https:// 网址' })
        .optional(),
      webhookSecret: z.string().min(16, { message: '须至少16个字符' }).optional(),
      /** A command run by /bin/sh for each alert, the alert as JSON on its standard input. */
      alertCommand: z.string().min(1).optional(),
      /**
       * A group robot as an operator channel, `<kind>:<name>` (wecom, dingtalk or feishu): its key and signing secret
       * are the channel secrets of that name (DUBAN_CHANNEL_<NAME>_KEY / _SECRET, config/channels.ts).
       */
      robot: z
        .string()
        .regex(/^(wecom|dingtalk|feishu):[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, {
          message: '须为“类型:名称”，类型为 wecom、dingtalk 或 feishu，如 wecom:ops-robot',
        })
        .optional(),
    })
    .refine((o) => !o.webhookUrl || o.webhookSecret, {
      message: '设置了 DUBAN_OPERATOR_WEBHOOK_URL 就须有 DUBAN_OPERATOR_WEBHOOK_SECRET（至少16个字符）用于签名',
      path: ['webhookSecret'],
    })
    .default({ metricsRefreshSeconds: 30, smtpAlertAfterSeconds: 1800, smtpAlertCheckSeconds: 5 }),
  /** `duban web` (docs/web.md): the browser service for units, supervising offices and leadership. */
  web: z
    .strictObject({
      host: z.string().min(1).default('127.0.0.1'),
      port: z.coerce.number().int().min(0).max(65535).default(8080),
      /** The address people open, used in sign-in links, e.g. https://duban.example.gov.cn (default: http://host:port). */
      baseUrl: z
        .string()
        .regex(/^https?:\/\/[^\s/]+(\/[^\s]*)?$/, {
          message: '须为 http(s) 网址，如 https://duban.example.gov.cn',
        })
        .optional(),
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
      admins: z
        .preprocess(
          (v) => (typeof v === 'string' ? v.split(/[,;\s]+/).filter(Boolean) : v),
          z.array(z.email({ message: '不是有效的邮箱地址' })),
        )
        .default([]),
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

type ParsedSettings = z.infer<typeof settingsSchema>;

/** A TLS file or its content, and the setting it came from (named in errors). */
export type TlsSource = { setting: string } & ({ path: string } | { data: string });

/** The Temporal connection as resolved from the profile, the TEMPORAL_* variables and the config file. */
export interface TemporalSettings {
  address: string;
  namespace: string;
  taskQueue: string;
  apiKey?: string;
  tls: { enabled: boolean; ca?: TlsSource; cert?: TlsSource; key?: TlsSource; serverName?: string };
  /** gRPC metadata (TEMPORAL_GRPC_META_*, a profile's grpc_meta). */
  metadata?: Record<string, string>;
  /** Where the connection settings came from, for logs and errors: e.g. "profile prod in /etc/duban/temporal.toml + TEMPORAL_* variables". */
  source: string;
  /** The setting that gave the address (TEMPORAL_ADDRESS, a profile's address, ...), named when it cannot be reached. */
  addressFrom: string;
}

export type Settings = Omit<ParsedSettings, 'temporal'> & { temporal: TemporalSettings };

/** Each environment variable and where it goes in the settings. */
export const ENVIRONMENT: Record<string, string[]> = {
  // TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS* and TEMPORAL_PROFILE are Temporal's own
  // (@temporalio/envconfig, resolveTemporal below).
  DUBAN_TASK_QUEUE: ['temporal', 'taskQueue'],
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
  DUBAN_WORKFLOW_STACK_TRACES: ['worker', 'stackTraces'],
  DUBAN_SEND_LEASE_SECONDS: ['worker', 'sendLeaseSeconds'],
  DUBAN_METRICS_ADDRESS: ['operations', 'metricsAddress'],
  DUBAN_METRICS_REFRESH_SECONDS: ['operations', 'metricsRefreshSeconds'],
  DUBAN_HEALTH_ADDRESS: ['operations', 'healthAddress'],
  DUBAN_HEARTBEAT_URL: ['operations', 'heartbeatUrl'],
  DUBAN_SMTP_ALERT_AFTER_SECONDS: ['operations', 'smtpAlertAfterSeconds'],
  DUBAN_SMTP_ALERT_CHECK_SECONDS: ['operations', 'smtpAlertCheckSeconds'],
  DUBAN_OPERATOR_WEBHOOK_URL: ['operations', 'webhookUrl'],
  DUBAN_OPERATOR_WEBHOOK_SECRET: ['operations', 'webhookSecret'],
  DUBAN_OPERATOR_ALERT_COMMAND: ['operations', 'alertCommand'],
  DUBAN_OPERATOR_ROBOT: ['operations', 'robot'],
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

/** A library's message (@temporalio/envconfig speaks English) framed in words; ours pass as they are. */
const inWords = (message: string) =>
  /[\u4e00-\u9fff]/.test(message) ? message : `Temporal 连接设置有误（${message}）`;

/** The settings name a person would look for: the environment variable, and the key in the config file. */
function settingName(issuePath: PropertyKey[]): string {
  const key = issuePath.map(String).join('.');
  const env = Object.entries(ENVIRONMENT).find(([, p]) => p.join('.') === key)?.[0];
  return env ? `${env}（配置文件中的 ${key}）` : key;
}

export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  let raw: Record<string, unknown> = {};
  const file = env.DUBAN_CONFIG;
  if (file) {
    try {
      raw = (parseYaml(readFileSync(file, 'utf8')) as Record<string, unknown>) ?? {};
    } catch (err) {
      throw new SettingsError(
        `DUBAN_CONFIG ${file}：无法读取，或不是有效的 YAML（${(err as Error).message.split('\n')[0]}）`,
      );
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
      if (i.code === 'unrecognized_keys') return `${where ? `${where}：` : ''}未知的设置 ${i.keys.join(', ')}`;
      const value = i.path.reduce<unknown>(
        (v, k) => (v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined),
        raw,
      );
      return `${where}：${issueWords(i, value)}`;
    });
    throw new SettingsError(`设置有误${file ? `（${file} 和环境变量）` : '（环境变量）'}：\n  ${lines.join('\n  ')}`);
  }
  const settings = parsed.data;
  settings.dataDir = path.resolve(settings.dataDir);
  settings.web.evidenceDir = path.resolve(settings.web.evidenceDir ?? path.join(settings.dataDir, 'evidence'));
  return { ...settings, temporal: resolveTemporal(settings.temporal, env, file) };
}

/** The TEMPORAL_* variables @temporalio/envconfig reads (and duban's former name of the CA path). */
export const TEMPORAL_VARIABLES = [
  'TEMPORAL_CONFIG_FILE',
  'TEMPORAL_PROFILE',
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_API_KEY',
  'TEMPORAL_TLS',
  'TEMPORAL_TLS_CLIENT_CERT_PATH',
  'TEMPORAL_TLS_CLIENT_CERT_DATA',
  'TEMPORAL_TLS_CLIENT_KEY_PATH',
  'TEMPORAL_TLS_CLIENT_KEY_DATA',
  'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
  'TEMPORAL_TLS_SERVER_CA_CERT_DATA',
  'TEMPORAL_TLS_SERVER_NAME',
  'TEMPORAL_TLS_CA_PATH',
] as const;

/**
 * Temporal's connection the way the `temporal` CLI and every Temporal SDK resolve it (@temporalio/envconfig): the
 * profile TEMPORAL_PROFILE (default "default") of the TOML file TEMPORAL_CONFIG_FILE (default
 * ~/.config/temporalio/temporal.toml, absent is fine), overridden by the TEMPORAL_* variables; then duban's config
 * file `temporal:` keys for what neither set; then 127.0.0.1:7233, namespace default. Each TLS file keeps the name
 * of the setting it came from, so a missing file is reported by that name.
 */
export function resolveTemporal(
  yaml: ParsedSettings['temporal'],
  env: NodeJS.ProcessEnv,
  dubanConfig?: string,
): TemporalSettings {
  // An empty variable is unset, as for duban's own settings.
  const vars: Record<string, string> = {};
  for (const [k, v] of Object.entries(env))
    if (
      v !== undefined &&
      v !== '' &&
      (k.startsWith('TEMPORAL_') || k === 'HOME' || k === 'XDG_CONFIG_HOME' || k === 'APPDATA')
    )
      vars[k] = v;
  if (vars.TEMPORAL_TLS_CA_PATH && !vars.TEMPORAL_TLS_SERVER_CA_CERT_PATH && !vars.TEMPORAL_TLS_SERVER_CA_CERT_DATA)
    vars.TEMPORAL_TLS_SERVER_CA_CERT_PATH = vars.TEMPORAL_TLS_CA_PATH;
  const profileName = vars.TEMPORAL_PROFILE ?? 'default';
  const configFile = vars.TEMPORAL_CONFIG_FILE ?? defaultTemporalConfigFile(vars);
  const fileLabel = `profile ${profileName} in ${configFile ?? 'the Temporal config file'}`;
  let file: ClientConfigProfile = {};
  let fromFile = false;
  try {
    const all = loadClientConfig({ overrideEnvVars: vars, configFileStrict: true });
    fromFile = all.profiles[profileName] !== undefined;
    if (!fromFile && vars.TEMPORAL_PROFILE)
      throw new Error(`没有配置档 ${profileName}（文件中有：${Object.keys(all.profiles).join(', ') || '无'}）`);
    file = all.profiles[profileName] ?? {};
  } catch (err) {
    const where = vars.TEMPORAL_CONFIG_FILE
      ? `TEMPORAL_CONFIG_FILE ${configFile}`
      : `${configFile}（Temporal 配置文件）`;
    throw new SettingsError(
      `${where}${vars.TEMPORAL_PROFILE ? `，TEMPORAL_PROFILE ${profileName}` : ''}：${inWords((err as Error).message.split('\n')[0]!)}`,
    );
  }
  // The profile with the variables applied, as every Temporal SDK does.
  let merged: ClientConfigProfile;
  try {
    merged = loadClientConfigProfile({ overrideEnvVars: vars, configFileStrict: true });
  } catch (err) {
    throw new SettingsError(
      `Temporal 连接设置（${fileLabel} 和 TEMPORAL_* 环境变量）有误：${(err as Error).message.split('\n')[0]}`,
    );
  }
  const tomlKey = (k: string) => `${k} of ${fileLabel}`;
  const named = (envName: string, fileKey: string, yamlKey: string, inEnv: boolean, inFile: boolean) =>
    inEnv ? envName : inFile ? tomlKey(fileKey) : `${yamlKey} in DUBAN_CONFIG ${dubanConfig ?? ''}`.trim();
  const source = (
    pathVar: string,
    dataVar: string,
    fileKey: string,
    fileSrc: ConfigDataSourceLike | undefined,
    mergedSrc: ConfigDataSourceLike | undefined,
    yamlPath: string | undefined,
    yamlKey: string,
  ): TlsSource | undefined => {
    const setting = vars[pathVar]
      ? pathVar === 'TEMPORAL_TLS_SERVER_CA_CERT_PATH' &&
        env.TEMPORAL_TLS_CA_PATH &&
        !env.TEMPORAL_TLS_SERVER_CA_CERT_PATH
        ? 'TEMPORAL_TLS_CA_PATH'
        : pathVar
      : vars[dataVar]
        ? dataVar
        : fileSrc
          ? tomlKey(`tls.${fileKey}_${'path' in fileSrc ? 'path' : 'data'}`)
          : `${yamlKey} in DUBAN_CONFIG`;
    if (mergedSrc)
      return 'path' in mergedSrc
        ? { setting, path: mergedSrc.path }
        : {
            setting,
            data: typeof mergedSrc.data === 'string' ? mergedSrc.data : Buffer.from(mergedSrc.data).toString('utf8'),
          };
    return yamlPath ? { setting, path: yamlPath } : undefined;
  };
  const t = merged.tls;
  const yt = yaml.tls ?? {};
  const tls = {
    ca: source(
      'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
      'TEMPORAL_TLS_SERVER_CA_CERT_DATA',
      'server_ca_cert',
      file.tls?.serverCACert,
      t?.serverCACert,
      yt.caFile,
      'temporal.tls.caFile',
    ),
    cert: source(
      'TEMPORAL_TLS_CLIENT_CERT_PATH',
      'TEMPORAL_TLS_CLIENT_CERT_DATA',
      'client_cert',
      file.tls?.clientCert,
      t?.clientCert,
      yt.certFile,
      'temporal.tls.certFile',
    ),
    key: source(
      'TEMPORAL_TLS_CLIENT_KEY_PATH',
      'TEMPORAL_TLS_CLIENT_KEY_DATA',
      'client_key',
      file.tls?.clientKey,
      t?.clientKey,
      yt.keyFile,
      'temporal.tls.keyFile',
    ),
    serverName: t?.serverName ?? yt.serverName,
  };
  const apiKey = merged.apiKey ?? yaml.apiKey;
  // TLS is on when asked for, or implied by an API key, a CA or a client certificate, unless a profile or
  // TEMPORAL_TLS=false turns it off.
  const explicit = t?.disabled !== undefined ? !t.disabled : yt.enabled;
  const enabled = explicit ?? (!!apiKey || !!tls.ca || !!tls.cert || !!t);
  const sources = [
    fromFile ? fileLabel : undefined,
    TEMPORAL_VARIABLES.some((v) => vars[v] && v !== 'TEMPORAL_PROFILE' && v !== 'TEMPORAL_CONFIG_FILE')
      ? 'TEMPORAL_* variables'
      : undefined,
    yaml.address || yaml.namespace || yaml.apiKey || yaml.tls ? `DUBAN_CONFIG ${dubanConfig ?? ''}`.trim() : undefined,
  ].filter(Boolean);
  return {
    address: merged.address ?? yaml.address ?? '127.0.0.1:7233',
    namespace: merged.namespace ?? yaml.namespace ?? 'default',
    taskQueue: yaml.taskQueue,
    apiKey,
    tls: { enabled, ...tls },
    metadata: merged.grpcMeta && Object.keys(merged.grpcMeta).length ? merged.grpcMeta : undefined,
    source: sources.length ? sources.join(' + ') : 'defaults',
    addressFrom:
      (merged.address ?? yaml.address)
        ? named('TEMPORAL_ADDRESS', 'address', 'temporal.address', !!vars.TEMPORAL_ADDRESS, !!file.address)
        : 'the default; set TEMPORAL_ADDRESS or a profile',
  };
}

type ConfigDataSourceLike = { path: string } | { data: string | Uint8Array };

function defaultTemporalConfigFile(vars: Record<string, string>): string | undefined {
  if (process.platform === 'win32')
    return vars.APPDATA ? path.join(vars.APPDATA, 'temporalio', 'temporal.toml') : undefined;
  if (process.platform === 'darwin')
    return vars.HOME
      ? path.join(vars.HOME, 'Library', 'Application Support', 'temporalio', 'temporal.toml')
      : undefined;
  const dir = vars.XDG_CONFIG_HOME ?? (vars.HOME ? path.join(vars.HOME, '.config') : undefined);
  return dir ? path.join(dir, 'temporalio', 'temporal.toml') : undefined;
}

/** A URL with its password replaced, for logs and messages (the ledger's one function). */
export { redactUrl };

/** The settings as they may be logged: secrets replaced. */
export function describeSettings(s: Settings): Record<string, unknown> {
  const redact = (url?: string) => (url ? redactUrl(url) : url);
  return {
    temporal: {
      address: s.temporal.address,
      namespace: s.temporal.namespace,
      taskQueue: s.temporal.taskQueue,
      tls: s.temporal.tls.enabled,
      apiKey: s.temporal.apiKey ? '***' : undefined,
      from: s.temporal.source,
    },
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
      smtpAlertCheckSeconds: s.operations.smtpAlertCheckSeconds,
      // The operator channel: a webhook's host only (its path may carry a token), never its secret or the command.
      operatorWebhook: s.operations.webhookUrl ? redactHeartbeatUrl(s.operations.webhookUrl) : undefined,
      operatorCommand: s.operations.alertCommand ? 'set' : undefined,
      // The robot's kind and channel name; its key is a channel secret, never shown.
      operatorRobot: s.operations.robot,
    },
    // The key ids only: the keys are secrets.
    links: s.links.keys ? { keyIds: linkKeyIds(s.links.keys), graceDays: s.links.graceDays } : 'off',
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

function linkKeyIds(text: string): string[] {
  return text
    .split(',')
    .map((p) => p.trim().split(':')[0] ?? '')
    .filter(Boolean);
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
export function linkSettings(
  s: Settings,
  port?: number,
): { keys: LinkKey[]; baseUrl: string; graceMs: number } | undefined {
  if (!s.links.keys) return undefined;
  let keys: LinkKey[];
  try {
    keys = parseLinkKeys(s.links.keys);
  } catch (err) {
    throw new SettingsError(`DUBAN_LINK_KEYS（配置文件中的 links.keys）：${(err as Error).message}`);
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
    throw new SettingsError(
      `${setting}：无法读取 ${file}：${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

function tlsBytes(src: TlsSource | undefined): Buffer | undefined {
  if (!src) return undefined;
  return 'path' in src ? readSettingFile(src.setting, src.path) : Buffer.from(src.data, 'utf8');
}

/**
 * Connection options for Temporal, the one place the worker, the CLI and the web service get them: TLS (a CA,
 * mutual TLS), API key and gRPC metadata as resolved by resolveTemporal. TLS files are read here, so a missing
 * one stops the process naming the setting it came from.
 */
export async function temporalConnectionOptions(s: Settings) {
  const t = s.temporal;
  const ca = tlsBytes(t.tls.ca);
  const cert = tlsBytes(t.tls.cert);
  const key = tlsBytes(t.tls.key);
  if (!!cert !== !!key)
    throw new SettingsError(
      `客户端证书和私钥须同时给出（双向 TLS）：${cert ? `已设置 ${t.tls.cert!.setting}，未设置私钥` : `已设置 ${t.tls.key!.setting}，未设置证书`}`,
    );
  return {
    address: t.address,
    apiKey: t.apiKey,
    metadata: t.metadata,
    tls: t.tls.enabled
      ? {
          serverNameOverride: t.tls.serverName,
          serverRootCACertificate: ca,
          clientCertPair: cert && key ? { crt: cert, key } : undefined,
        }
      : undefined,
  };
}

/**
 * Where the settings put the ledger: PostgreSQL with DATABASE_URL, else SQLite in the data folder. The worker and
 * every command open it through this, so they all look in the same place.
 */
export function ledgerOptions(s: Settings): {
  databaseUrl?: string;
  sqliteFile: string;
  postgresSsl?: { ca: string };
  source: string;
} {
  return {
    source: s.database.url ? 'DATABASE_URL' : 'DUBAN_DATA_DIR, no DATABASE_URL',
    databaseUrl: s.database.url,
    sqliteFile: path.join(s.dataDir, 'ledger.sqlite'),
    postgresSsl: s.database.caFile
      ? { ca: readSettingFile('DATABASE_CA_FILE', s.database.caFile)!.toString() }
      : undefined,
  };
}
