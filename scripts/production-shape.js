#!/usr/bin/env node
/**
 * The production shape, run for real on one machine (issue 11.1; docs/deployment.md "The production shape, measured"):
 *
 *  1. builds the Temporal server and its SQL tool from the Go module proxy (go.temporal.io/server cmd/server and
 *     cmd/tools/sql), unless DUBAN_SHAPE_GOBIN already holds them;
 *  2. starts a PostgreSQL (Debian's packages) with TLS, sets up Temporal's schema (temporal, temporal_visibility)
 *     with the SQL tool, starts the server on it, creates the namespace and duban's search attributes;
 *  3. starts a loopback SMTP server and two duban workers (ledger on the same PostgreSQL over TLS), registers a
 *     directory of DUBAN_SHAPE_UNITS units (default 500) whose level-1 escalations are all due at once (a storm),
 *     kills one worker with SIGKILL mid-storm (and starts it again, as a supervisor would), restarts the Temporal
 *     server once, and counts what the SMTP server received: delivered, lost, duplicated;
 *  4. runs the same storm on the dev server (temporal server start-dev) with two workers, without faults, for the
 *     rate side by side;
 *  5. backs the ledger up with pg_dump, restores it into a new database, and checks that the restored ledger has
 *     every notice and that `duban status` reads it.
 *
 * Prints the figures as JSON (and writes them to <work>/figures.json). Not part of `npm test`: it takes minutes
 * (the first build of the server much longer) and needs root or a postgres user, Go and network access to the Go
 * module proxy. Run with `scripts/production-shape.sh`.
 */
