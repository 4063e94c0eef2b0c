/**
 * The board (`/`): every open period the person may see, most urgent first, with a count by unit and colour.
 *
 * Levels (issue 24, docs/web.md "Levels"): someone who reads a whole jurisdiction (an office's staff, its
 * leadership) sees the board of one jurisdiction at a time, `/?jurisdiction=<id>`: the totals of each jurisdiction
 * beneath it with a link down, the units of that jurisdiction itself, and the most urgent items of its whole
 * subtree; a trail leads back up as far as the person reads. Counting and ordering happen in the ledger
 * (access/board.ts boardView), so a region's 100,000 rows cost one count and one limited read.
 */
import type { FastifyInstance } from 'fastify';
import { ColourCounts, boardStates, boardView, emptyCounts } from '../../access/board';
import { Snapshot, latestSnapshot } from '../../access/registered';
import { brokenChannelText } from '../../channels/broken';
import { ROOT_JURISDICTION, chainOf, jurisdictionTree, unitsBeneath } from '../../domain/jurisdictions';
import { DEFAULT_TIME_ZONE } from '../../domain/model';
import { formatLocal } from '../../domain/zone';
import type { WebContext } from '../context';
import * as pages from '../pages';
import { Person, maySee, readsEverything, readsJurisdiction, topJurisdictions } from '../roles';
import { forbidden, requireSignedIn } from '../session';

const BOARD_ITEMS = 300;
const COLOUR_ORDER: Record<string, number> = { broken: -1, red: 0, yellow: 1, green: 2, done: 3, waived: 4 };

const add = (into: ColourCounts, c: ColourCounts | undefined) => {
  if (c) for (const k of Object.keys(into) as (keyof ColourCounts)[]) into[k] += c[k];
  return into;
};

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

/**
 * The trackers a person's units cooperate on (协办) and may not otherwise see, added to the board beside their own:
 * read per obligation that names cooperators.
 */
