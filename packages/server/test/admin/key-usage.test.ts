import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createApiKey, type IssuedApiKey } from '../../src/domain/api-keys.ts';
import { CLI_ACTOR } from '../../src/domain/audit.ts';
import { generatePrivateKey } from '../../src/domain/key-format.ts';
import {
  DAY_MS,
  HOUR_MS,
  readKeyUsage,
  recordUsage,
  startUsageFlushJob,
  UsageTally,
  usageRange,
} from '../../src/domain/key-usage.ts';
import { pruneExpiredRecords } from '../../src/domain/retention.ts';
import type { UsageCount } from '../../src/model/types.ts';
import { migrate, type Storage } from '../../src/storage/database.ts';
import type { Db } from '../../src/storage/transaction.ts';
import { countStatuses, releaseMany } from '../helpers/concurrent.ts';
import { basicAuth, postForm, wait } from '../helpers/http.ts';
import { type Seed, seed } from '../helpers/seed.ts';
import { useSeededApp } from '../helpers/seeded-app.ts';
import { describeEachDialect, openTestStorage } from '../helpers/test-app.ts';

interface Counts {
  accepted: number;
  revoked: number;
  expired: number;
  rotatedOut: number;
  rateLimited: number;
}
interface UsageView {
  publicKey: string;
  interval: 'hour' | 'day';
  from: string;
  to: string;
  buckets: (Counts & { start: string })[];
  totals: Counts & { refused: number };
}

const ZERO: Counts = { accepted: 0, revoked: 0, expired: 0, rotatedOut: 0, rateLimited: 0 };
const ISO = /^\d{4}-\d\d-\d\dT\d\d:00:00\.000Z$/;
const hourOf = (t: number) => t - (t % HOUR_MS);
const dayOf = (t: number) => t - (t % DAY_MS);
const iso = (t: number) => new Date(t).toISOString();

function expectProblem(res: LightMyRequestResponse, status: number, code: string) {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.json()).toMatchObject({ status, code });
}

/** The fields a 400 problem names. */
function refusedFields(res: LightMyRequestResponse): string[] {
  expectProblem(res, 400, 'validation_failed');
  return (res.json().errors as { field: string }[]).map((error) => error.field);
}

/** Sums of a key's stored rows: what reached the database, whatever the hour. */
async function storedTotals(db: Db, apiKeyId: number): Promise<Record<string, number>> {
  const rows = await db
    .selectFrom('key_usage')
    .select(['outcome', 'count'])
    .where('api_key_id', '=', apiKeyId)
    .execute();
  const totals: Record<string, number> = {};
  for (const row of rows) totals[row.outcome] = (totals[row.outcome] ?? 0) + Number(row.count);
  return totals;
}

/**
 * The web console's usage bullet: every request made with a known key counts, once, as accepted or
 * refused by reason, in memory first and in batches to the database; `GET /v1/api-keys/{publicKey}/usage`
 * reads it back per hour or day. The background flush is slowed to an hour here, so that what reaches
 * the database got there through the flush a test asks for.
 */
