/**
 * The rooms keep their walls (issue 20): no function of the web service longer than a screenful, and the database
 * reached from `ledger/` only. Read from the source with TypeScript's own parser, so a change that breaks either
 * fails here rather than in a reviewer's eye.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';

const ROOT = path.join(__dirname, '..');

function sources(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir)).flatMap((name) => {
    const rel = path.join(dir, name);
    if (statSync(path.join(ROOT, rel)).isDirectory()) return sources(rel);
    return rel.endsWith('.ts') ? [rel] : [];
  });
}

test('no function in web/ is longer than 120 lines', () => {
  const long: string[] = [];
  for (const file of sources('web')) {
    const src = ts.createSourceFile(file, readFileSync(path.join(ROOT, file), 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node) => {
      if (ts.isFunctionDeclaration(node) || ts.isArrowFunction(node) || ts.isFunctionExpression(node)) {
        const first = src.getLineAndCharacterOfPosition(node.getStart()).line;
        const last = src.getLineAndCharacterOfPosition(node.end).line;
        if (last - first + 1 > 120) long.push(`${file}:${first + 1} (${last - first + 1} lines)`);
      }
      ts.forEachChild(node, visit);
    };
    visit(src);
  }
  expect(long).toEqual([]);
});

test('SQL lives in ledger/ only: nothing else reaches the database handle', () => {
  const outside = ['web', 'access', 'activities', 'client', 'worker', 'workflows', 'channels', 'config', 'import']
    .flatMap(sources)
    .filter((file) =>
      /\.db\.(run|all|get|exec|transaction)\(|\bledger\.db\b/.test(readFileSync(path.join(ROOT, file), 'utf8')),
    );
  expect(outside).toEqual([]);
});