'use strict';
const { execFileSync, spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { SMTPServer } = require('smtp-server');

const ROOT = path.resolve(__dirname, '..');
const TEMPORAL_VERSION = process.env.DUBAN_SHAPE_TEMPORAL_VERSION || 'v1.32.0';
const UNITS = Number(process.env.DUBAN_SHAPE_UNITS || 500);
const WORK = process.env.DUBAN_SHAPE_DIR || fs.mkdtempSync(path.join(os.tmpdir(), 'duban-shape-'));
const GOBIN = process.env.DUBAN_SHAPE_GOBIN || path.join(WORK, 'go-bin');
const STORM_TIMEOUT_MS = Number(process.env.DUBAN_SHAPE_TIMEOUT_SECONDS || 900) * 1000;
const TEMPORAL_CLI = process.env.TEMPORAL_CLI_PATH || path.join(ROOT, '.tools', 'temporal', 'bin', 'temporal');

const started = [];
/** Undone in reverse order when the run ends, fails or is interrupted. */
const cleanups = [];
async function cleanUp() {
  for (const p of started.slice().reverse()) await stopProcess(p, 'SIGTERM', 10_000).catch(() => undefined);
  for (const c of cleanups.splice(0).reverse()) {
    try {
      c();
    } catch {
      // best effort
    }
  }
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    console.error(`interrupted (${signal}): stopping what this run started; logs in ${WORK}`);
    cleanUp().finally(() => process.exit(130));
  });
}
const t0 = Date.now();
const log = (message, extra = {}) =>
  console.error(JSON.stringify({ t: ((Date.now() - t0) / 1000).toFixed(1), message, ...extra }));

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...opts });
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${(r.stderr || r.stdout || '').slice(-2000)}`);
  return r.stdout;
}

/** Like run, without blocking the event loop: the SMTP sink lives in this process and must keep answering. */
function runAsync(cmd, args, opts = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const timer = opts.timeout ? setTimeout(() => child.kill('SIGKILL'), opts.timeout) : undefined;
    child.on('exit', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/**
 * A free port below 32768: Temporal keeps membership ports in a smallint column, and the kernel's ephemeral ports
 * (what port 0 gives) lie above that.
 */
async function lowPort() {
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    const free = await new Promise((resolve) => {
      const s = net.createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function startProcess(name, cmd, args, env = {}) {
  const logFile = path.join(WORK, `${name}.log`);
  const out = fs.openSync(logFile, 'a');
  const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', out, out] });
  const p = {
    name,
    child,
    logFile,
    exited: new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal))),
  };
  started.push(p);
  return p;
}

async function stopProcess(p, signal = 'SIGTERM', graceMs = 40_000) {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return p.exited;
  p.child.kill(signal);
  const done = await Promise.race([p.exited, sleep(graceMs).then(() => 'timeout')]);
  if (done === 'timeout') {
    p.child.kill('SIGKILL');
    return p.exited;
  }
  return done;
}

// ---------------------------------------------------------------------------------------------- 1. the build
function buildTemporal() {
  const server = path.join(GOBIN, 'server');
  const sql = path.join(GOBIN, 'sql');
  if (fs.existsSync(server) && fs.existsSync(sql)) return { server, sql, built: false, seconds: 0 };
  log('building the Temporal server and its SQL tool from the Go module proxy (long the first time)', {
    version: TEMPORAL_VERSION,
    gobin: GOBIN,
  });
  const start = Date.now();
  fs.mkdirSync(GOBIN, { recursive: true });
  run(
    'go',
    [
      'install',
      `go.temporal.io/server/cmd/server@${TEMPORAL_VERSION}`,
      `go.temporal.io/server/cmd/tools/sql@${TEMPORAL_VERSION}`,
    ],
    {
      env: { ...process.env, GOBIN, GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local' },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  return { server, sql, built: true, seconds: Math.round((Date.now() - start) / 1000) };
}

function moduleDir() {
  const cache = run('go', ['env', 'GOMODCACHE']).trim();
  const dir = path.join(cache, 'go.temporal.io', `server@${TEMPORAL_VERSION}`);
  if (!fs.existsSync(path.join(dir, 'schema')))
    run('go', ['mod', 'download', `go.temporal.io/server@${TEMPORAL_VERSION}`], {
      cwd: WORK,
      env: { ...process.env, GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local' },
    });
  return dir;
}

// ---------------------------------------------------------------------------------------------- 2. PostgreSQL
function postgresBin() {
  const base = '/usr/lib/postgresql';
  const versions = fs.existsSync(base)
    ? fs
        .readdirSync(base)
        .filter((v) => fs.existsSync(path.join(base, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (!versions.length) throw new Error('PostgreSQL is not installed: apt-get install postgresql');
  return path.join(base, versions[0], 'bin');
}

/** A CA and a server certificate for 127.0.0.1, for PostgreSQL's TLS. */
function makeCertificates(dir) {
  const ssl = (...args) => run('openssl', args, { cwd: dir });
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
    '30',
    '-subj',
    '/CN=duban shape CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  );
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
  fs.writeFileSync(
    path.join(dir, 'server.ext'),
    'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n',
  );
  ssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.pem',
    '-days',
    '30',
    '-extfile',
    'server.ext',
  );
  return { ca: path.join(dir, 'ca.pem'), cert: path.join(dir, 'server.pem'), key: path.join(dir, 'server.key') };
}

async function startPostgres() {
  const bin = postgresBin();
  const root = path.join(WORK, 'pg');
  const data = path.join(root, 'data');
  fs.mkdirSync(root, { recursive: true });
  fs.chmodSync(root, 0o755);
  const asRoot = process.getuid && process.getuid() === 0;
  const pg = (cmd, args) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', path.join(bin, cmd), ...args]) : run(path.join(bin, cmd), args);
  // Files PostgreSQL's tools write (the server log, dumps) go where its user may write.
  const files = path.join(root, 'files');
  if (asRoot) {
    run('install', ['-d', '-o', 'postgres', '-g', 'postgres', '-m', '700', data]);
    run('install', ['-d', '-o', 'postgres', '-g', 'postgres', '-m', '755', files]);
  } else fs.mkdirSync(files);
  pg('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8']);
  const certs = makeCertificates(root);
  const tlsDir = path.join(data, 'tls');
  if (asRoot) run('install', ['-d', '-o', 'postgres', '-g', 'postgres', '-m', '700', tlsDir]);
  else fs.mkdirSync(tlsDir, { mode: 0o700 });
  for (const f of ['server.pem', 'server.key']) {
    fs.copyFileSync(path.join(root, f), path.join(tlsDir, f));
    fs.chmodSync(path.join(tlsDir, f), 0o600);
    if (asRoot) run('chown', ['postgres:postgres', path.join(tlsDir, f)]);
  }
  const port = await freePort();
  const opts = `-c listen_addresses=127.0.0.1 -p ${port} -k ${data} -c max_connections=300 -c ssl=on -c ssl_cert_file=${tlsDir}/server.pem -c ssl_key_file=${tlsDir}/server.key`;
  pg('pg_ctl', ['-D', data, '-l', path.join(files, 'server.log'), '-w', '-t', '60', '-o', opts, 'start']);
  const psql = (db, sql) =>
    pg('psql', [
      '-h',
      '127.0.0.1',
      '-p',
      String(port),
      '-U',
      'postgres',
      '-d',
      db,
      '-v',
      'ON_ERROR_STOP=1',
      '-At',
      '-c',
      sql,
    ]);
  for (const db of ['duban', 'duban_dev'])
    pg('createdb', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', db]);
  return {
    port,
    bin,
    files,
    ca: certs.ca,
    psql,
    pg,
    // TLS verified against our CA (DATABASE_CA_FILE); no sslmode in the URL, which node-postgres would let override the CA.
    url: (db) => `postgres://postgres@127.0.0.1:${port}/${db}`,
    stop: () => pg('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']),
  };
}