describeEachDialect('key usage through the HTTP surface', (dialect) => {
  const ctx = useSeededApp(dialect, {}, { keyCache: { pollMs: 60_000 }, usageFlushMs: HOUR_MS });

  const adminA = () => ctx.seed.adminKeyA.privateKey;
  const db = () => ctx.app.services.db;
  const fresh = (input: { expiresInMs?: number; redirectUris?: string[] } = {}) =>
    createApiKey(db(), { tenantId: ctx.seed.a.tenantId, ...input }, CLI_ACTOR);
  const me = (headers: Record<string, string>) => ctx.app.inject({ method: 'GET', url: '/me', headers });
  const withKey = (privateKey: string) => me({ 'x-api-key': privateKey });
  const clientToken = (publicKey: string, privateKey: string) =>
    postForm(ctx.app, '/connect/token', 'grant_type=client_credentials&scope=api1', {
      authorization: basicAuth(publicKey, privateKey),
    });
  const admin = (method: 'GET' | 'DELETE' | 'POST', url: string, payload?: object, key = adminA()) =>
    ctx.app.inject({
      method,
      url,
      headers: { 'x-api-key': key },
      ...(payload ? { payload } : {}),
    });
  const usageRes = (publicKey: string, query = '', key = adminA()) =>
    admin('GET', `/v1/api-keys/${publicKey}/usage${query}`, undefined, key);
  async function usageOf(publicKey: string, query = ''): Promise<UsageView> {
    const res = await usageRes(publicKey, query);
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as UsageView;
  }

  describe('counting', () => {
    it('counts accepted X-API-Key requests and answers them at once: the endpoint flushes its own instance first', async () => {
      const key = await fresh();
      const before = Date.now();
      for (let i = 0; i < 3; i++) expect((await withKey(key.privateKey)).statusCode).toBe(200);
      const after = Date.now();
      const usage = await usageOf(key.key.publicKey);
      expect(usage.totals).toEqual({ ...ZERO, accepted: 3, refused: 0 });
      const busy = usage.buckets.filter((b) => b.accepted > 0);
      expect(
        busy.map((b) => b.start).every((s) => [iso(hourOf(before)), iso(hourOf(after))].includes(s)),
      ).toBe(true);
    });

    it('counts 50 requests released at once as exactly 50, in memory until a flush, never one write per request', async () => {
      const key = await fresh();
      const responses = await releaseMany(50, () => withKey(key.privateKey));
      expect(countStatuses(responses)).toEqual({ 200: 50 });
      // Nothing written yet: the counts wait in memory for the batch.
      expect(await storedTotals(db(), key.key.id)).toEqual({});
      expect(ctx.app.services.usage.pendingCount).toBeGreaterThan(0);
      await ctx.app.services.usage.flush();
      expect(await storedTotals(db(), key.key.id)).toEqual({ accepted: 50 });
      const rows = await db()
        .selectFrom('key_usage')
        .selectAll()
        .where('api_key_id', '=', key.key.id)
        .execute();
      // One row per hour and outcome (two only if the requests straddled an hour).
      expect(rows.length).toBeLessThanOrEqual(2);
    });

    it('counts a bearer token for the key it was issued through, and the token request too', async () => {
      const key = await fresh();
      const token = await clientToken(key.key.publicKey, key.privateKey);
      expect(token.statusCode, token.body).toBe(200);
      const bearer = { authorization: `Bearer ${token.json().access_token}` };
      expect((await me(bearer)).statusCode).toBe(200);
      expect((await me(bearer)).statusCode).toBe(200);
      expect((await usageOf(key.key.publicKey)).totals).toEqual({ ...ZERO, accepted: 3, refused: 0 });
    });

    it('counts refusals of a known key by reason: revoked (key, token and client), expired, rotated out', async () => {
      const revoked = await fresh();
      const token = (await clientToken(revoked.key.publicKey, revoked.privateKey)).json().access_token;
      expect((await admin('DELETE', `/v1/api-keys/${revoked.key.publicKey}`)).statusCode).toBe(204);
      expect((await withKey(revoked.privateKey)).statusCode).toBe(401);
      expect((await me({ authorization: `Bearer ${token}` })).statusCode).toBe(401);
      expect((await clientToken(revoked.key.publicKey, revoked.privateKey)).statusCode).toBe(401);
      expect((await usageOf(revoked.key.publicKey)).totals).toEqual({
        ...ZERO,
        accepted: 1,
        revoked: 3,
        refused: 3,
      });

      const expiring = await fresh({ expiresInMs: 150 });
      await wait(200);
      expect((await withKey(expiring.privateKey)).statusCode).toBe(401);
      expect((await clientToken(expiring.key.publicKey, expiring.privateKey)).statusCode).toBe(401);
      expect((await usageOf(expiring.key.publicKey)).totals).toEqual({ ...ZERO, expired: 2, refused: 2 });

      const rotated = await fresh();
      const rotation = await admin('POST', `/v1/api-keys/${rotated.key.publicKey}/rotate`, {
        graceSeconds: 0,
      });
      expect(rotation.statusCode, rotation.body).toBe(200);
      expect((await withKey(rotated.privateKey)).statusCode).toBe(401);
      expect((await withKey(rotation.json().privateKey)).statusCode).toBe(200);
      expect((await usageOf(rotated.key.publicKey)).totals).toEqual({
        ...ZERO,
        accepted: 1,
        rotatedOut: 1,
        refused: 1,
      });
    });

    it('counts nothing for a malformed or unknown key, nor for a known client_id with a wrong secret', async () => {
      const key = await fresh();
      const pending = ctx.app.services.usage.pendingCount;
      expect((await withKey('gsk_not-a-key')).statusCode).toBe(401);
      expect((await withKey(generatePrivateKey())).statusCode).toBe(401);
      expect((await me({ authorization: 'Bearer not.a.token' })).statusCode).toBe(401);
      // A guessed public key must not fill its owner's chart: only a matching secret names the key.
      expect((await clientToken(key.key.publicKey, generatePrivateKey())).statusCode).toBe(401);
      expect(ctx.app.services.usage.pendingCount).toBe(pending);
      expect((await usageOf(key.key.publicKey)).totals).toEqual({ ...ZERO, refused: 0 });
    });
  });

  describe('GET /v1/api-keys/{publicKey}/usage', () => {
    it('answers by default the 168 hours up to the current one, zeros included, with ISO times', async () => {
      const key = await fresh();
      const before = Date.now();
      const usage = await usageOf(key.key.publicKey);
      const after = Date.now();
      expect(Object.keys(usage).sort()).toEqual(['buckets', 'from', 'interval', 'publicKey', 'to', 'totals']);
      expect(usage.publicKey).toBe(key.key.publicKey);
      expect(usage.interval).toBe('hour');
      expect([iso(hourOf(before) + HOUR_MS), iso(hourOf(after) + HOUR_MS)]).toContain(usage.to);
      expect(Date.parse(usage.to) - Date.parse(usage.from)).toBe(7 * DAY_MS);
      expect(usage.buckets).toHaveLength(168);
      usage.buckets.forEach((bucket, i) => {
        expect(bucket).toEqual({ start: iso(Date.parse(usage.from) + i * HOUR_MS), ...ZERO });
        expect(bucket.start).toMatch(ISO);
      });
      expect(usage.totals).toEqual({ ...ZERO, refused: 0 });
    });

    it('puts stored counts in the bucket of their hour or UTC day, rounding from and to out to whole buckets', async () => {
      const key = await fresh();
      const base = dayOf(Date.now()) - 3 * DAY_MS + 10 * HOUR_MS;
      const at = (hour: number, outcome: UsageCount['outcome'], count: number): UsageCount => ({
        apiKeyId: key.key.id,
        hour,
        outcome,
        count,
      });
      await recordUsage(db(), [
        at(base, 'accepted', 5),
        at(base + HOUR_MS, 'revoked', 2),
        at(base + DAY_MS, 'rate_limited', 4),
      ]);

      const from = base - 2 * HOUR_MS + 30 * 60_000;
      const hourly = await usageOf(key.key.publicKey, `?from=${iso(from)}&to=${iso(base + 30 * HOUR_MS)}`);
      expect(hourly.from).toBe(iso(base - 2 * HOUR_MS));
      expect(hourly.to).toBe(iso(base + 30 * HOUR_MS));
      expect(hourly.buckets).toHaveLength(32);
      expect(hourly.buckets[2]).toEqual({ start: iso(base), ...ZERO, accepted: 5 });
      expect(hourly.buckets[3]).toEqual({ start: iso(base + HOUR_MS), ...ZERO, revoked: 2 });
      expect(hourly.buckets[26]).toEqual({ start: iso(base + DAY_MS), ...ZERO, rateLimited: 4 });
      expect(hourly.buckets.filter((b) => b.accepted + b.revoked + b.rateLimited === 0)).toHaveLength(29);
      expect(hourly.totals).toEqual({ ...ZERO, accepted: 5, revoked: 2, rateLimited: 4, refused: 6 });

      const daily = await usageOf(
        key.key.publicKey,
        `?interval=day&from=${iso(dayOf(base) - DAY_MS + 1)}&to=${iso(dayOf(base) + 3 * DAY_MS - 1)}`,
      );
      expect(daily.from).toBe(iso(dayOf(base) - DAY_MS));
      expect(daily.to).toBe(iso(dayOf(base) + 3 * DAY_MS));
      expect(daily.buckets).toEqual([
        { start: iso(dayOf(base) - DAY_MS), ...ZERO },
        { start: iso(dayOf(base)), ...ZERO, accepted: 5, revoked: 2 },
        { start: iso(dayOf(base) + DAY_MS), ...ZERO, rateLimited: 4 },
        { start: iso(dayOf(base) + 2 * DAY_MS), ...ZERO },
      ]);
      expect((await usageOf(key.key.publicKey, '?interval=day')).buckets).toHaveLength(7);
    });

    it('reads the whole 90 days usage is kept, hour by hour, when asked from exactly 90 days ago', async () => {
      const usage = await usageOf(ctx.seed.orgKeyA.key.publicKey, `?from=${iso(Date.now() - 90 * DAY_MS)}`);
      expect(usage.buckets.length).toBeGreaterThanOrEqual(90 * 24);
    });

    it.each([
      ['from after to', () => `?from=${iso(Date.now())}&to=${iso(Date.now() - HOUR_MS)}`, 'from'],
      ['from equal to to', () => `?from=${iso(dayOf(Date.now()))}&to=${iso(dayOf(Date.now()))}`, 'from'],
      ['from in the future, to left to now', () => `?from=${iso(Date.now() + DAY_MS)}`, 'from'],
      ['from older than the 90 days kept', () => `?from=${iso(Date.now() - 92 * DAY_MS)}`, 'from'],
      [
        'more than 2,200 buckets',
        () => `?from=${iso(Date.now() - 80 * DAY_MS)}&to=${iso(Date.now() + 30 * DAY_MS)}`,
        'to',
      ],
      ['an interval other than hour or day', () => '?interval=week', 'interval'],
      ['a from that is no date-time', () => '?from=yesterday', 'from'],
      ['an unknown parameter', () => '?size=10', 'size'],
    ])('refuses %s with a 400 problem naming the field', async (_what, query, field) => {
      expect(refusedFields(await usageRes(ctx.seed.orgKeyA.key.publicKey, query()))).toEqual([field]);
    });

    it("answers 404 for another organization's key, exactly as for a key that does not exist", async () => {
      const foreign = await usageRes(ctx.seed.orgKeyA.key.publicKey, '', ctx.seed.adminKeyB.privateKey);
      expectProblem(foreign, 404, 'not_found');
      const missing = await usageRes('gpk_000000000000000000000000');
      expectProblem(missing, 404, 'not_found');
      expect(Object.keys(foreign.json()).sort()).toEqual(Object.keys(missing.json()).sort());
    });

    it('answers 404 to credentials that are not admin credentials of the organization', async () => {
      for (const key of [ctx.seed.orgKeyA, ctx.seed.workspaceKeyA])
        expectProblem(await usageRes(ctx.seed.orgKeyA.key.publicKey, '', key.privateKey), 404, 'not_found');
    });
  });
});

