import fc from 'fast-check';
import { formatLocal, localDay, localYear, offsetMinutes, zonedInstant } from '../../domain/zone';
import { dayNumber } from '../../domain/dates';

/** The wall clock straight from Intl, as zone.ts asked it before it cached offsets by quarter hour. */
function reference(instant: number, zone: string) {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
  }).formatToParts(new Date(instant));
  const get = (type: string) => Number(parts.find((p) => p.type === type)!.value);
  const pad = (n: number) => String(n).padStart(2, '0');
  return {
    text: `${get('year')}-${pad(get('month'))}-${pad(get('day'))} ${pad(get('hour'))}:${pad(get('minute'))}`,
    day: dayNumber(get('year'), get('month'), get('day')),
    year: get('year'),
  };
}

// Beijing time, and zones whose clocks change (at whole hours, half hours) or sit on a quarter hour.
const ZONES = [
  'Asia/Shanghai',
  'Asia/Urumqi',
  'America/New_York',
  'Europe/Berlin',
  'Australia/Lord_Howe',
  'Asia/Kathmandu',
];

describe('wall clocks in explicit zones', () => {
  test('any instant from 1990 to 2100 reads as Intl reads it, in every zone', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2100, 0, 1) }),
        fc.constantFrom(...ZONES),
        (t, zone) => {
          const r = reference(t, zone);
          expect(formatLocal(t, zone)).toBe(r.text);
          expect(localDay(t, zone)).toBe(r.day);
          expect(localYear(t, zone)).toBe(r.year);
        },
      ),
      { numRuns: 3000 },
    );
  });

  test('around the changes of the clock, minute by minute', () => {
    // New York 2026-03-08 02:00 and 2026-11-01 02:00; Berlin 2026-03-29 02:00 UTC+1; Lord Howe's half-hour change.
    const changes: [string, number][] = [
      ['America/New_York', Date.UTC(2026, 2, 8, 7)],
      ['America/New_York', Date.UTC(2026, 10, 1, 6)],
      ['Europe/Berlin', Date.UTC(2026, 2, 29, 1)],
      ['Australia/Lord_Howe', Date.UTC(2026, 3, 4, 15)],
    ];
    for (const [zone, at] of changes)
      for (let m = -90; m <= 90; m++) {
        const t = at + m * 60_000 + 17_000;
        expect([zone, formatLocal(t, zone)]).toEqual([zone, reference(t, zone).text]);
      }
  });

  test('a notice hour in Beijing is 01:00 UTC, and the offset is +480 minutes', () => {
    expect(new Date(zonedInstant(dayNumber(2027, 2, 26), 'Asia/Shanghai', 9)).toISOString()).toBe(
      '2027-02-26T01:00:00.000Z',
    );
    expect(offsetMinutes(Date.UTC(2027, 1, 26), 'Asia/Shanghai')).toBe(480);
  });
});
