/**
 * The yearly report (考核) from the ledger alone: a table, CSV, JSON or an Excel workbook with the draft circular.
 */
import { Command, Option } from 'commander';
import { writeFileSync } from 'node:fs';
import { namedJurisdiction } from '../../access/levels';
import { latestSnapshot } from '../../access/registered';
import { renderReport, writeWorkbook, yearReport } from '../../access/report';
import { ROOT_JURISDICTION, jurisdictionTree } from '../../domain/jurisdictions';
import type { Directory } from '../../domain/model';
import { registeredZones } from '../../access/board';
import { openLedger } from '../../access/ledger';
import { loadDirectory, loadInputs } from '../../config/load';
import { loadSettings } from '../../config/settings';
import { parseDate } from '../../domain/dates';
import { InputError } from '../errors';
import { Io } from './common';

export function addReportCommands(program: Command, io: Io) {
  program
    .command('report')
    .description(
      '年度考核，只读台账（无需 Temporal）：每个单位到期的期次、按时完成、延期后按时完成、逾期完成、未完成、免除、按时完成率和排名；以及通报草稿',
    )
    .requiredOption('--year <YYYY>', '统计截止日期在哪一年')
    .option('--catalog <file>', '提供任务名称的任务清单 YAML 文件（默认：内置任务清单；须与 --directory 同时给出）')
    .option('--directory <file>', '提供单位名称的单位名录 YAML 文件（默认：内置单位名录）')
    .addOption(
      new Option('--format <format>', '输出格式；xlsx 写出 Excel 工作簿，须给出 --out')
        .choices(['table', 'csv', 'json', 'xlsx'])
        .default('table'),
    )
    .option('--out <file>', '写入此文件，而不是标准输出')
    .option('--jurisdiction <id>', '只看此辖区及其下级辖区（多级单位名录）：其单位、汇总和通报')
    .addHelpText(
      'after',
      '\n示例：\n  duban report --year 2027\n  duban report --year 2027 --format csv > 2027考核.csv\n  duban report --year 2027 --format xlsx --out 2027考核.xlsx\n  duban report --year 2027 --jurisdiction county-b',
    )
    .action(
      async (opts: {
        year: string;
        format: 'table' | 'csv' | 'json' | 'xlsx';
        catalog?: string;
        directory?: string;
        out?: string;
        jurisdiction?: string;
      }) => {
        if (!/^\d{4}$/.test(opts.year) || parseDate(`${opts.year}-01-01`) === undefined)
          throw new InputError(`--year “${opts.year}”不是年份，如 2027`);
        if (opts.format === 'xlsx' && !opts.out)
          throw new InputError('--format xlsx 写出 Excel 文件：请给出 --out，如 --out 2027考核.xlsx');
        const year = Number(opts.year);
        // Names come from the files; an obligation no longer in the catalog keeps the title the ledger noted for it.
        let fileDirectory: Directory;
        const titles = new Map<string, string>();
        if (opts.catalog !== undefined || opts.directory === undefined) {
          const inputs = loadInputs({ catalog: opts.catalog, directory: opts.directory });
          fileDirectory = inputs.directory;
          for (const o of inputs.catalog.obligations) titles.set(o.id, o.title);
        } else {
          fileDirectory = loadDirectory(opts.directory);
        }
        const unitNames = new Map(fileDirectory.units.map((u) => [u.id, u.name]));
        const ledger = await openLedger(loadSettings());
        try {
          for (const [id, title] of await ledger.obligationTitles()) if (!titles.has(id)) titles.set(id, title);
          // Open periods count as of now, on the date of the registered catalog's zone.
          const zone = (await registeredZones(ledger)).zones[0];
          // Levels: the tree of the directory given, else of the one registered, else of the built-in one.
          const directory =
            opts.directory !== undefined ? fileDirectory : ((await latestSnapshot(ledger))?.directory ?? fileDirectory);
          let only: ReturnType<typeof namedJurisdiction> | undefined;
          if (opts.jurisdiction !== undefined) {
            only = namedJurisdiction(directory, opts.jurisdiction);
            if ('error' in only) throw new InputError(only.error);
          }
          const scope = only && !('error' in only) && only.id !== ROOT_JURISDICTION ? only : undefined;
          const report = await yearReport(
            ledger,
            year,
            { units: unitNames, obligations: titles },
            {
              zone,
              ...(scope ? { maySee: (unit: string) => scope.units.has(unit), units: [...scope.units] } : {}),
              ...(jurisdictionTree(directory).nested
                ? {
                    levels: {
                      directory,
                      ...(scope ? { jurisdictions: (j: string) => scope.jurisdictions.has(j) } : {}),
                    },
                  }
                : {}),
            },
          );
          if (opts.format === 'xlsx') {
            await writeWorkbook(report, opts.out!);
            io.out(`已写入 ${opts.out}：${report.units.length}个单位\n`);
          } else if (opts.out) {
            writeFileSync(opts.out, renderReport(report, opts.format));
          } else {
            io.out(renderReport(report, opts.format));
          }
        } finally {
          await ledger.close();
        }
      },
    );
}
