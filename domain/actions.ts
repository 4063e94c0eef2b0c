/**
 * The action vocabulary (DOMAIN.md 21): every action a person takes on a tracker, its Chinese label and who may
 * take it, and the Chinese label of every ledger event kind. The tracker's Updates (domain/requests.ts), the
 * client module, the web's roles and forms, the emails' signed links and the CLI all read this one list.
 *
 * Two rules decide what a person is offered, and both the emails' links and the web page's forms go through them:
 * `actionsFor` (who may: the unit's staff, the supervising office, administrators) and `offeredActions` (what
 * applies now: the obligation's kind of completion, the period's state).
 */
import { type CompletionKind, DEFAULT_TIME_ZONE } from './model';
import { formatLocal } from './zone';
import type { EventKind } from './period-state';
import type { RequestName } from './requests';
import { cooperatorMay } from './cooperation';

/** Who takes an action: the unit's head, liaison and deputies; the supervising office's staff; administrators. */
export type ActorRole = 'unit' | 'office' | 'admin';

/** Every request a person makes (`updateDefinition` is the registration's, not a person's). */
export type Action = Exclude<RequestName, 'updateDefinition'>;

export interface ActionSpec {
  /** What pages, emails and the CLI call it. */
  label: string;
  by: ActorRole;
}

/**
 * In the order pages show them. `satisfies` makes a missing action a compile error; test/domain/actions.test.ts
 * checks the same at run time.
 */
export const ACTIONS = {
  acknowledge: { label: '签收', by: 'unit' },
  progress: { label: '反馈进展', by: 'unit' },
  submit: { label: '报送材料', by: 'unit' },
  record: { label: '登记活动', by: 'unit' },
  report: { label: '报送数据', by: 'unit' },
  requestExtension: { label: '申请延期', by: 'unit' },
  handBack: { label: '退回', by: 'unit' },
  verify: { label: '核实', by: 'office' },
  decideExtension: { label: '审批延期', by: 'office' },
  waive: { label: '免除', by: 'office' },
  urge: { label: '催办', by: 'office' },
  transfer: { label: '转办', by: 'office' },
  refuseHandBack: { label: '不同意退回', by: 'office' },
  pause: { label: '暂停', by: 'admin' },
  resume: { label: '恢复', by: 'admin' },
  retire: { label: '停用', by: 'admin' },
} as const satisfies Record<Action, ActionSpec>;

type ActionsBy<R extends ActorRole> = {
  [A in Action]: (typeof ACTIONS)[A]['by'] extends R ? A : never;
}[Action];
export type UnitAction = ActionsBy<'unit'>;
export type OfficeAction = ActionsBy<'office'>;
export type AdminAction = ActionsBy<'admin'>;

export const ALL_ACTIONS = Object.keys(ACTIONS) as Action[];
const by = <R extends ActorRole>(role: R) => ALL_ACTIONS.filter((a) => ACTIONS[a].by === role) as ActionsBy<R>[];
export const UNIT_ACTIONS: readonly UnitAction[] = by('unit');
export const OFFICE_ACTIONS: readonly OfficeAction[] = by('office');
export const ADMIN_ACTIONS: readonly AdminAction[] = by('admin');

export function isAction(name: string): name is Action {
  return Object.prototype.hasOwnProperty.call(ACTIONS, name);
}

/** What a signed link in a notice may carry: the unit's actions, and `view` (always included). */
export type LinkAction = 'view' | UnitAction;
export const LINK_ACTIONS: readonly LinkAction[] = ['view', ...UNIT_ACTIONS];

export function isLinkAction(name: string): name is LinkAction {
  return (LINK_ACTIONS as readonly string[]).includes(name);
}

export function actionLabel(a: Action | LinkAction): string {
  return a === 'view' ? '查看' : ACTIONS[a].label;
}

/** A person's standing on one tracker's unit. */
export interface Standing {
  /** The unit's head, liaison or a deputy. */
  ofUnit: boolean;
  /** Staff of the unit's supervising office. */
  supervises: boolean;
  admin: boolean;
  /** Staff of a cooperating unit of the tracker (协办, DOMAIN.md 28), not of the lead unit itself. */
  cooperates?: boolean;
}

