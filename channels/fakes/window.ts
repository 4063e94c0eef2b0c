/** A sliding window of accepted sends, as the fakes enforce a provider's "N a minute" (strictest reading). */
export class SlidingWindow {
  private at: number[] = [];

  constructor(
    readonly limit: number,
    readonly windowMs: number,
  ) {}

  /** Whether one more fits at `now`; does not count it. */
  allows(now: number): boolean {
    this.at = this.at.filter((t) => t > now - this.windowMs);
    return this.at.length < this.limit;
  }

  take(now: number): void {
    this.at.push(now);
  }
}

/** What a fake accepted: the robot or number it went to, when, and what the provider would show. */
export interface Received {
  kind: 'wecom' | 'dingtalk' | 'feishu' | 'sms' | 'webhook';
  /** The robot's key, the mobile, or the webhook's name. */
  to: string;
  at: number;
  /** The text a member of the group (or the phone's owner) reads. */
  text: string;
  body: unknown;
}

export interface FakeRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface FakeAnswer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}
