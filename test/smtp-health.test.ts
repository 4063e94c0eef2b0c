/**
 * When the worker tells the operator that SMTP takes nothing (issue 13.5): at once for a server that cannot be
 * reached or refuses the login, at the third failure in a row for 4xx replies (a single greylisting 451 is retried
 * quietly), once per run of failures, and that it recovered only if it said it was failing.
 */
import { SmtpHealth, SmtpHealthEvent } from '../channels/email/smtp';

const reply451 = Object.assign(new Error('Message failed: 451 4.3.0 try again later'), {
  code: 'EMESSAGE',
  responseCode: 451,
  response: '451 4.3.0 try again later',
});
const authFailed = Object.assign(new Error('Invalid login: 535 Authentication failed'), {
  code: 'EAUTH',
  responseCode: 535,
  response: '535 Authentication failed',
});

function watch() {
  const h = new SmtpHealth();
  const events: SmtpHealthEvent['kind'][] = [];
  h.on((e) => events.push(e.kind));
  return { h, events };
}

test('one 451 then a sent message: nothing said, but readiness saw it while it lasted', () => {
  const { h, events } = watch();
  h.failed(reply451, 1000);
  expect(h.failingSince).toBe(1000);
  h.answered(2000);
  expect(h.failingSince).toBeUndefined();
  expect(events).toEqual([]);
});

test('three 451s in a row: failing once, then recovered once', () => {
  const { h, events } = watch();
  for (let i = 0; i < 5; i++) h.failed(reply451, 1000 + i);
  expect(events).toEqual(['failing']);
  expect(h.failures).toBe(5);
  h.answered(9000);
  expect(events).toEqual(['failing', 'recovered']);
  h.failed(reply451, 10_000);
  expect(events).toEqual(['failing', 'recovered']);
});

test('a refused login is said at the first failure, with the reply', () => {
  const { h, events } = watch();
  const seen: SmtpHealthEvent[] = [];
  h.on((e) => seen.push(e));
  h.failed(authFailed, 5000);
  expect(events).toEqual(['failing']);
  expect(seen[0]).toEqual({
    kind: 'failing',
    since: 5000,
    problem: { code: 'EAUTH', responseCode: 535, message: '535 Authentication failed' },
  });
});
