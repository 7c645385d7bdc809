import { randomInt } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { createApiKey } from '../packages/server/src/domain/api-keys.ts';
import { CLI_ACTOR } from '../packages/server/src/domain/audit.ts';
import { hashSecret } from '../packages/server/src/domain/secrets.ts';
import { createTenant } from '../packages/server/src/domain/tenants.ts';
import { migrate, openStorage } from '../packages/server/src/storage/database.ts';
import { findKeyBySecretHash } from '../packages/server/src/storage/repositories/api-keys.ts';
import type { Database } from '../packages/server/src/storage/schema.ts';
import { createBenchDatabase } from './database.ts';
import { median, percentile } from './stats.ts';

export interface Row7Result {
  keys: number;
  lookups: number;
  loadSeconds: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** PostgreSQL's own execution time of the same query (EXPLAIN ANALYZE), without client or network. */
  serverP50Ms: number;
  serverP99Ms: number;
  /** The same SQL sent with pg directly (no Kysely, no mapping), same probes: the round-trip floor. */
  rawP50Ms: number;
  rawP99Ms: number;
  plan: string;
}

/** The secret of synthetic row i: not a real key format, but hashed exactly as real keys are. */
const syntheticSecret = (i: number) => `bench-synthetic-${i}`;

/**
 * Row 7: API-key verification at a cache miss with `keys` keys in PostgreSQL. Bulk-loads the keys
 * with generate_series (hashes computed by PostgreSQL in our format, base64url of sha256), ANALYZEs,
 * then times sequential lookups through the repository function the server uses on a cache miss.
 */
export async function runRow7(adminUrl: string, keys: number, lookups: number): Promise<Row7Result> {
  const database = await createBenchDatabase('postgres', adminUrl);
  const storage = openStorage(database.url, { poolSize: 2 });
  try {
    await migrate(storage);
    const db = storage.db;
    const tenant = await createTenant(
      db,
      { label: 'Row 7', ownerEmail: 'owner@row7.bench', ownerPassword: 'bench-owner-password-not-secret' },
      CLI_ACTOR,
    );
    const real: string[] = [];
    for (let i = 0; i < 10; i++) {
      real.push(
        (await createApiKey(db, { tenantId: tenant.tenantId, label: `real ${i}` }, CLI_ACTOR)).privateKey,
      );
    }
    const synthetic = keys - real.length;
    // The bulk load takes longer than the server's statement timeout (storage/database.ts): its own pool.
    const loader = new Kysely<Database>({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: database.url, max: 1 }) }),
    });
    const started = performance.now();
    const now = Date.now();
    await sql`
      INSERT INTO api_keys (tenant_id, label, public_key, created_at)
      SELECT ${tenant.tenantId}, 'synthetic ' || i, 'gpk_syn' || lpad(i::text, 17, '0'), ${now}
      FROM generate_series(1, ${synthetic}::int) AS i`.execute(loader);
    // base64url without padding, as hashSecret() produces.
    await sql`
      INSERT INTO api_key_secrets (api_key_id, secret_hash, last4, created_at)
      SELECT k.id,
             rtrim(translate(encode(sha256(convert_to('bench-synthetic-' || substr(k.public_key, 8)::int, 'UTF8')), 'base64'), '+/', '-_'), '='),
             'xxxx', ${now}
      FROM api_keys k WHERE k.public_key LIKE 'gpk_syn%'`.execute(loader);
    // The steady state of a long-lived table: vacuumed (hint bits set, so reads do not dirty pages),
    // analyzed, and the bulk load's dirty pages written out rather than flushed during the timing.
    await sql`VACUUM (ANALYZE) api_keys, api_key_secrets`.execute(loader);
    await sql`CHECKPOINT`.execute(loader).catch(() => {
      // Needs superuser or pg_checkpoint; without it the timing may include a background flush.
    });
    await loader.destroy();
    const loadSeconds = (performance.now() - started) / 1000;

    // Probes: mostly random synthetic rows across the whole index, plus the real keys.
    const probes = Array.from({ length: lookups }, (_, n) =>
      n % 10 === 0
        ? hashSecret(real[(n / 10) % real.length] as string)
        : hashSecret(syntheticSecret(randomInt(1, synthetic + 1))),
    );
    // Warm-up on other random keys: a running server's lookup code is hot (V8 needs a few thousand calls to
    // optimise Kysely's query building; with 200 the p99 was three times higher), but the pages of the
    // timed keys must not be read in advance.
    for (let i = 0; i < lookups; i++) {
      await findKeyBySecretHash(db, hashSecret(syntheticSecret(randomInt(1, synthetic + 1))));
    }
    const times: number[] = [];
    for (const hash of probes) {
      const t = performance.now();
      const found = await findKeyBySecretHash(db, hash);
      times.push(performance.now() - t);
      if (!found) throw new Error('row 7: a seeded key was not found; the synthetic hash format is wrong');
    }
    // Fresh random rows for PostgreSQL's own timing, so that it is not flattered by pages just read.
    const fresh = Array.from({ length: 200 }, () => hashSecret(syntheticSecret(randomInt(1, synthetic + 1))));
    const { plan, sql: query, executionMs } = await explainLookup(storage.pool, fresh);
    // Other random keys than the timed ones, so that the floor is not flattered by pages they just read.
    const rawProbes = Array.from({ length: lookups }, () =>
      hashSecret(syntheticSecret(randomInt(1, synthetic + 1))),
    );
    const raw: number[] = [];
    for (const hash of rawProbes) {
      const t = performance.now();
      await storage.pool?.query(query, [hash]);
      raw.push(performance.now() - t);
    }
    return {
      keys,
      lookups,
      loadSeconds,
      p50Ms: median(times),
      p99Ms: percentile(times, 99),
      maxMs: Math.max(...times),
      serverP50Ms: median(executionMs),
      serverP99Ms: percentile(executionMs, 99),
      rawP50Ms: median(raw),
      rawP99Ms: percentile(raw, 99),
      plan,
    };
  } finally {
    await storage.close();
    await database.drop();
  }
}

/**
 * EXPLAIN ANALYZE of exactly the SQL the repository sends (captured through Kysely's query log):
 * the plan of the first probe, and PostgreSQL's execution time for each probe.
 */
async function explainLookup(
  pool: pg.Pool | null,
  hashes: string[],
): Promise<{ plan: string; sql: string; executionMs: number[] }> {
  const hash = hashes[0];
  if (!pool || hash === undefined) return { plan: '', sql: '', executionMs: [] };
  let captured: { sql: string; parameters: readonly unknown[] } | undefined;
  const logged = new Kysely<Database>({
    dialect: new PostgresDialect({ pool }),
    log: (event) => {
      if (event.level === 'query') captured = event.query;
    },
  });
  await findKeyBySecretHash(logged, hash);
  if (!captured) return { plan: '', sql: '', executionMs: [] };
  const query = captured.sql;
  const result = await pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${query}`, [hash]);
  const executionMs: number[] = [];
  for (const probe of hashes) {
    const timed = await pool.query<{ 'QUERY PLAN': [{ 'Execution Time': number }] }>(
      `EXPLAIN (ANALYZE, FORMAT JSON) ${query}`,
      [probe],
    );
    const ms = timed.rows[0]?.['QUERY PLAN'][0]['Execution Time'];
    if (ms !== undefined) executionMs.push(ms);
  }
  return {
    plan: [query, '', ...result.rows.map((r) => r['QUERY PLAN'])].join('\n'),
    sql: query,
    executionMs,
  };
}
