/** The embedded /mail pages show times in the zone the other pages use, not the Date header's +0000 (#19 item 7). */
import { mailListPage, mailPage } from '../../web/pages';

describe('/mail times', () => {
  const date = 'Wed, 02 Dec 2026 01:00:00 +0000';
  test('the list and a message read Beijing time; a header that does not parse is kept as written', () => {
    const list = mailListPage({}, [{ name: 'a.eml', subject: '【督办提醒】', to: 'x@example.org', date }]);
    expect(list).toContain('2026/12/2 09:00:00');
    expect(list).not.toContain('+0000');
    const one = mailPage({ timeZone: 'Europe/Berlin' }, { subject: 's', from: 'f', to: 't', cc: '', date, text: '' });
    expect(one).toContain('2026/12/2 02:00:00');
    expect(mailListPage({}, [{ name: 'b.eml', subject: 's', to: 't', date: 'not a date' }])).toContain('not a date');
  });
});
