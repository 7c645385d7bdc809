import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/domain/secrets.ts';
import { countStatuses, releaseMany, releaseTogether } from '../helpers/concurrent.ts';
import { basicAuth } from '../helpers/http.ts';
import {
  type Answer,
  authorizationCode,
  call,
  createScaleOutDatabase,
  deleteRedisKeys,
  deploymentEnv,
  freePorts,
  type Instance,
  percentile,
  redisPrefix,
  type ScaleOutDatabase,
  seedDatabase,
  startInstance,
  startInstances,
  stopInstances,
} from '../helpers/instances.ts';
import { PASSWORD, type Seed } from '../helpers/seed.ts';
import { POSTGRES_URL } from '../helpers/test-app.ts';

/** Four processes start under tsx's loader on a busy machine; 50 revocations each wait for propagation. */
const SLOW_MS = 240_000;
/** Issue 13: revocation on A refused by B, measured over 50 trials, p99 at most 100 ms on PostgreSQL. */
const TRIALS = 50;
const P99_BOUND_MS = 100;
/** How often B is asked again while it still accepts a revoked key. */
const POLL_MS = 2;
/** A trial that has not seen B refuse by then has failed (polling alone answers within about 1 s). */
const TRIAL_TIMEOUT_MS = 10_000;
/** The small budget of the rate-limited pair: spent half on each instance. */
const RATE_LIMIT = 10;
const REDIRECT_URI = 'https://app.example/callback';

interface IssuedKey {
  publicKey: string;
  privateKey: string;
}

const statuses = (answers: readonly Answer[]) =>
  countStatuses(answers.map((a) => ({ statusCode: a.status })));

/**
 * Issue 13, "Done means": two real `gatehouse serve` processes on different ports, on one PostgreSQL
 * database and one Redis, as instances behind a load balancer. Everything goes through HTTP; the
 * database is seeded and read on a connection of the test's own.
 */
const skipped = POSTGRES_URL ? '' : ' [skipped: no PostgreSQL for the tests]';

