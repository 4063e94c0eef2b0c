/**
 * Loopback fakes of every provider, on one HTTP server (127.0.0.1, a free port), for the tests and `npm start`:
 * each verifies what its provider verifies, enforces its limits and answers with its codes (the files beside this
 * one), and keeps what it accepted (`received()`). No provider is reachable from here; these are built to the
 * providers' documented contracts, so that duban getting a contract wrong fails a test.
 *
 * Paths: /wecom/cgi-bin/webhook/send, /dingtalk/robot/send, /feishu/open-apis/bot/v2/hook/{id}, /aliyun/,
 * /webhook/{name}; `urls` gives the base addresses to put in the settings (DUBAN_WECOM_URL, …).
 */
import { createServer, IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeAliyunSms, FakeSmsAccount } from './aliyun-sms';
import { FakeDingtalk, FakeDingtalkRobot } from './dingtalk';
import { FakeFeishu, FakeFeishuBot } from './feishu';
import { FakeWebhook } from './webhook';
import { FakeWecom } from './wecom';
import type { FakeAnswer, FakeRequest, Received } from './window';

export type { Received } from './window';
export type { FakeSmsAccount } from './aliyun-sms';
export type { FakeDingtalkRobot } from './dingtalk';
export type { FakeFeishuBot } from './feishu';

export interface FakeConfig {
  wecom?: string[];
  dingtalk?: FakeDingtalkRobot[];
  feishu?: FakeFeishuBot[];
  sms?: FakeSmsAccount[];
  /** Webhook name → secret. */
  webhooks?: Record<string, string>;
  /** The providers' clock (tests move it); default the wall clock. */
  now?: () => number;
  /** Called with each message accepted (`npm start` prints them). */
  onReceived?: (r: Received) => void;
}

export interface FakeUrls {
  wecom: string;
  dingtalk: string;
  feishu: string;
  aliyun: string;
  webhook: string;
}

export class ChannelFakes {
  readonly wecom: FakeWecom;
  readonly dingtalk: FakeDingtalk;
  readonly feishu: FakeFeishu;
  readonly aliyun: FakeAliyunSms;
  readonly webhook: FakeWebhook;
  /** Every request answered, accepted or not: what a test checks a limit against. */
  readonly requests: { path: string; at: number; status: number; body: unknown }[] = [];
  private kept: Received[] = [];
  private server: Server | undefined;
  urls: FakeUrls | undefined;

  constructor(private readonly config: FakeConfig) {
    const store = (r: Received) => {
      this.kept.push(r);
      config.onReceived?.(r);
    };
    this.wecom = new FakeWecom(new Set(config.wecom ?? []), store);
    this.dingtalk = new FakeDingtalk(new Map((config.dingtalk ?? []).map((r) => [r.token, r])), store);
    this.feishu = new FakeFeishu(new Map((config.feishu ?? []).map((b) => [b.hook, b])), store);
    this.aliyun = new FakeAliyunSms(new Map((config.sms ?? []).map((a) => [a.accessKeyId, a])), store);
    this.webhook = new FakeWebhook(new Map(Object.entries(config.webhooks ?? {})), store);
  }

  /** What the fakes accepted, oldest first; optionally of one kind or one robot, phone or webhook. */
  received(filter: { kind?: Received['kind']; to?: string } = {}): Received[] {
    return this.kept.filter((r) => (!filter.kind || r.kind === filter.kind) && (!filter.to || r.to === filter.to));
  }

  answer(req: FakeRequest): FakeAnswer {
    const now = (this.config.now ?? Date.now)();
    const [, provider] = req.path.split('/');
    let a: FakeAnswer;
    if (provider === 'wecom' && req.path === '/wecom/cgi-bin/webhook/send') a = this.wecom.handle(req, now);
    else if (provider === 'dingtalk' && req.path === '/dingtalk/robot/send') a = this.dingtalk.handle(req, now);
    else if (provider === 'feishu' && req.path.startsWith('/feishu/open-apis/bot/v2/hook/'))
      a = this.feishu.handle(req, now);
    else if (provider === 'aliyun') a = this.aliyun.handle(req, now);
    else if (provider === 'webhook') a = this.webhook.handle(req, now);
    else a = { status: 404, body: { error: 'no such provider path' } };
    this.requests.push({ path: req.path, at: now, status: a.status, body: a.body });
    return a;
  }

  async start(port = 0): Promise<FakeUrls> {
    const server = createServer((req, res) => {
      void readBody(req).then((body) => {
        const u = new URL(req.url ?? '/', 'http://127.0.0.1');
        const a = this.answer({
          method: req.method ?? 'GET',
          path: u.pathname,
          query: u.searchParams,
          headers: req.headers,
          body,
        });
        res.writeHead(a.status, { 'content-type': 'application/json; charset=utf-8', ...a.headers });
        res.end(JSON.stringify(a.body));
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    this.server = server;
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    this.urls = {
      wecom: `${base}/wecom/cgi-bin/webhook/send`,
      dingtalk: `${base}/dingtalk/robot/send`,
      feishu: `${base}/feishu/open-apis/bot/v2/hook`,
      aliyun: `${base}/aliyun/`,
      webhook: `${base}/webhook`,
    };
    return this.urls;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(''));
  });
}
