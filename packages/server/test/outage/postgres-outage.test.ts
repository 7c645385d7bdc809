import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth } from '../helpers/http.ts';
import {
  type Answer,
  authorizationCode,
  call,
  type Instance,
  type Pair,
  percentile,
  type ScaleOutDatabase,
  startPair,
  stopPair,
  waitForStatus,
} from '../helpers/instances.ts';
import { PASSWORD, type Seed } from '../helpers/seed.ts';
import { POSTGRES_URL } from '../helpers/test-app.ts';
import { cannotControlServices, restoreServices, startPostgres, stopPostgres } from './services.ts';

const SLOW_MS = 240_000;
/** Issue 13: requests that need the database answer 503 within 2 s while it is down. */
const UNAVAILABLE_WITHIN_MS = 2000;
/** How long `/readyz` may take to notice: each probe answers within 500 ms; a few probes for a loaded machine. */
const READYZ_FLIP_MS = 5000;
/** PostgreSQL has just said it is ready: the instances reconnect at their next query. */
const RECOVERY_MS = 15_000;
/** Writes acknowledged before the outage, checked after it. */
const KEYS_BEFORE = 10;
/** Revocations measured after the restart: the listener reconnected if they arrive as fast as before. */
const TRIALS_AFTER = 50;
const P99_BOUND_MS = 100;
const REDIRECT_URI = 'https://app.example/callback';

interface IssuedKey {
  publicKey: string;
  privateKey: string;
  label: string;
}

const why = POSTGRES_URL ? cannotControlServices() : 'no PostgreSQL for the tests';

/** A problem+json 503 (RFC 9457), as the REST API answers while the database is away. */
function expectUnavailableProblem(res: Answer, what: string): void {
  expect(res.status, `${what}: ${res.text}`).toBe(503);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(res.json<{ status: number }>().status).toBe(503);
  expect(res.ms, `${what} answered after ${res.ms.toFixed(0)} ms`).toBeLessThanOrEqual(UNAVAILABLE_WITHIN_MS);
}

/**
 * Issue 13, "Health, readiness, failures": PostgreSQL stopped under two running instances (with
 * `pg_ctlcluster ... stop`, the way an operator would), then started again. Runs on its own, never in
 * the main suite (`npm run test:outage`; .ci/run runs it after the main suite): every other test uses
 * this PostgreSQL. `afterAll` starts it again whatever happened.
 */
