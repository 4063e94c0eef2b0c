/**
 * The words people read for a period's state, in one place: pages, emails, the command line and reports all say
 * the same thing about the same period. Before this, a submitted period waiting for verification read 已办结 on
 * one line and 核实：待核实 on the next, and a returned one could show 已核实; every place now asks here.
 *
 * Pure (no Node built-ins): importable from workflow code and templates alike.
 */
import type { Colour, Outcome } from './tracking';

/** A period label as people read it: 2026年度, 2025—2026年度, 2026年上半年, 2026年第二季度, 2026年5月, 一次性. */
export function periodWords(label: string): string {
  if (label === 'once') return '一次性';
  let m = /^(\d{4})$/.exec(label);
  if (m) return `${m[1]}年度`;
  m = /^(\d{4})-(\d{4})$/.exec(label);
  if (m) return `${m[1]}—${m[2]}年度`;
  m = /^(\d{4})-H([12])$/.exec(label);
  if (m) return `${m[1]}年${m[2] === '1' ? '上' : '下'}半年`;
  m = /^(\d{4})-Q([1-4])$/.exec(label);
  if (m) return `${m[1]}年第${'一二三四'[Number(m[2]) - 1]}季度`;
  m = /^(\d{4})-(\d{2})$/.exec(label);
  if (m) return `${m[1]}年${Number(m[2])}月`;
  return label;
}

/** The board's colours. */
export const COLOUR_WORDS: Record<Colour | 'broken', string> = {
  red: '逾期',
  yellow: '临近截止',
  green: '办理中',
  done: '已办结',
  waived: '已免除',
  broken: '无法排期',
};

/** How a settled period counted. */
export const OUTCOME_WORDS: Record<Outcome, string> = {
  on_time: '按时完成',
  on_time_extended: '延期后按时完成',
  late: '逾期完成',
  missed: '未完成',
  waived: '已免除',
};

/** Where a period's verification (核实) stands; a period's status (domain/requests.ts) carries one. */
export type Verification = 'not required' | 'pending' | 'accepted' | 'returned' | 'not submitted';

/** The verification step on its own (核实). */
export const VERIFICATION_WORDS: Record<Verification, string> = {
  'not required': '无需核实',
  'not submitted': '未报送',
  pending: '待核实',
  accepted: '已核实',
  returned: '已退回',
};

/** What a state's words rest on: the fields of a period's status, or the board's row of it. */
export interface StateFacts {
  colour: Colour | 'broken' | string;
  verification?: Verification | string;
  submitted?: boolean;
}

/**
 * A period's state in words. The colour says done for work that is in; whether it is settled depends on
 * verification: 已报送，待核实 until it is accepted (已核实，已办结), 已退回，待重新报送 after a return (the colour is then
 * red, yellow or green again, never 已核实). An obligation without verification is 已办结 once its work is in.
 */
export function stateWords(f: StateFacts): string {
  if (f.colour === 'broken') return COLOUR_WORDS.broken;
  if (f.colour === 'waived') return COLOUR_WORDS.waived;
  if (f.verification === 'returned') {
    const when = f.colour === 'red' ? '，已逾期' : f.colour === 'yellow' ? '，临近截止' : '';
    return `已退回，待重新报送${when}`;
  }
  if (f.colour === 'done') {
    if (f.verification === 'pending') return '已报送，待核实';
    if (f.verification === 'accepted') return '已核实，已办结';
    return COLOUR_WORDS.done;
  }
  // Past due and not done is what the report counts as 逾期未完成: the same words here.
  if (f.colour === 'red') return '逾期未完成';
  return COLOUR_WORDS[f.colour as Colour] ?? f.colour;
}

/**
 * The light's own word (the first column of `duban status`, a tracker's head line): the colour's word, except that
 * work handed in and not yet verified is 已报送, never 已办结 beside 已报送，待核实.
 */
export function lightWords(f: StateFacts): string {
  if (f.colour === 'done' && f.verification === 'pending') return '已报送';
  return COLOUR_WORDS[f.colour as Colour | 'broken'] ?? f.colour;
}

/** Days to due as people read them: 还剩3天, 今天截止, 已逾期12天; nothing for work that is done or waived. */
export function daysLeftWords(daysLeft: number | undefined, colour: string): string {
  if (daysLeft === undefined || colour === 'done' || colour === 'waived' || colour === 'broken') return '';
  if (daysLeft < 0) return `已逾期${-daysLeft}天`;
  if (daysLeft === 0) return '今天截止';
  return `还剩${daysLeft}天`;
}

/** Notices by stage, and how their sending stands (the ledger's notices). */
export const NOTICE_WORDS: Record<string, string> = {
  reminder: '提醒',
  escalation: '督办',
  urge: '催办',
  raise: '提级督办',
};

/** 提级督办 (DOMAIN.md 26) on the board: the period went up to the office above the unit's office. */
export function raisedWords(officeName: string | undefined): string {
  return officeName ? `已提级督办（${officeName}）` : '已提级督办';
}

/** 协办 (DOMAIN.md 28) on the board: each cooperating unit with whether it acknowledged (签收). */
export function cooperatorWords(cooperators: readonly { name: string; acknowledged: boolean }[]): string {
  return cooperators.length
    ? `协办：${cooperators.map((c) => `${c.name}${c.acknowledged ? '（已签收）' : '（未签收）'}`).join('、')}`
    : '';
}
/**
 * 退回 (DOMAIN.md 27) waiting for the supervising office, as the tracker page and `duban status` say it: who handed
 * the period back, on which local day (YYYY-MM-DD), and why.
 */
export function handBackWords(h: { by: string; reason: string }, day: string): string {
  return `待处理的退回：${h.by}于${day}退回，理由：${h.reason}`;
}

/** 退回 waiting on the board: the row's mark, with who handed it back when the row knows. */
export function handBackPendingWords(by: string | undefined): string {
  return by ? `待处理退回（${by}）` : '待处理退回';
}

/**
 * 转办 (DOMAIN.md 27) in a tracker's record, on both sides: the transferred_out event names the unit the period
 * went to (data.toName, else data.to), the transferred_in event the unit it came from (data.fromName, else data.from).
 * Undefined for any other event, or one without the other unit.
 */
export function transferWords(kind: string, data: Record<string, unknown> | undefined): string | undefined {
  const name = (a: unknown, b: unknown) =>
    typeof a === 'string' && a ? a : typeof b === 'string' && b ? b : undefined;
  if (kind === 'transferred_out') {
    const to = name(data?.toName, data?.to);
    return to ? `转办给${to}` : undefined;
  }
  if (kind === 'transferred_in') {
    const from = name(data?.fromName, data?.from);
    return from ? `由${from}转来` : undefined;
  }
  return undefined;
}

export const NOTICE_STATUS_WORDS: Record<string, string> = {
  sending: '发送中',
  sent: '已发送',
  rejected: '被拒收',
  superseded: '已被后续通知取代',
};
/** A send on a channel beside email (the ledger's channel_sends). */
export const CHANNEL_STATUS_WORDS: Record<string, string> = {
  pending: '待发送',
  sending: '发送中',
  sent: '已发送',
  rejected: '被拒收',
};

// The events' words are the action vocabulary's (domain/actions.ts EVENT_LABELS, eventLabel).

/** A period kind (the catalog's `period:`) in words: “2026-Q5”不是季度期次. */
export const PERIOD_KIND_WORDS: Record<string, string> = {
  year: '年度',
  'half-year': '半年度',
  quarter: '季度',
  month: '月度',
  once: '一次性',
};