async function addCooperatingRows(
  d: WebContext,
  snapshot: Snapshot | undefined,
  person: Person,
  filter: { obligation?: string; colour?: string },
  view: Awaited<ReturnType<typeof boardView>>,
): Promise<void> {
  for (const o of snapshot?.catalog.obligations ?? []) {
    if (!o.cooperators || (filter.obligation && filter.obligation !== o.id)) continue;
    const rows = (await boardStates(d.ledger, { obligation: o.id, colour: filter.colour })).filter(
      (t) => !maySee(person, t.unit) && (t.cooperators ?? []).some((c) => person.units.has(c.unit)),
    );
    for (const t of rows) {
      view.items.push(t);
      view.total++;
      const c = view.counts.get(t.unit) ?? emptyCounts();
      if (t.colour in c) c[t.colour as keyof ColourCounts]++;
      view.counts.set(t.unit, c);
    }
  }
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
    const directory = snapshot?.directory;
    const unitNames = new Map((directory?.units ?? []).map((u) => [u.id, u.name]));
    const titles = new Map((snapshot?.catalog.obligations ?? []).map((o) => [o.id, o.title]));
    const tree = directory && jurisdictionTree(directory);

    // Where the board stands: the jurisdiction asked for (if the person reads it whole), the one of the unit
    // asked for, else the person's top one. Without one (a unit's staff), the board is the person's units.
    let current: string | undefined;
    if (tree && q.jurisdiction) {
      if (!tree.nodes.has(q.jurisdiction)) return reply.callNotFound();
      if (!readsJurisdiction(s.person, directory, q.jurisdiction))
        return forbidden(d, req, reply, '您无权查看该辖区的亮灯情况。');
      current = q.jurisdiction;
    }
    const tops = topJurisdictions(s.person, directory);
    if (!current && tree && filter.unit) {
      const j = tree.unitJurisdiction.get(filter.unit);
      if (j && readsJurisdiction(s.person, directory, j)) current = j;
    }
    current ??= tops[0];
    const levels = tree && current !== undefined && (tree.nested || current !== ROOT_JURISDICTION);

    // The units in view: the current jurisdiction's subtree, or (no jurisdiction) every unit the person may see.
    const everything = readsEverything(s.person) && (current === undefined || current === ROOT_JURISDICTION);
    const inView = everything
      ? undefined
      : current !== undefined && tree
        ? unitsBeneath(tree, current).filter((u) => maySee(s.person, u))
        : (directory?.units ?? []).map((u) => u.id).filter((u) => maySee(s.person, u));
    if (filter.unit && !maySee(s.person, filter.unit)) return forbidden(d, req, reply);
    const view = await boardView(
      d.ledger,
      { units: inView, unit: filter.unit, obligation: filter.obligation, colour: filter.colour },
      BOARD_ITEMS,
    );
    // 协办: a cooperating unit's staff also see the trackers their unit cooperates on (DOMAIN.md 28).
    if (!readsEverything(s.person) && s.person.units.size > 0 && !filter.unit)
      await addCooperatingRows(d, snapshot, s.person, filter, view);

    // The unit rows: the units of the current jurisdiction itself (those beneath are in its children's rows).
    const own =
      levels && tree && current !== undefined && !filter.unit ? new Set(tree.nodes.get(current)!.units) : undefined;
    const units = [...view.counts.entries()]
      .filter(([unit]) => !own || own.has(unit))
      .map(([unit, c]) => ({ unit, name: unitNames.get(unit) ?? unit, ...c }))
      .sort((a, b) => b.red - a.red || b.yellow - a.yellow || b.green - a.green || (a.unit < b.unit ? -1 : 1));
    const items = [...view.items]
      .sort(
        (a, b) =>
          (COLOUR_ORDER[a.colour] ?? 9) - (COLOUR_ORDER[b.colour] ?? 9) ||
          a.dueAt - b.dueAt ||
          (a.trackerId < b.trackerId ? -1 : 1),
      )
      .slice(0, BOARD_ITEMS);
    const choices = own
      ? [...own].filter((u) => maySee(s.person, u))
      : (inView ?? (directory?.units ?? []).map((u) => u.id));
    let boardLevels: pages.BoardLevels | undefined;
    if (levels && tree && current !== undefined) {
      const node = tree.nodes.get(current)!;
      const totals = emptyCounts();
      for (const c of view.counts.values()) add(totals, c);
      boardLevels = {
        current: { id: current, name: node.name },
        trail: chainOf(tree, current)
          .reverse()
          .map((n) => ({ id: n.id, name: n.name, link: readsJurisdiction(s.person, directory, n.id) })),
        totals,
        children: filter.unit
          ? []
          : node.children.map((id) => ({
              id,
              name: tree.nodes.get(id)!.name,
              counts: unitsBeneath(tree, id).reduce((c, u) => add(c, view.counts.get(u)), emptyCounts()),
            })),
      };
    }
    return d.page(
      reply,
      pages.boardPage(d.ctxOf(req), {
        units,
        items: items.map((t) => ({
          ...t,
          obligationTitle: titles.get(t.obligation) ?? t.obligation,
          unitName: unitNames.get(t.unit) ?? t.unit,
          names: unitNames,
        })),
        total: view.total,
        filter,
        unitChoices: choices.map((id) => ({ id, name: unitNames.get(id) ?? id })),
        obligationChoices: (snapshot?.catalog.obligations ?? []).map((o) => ({ id: o.id, title: o.title })),
        shownLimit: BOARD_ITEMS,
        alerts: await boardAlerts(d, snapshot),
        today: formatLocal(Date.now(), snapshot?.catalog.timeZone ?? DEFAULT_TIME_ZONE).slice(0, 10),
        ...(boardLevels ? { levels: boardLevels } : {}),
      }),
    );
  });
}