describe.skipIf(why !== null)(
  `PostgreSQL outage under two instances${why ? ` [skipped: ${why}]` : ''}`,
  () => {
    let database: ScaleOutDatabase;
    let s: Seed;
    let a: Instance;
    let b: Instance;
    const created: IssuedKey[] = [];
    let revoked: IssuedKey;
    let rotated: { before: IssuedKey; after: string };
    let refreshToken: string;
    let bearer: string;

    let pair: Pair | undefined;

    beforeAll(async () => {
      pair = await startPair();
      ({ database, seed: s, a, b } = pair);
    }, SLOW_MS);

    afterAll(async () => {
      // First of all: every other test needs PostgreSQL (and Redis) back.
      try {
        await restoreServices();
      } finally {
        await stopPair(pair);
      }
    }, SLOW_MS);

    const admin = () => ({ 'x-api-key': s.adminKeyA.privateKey });
    const me = (on: Instance, privateKey: string) =>
      call(on, 'GET', '/me', { headers: { 'x-api-key': privateKey } });
    const other = (on: Instance) => (on === a ? b : a);
    const tokenRequest = (on: Instance, form: Record<string, string>) =>
      call(on, 'POST', '/connect/token', {
        headers: { authorization: basicAuth(s.orgKeyA.key.publicKey, s.orgKeyA.privateKey) },
        form,
      });

    async function createKey(on: Instance, label: string): Promise<IssuedKey> {
      const res = await call(on, 'POST', '/v1/api-keys', { headers: admin(), body: { label } });
      expect(res.status, res.text).toBe(201);
      return { ...res.json<IssuedKey>(), label };
    }

    it(
      'before the outage: keys created on both, one rotated, one revoked, a consent and a grant, each acknowledged',
      async () => {
        for (let i = 0; i < KEYS_BEFORE; i++)
          created.push(await createKey(i % 2 ? b : a, `before outage ${i}`));
        // Each key used once on each instance: from now on both hold it in their caches.
        for (const key of created)
          for (const on of [a, b]) expect((await me(on, key.privateKey)).status).toBe(200);

        revoked = await createKey(a, 'revoked before outage');
        expect(
          (await call(b, 'DELETE', `/v1/api-keys/${revoked.publicKey}`, { headers: admin() })).status,
        ).toBe(204);
        const before = await createKey(b, 'rotated before outage');
        const rotation = await call(a, 'POST', `/v1/api-keys/${before.publicKey}/rotate`, {
          headers: admin(),
          body: { graceSeconds: 0 },
        });
        expect(rotation.status, rotation.text).toBe(200);
        rotated = { before, after: rotation.json().privateKey as string };

        // A person's consent (remembered by A) and the grant it led to (a refresh token, exchanged at B).
        const code = await authorizationCode(
          a,
          { clientId: s.orgKeyA.key.publicKey, redirectUri: REDIRECT_URI },
          { email: 'owner@a.test', password: PASSWORD },
        );
        const exchanged = await tokenRequest(b, {
          grant_type: 'authorization_code',
          code,
          redirect_uri: REDIRECT_URI,
        });
        expect(exchanged.status, exchanged.text).toBe(200);
        refreshToken = exchanged.json().refresh_token as string;

        // A client-credentials token, verified once by each instance: cached there.
        const issued = await call(a, 'POST', '/connect/token', {
          headers: { authorization: basicAuth(s.orgKeyB.key.publicKey, s.orgKeyB.privateKey) },
          form: { grant_type: 'client_credentials', scope: 'api1' },
        });
        expect(issued.status, issued.text).toBe(200);
        bearer = issued.json().access_token as string;
        for (const on of [a, b]) {
          const res = await call(on, 'GET', '/me', { headers: { authorization: `Bearer ${bearer}` } });
          expect(res.status, res.text).toBe(200);
        }
        for (const on of [a, b]) expect((await call(on, 'GET', '/readyz')).status).toBe(200);
      },
      SLOW_MS,
    );

    it(
      'PostgreSQL stopped: /readyz answers a 503 problem naming the database on both instances',
      async () => {
        await stopPostgres();
        for (const on of [a, b]) {
          const { answer } = await waitForStatus(on, '/readyz', 503, READYZ_FLIP_MS);
          expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
          expect(answer.json().detail).toMatch(/database/i);
          expect(answer.json().detail).not.toMatch(/redis/i);
        }
      },
      SLOW_MS,
    );

    it('PostgreSQL stopped: requests that need the database answer 503 within 2 s, never 401 or 500', async () => {
      // Never seen by B: only the database can say whether it is valid, so B cannot answer 401 either.
      const unseen = await call(b, 'GET', '/me', { headers: { 'x-api-key': rotated.after } });
      expectUnavailableProblem(unseen, 'an API key B has not seen');
      for (const on of [a, b]) {
        const write = await call(on, 'POST', '/v1/api-keys', {
          headers: admin(),
          body: { label: 'during outage' },
        });
        expectUnavailableProblem(write, `${on.name}: POST /v1/api-keys`);
        const read = await call(on, 'GET', '/v1/api-keys?page=1&size=5', { headers: admin() });
        expectUnavailableProblem(read, `${on.name}: GET /v1/api-keys`);
      }
      // The OAuth endpoints answer in their own format (RFC 6749 5.2): 503 temporarily_unavailable.
      const refresh = await tokenRequest(a, { grant_type: 'refresh_token', refresh_token: refreshToken });
      expect(refresh.status, refresh.text).toBe(503);
      expect(refresh.json().error).toBe('temporarily_unavailable');
      expect(refresh.ms).toBeLessThanOrEqual(UNAVAILABLE_WITHIN_MS);
    });

    it('PostgreSQL stopped: a cached API key and a cached access token keep working on both instances', async () => {
      for (const on of [a, b]) {
        for (const key of created.slice(0, 3)) {
          const res = await me(on, key.privateKey);
          expect(res.status, `${on.name}: ${res.text}`).toBe(200);
        }
        const res = await call(on, 'GET', '/me', { headers: { authorization: `Bearer ${bearer}` } });
        expect(res.status, `${on.name}: ${res.text}`).toBe(200);
        // A revoked key is never accepted: refused from what the cache knows, or 503 when it must ask.
        expect([401, 503]).toContain((await me(on, revoked.privateKey)).status);
      }
    });

    it(
      'PostgreSQL started again: /readyz answers 200 on both instances, with no restart',
      async () => {
        await startPostgres();
        for (const on of [a, b]) {
          const { afterMs } = await waitForStatus(on, '/readyz', 200, RECOVERY_MS);
          console.log(`${on.name}: /readyz 200 again ${afterMs.toFixed(0)} ms after PostgreSQL was ready`);
          expect(on.alive()).toBe(true);
        }
      },
      SLOW_MS,
    );

    it('after the outage: every write acknowledged before it is still there', async () => {
      const listed = await call(b, 'GET', '/v1/api-keys?page=1&size=500', { headers: admin() });
      expect(listed.status, listed.text).toBe(200);
      const labels = listed.json<{ items: { label: string }[] }>().items.map((item) => item.label);
      expect(labels).toEqual(
        expect.arrayContaining([...created, revoked, rotated.before].map((k) => k.label)),
      );
      expect(labels).not.toContain('during outage');
      for (const key of created) {
        for (const on of [a, b]) expect((await me(on, key.privateKey)).status, key.label).toBe(200);
      }
      for (const on of [a, b]) {
        expect((await me(on, revoked.privateKey)).status).toBe(401);
        expect((await me(on, rotated.before.privateKey)).status).toBe(401);
        expect((await me(on, rotated.after)).status).toBe(200);
      }
      // The consent, as the database holds it.
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      try {
        const consents = await client.query(
          'SELECT count(*) AS n FROM consents c JOIN api_keys k ON k.id = c.api_key_id WHERE k.public_key = $1',
          [s.orgKeyA.key.publicKey],
        );
        expect(Number(consents.rows[0]?.n)).toBe(1);
      } finally {
        await client.end();
      }
      // The grant: the refresh token refused with 503 during the outage was not used up by it.
      const refreshed = await tokenRequest(b, { grant_type: 'refresh_token', refresh_token: refreshToken });
      expect(refreshed.status, refreshed.text).toBe(200);
    });

    it(
      `after the outage: revocations on one instance reach the other as before (p99 ≤ ${P99_BOUND_MS} ms: the listener is back)`,
      async () => {
        const latencies: number[] = [];
        for (let trial = 0; trial < TRIALS_AFTER; trial++) {
          const on = trial % 2 ? b : a;
          const key = await createKey(on, `after outage ${trial}`);
          expect((await me(other(on), key.privateKey)).status).toBe(200);
          const res = await call(on, 'DELETE', `/v1/api-keys/${key.publicKey}`, { headers: admin() });
          expect(res.status, res.text).toBe(204);
          const acknowledged = performance.now();
          while ((await me(other(on), key.privateKey)).status === 200) {
            if (performance.now() - acknowledged > 10_000) throw new Error(`trial ${trial}: never refused`);
            await sleep(2);
          }
          latencies.push(performance.now() - acknowledged);
        }
        const p50 = percentile(latencies, 50);
        const p99 = percentile(latencies, 99);
        console.log(
          `after a PostgreSQL restart, revocation refused by the other instance (${TRIALS_AFTER} trials): ` +
            `p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms`,
        );
        expect(p99).toBeLessThanOrEqual(P99_BOUND_MS);
      },
      SLOW_MS,
    );
  },
);
