#!/usr/bin/env node
/**
 * Writes the production-shape run's inputs (scripts/production-shape.sh): a directory of N units (default 500)
 * under one supervising office, and a catalog with one one-off obligation whose due date lies two working days
 * back, so that every tracker's level-1 escalation is due the moment it starts: a storm of N notices at once.
 *
 *   node scripts/shape-inputs.js <folder> [units]
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { WorkingCalendar } = require('../dist/domain/calendar');
const { formatDate } = require('../dist/domain/dates');
const { localDay } = require('../dist/domain/zone');

const [folder, count = '500'] = process.argv.slice(2);
if (!folder) {
  console.error('usage: node scripts/shape-inputs.js <folder> [units]');
  process.exit(2);
}
const n = Number(count);
const calendar = new WorkingCalendar();
const due = formatDate(calendar.addWorkingDays(calendar.onOrBefore(localDay(Date.now(), 'Asia/Shanghai') - 1), -1));
const units = [
  '  - id: office',
  '    name: 市委依法治市办',
  '    kind: office',
  '    contacts:',
  '      head: { name: 周主任, email: office.head@shape.example.org }',
  '      liaison: { name: 吴科长, email: office.liaison@shape.example.org }',
];
for (let i = 1; i <= n; i++) {
  const id = `u${String(i).padStart(4, '0')}`;
  units.push(
    `  - id: ${id}`,
    `    name: 测试单位${i}`,
    '    kind: department',
    '    tags: [演练单位]',
    '    supervisor: office',
    '    contacts:',
    `      head: { name: 负责人${i}, email: ${id}.head@shape.example.org }`,
    `      liaison: { name: 联络员${i}, email: ${id}.liaison@shape.example.org }`,
  );
}
fs.mkdirSync(folder, { recursive: true });
fs.writeFileSync(
  path.join(folder, 'directory.yaml'),
  [
    'jurisdiction: 演练市',
    'leadership:',
    '  - { name: 李书记, email: leader@shape.example.org, title: 市委副书记 }',
    'units:',
    ...units,
    '',
  ].join('\n'),
);
fs.writeFileSync(
  path.join(folder, 'catalog.yaml'),
  [
    'timeZone: Asia/Shanghai',
    'noticeHour: 9',
    'obligations:',
    '  - id: shape-storm',
    '    title: 生产形态演练任务',
    '    basis:',
    '      - { document: 演练方案, quote: 按期报送 }',
    '    assignees: { tags: [演练单位] }',
    '    period: once',
    `    due: { rule: fixed-date, date: "${due}" }`,
    '    escalation:',
    '      - { level: 1, after: 1, repeatWeekly: false }',
    '      - { level: 2, after: 60, repeatWeekly: false }',
    '',
  ].join('\n'),
);
// The send key of each tracker's level-1 escalation: what the sink must receive exactly once.
const keys = [];
for (let i = 1; i <= n; i++) keys.push(`shape-storm/u${String(i).padStart(4, '0')}/once/${due}/e1.0`);
fs.writeFileSync(path.join(folder, 'expected-keys.txt'), `${keys.join('\n')}\n`);
console.log(JSON.stringify({ folder, units: n, due }));