// ---------------------------------------------------------------------------------------------- 2. Temporal
function serverConfig(ports, pgPort) {
  const store = (db, conns) => `      sql:
        pluginName: "postgres12"
        databaseName: "${db}"
        connectAddr: "127.0.0.1:${pgPort}"
        connectProtocol: "tcp"
        user: "postgres"
        password: ""
        maxConns: ${conns}
        maxIdleConns: ${conns}
        maxConnLifetime: "1h"`;
  const svc = (name, grpc, membership) => `  ${name}:
    rpc:
      grpcPort: ${grpc}
      membershipPort: ${membership}
      bindOnLocalHost: true`;
  return `log:
  stdout: true
  level: warn
persistence:
  defaultStore: postgres-default
  visibilityStore: postgres-visibility
  numHistoryShards: 4
  datastores:
    postgres-default:
${store('temporal', 20)}
    postgres-visibility:
${store('temporal_visibility', 10)}
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "127.0.0.1"
  metrics:
    prometheus:
      framework: "tally"
      timerType: "histogram"
      listenAddress: "127.0.0.1:${ports.metrics}"
services:
${svc('frontend', ports.frontend, ports.frontendMembership)}
      httpPort: ${ports.http}
${svc('matching', ports.matching, ports.matchingMembership)}
${svc('history', ports.history, ports.historyMembership)}
${svc('worker', ports.worker, ports.workerMembership)}
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: "active"
  currentClusterName: "active"
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: "frontend"
      rpcAddress: "127.0.0.1:${ports.frontend}"
dcRedirectionPolicy:
  policy: "noop"
`;
}

async function waitForTemporal(address, timeoutMs = 120_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = await runAsync(TEMPORAL_CLI, ['operator', 'cluster', 'health', '--address', address], {
      timeout: 10_000,
    });
    if (r.status === 0 && /SERVING/.test(r.stdout)) return;
    if (Date.now() > until) throw new Error(`Temporal at ${address} not healthy: ${r.stdout}${r.stderr}`);
    await sleep(500);
  }
}

function createNamespace(address, namespace) {
  const cli = (...args) =>
    spawnSync(TEMPORAL_CLI, [...args, '--address', address], { encoding: 'utf8', timeout: 30_000 });
  const ns = cli('operator', 'namespace', 'create', '--namespace', namespace, '--retention', '72h');
  if (ns.status !== 0 && !/already/i.test(ns.stderr + ns.stdout)) throw new Error(`namespace create: ${ns.stderr}`);
  for (const [name, type] of [
    ['DubanObligation', 'Keyword'],
    ['DubanUnit', 'Keyword'],
    ['DubanPeriod', 'Keyword'],
    ['DubanColour', 'Keyword'],
    ['DubanDue', 'Datetime'],
  ]) {
    const r = cli('operator', 'search-attribute', 'create', '--namespace', namespace, '--name', name, '--type', type);
    if (r.status !== 0 && !/already/i.test(r.stderr + r.stdout))
      throw new Error(`search attribute ${name}: ${r.stderr}`);
  }
}