/** Who may: the actions a person with this standing may take on a tracker (DOMAIN.md 21, 28). */
export function actionsFor(s: Standing): Action[] {
  return ALL_ACTIONS.filter((a) => {
    const role = ACTIONS[a].by;
    if (role === 'unit') return s.ofUnit || (s.cooperates === true && cooperatorMay(a));
    return role === 'office' ? s.supervises : s.admin;
  });
}

// --- 协办 (DOMAIN.md 28) ----------------------------------------------------------------------------------------

/**
 * What a cooperating unit (协办) may do on the lead's tracker (domain/cooperation.ts): 签收 and 反馈进展. The tracker
 * refuses the rest (cooperatorRefusal); the web's forms and the emails' links offer only these (actionsFor), so
 * one rule decides both.
 */
export { COOPERATOR_ACTIONS, cooperatorMay, cooperatorRefusal } from './cooperation';

/**
 * What a reader knows of the tracker when it offers actions. An email knows the obligation and the due date; the
 * web page knows the tracker's live status too. What is not known is not held against an action.
 */
export interface Situation {
  completion?: CompletionKind;
  /** False once the period is past due (an email's link to ask for more time is then left out). */
  beforeDue?: boolean;
  /** Whether the obligation's submissions are verified by the supervising office. */
  verification?: boolean;
  /** The open periods as the tracker reports them; undefined when not known (an email). */
  open?: readonly {
    acknowledged?: unknown;
    submitted: boolean;
    verification: string;
    pendingExtension?: unknown;
    /** The period's board colour; 催办 applies to red (overdue) periods only. */
    colour?: string;
    /** The period's last 催办: the next may be sent from `nextFrom` (one a working day). */
    lastUrge?: { at: number; by: string; nextFrom: number };
    /** A 退回 waiting for the supervising office. */
    handBack?: unknown;
    /** 协办: the cooperating units and their 签收. */
    cooperators?: readonly { unit: string; acknowledged?: unknown }[];
  }[];
  paused?: boolean;
  /** 协办: the cooperating unit the reader acts for (its own 签收 counts, not the lead's). */
  cooperator?: string;
  /** The reader's clock and zone, to tell whether a 催办 was sent today (and from when the next may go). */
  now?: number;
  timeZone?: string;
}

/** An action offered, or shown disabled with the reason it cannot apply now. */
export interface Offer {
  action: Action;
  /** Why it cannot apply now (Chinese, shown beside the disabled form); undefined when it can. */
  unavailable?: string;
}

/** How the unit completes its work: record events (quota, per person), report figures (rate, count), or submit. */
export function workAction(completion: CompletionKind | undefined): 'submit' | 'record' | 'report' {
  if (completion === 'quota' || completion === 'per-person') return 'record';
  if (completion === 'rate' || completion === 'count') return 'report';
  return 'submit';
}

/**
 * What applies now, of the actions a person may take: the work action of the obligation's kind only, an extension
 * only before due (when known), verification only where it is required, deciding an extension only when one is
 * pending, pause or resume as the tracker stands. Actions that belong but cannot apply now (签收 twice, 核实 before
 * anything was submitted, anything with no open period) come back with the reason, for the page to show disabled.
 */
export function offeredActions(allowed: readonly Action[], s: Situation): Offer[] {
  const work = workAction(s.completion);
  const open = s.open;
  const offers: Offer[] = [];
  for (const action of allowed) {
    if ((action === 'submit' || action === 'record' || action === 'report') && action !== work) continue;
    if (action === 'requestExtension' && s.beforeDue === false) continue;
    if (action === 'verify' && s.verification === false) continue;
    if (action === 'decideExtension' && !(open ?? []).some((p) => p.pendingExtension)) continue;
    // 不同意退回 answers a 退回: offered only when one waits (an email knows nothing of it).
    if (action === 'refuseHandBack' && !(open ?? []).some((p) => p.handBack)) continue;
    if (action === 'pause' && s.paused === true) continue;
    if (action === 'resume' && s.paused !== true) continue;
    offers.push({ action, unavailable: open ? unavailable(action, open, s) : undefined });
  }
  return offers;
}

