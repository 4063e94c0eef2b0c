/**
 * Planner benchmark: one year of notices for 10,000 trackers (500 units x 20 obligations).
 * Target (issue #2): under 2 seconds and under 300 MB peak on a 2-core machine. Prints its figures; asserts nothing.
 *
 *   npm run bench:plan
 */
import { WorkingCalendar } from '../domain/calendar';
import { parseDate } from '../domain/dates';
import type { Catalog, Directory, DueRule, PeriodKind } from '../domain/model';
import { planWindow } from '../domain/planner';
import { resolveTrackers } from '../domain/trackers';
import { validateDocuments } from '../domain/validate';
import { syntheticDirectory } from './synthetic';

const UNITS = Number(process.env.BENCH_UNITS ?? 500);
const OBLIGATIONS = Number(process.env.BENCH_OBLIGATIONS ?? 20);

function syntheticInputs(): { catalog: Catalog; directory: Directory } {
  const directory = syntheticDirectory(UNITS);
  const shapes: { period: PeriodKind; due: DueRule; quota?: number }[] = [
    { period: 'year', due: { rule: 'next-month-day', monthDay: '03-01', before: true } },
    { period: 'year', due: { rule: 'next-month-day', monthDay: '04-01', before: true } },
    { period: 'half-year', due: { rule: 'after-period-end', days: 15 } },
    { period: 'quarter', due: { rule: 'period-end' }, quota: 1 },
    { period: 'year', due: { rule: 'period-end' }, quota: 4 },
    { period: 'month', due: { rule: 'after-period-end', months: 1 } },
  ];
  const catalog = {
    obligations: Array.from({ length: OBLIGATIONS }, (_, i) => {
      const shape = shapes[i % shapes.length]!;
      return {
        id: `obligation-${i}`,
        title: `任务${i}`,
        basis: [{ document: '基准文件', quote: '基准' }],
        assignees: { tags: ['all'] },
        period: shape.period,
        due: shape.due,
        ...(shape.quota ? { completion: 'quota', quota: shape.quota } : {}),
      };
    }),
  };
  const v = validateDocuments(catalog, directory);
  if (!v.catalog || !v.directory) throw new Error(JSON.stringify(v.problems.slice(0, 3)));
  return { catalog: v.catalog, directory: v.directory };
}

function main() {
  const { catalog, directory } = syntheticInputs();
  const trackers = resolveTrackers(catalog, directory);
  const calendar = new WorkingCalendar();
  const year = Number(process.env.BENCH_YEAR ?? 2026);
  const window = { from: parseDate(`${year}-01-01`)!, to: parseDate(`${year}-12-31`)! };
  const rssBefore = process.memoryUsage().rss;
  const started = process.hrtime.bigint();
  const plan = planWindow(trackers, calendar, window);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const peakMb = process.resourceUsage().maxRSS / 1024;
  console.log(
    JSON.stringify({
      benchmark: 'plan one year',
      year,
      trackers: trackers.length,
      notices: plan.notices.length,
      seconds: Number(seconds.toFixed(3)),
      noticesPerSecond: Math.round(plan.notices.length / seconds),
      peakRssMb: Math.round(peakMb),
      rssBeforePlanMb: Math.round(rssBefore / 1024 / 1024),
      targets: { seconds: 2, peakRssMb: 300 },
    }),
  );
}

main();
