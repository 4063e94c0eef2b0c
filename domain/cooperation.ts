/**
 * 协办 (DOMAIN.md 28): what a cooperating unit may do on the lead's (主办) tracker, and how the tracker refuses the
 * rest. A leaf module with no imports: the tracker's state machine (in the workflow bundle) and the action
 * vocabulary (domain/actions.ts, which the web and the emails' links read) share this one rule.
 */

/**
 * What a cooperating unit (协办) may do on the lead's tracker: acknowledge and report progress. The work itself
 * (submit, record, report figures), extensions and 退回 are the lead's (主办).
 */
export const COOPERATOR_ACTIONS = ['acknowledge', 'progress'] as const;

export function cooperatorMay(action: string): boolean {
  return (COOPERATOR_ACTIONS as readonly string[]).includes(action);
}

/** The lead's own actions as a refusal names them: the labels of domain/actions.ts (a test keeps them equal). */
export const LEAD_ONLY_LABELS: Record<string, string> = {
  submit: '报送材料',
  record: '登记活动',
  report: '报送数据',
  requestExtension: '申请延期',
  handBack: '退回',
};

/** The tracker's refusal of an action a cooperating unit may not take, in Chinese; undefined when it may. */
export function cooperatorRefusal(action: string, cooperator: string, lead: string): string | undefined {
  if (cooperatorMay(action)) return undefined;
  const what = LEAD_ONLY_LABELS[action] ?? '该事项';
  return `${cooperator}是本任务的协办单位，只能签收和反馈进展；${what}由主办单位${lead}办理`;
}
