import type { EscalationStep } from '../../domain/model';
import type { TrackerDefinition } from '../../domain/trackers';
import { DEFAULT_ESCALATION, DEFAULT_REMINDERS } from '../../domain/model';
import { effectiveEscalation } from '../../domain/trackers';

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
