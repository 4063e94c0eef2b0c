/**
 * Temporal's connection the Temporal way (issue 11.2, @temporalio/envconfig): TOML profiles and TEMPORAL_*
 * variables, for the worker and the CLI alike. The dev server speaks no TLS, so the test puts a TLS terminator in
 * front of it that demands a client certificate (mutual TLS) signed by a CA the test makes with openssl: a worker
 * that connects through it has used the profile's or the variables' CA, certificate, key and server name.
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { Duban } from '../../access/temporal';
import { SettingsError, loadSettings, temporalConnectionOptions } from '../../config/settings';
import { workflowIdFor } from '../../workflows/messages';
import { trackerWorkflow } from '../../workflows/tracker';
import { devServerEnv } from '../support/engine';
import { SmtpSink, startSmtpSink } from '../support/smtp';
import { overdueOneOff } from '../support/trackers';
import { WorkerProcess, spawnWorker } from '../support/worker-process';

jest.setTimeout(240_000);

const { overdue } = overdueOneOff();

/** A CA, a server certificate for localhost and a client certificate, made with openssl. */
function makeCertificates(dir: string) {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  ssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=duban test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  );
  const leaf = (name: string, ext: string) => {
    ssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${name}`,
    );
    writeFileSync(path.join(dir, `${name}.ext`), ext);
    ssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.pem`,
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
    );
  };
  leaf(
    'server',
    'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:temporal.duban.test,IP:127.0.0.1\n',
  );
  leaf('client', 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n');
  // A second CA that signed nothing here: trusting it must fail.
  ssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'other.key',
    '-out',
    'other.pem',
    '-days',
    '2',
    '-subj',
    '/CN=another CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
  );
  const file = (f: string) => path.join(dir, f);
  return {
    ca: file('ca.pem'),
    cert: file('client.pem'),
    key: file('client.key'),
    otherCa: file('other.pem'),
    serverCert: file('server.pem'),
    serverKey: file('server.key'),
  };
}

