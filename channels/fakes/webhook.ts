/** A loopback webhook receiver: verifies the signature and the timestamp (401), keeps each event once by its id. */
import { verifyWebhook } from '../webhook';
import { FakeAnswer, FakeRequest, Received } from './window';

export class FakeWebhook {
  /** Repeats of an event id, which a receiver drops. */
  duplicates = 0;
  private seen = new Set<string>();

  constructor(
    private readonly secrets: Map<string, string>,
    private readonly store: (r: Received) => void,
  ) {}

  handle(req: FakeRequest, now: number): FakeAnswer {
    const name = decodeURIComponent(req.path.split('/').pop() ?? '');
    const secret = this.secrets.get(name);
    if (!secret) return { status: 404, body: { error: 'no such webhook' } };
    const refused = verifyWebhook(secret, req.headers, req.body, now);
    if (refused) return { status: 401, body: { error: refused } };
    const event = JSON.parse(req.body) as { id: string; type: string; data?: { text?: string } };
    if (this.seen.has(event.id)) {
      this.duplicates++;
      return { status: 200, body: { ok: true, duplicate: true } };
    }
    this.seen.add(event.id);
    this.store({ kind: 'webhook', to: name, at: now, text: `${event.type} ${event.data?.text ?? ''}`, body: event });
    return { status: 200, body: { ok: true } };
  }
}
