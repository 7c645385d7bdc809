import { expect, it } from 'vitest';
import { createApiKey, revokeApiKey } from '../src/domain/api-keys.ts';
import { CLI_ACTOR } from '../src/domain/audit.ts';
import { generatePrivateKey } from '../src/domain/key-format.ts';
import { Browser, hiddenFields } from './helpers/authorization-flow.ts';
import { basicAuth, eventually, postForm } from './helpers/http.ts';
import { useSeededApp } from './helpers/seeded-app.ts';
import { createTestApp, describeEachDialect } from './helpers/test-app.ts';

/** The value of one sample line, e.g. `gatehouse_auth_total{method="apiKey",result="valid"}`. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

describeEachDialect('Prometheus metrics', (dialect) => {
  const ctx = useSeededApp(dialect);

  const scrape = async () => {
    const res = await ctx.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    return res.body;
  };
  const me = (headers: Record<string, string>) => ctx.app.inject({ method: 'GET', url: '/me', headers });

  it('serves the Prometheus text format without authentication, never cached', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toMatch(/^# HELP /m);
  });

  it('includes the default process metrics', async () => {
    const text = await scrape();
    for (const name of [
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
    ])
      expect(text).toContain(name);
  });

  it('counts requests and their latency by route pattern and status', async () => {
    const headers = { 'x-api-key': ctx.seed.orgKeyA.privateKey };
    await ctx.app.inject({ url: `/v1/workspaces/${ctx.seed.a.mainWorkspaceId}`, headers });
    await ctx.app.inject({ url: `/v1/workspaces/${ctx.seed.a.secondWorkspaceId}`, headers });
    await ctx.app.inject({ url: '/v1/workspaces/2147483000', headers });
    const text = await scrape();
    const route = 'method="GET",route="/v1/workspaces/:id"';
    expect(sample(text, `gatehouse_http_requests_total{${route},status="200"}`)).toBe(2);
    expect(sample(text, `gatehouse_http_requests_total{${route},status="404"}`)).toBe(1);
    expect(sample(text, `gatehouse_http_request_duration_seconds_count{${route},status="200"}`)).toBe(2);
    expect(text).toContain(
      `gatehouse_http_request_duration_seconds_bucket{le="0.005",${route},status="200"}`,
    );
  });

  it('labels with the declared pattern only, never the raw URL, so series stay bounded', async () => {
    const noise = `/no/such/route/${Math.random().toString(36).slice(2)}`;
    await ctx.app.inject({ url: `${noise}?secret=abc` });
    await ctx.app.inject({
      url: `/v1/workspaces/${ctx.seed.a.mainWorkspaceId}?q=hello`,
      headers: { 'x-api-key': ctx.seed.orgKeyA.privateKey },
    });
    const text = await scrape();
    expect(text).not.toContain(noise);
    expect(text).not.toContain('secret=abc');
    expect(text).not.toContain('q=hello');
    expect(text).toContain('route="unmatched",status="404"');
  });

  it('counts API key checks by outcome', async () => {
    const before = await scrape();
    const revoked = await createApiKey(ctx.app.services.db, { tenantId: ctx.seed.a.tenantId }, CLI_ACTOR);
    await revokeApiKey(ctx.app.services.db, revoked.key.publicKey, CLI_ACTOR);
    await me({ 'x-api-key': ctx.seed.orgKeyB.privateKey });
    await me({ 'x-api-key': 'not-a-key' });
    await me({ 'x-api-key': generatePrivateKey() });
    await me({ 'x-api-key': revoked.privateKey });
    await me({});
    const after = await scrape();
    const delta = (series: string) => sample(after, series) - sample(before, series);
    expect(delta('gatehouse_auth_total{method="apiKey",result="valid"}')).toBe(1);
    expect(delta('gatehouse_auth_total{method="apiKey",result="malformed"}')).toBe(1);
    expect(delta('gatehouse_auth_total{method="apiKey",result="unknown"}')).toBe(1);
    expect(delta('gatehouse_auth_total{method="apiKey",result="revoked"}')).toBe(1);
    expect(delta('gatehouse_auth_total{method="none",result="missing"}')).toBe(1);
  });

  it('counts bearer token outcomes', async () => {
    const before = await scrape();
    await me({ authorization: 'Bearer not.a.token' });
    const after = await scrape();
    const series = 'gatehouse_auth_total{method="bearer",result="invalid"}';
    expect(sample(after, series) - sample(before, series)).toBe(1);
  });

  it('counts key cache hits and misses', async () => {
    const issued = await createApiKey(ctx.app.services.db, { tenantId: ctx.seed.a.tenantId }, CLI_ACTOR);
    const before = await scrape();
    await me({ 'x-api-key': issued.privateKey });
    await me({ 'x-api-key': issued.privateKey });
    await me({ 'x-api-key': issued.privateKey });
    const unknown = generatePrivateKey();
    await me({ 'x-api-key': unknown });
    await me({ 'x-api-key': unknown });
    const after = await scrape();
    const delta = (outcome: string) => {
      const series = `gatehouse_key_cache_lookups_total{cache="secret",outcome="${outcome}"}`;
      return sample(after, series) - sample(before, series);
    };
    expect(delta('miss')).toBe(2);
    expect(delta('hit')).toBe(2);
    expect(delta('negative')).toBe(1);
  });

  it('never exposes a secret', async () => {
    await me({ 'x-api-key': ctx.seed.orgKeyA.privateKey });
    const text = await scrape();
    for (const key of [ctx.seed.orgKeyA, ctx.seed.orgKeyB, ctx.seed.workspaceKeyA]) {
      expect(text).not.toContain(key.privateKey);
      expect(text).not.toContain(key.key.publicKey);
    }
  });

  it('keeps each app in its own registry', async () => {
    const other = await createTestApp(dialect);
    try {
      const text = (await other.app.inject({ url: '/metrics' })).body;
      expect(text).not.toContain('route="/v1/workspaces/:id"');
      expect(text).toContain('process_cpu_user_seconds_total');
    } finally {
      await other.close();
    }
  });

  it('is not served when GATEHOUSE_METRICS=false', async () => {
    const off = await createTestApp(dialect, { GATEHOUSE_METRICS: 'false' });
    try {
      const res = await off.app.inject({ url: '/metrics' });
      expect(res.statusCode).toBe(404);
    } finally {
      await off.close();
    }
  });
});

/** Every sample of `name` in a scrape, by its label set, e.g. `{budget="credential"}` -> 1. */
function samples(text: string, name: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`).exec(line);
    if (match) found.set(match[1] ?? '', Number(match[2]));
  }
  return found;
}

describeEachDialect('Prometheus metrics of operations', (dialect) => {
  // Small budgets, so that each 429 is reached in a few requests; each test uses its own addresses and keys.
  const ctx = useSeededApp(dialect, {
    GATEHOUSE_RATE_LIMIT: '2',
    GATEHOUSE_TOKEN_RATE_LIMIT: '3',
    GATEHOUSE_AUTH_FAILURE_LIMIT: '1',
  });
  let address = 0;
  /** A client address no other request of the suite used: a whole budget of its own. */
  const freshAddress = () => `10.77.${Math.floor(++address / 250)}.${address % 250}`;
  const scrape = async () => (await ctx.app.inject({ url: '/metrics' })).body;
  const newKey = () => createApiKey(ctx.app.services.db, { tenantId: ctx.seed.a.tenantId }, CLI_ACTOR);
  const token = (params: Record<string, string>, headers: Record<string, string> = {}) =>
    postForm(ctx.app, '/connect/token', params, headers, { remoteAddress: freshAddress() });

  it('counts token answers by grant and outcome: issued, or the OAuth error code', async () => {
    const client = await newKey();
    const other = await newKey();
    const basic = basicAuth(client.key.publicKey, client.privateKey);
    const before = await scrape();
    const statuses = [
      (await token({ grant_type: 'client_credentials' }, { authorization: basic })).statusCode,
      (
        await token(
          { grant_type: 'client_credentials' },
          { authorization: basicAuth(client.key.publicKey, other.privateKey) },
        )
      ).statusCode,
      (await token({ grant_type: 'password' }, { authorization: basic })).statusCode,
      (await token({ grant_type: 'refresh_token', refresh_token: 'nope' }, { authorization: basic }))
        .statusCode,
      // The client's own budget (GATEHOUSE_RATE_LIMIT=2) is spent by now.
      (await token({ grant_type: 'client_credentials' }, { authorization: basic })).statusCode,
    ];
    expect(statuses).toEqual([200, 401, 400, 400, 429]);
    const after = await scrape();
    const delta = (grant: string, outcome: string) => {
      const series = `gatehouse_token_requests_total{grant="${grant}",outcome="${outcome}"}`;
      return sample(after, series) - sample(before, series);
    };
    expect(delta('client_credentials', 'issued')).toBe(1);
    expect(delta('client_credentials', 'invalid_client')).toBe(1);
    expect(delta('unsupported', 'unsupported_grant_type')).toBe(1);
    expect(delta('refresh_token', 'invalid_grant')).toBe(1);
    expect(delta('client_credentials', 'rate_limited')).toBe(1);
    // Only grant types of ours become labels, whatever a client sends.
    expect(after).not.toContain('grant="password"');
  });

  it('counts 429s by the budget that refused them', async () => {
    const before = await scrape();
    // credential: GATEHOUSE_RATE_LIMIT per API key.
    const key = await newKey();
    const keyed = { 'x-api-key': key.privateKey };
    const ip = freshAddress();
    const api = [];
    for (let i = 0; i < 3; i++)
      api.push(
        (await ctx.app.inject({ url: '/v1/workspaces', headers: keyed, remoteAddress: ip })).statusCode,
      );
    expect(api).toEqual([200, 200, 429]);
    // failed_auth: GATEHOUSE_AUTH_FAILURE_LIMIT per address for failed credentials.
    const failing = freshAddress();
    const me = async () => (await ctx.app.inject({ url: '/me', remoteAddress: failing })).statusCode;
    expect([await me(), await me()]).toEqual([401, 429]);
    // token_address: GATEHOUSE_TOKEN_RATE_LIMIT per address on /connect/*, before the body is read.
    const caller = freshAddress();
    const connect = [];
    for (let i = 0; i < 4; i++)
      connect.push(
        (await postForm(ctx.app, '/connect/token', { grant_type: 'password' }, {}, { remoteAddress: caller }))
          .statusCode,
      );
    expect(connect).toEqual([400, 400, 400, 429]);
    // sign_in: the account's budget of failed sign-ins, spent beforehand.
    const browser = new Browser(ctx.app);
    const signInIp = freshAddress();
    for (let i = 0; i < ctx.app.services.signInThrottle.limits.perAccount; i++)
      await ctx.app.services.signInThrottle.reserve('owner@a.test', signInIp);
    const page = await ctx.app.inject({ url: '/console/sign-in', remoteAddress: signInIp });
    browser.jar.store(page);
    const signIn = await postForm(
      ctx.app,
      '/console/sign-in',
      { ...hiddenFields(page.body, '/console/sign-in'), email: 'owner@a.test', password: 'wrong' },
      browser.jar.header(),
      { remoteAddress: signInIp },
    );
    expect(signIn.statusCode).toBe(429);

    const after = await scrape();
    const delta = (budget: string) => {
      const series = `gatehouse_rate_limited_total{budget="${budget}"}`;
      return sample(after, series) - sample(before, series);
    };
    expect(delta('credential')).toBe(1);
    expect(delta('failed_auth')).toBe(1);
    expect(delta('token_address')).toBe(1);
    expect(delta('sign_in')).toBe(1);
    expect(delta('other')).toBe(0);
    // Refused before its body was read: its grant is not known.
    expect(after).toContain('gatehouse_token_requests_total{grant="unknown",outcome="rate_limited"}');
  });

  it('shows every budget from the start, at zero when none refused', async () => {
    const fresh = await createTestApp(dialect);
    try {
      const text = (await fresh.app.inject({ url: '/metrics' })).body;
      expect([...samples(text, 'gatehouse_rate_limited_total')]).toEqual([
        ['{budget="credential"}', 0],
        ['{budget="token_address"}', 0],
        ['{budget="token_client"}', 0],
        ['{budget="failed_auth"}', 0],
        ['{budget="sign_in"}', 0],
      ]);
    } finally {
      await fresh.close();
    }
  });

  it('shows the PostgreSQL pool: connections in use and idle, queries waiting (absent on SQLite)', async () => {
    await ctx.app.inject({ url: '/v1/workspaces', headers: { 'x-api-key': ctx.seed.orgKeyB.privateKey } });
    const text = await scrape();
    const connections = samples(text, 'gatehouse_db_pool_connections');
    const waiting = samples(text, 'gatehouse_db_pool_waiting');
    if (dialect === 'sqlite') {
      expect(connections.size + waiting.size).toBe(0);
      return;
    }
    expect([...connections.keys()].sort()).toEqual(['{state="idle"}', '{state="in_use"}']);
    expect(connections.get('{state="idle"}')).toBeGreaterThanOrEqual(1);
    // Nothing runs while the scrape is answered, and nothing waits.
    expect(connections.get('{state="in_use"}')).toBe(0);
    expect(waiting.get('')).toBe(0);
  });

  it('shows the size of each in-memory cache', async () => {
    const key = await newKey();
    await ctx.app.inject({
      url: '/me',
      headers: { 'x-api-key': key.privateKey },
      remoteAddress: freshAddress(),
    });
    const issued = await token(
      { grant_type: 'client_credentials' },
      { authorization: basicAuth(key.key.publicKey, key.privateKey) },
    );
    const bearer = `Bearer ${issued.json().access_token}`;
    await ctx.app.inject({ url: '/me', headers: { authorization: bearer }, remoteAddress: freshAddress() });
    const sizes = samples(await scrape(), 'gatehouse_cache_entries');
    expect([...sizes.keys()].sort()).toEqual(
      ['bearer', 'cors_origins', 'denylist', 'key_client', 'key_secret', 'key_unknown'].map(
        (cache) => `{cache="${cache}"}`,
      ),
    );
    expect(sizes.get('{cache="key_secret"}')).toBeGreaterThanOrEqual(1);
    expect(sizes.get('{cache="key_client"}')).toBeGreaterThanOrEqual(1);
    expect(sizes.get('{cache="bearer"}')).toBeGreaterThanOrEqual(1);
  });

  it('measures invalidation lag, notify to applied, on PostgreSQL (polling only on SQLite)', async () => {
    const key = await newKey();
    const before = await scrape();
    expect(before).toContain('# TYPE gatehouse_invalidation_lag_seconds histogram');
    await revokeApiKey(ctx.app.services.db, key.key.publicKey, CLI_ACTOR);
    const series = 'gatehouse_invalidation_lag_seconds_count{table="invalidations"}';
    if (dialect === 'sqlite') {
      expect(sample(await scrape(), 'gatehouse_invalidation_listening')).toBe(0);
      expect(sample(await scrape(), series)).toBe(0);
      return;
    }
    expect(sample(before, 'gatehouse_invalidation_listening')).toBe(1);
    const applied = await eventually(async () => sample(await scrape(), series) > sample(before, series));
    expect(applied).toBe(true);
    expect(
      sample(await scrape(), 'gatehouse_invalidation_notifications_total{outcome="applied"}'),
    ).toBeGreaterThan(0);
  });
});

describeEachDialect('GATEHOUSE_METRICS_TOKEN', (dialect) => {
  const TOKEN = 'metrics-token-0123456789abcdef';
  const ctx = useSeededApp(dialect, { GATEHOUSE_METRICS_TOKEN: TOKEN });
  const scrape = (headers: Record<string, string>) => ctx.app.inject({ url: '/metrics', headers });

  it.each([
    ['no credential', () => ({})],
    ['a wrong token', () => ({ authorization: 'Bearer metrics-token-0123456789abcdeX' })],
    ['a prefix of the token', () => ({ authorization: 'Bearer metrics-token' })],
    ['the token sent as Basic', () => ({ authorization: `Basic ${TOKEN}` })],
    ['an API key', () => ({ 'x-api-key': ctx.seed.adminKeyA.privateKey })],
  ])('refuses %s with 401 and a Bearer challenge', async (_name, headers) => {
    const res = await scrape(headers());
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="metrics"');
    expect(res.body).not.toContain('gatehouse_');
    expect(res.body).not.toContain(TOKEN);
  });

  it('serves the metrics with the right token', async () => {
    const res = await scrape({ authorization: `Bearer ${TOKEN}` });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('gatehouse_http_requests_total');
    expect(res.body).not.toContain(TOKEN);
  });
});
