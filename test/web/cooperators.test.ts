/**
 * 协办 in the web's roles (docs/web.md): a tracker's cooperating units come from the registered catalog; their staff
 * see the lead's tracker and may 签收 and 反馈进展, for their unit; staff of the lead act as the lead; an office whose
 * staff also work for a cooperating unit still verifies as the office.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { catalogSchema, directorySchema } from '../../domain/model';
import { buildRequest } from '../../web/server';
import { cooperatorIds, personFor, standingOn } from '../../web/roles';

const fixtures = path.join(__dirname, '..', 'fixtures');
const directory = directorySchema.parse(parse(readFileSync(path.join(fixtures, 'directory.yaml'), 'utf8')));
const catalog = catalogSchema.parse(
  parse(
    readFileSync(path.join(fixtures, 'catalog.yaml'), 'utf8').replace(
      '    lead: justice\n',
      '    lead: justice\n    cooperators: { units: [county-a, office, justice] }\n',
    ),
  ),
);
const snapshot = { catalog, directory };
const person = (email: string) => personFor(email, directory, [])!;

test('the cooperating units of a tracker are the obligation’s, less the tracker’s own unit', () => {
  expect(cooperatorIds(snapshot, 'half-year-report', 'finance')).toEqual(['office', 'justice', 'county-a']);
  expect(cooperatorIds(snapshot, 'half-year-report', 'justice')).toEqual(['office', 'county-a']);
  expect(cooperatorIds(snapshot, 'annual-report', 'county-a')).toEqual([]);
  expect(cooperatorIds(undefined, 'half-year-report', 'finance')).toEqual([]);
});

test('a cooperator’s staff see the lead’s tracker and may 签收 and 反馈进展; the lead’s staff act as the lead', () => {
  const coop = cooperatorIds(snapshot, 'half-year-report', 'finance');
  expect(standingOn(person('county-a.liaison@test.example.org'), 'finance', coop)).toEqual({
    cooperating: 'county-a',
    maySee: true,
    actions: ['acknowledge', 'progress'],
  });
  // Not a cooperator of this tracker: nothing.
  expect(standingOn(person('county-a.liaison@test.example.org'), 'finance', [])).toEqual({
    maySee: false,
    actions: [],
  });
  const lead = standingOn(person('finance.deputy@test.example.org'), 'finance', coop);
  expect(lead.cooperating).toBeUndefined();
  expect(lead.actions).toContain('submit');
});

test('an office that also cooperates verifies as the office, and acknowledges as the cooperating unit', () => {
  const coop = cooperatorIds(snapshot, 'half-year-report', 'finance');
  const office = { ...person('office.liaison@test.example.org'), cooperating: 'office' };
  const standing = standingOn(office, 'finance', coop);
  expect(standing.cooperating).toBe('office');
  expect(standing.actions).toEqual(expect.arrayContaining(['acknowledge', 'progress', 'verify', 'waive', 'urge']));
  expect(standing.actions).not.toContain('submit');
  const ack = buildRequest('acknowledge', { period: '2027-H1' }, [], office);
  expect('request' in ack && ack.request).toMatchObject({ unit: 'office', period: '2027-H1' });
  const verify = buildRequest('verify', { decision: 'accept', rating: '良好' }, [], office);
  expect('request' in verify && verify.request).not.toHaveProperty('unit');
});
