import {
  checkEvidence,
  checkText,
  colourAt,
  completionOutcome,
  completionOutcomeByDate,
  nextColourChange,
} from '../../domain/tracking';

describe('tracking rules', () => {
  test('outcomes: on time by the original due, on time with extension, late', () => {
    expect(completionOutcome(100, 100)).toBe('on_time');
    expect(completionOutcome(150, 100, 200)).toBe('on_time_extended');
    expect(completionOutcome(250, 100, 200)).toBe('late');
    expect(completionOutcome(150, 100)).toBe('late');
    expect(completionOutcomeByDate('2027-02-28', '2027-02-28')).toBe('on_time');
    expect(completionOutcomeByDate('2027-03-02', '2027-02-28', '2027-03-31')).toBe('on_time_extended');
  });

  test('colours and when they change by themselves', () => {
    const base = { waived: false, complete: false, yellowAt: 100, dueAt: 200 };
    expect(colourAt({ ...base, now: 50 })).toBe('green');
    expect(nextColourChange({ ...base, now: 50 })).toBe(100);
    expect(colourAt({ ...base, now: 100 })).toBe('yellow');
    expect(nextColourChange({ ...base, now: 150 })).toBe(201);
    expect(colourAt({ ...base, now: 201 })).toBe('red');
    expect(nextColourChange({ ...base, now: 201 })).toBeUndefined();
    expect(colourAt({ ...base, now: 201, complete: true })).toBe('done');
    expect(colourAt({ ...base, now: 201, waived: true })).toBe('waived');
  });

  test('user text: required, bounded, no control characters; evidence needs something and links are http(s)', () => {
    expect(checkText('理由', '', true)).toBe('理由为必填项');
    expect(checkText('理由', '  ', true)).toBe('理由为必填项');
    expect(checkText('reason', 'x'.repeat(2001), true)).toMatch(/超过2000个字符/);
    expect(checkText('reason', 'ok\u001b[2J', true)).toMatch(/控制字符/);
    expect(checkText('reason', '第一行\n第二行', true)).toBeUndefined();
    expect(checkEvidence({})).toMatch(/须提供佐证材料/);
    expect(checkEvidence({ link: 'ftp://x' })).toMatch(/不是 http/);
    expect(checkEvidence({ documentNumber: '测政发〔2027〕3号' })).toBeUndefined();
  });
});
