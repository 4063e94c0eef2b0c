/**
 * The web board reads what the trackers keep in the ledger: every open period with its 签收, the periods done or
 * waived this year, and trackers that cannot plan (broken), with the reason, escaped.
 */
import { Ledger } from '../../activities/ledger/ledger';
import { boardPage } from '../../web/pages';
import { boardStates } from '../../web/data';
import { tempLedgerFile } from '../support/engine';

test('the board lists open periods with their acknowledgement, and broken trackers with the reason', async () => {
  const ledger = await Ledger.open({ sqliteFile: tempLedgerFile() });
  try {
    const period = (label: string, colour: 'red' | 'yellow', acknowledged: boolean) => ({
      period: label, colour, due: `${label}-28`, dueAt: 1, originalDue: `${label}-28`, endsAt: 2, progressCount: 0, submitted: false, verification: 'not required',
      ...(acknowledged ? { acknowledgedBy: '联络员 <l@example.org>', acknowledgedAt: 1 } : {}),
    });
    const ref = { trackerId: 'monthly/u', obligation: 'monthly', unit: 'u' };
    await ledger.applyWrite({ ...ref, at: 10, events: [], red: [], board: { tracker: { colour: 'red', period: '2031-01', due: '2031-01-28', dueAt: 1, openPeriods: 2, paused: false, active: true }, periods: [period('2031-01', 'red', false), period('2031-02', 'yellow', true)] } });
    const broken = { trackerId: 'bad/u', obligation: 'bad', unit: 'u' };
    await ledger.applyWrite({ ...broken, at: 10, events: [], red: [], board: { tracker: { colour: 'broken', period: '-', due: '', dueAt: 0, openPeriods: 0, paused: false, active: true, problem: 'a ladder step of 1000000 working days <b>' }, periods: [] } });

    const items = await boardStates(ledger);
    expect(items.map((i) => [i.trackerId, i.period, i.colour, i.acknowledged ?? null])).toEqual([
      ['bad/u', '-', 'broken', null],
      ['monthly/u', '2031-01', 'red', false],
      ['monthly/u', '2031-02', 'yellow', true],
    ]);
    const html = boardPage({}, { units: [], items: items.map((i) => ({ ...i, obligationTitle: i.obligation, unitName: i.unit })), total: items.length, filter: {}, unitChoices: [], obligationChoices: [], shownLimit: 100 });
    expect(html).toContain('无法排期：a ladder step of 1000000 working days &lt;b&gt;');
    expect(html).toMatch(/data-period="2031-01">.*<b class="unack">未签收<\/b>/s);
    expect(html).toMatch(/data-period="2031-02">.*已签收/s);
  } finally {
    await ledger.close();
  }
});