/** A small per-credential budget (3 a minute): refusals by the rate limit count as such, not as accepted. */
describeEachDialect('key usage of rate-limited requests', (dialect) => {
  const ctx = useSeededApp(dialect, { GATEHOUSE_RATE_LIMIT: '3' }, { usageFlushMs: HOUR_MS });

  const fresh = () => createApiKey(ctx.app.services.db, { tenantId: ctx.seed.a.tenantId }, CLI_ACTOR);
  async function totalsOf(key: IssuedApiKey) {
    await ctx.app.services.usage.flush();
    const range = usageRange({});
    return (await readKeyUsage(ctx.app.services.db, key.key.publicKey, key.key.tenantId, range)).totals;
  }

  it('counts requests past the REST budget as rate limited, once each, not also as accepted', async () => {
    const key = await fresh();
    const statuses: LightMyRequestResponse[] = [];
    for (let i = 0; i < 5; i++)
      statuses.push(
        await ctx.app.inject({ method: 'GET', url: '/me', headers: { 'x-api-key': key.privateKey } }),
      );
    expect(countStatuses(statuses)).toEqual({ 200: 3, 429: 2 });
    expect(await totalsOf(key)).toEqual({ ...ZERO, accepted: 3, rateLimited: 2, refused: 2 });
  });

  it("counts token requests past the client's budget as rate limited", async () => {
    const key = await fresh();
    const statuses: LightMyRequestResponse[] = [];
    for (let i = 0; i < 5; i++)
      statuses.push(
        await postForm(ctx.app, '/connect/token', 'grant_type=client_credentials&scope=api1', {
          authorization: basicAuth(key.key.publicKey, key.privateKey),
        }),
      );
    expect(countStatuses(statuses)).toEqual({ 200: 3, 429: 2 });
    expect(await totalsOf(key)).toEqual({ ...ZERO, accepted: 3, rateLimited: 2, refused: 2 });
  });
});

