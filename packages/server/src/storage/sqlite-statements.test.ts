import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { type Generated, Kysely, SqliteDialect, sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { withStatementCache } from './sqlite-statements.ts';

interface Tables {
  items: { id: Generated<number>; label: string };
}

describe('SQLite statement cache', () => {
  let dir: string;
  let sqlite: SQLite.Database;
  let prepare: ReturnType<typeof vi.spyOn>;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-statements-'));
    sqlite = new SQLite(join(dir, 'test.db'));
    sqlite.exec('create table items (id integer primary key, label text not null unique)');
    prepare = vi.spyOn(sqlite, 'prepare');
  });
  afterEach(() => {
    if (sqlite.open) sqlite.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function kysely(max?: number): Kysely<Tables> {
    return new Kysely<Tables>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite, max) }) });
  }

  it('prepares a SQL text once and answers every later call with that call’s own parameters', async () => {
    const db = kysely();
    for (let i = 1; i <= 50; i++)
      await db
        .insertInto('items')
        .values({ id: i, label: `item ${i}` })
        .execute();
    for (let i = 1; i <= 50; i++) {
      const rows = await db.selectFrom('items').select('label').where('id', '=', i).execute();
      expect(rows).toEqual([{ label: `item ${i}` }]);
    }
    // One insert and one select, whatever the number of calls.
    expect(prepare).toHaveBeenCalledTimes(2);
    await db.destroy();
  });

  it('leaves transactions working: a rollback undoes, a commit keeps, again and again', async () => {
    const db = kysely();
    for (let round = 1; round <= 3; round++) {
      await expect(
        db.transaction().execute(async (trx) => {
          await trx
            .insertInto('items')
            .values({ label: `undone ${round}` })
            .execute();
          throw new Error('roll back');
        }),
      ).rejects.toThrow('roll back');
      await db.transaction().execute(async (trx) => {
        await trx
          .insertInto('items')
          .values({ label: `kept ${round}` })
          .execute();
      });
    }
    const labels = (await db.selectFrom('items').select('label').orderBy('id').execute()).map((r) => r.label);
    expect(labels).toEqual(['kept 1', 'kept 2', 'kept 3']);
    await db.destroy();
  });

  it('reuses a statement after it failed', async () => {
    const db = kysely();
    const insert = (label: string) => db.insertInto('items').values({ label }).execute();
    await insert('one');
    await expect(insert('one')).rejects.toThrow(/UNIQUE/);
    await insert('two');
    expect(await db.selectFrom('items').select('label').orderBy('id').execute()).toEqual([
      { label: 'one' },
      { label: 'two' },
    ]);
    await db.destroy();
  });

  it('keeps at most `max` statements: the least recently used one is prepared again', async () => {
    const db = kysely(3);
    const select = (n: number) => sql`select ${sql.lit(n)} as n`.execute(db);
    for (const n of [1, 2, 3]) await select(n);
    await select(1); // 1 is now the most recently used; 2 the least
    await select(4); // evicts 2
    expect(prepare).toHaveBeenCalledTimes(4);
    await select(1);
    await select(3);
    expect(prepare).toHaveBeenCalledTimes(4);
    await select(2);
    expect(prepare).toHaveBeenCalledTimes(5);
    await db.destroy();
  });

  it('answers from the schema as a later migration left it', async () => {
    const db = kysely();
    await db.insertInto('items').values({ label: 'before' }).execute();
    const all = () => db.selectFrom('items').selectAll().execute();
    expect(await all()).toEqual([{ id: 1, label: 'before' }]);
    await sql`alter table items add column note text default 'added'`.execute(db);
    expect(await all()).toEqual([{ id: 1, label: 'before', note: 'added' }]);
    await db.destroy();
  });

  it('hands out a statement of its own while the cached one has an iterator open', () => {
    const cached = withStatementCache(sqlite);
    sqlite.exec("insert into items (label) values ('a'), ('b')");
    const text = 'select label from items order by id';
    const first = cached.prepare(text);
    const iterator = first.iterate([]);
    expect(iterator.next().value).toEqual({ label: 'a' });
    const second = cached.prepare(text);
    expect(second).not.toBe(first);
    expect(second.all([])).toEqual([{ label: 'a' }, { label: 'b' }]);
    expect(iterator.next().value).toEqual({ label: 'b' });
    expect(iterator.next().done).toBe(true);
    expect(cached.prepare(text)).toBe(first);
  });

  it('closes the database', async () => {
    const db = kysely();
    await db.selectFrom('items').selectAll().execute();
    await db.destroy();
    expect(sqlite.open).toBe(false);
  });
});
