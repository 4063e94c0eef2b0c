/**
 * Opening the ledger: commands open it without migrating and create nothing (issue 11.5, issue 8.2); the ledger's
 * identity, drawn once, is what a deployment records to refuse a second ledger (issue 14.2). SQLite and PostgreSQL.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { loadSettings } from '../config/settings';
import { freePort } from './support/ports';
import { Ledger, LedgerNotFoundError, LedgerUnavailableError, MIGRATION_VERSIONS, describeLedger } from '../ledger';
import { openLedger } from '../access/ledger';
import { TestPostgres, startTestPostgres } from './support/postgres';

describe('opening the ledger', () => {
  test('SQLite: read-only opens create nothing; migrate creates; the identity is drawn once and kept', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'duban-ledger-open-'));
    const file = path.join(dir, 'data', 'ledger.sqlite');
    await expect(Ledger.open({ sqliteFile: file, migrate: false, source: 'DUBAN_DATA_DIR' })).rejects.toThrow(
      new LedgerNotFoundError(
        `找不到台账：查找了 SQLite ${file} (DUBAN_DATA_DIR)；未创建任何内容。台账由 worker 或 \`duban migrate\` 创建。`,
      ),
    );
    expect(existsSync(path.join(dir, 'data'))).toBe(false);

    const created = await Ledger.open({ sqliteFile: file });
    const identity = await created.identity();
    expect(identity).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(await created.identity()).toBe(identity);
    expect(await created.pendingMigrations()).toEqual([]);
    await created.close();

    const reader = await Ledger.open({ sqliteFile: file, migrate: false });
    expect(await reader.identity()).toBe(identity);
    // A ledger that lacks a migration this code needs is reported, not migrated behind the operator's back.
    await reader.db.run('DELETE FROM ledger_migrations WHERE version = 6');
    await reader.close();
    await expect(Ledger.open({ sqliteFile: file, migrate: false })).rejects.toThrow(
      /台账（SQLite .*）须先执行迁移 6 才能用于此版本的 duban：请运行 `duban migrate`/,
    );

    const other = await Ledger.open({ sqliteFile: path.join(dir, 'other.sqlite') });
    expect(await other.identity()).not.toBe(identity);
    await other.close();
  });

  test('openLedger(settings): read-only unless asked to migrate (the web service and commands read; `duban migrate` and the worker migrate)', async () => {
    const data = path.join(mkdtempSync(path.join(tmpdir(), 'duban-ledger-settings-')), 'data');
    const settings = loadSettings({ DUBAN_DATA_DIR: data });
    const where = `SQLite ${path.join(data, 'ledger.sqlite')} (DUBAN_DATA_DIR, no DATABASE_URL)`;
    await expect(openLedger(settings)).rejects.toThrow(
      new LedgerNotFoundError(`找不到台账：查找了 ${where}；未创建任何内容。台账由 worker 或 \`duban migrate\` 创建。`),
    );
    expect(existsSync(data)).toBe(false);
    const migrated = await openLedger(settings, { migrate: true });
    expect(await migrated.appliedMigrations()).toEqual(MIGRATION_VERSIONS);
    // An older ledger: the last migration not applied.
    await migrated.db.exec('DROP TABLE web_link_submissions');
    await migrated.db.run('DELETE FROM ledger_migrations WHERE version = 9');
    await migrated.close();
    await expect(openLedger(settings)).rejects.toThrow(
      new LedgerNotFoundError(
        `台账（${where}）须先执行迁移 9 才能用于此版本的 duban：请运行 \`duban migrate\`（或启动一个 worker）后重试。`,
      ),
    );
    await (await openLedger(settings, { migrate: true })).close();
    const reader = await openLedger(settings);
    expect(await reader.pendingMigrations()).toEqual([]);
    await reader.close();
  });

  describe('PostgreSQL', () => {
    let pg: TestPostgres;
    beforeAll(async () => {
      pg = await startTestPostgres();
    });
    afterAll(async () => {
      await pg?.stop();
    });

    test('an empty database is no ledger for a read-only open; the worker migrates it; the password is never shown', async () => {
      const url = new URL(pg.url);
      url.password = 'pw-not-shown';
      const where = `PostgreSQL ${url.toString().replace('pw-not-shown', '***')} (DATABASE_URL)`;
      expect(describeLedger({ databaseUrl: url.toString(), source: 'DATABASE_URL' })).toBe(where);
      await expect(
        Ledger.open({ databaseUrl: url.toString(), migrate: false, source: 'DATABASE_URL' }),
      ).rejects.toThrow(
        new LedgerNotFoundError(
          `找不到台账：${where} 中没有 duban 的表；未创建任何内容。这些表由 worker 或 \`duban migrate\` 创建。`,
        ),
      );
      const ledger = await Ledger.open({ databaseUrl: url.toString() });
      const identity = await ledger.identity();
      await ledger.close();
      const reader = await Ledger.open({ databaseUrl: url.toString(), migrate: false });
      expect(await reader.identity()).toBe(identity);
      await reader.close();

      url.pathname = '/no_such_database';
      const missing = await Ledger.open({ databaseUrl: url.toString(), source: 'DATABASE_URL' }).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(missing).toBeInstanceOf(LedgerUnavailableError);
      expect(missing!.message).toMatch(
        /^无法打开台账（PostgreSQL postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/no_such_database \(DATABASE_URL\)）：database "no_such_database" does not exist/,
      );
      expect(missing!.message).not.toContain('pw-not-shown');
      // A missing database is not mended by waiting: a starting worker stops at once (worker/main.ts).
      expect((missing as LedgerUnavailableError).transient).toBe(false);

      // A database not listening (down, restarting): worth waiting for.
      url.pathname = '/duban';
      url.port = String(await freePort());
      const down = await Ledger.open({ databaseUrl: url.toString() }).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(down).toBeInstanceOf(LedgerUnavailableError);
      expect((down as LedgerUnavailableError).transient).toBe(true);
    });
  });
});
