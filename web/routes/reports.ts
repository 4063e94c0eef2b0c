/** The year report (`/report`, its CSV and Excel downloads) and the 督办单 register (`/supervision`). */
import type { FastifyInstance } from 'fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Report, reportCsv, reportWorkbook, yearReport } from '../../access/report';
import { Snapshot, latestSnapshot } from '../../access/registered';
import { ROOT_JURISDICTION, isWithin, jurisdictionTree, unitsBeneath } from '../../domain/jurisdictions';
import { DEFAULT_TIME_ZONE } from '../../domain/model';
import { localYear } from '../../domain/zone';
import type { WebContext } from '../context';
import * as pages from '../pages';
import { maySee, officesOf, readsEverything, readsJurisdiction, topJurisdictions } from '../roles';
import { Signed, forbidden, requireSignedIn } from '../session';

/** The current year in the registered catalog's zone, not the server's. */
const thisYear = (snapshot: Snapshot | undefined) =>
  localYear(Date.now(), snapshot?.catalog.timeZone ?? DEFAULT_TIME_ZONE);

const attachment = (ascii: string, name: string) =>
  `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;

/**
 * The report the person may read. Levels (issue 24): of one jurisdiction and everything beneath it (`jurisdiction`,
 * default the person's top one), rolled up per jurisdiction they read whole and per level; undefined after
 * answering when the jurisdiction is unknown or not theirs.
 */
async function reportFor(
  d: WebContext,
  s: Signed,
  req: FastifyRequest,
  reply: FastifyReply,
): Promise<{ report: Report; jurisdiction?: string; jurisdictionName?: string } | undefined> {
  const { ledger } = d;
  const q = req.query as Record<string, string | undefined>;
  const snapshot = await latestSnapshot(ledger);
  const directory = snapshot?.directory;
  const year = /^\d{4}$/.test(q.year ?? '') ? Number(q.year) : thisYear(snapshot);
  const units = new Map((directory?.units ?? []).map((u) => [u.id, u.name]));
  const zone = snapshot?.catalog.timeZone ?? DEFAULT_TIME_ZONE;
  const tree = directory && jurisdictionTree(directory);
  let current: string | undefined;
  if (tree && q.jurisdiction) {
    if (!tree.nodes.has(q.jurisdiction)) {
      void reply.callNotFound();
      return undefined;
    }
    if (!readsJurisdiction(s.person, directory, q.jurisdiction)) {
      void forbidden(d, req, reply, '您无权查看该辖区的考核情况。');
      return undefined;
    }
    current = q.jurisdiction;
  }
  current ??= topJurisdictions(s.person, directory)[0];
  const beneath =
    tree && current !== undefined && current !== ROOT_JURISDICTION ? new Set(unitsBeneath(tree, current)) : undefined;
  const report = await yearReport(
    ledger,
    year,
    { units },
    {
      zone,
      maySee: (unit) => maySee(s.person, unit) && (!beneath || beneath.has(unit)),
      // Below the root (or without a jurisdiction), only the units in view are read from the ledger.
      ...(beneath || !readsEverything(s.person)
        ? { units: [...(beneath ?? units.keys())].filter((u) => maySee(s.person, u)) }
        : {}),
      ...(directory && tree?.nested
        ? {
            levels: {
              directory,
              jurisdictions: (j: string) =>
                isWithin(tree, j, current ?? ROOT_JURISDICTION) && readsJurisdiction(s.person, directory, j),
            },
          }
        : {}),
    },
  );
  return {
    report,
    ...(tree?.nested && current !== undefined
      ? { jurisdiction: current, jurisdictionName: tree.nodes.get(current)!.name }
      : {}),
  };
}

export function reportRoutes(app: FastifyInstance, d: WebContext): void {
  const { ledger } = d;
  /** report-2027.csv, 2027年度考核.csv; below the root, report-2027-county-b.csv, 2027年度考核（乙县）.csv. */
  const fileNames = (r: { report: Report; jurisdiction?: string; jurisdictionName?: string }, ext: string) =>
    r.jurisdiction && r.jurisdiction !== ROOT_JURISDICTION
      ? attachment(
          `report-${r.report.year}-${r.jurisdiction}.${ext}`,
          `${r.report.year}年度考核（${r.jurisdictionName}）.${ext}`,
        )
      : attachment(`report-${r.report.year}.${ext}`, `${r.report.year}年度考核.${ext}`);

  app.get('/report', async (req, reply) => {
    const s = requireSignedIn(d, req, reply);
    if (!s) return reply;
    const r = await reportFor(d, s, req, reply);
    if (!r) return reply;
    const now = thisYear(await latestSnapshot(ledger));
    const years = [...new Set([r.report.year, now + 1, now, now - 1, now - 2])].sort((a, b) => b - a);
    return d.page(reply, pages.reportPage(d.ctxOf(req), r.report, years, r.jurisdiction));
  });
  app.get('/report.csv', async (req, reply) => {
    const s = requireSignedIn(d, req, reply);
    if (!s) return reply;
    const r = await reportFor(d, s, req, reply);
    if (!r) return reply;
    return reply
      .type('text/csv; charset=utf-8')
      .header('Content-Disposition', fileNames(r, 'csv'))
      .send(reportCsv(r.report));
  });
  app.get('/report.xlsx', async (req, reply) => {
    const s = requireSignedIn(d, req, reply);
    if (!s) return reply;
    const r = await reportFor(d, s, req, reply);
    if (!r) return reply;
    return reply
      .type('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
      .header('Content-Disposition', fileNames(r, 'xlsx'))
      .send(await reportWorkbook(r.report));
  });

  app.get('/supervision', async (req, reply) => {
    const s = requireSignedIn(d, req, reply);
    if (!s) return reply;
    const q = req.query as Record<string, string | undefined>;
    const snapshot = await latestSnapshot(ledger);
    const allowed = officesOf(s.person, snapshot?.directory);
    const units = new Map((snapshot?.directory.units ?? []).map((u) => [u.id, u.name]));
    const titles = new Map((snapshot?.catalog.obligations ?? []).map((o) => [o.id, o.title]));
    // The form's field is still `office` (a URL users may have kept).
    const filter = {
      supervisor: q.office || undefined,
      year: /^\d{4}$/.test(q.year ?? '') ? Number(q.year) : undefined,
    };
    const rows = (await ledger.web.supervisionRegister(filter)).filter(
      (r) => allowed === 'all' || allowed.includes(r.supervisor),
    );
    const supervisors = [
      ...new Set((snapshot?.directory.units ?? []).map((u) => u.supervisor).filter((x): x is string => !!x)),
    ]
      .filter((id) => allowed === 'all' || allowed.includes(id))
      .map((id) => ({ id, name: units.get(id) ?? id }));
    const named = rows.map((r) => ({
      ...r,
      supervisorName: units.get(r.supervisor) ?? r.supervisor,
      unitName: units.get(r.unit) ?? r.unit,
      obligationTitle: titles.get(r.obligation) ?? r.obligation,
    }));
    return d.page(reply, pages.supervisionPage(d.ctxOf(req), named, filter, supervisors));
  });
}
