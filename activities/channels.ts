/**
 * The channels beside email (docs/channels.md), in two halves:
 * - `enqueueChannels`, the tracker's step after its email (a local activity): the notice's rows in the ledger,
 *   one per (notice, channel), or per (notice, mobile) for SMS. Keyed, so a retried or replayed step adds nothing;
 *   once it returns, the notice will go out on every channel whatever happens to this worker.
 * - `ChannelDispatcher`, a loop in every worker: for each channel with rows due, claims them in the ledger (a
 *   lease, and a slot of the robot's rate limit reserved across all workers), merges a robot's rows into one
 *   message that fits its size limit, signs the recipient's links, sends through the channel's transport, and
 *   records the answer. A transient answer is backed off and retried, never dropped; a permanent one marks the
 *   channel broken (rows kept, tried again hourly and at the next worker start), told to the operator by the log,
 *   an alert in the ledger (`duban status`, the board, `/readyz`) and, when configured, an email and a
 *   `channel.broken` alert through the operator channels (worker/operator-alert.ts: the webhook, a robot, a
 *   command); its recovery is told the same ways. Other channels go on.
 *
 * The email step's exactly-once logic (delivery.ts) is untouched: a failure here never holds back or repeats an
 * email, and a channel's failure never another channel's row.
 */
import type { Transporter } from 'nodemailer';
import {
  ChannelItem,
  RobotMessage,
  WEBHOOK_SCHEMA,
  WebhookEvent,
  WebhookEventType,
  mergeItems,
  noticeEvent,
  smsParams,
} from '../channels/compose';
import { dingtalkFits, DINGTALK_LIMITS, sendDingtalk } from '../channels/dingtalk';
import { feishuFits, FEISHU_LIMITS, sendFeishu } from '../channels/feishu';
import { sendAliyunSms } from '../channels/sms-aliyun';
import type { RobotLimits, SendAnswer } from '../channels/transport';
import { sendWebhook } from '../channels/webhook';
import { sendWecom, WECOM_LIMITS, wecomFits } from '../channels/wecom';
import type { ChannelEndpoints, ChannelSecret } from '../config/channels';
import { missingSecret } from '../config/channels';
import { noticeKey, PlannedNotice } from '../domain/planner';
import type { ChannelKind } from '../domain/model';
import type { ChannelRef, TrackerDefinition } from '../domain/trackers';
import type { Ledger, LedgerWrite } from '../ledger';
import { CHANNEL_PROBE_MS, ChannelSendInsert, ChannelSendRow } from '../ledger/channel-sends';
import { LinkClaims, LinkKey, signLink } from '../channels/links';
import { CHANNEL_KIND_LABEL, brokenChannelText } from '../channels/broken';
import { LinkAction, actionLabel, linkActionsFor } from '../domain/actions';
import { StandIn, routeToStandIns } from '../domain/stand-ins';

export interface ChannelRequest {
  definition: TrackerDefinition;
  notice: PlannedNotice;
  period: { label: string; due: string; dueAt: number; endsAt?: number };
  firedAt: number;
}

/** What a row keeps to say: the item without links, the links' claims (signed at send time), mentions. */
export interface StoredItem {
  /** A webhook event that is not a notice (a submission, a period turned red): sent as it is. */
  event?: WebhookEvent;
  /** The channel as the directory named it when the notice fell due (its kind, SMS sign and template, URL). */
  channel: ChannelRef;
  item: Omit<ChannelItem, 'links'>;
  links: { label: string; action: LinkAction; claims: LinkClaims }[];
  mentions: string[];
}

/**
 * The links of one recipient, as the email's (activities/index.ts recipientLinks): the unit's staff may act, anyone
 * else may view; valid until the ladder ends plus the grace. 代办: a stand-in (`standsFor`) gets the absent person's
 * actions, bound to the stand-in's own name and address, saying for whom (`onBehalfOf`), as the email's links do.
 */
