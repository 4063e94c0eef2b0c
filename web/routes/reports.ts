/** The year report (`/report`, its CSV and Excel downloads) and the 督办单 register (`/supervision`). */
import type { FastifyInstance } from 'fastify';
import { reportCsv, reportWorkbook, yearReport } from '../../access/report';
import { Snapshot, latestSnapshot } from '../../access/registered';
import { DEFAULT_TIME_ZONE } from '../../domain/model';
import { localYear } from '../../domain/zone';
import type { WebContext } from '../context';
import * as pages from '../pages';
import { maySee, officesOf } from '../roles';
import { Signed, requireSignedIn } from '../session';

/** The current year in the registered catalog's zone, not the server's. */
const thisYear = (snapshot: Snapshot | undefined) =>
  localYear(Date.now(), snapshot?.catalog.timeZone ?? DEFAULT_TIME_ZONE);

const attachment = (ascii: string, name: string) =>
  `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;

export function reportRoutes(app: FastifyInstance, d: WebContext): void {
  const { ledger } = d;
  const reportFor = async (s: Signed, yearText?: string) => {
    const snapshot = await latestSnapshot(ledger);
    const year = /^\d{4}$/.test(yearText ?? '') ? Number(yearText) : thisYear(snapshot);
    const units = new Map((snapshot?.directory.units ?? []).map((u) => [u.id, u.name]));
    const zone = snapshot?.catalog.timeZone ?? DEFAULT_TIME_ZONE;
    return yearReport(ledger, year, { units }, { zone, maySee: (unit) => maySee(s.person, unit) });
  };
  const yearOf = (q: unknown) => (q as Record<string, string | undefined>).year;

  app.get('/report', async (req, reply) => {
    const s = requireSignedIn(d, req, reply);
    if (!s) return reply;
    const report = await reportFor(s, yearOf(req.query));
    const now = thisYear(await latestSnapshot(ledger));
    const years = [...new Set([report.year, now + 1, now, now - 1, now - 2])].sort((a, b) => b - a);
    return d.page(reply, pages.reportPage(d.ctxOf(req), report, years));
  });
  app.get('/report.csv', async (req, reply) => {
    const s = requireSignedIn(d, req, reply);
    if (!s) return reply;
    const report = await reportFor(s, yearOf(req.query));
    return reply
      .type('text/csv; charset=utf-8')
      .header('Content-Disposition', attachment(`report-${report.year}.csv`, `${report.year}年度考核.csv`))
      .send(reportCsv(report));
  });
  app.get('/report.xlsx', async (req, reply) => {
    const s = requireSignedIn(d, req, reply);
    if (!s) return reply;
    const report = await reportFor(s, yearOf(req.query));
    return reply
      .type('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
      .header('Content-Disposition', attachment(`report-${report.year}.xlsx`, `${report.year}年度考核.xlsx`))
      .send(await reportWorkbook(report));
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
