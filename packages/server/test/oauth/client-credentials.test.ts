import { expect, it } from 'vitest';
import { createApiKey, revokeApiKey, rotateApiKey } from '../../src/domain/api-keys.ts';
import { CLI_ACTOR } from '../../src/domain/audit.ts';
import { basicAuth, postForm, wait } from '../helpers/http.ts';
import { useSeededApp } from '../helpers/seeded-app.ts';
import { tamperLast } from '../helpers/tamper.ts';
import { describeEachDialect } from '../helpers/test-app.ts';
import { basicOf, decodePart, form, OAUTH_ENV } from './oauth-helpers.ts';

describeEachDialect('client credentials grant', (dialect) => {
  const ctx = useSeededApp(dialect, OAUTH_ENV);

  const token = (payload: string, headers: Record<string, string> = {}) =>
    postForm(ctx.app, '/connect/token', payload, headers);
  const cc = (extra: Record<string, string> = {}) => form({ grant_type: 'client_credentials', ...extra });

  it('issues exactly {access_token, expires_in, token_type, scope} with no-store (client_secret_basic)', async () => {
    const res = await token(cc({ scope: 'api1' }), { authorization: basicOf(ctx.seed.orgKeyA) });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers.pragma).toBe('no-cache');
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const body = res.json();
    expect(Object.keys(body)).toEqual(['access_token', 'expires_in', 'token_type', 'scope']);
    expect(body).toEqual({
      access_token: expect.any(String),
      expires_in: 3600,
      token_type: 'Bearer',
      scope: 'api1',
    });
  });

  it('accepts client_secret_post', async () => {
    const res = await token(
      cc({
        client_id: ctx.seed.orgKeyA.key.publicKey,
        client_secret: ctx.seed.orgKeyA.privateKey,
        scope: 'api1',
      }),
    );
    expect(res.statusCode).toBe(200);
    expect(res.json().scope).toBe('api1');
  });

  it('issues an RFC 9068 access token with the DESIGN.md claims, signed ES256 with a kid', async () => {
    const res = await token(cc(), { authorization: basicOf(ctx.seed.workspaceKeyA) });
    const jwt = res.json().access_token as string;
    const header = decodePart(jwt, 0);
    expect(header).toEqual({ alg: 'ES256', typ: 'at+jwt', kid: expect.any(String) });
    const claims = decodePart(jwt, 1);
    expect(claims).toEqual({
      iss: ctx.app.services.config.issuer,
      aud: 'api1',
      sub: ctx.seed.workspaceKeyA.key.publicKey,
      client_id: ctx.seed.workspaceKeyA.key.publicKey,
      scope: 'api1',
      iat: expect.any(Number),
      exp: expect.any(Number),
      jti: expect.any(String),
      tenant_id: ctx.seed.a.tenantId,
      workspace_id: ctx.seed.a.secondWorkspaceId,
      permissions: 'write',
    });
    expect((claims.exp as number) - (claims.iat as number)).toBe(3600);
  });

  it('gives api1 when no scope is requested (or an empty one)', async () => {
    for (const payload of [cc(), cc({ scope: '' })]) {
      const res = await token(payload, { authorization: basicOf(ctx.seed.orgKeyA) });
      expect(res.json().scope).toBe('api1');
    }
  });

  it.each([
    ['offline_access (no refresh token for this grant)', 'api1 offline_access'],
    ['an unknown scope', 'api1 admin'],
    ['only an unknown scope', 'openid'],
    ['a malformed scope', 'api1 "x"'],
    ['unicode', 'api1 ✓'],
  ])('refuses %s with invalid_scope', async (_name, scope) => {
    const res = await token(cc({ scope }), { authorization: basicOf(ctx.seed.orgKeyA) });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('invalid_scope');
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('decodes form-urlencoded Basic components (RFC 6749 2.3.1)', async () => {
    // Every character percent-encoded is still the same client_id and secret.
    const pct = (v: string) =>
      [...v].map((c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`).join('');
    const header = `Basic ${Buffer.from(`${pct(ctx.seed.orgKeyA.key.publicKey)}:${pct(ctx.seed.orgKeyA.privateKey)}`).toString('base64')}`;
    expect((await token(cc(), { authorization: header })).statusCode).toBe(200);
  });

  it('answers invalid_client 401 with a Basic challenge for a wrong secret or an unknown client', async () => {
    for (const authorization of [
      basicAuth(ctx.seed.orgKeyA.key.publicKey, ctx.seed.orgKeyB.privateKey),
      // An unknown client: the public key with its last character changed.
      basicAuth(tamperLast(ctx.seed.orgKeyB.key.publicKey), ctx.seed.orgKeyB.privateKey),
    ]) {
      const res = await token(cc(), { authorization });
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Basic /);
      expect(res.json()).toMatchObject({ error: 'invalid_client' });
    }
    const post_ = await token(
      cc({ client_id: ctx.seed.orgKeyA.key.publicKey, client_secret: ctx.seed.orgKeyB.privateKey }),
    );
    expect(post_.statusCode).toBe(401);
    expect(post_.json().error).toBe('invalid_client');
  });

  it('answers invalid_client without any client authentication, or with a client_id alone', async () => {
    for (const payload of [cc(), cc({ client_id: ctx.seed.orgKeyA.key.publicKey })]) {
      const res = await token(payload);
      expect(res.statusCode).toBe(401);
      expect(res.json().error).toBe('invalid_client');
    }
  });

  it.each([
    ['not base64', 'Basic !!!not-base64!!!'],
    ['an empty Basic', 'Basic '],
    ['another scheme', 'Bearer abc'],
    ['no colon', `Basic ${Buffer.from('gpk_only').toString('base64')}`],
    ['bad percent-encoding', `Basic ${Buffer.from('gpk_%zz:gsk_%').toString('base64')}`],
    ['an empty client_id', `Basic ${Buffer.from(':secret').toString('base64')}`],
    ['an empty secret', `Basic ${Buffer.from('gpk_abc:').toString('base64')}`],
    ['invalid UTF-8', `Basic ${Buffer.from([0xff, 0xfe, 0x3a, 0xc3, 0x28]).toString('base64')}`],
    ['unicode', `Basic ${Buffer.from('gpk_é💥:gsk_ÿ').toString('base64')}`],
    ['an injection string', `Basic ${Buffer.from("gpk_' OR 1=1 --:x").toString('base64')}`],
    ['a huge value', `Basic ${'A'.repeat(6000)}`],
  ])(
    'refuses a malformed Basic header (%s) with 401 invalid_client, never a 500',
    async (_name, authorization) => {
      const res = await token(cc(), { authorization });
      expect(res.statusCode).toBe(401);
      expect(res.json().error).toBe('invalid_client');
      expect(res.headers['www-authenticate']).toMatch(/^Basic /);
    },
  );

  it('refuses Basic and client_secret_post together with invalid_request (RFC 6749 2.3)', async () => {
    const res = await token(
      cc({ client_id: ctx.seed.orgKeyA.key.publicKey, client_secret: ctx.seed.orgKeyA.privateKey }),
      {
        authorization: basicOf(ctx.seed.orgKeyA),
      },
    );
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('invalid_request');
  });

  it('refuses a body client_id that differs from the Basic client_id', async () => {
    const res = await token(cc({ client_id: ctx.seed.orgKeyB.key.publicKey }), {
      authorization: basicOf(ctx.seed.orgKeyA),
    });
    expect(res.json().error).toBe('invalid_request');
  });

  it.each([
    ['grant_type', 'grant_type=client_credentials&grant_type=client_credentials'],
    ['scope', 'grant_type=client_credentials&scope=api1&scope=api1'],
    ['an empty repeat', 'grant_type=client_credentials&scope=&scope=api1'],
    ['client_secret', 'grant_type=client_credentials&client_secret=a&client_secret=b'],
  ])('refuses a repeated parameter (%s) with invalid_request (RFC 6749 3.2)', async (_name, payload) => {
    const res = await token(payload, { authorization: basicOf(ctx.seed.orgKeyA) });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('invalid_request');
  });

  it('refuses a missing grant_type with invalid_request and an unknown one with unsupported_grant_type', async () => {
    const missing = await token(form({ scope: 'api1' }), { authorization: basicOf(ctx.seed.orgKeyA) });
    expect(missing.json().error).toBe('invalid_request');
    for (const grantType of [
      'password',
      'authorization_code_x',
      'urn:ietf:params:oauth:grant-type:jwt-bearer',
    ]) {
      const res = await token(form({ grant_type: grantType }), { authorization: basicOf(ctx.seed.orgKeyA) });
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toBe('unsupported_grant_type');
    }
  });

  it.each([
    ['JSON', 'application/json', JSON.stringify({ grant_type: 'client_credentials' })],
    ['text', 'text/plain', 'grant_type=client_credentials'],
    ['multipart', 'multipart/form-data; boundary=x', '--x\r\n\r\n--x--'],
  ])('refuses a %s body with invalid_request', async (_name, type, payload) => {
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/connect/token',
      payload,
      headers: { 'content-type': type, authorization: basicOf(ctx.seed.orgKeyA) },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('invalid_request');
  });

  it('accepts a charset parameter on the form content type', async () => {
    const res = await token(cc(), {
      authorization: basicOf(ctx.seed.orgKeyA),
      'content-type': 'application/x-www-form-urlencoded; charset=UTF-8',
    });
    expect(res.statusCode).toBe(200);
  });

  it('refuses an oversized body with a 4xx OAuth error', async () => {
    const res = await token(`${cc()}&padding=${'x'.repeat(30_000)}`, {
      authorization: basicOf(ctx.seed.orgKeyA),
    });
    expect(res.statusCode).toBeGreaterThanOrEqual(400);
    expect(res.statusCode).toBeLessThan(500);
    expect(res.json().error).toBe('invalid_request');
  });

  it('ignores unknown parameters and survives odd values (RFC 6749 3.2)', async () => {
    const res = await token(`${cc()}&foo=%E2%9C%93&bar=%zz&%00=1`, {
      authorization: basicOf(ctx.seed.orgKeyA),
    });
    expect(res.statusCode).toBe(200);
  });

  it('still answers when an Origin header is present', async () => {
    const res = await token(cc(), {
      authorization: basicOf(ctx.seed.orgKeyA),
      origin: 'https://evil.example',
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('refuses a revoked key', async () => {
    const issued = await createApiKey(
      ctx.app.services.db,
      { tenantId: ctx.seed.a.tenantId, label: 'to revoke' },
      CLI_ACTOR,
    );
    expect((await token(cc(), { authorization: basicOf(issued) })).statusCode).toBe(200);
    await revokeApiKey(ctx.app.services.db, issued.key.publicKey, CLI_ACTOR);
    ctx.app.services.keys.invalidate(issued.key.id);
    const res = await token(cc(), { authorization: basicOf(issued) });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({ error: 'invalid_client', error_description: 'the API key is revoked' });
  });

  it('refuses an expired key', async () => {
    const issued = await createApiKey(
      ctx.app.services.db,
      { tenantId: ctx.seed.a.tenantId, label: 'short-lived', expiresInMs: 50 },
      CLI_ACTOR,
    );
    await wait(80);
    const res = await token(cc(), { authorization: basicOf(issued) });
    expect(res.statusCode).toBe(401);
    expect(res.json().error).toBe('invalid_client');
  });

  it("accepts a rotated key's old secret during its grace period only", async () => {
    const issued = await createApiKey(
      ctx.app.services.db,
      { tenantId: ctx.seed.a.tenantId, label: 'rotating' },
      CLI_ACTOR,
    );
    const rotated = await rotateApiKey(ctx.app.services.db, issued.key.publicKey, 300, CLI_ACTOR);
    ctx.app.services.keys.invalidate(issued.key.id);
    expect((await token(cc(), { authorization: basicOf(issued) })).statusCode).toBe(200);
    expect((await token(cc(), { authorization: basicOf(rotated) })).statusCode).toBe(200);
    await wait(350);
    const old = await token(cc(), { authorization: basicOf(issued) });
    expect(old.statusCode).toBe(401);
    expect(old.json().error).toBe('invalid_client');
    expect((await token(cc(), { authorization: basicOf(rotated) })).statusCode).toBe(200);
  });

  it.each([
    ['SQL', "' OR 1=1 --"],
    ['markup', '<script>alert(1)</script>'],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal text of a log4shell-style lookup.
    ['a lookup string', '${jndi:ldap://x/a}'],
    ['a NUL byte', 'a\u0000b'],
    ['a path', '../../etc/passwd'],
    ['unicode', 'ÿ💥\u202e'],
  ])(
    'answers %s in any parameter with a 4xx in the OAuth format, never reflecting it',
    async (_name, evil) => {
      const auth = { authorization: basicOf(ctx.seed.orgKeyA) };
      const cases = [
        [await token(form({ grant_type: evil }), auth), 400, 'unsupported_grant_type'],
        [await token(cc({ scope: `api1 ${evil}` }), auth), 400, 'invalid_scope'],
        [await token(cc({ client_id: evil, client_secret: evil })), 401, 'invalid_client'],
        [await token(cc(), { authorization: basicAuth(evil, evil) }), 401, 'invalid_client'],
        [await postForm(ctx.app, '/connect/introspect', form({ token: evil }), auth), 200, undefined],
        [await postForm(ctx.app, '/connect/revocation', form({ token: evil }), auth), 200, undefined],
      ] as const;
      for (const [res, status, error] of cases) {
        // Input screening may refuse a value (a NUL byte) before the endpoint does: invalid_request then.
        if (res.statusCode === 400 && res.json().error === 'invalid_request') continue;
        expect(res.statusCode).toBe(status);
        if (error) expect(res.json().error).toBe(error);
        expect(res.body).not.toContain(evil);
      }
    },
  );

  it('never echoes the secret in an error', async () => {
    const wrong = ctx.seed.orgKeyB.privateKey;
    const res = await token(cc({ client_id: ctx.seed.orgKeyA.key.publicKey, client_secret: wrong }));
    expect(res.body).not.toContain(wrong);
  });
});