function linkClaims(
  t: TrackerDefinition,
  email: string,
  period: ChannelRequest['period'],
  now: number,
  graceMs: number,
  standsFor?: StandIn,
): StoredItem['links'] {
  if (period.endsAt === undefined) return [];
  const staff = [t.unit.head, t.unit.liaison, ...t.unit.deputies];
  const person =
    staff.find((c) => c.email === email) ??
    [t.supervisor.liaison, t.supervisor.head, ...t.leadership].find((c) => c.email === email);
  const ofUnit = staff.some((c) => c.email === (standsFor?.absent.email ?? email));
  // The email's rule (domain/actions.ts linkActionsFor): the unit's staff act, anyone else views.
  const actions = linkActionsFor(ofUnit, t.obligation.completion, now <= period.dueAt);
  const claims: LinkClaims = {
    trackerId: t.trackerId,
    period: period.label,
    email,
    name: standsFor?.standIn.name ?? person?.name ?? email,
    actions,
    expiresAt: period.endsAt + graceMs,
    ...(standsFor ? { onBehalfOf: { name: standsFor.absent.name, email: standsFor.absent.email } } : {}),
  };
  return actions.map((a) => ({ label: actionLabel(a), action: a, claims }));
}

/** The step's routes: which of the tracker's channels a notice of this stage and level uses. */
function routesOf(t: TrackerDefinition, n: PlannedNotice) {
  const steps = t.channels!.steps;
  if (n.stage === 'reminder') return steps.reminders;
  // 提级督办: the routes of the 督办单 (level 2); the office above is reached by email.
  if (n.stage === 'raise') return steps.level2;
  return n.level <= 1 ? steps.level1 : n.level === 2 ? steps.level2 : steps.level3;
}

/**
 * The mobiles of the notice's recipients that the directory knows. A stand-in from outside the tracker's people
 * brings their mobile along (enqueueChannels reads it from the registered directory).
 */
function mobilesOf(t: TrackerDefinition, emails: string[], behalf: ReadonlyMap<string, StandIn>): string[] {
  const people = [t.unit.head, t.unit.liaison, ...t.unit.deputies, t.supervisor.head, t.supervisor.liaison];
  const leaders = t.leadership as { email: string; mobile?: string }[];
  const out: string[] = [];
  for (const e of emails) {
    const m = [...people, ...leaders].find((p) => p.email === e)?.mobile ?? behalf.get(e)?.standIn.mobile;
    if (m && !out.includes(m)) out.push(m);
  }
  return out;
}

/**
 * The rows of one notice: pure, so the tests see exactly what a step adds. 代办: `standIns` are the ranges the
 * email's delivery reads (activities/index.ts), with the day the notice goes out; the same routing
 * (domain/stand-ins.ts routeToStandIns) sends the SMS to the stand-in's mobile and binds a robot's links to the
 * stand-in, for the absent person.
 */
export function channelRows(
  req: ChannelRequest,
  o: {
    graceMs: number;
    supervisionNumber?: string;
    links: boolean;
    standIns?: { list: readonly StandIn[]; day: string };
  },
): ChannelSendInsert[] {
  const t = req.definition;
  const n = req.notice;
  if (!t.channels) return [];
  const route = (to: readonly string[]) =>
    routeToStandIns({ to, cc: [] }, o.standIns?.list ?? [], o.standIns?.day ?? '');
  const rcpt = route(n.to);
  const key = noticeKey(n);
  const base: StoredItem['item'] = {
    key,
    obligationTitle: t.obligation.title,
    unitName: t.unit.name,
    period: req.period.label,
    due: req.period.due,
    stage: n.stage === 'escalation' || n.stage === 'raise' ? n.stage : 'reminder',
    level: n.level,
    step: n.step,
    ...(o.supervisionNumber ? { supervisionNumber: o.supervisionNumber } : {}),
  };
  const rows: ChannelSendInsert[] = [];
  const add = (c: ChannelRef, target: string, stored: StoredItem) =>
    rows.push({
      sendKey: `${key}#${c.name}${target ? `:${target}` : ''}`,
      noticeKey: key,
      channel: c.name,
      kind: c.kind,
      target,
      trackerId: t.trackerId,
      period: req.period.label,
      item: JSON.stringify(stored),
    });
  const seen = new Set<string>();
  for (const r of routesOf(t, n)) {
    if (r === 'sms') {
      if (!t.channels.sms) continue;
      const sms = t.channels.sms;
      for (const m of mobilesOf(t, rcpt.to, rcpt.behalf))
        add(sms, m, { channel: sms, item: base, links: [], mentions: [] });
      continue;
    }
    // The unit's robot carries the unit's links (bound to the notice's first recipient, as its email, or to their
    // stand-in); an office's or the leadership's robot a link to view.
    const wanted = r === 'unit' ? n.to[0] : r === 'office' ? t.supervisor.liaison.email : t.leadership[0]?.email;
    const bound = wanted ? route([wanted]) : undefined;
    const linkFor = bound?.to[0];
    for (const c of t.channels[r]) {
      if (seen.has(c.name)) continue;
      seen.add(c.name);
      const links =
        o.links && linkFor
          ? linkClaims(t, linkFor, req.period, req.firedAt, o.graceMs, bound?.behalf.get(linkFor))
          : [];
      const mentions =
        c.mention && (n.stage === 'escalation' || n.stage === 'raise') ? mobilesOf(t, rcpt.to, rcpt.behalf) : [];
      add(c, '', { channel: c, item: base, links, mentions });
    }
  }
  return rows;
}

