/**
 * An iCalendar feed (RFC 5545) of a unit's upcoming due dates and reminder dates, for Outlook, Apple Calendar and
 * WPS: all-day events, stable UIDs (re-importing updates rather than duplicates), folded and escaped text.
 */
import type { WorkingCalendar } from '../domain/calendar';
import { DayNumber, formatDate, parseDate } from '../domain/dates';
import { parsePeriod, periodInChinese } from '../domain/periods';
import { PlannedNotice, noticeConcerns, noticeKey, planWindow } from '../domain/planner';
import type { TrackerDefinition } from '../domain/trackers';

/** TEXT values: backslash, semicolon, comma and line breaks escaped (RFC 5545 3.3.11). */
function text(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/;/g, '\\;').replace(/,/g, '\\,').replace(/\r?\n/g, '\\n');
}

/** Lines longer than 75 octets are folded (RFC 5545 3.1), never inside a UTF-8 character. */
function fold(line: string): string {
  const out: string[] = [];
  let current = '';
  let octets = 0;
  for (const ch of line) {
    const size = Buffer.byteLength(ch, 'utf8');
    if (octets + size > (out.length === 0 ? 75 : 74)) {
      out.push(current);
      current = '';
      octets = 0;
    }
    current += ch;
    octets += size;
  }
  out.push(current);
  return out.join('\r\n ');
}

const day = (d: DayNumber) => formatDate(d).replace(/-/g, '');

/**
 * `catalogZone` names the calendar's zone when the unit has no trackers. `settled` (from the ledger, when there is
 * one): `trackerId/period` of periods done or settled, whose reminders the service will not send; their due dates
 * stay, marked with the period's state (已办结, 已报送，待核实 ...).
 */
export function unitCalendar(
  trackers: TrackerDefinition[],
  calendar: WorkingCalendar,
  window: { from: DayNumber; to: DayNumber },
  now: Date,
  catalogZone: string,
  settled: ReadonlyMap<string, string> = new Map(),
  /**
   * The unit the calendar is for: a tracker of another unit is there because this one cooperates on it (协办: its
   * due date and reminders, marked 协办) or raises it (提级督办: the day of the raise). Absent: the trackers' own unit.
   */
  unit?: string,
): string {
  const plan = planWindow(trackers, calendar, { from: window.from, to: window.to + 400 });
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  const byId = new Map(trackers.map((t) => [t.trackerId, t]));
  const lines = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//duban//督办//ZH', 'CALSCALE:GREGORIAN', 'METHOD:PUBLISH'];
  const own = (t: TrackerDefinition) => unit === undefined || t.unit.id === unit;
  const unitName =
    trackers.find(own)?.unit.name ??
    trackers.flatMap((t) => [...(t.cooperators ?? []), ...(t.raise ? [t.raise.office] : [])]).find((u) => u.id === unit)
      ?.name ??
    '';
  lines.push(`X-WR-CALNAME:${text(`督办：${unitName}`)}`, `X-WR-TIMEZONE:${trackers[0]?.timeZone ?? catalogZone}`);
  const event = (uid: string, on: DayNumber, summary: string, description: string) => {
    lines.push(
      'BEGIN:VEVENT',
      `UID:${uid}`,
      `DTSTAMP:${stamp}`,
      `DTSTART;VALUE=DATE:${day(on)}`,
      `DTEND;VALUE=DATE:${day(on + 1)}`,
      `SUMMARY:${text(summary)}`,
      `DESCRIPTION:${text(description)}`,
      'TRANSP:TRANSPARENT',
      'END:VEVENT',
    );
  };
  const dues = new Set<string>();
  const describe = (t: TrackerDefinition, n: PlannedNotice) => {
    const p = parsePeriod(t.obligation.period, n.period);
    return {
      periodText: p ? periodInChinese(p) : n.period,
      basis: t.obligation.basis.map((b) => `《${b.document}》${b.article ?? ''}：${b.quote}`).join('\n'),
    };
  };
  for (const n of plan.notices) {
    const t = byId.get(n.trackerId)!;
    if (unit !== undefined && !noticeConcerns(t, n, unit)) continue;
    const { periodText, basis } = describe(t, n);
    const done = settled.get(`${n.trackerId}/${n.period}`);
    // 提级督办: the office above sees the day it raises the period (the unit's own calendar keeps to due dates and
    // reminders, as for every escalation).
    if (n.stage === 'raise') {
      if (t.raise?.office.id === unit && !done && n.day >= window.from && n.day <= window.to)
        event(
          `${noticeKey(n)}@duban`,
          n.day,
          `提级督办：${t.unit.name} ${t.obligation.title}（${periodText}）`,
          `${t.supervisor.name}督办后仍未完成\n${basis}`,
        );
      continue;
    }
    // 协办: a cooperating unit's events say whose task it is.
    const role = own(t) ? '' : `协办（主办：${t.unit.name}）`;
    const dueDay = parseDate(n.due)!;
    const dueKey = `${n.trackerId}/${n.period}/${n.due}`;
    if (!dues.has(dueKey) && dueDay >= window.from && dueDay <= window.to) {
      dues.add(dueKey);
      event(
        `${dueKey}/due@duban`,
        dueDay,
        `${role}${done ?? '截止'}：${t.obligation.title}（${periodText}）`,
        `${t.unit.name}\n${t.obligation.deliverable ?? ''}\n${basis}`,
      );
    }
    if (n.stage === 'reminder' && !done && n.day >= window.from && n.day <= window.to) {
      event(
        `${noticeKey(n)}@duban`,
        n.day,
        `${role}提醒：${t.obligation.title}（${periodText}），${n.due}截止`,
        `${t.unit.name}\n${basis}`,
      );
    }
  }
  lines.push('END:VCALENDAR');
  return `${lines.map(fold).join('\r\n')}\r\n`;
}
