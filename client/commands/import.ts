/**
 * `duban import plan` and `duban import directory`: a year's plan document to a draft catalog with its review
 * report, and a unit list sheet to a directory (docs/import.md). Import registers nothing.
 */
import { Command } from 'commander';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { FileProblem, InvalidInputError, loadDirectory, loadInputs } from '../../config/load';
import type { PlanImport } from '../../import';
import { InputError } from '../errors';
import { Io } from './common';

function readBytes(file: string, what: string): Uint8Array {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new InputError(`无法读取${what} ${file}：${e instanceof Error ? e.message : String(e)}`);
  }
}

/** The basis quotes of each obligation of a catalog file (read as YAML only: it need not validate). */
function catalogQuotes(file: string): { id: string; quotes: string[] }[] {
  let doc: unknown;
  try {
    doc = parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new InputError(
      `--compare ${file} 不是可读的 YAML：${e instanceof Error ? e.message.split('\n')[0] : String(e)}`,
    );
  }
  const obligations = (doc as { obligations?: unknown } | null)?.obligations;
  if (!Array.isArray(obligations)) throw new InputError(`--compare ${file} 中没有任务列表“obligations:”`);
  return obligations.map((o: { id?: unknown; basis?: { quote?: unknown }[] }, i) => ({
    id: typeof o?.id === 'string' ? o.id : `obligations[${i}]`,
    quotes: (Array.isArray(o?.basis) ? o.basis : []).flatMap((b) => (typeof b?.quote === 'string' ? [b.quote] : [])),
  }));
}

/** The events file beside a draft: draft-catalog.yaml -> draft-catalog.events.yaml. */
export function eventsFileFor(out: string): string {
  return path.join(path.dirname(out), `${path.basename(out).replace(/\.ya?ml$/i, '')}.events.yaml`);
}