describe('the usage tally (in memory)', () => {
  const NOW = Date.UTC(2030, 0, 1, 10, 15);

  it('adds requests of one key, hour and outcome into one count', async () => {
    const written: UsageCount[][] = [];
    const tally = new UsageTally(async (counts) => void written.push([...counts]));
    for (let i = 0; i < 7; i++) tally.count(1, 'accepted', NOW + i * 1000);
    tally.count(1, 'revoked', NOW);
    tally.count(2, 'accepted', NOW);
    tally.count(1, 'accepted', NOW + HOUR_MS);
    expect(tally.pendingCount).toBe(4);
    await tally.flush();
    expect(written).toHaveLength(1);
    expect(written[0]).toHaveLength(4);
    const hour = hourOf(NOW);
    expect(written[0]).toEqual(
      expect.arrayContaining([
        { apiKeyId: 1, hour, outcome: 'accepted', count: 7 },
        { apiKeyId: 1, hour, outcome: 'revoked', count: 1 },
        { apiKeyId: 2, hour, outcome: 'accepted', count: 1 },
        { apiKeyId: 1, hour: hour + HOUR_MS, outcome: 'accepted', count: 1 },
      ]),
    );
    await tally.flush();
    expect(written).toHaveLength(1);
  });

  it('keeps the counts of a failed flush, and those counted during it, for the next flush', async () => {
    let release: (fail: boolean) => void = () => {};
    const written: UsageCount[][] = [];
    const tally = new UsageTally(
      (counts) =>
        new Promise<void>((resolve, reject) => {
          release = (fail) => {
            if (fail) reject(new Error('database unavailable'));
            else {
              written.push([...counts]);
              resolve();
            }
          };
        }),
    );
    tally.count(1, 'accepted', NOW);
    tally.count(1, 'accepted', NOW);
    const failing = tally.flush();
    // Counted while the write is in flight: must survive whatever the write does.
    tally.count(1, 'accepted', NOW);
    tally.count(1, 'rate_limited', NOW);
    release(true);
    await expect(failing).rejects.toThrow('database unavailable');
    expect(tally.pendingCount).toBe(2);
    const next = tally.flush();
    release(false);
    await next;
    expect(written).toEqual([
      expect.arrayContaining([
        { apiKeyId: 1, hour: hourOf(NOW), outcome: 'accepted', count: 3 },
        { apiKeyId: 1, hour: hourOf(NOW), outcome: 'rate_limited', count: 1 },
      ]),
    ]);
    expect(tally.pendingCount).toBe(0);
  });

  it('drops counts past its bound rather than growing without limit while writes fail', async () => {
    const tally = new UsageTally(async () => {}, 2);
    tally.count(1, 'accepted', NOW);
    tally.count(2, 'accepted', NOW);
    tally.count(3, 'accepted', NOW);
    tally.count(1, 'accepted', NOW);
    expect(tally.pendingCount).toBe(2);
    expect(tally.dropped).toBe(1);
  });

  it('flushes on its interval and once more when stopped', async () => {
    const written: UsageCount[] = [];
    const tally = new UsageTally(async (counts) => void written.push(...counts));
    const stop = startUsageFlushJob(tally, { intervalMs: 20, onError: () => {} });
    try {
      tally.count(1, 'accepted', NOW);
      await vi.waitFor(() => expect(written).toHaveLength(1), { timeout: 2000 });
      tally.count(2, 'expired', NOW);
    } finally {
      await stop();
    }
    expect(written.map((c) => c.apiKeyId)).toEqual([1, 2]);
  });
});

