/**
 * A minimal SQL connection shared by the two ledger back ends: SQLite (embedded default, better-sqlite3) and
 * PostgreSQL (node-postgres, also what PostgreSQL-compatible domestic databases speak).
 *
 * Queries are written once with `?` placeholders in the SQL both dialects accept; the PostgreSQL adapter numbers
 * them ($1, $2 ...). Timestamps are epoch milliseconds in BIGINT columns, structured data is JSON in TEXT.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { Pool, PoolClient, PoolConfig } from 'pg';

export type Dialect = 'sqlite' | 'postgres';
export type Param = string | number | null;

export interface SqlDb {
  readonly dialect: Dialect;
  exec(sql: string): Promise<void>;
  /** Returns the number of rows changed. */
  run(sql: string, params?: Param[]): Promise<number>;
  all<T>(sql: string, params?: Param[]): Promise<T[]>;
  /** Runs fn in one transaction; on SQLite it takes the write lock first (BEGIN IMMEDIATE). */
  transaction<T>(fn: (db: SqlDb) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Serialises work on one SQLite connection so that a transaction's statements are never interleaved. */
class Mutex {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn, fn);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/**
 * One lock for every SQLite connection of the process. better-sqlite3 blocks the thread while it waits for a
 * database lock, so a transaction held across an await by one connection would dead-lock another connection
 * of the same process; across processes, SQLite's own busy timeout does the waiting.
 */
const processMutex = new Mutex();

/** `mustExist`: a missing file is an error, not a new empty database (read-only commands create nothing). */
export function openSqlite(file: string, options: { mustExist?: boolean } = {}): SqlDb {
  if (file !== ':memory:' && !options.mustExist) mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file, { fileMustExist: options.mustExist === true });
  // WAL lets several worker processes share the file; the busy timeout makes them wait for each other's writes.
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 10000');
  const mutex = processMutex;
  const prepare = statementCache(db);
  const direct: SqlDb = {
    dialect: 'sqlite',
    exec: async (sql) => void db.exec(sql),
    run: async (sql, params = []) => prepare(sql).run(...params).changes,
    all: async <T>(sql: string, params: Param[] = []) => {
      const stmt = prepare(sql);
      return (stmt.reader ? stmt.all(...params) : (stmt.run(...params), [])) as T[];
    },
    transaction: (fn) => fn(direct),
    close: async () => void db.close(),
  };
  return {
    dialect: 'sqlite',
    exec: (sql) => mutex.run(() => direct.exec(sql)),
    run: (sql, params) => mutex.run(() => direct.run(sql, params)),
    all: <T>(sql: string, params?: Param[]) => mutex.run(() => direct.all<T>(sql, params)),
    transaction: <T>(fn: (db: SqlDb) => Promise<T>) =>
      mutex.run(async () => {
        db.exec('BEGIN IMMEDIATE');
        try {
          const result = await fn(direct);
          db.exec('COMMIT');
          return result;
        } catch (err) {
          db.exec('ROLLBACK');
          throw err;
        }
      }),
    close: () => mutex.run(() => direct.close()),
  };
}

/** Statements kept per connection: the ledger's queries are a few dozen shapes (lists vary in length). */
export const STATEMENT_CACHE_SIZE = 200;

/**
 * Compiles each query once per connection instead of on every call: a notice's ledger writes are the same few
 * statements every time, and compiling them was most of the SQLite time a notice costs the worker. Bounded (the
 * oldest shape is dropped) because queries with IN lists vary in text with the list's length.
 */
export function statementCache(db: Database.Database, size = STATEMENT_CACHE_SIZE) {
  const cache = new Map<string, Database.Statement>();
  return (sql: string): Database.Statement => {
    let stmt = cache.get(sql);
    if (stmt) return stmt;
    stmt = db.prepare(sql);
    if (cache.size >= size) cache.delete(cache.keys().next().value!);
    cache.set(sql, stmt);
    return stmt;
  };
}

function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

function postgresOn(client: Pool | PoolClient, close: () => Promise<void>): SqlDb {
  const db: SqlDb = {
    dialect: 'postgres',
    exec: async (sql) => void (await client.query(sql)),
    run: async (sql, params = []) => (await client.query(numbered(sql), params)).rowCount ?? 0,
    all: async <T>(sql: string, params: Param[] = []) => (await client.query(numbered(sql), params)).rows as T[],
    transaction: async (fn) => {
      if (!(client instanceof Pool)) return fn(db);
      const c = await client.connect();
      try {
        await c.query('BEGIN');
        const result = await fn(postgresOn(c, async () => undefined));
        await c.query('COMMIT');
        return result;
      } catch (err) {
        await c.query('ROLLBACK');
        throw err;
      } finally {
        c.release();
      }
    },
    close,
  };
  return db;
}

export interface PostgresOptions {
  /** postgres://user:password@host:port/database; `?sslmode=require` or the ssl option for TLS. */
  url: string;
  ssl?: PoolConfig['ssl'];
  max?: number;
}

export function openPostgres(options: PostgresOptions): SqlDb {
  const pool = new Pool({ connectionString: options.url, ssl: options.ssl, max: options.max ?? 10 });
  // An idle client's error (the server restarting) must not crash the worker; the next query reconnects.
  pool.on('error', () => undefined);
  return postgresOn(pool, () => pool.end());
}

/** Adds `column = ?` for each filter field that is set (the board's and the record's optional filters). */
export function equalities<F extends object>(
  filter: F,
  columns: { [K in keyof F]?: string },
  clauses: string[],
  params: Param[],
): void {
  for (const [key, column] of Object.entries(columns) as [keyof F & string, string][]) {
    const value = filter[key];
    if (value === undefined || value === null || value === '') continue;
    clauses.push(`${column} = ?`);
    params.push(value as Param);
  }
}

/** `unit IN (...)` for a list of units (none: nothing matches), or no clause for every unit (undefined). */
export function unitsClause(units: readonly string[] | undefined, clauses: string[], params: Param[]): void {
  if (!units) return;
  if (units.length === 0) clauses.push('1 = 0');
  else {
    clauses.push(`unit IN (${units.map(() => '?').join(', ')})`);
    params.push(...units);
  }
}