export function addImportCommands(program: Command, io: Io) {
  const { out } = io;
  const group = program
    .command('import')
    .description('由规划文件起草任务清单，或由单位名单表格生成单位名录（不登记任何任务）')
    .addHelpText(
      'after',
      '\n示例：\n  duban import directory 单位名录.xlsx --out directory.yaml --jurisdiction XX市\n' +
        '  duban import plan 2027工作要点.docx --directory directory.yaml --out draft-catalog.yaml --report review.html\n' +
        '见 docs/import.md。',
    );

  group
    .command('plan')
    .description('读取规划文件（.txt、.docx、.html），写出任务清单草稿，每处推断都加 # review: 注释')
    .argument('<plan>', '规划文件：.txt、.docx 或 .html（PDF 请另存为 .docx 或 .txt）')
    .requiredOption('--directory <file>', '用于对应单位名称的单位名录 YAML')
    .requiredOption('--out <file>', '任务清单草稿（YAML）的保存位置')
    .option('--report <file>', '审核报告的保存位置（一个 HTML 文件）')
    .option('--compare <catalog>', '用于对照的任务清单：草稿中的任务哪些已有、哪些缺少')
    .option('--year <year>', '规划所属的年份：周期从该年开始，更早的日期视为已过')
    .option('--json', '以一个 JSON 对象输出识别出的任务、没有时限的表述和未对应的名称')
    .addHelpText(
      'after',
      '\n示例：\n  duban import plan 2027工作要点.docx --directory directory.yaml --out draft-catalog.yaml --report review.html --year 2027\n' +
        '  duban import plan plan.html --directory directory.yaml --out draft.yaml --json\n' +
        '  duban import plan plan.txt --directory directory.yaml --out draft.yaml --compare catalog.yaml   # 任务清单缺少哪些\n' +
        '然后核对每一处“# review:”注释，再运行：duban validate draft-catalog.yaml directory.yaml',
    )
    .action(
      async (
        plan: string,
        opts: { directory: string; out: string; report?: string; year?: string; compare?: string; json?: boolean },
      ) => {
        let year: number | undefined;
        if (opts.year !== undefined) {
          if (!/^\d{4}$/.test(opts.year) || Number(opts.year) < 2000 || Number(opts.year) > 2100)
            throw new InputError(`--year “${opts.year}”不是2000至2100之间的年份，如 2027`);
          year = Number(opts.year);
        }
        const directory = loadDirectory(opts.directory);
        const existing = opts.compare !== undefined ? catalogQuotes(opts.compare) : undefined;
        const bytes = readBytes(plan, '规划文件');
        const eventsFile = eventsFileFor(opts.out);
        // Loaded here, not at start-up: the readers (mammoth above all) would slow every other duban command.
        const { PlanReadError, importPlan } = require('../../import') as typeof import('../../import');
        let result: PlanImport;
        try {
          result = await importPlan(bytes, path.basename(plan), directory, {
            year,
            eventsFile: path.basename(eventsFile),
          });
        } catch (e) {
          if (e instanceof PlanReadError) throw new InputError(e.message);
          throw e;
        }
        writeFileSync(opts.out, result.yaml);
        if (result.eventsYaml) writeFileSync(eventsFile, result.eventsYaml);
        if (opts.report) writeFileSync(opts.report, result.html);
        // The draft must be a catalog duban accepts with this directory: checked as `duban validate` would.
        let valid = true;
        let problems: FileProblem[] = [];
        try {
          loadInputs({
            catalog: opts.out,
            directory: opts.directory,
            ...(result.eventsYaml ? { events: eventsFile } : {}),
          });
        } catch (e) {
          if (!(e instanceof InvalidInputError)) throw e;
          valid = false;
          problems = e.problems;
        }
        const d = result.draft;
        const { compareWithCatalog } = require('../../import') as typeof import('../../import');
        const comparison = existing ? compareWithCatalog(d, existing) : undefined;
        if (opts.json) {
          out(
            `${JSON.stringify({
              ok: valid,
              title: d.title,
              files: {
                catalog: opts.out,
                ...(result.eventsYaml ? { events: eventsFile } : {}),
                ...(opts.report ? { report: opts.report } : {}),
              },
              duties: d.obligations.map((o) => ({
                id: o.id,
                line: o.duty.line,
                article: o.duty.article,
                quote: o.duty.quote,
                period: o.duty.period,
                ...(o.duty.every ? { every: o.duty.every } : {}),
                due: o.duty.due,
                completion: o.duty.completion,
                ...(o.duty.quota !== undefined ? { quota: o.duty.quota } : {}),
                ...(o.duty.threshold !== undefined ? { threshold: o.duty.threshold } : {}),
                units: o.units,
                tags: o.tags,
                ...(o.lead ? { lead: o.lead } : {}),
                names: o.duty.assigneeNames,
                unmapped: o.unmapped,
                reviews: o.reviews,
                commentedOut: o.commentedOut,
              })),
              untimed: result.analysis.untimed.map((u) => ({ line: u.line, word: u.word, quote: u.quote, why: u.why })),
              unmapped: d.unmapped,
              ...(comparison ? { compare: { catalog: opts.compare, ...comparison } } : {}),
              ...(valid ? {} : { problems }),
            })}\n`,
          );
        } else {
          const commented = d.obligations.filter((o) => o.commentedOut).length;
          out(`《${d.title}》\n`);
          out(
            `识别出 ${d.obligations.length} 项有时限的任务${commented ? `（其中 ${commented} 项按人计，草稿中已注释）` : ''}，` +
              `${result.analysis.untimed.length} 处没有时限的表述（不排期）。\n`,
          );
          out(
            `草稿目录：${opts.out}${result.eventsYaml ? `；事件文件：${eventsFile}` : ''}${opts.report ? `；审核报告：${opts.report}` : ''}\n`,
          );
          const reviews = d.obligations.reduce((n, o) => n + o.reviews.length, 0);
          out(`需要核对的推断：${reviews} 处（草稿中的 # review: 注释）。\n`);
          if (d.unmapped.length) out(`名录中没有对应的名称（${d.unmapped.length}）：${d.unmapped.join('、')}\n`);
          if (comparison) {
            out(
              `与 ${opts.compare} 对照：${comparison.covered.length} 项已在目录中，${comparison.missing.length} 项目录中没有：\n`,
            );
            for (const m of comparison.missing) out(`  第${m.line}行 ${m.id}：${m.quote}\n`);
          }
          out(
            `下一步：核对后运行 duban validate ${opts.out} ${opts.directory}${result.eventsYaml ? ` --events ${eventsFile}` : ''}\n`,
          );
        }
        if (!valid) {
          io.err(
            `草稿未通过检查（这是导入程序的缺陷，请报告）：\n${problems.map((p) => `${p.file}:${p.line}: ${p.field}: ${p.message}`).join('\n')}\n`,
          );
          throw new InputError('草稿任务清单未通过检查');
        }
      },
    );

  group
    .command('directory')
    .description('读取单位名单（.xlsx 或 .csv），写出单位名录 YAML；逐一指出有问题的行，有问题时不写入')
    .argument('<sheet>', '单位名单：.xlsx（第一个工作表）或 .csv，表头下每行一个单位')
    .requiredOption('--out <file>', '单位名录 YAML 的保存位置')
    .option('--jurisdiction <name>', '单位名录所属的辖区，如 XX市')
    .option('--json', '以一个 JSON 对象输出结果（写入的单位，或问题）')
    .addHelpText(
      'after',
      '\n列（按表头文字识别）：单位名称、简称/编号、类别/标签、上级督察单位、主要负责人、负责人邮箱、\n' +
        '联络员、联络员邮箱（或只有一列“邮箱”）、负责人手机、联络员手机（或只有一列“手机”：联络员的），\n' +
        '手机号写入联系人的 mobile 字段。\n\n示例：\n  duban import directory 单位名录.xlsx --out directory.yaml --jurisdiction XX市\n' +
        '  duban import directory units.csv --out directory.yaml --json',
    )
    .action(async (sheet: string, opts: { out: string; jurisdiction?: string; json?: boolean }) => {
      const bytes = readBytes(sheet, '单位名单');
      const { importDirectory } = require('../../import/directory') as typeof import('../../import/directory');
      let result;
      try {
        result = await importDirectory(bytes, path.basename(sheet), { jurisdiction: opts.jurisdiction });
      } catch (e) {
        throw new InputError(e instanceof Error ? e.message : String(e));
      }
      if (result.problems.length) {
        const problems: FileProblem[] = result.problems.map((p) => ({
          file: sheet,
          line: p.row,
          column: p.columnNumber ?? 0,
          field: p.column ? `第${p.row}行“${p.column}”列` : `第${p.row}行`,
          message: p.message,
        }));
        if (opts.json) out(`${JSON.stringify({ ok: false, problems })}\n`);
        throw new InvalidInputError(problems);
      }
      writeFileSync(opts.out, result.yaml);
      if (opts.json) out(`${JSON.stringify({ ok: true, units: result.units, file: opts.out })}\n`);
      else out(`已写入 ${opts.out}：${result.units} 个单位。核对 # review: 注释后运行 duban validate。\n`);
    });
}