describe.skipIf(!POSTGRES_URL)(`two Gatehouse processes on one PostgreSQL and one Redis${skipped}`, () => {
  let database: ScaleOutDatabase;
  let s: Seed;
  let a: Instance;
  let b: Instance;
  /** A second pair with a budget of 10 requests a minute per credential, for the shared rate limit. */
  let c: Instance;
  let d: Instance;
  const deployments: Record<string, string>[] = [];

  beforeAll(async () => {
    database = await createScaleOutDatabase();
    s = await seedDatabase(database.url);
    const [portA, portB, portC, portD] = (await freePorts(4)) as [number, number, number, number];
    // One issuer per deployment, as behind a load balancer: a token issued by one is verified by the other.
    const main = deploymentEnv(database, { issuer: `http://127.0.0.1:${portA}` });
    const limited = deploymentEnv(database, {
      issuer: `http://127.0.0.1:${portC}`,
      redisPrefix: redisPrefix(),
      GATEHOUSE_RATE_LIMIT: RATE_LIMIT,
    });
    deployments.push(main, limited);
    [a, b, c, d] = (await startInstances([
      { name: 'A', env: main, port: portA },
      { name: 'B', env: main, port: portB },
      { name: 'C', env: limited, port: portC },
      { name: 'D', env: limited, port: portD },
    ])) as [Instance, Instance, Instance, Instance];
  }, SLOW_MS);

  afterAll(async () => {
    await stopInstances([a, b, c, d]);
    await Promise.all(deployments.map(deleteRedisKeys));
    await database?.drop();
  }, SLOW_MS);

  const admin = () => ({ 'x-api-key': s.adminKeyA.privateKey });
  const withKey = (privateKey: string) => ({ 'x-api-key': privateKey });

  async function createKey(
    on: Instance,
    label: string,
    extra: Record<string, unknown> = {},
  ): Promise<IssuedKey> {
    const res = await call(on, 'POST', '/v1/api-keys', { headers: admin(), body: { label, ...extra } });
    expect(res.status, res.text).toBe(201);
    return res.json<IssuedKey>();
  }

  const me = (on: Instance, privateKey: string) => call(on, 'GET', '/me', { headers: withKey(privateKey) });

  function clientCredentials(on: Instance, key: IssuedKey) {
    return call(on, 'POST', '/connect/token', {
      headers: { authorization: basicAuth(key.publicKey, key.privateKey) },
      form: { grant_type: 'client_credentials', scope: 'api1' },
    });
  }

  function tokenRequest(on: Instance, form: Record<string, string>) {
    return call(on, 'POST', '/connect/token', {
      headers: { authorization: basicAuth(s.orgKeyA.key.publicKey, s.orgKeyA.privateKey) },
      form,
    });
  }

  /** A code for the seeded app, through A's front channel: sign in as the owner, consent when asked. */
  const codeFromA = () =>
    authorizationCode(
      a,
      { clientId: s.orgKeyA.key.publicKey, redirectUri: REDIRECT_URI },
      { email: 'owner@a.test', password: PASSWORD },
    );

  /** One query on the shared database, from the test's own connection. */
  async function query<T extends pg.QueryResultRow>(sql: string, values: unknown[]): Promise<T[]> {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      return (await client.query<T>(sql, values)).rows;
    } finally {
      await client.end();
    }
  }

  it(
    'a key created through the admin API of A works on B, with X-API-Key and with client credentials',
    async () => {
      const key = await createKey(a, 'made on A');
      const onB = await me(b, key.privateKey);
      expect(onB.status, onB.text).toBe(200);
      expect(onB.json<{ authMethod: string; apiKey: { publicKey: string } }>()).toMatchObject({
        authMethod: 'apiKey',
        apiKey: { publicKey: key.publicKey },
      });

      const issued = await clientCredentials(b, key);
      expect(issued.status, issued.text).toBe(200);
      const bearer = { authorization: `Bearer ${issued.json().access_token}` };
      // Issued by B, signed with the deployment's key: A verifies it as well as B does.
      for (const on of [a, b]) {
        const res = await call(on, 'GET', '/me', { headers: bearer });
        expect(res.status, `${on.name}: ${res.text}`).toBe(200);
        expect(res.json<{ authMethod: string }>().authMethod).toBe('bearer');
      }
    },
    SLOW_MS,
  );

  /*
   * Needs PostgreSQL LISTEN/NOTIFY (issue 13, "Invalidation"; src/storage/notifications.ts): with the
   * `invalidations` table polled every second alone, B takes up to about 1 s and the p99 fails.
   */
  it(
    `revocation on A is refused by B within p99 ${P99_BOUND_MS} ms over ${TRIALS} trials (LISTEN/NOTIFY)`,
    async () => {
      const latencies: number[] = [];
      for (let trial = 0; trial < TRIALS; trial++) {
        const key = await createKey(a, `revoked ${trial}`);
        // B has the key in its cache, so only an invalidation can make it refuse the key.
        expect((await me(b, key.privateKey)).status).toBe(200);
        const revoked = await call(a, 'DELETE', `/v1/api-keys/${key.publicKey}`, { headers: admin() });
        expect(revoked.status, revoked.text).toBe(204);
        const acknowledged = performance.now();
        for (;;) {
          const res = await me(b, key.privateKey);
          if (res.status === 401) break;
          expect(res.status, res.text).toBe(200);
          if (performance.now() - acknowledged > TRIAL_TIMEOUT_MS)
            throw new Error(`trial ${trial}: B still accepts the key ${TRIAL_TIMEOUT_MS} ms after A's 204`);
          await sleep(POLL_MS);
        }
        latencies.push(performance.now() - acknowledged);
      }
      const p50 = percentile(latencies, 50);
      const p99 = percentile(latencies, 99);
      const max = Math.max(...latencies);
      // The issue asks for the figures to be printed: the closing note quotes them.
      console.log(
        `revocation on A refused by B (PostgreSQL, ${TRIALS} trials, from A's 204 to B's first 401): ` +
          `p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${max.toFixed(1)} ms`,
      );
      expect(p99).toBeLessThanOrEqual(P99_BOUND_MS);
    },
    SLOW_MS,
  );

  it('an access token of a key revoked on A is refused by B', async () => {
    const key = await createKey(a, 'token revoked on A');
    const issued = await clientCredentials(b, key);
    expect(issued.status, issued.text).toBe(200);
    const bearer = { authorization: `Bearer ${issued.json().access_token}` };
    expect((await call(b, 'GET', '/me', { headers: bearer })).status).toBe(200);
    expect((await call(a, 'DELETE', `/v1/api-keys/${key.publicKey}`, { headers: admin() })).status).toBe(204);
    // Polling is the slowest path (about 1 s); 5 s leaves room for a loaded machine.
    const deadline = Date.now() + 5000;
    let last = await call(b, 'GET', '/me', { headers: bearer });
    while (last.status === 200 && Date.now() < deadline) {
      await sleep(20);
      last = await call(b, 'GET', '/me', { headers: bearer });
    }
    expect(last.status, last.text).toBe(401);
  });

  it('of one code exchanged at A and at B at once, exactly one exchange gets tokens', async () => {
    const code = await codeFromA();
    const exchange = (on: Instance) => () =>
      tokenRequest(on, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI });
    const answers = await releaseTogether([a, b, a, b].map(exchange));
    expect(statuses(answers)).toEqual({ 200: 1, 400: 3 });
    for (const lost of answers.filter((res) => res.status === 400))
      expect(lost.json().error).toBe('invalid_grant');
  });

  it('of one refresh token presented at A and at B at once, exactly one successor is issued', async () => {
    const exchanged = await tokenRequest(b, {
      grant_type: 'authorization_code',
      code: await codeFromA(),
      redirect_uri: REDIRECT_URI,
    });
    expect(exchanged.status, exchanged.text).toBe(200);
    const refreshToken = exchanged.json().refresh_token as string;
    const refresh = (on: Instance) => () =>
      tokenRequest(on, { grant_type: 'refresh_token', refresh_token: refreshToken });
    const answers = await releaseTogether([a, b, a, b].map(refresh));
    expect(statuses(answers)).toEqual({ 200: 1, 400: 3 });
    const successors = await query<{ n: string }>(
      'SELECT count(*) AS n FROM refresh_tokens WHERE parent_id = (SELECT id FROM refresh_tokens WHERE token_hash = $1)',
      [hashSecret(refreshToken)],
    );
    expect(Number(successors[0]?.n)).toBe(1);
  });

  /**
   * Holds the row locks of a key's secrets in a transaction of the test's own, runs `race`, and lets go
   * once `waiters` statements of the instances wait for those locks: requests released together can
   * still reach the database one after the other on a busy machine, and a rotation that starts after
   * another has committed is a second rotation, not a race. Waiting for the locks makes them overlap.
   */
  async function overlapOnSecrets<T>(publicKey: string, waiters: number, race: () => Promise<T>): Promise<T> {
    const lock = new pg.Client({ connectionString: database.url });
    await lock.connect();
    try {
      await lock.query('BEGIN');
      await lock.query(
        'SELECT s.id FROM api_key_secrets s JOIN api_keys k ON k.id = s.api_key_id WHERE k.public_key = $1 FOR UPDATE OF s',
        [publicKey],
      );
      const raced = race();
      // Checked before each wait: the instances' statement timeout is well above these few milliseconds.
      const deadline = Date.now() + 10_000;
      for (;;) {
        const waiting = await lock.query<{ n: string }>(
          "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
        );
        if (Number(waiting.rows[0]?.n) >= waiters) break;
        if (Date.now() > deadline)
          throw new Error(`fewer than ${waiters} statements ever waited for the lock`);
        await sleep(5);
      }
      await lock.query('ROLLBACK');
      return await raced;
    } finally {
      await lock.end();
    }
  }

  it('of one key rotated through the admin API of A and of B at once, one rotation wins and the other gets 409', async () => {
    const key = await createKey(a, 'rotated on both');
    const rotate = (on: Instance) => () =>
      call(on, 'POST', `/v1/api-keys/${key.publicKey}/rotate`, {
        headers: admin(),
        body: { graceSeconds: 0 },
      });
    const answers = await overlapOnSecrets(key.publicKey, 2, () => releaseTogether([a, b].map(rotate)));
    expect(statuses(answers)).toEqual({ 200: 1, 409: 1 });
    const current = await query<{ last4: string }>(
      `SELECT s.last4 FROM api_key_secrets s JOIN api_keys k ON k.id = s.api_key_id
       WHERE k.public_key = $1 AND s.expires_at IS NULL`,
      [key.publicKey],
    );
    const winner = answers.find((res) => res.status === 200)?.json<IssuedKey>();
    expect(current.map((row) => row.last4)).toEqual([winner?.privateKey.slice(-4)]);
    for (const on of [a, b]) expect((await me(on, winner?.privateKey ?? '')).status).toBe(200);
  });

  it('a budget spent half on one instance and half on the other is spent on both (Redis)', async () => {
    const key = s.orgKeyB.privateKey;
    const spent = await releaseMany(RATE_LIMIT, (i) => me(i % 2 === 0 ? c : d, key));
    expect(statuses(spent)).toEqual({ 200: RATE_LIMIT });
    for (const on of [c, d]) {
      const over = await me(on, key);
      expect(over.status, `${on.name}: ${over.text}`).toBe(429);
      expect(over.headers.get('retry-after')).toMatch(/^\d+$/);
    }
  });

  it(
    'an instance that cannot start (its secret opens no signing key) exits with 1 instead of idling on its pool',
    async () => {
      const wrongSecret = { ...deployments[0], GATEHOUSE_SECRET: 'a-secret-that-sealed-no-key-of-this-db' };
      await expect(startInstance('wrong secret', wrongSecret as Record<string, string>)).rejects.toThrow(
        /exited \(1\)/,
      );
    },
    SLOW_MS,
  );

  it(
    'SIGTERM stops every instance cleanly: exit code 0',
    async () => {
      const codes = await Promise.all([a, b, c, d].map((instance) => instance.stop()));
      expect(codes).toEqual([0, 0, 0, 0]);
    },
    SLOW_MS,
  );
});
