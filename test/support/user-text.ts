/**
 * Finds the texts in duban's source that reach people: refusals, errors the command line and the pages print,
 * validation problems, alerts, and the command line's own output. Used by test/domain/refusals.test.ts to require
 * Chinese of each (#19 item 7). It reads the TypeScript syntax tree (the compiler's parser), not lines, so a
 * message split over lines, built in a template or chosen by a condition is still seen whole.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';

export const ROOT = path.join(__dirname, '..', '..');

/** A CJK ideograph: Chinese text has them, a message in English has none. */
export const CHINESE = /[\u4e00-\u9fff]/;

/** Errors whose message a page, the command line or a report shows to a person. */
export const USER_ERRORS = new Set([
  'Refusal',
  'RefusedError',
  'UnknownTrackerError',
  'UnreachableError',
  'InputError',
  'InvalidInputError',
  'PlanningError',
  'WaitingForEvent',
  'PlanReadError',
  'EvidenceError',
  'SettingsError',
  'ChannelSecretsError',
  'LedgerNotFoundError',
  'LedgerUnavailableError',
  'LedgerMismatchError',
]);

/** Calls that carry a problem or refusal message, and which argument it is. */
export const MESSAGE_CALLS: Record<string, number> = { refuse: 0, add: 1, bad: 1, fileProblem: 1 };

/** Object properties whose value is a message for people (problems, zod messages, refusal results, alerts). */
export const MESSAGE_PROPERTIES = new Set(['message', 'error', 'problem', 'text', 'reason']);

/** Calls of the command line that print for people. */
export const OUTPUT_CALLS = new Set(['out', 'err']);

export interface Site {
  file: string;
  line: number;
  /** Why this text reaches people: the rule that found it. */
  rule: string;
  /** The text as written (interpolations shown as ${…}). */
  text: string;
}

/** The .ts files under `dir` (relative to the project), recursively. */
export function sourceFiles(dir: string): string[] {
  const full = path.join(ROOT, dir);
  if (statSync(full).isFile()) return [dir];
  return readdirSync(full).flatMap((name) => {
    const rel = path.join(dir, name);
    if (statSync(path.join(ROOT, rel)).isDirectory()) return sourceFiles(rel);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [rel] : [];
  });
}

/**
 * The pieces of text an expression contributes, each on its own: a literal, a template's own words (its
 * interpolations are looked into separately, so `${n === 1 ? 'is' : 'are'}` is seen), and every literal inside a
 * condition, a call or a function body. Concatenated parts ('…' + '…') are pieces of their own too.
 */
export function textPieces(node: ts.Node): string[] {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return [node.text];
  if (ts.isTemplateExpression(node)) {
    const own = node.head.text + node.templateSpans.map((s) => `\${…}${s.literal.text}`).join('');
    return [own, ...node.templateSpans.flatMap((s) => textPieces(s.expression))];
  }
  // Regular expressions, types and property names are code, not text.
  if (ts.isRegularExpressionLiteral(node) || ts.isTypeNode(node)) return [];
  const pieces: string[] = [];
  node.forEachChild((child) => {
    if (ts.isPropertyAccessExpression(node) && child === node.name) return;
    pieces.push(...textPieces(child));
  });
  return pieces;
}

/** Names that stay as they are in Chinese text: commands and products. */
const NAMES = /\b(npx |npm )?duban [a-z-]+( [a-z-]+)?|temporal workflow [a-z-]+|Temporal Web UI|npm start/g;

/**
 * Whether a piece reads as English: without Chinese, two English words in a row ("is missing", "try again"); with
 * Chinese, three. File names, setting names, ids, keys and single code words (temporal.log, DUBAN_DATA_DIR,
 * `rule: period-end`) are not prose.
 */
export function readsAsEnglish(piece: string): boolean {
  const words = piece.replace(/\$\{…\}/g, ' 0 ').replace(NAMES, ' 0 ');
  // Chinese with an English phrase in it ("Record a submission (报送) with its evidence") is English too.
  if (CHINESE.test(piece)) return /[A-Za-z]{2,} +[A-Za-z]{2,} +[A-Za-z]{2,}/.test(words);
  return /[A-Za-z]{2,}[ ]+[A-Za-z]{2,}/.test(words);
}

function calleeName(e: ts.Expression): string | undefined {
  if (ts.isIdentifier(e)) return e.text;
  if (ts.isPropertyAccessExpression(e)) return e.name.text;
  return undefined;
}

export interface ScanOptions {
  /** Also every `new Error(…)`: in code whose errors reach people as they are. */
  plainErrors?: boolean;
  /** Also the output calls out(…) and err(…) (the command line). */
  output?: boolean;
}

/** The texts of one file that reach people, by the rules above; `source` stands in for the file's text. */
export function userTexts(file: string, options: ScanOptions = {}, source?: string): Site[] {
  source ??= readFileSync(path.join(ROOT, file), 'utf8');
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true);
  const sites: Site[] = [];
  const add = (rule: string, node: ts.Node | undefined) => {
    if (!node) return;
    const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
    for (const text of textPieces(node)) sites.push({ file, line, rule, text });
  };
  const visit = (node: ts.Node) => {
    if (ts.isNewExpression(node) && ts.isIdentifier(node.expression)) {
      const name = node.expression.text;
      if (USER_ERRORS.has(name) || (options.plainErrors && name === 'Error')) add(`new ${name}`, node.arguments?.[0]);
    }
    // An error class's own message: super(…) in a class that extends Error or one of the errors shown.
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.SuperKeyword) {
      let c: ts.Node | undefined = node.parent;
      while (c && !ts.isClassDeclaration(c)) c = c.parent;
      const base = c && ts.isClassDeclaration(c) ? c.heritageClauses?.[0]?.types[0]?.expression : undefined;
      if (base && ts.isIdentifier(base) && (base.text === 'Error' || USER_ERRORS.has(base.text)))
        add(`super(…) of ${c && ts.isClassDeclaration(c) ? c.name?.text : '?'}`, node.arguments[0]);
    }
    if (ts.isCallExpression(node)) {
      const name = calleeName(node.expression);
      if (name !== undefined && name in MESSAGE_CALLS) add(`${name}(…)`, node.arguments[MESSAGE_CALLS[name]!]);
      if (options.output && name !== undefined && OUTPUT_CALLS.has(name))
        for (const a of node.arguments) add(`${name}(…)`, a);
    }
    if (
      ts.isPropertyAssignment(node) &&
      (ts.isIdentifier(node.name) || ts.isStringLiteral(node.name)) &&
      MESSAGE_PROPERTIES.has(node.name.text)
    )
      add(`${node.name.text}:`, node.initializer);
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && MESSAGE_PROPERTIES.has(node.name.text))
      add(`const ${node.name.text}`, node.initializer);
    node.forEachChild(visit);
  };
  visit(sf);
  return sites;
}