function unavailable(action: Action, open: NonNullable<Situation['open']>, s: Situation): string | undefined {
  const periodAction = ACTIONS[action].by !== 'admin' && action !== 'decideExtension';
  if (periodAction && open.length === 0) return '当前没有未办结的期次';
  if (action === 'acknowledge' && s.cooperator !== undefined) {
    const own = (p: (typeof open)[number]) => p.cooperators?.find((c) => c.unit === s.cooperator)?.acknowledged;
    if (open.every(own)) return '本单位（协办）本期已签收';
  } else if (action === 'acknowledge' && open.every((p) => p.acknowledged)) return '本期已签收';
  if (action === 'verify' && !open.some((p) => p.submitted && p.verification === 'pending'))
    return '尚未报送材料，无需核实';
  if (action === 'urge') {
    const red = open.filter((p) => p.colour === 'red' && !p.submitted);
    if (red.length === 0) return '没有逾期未办结的期次，无需催办';
    // The tracker refuses a second 催办 the same working day: the page says so before the click.
    const now = s.now;
    if (now !== undefined && red.every((p) => p.lastUrge && now < p.lastUrge.nextFrom)) {
      const next = Math.min(...red.map((p) => p.lastUrge!.nextFrom));
      const day = (ms: number) => formatLocal(ms, s.timeZone ?? DEFAULT_TIME_ZONE).slice(0, 10);
      const last = red.find((p) => p.lastUrge)!.lastUrge!;
      const when = day(last.at) === day(now) ? '今日已催办' : `已于${day(last.at)}催办`;
      return `${when}（${last.by}），每个工作日最多催办一次；${day(next)}起可再次催办`;
    }
  }
  if ((action === 'handBack' || action === 'transfer') && open.every((p) => p.submitted))
    return '已报送的期次不能退回或转办';
  if (action === 'handBack' && open.every((p) => p.handBack)) return '已退回，等待督察单位处理';
  return undefined;
}

/** The Chinese label of every ledger event kind: pages show these, never the raw kind. */
export const EVENT_LABELS = {
  period_opened: '期次开始',
  submission: '报送',
  quota_event: '登记活动',
  verification_accepted: '核实通过',
  verification_returned: '退回重办',
  extension_requested: '申请延期',
  extension_approved: '批准延期',
  extension_rejected: '驳回延期',
  waived: '免除',
  acknowledged: '签收',
  progress: '反馈进展',
  report: '报送数据',
  paused: '暂停',
  resumed: '恢复',
  definition_updated: '任务定义更新',
  planning_failed: '无法排期',
  retired: '停用',
  outcome: '期次结果',
  urged: '催办',
  handed_back: '退回',
  hand_back_refused: '不同意退回',
  transfer_started: '转办',
  transferred_out: '已转出',
  transferred_in: '转入',
} as const satisfies Record<EventKind, string>;

export function eventLabel(kind: string): string {
  return (EVENT_LABELS as Record<string, string>)[kind] ?? kind;
}

/**
 * The actions a signed link in a notice carries for one recipient (DOMAIN.md 22): the unit's staff get what they
 * may take and what applies now (the same rule as the web page's forms), everyone else a link to view. Email and
 * chat messages both take their links from here.
 */
export function linkActionsFor(
  ofUnit: boolean,
  completion: CompletionKind | undefined,
  beforeDue: boolean,
  /** A cooperating unit's staff (协办): 签收 and 反馈进展 only. */
  cooperates = false,
): LinkAction[] {
  const offered = offeredActions(actionsFor({ ofUnit, supervises: false, admin: false, cooperates }), {
    completion,
    beforeDue,
  });
  return [...offered.map((o): string => o.action).filter(isLinkAction), 'view'];
}