/** The tracker events a webhook hears of, by the ledger's event kind. */
const EVENT_TYPES: Partial<Record<string, WebhookEventType>> = {
  submission: 'period.submitted',
  verification_accepted: 'period.verified',
  verification_returned: 'period.returned',
  extension_approved: 'extension.decided',
  extension_rejected: 'extension.decided',
  waived: 'period.waived',
};

/**
 * A ledger write's webhook rows: its events of the kinds above and its newly red periods, one row per (event,
 * webhook), keyed by the event's own key, so a repeated write adds nothing.
 */
export function webhookEventRows(write: LedgerWrite): ChannelSendInsert[] {
  const hooks = write.webhooks;
  if (!hooks || hooks.channels.length === 0) return [];
  const events: { key: string; period: string; event: WebhookEvent }[] = [];
  const base = (period: string) => ({
    trackerId: write.trackerId,
    obligationTitle: hooks.obligationTitle,
    unitName: hooks.unitName,
    period,
  });
  for (const e of write.events) {
    const type = EVENT_TYPES[e.kind];
    if (!type) continue;
    events.push({
      key: e.eventKey,
      period: e.period,
      event: {
        schema: WEBHOOK_SCHEMA,
        id: `event/${e.eventKey}`,
        type,
        occurredAt: new Date(e.at).toISOString(),
        data: {
          ...base(e.period),
          ...(type === 'extension.decided' ? { approved: e.kind === 'extension_approved' } : {}),
          ...(e.actor ? { actor: e.actor } : {}),
          ...(e.data ? { details: e.data } : {}),
        },
      },
    });
  }
  for (const r of write.red)
    events.push({
      key: `red/${r.itemKey}`,
      period: r.period,
      event: {
        schema: WEBHOOK_SCHEMA,
        id: `red/${r.itemKey}`,
        type: 'period.red',
        occurredAt: new Date(r.turnedRedAt).toISOString(),
        data: { ...base(r.period), due: r.due },
      },
    });
  return events.flatMap((e) =>
    hooks.channels.map((c) => ({
      sendKey: `${e.key}#${c.name}`,
      noticeKey: e.key,
      channel: c.name,
      kind: 'webhook',
      target: '',
      trackerId: write.trackerId,
      period: e.period,
      item: JSON.stringify({
        channel: c,
        event: e.event,
        item: {
          key: e.key,
          obligationTitle: hooks.obligationTitle,
          unitName: hooks.unitName,
          period: e.period,
          due: '',
          stage: 'reminder',
          level: 0,
          step: 0,
        },
        links: [],
        mentions: [],
      } satisfies StoredItem),
    })),
  );
}

export interface ChannelDeps {
  ledger: Ledger;
  links?: { keys: LinkKey[]; baseUrl: string; graceMs: number };
  secrets: (name: string) => ChannelSecret;
  endpoints?: ChannelEndpoints;
  log: {
    info(m: string, meta?: object): void;
    warn(m: string, meta?: object): void;
    error(m: string, meta?: object): void;
  };
  /** Tells the operator a channel broke or works again (an email); failures only warn. */
  notifyOperator?: (subject: string, text: string) => Promise<void>;
  /**
   * Tells the operator channels (worker/operator-alert.ts: the signed webhook, a robot, a command) that a channel
   * broke (`raised`) or works again (`cleared`): the `channel.broken` alert. Called once per change, by the worker
   * whose ledger write made it; a failure only warns.
   */
  alertOperators?: (alert: ChannelBrokenAlert) => Promise<void>;
  now?: () => number;
  /** How long rows wait for others of the same instant before a robot's message goes (merging). */
  settleMs?: number;
  /** How many rows one claim takes at most. */
  batch?: number;
  /** How often the loop looks for work when there is nothing due (it also wakes when rows are added here). */
  pollMs?: number;
}

