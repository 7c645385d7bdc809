import type { KyselyPlugin } from 'kysely';
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { KeyCache } from '../../src/auth/key-cache.ts';
import { createApiKey, revokeApiKey } from '../../src/domain/api-keys.ts';
import { CLI_ACTOR } from '../../src/domain/audit.ts';
import { migrate, openStorage, type Storage } from '../../src/storage/database.ts';
import { seed } from '../helpers/seed.ts';
import { describeEachDialect, openTestStorage } from '../helpers/test-app.ts';

/** No background job fires during a test: polls and flushes are the tests' own. */
const MANUAL = { pollMs: 3_600_000, resyncMs: 3_600_000, flushMs: 3_600_000 };

/** A promise and the function that settles it (Node 20 has no Promise.withResolvers). */
function latch(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((settle) => {
    resolve = settle;
  });
  return { promise, resolve };
}

/** Counts the statements that read keys, and can hold the next one's result until released. */
function statementProbe() {
  const probe = {
    reads: 0,
    hold: false,
    held: latch(),
    release: latch(),
    plugin: {
      transformQuery: (args) => {
        if (args.node.kind === 'SelectQueryNode') probe.reads++;
        return args.node;
      },
      transformResult: async (args) => {
        if (probe.hold) {
          probe.hold = false;
          probe.held.resolve();
          await probe.release.promise;
        }
        return args.result;
      },
    } satisfies KyselyPlugin,
  };
  return probe;
}

