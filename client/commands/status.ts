/**
 * What the service knows: the board (status) and one tracker's timeline (show), from the ledger; `show` adds
 * the tracker's live status from Temporal when it can be reached.
 */
import { supervisionNumberText } from '../../domain/tracking';
import { Command, Option } from 'commander';
import { boardStates } from '../../access/board';
import { namedJurisdiction } from '../../access/levels';
import { latestSnapshot } from '../../access/registered';
import { jurisdictionTree, unitsBeneath } from '../../domain/jurisdictions';
import { UnreachableError } from '../../access/temporal';
import { openLedger } from '../../access/ledger';
import { loadSettings } from '../../config/settings';
import { localDay } from '../../domain/zone';
import type { TrackerStatus } from '../../workflows/messages';
import { InputError } from '../errors';
import { colourWord, colours, padEnd, statusLines, unitCountLines } from '../format';
import {
  CHANNEL_STATUS_WORDS,
  NOTICE_STATUS_WORDS,
  NOTICE_WORDS,
  OUTCOME_WORDS,
  cooperatorWords,
  daysLeftWords,
  handBackPendingWords,
  raisedWords,
  periodWords,
  stateWords,
  transferWords,
} from '../../domain/words';
import { Io, withDuban } from './common';
import { trackerId } from '../../domain/trackers';
import { eventLabel } from '../../domain/actions';

/** A board row: its due instant and the zone of its tracker, in which "today" and the days left are counted. */
export interface BoardEntry {
  trackerId: string;
  unit?: string;
  colour?: string;
  dueAt?: number;
  zone: string;
  /** Verification of the period's work, read with the colour (domain/words.ts stateWords). */
  verification?: string;
}

const COLOUR_ORDER: Record<string, number> = { broken: -1, red: 0, yellow: 1, green: 2, done: 3, waived: 4 };

/** The board: most urgent first (colour, then days left), and the counts by colour per unit. */
export function board<T extends BoardEntry>(items: T[], now: number) {
  const rows = items.map((t) => ({
    ...t,
    daysLeft: t.dueAt === undefined ? undefined : localDay(t.dueAt, t.zone) - localDay(now, t.zone),
  }));
  rows.sort(
    (a, b) =>
      (COLOUR_ORDER[a.colour ?? ''] ?? 9) - (COLOUR_ORDER[b.colour ?? ''] ?? 9) ||
      (a.daysLeft ?? 0) - (b.daysLeft ?? 0) ||
      (a.trackerId < b.trackerId ? -1 : 1),
  );
  type Counts = { red: number; yellow: number; green: number; done: number; waived: number };
  const units = new Map<string, Counts>();
  for (const r of rows) {
    const counts = units.get(r.unit ?? '?') ?? { red: 0, yellow: 0, green: 0, done: 0, waived: 0 };
    const colour = (r.colour ?? 'green') as keyof Counts;
    if (colour in counts) counts[colour]++;
    units.set(r.unit ?? '?', counts);
  }
  return {
    units: [...units.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([unit, counts]) => ({ unit, ...counts })),
    items: rows,
  };
}

