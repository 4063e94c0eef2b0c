/**
 * Action-link benchmark: what signing adds to rendering a notice (issue 10: under 1 ms per notice). Renders the
 * reminders and escalations of the fixtures' trackers, with and without their recipients' links, and prints the
 * time per notice of each and of the signing alone. Asserts nothing.
 *
 *   npm run bench:links            (BENCH_NOTICES=20000 by default)
 */
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { recipientLinks } from '../activities';
import { parseLinkKeys } from '../channels/links';
import { renderNotice } from '../channels/email/templates';
import { loadInputs } from '../config/load';
import { WorkingCalendar } from '../domain/calendar';
import { trackerPeriodPlan } from '../domain/planner';

const NOTICES = Number(process.env.BENCH_NOTICES ?? 20_000);

function main() {
  const root = path.join(__dirname, '..', '..');
  const inputs = loadInputs({
    catalog: path.join(root, 'config', 'defaults', 'catalog.yaml'),
    directory: path.join(root, 'config', 'defaults', 'directory.yaml'),
  });
  const calendar = new WorkingCalendar();
  const cfg = {
    keys: parseLinkKeys(`k1:${randomBytes(32).toString('base64')}`),
    baseUrl: 'https://duban.example.gov.cn',
    graceMs: 7 * 86_400_000,
  };
  const now = Date.parse('2027-01-04T00:00:00Z');
  const work = inputs.trackers.flatMap((t) => {
    try {
      const plan = trackerPeriodPlan(t, calendar, { now, digest: true });
      return plan.notices.map((n) => ({ t, n, plan }));
    } catch {
      return [];
    }
  });
  if (!work.length) throw new Error('no notices to render');
  const item = (i: number) => work[i % work.length]!;
  const ctx = (i: number, links?: ReturnType<typeof recipientLinks>) => {
    const { t, n, plan } = item(i);
    return {
      definition: t,
      notice: n,
      period: { label: plan.period, due: plan.due, originalDue: plan.originalDue },
      sentOn: '2027-01-04',
      progress: { recorded: 0, quota: 1 },
      links,
    };
  };
  const sign = (i: number) => {
    const { t, n, plan } = item(i);
    return recipientLinks(
      t,
      [...n.to, ...n.cc],
      { label: plan.period, dueAt: plan.dueAt, endsAt: plan.endsAt },
      n.at,
      cfg,
    );
  };
  const time = (f: (i: number) => unknown) => {
    for (let i = 0; i < 2000; i++) f(i); // warm-up
    const start = process.hrtime.bigint();
    for (let i = 0; i < NOTICES; i++) f(i);
    return Number(process.hrtime.bigint() - start) / 1e6 / NOTICES;
  };
  const plain = time((i) => renderNotice(ctx(i)));
  const signing = time((i) => sign(i));
  const withLinks = time((i) => renderNotice(ctx(i, sign(i))));
  const recipients = work.reduce((s, w) => s + new Set([...w.n.to, ...w.n.cc]).size, 0) / work.length;
  console.log(
    JSON.stringify({
      notices: NOTICES,
      distinctNotices: work.length,
      recipientsPerNotice: Number(recipients.toFixed(2)),
      renderMsPerNotice: Number(plain.toFixed(4)),
      signMsPerNotice: Number(signing.toFixed(4)),
      renderWithLinksMsPerNotice: Number(withLinks.toFixed(4)),
      addedMsPerNotice: Number((withLinks - plain).toFixed(4)),
    }),
  );
}

main();
