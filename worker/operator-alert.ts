/**
 * Telling operators what email cannot (issue 21.2): when SMTP takes nothing, the people who would read an email
 * alert are exactly the ones it cannot reach. The worker sends each alert (SMTP taking nothing, `kind: 'smtp'`; a
 * channel beside email broken, `kind: 'channel.broken'`, issue 22.4), and its clearing, through the operator
 * channels the settings name:
 * - a generic webhook (DUBAN_OPERATOR_WEBHOOK_URL): a POST of the alert as JSON, signed with HMAC-SHA256 under
 *   DUBAN_OPERATOR_WEBHOOK_SECRET: header `X-Duban-Timestamp` (seconds since 1970) and `X-Duban-Signature`
 *   (`sha256=` and the hex HMAC of `<timestamp>.<body>`); a receiver checks the signature and refuses old
 *   timestamps (replays);
 * - a group robot of 企业微信, 钉钉 or 飞书 (DUBAN_OPERATOR_ROBOT=<kind>:<name>): the alert's text as one message,
 *   through the same transport as the notices (channels/), its key and signing secret the channel secrets of that
 *   name. It is sent outside the ledger's rate-limit slots (alerts are rare): give the operators a robot of their
 *   own, not one the directory names for notices;
 * - a command (DUBAN_OPERATOR_ALERT_COMMAND), run by /bin/sh with the alert as JSON on its standard input: a
 *   script that texts the on-call person, writes to syslog, or calls a provider's CLI.
 * Delivery is best effort with a few retries: the ledger's alert (the board, `duban status`) and the log are the
 * record; a channel's failure is logged.
 */
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import type { ChannelBrokenAlert } from '../activities/channels';
import type { RobotMessage } from '../channels/compose';
import { sendDingtalk } from '../channels/dingtalk';
import { sendFeishu } from '../channels/feishu';
import type { SendAnswer } from '../channels/transport';
import { sendWecom } from '../channels/wecom';
import { ChannelEndpoints, ChannelSecret, missingSecret } from '../config/channels';
import type { Settings } from '../config/settings';
import { SettingsError, redactHeartbeatUrl } from '../config/settings';

/** What an operator channel receives. English keys for scripts; `text` is what a person reads (Chinese). */
export interface OperatorAlert {
  /** The alert's kind: `smtp`, or `channel.broken`. */
  kind: string;
  state: 'raised' | 'cleared';
  /** Since when the problem lasts (ISO 8601). */
  since: string;
  /** When this alert was raised or cleared (ISO 8601). */
  at: string;
  /** The deployment's task queue, so one receiver can tell several deployments apart. */
  taskQueue: string;
  /** The administrator's explanation (what is wrong, which setting to check). */
  message: string;
  /** One line for a person: 【督办系统告警】… */
  text: string;
  /** `channel.broken`: the channel of the directory that is broken (or works again). */
  channel?: { name: string; kind: string };
  /** `channel.broken`: the provider's answer, or the missing setting (never a secret); empty when cleared. */
  reason?: string;
}

/** One way to reach operators: the webhook, a group robot, a command. */
export interface OperatorChannel {
  /** For logs: never a secret (a webhook is named by its host). */
  readonly name: string;
  send(alert: OperatorAlert): Promise<void>;
}

/** The header value of a webhook body signed at `timestamp` (seconds): `sha256=<hex>`. */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export function webhookChannel(url: string, secret: string, timeoutMs = 10_000): OperatorChannel {
  return {
    name: `webhook ${redactHeartbeatUrl(url)}`,
    async send(alert) {
      const body = JSON.stringify(alert);
      const timestamp = String(Math.floor(Date.now() / 1000));
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'x-duban-timestamp': timestamp,
          'x-duban-signature': webhookSignature(secret, timestamp, body),
        },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      // The body is drained either way, so the connection is free for the next alert.
      const answer = (await res.text()).slice(0, 200);
      if (!res.ok) throw new Error(`the webhook answered ${res.status}${answer ? `: ${answer}` : ''}`);
    },
  };
}

export function commandChannel(command: string, timeoutMs = 30_000): OperatorChannel {
  return {
    name: 'command (DUBAN_OPERATOR_ALERT_COMMAND)',
    send(alert) {
      return new Promise<void>((resolve, reject) => {
        const child = spawn('/bin/sh', ['-c', command], { stdio: ['pipe', 'ignore', 'pipe'], timeout: timeoutMs });
        let stderr = '';
        child.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString('utf8')).slice(-500)));
        child.on('error', reject);
        child.on('close', (code, signal) =>
          code === 0
            ? resolve()
            : reject(
                new Error(
                  `the alert command ${signal ? `was killed (${signal})` : `exited with ${code}`}${stderr ? `: ${stderr.trim()}` : ''}`,
                ),
              ),
        );
        // A command that does not read its input must not fail the write with EPIPE before its exit is known.
        child.stdin!.on('error', () => undefined);
        child.stdin!.end(`${JSON.stringify(alert)}\n`);
      });
    },
  };
}