export function addStatusCommands(program: Command, io: Io) {
  program
    .command('status')
    .description('亮灯看板：先列各单位各颜色的数量，再列各期次，最紧急的在前')
    .option('--unit <id>', '只看此单位')
    .option('--obligation <id>', '只看此任务')
    .addOption(
      new Option('--colour <colour>', '只看此颜色').choices(['red', 'yellow', 'green', 'done', 'waived', 'broken']),
    )
    .option('--jurisdiction <id>', '只看此辖区及其下级辖区（多级单位名录；root 为整个名录）')
    .option('--json', '一个 JSON 对象：{ units: [...], items: [...] }')
    .addHelpText(
      'after',
      '\n示例：\n  duban status\n  duban status --unit sfj --colour red --json\n  duban status --jurisdiction county-b',
    )
    .action(
      async (opts: { unit?: string; obligation?: string; colour?: string; jurisdiction?: string; json?: boolean }) => {
        // The board is one query on the ledger, where every tracker keeps its current row: fast on thousands.
        const ledger = await openLedger(loadSettings());
        const [allItems, alerts, directory] = await Promise.all([
          // Open periods, the periods done or waived this year, broken trackers (with the reason they cannot plan).
          boardStates(ledger, { unit: opts.unit, obligation: opts.obligation, colour: opts.colour }),
          // Problems the workers raised (SMTP taking nothing, docs/deployment.md): said first, never hidden.
          ledger.openAlerts(),
          // Levels: the jurisdictions come from the directory as registered.
          latestSnapshot(ledger).then((s) => s?.directory),
        ]).finally(() => ledger.close());
        const jurisdiction = levelsOf(directory, opts.jurisdiction);
        const items = jurisdiction ? allItems.filter((i) => jurisdiction.units.has(i.unit)) : allItems;
        // A broken tracker has no due date to count down to.
        const b = board(
          items.map((i) => (i.colour === 'broken' ? { ...i, due: undefined, dueAt: undefined } : i)),
          Date.now(),
        );
        if (opts.json) {
          io.out(
            `${JSON.stringify({ ...(alerts.length ? { alerts: alerts.map((a) => ({ kind: a.kind, since: new Date(a.since).toISOString(), message: a.message })) } : {}), ...(jurisdiction ? { jurisdiction: { id: jurisdiction.id, name: jurisdiction.path } } : {}), units: b.units, items: b.items.map((i) => ({ tracker: i.trackerId, obligation: i.obligation, unit: i.unit, period: i.period, colour: i.colour, due: i.dueAt === undefined ? undefined : new Date(i.dueAt).toISOString(), daysLeft: i.daysLeft, acknowledged: i.acknowledged, problem: i.problem, ...(i.cooperators ? { cooperators: i.cooperators.map((x) => ({ unit: x.unit, acknowledged: x.acknowledgedAt !== undefined })) } : {}), ...(i.raisedTo ? { raisedTo: i.raisedTo } : {}), ...(i.handBackBy ? { handBackBy: i.handBackBy } : {}) })) })}\n`,
          );
          return;
        }
        const c = colours(io.colour);
        const warnings = alerts.map((a) =>
          c.red(`警告（${a.kind}，自${new Date(a.since).toISOString()}起）：${a.message}`),
        );
        const lines = [
          ...(warnings.length ? [...warnings, ''] : []),
          ...(jurisdiction ? [`辖区：${jurisdiction.path}`, ''] : []),
          ...(directory ? childLines(directory, jurisdiction?.id ?? 'root', b.units) : []),
          ...unitCountLines(b.units),
          '',
        ];
        for (const i of b.items) {
          // One mapping from state to words (domain/words.ts): work that is in has no days left to count.
          const state = i.problem
            ? `无法排期：${i.problem}`
            : stateWords({ colour: i.colour ?? 'green', verification: i.verification });
          const when = daysLeftWords(i.daysLeft, i.colour ?? '');
          const ack = i.acknowledged === false && (i.colour === 'yellow' || i.colour === 'red') ? '  未签收' : '';
          // 协办 and 提级督办: the cooperating units (by id) with their 签收, and the office a period was raised to.
          const coop = i.cooperators?.length
            ? `  ${cooperatorWords(i.cooperators.map((x) => ({ name: x.unit, acknowledged: x.acknowledgedAt !== undefined })))}`
            : '';
          const raised = i.raisedTo ? `  ${raisedWords(i.raisedTo)}` : '';
          // 退回 waiting for the office (DOMAIN.md 27): the same mark as the web board's.
          const handBack = i.handBackBy ? `  ${handBackPendingWords(i.handBackBy)}` : '';
          lines.push(
            `${padEnd(colourWord(c, i.colour ?? '', i.verification), 10)} ${padEnd(i.trackerId, 40)} ${padEnd(periodWords(i.period), 16)} 截止${i.due ?? '?'}  ${state}${when ? `  ${when}` : ''}${ack}${coop}${raised}${handBack}`,
          );
        }
        lines.push('', `共${b.items.length}个期次（开放中的，以及本年度已办结或免除的）`);
        io.out(`${lines.join('\n')}\n`);
      },
    );

  program
    .command('show')
    .description('督办任务在台账中的时间线：已发通知（含 Message-ID）、办理和结果')
    .argument('<obligation>', '任务编号')
    .argument('<unit>', '单位编号')
    .option('--json', '一个 JSON 对象：{ tracker, status, outcomes, notices, events, channels }')
    .addHelpText('after', '\n示例：\n  duban show annual-report-dept sfj')
    .action(async (obligation: string, unit: string, opts: { json?: boolean }) => {
      const id = trackerId(obligation, unit);
      // The ledger is the record; Temporal only adds the current status, and its absence is said, not hidden.
      const ledger = await openLedger(loadSettings());
      try {
        const [notices, events, outcomes, sends] = await Promise.all([
          ledger.notices({ trackerId: id }),
          ledger.events({ trackerId: id }),
          ledger.outcomes({ trackerId: id }),
          ledger.channels.rows({ trackerId: id }),
        ]);
        // What went on the channels beside email (docs/channels.md): per send its channel, answer and attempts.
        const channels = sends.map((r) => ({
          notice: r.notice_key,
          channel: r.channel,
          kind: r.kind,
          ...(r.target ? { to: r.target } : {}),
          status: r.status,
          attempts: r.attempts,
          answer: r.response,
          at: r.sent_at ?? r.created_at,
        }));
        let status: TrackerStatus | undefined;
        let unreachable: string | undefined;
        try {
          status = await withDuban((d) => d.status(id)).catch((err: unknown) => {
            if (err instanceof UnreachableError) throw err;
            return undefined;
          });
        } catch (err) {
          unreachable = (err as Error).message;
        }
        if (!status && notices.length + events.length + outcomes.length + sends.length === 0) {
          if (unreachable) throw new UnreachableError(`${unreachable}；台账中也没有${id}的记录`);
          throw new InputError(`没有督办任务${id}：既未运行，台账中也没有记录`);
        }
        if (opts.json)
          return io.out(`${JSON.stringify({ tracker: id, status, outcomes, notices, events, channels })}\n`);
        const lines: string[] = [`${id}`];
        if (status?.problem) lines.push(`无法排期：${status.problem}（请修正任务清单后运行 duban register）`);
        if (status)
          lines.push(
            ...statusLines(status, colours(io.colour))
              .slice(1)
              .map((l) => `当前：${l}`),
          );
        else {
          const [row] = await ledger.trackerStates({ trackerId: id });
          if (row?.problem) lines.push(`无法排期：${row.problem}（请修正任务清单后运行 duban register）`);
        }
        if (unreachable) lines.push(`当前状态未知（${unreachable}）；以下为台账记录`);
        for (const o of outcomes)
          lines.push(
            `${periodWords(o.period)}：${OUTCOME_WORDS[o.outcome as keyof typeof OUTCOME_WORDS] ?? o.outcome}（截止${o.original_due}${o.due !== o.original_due ? `，延期至${o.due}` : ''}）`,
          );
        const timeline = [
          ...notices.map((n) => ({
            at: n.fired_at ?? n.planned_at,
            text: `${NOTICE_WORDS[n.stage] ?? n.stage}${n.stage === 'escalation' ? `${n.level}级` : ''} ${NOTICE_STATUS_WORDS[n.status] ?? n.status} ${n.message_id}${n.supervision_no ? ` ${supervisionNumberText(Number(n.supervision_year), Number(n.supervision_no))}` : ''} 收件 ${JSON.parse(n.recipients_to).join(',')}`,
          })),
          ...events.map((e) => ({
            at: e.at,
            text: `${eventLabel(e.kind)}（${e.kind}）${eventMove(e)}${e.actor ? ` 办理人 ${e.actor}` : ''}${e.data ? ` ${e.data}` : ''}`,
          })),
          ...channels.map((c) => ({
            at: c.at,
            text: `渠道 ${c.channel}（${c.kind}${c.to ? `，发往 ${c.to}` : ''}）${CHANNEL_STATUS_WORDS[c.status] ?? c.status}，尝试${c.attempts}次${c.answer ? `：${c.answer}` : ''}，通知 ${c.notice}`,
          })),
        ].sort((a, b) => a.at - b.at);
        for (const t of timeline) lines.push(`${new Date(t.at).toISOString()}  ${t.text}`);
        io.out(`${lines.join('\n')}\n`);
      } finally {
        await ledger.close();
      }
    });
}