// ---------------------------------------------------------------------------------------------- 3. the storm
async function startSink() {
  const sink = { keys: new Map(), at: [], messages: 0 };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, cb) {
      let head = '';
      stream.on('data', (c) => {
        if (head.length < 16384) head += c.toString('utf8');
      });
      stream.on('end', () => {
        const key = (/^X-Duban-Key:\s*(.+)$/im.exec(head) || [])[1]?.trim() ?? '';
        sink.keys.set(key, (sink.keys.get(key) || 0) + 1);
        sink.at.push(Date.now());
        sink.messages++;
        cb();
      });
    },
  });
  server.on('error', () => undefined);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  sink.url = `smtp://127.0.0.1:${server.server.address().port}`;
  sink.close = () => new Promise((resolve) => server.close(() => resolve()));
  sink.reset = () => {
    sink.keys.clear();
    sink.at = [];
    sink.messages = 0;
  };
  return sink;
}

function counts(sink, expected, prefix) {
  let delivered = 0;
  let duplicated = 0;
  for (const key of expected) {
    const n = sink.keys.get(key) || 0;
    if (n > 0) delivered++;
    if (n > 1) duplicated += n - 1;
  }
  const other = [...sink.keys.keys()].filter((k) => !k.startsWith(prefix)).length;
  return { delivered, lost: expected.length - delivered, duplicated, otherMessages: other };
}

async function register(env, inputs) {
  const start = Date.now();
  const r = await runAsync(
    process.execPath,
    [
      path.join(ROOT, 'bin', 'duban.js'),
      'register',
      path.join(inputs, 'catalog.yaml'),
      path.join(inputs, 'directory.yaml'),
      '--json',
    ],
    { cwd: WORK, env: { ...process.env, ...env, DUBAN_USER: '演练管理员' } },
  );
  if (r.status !== 0) throw new Error(`duban register failed (${r.status}): ${r.stderr.slice(-2000)}`);
  const summary = JSON.parse(r.stdout);
  return { seconds: (Date.now() - start) / 1000, started: summary.started.length, at: start };
}

async function storm({ label, env, inputs, expected, sink, faults }) {
  sink.reset();
  const workers = [1, 2].map((i) =>
    startProcess(`${label}-worker-${i}`, process.execPath, [path.join(ROOT, 'dist', 'worker', 'main.js')], env),
  );
  await sleep(8_000); // each worker bundles the workflows before it polls
  const reg = await register(env, inputs);
  log(`${label}: registered`, { trackers: reg.started, seconds: reg.seconds });
  const n = expected.length;
  const prefix = expected[0].split('/')[0];
  const events = {};
  const until = Date.now() + STORM_TIMEOUT_MS;
  let killed = false;
  let restarted = false;
  for (;;) {
    const c = counts(sink, expected, prefix);
    if (faults && !killed && c.delivered >= n * 0.25) {
      killed = true;
      events.workerKilledAt = { delivered: c.delivered, afterRegistrationSeconds: (Date.now() - reg.at) / 1000 };
      workers[0].child.kill('SIGKILL');
      log(`${label}: worker 1 killed with SIGKILL`, { delivered: c.delivered });
      // A supervisor (systemd, Kubernetes) starts it again.
      setTimeout(
        () =>
          workers.push(
            startProcess(
              `${label}-worker-1-again`,
              process.execPath,
              [path.join(ROOT, 'dist', 'worker', 'main.js')],
              env,
            ),
          ),
        5_000,
      );
    }
    if (faults && !restarted && c.delivered >= n * 0.5) {
      restarted = true;
      const r0 = Date.now();
      events.serverRestart = { delivered: c.delivered, afterRegistrationSeconds: (r0 - reg.at) / 1000 };
      log(`${label}: restarting the Temporal server`, { delivered: c.delivered });
      await faults.restartServer();
      events.serverRestart.downSeconds = (Date.now() - r0) / 1000;
      const before = sink.messages;
      const r1 = Date.now();
      while (sink.messages === before && counts(sink, expected, prefix).delivered < n && Date.now() < until)
        await sleep(100);
      events.serverRestart.firstDeliveryAfterSeconds = (Date.now() - r1) / 1000;
      events.serverRestart.recoverySeconds = (Date.now() - r0) / 1000;
      log(`${label}: Temporal server back`, events.serverRestart);
    }
    if (c.delivered >= n || Date.now() > until) break;
    await sleep(200);
  }
  // Late duplicates arrive after the last first delivery, if at all: wait a little before counting.
  await sleep(faults ? 40_000 : 5_000);
  const c = counts(sink, expected, prefix);
  const times = sink.at.slice().sort((a, b) => a - b);
  const last = times[Math.min(times.length, n) - 1] ?? Date.now();
  for (const w of workers) await stopProcess(w);
  return {
    label,
    notices: n,
    ...c,
    registerSeconds: reg.seconds,
    firstDeliverySeconds: times.length ? (times[0] - reg.at) / 1000 : null,
    lastDeliverySeconds: (last - reg.at) / 1000,
    deliveredPerSecondFromRegistration: +(c.delivered / ((last - reg.at) / 1000)).toFixed(1),
    deliveredPerSecondFromFirst: times.length > 1 ? +(c.delivered / ((last - times[0]) / 1000)).toFixed(1) : null,
    ...events,
  };
}

