import type { FastifyReply, LightMyRequestResponse } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, type IssuedApiKey, revokeApiKey } from '../src/domain/api-keys.ts';
import { CLI_ACTOR } from '../src/domain/audit.ts';
import { corsForKey } from '../src/http/cors.ts';
import type { ApiKey } from '../src/model/types.ts';
import { basicAuth, postForm, wait } from './helpers/http.ts';
import { useSeededApp } from './helpers/seeded-app.ts';
import { describeEachDialect } from './helpers/test-app.ts';

const ORIGIN_A = 'https://app.tenant-a.example';
const ORIGIN_B = 'https://app.tenant-b.example';
const EVIL = 'https://evil.example';

function expectNoCors(res: LightMyRequestResponse) {
  expect(res.headers['access-control-allow-origin']).toBeUndefined();
  expect(res.headers['access-control-allow-credentials']).toBeUndefined();
}

/** DESIGN.md 1 "Transport": preflights against the platform's origins, actual requests against the credential's own key. */
describeEachDialect('CORS', (dialect) => {
  const ctx = useSeededApp(dialect);
  let keyA: IssuedApiKey;
  beforeAll(async () => {
    keyA = await createApiKey(
      ctx.app.services.db,
      { tenantId: ctx.seed.a.tenantId, corsOrigins: [ORIGIN_A] },
      CLI_ACTOR,
    );
    await createApiKey(
      ctx.app.services.db,
      { tenantId: ctx.seed.b.tenantId, corsOrigins: [ORIGIN_B] },
      CLI_ACTOR,
    );
    await ctx.app.services.origins.refresh();
  });

  const preflight = (url: string, origin: string, requestHeaders?: string) =>
    ctx.app.inject({
      method: 'OPTIONS',
      url,
      headers: {
        origin,
        'access-control-request-method': 'GET',
        ...(requestHeaders ? { 'access-control-request-headers': requestHeaders } : {}),
      },
    });
  const call = (url: string, key: string, origin: string) =>
    ctx.app.inject({ method: 'GET', url, headers: { origin, 'x-api-key': key } });

  describe('preflight', () => {
    it('is allowed for an origin some active key allows', async () => {
      const res = await preflight('/v1/workspaces', ORIGIN_A);
      expect(res.statusCode).toBe(204);
      expect(res.headers['access-control-allow-origin']).toBe(ORIGIN_A);
      expect(res.headers['access-control-allow-methods']).toMatch(/GET/);
      expect(res.headers['access-control-allow-headers']).toMatch(/X-API-Key/i);
      expect(res.headers['access-control-allow-headers']).toMatch(/Authorization/i);
      expect(Number(res.headers['access-control-max-age'])).toBeGreaterThan(0);
      expect(res.headers.vary).toMatch(/Origin/);
      expect(res.headers['access-control-allow-credentials']).toBeUndefined();
    });

    it('is allowed on paths in any case', async () => {
      const res = await preflight('/V1/Workspaces/1/entities', ORIGIN_B);
      expect(res.headers['access-control-allow-origin']).toBe(ORIGIN_B);
    });

    it('grants the request headers the browser asks for', async () => {
      const res = await preflight('/me', ORIGIN_A, 'x-api-key, content-type');
      expect(res.headers['access-control-allow-headers']).toBe('x-api-key, content-type');
    });

    it('never reflects a malformed request-headers list', async () => {
      const res = await preflight('/me', ORIGIN_A, 'x-api-key\r\nSet-Cookie: a=b');
      expect(res.headers['access-control-allow-headers']).not.toMatch(/Set-Cookie/i);
      expect(res.headers['set-cookie']).toBeUndefined();
    });

    it.each([
      ['an origin no key allows', EVIL],
      ['a look-alike origin', `${ORIGIN_A}.evil.example`],
      ['the origin with another scheme', ORIGIN_A.replace('https:', 'http:')],
      ['the origin with a port', `${ORIGIN_A}:8443`],
      ['the null origin', 'null'],
    ])('is refused for %s', async (_name, origin) => {
      expectNoCors(await preflight('/v1/workspaces', origin));
    });

    it('is never answered by the authorization endpoint', async () => {
      expectNoCors(await preflight('/connect/authorize', ORIGIN_A));
    });

    it('is answered by the token and revocation endpoints', async () => {
      for (const url of ['/connect/token', '/connect/revocation']) {
        expect((await preflight(url, ORIGIN_A)).headers['access-control-allow-origin'], url).toBe(ORIGIN_A);
      }
    });
  });

  describe('actual requests', () => {
    it("carry CORS headers when the origin is allowed by the credential's own key", async () => {
      const res = await call('/me', keyA.privateKey, ORIGIN_A);
      expect(res.statusCode).toBe(200);
      expect(res.headers['access-control-allow-origin']).toBe(ORIGIN_A);
      expect(res.headers.vary).toMatch(/Origin/);
      const exposed = String(res.headers['access-control-expose-headers']).toLowerCase();
      for (const header of [
        'ratelimit-limit',
        'ratelimit-remaining',
        'ratelimit-reset',
        'retry-after',
        'www-authenticate',
      ])
        expect(exposed).toContain(header);
    });

    it("get no CORS headers for an origin allowed only by another tenant's key", async () => {
      const res = await call('/v1/workspaces', keyA.privateKey, ORIGIN_B);
      expect(res.statusCode).toBe(200);
      expectNoCors(res);
      expect(res.headers.vary).toMatch(/Origin/);
    });

    it('get no CORS headers for an origin allowed only by another key of the same tenant', async () => {
      expectNoCors(await call('/me', ctx.seed.orgKeyA.privateKey, ORIGIN_A));
    });

    it('get no CORS headers without a valid credential', async () => {
      const res = await ctx.app.inject({ method: 'GET', url: '/me', headers: { origin: ORIGIN_A } });
      expect(res.statusCode).toBe(401);
      expectNoCors(res);
    });

    it("get CORS headers from the token endpoint only for the authenticated client's own origins", async () => {
      const token = (origin: string) =>
        postForm(ctx.app, '/connect/token', 'grant_type=client_credentials&scope=api1', {
          origin,
          authorization: basicAuth(keyA.key.publicKey, keyA.privateKey),
        });
      const allowed = await token(ORIGIN_A);
      expect(allowed.statusCode).toBe(200);
      expect(allowed.headers['access-control-allow-origin']).toBe(ORIGIN_A);
      expectNoCors(await token(ORIGIN_B));
    });

    it('get no CORS headers on the authorization endpoint', async () => {
      const res = await ctx.app.inject({
        method: 'GET',
        url: `/connect/authorize?client_id=${keyA.key.publicKey}`,
        headers: { origin: ORIGIN_A },
      });
      expectNoCors(res);
    });
  });

  describe('the set of allowed origins', () => {
    it('drops the origins of a revoked key once the revocation is seen', async () => {
      const origin = 'https://soon-revoked.example';
      const issued = await createApiKey(
        ctx.app.services.db,
        { tenantId: ctx.seed.a.tenantId, corsOrigins: [origin] },
        CLI_ACTOR,
      );
      await ctx.app.services.origins.refresh();
      expect((await preflight('/me', origin)).headers['access-control-allow-origin']).toBe(origin);
      await revokeApiKey(ctx.app.services.db, issued.key.publicKey, CLI_ACTOR);
      // The invalidation feed (what any instance or the CLI writes) triggers the refresh.
      await ctx.app.services.keys.poll();
      await ctx.app.services.origins.refresh();
      expectNoCors(await preflight('/me', origin));
    });

    it('ignores the origins of an expired key', async () => {
      const origin = 'https://expired.example';
      await createApiKey(
        ctx.app.services.db,
        { tenantId: ctx.seed.a.tenantId, corsOrigins: [origin], expiresInMs: 1 },
        CLI_ACTOR,
      );
      await wait(5);
      await ctx.app.services.origins.refresh();
      expectNoCors(await preflight('/me', origin));
    });
  });
});

