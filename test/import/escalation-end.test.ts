/**
 * `duban validate` warns when escalationEndsAfter (calendar days after due) ends before the first escalation
 * step (working days after due): such a period is recorded as missed without ever being escalated.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { catalogSchema } from '../../domain/model';
import { escalationEndWarnings } from '../../domain/validate';

const root = path.resolve(__dirname, '..', '..');

function catalog(extra: string) {
  return `obligations:
  - id: monthly
    title: 月度统计
    basis: [{ document: 文件, quote: 每月报送 }]
    assignees: { units: [sfj] }
    period: month
    due: { rule: after-period-end, days: 10 }
${extra}`;
}

const parsed = (text: string) => catalogSchema.parse(parse(text));

describe('escalationEndsAfter against the first escalation step', () => {
  test('shorter than the first step: a warning naming both numbers', () => {
    const w = escalationEndWarnings(
      parsed(catalog('    escalationEndsAfter: 3\n    escalation: [{ level: 1, after: 5 }]\n')),
    );
    expect(w).toEqual([expect.stringContaining('escalationEndsAfter（3天）早于第一级催办（第1级，截止后5个工作日）')]);
  });
  test('within a weekend of the first step: a softer warning', () => {
    const w = escalationEndWarnings(
      parsed(catalog('    escalationEndsAfter: 5\n    escalation: [{ level: 1, after: 5 }]\n')),
    );
    expect(w).toEqual([expect.stringContaining('在遇到周末或节假日时可能早于第一级催办')]);
  });
  test('the built-in ladder (level 1 at +1) and a long enough end: no warning', () => {
    expect(escalationEndWarnings(parsed(catalog('    escalationEndsAfter: 20\n')))).toEqual([]);
    expect(escalationEndWarnings(parsed(catalog('')))).toEqual([]);
  });
  test('duban validate prints it and still accepts the files', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'duban-escalation-end-'));
    try {
      const file = path.join(dir, 'catalog.yaml');
      writeFileSync(file, catalog('    escalationEndsAfter: 2\n    escalation: [{ level: 2, after: 4 }]\n'));
      const r = spawnSync(
        process.execPath,
        [path.join(root, 'bin', 'duban.js'), 'validate', file, path.join(root, 'config', 'defaults', 'directory.yaml')],
        { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } },
      );
      expect(r.status).toBe(0);
      expect(r.stderr).toContain(
        '警告：任务 monthly：escalationEndsAfter（2天）早于第一级催办（第2级，截止后4个工作日）',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
