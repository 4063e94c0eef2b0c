/**
 * The review report: one self-contained HTML file (no external assets, every text of the plan escaped) showing
 * each duty beside its paragraph with the quote highlighted, the draft fields and the review marks, then the
 * items that are not time-bound and the noise dropped from the text.
 */
import { Draft } from './draft';
import { PlanAnalysis } from './rules/duties';

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function highlighted(text: string, start: number, end: number): string {
  return `${escapeHtml(text.slice(0, start))}<mark>${escapeHtml(text.slice(start, end))}</mark>${escapeHtml(text.slice(end))}`;
}

function dueText(due: Record<string, unknown>): string {
  return Object.entries(due)
    .map(([k, v]) => `${k}: ${String(v)}`)
    .join(', ');
}

export function reportHtml(analysis: PlanAnalysis, draft: Draft, source: string): string {
  const e = escapeHtml;
  const rows = draft.obligations.map((o) => {
    const d = o.duty;
    const p = analysis.paragraphs[d.paragraph]!;
    const fields: [string, string][] = [
      ['id', o.id],
      ['条款', d.article || '（无编号）'],
      ['周期 period', d.period + (d.every ? `，每${d.every}年` : '')],
      ['截止 due', dueText(d.due)],
      [
        '完成方式 completion',
        d.completion +
          (d.quota !== undefined ? ` ${d.quota}${d.quotaUnit === 'hours' ? '学时' : '次'}` : '') +
          (d.threshold !== undefined ? ` ≥ ${d.threshold}${d.completion === 'rate' ? '%' : ''}` : ''),
      ],
      ['责任单位（原文）', d.assigneeNames.join('、') || '（未写明）'],
      ['分派 assignees', [...o.units.map((u) => `单位 ${u}`), ...o.tags.map((t) => `标签 ${t}`)].join('、')],
      ['牵头单位 lead', o.lead ?? (d.leadNames.join('、') || '—')],
    ];
    if (o.unmapped.length) fields.push(['未对应名称', o.unmapped.join('、')]);
    return `<section class="duty" id="${e(o.id)}">
<h2>${e(o.title)}${o.commentedOut ? ' <span class="tag">草稿中已注释</span>' : ''}</h2>
<div class="cols">
<div class="para"><p class="where">第 ${d.line} 行</p><p>${highlighted(p.text, d.start, d.end)}</p></div>
<div class="fields"><table>${fields.map(([k, v]) => `<tr><th>${e(k)}</th><td>${e(v)}</td></tr>`).join('')}</table>
${o.reviews.length ? `<ul class="review">${o.reviews.map((r) => `<li><b>${e(r.field)}</b>：${e(r.why)}</li>`).join('')}</ul>` : ''}</div>
</div></section>`;
  });
  const untimed = analysis.untimed.map((u) => {
    const p = analysis.paragraphs[u.paragraph]!;
    return `<tr><td>${u.line}</td><td>${e(u.word)}</td><td>${highlighted(p.text.slice(Math.max(0, u.start - 30), u.end + 30), u.start - Math.max(0, u.start - 30), u.end - Math.max(0, u.start - 30))}</td><td>${e(u.why)}</td></tr>`;
  });
  const noise = analysis.noise.map((n) => `<tr><td>${n.line}</td><td>${e(n.text)}</td><td>${e(n.why)}</td></tr>`);
  return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>导入审核：${e(draft.title)}</title>
<style>
body{font-family:system-ui,"PingFang SC","Microsoft YaHei",sans-serif;margin:1.5em;line-height:1.6;color:#222}
h1{font-size:1.4em}h2{font-size:1.1em;margin:.2em 0}
.duty{border:1px solid #ccc;border-radius:6px;padding:.6em 1em;margin:1em 0}
.cols{display:flex;gap:1.5em;flex-wrap:wrap}.para{flex:3;min-width:20em}.fields{flex:2;min-width:16em}
mark{background:#ffe066;padding:0 .1em}.where{color:#666;font-size:.9em;margin:0}
table{border-collapse:collapse}th,td{border:1px solid #ddd;padding:.2em .5em;text-align:left;vertical-align:top}
th{background:#f5f5f5;font-weight:normal;white-space:nowrap}.review{color:#a33;margin:.5em 0;padding-left:1.2em}
.tag{background:#eee;border-radius:3px;padding:0 .3em;font-size:.8em}
</style></head><body>
<h1>导入审核：《${e(draft.title)}》</h1>
<p>来源文件：${e(source)}。识别出 ${draft.obligations.length} 项有时限的任务（草稿目录），${analysis.untimed.length} 处没有时限的表述。导入不登记任何任务：请逐项核对标红的审核意见后再运行 <code>duban validate</code>。</p>
${draft.unmapped.length ? `<p class="review">名录中没有对应单位的名称：${e(draft.unmapped.join('、'))}</p>` : ''}
<h2>有时限的任务</h2>
${rows.join('\n')}
<h2 id="untimed">没有时限的表述（不排期）</h2>
<table><tr><th>行</th><th>词</th><th>原文</th><th>原因</th></tr>${untimed.join('\n')}</table>
<h2>已去除的网页噪声</h2>
<table><tr><th>行</th><th>内容</th><th>原因</th></tr>${noise.join('\n')}</table>
</body></html>
`;
}