describe('Temporal connection settings: TOML profiles and TEMPORAL_* variables (envconfig)', () => {
  let env: TestWorkflowEnvironment;
  let sink: SmtpSink;
  let dir: string;
  let certs: ReturnType<typeof makeCertificates>;
  let proxy: tls.Server;
  let proxyAddress: string;
  let verifiedClients = 0;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'duban-envconfig-'));
    certs = makeCertificates(dir);
    env = await devServerEnv();
    sink = await startSmtpSink();
    const [host, port] = [
      env.address.slice(0, env.address.lastIndexOf(':')),
      Number(env.address.slice(env.address.lastIndexOf(':') + 1)),
    ];
    // Mutual TLS in front of the dev server's plain gRPC: only a client with a certificate from our CA gets through.
    proxy = tls.createServer(
      {
        key: readFileSync(certs.serverKey),
        cert: readFileSync(certs.serverCert),
        ca: readFileSync(certs.ca),
        requestCert: true,
        rejectUnauthorized: true,
        ALPNProtocols: ['h2'],
      },
      (socket) => {
        if (socket.authorized) verifiedClients++;
        const upstream = net.connect(port, host === 'localhost' ? '127.0.0.1' : host);
        socket.on('error', () => upstream.destroy());
        upstream.on('error', () => socket.destroy());
        socket.pipe(upstream).pipe(socket);
      },
    );
    proxy.on('tlsClientError', () => undefined);
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    proxyAddress = `127.0.0.1:${(proxy.address() as net.AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null) await w.kill('SIGTERM');
    proxy?.close();
    await sink?.close();
    await env?.teardown();
  });

  const profileFile = () => {
    const file = path.join(dir, 'temporal.toml');
    writeFileSync(
      file,
      [
        '[profile.default]',
        'address = "127.0.0.1:1"',
        '',
        '[profile.prod]',
        `address = "${proxyAddress}"`,
        `namespace = "${env.namespace ?? 'default'}"`,
        '[profile.prod.tls]',
        `server_ca_cert_path = "${certs.ca}"`,
        `client_cert_path = "${certs.cert}"`,
        `client_key_path = "${certs.key}"`,
        'server_name = "temporal.duban.test"',
        '',
        '[profile.wrongca]',
        `address = "${proxyAddress}"`,
        '[profile.wrongca.tls]',
        `server_ca_cert_path = "${certs.otherCa}"`,
        `client_cert_path = "${certs.cert}"`,
        `client_key_path = "${certs.key}"`,
        'server_name = "temporal.duban.test"',
        '',
      ].join('\n'),
    );
    return file;
  };

  test('resolution: profile, then TEMPORAL_* variables over it, then the config file; errors name the setting', async () => {
    const file = profileFile();
    const s = loadSettings({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prod' });
    expect(s.temporal).toMatchObject({
      address: proxyAddress,
      namespace: env.namespace ?? 'default',
      taskQueue: 'duban',
      tls: { enabled: true, serverName: 'temporal.duban.test', ca: { path: certs.ca } },
    });
    expect(s.temporal.source).toBe(`profile prod in ${file}`);
    const options = await temporalConnectionOptions(s);
    expect(options.tls?.serverRootCACertificate?.toString()).toBe(readFileSync(certs.ca, 'utf8'));
    expect(options.tls?.clientCertPair?.crt.toString()).toBe(readFileSync(certs.cert, 'utf8'));

    // Variables win over the profile, as for the temporal CLI; an API key implies TLS.
    const v = loadSettings({
      TEMPORAL_CONFIG_FILE: file,
      TEMPORAL_PROFILE: 'prod',
      TEMPORAL_ADDRESS: 'other:7233',
      TEMPORAL_NAMESPACE: 'duban',
      TEMPORAL_API_KEY: 'k',
      TEMPORAL_GRPC_META_X_TENANT: 'city',
    });
    expect(v.temporal).toMatchObject({
      address: 'other:7233',
      namespace: 'duban',
      apiKey: 'k',
      metadata: { 'x-tenant': 'city' },
      addressFrom: 'TEMPORAL_ADDRESS',
    });
    expect(
      loadSettings({ TEMPORAL_API_KEY: 'k', TEMPORAL_CONFIG_FILE: path.join(dir, 'none.toml') }).temporal.tls.enabled,
    ).toBe(true);
    expect(
      loadSettings({ TEMPORAL_API_KEY: 'k', TEMPORAL_TLS: 'false', TEMPORAL_CONFIG_FILE: path.join(dir, 'none.toml') })
        .temporal.tls.enabled,
    ).toBe(false);
    // No file, no variables: the embedded default.
    expect(loadSettings({ TEMPORAL_CONFIG_FILE: path.join(dir, 'none.toml') }).temporal).toMatchObject({
      address: '127.0.0.1:7233',
      namespace: 'default',
      tls: { enabled: false },
      source: 'defaults',
    });
    // duban's former name for the CA path still works, and is the name an error gives.
    const legacy = loadSettings({
      TEMPORAL_CONFIG_FILE: path.join(dir, 'none.toml'),
      TEMPORAL_TLS_CA_PATH: path.join(dir, 'missing-ca.pem'),
    });
    await expect(temporalConnectionOptions(legacy)).rejects.toThrow(
      /^TEMPORAL_TLS_CA_PATH：无法读取 .*missing-ca\.pem：ENOENT/,
    );

    // A profile that is not there, a TOML key that is not Temporal's, a file that a profile names and is missing.
    expect(() => loadSettings({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'staging' })).toThrow(SettingsError);
    expect(() => loadSettings({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'staging' })).toThrow(
      /TEMPORAL_CONFIG_FILE .*temporal\.toml，TEMPORAL_PROFILE staging：没有配置档 staging（文件中有：default, prod, wrongca）/,
    );
    const bad = path.join(dir, 'bad.toml');
    writeFileSync(bad, '[profile.default]\nadress = "x:1"\n');
    expect(() => loadSettings({ TEMPORAL_CONFIG_FILE: bad })).toThrow(
      /TEMPORAL_CONFIG_FILE .*bad\.toml：Temporal 连接设置有误（.*adress/,
    );
    const missing = path.join(dir, 'missing.toml');
    writeFileSync(
      missing,
      `[profile.default]\naddress = "x:1"\n[profile.default.tls]\nclient_cert_path = "${dir}/nope.pem"\nclient_key_path = "${certs.key}"\n`,
    );
    await expect(temporalConnectionOptions(loadSettings({ TEMPORAL_CONFIG_FILE: missing }))).rejects.toThrow(
      /^tls\.client_cert_path of profile default in .*missing\.toml：无法读取 .*nope\.pem：ENOENT/,
    );
  });

  async function workerDelivers(taskQueue: string, connectionEnv: Record<string, string>, unit: string) {
    const before = sink.messages.length;
    const clientsBefore = verifiedClients;
    const w = spawnWorker(
      {
        ...connectionEnv,
        SMTP_URL: sink.url,
        MAIL_FROM: '督办系统 <duban@test.example.org>',
        DUBAN_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'duban-envconfig-data-')),
        DUBAN_TASK_QUEUE: taskQueue,
        DUBAN_DIGEST: 'false',
      },
      path.join(dir, `${taskQueue}.log`),
    );
    workers.push(w);
    await env.client.workflow.start(trackerWorkflow, {
      workflowId: workflowIdFor(overdue(unit).trackerId),
      taskQueue,
      args: [{ definition: overdue(unit) }],
    });
    await sink.waitFor(before + 1, 90_000);
    expect(sink.messages[sink.messages.length - 1]!.to).toEqual([`${unit}.head@test.example.org`]);
    // It went through the mutual-TLS terminator, with our client certificate.
    expect(verifiedClients).toBeGreaterThan(clientsBefore);
    return w;
  }

  test('a worker connects with a TOML profile (TEMPORAL_CONFIG_FILE, TEMPORAL_PROFILE) over mutual TLS; the CLI with the same profile', async () => {
    const connectionEnv = { TEMPORAL_CONFIG_FILE: profileFile(), TEMPORAL_PROFILE: 'prod' };
    const w = await workerDelivers('envconfig-profile', connectionEnv, 'profile');
    // The CLI's connection comes from the same place (config/settings.ts temporalConnectionOptions).
    const before = verifiedClients;
    const duban = await Duban.connect(
      loadSettings({ ...connectionEnv, DUBAN_TASK_QUEUE: 'envconfig-profile', DUBAN_DATA_DIR: dir }),
    );
    try {
      expect(await duban.status('overdue/profile')).toMatchObject({ colour: 'red' });
    } finally {
      await duban.close();
    }
    expect(verifiedClients).toBeGreaterThan(before);
    expect(await w.kill('SIGTERM')).toBe(0);
  });

  test('a worker connects with TEMPORAL_* variables (CA path, client certificate and key as data)', async () => {
    const w = await workerDelivers(
      'envconfig-variables',
      {
        TEMPORAL_CONFIG_FILE: path.join(dir, 'none.toml'),
        TEMPORAL_ADDRESS: proxyAddress,
        TEMPORAL_NAMESPACE: env.namespace ?? 'default',
        TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.ca,
        TEMPORAL_TLS_CLIENT_CERT_DATA: readFileSync(certs.cert, 'utf8'),
        TEMPORAL_TLS_CLIENT_KEY_DATA: readFileSync(certs.key, 'utf8'),
        TEMPORAL_TLS_SERVER_NAME: 'temporal.duban.test',
      },
      'variables',
    );
    expect(await w.kill('SIGTERM')).toBe(0);
  });

  test('a profile that trusts the wrong CA: the worker exits, naming where the address came from', async () => {
    const log = path.join(dir, 'wrongca.log');
    const w = spawnWorker(
      {
        TEMPORAL_CONFIG_FILE: profileFile(),
        TEMPORAL_PROFILE: 'wrongca',
        SMTP_URL: sink.url,
        DUBAN_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'duban-envconfig-data-')),
        DUBAN_TASK_QUEUE: 'envconfig-wrongca',
      },
      log,
    );
    workers.push(w);
    expect(await w.exited).toBe(1);
    expect(readFileSync(log, 'utf8')).toMatch(
      /无法连接 Temporal 127\.0\.0\.1:\d+（address of profile wrongca in .*temporal\.toml；namespace default；设置来自 profile wrongca in .*temporal\.toml）/,
    );
  });
});
