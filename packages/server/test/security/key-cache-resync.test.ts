import type { KyselyPlugin } from 'kysely';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { KeyCache } from '../../src/auth/key-cache.ts';
import { createApiKey, revokeApiKey } from '../../src/domain/api-keys.ts';
import { CLI_ACTOR } from '../../src/domain/audit.ts';
import { migrate, openStorage, type Storage } from '../../src/storage/database.ts';
import { markRevoked } from '../../src/storage/repositories/api-keys.ts';
import { insertInvalidation } from '../../src/storage/repositories/invalidations.ts';
import { seed } from '../helpers/seed.ts';
import { describeEachDialect, openTestStorage } from '../helpers/test-app.ts';

/** Never fires during a test: every poll and resync below is called by hand, so the order is exact. */
const MANUAL = { pollMs: 3_600_000, resyncMs: 3_600_000 };

/** A promise and the function that settles it, for holding a transaction or a query open. */
function latch(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

describeEachDialect('key cache: the invalidation feed misses no revocation', (dialect) => {
  let storage: Storage;
  let url: string;
  let drop: () => Promise<void>;
  let tenantId: number;
  const caches: KeyCache[] = [];

  beforeAll(async () => {
    ({ storage, url, drop } = await openTestStorage(dialect));
    await migrate(storage);
    tenantId = (await seed(storage.db)).a.tenantId;
  });
  afterEach(async () => {
    for (const cache of caches.splice(0)) await cache.stop();
  });
  afterAll(async () => {
    await storage.close();
    await drop();
  });

  const newKey = () => createApiKey(storage.db, { tenantId, label: 'feed test' }, CLI_ACTOR);
  async function startedCache(db = storage.db, options = {}) {
    const cache = new KeyCache(db, { ...MANUAL, ...options });
    await cache.start();
    caches.push(cache);
    return cache;
  }

  it('a revocation evicts the cached key at the next poll (on SQLite, whose writes are serialized so ids commit in order, the only case)', async () => {
    const cache = await startedCache();
    const issued = await newKey();
    expect((await cache.verifySecret(issued.privateKey)).valid).toBe(true);
    await revokeApiKey(storage.db, issued.key.publicKey, CLI_ACTOR);
    await cache.poll();
    expect(await cache.verifySecret(issued.privateKey)).toEqual({
      valid: false,
      code: 'revoked',
      keyId: issued.key.id,
    });
  });

  it.runIf(dialect === 'postgres')(
    'a revocation committed out of id order on PostgreSQL still evicts the key at the next poll',
    async () => {
      const cache = await startedCache();
      const early = await newKey();
      const late = await newKey();
      expect((await cache.verifySecret(early.privateKey)).valid).toBe(true);

      // T1 takes the smaller invalidation id and stays open...
      const inserted = latch();
      const commit = latch();
      const t1 = storage.db.transaction().execute(async (trx) => {
        await markRevoked(trx, early.key.id, Date.now());
        await insertInvalidation(trx, early.key.id, Date.now());
        inserted.open();
        await commit.promise;
      });
      await inserted.promise;
      // ...while T2 takes the next id and commits first; the poll sees only T2's row.
      await revokeApiKey(storage.db, late.key.publicKey, CLI_ACTOR);
      await cache.poll();
      expect((await cache.verifySecret(late.privateKey)).valid).toBe(false);
      expect((await cache.verifySecret(early.privateKey)).valid).toBe(true);

      commit.open();
      await t1;
      await cache.poll();
      expect(await cache.verifySecret(early.privateKey)).toEqual({
        valid: false,
        code: 'revoked',
        keyId: early.key.id,
      });
    },
  );

  it('a rolled-back invalidation leaves a gap that neither blocks nor repeats later invalidations', async () => {
    const cache = await startedCache();
    const kept = await newKey();
    const revoked = await newKey();
    await storage.db
      .transaction()
      .execute(async (trx) => {
        await insertInvalidation(trx, kept.key.id, Date.now());
        throw new Error('rolled back');
      })
      .catch(() => {});
    await revokeApiKey(storage.db, revoked.key.publicKey, CLI_ACTOR);
    expect((await cache.verifySecret(kept.privateKey)).valid).toBe(true);
    await cache.poll();
    await cache.poll();
    expect((await cache.verifySecret(revoked.privateKey)).valid).toBe(false);
    expect((await cache.verifySecret(kept.privateKey)).valid).toBe(true);
  });

  it('an invalidation the poll cannot see by id is still evicted by the periodic resync', async () => {
    // Stands for a row whose transaction outlived the gap retention: written with an explicit id
    // below the head the cache started from, so it was never a gap the poll watched.
    const head = 1_000_000;
    await storage.db
      .insertInto('invalidations')
      .values({ id: head, api_key_id: 0, created_at: Date.now() })
      .execute();
    try {
      const cache = await startedCache();
      const issued = await newKey();
      expect((await cache.verifySecret(issued.privateKey)).valid).toBe(true);
      await storage.db.transaction().execute(async (trx) => {
        await markRevoked(trx, issued.key.id, Date.now());
        await trx
          .insertInto('invalidations')
          .values({ id: head - 1, api_key_id: issued.key.id, created_at: Date.now() })
          .execute();
      });
      await cache.poll();
      expect((await cache.verifySecret(issued.privateKey)).valid).toBe(true);
      await cache.resync();
      expect(await cache.verifySecret(issued.privateKey)).toEqual({
        valid: false,
        code: 'revoked',
        keyId: issued.key.id,
      });
    } finally {
      // PostgreSQL's sequence did not move: the next caches must start from the ordinary head again.
      await storage.db
        .deleteFrom('invalidations')
        .where('id', '>=', head - 1)
        .execute();
    }
  });

  it('a key read from the database before its revocation commits is not cached past the eviction', async () => {
    // A second connection, so that the read can be held after it ran without blocking the writer.
    const reader = openStorage(url, storage.schema ? { schema: storage.schema } : {});
    try {
      const ran = latch();
      const release = latch();
      let hold = false;
      const holdNextResult: KyselyPlugin = {
        transformQuery: (args) => args.node,
        transformResult: async (args) => {
          if (hold) {
            hold = false;
            ran.open();
            await release.promise;
          }
          return args.result;
        },
      };
      const cache = new KeyCache(reader.db.withPlugin(holdNextResult), MANUAL);
      await cache.start();
      const issued = await newKey();
      hold = true;
      // The lookup reads the key before the revocation commits, and returns after the poll evicted it.
      const first = cache.verifySecret(issued.privateKey);
      await ran.promise;
      await revokeApiKey(storage.db, issued.key.publicKey, CLI_ACTOR);
      // What the poll does when it reads the row (called directly: SQLite's one connection per
      // database is the held one, so a poll through it would wait for the read).
      cache.invalidate(issued.key.id);
      release.open();
      expect((await first).valid).toBe(true);
      expect(await cache.verifySecret(issued.privateKey)).toEqual({
        valid: false,
        code: 'revoked',
        keyId: issued.key.id,
      });
      await cache.stop();
    } finally {
      await reader.close();
    }
  });
});