describeEachDialect('key cache: what a miss and a refresh cost', (dialect) => {
  let storage: Storage;
  /**
   * The probed caches read through their own connection: on SQLite, a held read holds the database's
   * one connection, and the revocation the test makes meanwhile would wait for it.
   */
  let reader: Storage;
  let drop: () => Promise<void>;
  let tenantId: number;
  const caches: KeyCache[] = [];

  beforeAll(async () => {
    let url: string;
    ({ storage, url, drop } = await openTestStorage(dialect));
    await migrate(storage);
    reader = openStorage(url, storage.schema ? { schema: storage.schema } : {});
    tenantId = (await seed(storage.db)).a.tenantId;
  });
  afterEach(async () => {
    for (const cache of caches.splice(0)) await cache.stop();
  });
  afterAll(async () => {
    await reader.close();
    await storage.close();
    await drop();
  });

  const newKey = (label = 'reads test') => createApiKey(storage.db, { tenantId, label }, CLI_ACTOR);
  function probedCache(options = {}) {
    const probe = statementProbe();
    const cache = new KeyCache(reader.db.withPlugin(probe.plugin), { ...MANUAL, ...options });
    caches.push(cache);
    return { cache, probe };
  }

  it('a client seen for the first time costs one statement (its key and its private keys together)', async () => {
    const issued = await newKey();
    const { cache, probe } = probedCache();
    const result = await cache.verifyClient(issued.key.publicKey, issued.privateKey);
    expect(result.valid).toBe(true);
    expect(probe.reads).toBe(1);
    expect((await cache.verifyClient(issued.key.publicKey, 'gh_wrong')).valid).toBe(false);
    expect(probe.reads).toBe(1);
  });

  it('a public client (no private key) is found by that one statement too', async () => {
    const issued = await createApiKey(
      storage.db,
      { tenantId, label: 'spa', clientType: 'public', redirectUris: ['https://spa.example/cb'] },
      CLI_ACTOR,
    );
    const { cache, probe } = probedCache();
    expect((await cache.verifyPublicClient(issued.key.publicKey)).valid).toBe(true);
    expect(probe.reads).toBe(1);
  });

  it('fifty misses of one secret released at once share one database read', async () => {
    const issued = await newKey();
    const { cache, probe } = probedCache();
    const results = await Promise.all(
      Array.from({ length: 50 }, () => cache.verifySecret(issued.privateKey)),
    );
    expect(results.every((r) => r.valid)).toBe(true);
    expect(probe.reads).toBe(1);
    const clients = await Promise.all(
      Array.from({ length: 50 }, () => cache.verifyClient(issued.key.publicKey, issued.privateKey)),
    );
    expect(clients.every((r) => r.valid)).toBe(true);
    expect(probe.reads).toBe(2);
  });

  it('a read in flight when a key is revoked is not shared with a request that comes after the revocation', async () => {
    const issued = await newKey();
    const { cache, probe } = probedCache();
    probe.hold = true;
    const before = cache.verifySecret(issued.privateKey);
    await probe.held.promise;
    await revokeApiKey(storage.db, issued.key.publicKey, CLI_ACTOR);
    // What the revoking instance does before it answers (LocalCaches.keyChanged).
    cache.invalidate(issued.key.id);
    const after = cache.verifySecret(issued.privateKey);
    probe.release.resolve();
    expect((await before).valid).toBe(true);
    expect(await after).toEqual({ valid: false, code: 'revoked', keyId: issued.key.id });
  });

  it('a key in use is read again in the background before its entry expires, without making a request wait', async () => {
    const issued = await newKey('before');
    // Trusted for at most 60 s; due for a refresh after 30-45 s.
    const { cache, probe } = probedCache({ ttlMs: 60_000 });
    expect((await cache.verifySecret(issued.privateKey)).valid).toBe(true);
    expect(probe.reads).toBe(1);
    await storage.db
      .updateTable('api_keys')
      .set({ label: 'after' })
      .where('id', '=', issued.key.id)
      .execute();
    const later = Date.now() + 46_000;
    // Due: answered from the entry at once (the label read before), while one read starts.
    probe.hold = true;
    const due = await cache.verifySecret(issued.privateKey, undefined, later);
    expect(due.valid && due.key.label).toBe('before');
    await probe.held.promise;
    // A request meanwhile neither waits nor starts a second read.
    expect((await cache.verifySecret(issued.privateKey, undefined, later)).valid).toBe(true);
    expect(probe.reads).toBe(2);
    probe.release.resolve();
    await vi.waitFor(async () => {
      const refreshed = await cache.verifySecret(issued.privateKey);
      expect(refreshed.valid && refreshed.key.label).toBe('after');
    });
    expect(probe.reads).toBe(2);
  });

  it('keys that come due together are refreshed in one statement per batch, answering from their entries meanwhile', async () => {
    const issued = await Promise.all(Array.from({ length: 12 }, (_, i) => newKey(`due ${i}`)));
    const { cache, probe } = probedCache({ ttlMs: 60_000, refreshBatch: 5 });
    for (const { privateKey } of issued) expect((await cache.verifySecret(privateKey)).valid).toBe(true);
    const reads = probe.reads;
    await storage.db
      .updateTable('api_keys')
      .set({ label: 'renamed' })
      .where(
        'id',
        'in',
        issued.map(({ key }) => key.id),
      )
      .execute();
    probe.hold = true;
    const later = Date.now() + 46_000;
    const due = await Promise.all(
      issued.map(({ privateKey }) => cache.verifySecret(privateKey, undefined, later)),
    );
    expect(due.every((result) => result.valid && result.key.label.startsWith('due'))).toBe(true);
    await probe.held.promise;
    expect(probe.reads - reads).toBe(1);
    probe.release.resolve();
    await vi.waitFor(async () => {
      const now = await Promise.all(issued.map(({ privateKey }) => cache.verifySecret(privateKey)));
      expect(now.every((result) => result.valid && result.key.label === 'renamed')).toBe(true);
    });
    // 12 keys, 5 per statement.
    expect(probe.reads - reads).toBe(3);
  });

  it('a batched refresh read across a revocation does not put the key back as it was before', async () => {
    const issued = await Promise.all(Array.from({ length: 3 }, (_, i) => newKey(`race ${i}`)));
    const { cache, probe } = probedCache({ ttlMs: 60_000 });
    for (const { privateKey } of issued) expect((await cache.verifySecret(privateKey)).valid).toBe(true);
    const later = Date.now() + 46_000;
    probe.hold = true;
    for (const { privateKey } of issued) await cache.verifySecret(privateKey, undefined, later);
    await probe.held.promise;
    const [revoked] = issued;
    if (!revoked) throw new Error('no key');
    await revokeApiKey(storage.db, revoked.key.publicKey, CLI_ACTOR);
    cache.invalidate(revoked.key.id);
    probe.release.resolve();
    await vi.waitFor(() => expect(cache.refreshPending).toBe(false));
    expect(await cache.verifySecret(revoked.privateKey, undefined, later)).toEqual({
      valid: false,
      code: 'revoked',
      keyId: revoked.key.id,
    });
  });

  it('a client due for refresh is read again with its private keys, in one statement for many clients', async () => {
    const issued = await Promise.all(Array.from({ length: 4 }, (_, i) => newKey(`client ${i}`)));
    const { cache, probe } = probedCache({ ttlMs: 60_000 });
    for (const { key, privateKey } of issued)
      expect((await cache.verifyClient(key.publicKey, privateKey)).valid).toBe(true);
    const reads = probe.reads;
    const later = Date.now() + 46_000;
    vi.useFakeTimers({ toFake: ['Date'], now: later });
    try {
      for (const { key, privateKey } of issued)
        expect((await cache.verifyClient(key.publicKey, privateKey)).valid).toBe(true);
      await vi.waitFor(() => expect(probe.reads - reads).toBe(1));
    } finally {
      vi.useRealTimers();
    }
    for (const { key, privateKey } of issued)
      expect((await cache.verifyClient(key.publicKey, privateKey)).valid).toBe(true);
    expect(probe.reads - reads).toBe(1);
  });

  it('the caches are bounded by bytes: past the bound the least recently used keys go, and the newest still answer from memory', async () => {
    const issued = await Promise.all(Array.from({ length: 40 }, (_, i) => newKey(`bound ${i}`)));
    const { cache, probe } = probedCache({ maxBytes: 10 * 1024 });
    for (const { privateKey } of issued) expect((await cache.verifySecret(privateKey)).valid).toBe(true);
    expect(cache.sizes.secret).toBeGreaterThan(0);
    expect(cache.sizes.secret).toBeLessThan(40);
    const reads = probe.reads;
    const last = issued.at(-1);
    expect(last && (await cache.verifySecret(last.privateKey)).valid).toBe(true);
    expect(probe.reads).toBe(reads);
  });
});