describe('corsForKey (for endpoints that authenticate the client in the handler)', () => {
  function fakeReply() {
    const headers: Record<string, string> = {};
    const reply = {
      getHeader: (name: string) => headers[name],
      header: (name: string, value: string) => {
        headers[name] = value;
        return reply;
      },
    };
    // Only getHeader and header are used by corsForKey.
    return { reply: reply as unknown as FastifyReply, headers };
  }
  const key = (overrides: Partial<ApiKey> = {}): ApiKey => ({
    id: 1,
    tenantId: 1,
    workspaceId: null,
    label: 'k',
    publicKey: 'gpk_x',
    redirectUris: [],
    corsOrigins: [ORIGIN_A],
    expiresAt: null,
    createdBy: null,
    createdAt: 0,
    lastUsedAt: null,
    revokedAt: null,
    permissions: 'write',
    clientType: 'confidential',
    postLogoutRedirectUris: [],
    idTokenSignedResponseAlg: 'RS256',
    ...overrides,
  });

  it("allows the key's own origins", () => {
    const { reply, headers } = fakeReply();
    corsForKey(reply, ORIGIN_A, key());
    expect(headers['access-control-allow-origin']).toBe(ORIGIN_A);
    expect(headers.vary).toBe('Origin');
  });

  it('allows nothing else, and nothing for a revoked key', () => {
    for (const [origin, k] of [
      [EVIL, key()],
      [ORIGIN_A, key({ revokedAt: 1 })],
    ] as const) {
      const { reply, headers } = fakeReply();
      corsForKey(reply, origin, k);
      expect(headers['access-control-allow-origin']).toBeUndefined();
    }
  });

  it('does nothing without an Origin header', () => {
    const { reply, headers } = fakeReply();
    corsForKey(reply, undefined, key());
    expect(headers).toEqual({});
  });
});