// ---- Levels (issue 24) --------------------------------------------------------------------------------------

/** The jurisdiction asked for, checked against the registered directory; undefined when none was asked for. */
function levelsOf(directory: import('../../domain/model').Directory | undefined, id: string | undefined) {
  if (id === undefined) return undefined;
  if (!directory)
    throw new InputError('台账中还没有登记的单位名录（duban register 或 duban start 登记后才能按辖区查看）');
  const j = namedJurisdiction(directory, id);
  if ('error' in j) throw new InputError(j.error);
  return j;
}

/** A directory of levels: the totals of each jurisdiction directly beneath the one shown, before the units. */
function childLines(
  directory: import('../../domain/model').Directory,
  jurisdiction: string,
  units: { unit: string; red: number; yellow: number; green: number; done: number; waived: number }[],
): string[] {
  const tree = jurisdictionTree(directory);
  const children = tree.nodes.get(jurisdiction)?.children ?? [];
  if (!tree.nested || children.length === 0) return [];
  const byUnit = new Map(units.map((u) => [u.unit, u]));
  const rows = children.map((id) => {
    const sum = { unit: tree.nodes.get(id)!.name, red: 0, yellow: 0, green: 0, done: 0, waived: 0 };
    for (const u of unitsBeneath(tree, id)) {
      const c = byUnit.get(u);
      if (!c) continue;
      for (const k of ['red', 'yellow', 'green', 'done', 'waived'] as const) sum[k] += c[k];
    }
    return sum;
  });
  return [
    '下级辖区（含其下各级）',
    ...unitCountLines(rows).map((l, i) => (i === 0 ? l.replace(/^单位/, '辖区') : l)),
    '',
  ];
}

/** 转办 in `duban show`'s record: the other unit in words (转办给…, 由…转来), as on the tracker page; else nothing. */
function eventMove(e: { kind: string; data?: string | null }): string {
  if (!e.data) return '';
  try {
    const words = transferWords(e.kind, JSON.parse(e.data) as Record<string, unknown>);
    return words ? ` ${words}` : '';
  } catch {
    return '';
  }
}
