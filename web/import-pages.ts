/**
 * The import pages (`/import`, docs/web.md): the two upload forms, what went wrong (each problem with its file,
 * row or line, and column or field, in Chinese), and the drafts to download. As every page: server-rendered, every
 * value escaped by `html`, every form with its CSRF token.
 */
import { formatSize } from './evidence';
import { html } from './html';
import { DRAFT_FILES } from './imports';
import { PageContext, csrfField, layout } from './pages';

export interface ImportFormView {
  /** Whether a directory is registered (the plan's names map to it unless a sheet comes with the plan). */
  registered: boolean;
  maxBytes: number;
  /** The form that failed, and why: every problem, each one line. */
  errors?: { form: 'plan' | 'directory'; title: string; lines: string[] };
  /** The fields as the person sent them, to fill the form again. */
  values?: { year?: string; jurisdiction?: string };
}

export function importPage(ctx: PageContext, v: ImportFormView): string {
  const err = (form: 'plan' | 'directory') =>
    v.errors?.form === form
      ? html`<div class="error" role="alert"><p>${v.errors.title}，未生成草稿：</p><ul>${v.errors.lines.map((l) => html`<li>${l}</li>`)}</ul></div>`
      : '';
  return layout(
    ctx,
    '导入工作方案和单位名录',
    html`<p>上传年度工作方案（实施方案、工作要点）和单位名录表，生成供审核的任务清单草稿、审核报告和单位名录草稿，与命令 <code>duban import</code> 的结果相同。导入<b>不登记任何内容</b>：请下载草稿，核对每一处 <code># review:</code> 注释后再登记。文件不超过 ${formatSize(v.maxBytes)}，草稿保留 24 小时，只有上传者本人可以下载。</p>
<div class="forms">
<form class="act" method="post" action="/import/plan" enctype="multipart/form-data">${csrfField(ctx)}
<h2>工作方案 → 任务清单草稿</h2>${err('plan')}
<label>工作方案（.txt、.docx 或 .html） <input type="file" name="plan" required accept=".txt,.docx,.html,.htm"></label>
<label>单位名录表（.xlsx 或 .csv，可选） <input type="file" name="sheet" accept=".xlsx,.csv"></label>
<p class="note">${v.registered ? '不上传名录表时，按已登记的单位名录对应单位名称。' : '尚未登记单位名录：请同时上传单位名录表。'}</p>
<label>年度（可选，如 2027） <input type="text" name="year" inputmode="numeric" value="${v.values?.year ?? ''}"></label>
<label>名录所属地区（随名录表，可选，如 XX市） <input type="text" name="jurisdiction" value="${v.values?.jurisdiction ?? ''}"></label>
<button type="submit">生成草稿</button>
</form>
<form class="act" method="post" action="/import/directory" enctype="multipart/form-data">${csrfField(ctx)}
<h2>单位名录表 → 单位名录草稿</h2>${err('directory')}
<label>单位名录表（.xlsx 或 .csv） <input type="file" name="sheet" required accept=".xlsx,.csv"></label>
<p class="note">表头示例：单位名称、简称/编号、类别/标签、上级督察单位、主要负责人、负责人邮箱、联络员、联络员邮箱、手机。</p>
<label>所属地区（可选，如 XX市） <input type="text" name="jurisdiction" value="${v.values?.jurisdiction ?? ''}"></label>
<button type="submit">生成草稿</button>
</form>
</div>`,
  );
}

export interface ImportResultView {
  id: string;
  /** The files made, by key of DRAFT_FILES. */
  files: (keyof typeof DRAFT_FILES)[];
  /** What was read: the uploaded files' names. */
  sources: string[];
  summary: string[];
  /** What a person must look at before registering (unmapped names by line, …). */
  review: string[];
  /** The draft fails `duban validate` (the importer's fault): the checker's words. */
  invalid: string[];
  /** The draft catalog or directory, shown on the page. */
  preview: { title: string; text: string };
  /** The command to run next. */
  next: string;
}

export const draftHref = (id: string, file: string) => `/import/drafts/${id}/${file}`;

export function importResultPage(ctx: PageContext, v: ImportResultView): string {
  return layout(
    ctx,
    '导入结果',
    html`<p class="message" role="status">已读取 ${v.sources.map((s, i) => html`${i ? '、' : ''}“${s}”`)}。草稿未登记，请下载后核对。</p>
${v.summary.map((l) => html`<p>${l}</p>`)}
${
  v.invalid.length
    ? html`<div class="error" role="alert"><p>草稿未通过 duban validate 检查（导入程序的问题，请报告）：</p><ul>${v.invalid.map((l) => html`<li>${l}</li>`)}</ul></div>`
    : ''
}
${v.review.length ? html`<h2>需要核对</h2><ul class="review">${v.review.map((l) => html`<li>${l}</li>`)}</ul>` : ''}
<h2>下载</h2>
<ul class="downloads">${v.files.map((k) => html`<li><a href="${draftHref(v.id, DRAFT_FILES[k].file)}" download="${DRAFT_FILES[k].file}">${DRAFT_FILES[k].label}（${DRAFT_FILES[k].file}）</a></li>`)}</ul>
<p class="note">下一步：核对每一处 <code># review:</code> 注释，然后运行 <code>${v.next}</code>，确认无误后再登记。</p>
<h2>${v.preview.title}</h2>
<pre>${v.preview.text}</pre>
<p><a href="/import">继续导入</a></p>`,
  );
}
