import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isDatabaseUnavailable, openStorage, type Storage } from './database.ts';
import { inTransaction } from './transaction.ts';

describe('SQLite transactions that SQLite itself rolled back', () => {
  let dir: string;
  let storage: Storage;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-rollback-'));
    storage = openStorage(join(dir, 'test.db'));
    await sql`create table filler (v blob)`.execute(storage.db);
  });
  afterEach(async () => {
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Caps the file at its current size plus two pages: the next large write finds the disk full. */
  async function fillTheDisk(): Promise<void> {
    const { rows } = await sql<{ page_count: number }>`pragma page_count`.execute(storage.db);
    await sql.raw(`pragma max_page_count = ${(rows[0]?.page_count ?? 0) + 2}`).execute(storage.db);
  }

  it('throws the error that ended the transaction (a full disk, 503), not the refused ROLLBACK after it', async () => {
    await fillTheDisk();
    const failure = await inTransaction(storage.db, async (trx) => {
      await sql`insert into filler values (${Buffer.alloc(100_000)})`.execute(trx);
    }).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: 'SQLITE_FULL' });
    expect(isDatabaseUnavailable(failure)).toBe(true);
  });

  it('still rolls back a transaction SQLite left open, and the connection keeps working', async () => {
    await expect(
      inTransaction(storage.db, async (trx) => {
        await sql`insert into filler values (${Buffer.from('undone')})`.execute(trx);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    await inTransaction(storage.db, (trx) =>
      sql`insert into filler values (${Buffer.from('kept')})`.execute(trx),
    );
    const { rows } = await sql<{ n: number }>`select count(*) as n from filler`.execute(storage.db);
    expect(rows[0]?.n).toBe(1);
  });
});