/** A channel broke or works again (activities/channels.ts), as the operator channels receive it. */
export function channelBrokenAlert(a: ChannelBrokenAlert, taskQueue: string): OperatorAlert {
  const what = `Channel ${a.channel.name} (${a.channel.kind})`;
  return {
    kind: 'channel.broken',
    state: a.state,
    since: new Date(a.since).toISOString(),
    at: new Date(a.at).toISOString(),
    taskQueue,
    message:
      a.state === 'raised'
        ? `${what} is broken: ${a.reason}. Its messages are kept and tried again hourly and at the next worker start; fix its settings (docs/channels.md).`
        : `${what} works again; its kept messages are being sent.`,
    text: a.text,
    channel: a.channel,
    reason: a.reason,
  };
}

export type OperatorRobotKind = 'wecom' | 'dingtalk' | 'feishu';

/** The alert as one robot message: a title with 督办 in it (钉钉's keyword), its Chinese text. */
export function operatorRobotMessage(alert: OperatorAlert): RobotMessage {
  return {
    title: alert.state === 'raised' ? '【督办系统告警】' : '【督办系统告警解除】',
    lines: [[{ text: alert.text.replace(/^【督办系统告警(解除)?】/, '') }]],
    keys: [],
    mentionMobiles: [],
  };
}

/** A group robot as an operator channel, through the notices' transports; any refusal is a failed send. */
export function robotChannel(
  kind: OperatorRobotKind,
  name: string,
  secret: ChannelSecret,
  endpoints: ChannelEndpoints = {},
  now: () => number = Date.now,
): OperatorChannel {
  return {
    name: `${kind} robot ${name}`,
    async send(alert) {
      const m = operatorRobotMessage(alert);
      let answer: SendAnswer;
      if (kind === 'wecom') answer = await sendWecom({ key: secret.key!, url: endpoints.wecom }, m);
      else if (kind === 'dingtalk')
        answer = await sendDingtalk({ key: secret.key!, secret: secret.secret, url: endpoints.dingtalk, now }, m);
      else answer = await sendFeishu({ key: secret.key!, secret: secret.secret, url: endpoints.feishu, now }, m);
      if (!answer.ok) throw new Error(`the ${kind} robot ${name} refused the alert: ${answer.response}`);
    },
  };
}

/** What a robot operator channel needs beside the settings: the channel secrets and the providers' addresses. */
export interface OperatorRobotDeps {
  secrets: (name: string) => ChannelSecret;
  endpoints?: ChannelEndpoints;
}

/**
 * The channels the settings name (none: the board, /readyz and the log only). A robot named without its key in
 * the channel secrets stops the worker at start, naming the setting to set.
 */
export function operatorChannels(ops: Settings['operations'], robot?: OperatorRobotDeps): OperatorChannel[] {
  const channels: OperatorChannel[] = [];
  if (ops.webhookUrl && ops.webhookSecret) channels.push(webhookChannel(ops.webhookUrl, ops.webhookSecret));
  if (ops.robot) {
    const [kind, name] = ops.robot.split(':') as [OperatorRobotKind, string];
    const secret = robot?.secrets(name) ?? {};
    const missing = missingSecret({ name, kind }, secret);
    if (missing) throw new SettingsError(`运维告警机器人 DUBAN_OPERATOR_ROBOT=${ops.robot}：${missing}`);
    channels.push(robotChannel(kind, name, secret, robot?.endpoints));
  }
  if (ops.alertCommand) channels.push(commandChannel(ops.alertCommand));
  return channels;
}

export interface AlertLog {
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
}

/**
 * Sends an alert through every channel, each tried up to `attempts` times (1 s, 2 s, … apart). Resolves when all
 * are done; never rejects (a failure is logged, the ledger's alert stands).
 */
export async function notifyOperators(
  channels: OperatorChannel[],
  alert: OperatorAlert,
  log: AlertLog,
  attempts = 3,
  backoffMs = 1_000,
): Promise<void> {
  await Promise.all(
    channels.map(async (channel) => {
      for (let attempt = 1; ; attempt++) {
        try {
          await channel.send(alert);
          log.info('operator alert sent', { channel: channel.name, kind: alert.kind, state: alert.state });
          return;
        } catch (err) {
          if (attempt >= attempts) {
            log.warn('operator alert could not be sent; it stands on the board and in /readyz', {
              channel: channel.name,
              kind: alert.kind,
              state: alert.state,
              error: err instanceof Error ? err.message : String(err),
              attempts,
            });
            return;
          }
          await new Promise((r) => setTimeout(r, backoffMs * 2 ** (attempt - 1)));
        }
      }
    }),
  );
}
