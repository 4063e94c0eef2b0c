/**
 * The SQLite connection compiles each query once (ledger/sql.ts statementCache): the same text gives the same
 * statement, the cache stays bounded, and a query whose statement was dropped still runs and answers right.
 */
import Database from 'better-sqlite3';
import { openSqlite, statementCache } from '../ledger/sql';

test('the same query is compiled once; the oldest shape is dropped beyond the bound', () => {
  const db = new Database(':memory:');
  const prepare = statementCache(db, 2);
  const a = prepare('SELECT 1 AS x');
  expect(prepare('SELECT 1 AS x')).toBe(a);
  const b = prepare('SELECT 2 AS x');
  prepare('SELECT 3 AS x'); // the cache holds two: 'SELECT 1' goes
  expect(prepare('SELECT 2 AS x')).toBe(b);
  const again = prepare('SELECT 1 AS x');
  expect(again).not.toBe(a);
  expect(again.get()).toEqual({ x: 1 });
  db.close();
});

test('writes and reads through cached statements see each other, also after the schema changed', async () => {
  const db = openSqlite(':memory:');
  await db.exec('CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER)');
  const insert = 'INSERT INTO t (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v';
  for (let i = 0; i < 5; i++) expect(await db.run(insert, ['a', i])).toBe(1);
  expect(await db.all('SELECT k, v FROM t')).toEqual([{ k: 'a', v: 4 }]);
  expect(await db.all('SELECT * FROM t')).toEqual([{ k: 'a', v: 4 }]);
  await db.exec('ALTER TABLE t ADD COLUMN w INTEGER DEFAULT 7');
  expect(await db.all('SELECT * FROM t')).toEqual([{ k: 'a', v: 4, w: 7 }]);
  expect(await db.run(insert, ['b', 1])).toBe(1);
  expect(await db.all('SELECT k, v FROM t ORDER BY k')).toEqual([
    { k: 'a', v: 4 },
    { k: 'b', v: 1 },
  ]);
  await db.close();
});
