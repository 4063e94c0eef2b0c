import type { EscalationStep } from '../../domain/model';
import type { TrackerDefinition } from '../../domain/trackers';
import { DEFAULT_ESCALATION, DEFAULT_REMINDERS } from '../../domain/model';
import { effectiveEscalation } from '../../domain/trackers';
import { WorkingCalendar } from '../../domain/calendar';
import { formatDate } from '../../domain/dates';
import { localDay } from '../../domain/zone';

const contact = (who: string) => ({ name: who, email: `${who}@test.example.org` });

/** A tracker definition with the default ladders, overridable field by field. */
export function tracker(
  overrides: Partial<Omit<TrackerDefinition, 'obligation'>> & {
    obligation?: Partial<TrackerDefinition['obligation']>;
  } = {},
): TrackerDefinition {
  const { obligation, ...rest } = overrides;
  const urgent = obligation?.urgent ?? false;
  const base: TrackerDefinition = {
    trackerId: `${obligation?.id ?? 'annual-report'}/unit`,
    obligation: {
      id: 'annual-report',
      title: '法治政府建设年度报告',
      basis: [{ document: '法治政府建设与责任落实督察工作规定', quote: '每年3月1日之前' }],
      period: 'year',
      due: { rule: 'next-month-day', monthDay: '03-01', before: true },
      rollForward: false,
      completion: 'single',
      quota: 1,
      verification: false,
      urgent,
      ...obligation,
    },
    unit: { id: 'unit', name: '市财政局', head: contact('head'), liaison: contact('liaison'), deputies: [] },
    supervisor: {
      id: 'office',
      name: '市委依法治市办',
      head: contact('office-head'),
      liaison: contact('office-liaison'),
      deputies: [],
    },
    lead: undefined,
    leadership: [{ ...contact('leader') }],
    reminders: [...DEFAULT_REMINDERS],
    escalation: effectiveEscalation(DEFAULT_ESCALATION as EscalationStep[], urgent),
    noticeHour: 9,
    timeZone: 'Asia/Shanghai',
  };
  return { ...base, ...rest, obligation: base.obligation };
}

/**
 * A one-off two working days overdue in Beijing time: its level-1 escalation (one working day after due) is already
 * due and goes out at once; level 2 (five working days after due) lies ahead. `dueDay` is its due date.
 */
export function overdueOneOff(): { dueDay: string; overdue: (unit: string) => TrackerDefinition } {
  const calendar = new WorkingCalendar();
  const today = localDay(Date.now(), 'Asia/Shanghai');
  const dueDay = formatDate(calendar.addWorkingDays(calendar.onOrBefore(today - 1), -1));
  const overdue = (unit: string): TrackerDefinition => {
    const base = tracker({
      obligation: { id: 'overdue', period: 'once', due: { rule: 'fixed-date', date: dueDay } },
      escalation: [
        { level: 1, after: 1, repeatWeekly: false },
        { level: 2, after: 5, repeatWeekly: false },
      ],
    });
    return {
      ...base,
      trackerId: `overdue/${unit}`,
      unit: { ...base.unit, id: unit, head: { name: '负责人', email: `${unit}.head@test.example.org` } },
    };
  };
  return { dueDay, overdue };
}
