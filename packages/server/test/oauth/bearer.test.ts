import { createHmac, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { SignJWT } from 'jose';
import { beforeAll, expect, it } from 'vitest';
import { createApiKey, revokeApiKey } from '../../src/domain/api-keys.ts';
import { CLI_ACTOR } from '../../src/domain/audit.ts';
import { issueAccessToken } from '../../src/oauth/access-token.ts';
import { eventually } from '../helpers/http.ts';
import { useSeededApp } from '../helpers/seeded-app.ts';
import { describeEachDialect } from '../helpers/test-app.ts';
import { decodePart, OAUTH_ENV, tokenFor } from './oauth-helpers.ts';

describeEachDialect('Bearer authentication on the REST API', (dialect) => {
  const ctx = useSeededApp(dialect, OAUTH_ENV);
  let signer: { kid: string; key: KeyObject };
  beforeAll(async () => {
    signer = ctx.app.services.keyRing.signer();
  });

  const call = (url: string, token: string) =>
    ctx.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });

  /** Valid claims of an A org-key token, to be altered one at a time. */
  function claims(overrides: Record<string, unknown> = {}) {
    const now = Math.floor(Date.now() / 1000);
    return {
      iss: ctx.app.services.config.issuer,
      aud: 'api1',
      sub: ctx.seed.orgKeyA.key.publicKey,
      client_id: ctx.seed.orgKeyA.key.publicKey,
      scope: 'api1',
      iat: now,
      exp: now + 600,
      jti: `test-${Math.random()}`,
      tenant_id: ctx.seed.a.tenantId,
      workspace_id: null,
      ...overrides,
    };
  }

  /** Signs with our real signing key: the signature is good, so only the claim or header checks can refuse. */
  function forge(payload: Record<string, unknown>, header: Record<string, unknown> = {}) {
    return new SignJWT(payload)
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: signer.kid, ...header })
      .sign(signer.key);
  }

  async function expectRefused(token: string, reason?: RegExp) {
    const res = await call('/v1/workspaces', token);
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="gatehouse", error="invalid_token"/);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    if (reason) expect(res.json().detail).toMatch(reason);
  }

  it('accepts a client-credentials token: principal with authMethod bearer and no user', async () => {
    const res = await call('/me', await tokenFor(ctx.app, ctx.seed.orgKeyA));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      authMethod: 'bearer',
      tenantId: ctx.seed.a.tenantId,
      workspaceId: null,
      apiKey: { publicKey: ctx.seed.orgKeyA.key.publicKey, label: 'A org key' },
      user: null,
      scope: 'api1',
      permissions: 'write',
    });
  });

  it("a tenant B token sees only tenant B's workspaces and gets 404 for tenant A's", async () => {
    const token = await tokenFor(ctx.app, ctx.seed.orgKeyB);
    const list = await call('/v1/workspaces', token);
    expect(list.statusCode).toBe(200);
    expect(list.json().items.map((w: { id: number }) => w.id)).toEqual([ctx.seed.b.workspaceId]);
    expect((await call(`/v1/workspaces/${ctx.seed.a.mainWorkspaceId}`, token)).statusCode).toBe(404);
    expect((await call(`/v1/workspaces/${ctx.seed.a.mainWorkspaceId}/entities`, token)).statusCode).toBe(404);
  });

  it('a workspace-scoped key token reaches only its workspace', async () => {
    const token = await tokenFor(ctx.app, ctx.seed.workspaceKeyA);
    const list = await call('/v1/workspaces', token);
    expect(list.json().items.map((w: { id: number }) => w.id)).toEqual([ctx.seed.a.secondWorkspaceId]);
    expect((await call(`/v1/workspaces/${ctx.seed.a.mainWorkspaceId}`, token)).statusCode).toBe(404);
    expect((await call('/me', token)).json().workspaceId).toBe(ctx.seed.a.secondWorkspaceId);
  });

  it('verifies a token signature once per instance, then serves it from the cache', async () => {
    const verifier = ctx.app.services.bearer;
    const token = await tokenFor(ctx.app, ctx.seed.orgKeyA);
    const before = verifier.coldChecks;
    for (let i = 0; i < 3; i++) expect((await call('/me', token)).statusCode).toBe(200);
    expect(verifier.coldChecks - before).toBe(1);
  });

  it('refuses alg "none" (DESIGN.md 3 rule 7)', async () => {
    const encode = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const unsigned = `${encode({ alg: 'none', typ: 'at+jwt', kid: signer.kid })}.${encode(claims())}`;
    await expectRefused(`${unsigned}.`);
    await expectRefused(`${unsigned}.AAAA`, /algorithm/);
  });

  it('refuses HS256 signed with our public key as the HMAC secret (key confusion)', async () => {
    const jwks = (await ctx.app.inject({ url: '/.well-known/openid-configuration/jwks' })).json();
    const publicKey = ctx.app.services.keyRing.jwks().keys[0];
    expect(jwks.keys[0]).toEqual(publicKey);
    const pem = (await ctx.app.services.keyRing.verificationKey(signer.kid))?.key.export({
      type: 'spki',
      format: 'pem',
    });
    for (const secret of [String(pem), JSON.stringify(publicKey)]) {
      const encode = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
      const input = `${encode({ alg: 'HS256', typ: 'at+jwt', kid: signer.kid })}.${encode(claims())}`;
      const mac = createHmac('sha256', secret).update(input).digest('base64url');
      await expectRefused(`${input}.${mac}`, /algorithm/);
    }
  });

  it('refuses an unknown kid, and a foreign key claiming our kid', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const foreign = (kid: string) =>
      new SignJWT(claims()).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid }).sign(privateKey);
    await expectRefused(await foreign('someone-elses-key'), /unknown key/);
    await expectRefused(await foreign(signer.kid), /signature/);
    await expectRefused(await forge(claims(), { kid: undefined }), /signing key/);
  });

  it('refuses a wrong audience, a wrong issuer and a wrong or missing typ', async () => {
    await expectRefused(await forge(claims({ aud: 'api2' })), /aud/);
    await expectRefused(await forge(claims({ aud: ['other'] })), /aud/);
    await expectRefused(await forge(claims({ iss: 'https://evil.example' })), /issuer/);
    await expectRefused(await forge(claims(), { typ: 'JWT' }), /typ/);
    await expectRefused(await forge(claims(), { typ: undefined }), /typ/);
    // RFC 9068 4: the media-type spelling is the same type.
    expect((await call('/me', await forge(claims(), { typ: 'application/at+jwt' }))).statusCode).toBe(200);
  });

  it('refuses unknown critical header parameters', async () => {
    // Signed by hand: jose itself refuses to produce a crit it does not understand.
    const encode = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const header = { alg: 'ES256', typ: 'at+jwt', kid: signer.kid, crit: ['urn:x'], 'urn:x': 1 };
    const input = `${encode(header)}.${encode(claims())}`;
    const signature = sign('sha256', Buffer.from(input), { key: signer.key, dsaEncoding: 'ieee-p1363' });
    await expectRefused(`${input}.${signature.toString('base64url')}`, /critical/);
  });

  it('refuses an expired token and one not valid yet', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expectRefused(await forge(claims({ iat: now - 7200, exp: now - 3600 })), /expired/);
    await expectRefused(await forge(claims({ nbf: now + 600 })), /not valid yet/);
  });

  it('refuses tokens missing a required claim', async () => {
    for (const missing of ['exp', 'iat', 'jti', 'client_id', 'sub', 'scope', 'tenant_id', 'workspace_id']) {
      const payload: Record<string, unknown> = claims();
      delete payload[missing];
      await expectRefused(await forge(payload));
    }
  });

  it('refuses a tampered payload (tenant switched) with the original signature', async () => {
    const token = await tokenFor(ctx.app, ctx.seed.orgKeyA);
    const [h, , sig] = token.split('.');
    const payload = { ...decodePart(token, 1), tenant_id: ctx.seed.b.tenantId };
    await expectRefused(
      `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${sig}`,
      /signature/,
    );
  });

  it("refuses a validly signed token whose tenant or workspace differs from its key's", async () => {
    await expectRefused(await forge(claims({ tenant_id: ctx.seed.b.tenantId })), /match/);
    const scoped = ctx.seed.workspaceKeyA.key.publicKey;
    await expectRefused(
      await forge(claims({ sub: scoped, client_id: scoped, workspace_id: ctx.seed.a.mainWorkspaceId })),
      /match/,
    );
  });

  it('refuses a token without the api1 scope', async () => {
    await expectRefused(await forge(claims({ scope: 'other' })), /scope/);
  });

  it('refuses garbage tokens with 401, never a 500', async () => {
    for (const token of [
      'abc',
      'a.b.c',
      'a.b.c.d',
      `${'A'.repeat(5000)}.e30.e30`,
      'eyJ9.eyJ9.AA',
      'e30.e30.AA',
    ]) {
      await expectRefused(token);
    }
  });

  it('refuses the tokens of a revoked API key at once (through the invalidation feed)', async () => {
    const issued = await createApiKey(
      ctx.app.services.db,
      { tenantId: ctx.seed.a.tenantId, label: 'soon revoked' },
      CLI_ACTOR,
    );
    const token = await tokenFor(ctx.app, issued);
    expect((await call('/me', token)).statusCode).toBe(200);
    await revokeApiKey(ctx.app.services.db, issued.key.publicKey, CLI_ACTOR);
    expect(await eventually(async () => (await call('/me', token)).statusCode === 401, 2000)).toBe(true);
    expect((await call('/me', token)).json().detail).toMatch(/revoked/);
  });

  it('refuses the tokens of an expired API key', async () => {
    const issued = await createApiKey(
      ctx.app.services.db,
      { tenantId: ctx.seed.a.tenantId, label: 'expiring', expiresInMs: 300 },
      CLI_ACTOR,
    );
    const token = await tokenFor(ctx.app, issued);
    expect(await eventually(async () => (await call('/me', token)).statusCode === 401, 2000)).toBe(true);
  });

  it('builds the user of a user token (sub = user id) from its current membership', async () => {
    const userToken = await issueAccessToken(ctx.app.services, {
      client: ctx.seed.orgKeyA.key,
      userId: ctx.seed.a.userId,
      scope: 'api1',
      workspaceId: null,
    });
    const res = await call('/me', userToken.token);
    expect(res.statusCode).toBe(200);
    expect(res.json().user).toEqual({
      id: ctx.seed.a.userId,
      email: 'owner@a.test',
      displayName: null,
      role: 'owner',
    });
    // Tenant B's owner is no member of tenant A: a token naming them there is refused.
    const outsider = await issueAccessToken(ctx.app.services, {
      client: ctx.seed.orgKeyA.key,
      userId: ctx.seed.b.userId,
      scope: 'api1',
      workspaceId: null,
    });
    await expectRefused(outsider.token, /may no longer act/);
  });
});
