/**
 * The dead-man's switch (DUBAN_HEARTBEAT_URL): every digest run pings it, whether or not an office had news, so an
 * alert fires when the runs stop; a ping that fails only warns, and the URL (its path is the check's secret) is
 * never logged.
 */
import { DefaultLogger, LogEntry } from '@temporalio/worker';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createServer, IncomingMessage } from 'node:http';
import { AddressInfo } from 'node:net';
import { createActivities } from '../activities';
import { createSmtpTransport } from '../channels/email/smtp';
import { Ledger } from '../ledger';
import { describeSettings, loadSettings } from '../config/settings';
import { WorkingCalendar } from '../domain/calendar';
import { tempLedgerFile } from './support/engine';
import { startSmtpSink } from './support/smtp';

const secret = '5f2c9e1a-7b1d-4d5e-9a53-0c1b2a3d4e5f';

test('every digest run pings the heartbeat URL, working day or not; a failing ping warns without the URL and fails nothing', async () => {
  const pings: { method?: string; url?: string; body: string }[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      pings.push({ method: req.method, url: req.url, body });
      res.end('OK');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const sink = await startSmtpSink();
  const transport = createSmtpTransport({ url: sink.url });
  const ledger = await Ledger.open({ sqliteFile: tempLedgerFile() });
  const logs: LogEntry[] = [];
  const logger = new DefaultLogger('DEBUG', (e) => logs.push(e));
  const deps = {
    ledger,
    transport,
    from: { name: '督办系统', address: 'duban@test.example.org' },
    calendar: new WorkingCalendar(),
  };
  try {
    const ok = createActivities({ ...deps, heartbeatUrl: `http://127.0.0.1:${port}/ping/${secret}` });
    await new MockActivityEnvironment({}, { logger }).run(ok.digestRan, {
      day: '2027-03-01',
      working: true,
      offices: 2,
    });
    await new MockActivityEnvironment({}, { logger }).run(ok.digestRan, {
      day: '2027-03-06',
      working: false,
      offices: 0,
    });
    expect(pings).toEqual([
      { method: 'POST', url: `/ping/${secret}`, body: 'duban digest 2027-03-01: 2 offices' },
      { method: 'POST', url: `/ping/${secret}`, body: 'duban digest 2027-03-06: not a working day' },
    ]);
    // Without the setting nothing is pinged.
    await new MockActivityEnvironment({}, { logger }).run(createActivities(deps).digestRan, {
      day: '2027-03-02',
      working: true,
      offices: 0,
    });
    expect(pings).toHaveLength(2);

    // The switch's server is down: the digest run still succeeds (the missed ping is what raises the alarm).
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const down = createActivities({ ...deps, heartbeatUrl: `http://127.0.0.1:${port}/ping/${secret}` });
    await new MockActivityEnvironment({}, { logger }).run(down.digestRan, {
      day: '2027-03-02',
      working: true,
      offices: 0,
    });
    const warning = logs.find((l) => /heartbeat ping failed \(DUBAN_HEARTBEAT_URL\)/.test(l.message));
    expect(warning).toBeDefined();
    expect(JSON.stringify(logs.map((l) => [l.message, l.meta]))).not.toContain(secret);
  } finally {
    transport.close();
    await ledger.close();
    await sink.close();
    if (server.listening) server.close();
  }
});

test("a digest run's day: the latest digest hour at or before the run, and whether it is a working day", async () => {
  const a = createActivities({
    ledger: undefined as never,
    transport: undefined as never,
    from: { name: 'x', address: 'x@test.example.org' },
    calendar: new WorkingCalendar(),
  });
  const at = (iso: string) => Date.parse(iso);
  // 2026-11-20 is a Friday; 09:00 in Shanghai is 01:00 UTC.
  expect(await a.digestDay({ at: at('2026-11-20T01:00:00Z'), timeZone: 'Asia/Shanghai', hour: 9 })).toEqual({
    day: '2026-11-20',
    working: true,
  });
  expect(await a.digestDay({ at: at('2026-11-20T00:59:59Z'), timeZone: 'Asia/Shanghai', hour: 9 })).toEqual({
    day: '2026-11-19',
    working: true,
  });
  expect(await a.digestDay({ at: at('2026-11-21T01:00:00Z'), timeZone: 'Asia/Shanghai', hour: 9 })).toEqual({
    day: '2026-11-21',
    working: false,
  });
  // 2026-10-01 (国庆) is a holiday.
  expect(await a.digestDay({ at: at('2026-10-01T02:00:00Z'), timeZone: 'Asia/Shanghai', hour: 9 })).toMatchObject({
    working: false,
  });
});

test('the heartbeat URL is a setting that the logged settings show without its secret', () => {
  const s = loadSettings({
    DUBAN_HEARTBEAT_URL: `https://hc-ping.com/${secret}`,
    DUBAN_METRICS_ADDRESS: '0.0.0.0:9464',
    DUBAN_HEALTH_ADDRESS: '127.0.0.1:8081',
  });
  expect(s.operations).toMatchObject({
    heartbeatUrl: `https://hc-ping.com/${secret}`,
    metricsAddress: '0.0.0.0:9464',
    healthAddress: '127.0.0.1:8081',
  });
  const shown = JSON.stringify(describeSettings(s));
  expect(shown).toContain('https://hc-ping.com/***');
  expect(shown).not.toContain(secret);
  expect(() => loadSettings({ DUBAN_HEARTBEAT_URL: 'hc-ping.com/x' })).toThrow(
    /DUBAN_HEARTBEAT_URL（配置文件中的 operations.heartbeatUrl）：须为 http/,
  );
  expect(() => loadSettings({ DUBAN_METRICS_ADDRESS: '9464' })).toThrow(/DUBAN_METRICS_ADDRESS.*须为“主机:端口”/);
});
