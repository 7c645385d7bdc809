import { expect, it } from 'vitest';
import { createApiKey, revokeApiKey } from '../src/domain/api-keys.ts';
import { CLI_ACTOR } from '../src/domain/audit.ts';
import { generatePrivateKey } from '../src/domain/key-format.ts';
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
