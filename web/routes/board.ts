/** The board (`/`): every open period the person may see, most urgent first, with a count by unit and colour. */
import type { FastifyInstance } from 'fastify';
import { boardStates } from '../../access/board';
import { Snapshot, latestSnapshot } from '../../access/registered';
import { brokenChannelText } from '../../channels/broken';
import { DEFAULT_TIME_ZONE } from '../../domain/model';
import { formatLocal } from '../../domain/zone';
import type { WebContext } from '../context';
import * as pages from '../pages';
import { maySee } from '../roles';
import { requireSignedIn } from '../session';

const BOARD_ITEMS = 300;
const COLOUR_ORDER: Record<string, number> = { broken: -1, red: 0, yellow: 1, green: 2, done: 3, waived: 4 };
type Counts = { red: number; yellow: number; green: number; done: number; waived: number };

/**
 * The workers' open alerts, each with what it means for the people on the board: a broken channel (`channel/<name>`)
 * says which channel, what its provider answered and which setting to fix (channels/broken.ts); the SMTP alert's
 * words are the page's own.
 */
async function boardAlerts(d: WebContext, snapshot: Snapshot | undefined): Promise<pages.BoardAlert[]> {
  const alerts = await d.ledger.openAlerts().catch(() => []);
  if (!alerts.some((a) => a.kind.startsWith('channel/'))) return alerts.map((a) => ({ kind: a.kind, since: a.since }));
  const broken = new Map((await d.ledger.channels.broken().catch(() => [])).map((b) => [b.channel, b.reason]));
  return alerts.map((a) => {
    if (!a.kind.startsWith('channel/')) return { kind: a.kind, since: a.since };
    const name = a.kind.slice('channel/'.length);
    const kind = snapshot?.directory.channels.find((c) => c.name === name)?.kind;
    // The channel's own record of why; else the alert's (a secret missing at a worker's start).
    const reason = broken.get(name) ?? a.message.replace(/^Channel \S+ is broken: (.*?)\. Its messages[\s\S]*$/, '$1');
    return { kind: 'channel', since: a.since, channel: name, text: brokenChannelText(name, kind, reason) };
  });
}

export function boardRoutes(app: FastifyInstance, d: WebContext): void {
  app.get('/', async (req, reply) => {
    const s = requireSignedIn(d, req, reply);
    if (!s) return reply;
    const q = req.query as Record<string, string | undefined>;
    const filter = {
      unit: q.unit || undefined,
      obligation: q.obligation || undefined,
      colour: q.colour && q.colour in COLOUR_ORDER ? q.colour : undefined,
    };
    const snapshot = await latestSnapshot(d.ledger);
    const unitNames = new Map((snapshot?.directory.units ?? []).map((u) => [u.id, u.name]));
    const titles = new Map((snapshot?.catalog.obligations ?? []).map((o) => [o.id, o.title]));
    // 协办: a cooperating unit's staff see the trackers their unit cooperates on, beside their own.
    const cooperates = (t: { cooperators?: { unit: string }[] }) =>
      (t.cooperators ?? []).some((c) => s.person.units.has(c.unit));
    const states = (await boardStates(d.ledger, { obligation: filter.obligation, colour: filter.colour })).filter(
      (t) => (maySee(s.person, t.unit) || cooperates(t)) && (!filter.unit || t.unit === filter.unit),
    );
    const counts = new Map<string, Counts>();
    for (const t of states) {
      const c = counts.get(t.unit) ?? { red: 0, yellow: 0, green: 0, done: 0, waived: 0 };
      if (t.colour in c) c[t.colour as keyof Counts]++;
      counts.set(t.unit, c);
    }
    const units = [...counts.entries()]
      .map(([unit, c]) => ({ unit, name: unitNames.get(unit) ?? unit, ...c }))
      .sort((a, b) => b.red - a.red || b.yellow - a.yellow || b.green - a.green || (a.unit < b.unit ? -1 : 1));
    states.sort(
      (a, b) =>
        (COLOUR_ORDER[a.colour] ?? 9) - (COLOUR_ORDER[b.colour] ?? 9) ||
        a.dueAt - b.dueAt ||
        (a.trackerId < b.trackerId ? -1 : 1),
    );
    const visibleUnits = (snapshot?.directory.units ?? []).filter((u) => maySee(s.person, u.id));
    return d.page(
      reply,
      pages.boardPage(d.ctxOf(req), {
        units,
        items: states.slice(0, BOARD_ITEMS).map((t) => ({
          ...t,
          obligationTitle: titles.get(t.obligation) ?? t.obligation,
          unitName: unitNames.get(t.unit) ?? t.unit,
          names: unitNames,
        })),
        total: states.length,
        filter,
        unitChoices: visibleUnits.map((u) => ({ id: u.id, name: u.name })),
        obligationChoices: (snapshot?.catalog.obligations ?? []).map((o) => ({ id: o.id, title: o.title })),
        shownLimit: BOARD_ITEMS,
        alerts: await boardAlerts(d, snapshot),
        today: formatLocal(Date.now(), snapshot?.catalog.timeZone ?? DEFAULT_TIME_ZONE).slice(0, 10),
      }),
    );
  });
}
