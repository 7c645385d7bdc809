import { beforeAll, expect, it } from 'vitest';
import { generatePrivateKey } from '../../src/domain/key-format.ts';
import { countStatuses, releaseMany } from '../helpers/concurrent.ts';
import { useSeededApp } from '../helpers/seeded-app.ts';
import { describeEachDialect } from '../helpers/test-app.ts';

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A token that parses and names a kid nobody has: verifying it would need a signing-key lookup. */
function tokenWithUnknownKid(i: number): string {
  const header = b64({ alg: 'ES256', typ: 'at+jwt', kid: `made-up-kid-${i}-${'x'.repeat(30)}` });
  return `${header}.${b64({ sub: 'x' })}.${'A'.repeat(86)}`;
}

const credentials = {
  'a well-formed unknown X-API-Key': (_i: number) => ({ 'x-api-key': generatePrivateKey() }),
  'a bad Bearer token': (i: number) => ({ authorization: `Bearer not-a-token-${i}` }),
  'no credential': (_i: number) => ({}),
} as const;

describeEachDialect(
  'failed authentication spends the address budget (GATEHOUSE_RATE_LIMIT=30)',
  (dialect) => {
    const ctx = useSeededApp(dialect, { GATEHOUSE_RATE_LIMIT: '30' });

    let address = 0;
    for (const [name, headers] of Object.entries(credentials)) {
      it(`answers 429 to 40 concurrent requests with ${name} once 30 are spent`, async () => {
        const ip = `10.40.0.${++address}`;
        const responses = await releaseMany(40, (i) =>
          ctx.app.inject({ url: '/v1/workspaces', remoteAddress: ip, headers: headers(i) }),
        );
        // Exactly the budget is answered 401: no more (the limit holds), no fewer (no request is
        // refused for the ones after it, as a counter shared by reference between them once did).
        expect(countStatuses(responses)).toEqual({ 401: 30, 429: 10 });
        const limited = responses.find((r) => r.statusCode === 429);
        expect(limited?.headers['retry-after']).toBeDefined();
        expect(limited?.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(limited?.json()).toMatchObject({ code: 'rate_limited', status: 429 });
      });
    }
  },
);

describeEachDialect(
  'failed authentication has a tighter budget of its own, and bounds database reads',
  (dialect) => {
    const ctx = useSeededApp(dialect);
    let limit: number;
    beforeAll(async () => {
      limit = ctx.app.services.config.authFailureLimitPerMinute;
    });

    it('is tighter than the request budget', () => {
      expect(limit).toBeLessThan(ctx.app.services.config.rateLimitPerMinute);
    });

    it('reads the database at most once per allowed failure for 300 concurrent unknown keys', async () => {
      const misses = () => ctx.app.services.keys.stats.lookups.secret.miss;
      const before = misses();
      const responses = await releaseMany(300, () =>
        ctx.app.inject({
          url: '/me',
          remoteAddress: '10.41.0.1',
          headers: { 'x-api-key': generatePrivateKey() },
        }),
      );
      const counts = countStatuses(responses);
      expect(counts[401]).toBeLessThanOrEqual(limit);
      expect(counts[429]).toBeGreaterThanOrEqual(300 - limit);
      expect(misses() - before).toBeLessThanOrEqual(limit);
    });

    it('looks up at most a few signing keys for 300 concurrent tokens with made-up kids', async () => {
      const ring = ctx.app.services.keyRing;
      const before = ring.stats.lookups;
      const responses = await releaseMany(300, (i) =>
        ctx.app.inject({
          url: '/me',
          remoteAddress: `10.42.${Math.floor(i / 200)}.${i % 200}`,
          headers: { authorization: `Bearer ${tokenWithUnknownKid(i)}` },
        }),
      );
      expect(responses.every((r) => r.statusCode === 401)).toBe(true);
      expect(ring.stats.lookups - before).toBeLessThanOrEqual(2);
    });

    it('keeps serving a key it has verified to an address that spent its failure budget', async () => {
      const ip = '10.43.0.1';
      const me = (key: string) =>
        ctx.app.inject({ url: '/me', remoteAddress: ip, headers: { 'x-api-key': key } });
      expect((await me(ctx.seed.orgKeyA.privateKey)).statusCode).toBe(200);
      await releaseMany(limit + 20, () => me(generatePrivateKey()));
      expect((await me(generatePrivateKey())).statusCode).toBe(429);
      expect((await me(ctx.seed.orgKeyA.privateKey)).statusCode).toBe(200);
    });
  },
);
