/**
 * A loopback 企业微信 group robot (channels/wecom.ts for the contract): an unknown key is errcode 93000, a
 * content over its type's limit 40058, an unknown msgtype 40008, more than 20 a minute 45009, all at HTTP 200.
 */
import { byteLength } from '../transport';
import { FakeAnswer, FakeRequest, Received, SlidingWindow } from './window';

export class FakeWecom {
  private windows = new Map<string, SlidingWindow>();

  constructor(
    private readonly keys: Set<string>,
    private readonly store: (r: Received) => void,
  ) {}

  handle(req: FakeRequest, now: number): FakeAnswer {
    const key = req.query.get('key') ?? '';
    const answer = (errcode: number, errmsg: string): FakeAnswer => ({ status: 200, body: { errcode, errmsg } });
    if (req.method !== 'POST') return answer(43002, 'require POST method');
    if (!this.keys.has(key)) return answer(93000, 'invalid webhook url, hint: key not found');
    let body: { msgtype?: string; text?: { content?: string }; markdown?: { content?: string } };
    try {
      body = JSON.parse(req.body);
    } catch {
      return answer(40035, 'invalid json');
    }
    let text: string;
    if (body.msgtype === 'text') {
      text = String(body.text?.content ?? '');
      if (!text) return answer(44004, 'text content is empty');
      if (byteLength(text) > 2048) return answer(40058, 'text.content exceed max length 2048');
    } else if (body.msgtype === 'markdown') {
      text = String(body.markdown?.content ?? '');
      if (!text) return answer(44004, 'markdown content is empty');
      if (byteLength(text) > 4096) return answer(40058, 'markdown.content exceed max length 4096');
    } else return answer(40008, 'invalid message type');
    let w = this.windows.get(key);
    if (!w) this.windows.set(key, (w = new SlidingWindow(20, 60_000)));
    if (!w.allows(now)) return answer(45009, 'api freq out of limit');
    w.take(now);
    this.store({ kind: 'wecom', to: key, at: now, text, body });
    return answer(0, 'ok');
  }
}
