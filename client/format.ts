/**
 * How the command line prints: columns measured in terminal cells (a CJK character takes two; string-width knows
 * which), colours only on a terminal and never with NO_COLOR (https://no-color.org), so that scripts and pipes get
 * the plain text they always got; the lines of a tracker's status and of the board's counts.
 */
import { createColors } from 'picocolors';
import stringWidth from 'string-width';
import type { TrackerStatus } from '../workflows/messages';

export type Colours = ReturnType<typeof createColors>;

/** Whether to colour a stream: a terminal, and NO_COLOR absent or empty. */
export function wantsColour(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && !env.NO_COLOR;
}

export function colours(enabled: boolean): Colours {
  return createColors(enabled);
}

/** A board colour in its own colour (broken in magenta: it needs an administrator, not the unit). */
export function paintColour(c: Colours, colour: string): string {
  const paint: Record<string, (s: string) => string> = {
    red: c.red,
    yellow: c.yellow,
    green: c.green,
    broken: c.magenta,
    done: c.dim,
    waived: c.dim,
  };
  return (paint[colour] ?? ((s: string) => s))(colour);
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

/** One line per open period, oldest first (overdue periods stay open until done, waived or their ladder ends). */
export function statusLines(s: TrackerStatus, c: Colours = colours(false)): string[] {
  const head = `${s.trackerId}  ${paintColour(c, s.colour)}${s.paused ? ', paused' : ''}${s.problem ? `  cannot plan: ${s.problem}` : ''}${s.waitingFor ? `  waiting for event ${s.waitingFor} to have a date` : ''}`;
  const lines = [head];
  for (const p of s.periods) {
    const figures = p.report
      ? `, reported ${p.report.numerator !== undefined ? `${p.report.numerator}/${p.report.denominator} = ${Math.round(p.report.value * 10) / 10}%` : p.report.count} (${p.report.meets ? 'meets' : 'below'} ${s.threshold}${s.completion === 'rate' ? '%' : ''})`
      : s.completion === 'rate' || s.completion === 'count'
        ? `, no figures yet (threshold ${s.threshold}${s.completion === 'rate' ? '%' : ''})`
        : '';
    const people = p.people
      ? `, ${p.people.reached}/${p.people.total} reached ${s.quota}${p.people.short.length ? ` (short: ${p.people.short.map((x) => `${x.name} ${x.short}`).join(', ')})` : ''}`
      : '';
    const progress =
      s.completion === 'quota'
        ? `, ${p.recorded}/${s.quota} recorded`
        : p.submitted
          ? ', submitted'
          : figures || people;
    const ext = p.pendingExtension ? `, extension to ${p.pendingExtension.newDue} pending` : '';
    const due = p.due === p.originalDue ? p.due : `${p.due} (extended from ${p.originalDue})`;
    const ack = p.acknowledged ? `, acknowledged by ${p.acknowledged.by}` : '';
    const notes = p.progressCount ? `, ${p.progressCount} progress note${p.progressCount > 1 ? 's' : ''}` : '';
    // 退回 waiting, 转办 under way, or moved here (docs/engine.md).
    const moves = [
      p.handBack ? `, handed back by ${p.handBack.by} (退回: ${p.handBack.reason})` : '',
      p.movingTo ? `, moving to ${p.movingTo} (转办)` : '',
      p.movedFrom ? `, moved from ${p.movedFrom.unit} (转办)` : '',
    ].join('');
    lines.push(`  period ${p.period}  due ${due}  ${paintColour(c, p.colour)}${progress}${ext}${ack}${notes}${moves}`);
  }
  return lines;
}

/** The board's first part: counts by colour per unit. */
export function unitCountLines(
  units: { unit: string; red: number; yellow: number; green: number; done: number; waived: number }[],
): string[] {
  const lines = ['unit          red  yellow  green  done  waived'];
  for (const u of units) {
    lines.push(
      `${padEnd(u.unit, 12)} ${padStart(String(u.red), 4)} ${padStart(String(u.yellow), 7)} ${padStart(String(u.green), 6)} ${padStart(String(u.done), 5)} ${padStart(String(u.waived), 7)}`,
    );
  }
  return lines;
}