// ---------------------------------------------------------------------------------------------- main
async function realServerStorm(bins, pg, inputs, expected, sink, common) {
  const mod = moduleDir();
  const sqlTool = (db, ...args) =>
    run(bins.sql, [
      '--plugin',
      'postgres12',
      '--ep',
      '127.0.0.1',
      '-p',
      String(pg.port),
      '-u',
      'postgres',
      '--db',
      db,
      ...args,
    ]);
  for (const [db, dir] of [
    ['temporal', 'temporal'],
    ['temporal_visibility', 'visibility'],
  ]) {
    sqlTool(db, 'create-database');
    sqlTool(db, 'setup-schema', '-v', '0.0');
    sqlTool(db, 'update-schema', '-d', path.join(mod, 'schema', 'postgresql', 'v12', dir, 'versioned'));
  }
  log('Temporal schema set up', {
    version: pg.psql('temporal', 'SELECT curr_version FROM schema_version').trim(),
    visibility: pg.psql('temporal_visibility', 'SELECT curr_version FROM schema_version').trim(),
  });

  const ports = {};
  for (const k of [
    'frontend',
    'frontendMembership',
    'http',
    'matching',
    'matchingMembership',
    'history',
    'historyMembership',
    'worker',
    'workerMembership',
    'metrics',
  ])
    ports[k] = await lowPort();
  const configFile = path.join(WORK, 'temporal-server.yaml');
  fs.writeFileSync(configFile, serverConfig(ports, pg.port));
  const address = `127.0.0.1:${ports.frontend}`;
  let server = startProcess('temporal-server', bins.server, ['--config-file', configFile, '--allow-no-auth', 'start']);
  const s0 = Date.now();
  await waitForTemporal(address);
  log('Temporal server serving', { address, seconds: (Date.now() - s0) / 1000 });
  createNamespace(address, 'duban');
  await sleep(3_000); // the namespace reaches every service's cache

  const real = await storm({
    label: 'server+postgresql',
    env: {
      ...common,
      TEMPORAL_ADDRESS: address,
      TEMPORAL_NAMESPACE: 'duban',
      DATABASE_URL: pg.url('duban'),
      DUBAN_TASK_QUEUE: 'duban',
    },
    inputs,
    expected,
    sink,
    faults: {
      async restartServer() {
        await stopProcess(server, 'SIGTERM');
        server = startProcess('temporal-server-again', bins.server, [
          '--config-file',
          configFile,
          '--allow-no-auth',
          'start',
        ]);
        await waitForTemporal(address);
      },
    },
  });
  log('storm on the server with PostgreSQL', real);
  await stopProcess(server);
  return real;
}

