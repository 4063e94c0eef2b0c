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
    throw new InputError(`${what} ${file} cannot be read: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** The basis quotes of each obligation of a catalog file (read as YAML only: it need not validate). */
function catalogQuotes(file: string): { id: string; quotes: string[] }[] {
  let doc: unknown;
  try {
    doc = parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new InputError(
      `--compare ${file} cannot be read as YAML: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`,
    );
  }
  const obligations = (doc as { obligations?: unknown } | null)?.obligations;
  if (!Array.isArray(obligations)) throw new InputError(`--compare ${file} has no list "obligations:"`);
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
    .description('Draft a catalog from a plan document, or a directory from a unit list sheet (nothing is registered)')
    .addHelpText(
      'after',
      '\nExamples:\n  duban import directory 单位名录.xlsx --out directory.yaml --jurisdiction XX市\n' +
        '  duban import plan 2027工作要点.docx --directory directory.yaml --out draft-catalog.yaml --report review.html\n' +
        'See docs/import.md.',
    );

  group
    .command('plan')
    .description('Read a plan (.txt, .docx, .html) and write a draft catalog with a # review: mark on every guess')
    .argument('<plan>', 'the plan document: .txt, .docx or .html (a PDF: save it as .docx or .txt)')
    .requiredOption('--directory <file>', 'the directory YAML the names are mapped to')
    .requiredOption('--out <file>', 'where to write the draft catalog YAML')
    .option('--report <file>', 'where to write the review report (one HTML file)')
    .option('--compare <catalog>', 'a catalog to compare with: which drafted duties it carries, which it lacks')
    .option('--year <year>', 'the year the plan is for: cycles start there, earlier dates are past')
    .option('--json', 'print the duties, the not-time-bound items and the unmapped names as one JSON object')
    .addHelpText(
      'after',
      '\nExamples:\n  duban import plan 2027工作要点.docx --directory directory.yaml --out draft-catalog.yaml --report review.html --year 2027\n' +
        '  duban import plan plan.html --directory directory.yaml --out draft.yaml --json\n' +
        '  duban import plan plan.txt --directory directory.yaml --out draft.yaml --compare catalog.yaml   # what the catalog lacks\n' +
        'Then check every "# review:" line and run: duban validate draft-catalog.yaml directory.yaml',
    )
    .action(
      async (
        plan: string,
        opts: { directory: string; out: string; report?: string; year?: string; compare?: string; json?: boolean },
      ) => {
        let year: number | undefined;
        if (opts.year !== undefined) {
          if (!/^\d{4}$/.test(opts.year) || Number(opts.year) < 2000 || Number(opts.year) > 2100)
            throw new InputError(`--year "${opts.year}" is not a year between 2000 and 2100, e.g. 2027`);
          year = Number(opts.year);
        }
        const directory = loadDirectory(opts.directory);
        const existing = opts.compare !== undefined ? catalogQuotes(opts.compare) : undefined;
        const bytes = readBytes(plan, 'the plan');
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
            `the draft does not validate (a fault of the importer; please report it):\n${problems.map((p) => `${p.file}:${p.line}: ${p.field}: ${p.message}`).join('\n')}\n`,
          );
          throw new InputError('the draft catalog does not validate');
        }
      },
    );

  group
    .command('directory')
    .description(
      'Read a unit list (.xlsx or .csv) and write a directory YAML; every bad row named, nothing written on error',
    )
    .argument('<sheet>', 'the unit list: .xlsx (first sheet) or .csv, one unit a row under a header row')
    .requiredOption('--out <file>', 'where to write the directory YAML')
    .option('--jurisdiction <name>', 'the place the directory describes, e.g. XX市')
    .option('--json', 'print the result (units written, or the problems) as one JSON object')
    .addHelpText(
      'after',
      '\nColumns (matched by their header words): 单位名称, 简称/编号, 类别/标签, 上级督察单位, 主要负责人, 负责人邮箱,\n' +
        "联络员, 联络员邮箱 (or one 邮箱), 负责人手机, 联络员手机 (or one 手机: the liaison's), written as contacts' mobile.\n\nExamples:\n  duban import directory 单位名录.xlsx --out directory.yaml --jurisdiction XX市\n" +
        '  duban import directory units.csv --out directory.yaml --json',
    )
    .action(async (sheet: string, opts: { out: string; jurisdiction?: string; json?: boolean }) => {
      const bytes = readBytes(sheet, 'the unit list');
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
          field: p.column ? `row ${p.row}, column ${p.column}` : `row ${p.row}`,
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
