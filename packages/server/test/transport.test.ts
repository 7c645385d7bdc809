import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLoopbackAddress } from '../src/http/transport.ts';
import { type Seed, seed } from './helpers/seed.ts';
import { useSeededApp } from './helpers/seeded-app.ts';
import { createTestApp, describeEachDialect, type TestApp } from './helpers/test-app.ts';

const PRODUCTION = {
  GATEHOUSE_MODE: 'production',
  GATEHOUSE_TRUST_PROXY: 'true',
  GATEHOUSE_ISSUER: 'https://auth.example.com',
};
const REMOTE = '203.0.113.7';

/** DESIGN.md 1 "Transport": in production, credentials over plain HTTP from a non-loopback client are refused. */
describeEachDialect('transport security in production behind a proxy', (dialect) => {
  const ctx = useSeededApp(dialect, PRODUCTION);

  const me = (remoteAddress: string, headers: Record<string, string> = {}) =>
    ctx.app.inject({
      method: 'GET',
      url: '/me',
      remoteAddress,
      headers: { 'x-api-key': ctx.seed.orgKeyA.privateKey, ...headers },
    });

  it('refuses an API key received over plain HTTP from a remote client with 403 insecure_transport', async () => {
    const res = await me(REMOTE);
    expect(res.statusCode).toBe(403);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({
      code: 'insecure_transport',
      status: 403,
      requestId: expect.any(String),
    });
  });

  it('refuses it when the proxy says the client used plain HTTP', async () => {
    expect((await me(REMOTE, { 'x-forwarded-proto': 'http' })).statusCode).toBe(403);
  });

  it('refuses it when a loopback proxy forwards a remote client over plain HTTP', async () => {
    const res = await me('127.0.0.1', { 'x-forwarded-for': REMOTE, 'x-forwarded-proto': 'http' });
    expect(res.statusCode).toBe(403);
  });

  it('accepts it when the proxy terminated TLS', async () => {
    const res = await me('127.0.0.1', { 'x-forwarded-for': REMOTE, 'x-forwarded-proto': 'https' });
    expect(res.statusCode).toBe(200);
  });

  it('accepts it from a loopback client', async () => {
    expect((await me('127.0.0.1')).statusCode).toBe(200);
    expect((await me('::1')).statusCode).toBe(200);
    expect((await me('::ffff:127.0.0.1')).statusCode).toBe(200);
  });

  it.each([
    ['a bearer token', { authorization: 'Bearer abc' }],
    ['Basic client credentials', { authorization: 'Basic Zm9vOmJhcg==' }],
    ['a session cookie', { cookie: 'session=abc' }],
  ])('refuses %s over plain HTTP too', async (_name, headers) => {
    const res = await ctx.app.inject({ method: 'GET', url: '/me', remoteAddress: REMOTE, headers });
    expect(res.statusCode).toBe(403);
  });

  it('refuses a form body to the OAuth endpoints over plain HTTP, in the OAuth error format', async () => {
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/connect/token',
      remoteAddress: REMOTE,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `grant_type=client_credentials&client_id=${ctx.seed.orgKeyA.key.publicKey}&client_secret=${ctx.seed.orgKeyA.privateKey}`,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      error: 'invalid_request',
      error_description: expect.stringMatching(/HTTPS/),
    });
  });

  it('still answers requests without credentials over plain HTTP', async () => {
    expect((await ctx.app.inject({ url: '/status', remoteAddress: REMOTE })).statusCode).toBe(200);
    expect((await ctx.app.inject({ url: '/metrics', remoteAddress: REMOTE })).statusCode).toBe(200);
  });

  it('sends HSTS', async () => {
    const res = await me('127.0.0.1');
    expect(res.headers['strict-transport-security']).toMatch(/max-age=\d{7,}/);
  });
});

describeEachDialect('transport security in production behind a listed proxy', (dialect) => {
  const PROXY = '10.0.0.5';
  const ctx = useSeededApp(dialect, { ...PRODUCTION, GATEHOUSE_TRUST_PROXY: `${PROXY}, 192.168.0.0/16` });

  const me = (remoteAddress: string, headers: Record<string, string>) =>
    ctx.app.inject({
      method: 'GET',
      url: '/me',
      remoteAddress,
      headers: { 'x-api-key': ctx.seed.orgKeyA.privateKey, ...headers },
    });

  it('trusts X-Forwarded-Proto from a listed proxy address or range', async () => {
    const https = { 'x-forwarded-for': REMOTE, 'x-forwarded-proto': 'https' };
    expect((await me(PROXY, https)).statusCode).toBe(200);
    expect((await me('192.168.4.2', https)).statusCode).toBe(200);
  });

  it('does not trust X-Forwarded-Proto forged by a client that is not a listed proxy', async () => {
    const res = await me(REMOTE, { 'x-forwarded-for': '10.0.0.5', 'x-forwarded-proto': 'https' });
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('insecure_transport');
  });
});

describeEachDialect('transport security in production with its own TLS', (dialect) => {
  let t: TestApp;
  let s: Seed;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-tls-'));
    const [cert, key] = [join(dir, 'cert.pem'), join(dir, 'key.pem')];
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
      ],
      { stdio: 'ignore' },
    );
    t = await createTestApp(dialect, {
      GATEHOUSE_MODE: 'production',
      GATEHOUSE_TLS_CERT: cert,
      GATEHOUSE_TLS_KEY: key,
      GATEHOUSE_ISSUER: 'https://auth.example.com',
    });
    s = await seed(t.app.services.db);
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('does not trust a forged X-Forwarded-Proto when no proxy is configured', async () => {
    // inject's socket is not TLS: this is a plain HTTP request claiming to be HTTPS.
    const res = await t.app.inject({
      method: 'GET',
      url: '/me',
      remoteAddress: REMOTE,
      headers: {
        'x-api-key': s.orgKeyA.privateKey,
        'x-forwarded-proto': 'https',
        'x-forwarded-for': '127.0.0.1',
      },
    });
    expect(res.statusCode).toBe(403);
  });
});

describeEachDialect('transport in development', (dialect) => {
  const ctx = useSeededApp(dialect);

  it('accepts plain HTTP from anywhere and sends no HSTS', async () => {
    const res = await ctx.app.inject({
      method: 'GET',
      url: '/me',
      remoteAddress: REMOTE,
      headers: { 'x-api-key': ctx.seed.orgKeyA.privateKey },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['strict-transport-security']).toBeUndefined();
  });
});

describe('isLoopbackAddress', () => {
  it.each(['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1'])('%s is loopback', (address) => {
    expect(isLoopbackAddress(address)).toBe(true);
  });
  it.each(['10.0.0.1', '128.0.0.1', '::2', '::ffff:10.0.0.1', '127.0.0.1.evil.example', 'localhost', ''])(
    '%s is not',
    (address) => {
      expect(isLoopbackAddress(address)).toBe(false);
    },
  );
});
