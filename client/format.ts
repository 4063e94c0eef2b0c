/**
 * How the command line prints: columns measured in terminal cells (a CJK character takes two; string-width knows
 * which), colours only on a terminal and never with NO_COLOR (https://no-color.org), so that scripts and pipes get
 * the plain text they always got; the lines of a tracker's status and of the board's counts.
 */
import { createColors } from 'picocolors';
import stringWidth from 'string-width';
import type { TrackerStatus } from '../workflows/messages';
import { handBackWords, lightWords, periodWords, stateWords, transferWords } from '../domain/words';
import { DEFAULT_TIME_ZONE } from '../domain/model';
import { formatLocal } from '../domain/zone';

export type Colours = ReturnType<typeof createColors>;

/** Whether to colour a stream: a terminal, and NO_COLOR absent or empty. */
export function wantsColour(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && !env.NO_COLOR;
}

export function colours(enabled: boolean): Colours {
  return createColors(enabled);
}

/**
 * A board colour in its own colour (broken in magenta: it needs an administrator, not the unit); `text` is what is
 * printed (default: the colour's id).
 */
export function paintColour(c: Colours, colour: string, text: string = colour): string {
  const paint: Record<string, (s: string) => string> = {
    red: c.red,
    yellow: c.yellow,
    green: c.green,
    broken: c.magenta,
    done: c.dim,
    waived: c.dim,
  };
  return (paint[colour] ?? ((s: string) => s))(text);
}

/** Pads to `width` terminal cells (colour codes take none). */
export function padEnd(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - stringWidth(text)));
}

export function padStart(text: string, width: number): string {
  return ' '.repeat(Math.max(0, width - stringWidth(text))) + text;
}

/** Rows as columns two spaces apart; the last column is not padded. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => stringWidth(r[c] ?? ''))));
  return rows
    .map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : padEnd(cell, widths[c]!))).join('  '))
    .join('\n');
}

/** A colour by its Chinese word, painted in it. */
export function colourWord(c: Colours, colour: string, verification?: string): string {
  return paintColour(c, colour, lightWords({ colour, verification }));
}

/** One line per open period, oldest first (overdue periods stay open until done, waived or their ladder ends). */
export function statusLines(
  s: TrackerStatus,
  c: Colours = colours(false),
  /** The zone the day of a 退回 is read in: the catalog's default unless the caller knows the tracker's. */
  zone: string = DEFAULT_TIME_ZONE,
): string[] {
  const percent = s.completion === 'rate' ? '%' : '';
  const head = `${s.trackerId}  ${colourWord(c, s.colour, s.periods.find((p) => p.colour === s.colour)?.verification)}${s.paused ? '，已暂停' : ''}${s.problem ? `  无法排期：${s.problem}` : ''}${s.waitingFor ? `  等待事件${s.waitingFor}确定日期` : ''}`;
  const lines = [head];
  for (const p of s.periods) {
    const figures = p.report
      ? `，已报数据${p.report.numerator !== undefined ? ` ${p.report.numerator}/${p.report.denominator} = ${Math.round(p.report.value * 10) / 10}%` : ` ${p.report.count}`}（${p.report.meets ? '达到' : '低于'}${s.threshold}${percent}）`
      : s.completion === 'rate' || s.completion === 'count'
        ? `，尚未报数据（标准${s.threshold}${percent}）`
        : '';
    const people = p.people
      ? `，${p.people.reached}/${p.people.total}人已达${s.quota}${p.people.short.length ? `（未达：${p.people.short.map((x) => `${x.name}差${x.short}`).join('、')}）` : ''}`
      : '';
    const progress =
      s.completion === 'quota' ? `，已登记${p.recorded}/${s.quota}` : p.submitted ? '' : figures || people;
    const ext = p.pendingExtension ? `，申请延期至${p.pendingExtension.newDue}待审批` : '';
    const due = p.due === p.originalDue ? p.due : `${p.due}（由${p.originalDue}延期）`;
    const ack = p.acknowledged ? `，${p.acknowledged.by}已签收` : '';
    const notes = p.progressCount ? `，反馈进展${p.progressCount}次` : '';
    // 退回 waiting, 转办 under way, or moved here (docs/engine.md): the tracker page's words (domain/words.ts).
    const moves = [
      p.handBack ? `，${handBackWords(p.handBack, formatLocal(p.handBack.at, zone).slice(0, 10))}` : '',
      p.movingTo ? `，正在转办给${p.movingTo}` : '',
      p.movedFrom
        ? `，${transferWords('transferred_in', { from: p.movedFrom.unit, fromName: p.movedFrom.unitName }) ?? ''}`
        : '',
    ].join('');
    // 协办 and 提级督办 (docs/engine.md).
    const cooperation = [
      p.cooperators?.length
        ? `，协办：${p.cooperators.map((x) => `${x.name}${x.acknowledged ? '已签收' : '未签收'}`).join('、')}`
        : '',
      p.raised ? `，已提级督办至${p.raised.officeName}` : '',
    ].join('');
    const state = stateWords({ colour: p.colour, verification: p.verification, submitted: p.submitted });
    lines.push(
      `  ${periodWords(p.period)}  截止${due}  ${paintColour(c, p.colour, state)}${progress}${ext}${ack}${notes}${moves}${cooperation}`,
    );
  }
  return lines;
}

/** The board's first part: counts by colour per unit. */
export function unitCountLines(
  units: { unit: string; red: number; yellow: number; green: number; done: number; waived: number }[],
): string[] {
  const lines = [
    `${padEnd('单位', 12)} ${padStart('逾期', 4)} ${padStart('临近', 7)} ${padStart('办理中', 6)} ${padStart('办结', 5)} ${padStart('免除', 7)}`,
  ];
  for (const u of units) {
    lines.push(
      `${padEnd(u.unit, 12)} ${padStart(String(u.red), 4)} ${padStart(String(u.yellow), 7)} ${padStart(String(u.green), 6)} ${padStart(String(u.done), 5)} ${padStart(String(u.waived), 7)}`,
    );
  }
  const total = (k: 'red' | 'yellow' | 'green' | 'done' | 'waived') => String(units.reduce((n, u) => n + u[k], 0));
  if (units.length > 1)
    lines.push(
      `${padEnd('合计', 12)} ${padStart(total('red'), 4)} ${padStart(total('yellow'), 7)} ${padStart(total('green'), 6)} ${padStart(total('done'), 5)} ${padStart(total('waived'), 7)}`,
    );
  return lines;
}
