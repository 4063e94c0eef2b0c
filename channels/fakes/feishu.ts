/**
 * A loopback 飞书 custom bot (channels/feishu.ts for the contract): an unknown hook is code 19001; a bot with a
 * signing secret refuses a wrong sign or a timestamp more than an hour off with 19021, one with a keyword a
 * message without it with 19024; a body over 20 KB is 19002 (the documentation states the limit, not its code:
 * the fake's choice); over 100 a minute or 5 a second is 9499 at HTTP 400. Success is code 0 at HTTP 200.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { byteLength } from '../transport';
import { FakeAnswer, FakeRequest, Received, SlidingWindow } from './window';

export interface FakeFeishuBot {
  hook: string;
  secret?: string;
  keyword?: string;
}

interface Post {
  title?: string;
  content?: { tag?: string; text?: string; href?: string }[][];
}

export class FakeFeishu {
  private minute = new Map<string, SlidingWindow>();
  private second = new Map<string, SlidingWindow>();

  constructor(
    private readonly bots: Map<string, FakeFeishuBot>,
    private readonly store: (r: Received) => void,
  ) {}

  handle(req: FakeRequest, now: number): FakeAnswer {
    const answer = (code: number, msg: string, status = 200): FakeAnswer => ({
      status,
      body: { code, msg, data: {} },
    });
    const hook = decodeURIComponent(req.path.split('/').pop() ?? '');
    const bot = this.bots.get(hook);
    if (!bot) return answer(19001, 'param invalid: incoming webhook access token invalid', 400);
    if (byteLength(req.body) > 20 * 1024) return answer(19002, 'request body too large, at most 20KB', 400);
    let body: {
      timestamp?: string;
      sign?: string;
      msg_type?: string;
      content?: { text?: string; post?: { zh_cn?: Post } };
    };
    try {
      body = JSON.parse(req.body);
    } catch {
      return answer(9499, 'Bad Request', 400);
    }
    if (bot.secret) {
      const ts = Number(body.timestamp);
      if (!Number.isInteger(ts) || Math.abs(now / 1000 - ts) > 3600)
        return answer(19021, 'sign match fail or timestamp is not within one hour from current time');
      const want = Buffer.from(createHmac('sha256', `${ts}\n${bot.secret}`).update('').digest('base64'));
      const got = Buffer.from(String(body.sign ?? ''));
      if (want.length !== got.length || !timingSafeEqual(want, got))
        return answer(19021, 'sign match fail or timestamp is not within one hour from current time');
    }
    let text: string;
    if (body.msg_type === 'text') text = String(body.content?.text ?? '');
    else if (body.msg_type === 'post') {
      const p = body.content?.post?.zh_cn;
      text = [p?.title ?? '', ...(p?.content ?? []).map((line) => line.map((s) => s.text ?? '').join(''))].join('\n');
    } else return answer(19001, 'param invalid: msg_type');
    if (bot.keyword && !text.includes(bot.keyword)) return answer(19024, 'Key Words Not Found');
    let m = this.minute.get(hook);
    if (!m) this.minute.set(hook, (m = new SlidingWindow(100, 60_000)));
    let s = this.second.get(hook);
    if (!s) this.second.set(hook, (s = new SlidingWindow(5, 1_000)));
    if (!m.allows(now) || !s.allows(now)) return answer(9499, 'too many request', 400);
    m.take(now);
    s.take(now);
    this.store({ kind: 'feishu', to: hook, at: now, text, body });
    return answer(0, 'success');
  }
}