describeEachDialect('key usage storage', (dialect) => {
  let storage: Storage;
  let drop: () => Promise<void>;
  let s: Seed;
  beforeAll(async () => {
    ({ storage, drop } = await openTestStorage(dialect));
    await migrate(storage);
    s = await seed(storage.db);
  });
  afterAll(async () => {
    await storage.close();
    await drop();
  });

  /** The database with a count of the statements sent through it. */
  function counting() {
    const counter = { statements: 0 };
    const db = storage.db.withPlugin({
      transformQuery: (args) => {
        counter.statements++;
        return args.node;
      },
      transformResult: async (args) => args.result,
    });
    return { db, counter };
  }
  const NOW = Date.now();
  const stored = (apiKeyId: number) => storedTotals(storage.db, apiKeyId);

  it('writes a flush in one statement, however many requests and keys it counts, adding to stored counts', async () => {
    const { db, counter } = counting();
    const tally = new UsageTally((counts) => recordUsage(db, counts));
    const [a, b] = [s.orgKeyA.key.id, s.orgKeyB.key.id];
    for (let i = 0; i < 200; i++) tally.count(i % 2 ? a : b, i % 10 ? 'accepted' : 'revoked', NOW);
    await tally.flush();
    expect(counter.statements).toBe(1);
    expect(await stored(a)).toEqual({ accepted: 100 });
    expect(await stored(b)).toEqual({ accepted: 80, revoked: 20 });

    tally.count(a, 'accepted', NOW);
    await tally.flush();
    expect(counter.statements).toBe(2);
    expect(await stored(a)).toEqual({ accepted: 101 });
  });

  it('writes a batch larger than one statement takes in one transaction of bounded statements', async () => {
    const { db, counter } = counting();
    const id = s.workspaceKeyA.key.id;
    const outcomes = ['accepted', 'revoked', 'expired', 'rotated_out', 'rate_limited'] as const;
    const counts: UsageCount[] = [];
    for (let h = 0; h < 500; h++)
      for (const outcome of outcomes)
        counts.push({ apiKeyId: id, hour: hourOf(NOW) - h * HOUR_MS, outcome, count: 2 });
    await recordUsage(db, counts);
    expect(counter.statements).toBe(3);
    expect(await stored(id)).toEqual({
      accepted: 1000,
      revoked: 1000,
      expired: 1000,
      rotated_out: 1000,
      rate_limited: 1000,
    });
  });

  it('prunes usage older than 90 days with the other expired records, and keeps newer usage', async () => {
    const id = s.adminKeyB.key.id;
    const day90 = hourOf(NOW - 90 * DAY_MS);
    await recordUsage(storage.db, [
      { apiKeyId: id, hour: day90 - HOUR_MS, outcome: 'accepted', count: 1 },
      { apiKeyId: id, hour: day90 - 30 * DAY_MS, outcome: 'revoked', count: 1 },
      { apiKeyId: id, hour: day90 + HOUR_MS, outcome: 'expired', count: 1 },
      { apiKeyId: id, hour: hourOf(NOW), outcome: 'accepted', count: 1 },
    ]);
    const pruned = await pruneExpiredRecords(
      storage.db,
      { auditRetentionDays: 365, refreshTokenTtl: 86_400 },
      NOW,
    );
    expect(pruned.keyUsage).toBe(2);
    const left = await storage.db
      .selectFrom('key_usage')
      .select('hour')
      .where('api_key_id', '=', id)
      .orderBy('hour')
      .execute();
    expect(left.map((row) => Number(row.hour))).toEqual([day90 + HOUR_MS, hourOf(NOW)]);
  });
});