export const ROBOT_LIMITS: Record<'wecom' | 'dingtalk' | 'feishu', RobotLimits> = {
  wecom: WECOM_LIMITS,
  dingtalk: DINGTALK_LIMITS,
  feishu: FEISHU_LIMITS,
};
const FITS: Record<'wecom' | 'dingtalk' | 'feishu', (m: RobotMessage) => boolean> = {
  wecom: wecomFits,
  dingtalk: dingtalkFits,
  feishu: feishuFits,
};
/** The operator alert of a broken channel (ledger operator_alerts, printed by `duban status`). */
export const channelAlert = (name: string) => `channel/${name}`;

/** A channel broke, or works again: what the operator channels are told (`kind: 'channel.broken'`). */
export interface ChannelBrokenAlert {
  state: 'raised' | 'cleared';
  channel: { name: string; kind: ChannelKind };
  /** The provider's answer, or the missing setting; never a secret. */
  reason: string;
  /** Since when the channel is broken. */
  since: number;
  at: number;
  /** One Chinese sentence for a person: which channel, why, what to fix. */
  text: string;
}

const isRobot = (k: ChannelKind): k is 'wecom' | 'dingtalk' | 'feishu' =>
  k === 'wecom' || k === 'dingtalk' || k === 'feishu';

export class ChannelDispatcher {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  /** The loop runs between start() and stop(); tick() and drain() may be called without it (tests, benches). */
  private looping = false;
  private stopped = false;
  private kicked = false;
  /** Counts for tests and the bench: messages sent, rows they carried, answers by kind. */
  readonly stats = { messages: 0, rows: 0, transient: 0, permanent: 0 };

  constructor(private readonly d: ChannelDeps) {}

  private now(): number {
    return (this.d.now ?? Date.now)();
  }

  /** Starts the loop; broken channels are tried again at once (the settings may have been fixed). */
  async start(): Promise<void> {
    this.stopped = false;
    this.looping = true;
    await this.d.ledger.channels.retryBroken(this.now());
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.looping = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    await this.settled();
  }

  /** Wakes the loop (rows were just added). */
  kick(): void {
    this.kicked = true;
    if (this.looping && !this.running) this.schedule(this.d.settleMs ?? 1_000);
  }

