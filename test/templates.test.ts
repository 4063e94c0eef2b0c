/**
 * The Chinese notices: the zone named when it is not Beijing time, the late notice's sentence, and the action
 * links block, safe against names holding line breaks, quotes and markup.
 */
import { randomBytes } from 'node:crypto';
import { recipientLinks } from '../activities';
import { parseLinkKeys, verifyLink } from '../channels/links';
import { renderNotice } from '../channels/email/templates';
import { WorkingCalendar } from '../domain/calendar';
import { parsePeriod } from '../domain/periods';
import { planPeriod } from '../domain/planner';
import { tracker } from './support/trackers';

const calendar = new WorkingCalendar();
const plan = (t: ReturnType<typeof tracker>) => planPeriod(t, parsePeriod('year', '2025')!, calendar);
const period = { label: '2025', due: '2026-02-28', originalDue: '2026-02-28' };

describe('notices', () => {
  test('a due time outside Beijing time names its zone', () => {
    const t = tracker({ timeZone: 'Asia/Urumqi' });
    const r = renderNotice({
      definition: t,
      notice: plan(t).notices[0]!,
      period,
      sentOn: '2026-02-09',
      progress: { recorded: 0, quota: 1 },
    });
    expect(r.text).toContain('2026年2月28日 24时前（Asia/Urumqi时间）');
    const beijing = tracker();
    expect(
      renderNotice({
        definition: beijing,
        notice: plan(beijing).notices[0]!,
        period,
        sentOn: '2026-02-09',
        progress: { recorded: 0, quota: 1 },
      }).text,
    ).toMatch(/24时前\n/);
  });

  test('a late notice says when it was due to go out', () => {
    const t = tracker();
    const r = renderNotice({
      definition: t,
      notice: plan(t).notices[0]!,
      period,
      sentOn: '2026-02-10',
      progress: { recorded: 0, quota: 1 },
      lateSince: '2026-02-09 09:00',
    });
    expect(r.text).toContain('本通知原定于2026-02-09 09:00发送，因系统故障或积压延迟送达');
    expect(r.html).toContain('本通知原定于2026-02-09 09:00发送');
  });

  test('each recipient gets signed links in the text and HTML parts; names cannot break out of either', () => {
    const evil = 'A\r\nBcc: x@evil.example "<script>alert(1)</script>';
    const base = tracker();
    const t = { ...base, unit: { ...base.unit, liaison: { name: evil, email: 'liaison@test.example.org' } } };
    const n = plan(t).notices[0]!;
    const keys = parseLinkKeys(`k1:${randomBytes(32).toString('base64')}`);
    const links = recipientLinks(
      t,
      [...n.to, ...n.cc],
      { label: '2025', dueAt: Date.parse('2026-02-28T15:59:59Z'), endsAt: Date.parse('2027-02-28T15:59:59Z') },
      Date.parse('2026-02-09T01:00:00Z'),
      {
        keys,
        baseUrl: 'https://duban.example.org/',
        graceMs: 7 * 86_400_000,
      },
    );
    const r = renderNotice({
      definition: t,
      notice: n,
      period,
      sentOn: '2026-02-09',
      progress: { recorded: 0, quota: 1 },
      links,
    });
    // The liaison (a unit's staff) may act; the head too; every link verifies and names its recipient.
    const liaison = links.find((l) => l.email === 'liaison@test.example.org')!;
    expect(liaison.links.map((l) => l.label)).toEqual(['签收', '反馈进展', '报送材料', '申请延期', '退回', '查看']);
    for (const l of liaison.links) {
      expect(r.text).toContain(l.url);
      expect(r.html).toContain(l.url.replace(/&/g, '&amp;'));
      const token = /\/a\/([^/]+)\//.exec(l.url)![1]!;
      expect(verifyLink(token, keys, Date.parse('2026-03-01T00:00:00Z'))).toMatchObject({
        ok: true,
        claims: { email: 'liaison@test.example.org', period: '2025' },
      });
    }
    expect(r.text).toContain('打开链接只显示办理页面，不改变任何状态');
    // The name is one line in the text part and escaped in the HTML part.
    expect(r.text).not.toContain('\r\nBcc:');
    expect(r.html).not.toContain('<script>');
    expect(r.html).toContain('&lt;script&gt;');
  });
});