async function main() {
  log('work folder', { WORK });
  if (!fs.existsSync(path.join(ROOT, 'dist', 'worker', 'main.js'))) throw new Error('run `npm run build` first');
  // DUBAN_SHAPE_SKIP_SERVER=1: only the dev-server storm and the backup (no Go build), e.g. to try the script.
  const skipServer = process.env.DUBAN_SHAPE_SKIP_SERVER === '1';
  const bins = skipServer ? { skipped: true } : buildTemporal();
  log('Temporal binaries', bins);
  const pg = await startPostgres();
  let pgStopped = false;
  cleanups.push(() => pgStopped || pg.stop());
  log('PostgreSQL with TLS', { port: pg.port });
  const inputs = path.join(WORK, 'inputs');
  run(process.execPath, [path.join(ROOT, 'scripts', 'shape-inputs.js'), inputs, String(UNITS)]);
  const expected = fs.readFileSync(path.join(inputs, 'expected-keys.txt'), 'utf8').trim().split('\n');
  const sink = await startSink();
  const common = {
    SMTP_URL: sink.url,
    MAIL_FROM: '督办系统 <duban@shape.example.org>',
    DATABASE_CA_FILE: pg.ca,
    DUBAN_DIGEST: 'false',
    TZ: 'UTC',
    DUBAN_LOG_LEVEL: 'WARN',
    TEMPORAL_CONFIG_FILE: path.join(WORK, 'no-temporal.toml'),
  };
  const real = skipServer
    ? { label: 'server+postgresql', skipped: true }
    : await realServerStorm(bins, pg, inputs, expected, sink, common);

  // The dev server, same storm, no faults: the figure to compare with.
  const devPort = await freePort();
  const devAddress = `127.0.0.1:${devPort}`;
  const dev = startProcess('dev-server', TEMPORAL_CLI, [
    'server',
    'start-dev',
    '--headless',
    '--ip',
    '127.0.0.1',
    '--port',
    String(devPort),
    '--ui-port',
    String(await freePort()),
    '--http-port',
    String(await freePort()),
    '--metrics-port',
    String(await freePort()),
    '--db-filename',
    path.join(WORK, 'dev.sqlite'),
    '--log-level',
    'never',
    ...['DubanObligation', 'DubanUnit', 'DubanPeriod', 'DubanColour'].flatMap((n) => [
      '--search-attribute',
      `${n}=Keyword`,
    ]),
    '--search-attribute',
    'DubanDue=Datetime',
  ]);
  await waitForTemporal(devAddress);
  const devRun = await storm({
    label: 'dev-server',
    env: {
      ...common,
      TEMPORAL_ADDRESS: devAddress,
      TEMPORAL_NAMESPACE: 'default',
      DATABASE_URL: pg.url('duban_dev'),
      DUBAN_TASK_QUEUE: 'duban',
    },
    inputs,
    expected,
    sink,
  });
  log('storm on the dev server', devRun);
  await stopProcess(dev);

  // Backup and restore of the ledger (of the real server's run; of the dev server's when that was skipped).
  const ledgerDb = skipServer ? 'duban_dev' : 'duban';
  const dump = path.join(pg.files, 'duban.dump');
  pg.pg('pg_dump', ['-h', '127.0.0.1', '-p', String(pg.port), '-U', 'postgres', '-Fc', '-f', dump, ledgerDb]);
  pg.pg('createdb', ['-h', '127.0.0.1', '-p', String(pg.port), '-U', 'postgres', 'duban_restored']);
  pg.pg('pg_restore', ['-h', '127.0.0.1', '-p', String(pg.port), '-U', 'postgres', '-d', 'duban_restored', dump]);
  const noticeCount = (db) =>
    pg.psql(db, "SELECT count(*) FILTER (WHERE status = 'sent') || '/' || count(*) FROM notices").trim();
  const status = run(process.execPath, [path.join(ROOT, 'bin', 'duban.js'), 'status', '--json'], {
    cwd: WORK,
    env: { ...process.env, ...common, DATABASE_URL: pg.url('duban_restored') },
  });
  const backup = {
    dumpBytes: fs.statSync(dump).size,
    ledger: ledgerDb,
    noticesSentOfAll: noticeCount(ledgerDb),
    restoredSentOfAll: noticeCount('duban_restored'),
    restoredBoardItems: JSON.parse(status).items.length,
  };
  log('backup and restore', backup);

  await sink.close();
  pg.stop();
  pgStopped = true;
  const figures = {
    temporalVersion: TEMPORAL_VERSION,
    build: bins,
    units: UNITS,
    storms: [real, devRun],
    backup,
    work: WORK,
  };
  fs.writeFileSync(path.join(WORK, 'figures.json'), JSON.stringify(figures, null, 2));
  console.log(JSON.stringify(figures, null, 2));
  return (real.skipped || real.lost === 0) && devRun.lost === 0 && backup.noticesSentOfAll === backup.restoredSentOfAll
    ? 0
    : 1;
}

main().then(
  (code) => process.exit(code),
  async (err) => {
    console.error(err && err.stack ? err.stack : err);
    await cleanUp();
    console.error(`logs in ${WORK}`);
    process.exit(1);
  },
);