  private schedule(ms: number): void {
    if (!this.looping) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.tick()
        .catch((err: unknown) =>
          this.d.log.warn('channel dispatcher: a round failed; trying again', { error: msg(err) }),
        )
        .then((next) => {
          this.running = undefined;
          // At most pollMs: rows another worker added (and could not send: it died) are found within it.
          const poll = this.d.pollMs ?? 5_000;
          this.schedule(this.kicked ? 0 : Math.max(50, Math.min(next ?? poll, poll)));
          this.kicked = false;
        });
    }, ms);
    this.timer.unref?.();
  }

  /** One round: every channel with work due gets its claims; returns how long to sleep. */
  async tick(): Promise<number | undefined> {
    const now = this.now();
    const channels = await this.d.ledger.channels.due(now);
    if (channels.length === 0) {
      const next = await this.d.ledger.channels.nextDue();
      return next === undefined ? undefined : Math.max(0, next - this.now());
    }
    // The channels that still have work say when they can go on (a rate slot, a backoff, rows settling): the
    // loop sleeps until the soonest of those, not polling the ledger while a robot waits for its minute.
    let soonest = Infinity;
    await Promise.all(
      channels.map(async (name) => {
        const at = await this.drain(name);
        soonest = Math.min(soonest, at ?? this.now() + (this.d.settleMs ?? 1_000));
      }),
    );
    return Math.max(0, soonest - this.now());
  }

  /** Sends what one channel has due, as long as its limits allow; returns when to come back. */
  async drain(name: string): Promise<number | undefined> {
    for (let rounds = 0; rounds < 50 && !this.stopped; rounds++) {
      const r = await this.sendOne(name);
      if (r !== 'sent') return r;
    }
    return this.now();
  }

  /** One claim of one channel and its message. */
  async sendOne(name: string): Promise<'sent' | number | undefined> {
    // The channel as its latest row names it (rows carry their channel's directory entry, never its secret).
    const sends = this.d.ledger.channels;
    const now = this.now();
    const ref = await sends.channelOf<ChannelRef>(name);
    if (!ref) return undefined;
    const secret = this.d.secrets(name);
    const missing = missingSecret(ref, secret);
    if (missing) {
      await this.broken(name, ref.kind, missing, now);
      await sends.defer(name, now + CHANNEL_PROBE_MS);
      return now + CHANNEL_PROBE_MS;
    }
    const robot = isRobot(ref.kind) ? ref.kind : undefined;
    const claim = await sends.claim(name, now, {
      // A robot's rows merge into one message; an SMS or a webhook event goes one at a time.
      max: robot ? (this.d.batch ?? 50) : 1,
      limits: robot ? ROBOT_LIMITS[robot] : undefined,
      settleMs: robot ? (this.d.settleMs ?? 1_000) : 0,
    });
    if (claim.state === 'wait') return claim.at;
    const stored = claim.rows.map((r) => ({ row: r, s: JSON.parse(r.item) as StoredItem }));
    let answer: SendAnswer;
    let carried: ChannelSendRow[] = claim.rows;
    try {
      if (robot) {
        const items = stored.map(({ s }) => this.itemOf(s));
        const mentions = [...new Set(stored.flatMap(({ s }) => s.mentions))];
        const [first] = mergeItems(items, FITS[robot], mentions);
        const inFirst = new Set(first!.keys);
        const rest = claim.rows.filter((r) => !inFirst.has(JSON.parse(r.item).item.key));
        // What did not fit goes in the next message, claimed again with its own slot.
        if (rest.length)
          await sends.unclaim(
            claim.batchKey,
            rest.map((r) => r.send_key),
          );
        carried = claim.rows.filter((r) => !rest.includes(r));
        answer = await this.sendRobot(robot, secret, first!);
      } else if (ref.kind === 'sms') {
        const { row, s } = stored[0]!;
        answer = await sendAliyunSms(
          {
            accessKeyId: secret.key!,
            accessKeySecret: secret.secret!,
            signName: ref.signName ?? '',
            templateCode: ref.templateCode ?? '',
            url: this.d.endpoints?.aliyun,
            now: () => this.now(),
          },
          row.target,
          smsParams(this.itemOf(s)),
        );
      } else {
        const { row, s } = stored[0]!;
        answer = await sendWebhook(
          { url: ref.url ?? '', secret: secret.secret!, now: () => this.now() },
          s.event ?? noticeEvent(this.itemOf(s), row.created_at, row.tracker_id),
        );
      }
    } catch (err) {
      answer = { ok: false, transient: true, retryAfterMs: 60_000, response: `failed before sending: ${msg(err)}` };
    }
    const at = this.now();
    if (answer.ok) {
      await sends.finish(claim.batchKey, 'sent', answer.response, at);
      this.stats.messages++;
      this.stats.rows += carried.length;
      if (await sends.markWorking(name, at)) await this.recovered(name, ref.kind, at);
      return 'sent';
    }
    if (answer.transient) {
      this.stats.transient++;
      const retryAt = at + answer.retryAfterMs;
      // A "too fast" answer holds the whole robot back, not only these rows.
      await sends.retry(claim.batchKey, answer.response, retryAt, name, robot ? retryAt : undefined);
      this.d.log.warn('channel send refused for now; retried later', {
        channel: name,
        kind: ref.kind,
        rows: carried.length,
        retryInSeconds: Math.round(answer.retryAfterMs / 1000),
        answer: answer.response,
      });
      return retryAt;
    }
    this.stats.permanent++;
    if (!answer.channel) {
      await sends.finish(claim.batchKey, 'rejected', answer.response, at);
      this.d.log.warn('channel refused one message for good (its target)', {
        channel: name,
        kind: ref.kind,
        answer: answer.response,
      });
      return 'sent';
    }
    await sends.retry(claim.batchKey, answer.response, at + CHANNEL_PROBE_MS);
    await this.broken(name, ref.kind, answer.response, at);
    return at + CHANNEL_PROBE_MS;
  }

  private async sendRobot(kind: 'wecom' | 'dingtalk' | 'feishu', s: ChannelSecret, m: RobotMessage) {
    const e = this.d.endpoints ?? {};
    const now = () => this.now();
    if (kind === 'wecom') return sendWecom({ key: s.key!, url: e.wecom }, m);
    if (kind === 'dingtalk') return sendDingtalk({ key: s.key!, secret: s.secret, url: e.dingtalk, now }, m);
    return sendFeishu({ key: s.key!, secret: s.secret, url: e.feishu, now }, m);
  }

  /** The item with its links signed now (never stored signed). */
  private itemOf(s: StoredItem): ChannelItem {
    const cfg = this.d.links;
    const base = cfg?.baseUrl.replace(/\/+$/, '');
    const links =
      cfg && cfg.keys.length
        ? s.links.map((l) => ({ label: l.label, url: `${base}/a/${signLink(l.claims, cfg.keys)}/${l.action}` }))
        : [];
    return { ...s.item, links };
  }

  /** The first worker to mark a channel broken tells everyone: log, ledger alert, email, operator channels. */
  private async broken(name: string, kind: ChannelKind, reason: string, now: number): Promise<void> {
    const first = await this.d.ledger.channels.markBroken(name, reason, now, now + CHANNEL_PROBE_MS).catch(() => false);
    if (!first) return;
    const text = `渠道 ${name} 发送失败且不会自行恢复：${reason}。其消息均已保留，每小时及下次启动 worker 时重试；请修正其设置（见 docs/channels.md）。`;
    this.d.log.error('channel is broken: its messages are kept until it is fixed', { channel: name, reason });
    await this.d.ledger.raiseAlert(channelAlert(name), text, now, now).catch(() => undefined);
    const zh = brokenChannelText(name, kind, reason);
    await this.tell(`督办渠道故障：${name}`, `${zh}\n（见 docs/channels.md）`);
    this.alert({
      state: 'raised',
      channel: { name, kind },
      reason,
      since: now,
      at: now,
      text: `【督办系统告警】${zh}`,
    });
  }

  /** A broken channel took a message: the alert cleared, and everyone told once. */
  private async recovered(name: string, kind: ChannelKind, at: number): Promise<void> {
    const open = await this.d.ledger.openAlerts().catch(() => []);
    const since = open.find((a) => a.kind === channelAlert(name))?.since ?? at;
    await this.d.ledger.clearAlert(channelAlert(name), at).catch(() => undefined);
    this.d.log.info('channel works again', { channel: name, kind });
    await this.tell(
      `督办渠道已恢复：${name}`,
      `${CHANNEL_KIND_LABEL[kind]}渠道 ${name} 已恢复发送，积压的消息将陆续发出。`,
    );
    this.alert({
      state: 'cleared',
      channel: { name, kind },
      reason: '',
      since,
      at,
      text: `【督办系统告警解除】${CHANNEL_KIND_LABEL[kind]}渠道 ${name} 已恢复发送，保留的消息正在补发。`,
    });
  }

  /** Alerts still being sent through the operator channels (their retries take seconds: the loop goes on). */
  private readonly alerting = new Set<Promise<void>>();

  private alert(a: ChannelBrokenAlert): void {
    if (!this.d.alertOperators) return;
    const p = this.d
      .alertOperators(a)
      .catch((err: unknown) => this.d.log.warn('could not alert the operator channels', { error: msg(err) }))
      .finally(() => this.alerting.delete(p));
    this.alerting.add(p);
  }

  /** Resolves when the operator alerts sent so far are done (tests, a worker stopping). */
  async settled(): Promise<void> {
    await Promise.all([...this.alerting]);
  }

  private async tell(subject: string, text: string): Promise<void> {
    if (!this.d.notifyOperator) return;
    await this.d
      .notifyOperator(subject, text)
      .catch((err: unknown) => this.d.log.warn('could not email the operator about a channel', { error: msg(err) }));
  }
}

function msg(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** An operator email through the worker's SMTP transport (DUBAN_OPERATOR_EMAIL). */
export function operatorMailer(transport: Transporter, from: { name: string; address: string }, to: string) {
  return async (subject: string, text: string) => {
    await transport.sendMail({ from, to, subject, text });
  };
}
