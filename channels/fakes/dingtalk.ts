/**
 * A loopback 钉钉 custom robot (channels/dingtalk.ts for the contract): an unknown token is 300001; a robot with a
 * 加签 secret refuses a missing or wrong sign, or a timestamp more than an hour off, with 310000, as one with a
 * keyword refuses a message without it; a body over 20,000 bytes is 460101; the 21st message in a minute is
 * 130101 and throttles the robot for ten minutes. All at HTTP 200.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { byteLength } from '../transport';
import { FakeAnswer, FakeRequest, Received, SlidingWindow } from './window';

export interface FakeDingtalkRobot {
  token: string;
  secret?: string;
  keyword?: string;
}

export class FakeDingtalk {
  private windows = new Map<string, SlidingWindow>();
  private throttledUntil = new Map<string, number>();

  constructor(
    private readonly robots: Map<string, FakeDingtalkRobot>,
    private readonly store: (r: Received) => void,
  ) {}

  handle(req: FakeRequest, now: number): FakeAnswer {
    const answer = (errcode: number, errmsg: string): FakeAnswer => ({ status: 200, body: { errcode, errmsg } });
    const robot = this.robots.get(req.query.get('access_token') ?? '');
    if (!robot) return answer(300001, 'token is not exist');
    if (robot.secret) {
      const ts = Number(req.query.get('timestamp'));
      // URLSearchParams has decoded the sign once, as 钉钉 does.
      const sign = req.query.get('sign') ?? '';
      if (!Number.isInteger(ts) || Math.abs(now - ts) > 60 * 60_000)
        return answer(310000, 'sign not match, more: [timestamp is not within one hour of the server time]');
      const want = Buffer.from(createHmac('sha256', robot.secret).update(`${ts}\n${robot.secret}`).digest('base64'));
      const got = Buffer.from(sign);
      if (want.length !== got.length || !timingSafeEqual(want, got)) return answer(310000, 'sign not match');
    }
    if (byteLength(req.body) > 20_000) return answer(460101, 'message too large, more than 20000 bytes');
    let body: { msgtype?: string; text?: { content?: string }; markdown?: { title?: string; text?: string } };
    try {
      body = JSON.parse(req.body);
    } catch {
      return answer(43000, 'param error: invalid json');
    }
    const text =
      body.msgtype === 'markdown'
        ? `${body.markdown?.title ?? ''}\n${body.markdown?.text ?? ''}`
        : body.msgtype === 'text'
          ? String(body.text?.content ?? '')
          : undefined;
    if (text === undefined) return answer(40035, 'missing msgtype or unsupported msgtype');
    if (robot.keyword && !text.includes(robot.keyword)) return answer(310000, 'keywords not in content');
    if ((this.throttledUntil.get(robot.token) ?? 0) > now)
      return answer(130101, 'send too fast, exceed 20 times per minute');
    let w = this.windows.get(robot.token);
    if (!w) this.windows.set(robot.token, (w = new SlidingWindow(20, 60_000)));
    if (!w.allows(now)) {
      this.throttledUntil.set(robot.token, now + 10 * 60_000);
      return answer(130101, 'send too fast, exceed 20 times per minute');
    }
    w.take(now);
    this.store({ kind: 'dingtalk', to: robot.token, at: now, text, body });
    return answer(0, 'ok');
  }
}
