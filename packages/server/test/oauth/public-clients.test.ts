import { decodeJwt } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { type CreatedApiKey, createApiKey, revokeApiKey } from '../../src/domain/api-keys.ts';
import { CLI_ACTOR } from '../../src/domain/audit.ts';
import { issueAuthorizationCode } from '../../src/domain/authorization-codes.ts';
import { generatePrivateKey } from '../../src/domain/key-format.ts';
import { Browser, pkcePair, publicTokenRequest, tokenRequest } from '../helpers/authorization-flow.ts';
import { basicAuth, eventually, postForm, wait } from '../helpers/http.ts';
import { PASSWORD } from '../helpers/seed.ts';
import { useSeededApp } from '../helpers/seeded-app.ts';
import { describeEachDialect } from '../helpers/test-app.ts';
import { basicOf, OAUTH_ENV } from './oauth-helpers.ts';

const REDIRECT = 'https://public-spa.example/callback';
const SPA_ORIGIN = 'https://public-spa.example';
const EVIL_ORIGIN = 'https://evil.example';
const OWNER_A = { email: 'owner@a.test', password: PASSWORD };

interface Tokens {
  access_token: string;
  refresh_token: string;
  scope: string;
}

/**
 * Public clients (DESIGN.md 1 "Client type", RFC 6749 2.1 and 3.2.1, RFC 7636, RFC 8252, RFC 9700
 * 2.1.1): a single-page or native app has no secret, so it authenticates by its client_id alone
 * (`none`), PKCE binds its codes, and it can do nothing a secret would be needed for.
 */
describeEachDialect('public clients', (dialect) => {
  const ctx = useSeededApp(dialect, OAUTH_ENV);
  let owner: Browser;
  let spa: CreatedApiKey;
  let otherPublic: CreatedApiKey;
  let confidential: { publicKey: string; privateKey: string };

  beforeAll(async () => {
    const db = ctx.app.services.db;
    spa = await createApiKey(
      db,
      {
        tenantId: ctx.seed.a.tenantId,
        label: 'Single-page app',
        clientType: 'public',
        redirectUris: [REDIRECT, 'http://127.0.0.1/callback', 'http://[::1]/callback'],
        corsOrigins: [SPA_ORIGIN],
      },
      CLI_ACTOR,
    );
    otherPublic = await createApiKey(
      db,
      { tenantId: ctx.seed.a.tenantId, label: 'Other SPA', clientType: 'public', redirectUris: [REDIRECT] },
      CLI_ACTOR,
    );
    const issued = await createApiKey(
      db,
      { tenantId: ctx.seed.a.tenantId, label: 'Web server app', redirectUris: [REDIRECT] },
      CLI_ACTOR,
    );
    confidential = { publicKey: issued.key.publicKey, privateKey: issued.privateKey };
    await ctx.app.services.origins.refresh();
    owner = new Browser(ctx.app);
    await owner.signIn(OWNER_A.email, OWNER_A.password);
  });

  /** A code for `clientId` with an S256 challenge, and the verifier that redeems it. */
  async function codeWithPkce(
    clientId = spa.key.publicKey,
    extra: Record<string, string> = {},
  ): Promise<{ code: string; verifier: string; location: URL }> {
    const { verifier, challenge } = pkcePair();
    const { location, res } = await owner.authorize({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: REDIRECT,
      scope: 'api1 offline_access',
      state: 'st',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      ...extra,
    });
    const code = location?.searchParams.get('code');
    if (!code || !location)
      throw new Error(`no code: ${res.statusCode} ${res.headers.location ?? res.body.slice(0, 300)}`);
    return { code, verifier, location };
  }

  const exchange = (
    code: string,
    verifier: string,
    clientId = spa.key.publicKey,
    headers: Record<string, string> = {},
  ) =>
    publicTokenRequest(
      ctx.app,
      clientId,
      { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier },
      headers,
    );
  const refresh = (token: string, clientId = spa.key.publicKey) =>
    publicTokenRequest(ctx.app, clientId, { grant_type: 'refresh_token', refresh_token: token });

  async function tokens(): Promise<Tokens> {
    const { code, verifier } = await codeWithPkce();
    const res = await exchange(code, verifier);
    expect(res.statusCode, res.body).toBe(200);
    return res.json();
  }

  const me = (token: string) => ctx.app.inject({ url: '/me', headers: { authorization: `Bearer ${token}` } });

  function expectInvalidClient(res: {
    statusCode: number;
    headers: Record<string, unknown>;
    json(): unknown;
  }) {
    expect(res.statusCode).toBe(401);
    expect(String(res.headers['www-authenticate'])).toMatch(/^Basic /);
    expect(res.json()).toMatchObject({ error: 'invalid_client' });
  }

  describe('the code flow with client_id alone', () => {
    it('exchanges a PKCE S256 code with client_id alone, and the token works at /me', async () => {
      const { code, verifier, location } = await codeWithPkce();
      expect(location.searchParams.get('state')).toBe('st');
      const res = await exchange(code, verifier);
      expect(res.statusCode).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      const body = res.json();
      expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'api1 offline_access' });
      expect(body.refresh_token).toMatch(/^grt_/);
      expect(decodeJwt(body.access_token)).toMatchObject({
        client_id: spa.key.publicKey,
        sub: String(ctx.seed.a.userId),
        tenant_id: ctx.seed.a.tenantId,
      });
      const who = await me(body.access_token);
      expect(who.statusCode).toBe(200);
      expect(who.json()).toMatchObject({
        authMethod: 'bearer',
        apiKey: { publicKey: spa.key.publicKey, label: 'Single-page app' },
        user: { email: 'owner@a.test' },
      });
    });

    it('refreshes with client_id alone: the refresh token rotates and the old one dies', async () => {
      const first = await tokens();
      const res = await refresh(first.refresh_token);
      expect(res.statusCode).toBe(200);
      const second: Tokens = res.json();
      expect(second.refresh_token).not.toBe(first.refresh_token);
      expect((await me(second.access_token)).statusCode).toBe(200);
      expect((await refresh(second.refresh_token)).statusCode).toBe(200);
    });

    it("revokes the whole family when a public client's rotated refresh token is presented again", async () => {
      const first = await tokens();
      const second: Tokens = (await refresh(first.refresh_token)).json();
      const reuse = await refresh(first.refresh_token);
      expect(reuse.statusCode).toBe(400);
      expect(reuse.json()).toMatchObject({ error: 'invalid_grant' });
      expect((await refresh(second.refresh_token)).json().error).toBe('invalid_grant');
      expect(await eventually(async () => (await me(second.access_token)).statusCode === 401)).toBe(true);
      const audit = await ctx.app.services.db
        .selectFrom('audit_events')
        .select(['actor', 'tenant_id'])
        .where('action', '=', 'refresh_token.reused')
        .where('actor', '=', `key:${spa.key.publicKey}`)
        .execute();
      expect(audit.length).toBeGreaterThan(0);
    });

    it("binds the refresh token to the public client: another client's client_id or secret cannot use it", async () => {
      const { refresh_token } = await tokens();
      const byOtherPublic = await refresh(refresh_token, otherPublic.key.publicKey);
      expect(byOtherPublic.json()).toMatchObject({ error: 'invalid_grant' });
      const byConfidential = await tokenRequest(ctx.app, confidential, {
        grant_type: 'refresh_token',
        refresh_token,
      });
      expect(byConfidential.json()).toMatchObject({ error: 'invalid_grant' });
      // Neither attempt burned it.
      expect((await refresh(refresh_token)).statusCode).toBe(200);
    });
  });

  describe('what a public client cannot do', () => {
    it('refuses client_credentials for a public client by client_id alone: unauthorized_client', async () => {
      const res = await publicTokenRequest(ctx.app, spa.key.publicKey, {
        grant_type: 'client_credentials',
        scope: 'api1',
      });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({
        error: 'unauthorized_client',
        error_description:
          'a public client cannot use client credentials: it has no secret; use the authorization code flow with PKCE',
      });
    });

    it.each([
      [
        'Basic with an empty secret',
        () => `Basic ${Buffer.from(`${spa.key.publicKey}:`).toString('base64')}`,
      ],
      ['Basic with a made-up secret', () => basicAuth(spa.key.publicKey, 'anything')],
      ['Basic with a well-formed secret', () => basicAuth(spa.key.publicKey, generatePrivateKey())],
    ])('refuses a public client trying client_credentials with %s: invalid_client', async (_name, header) => {
      const res = await postForm(
        ctx.app,
        '/connect/token',
        { grant_type: 'client_credentials' },
        { authorization: header() },
      );
      expectInvalidClient(res);
    });

    it('refuses a public client trying client_credentials with client_secret_post: invalid_client', async () => {
      for (const secret of ['anything', generatePrivateKey()]) {
        const res = await postForm(ctx.app, '/connect/token', {
          grant_type: 'client_credentials',
          client_id: spa.key.publicKey,
          client_secret: secret,
        });
        expectInvalidClient(res);
      }
    });

    it('tells a public client that presents a well-formed secret that it has none to present', async () => {
      const res = await postForm(
        ctx.app,
        '/connect/token',
        { grant_type: 'client_credentials' },
        { authorization: basicAuth(spa.key.publicKey, generatePrivateKey()) },
      );
      expect(res.json().error_description).toMatch(/public client: it has no client_secret/);
    });

    it('refuses a public client that presents a secret with its code exchange, and leaves the code usable', async () => {
      const { code, verifier } = await codeWithPkce();
      const res = await postForm(
        ctx.app,
        '/connect/token',
        { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier },
        { authorization: basicAuth(spa.key.publicKey, generatePrivateKey()) },
      );
      expectInvalidClient(res);
      expect((await exchange(code, verifier)).statusCode).toBe(200);
    });

    it('has no private key, so no X-API-Key: its public key or any made-up secret is 401', async () => {
      const secrets = await ctx.app.services.db
        .selectFrom('api_key_secrets')
        .select('id')
        .where('api_key_id', '=', spa.key.id)
        .execute();
      expect(secrets).toEqual([]);
      for (const value of [spa.key.publicKey, generatePrivateKey(), `${spa.key.publicKey}:`, '']) {
        const res = await ctx.app.inject({ url: '/me', headers: { 'x-api-key': value } });
        expect(res.statusCode, value).toBe(401);
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      }
    });

    it('refuses introspection to a public client, even of its own live token: invalid_client', async () => {
      const { access_token } = await tokens();
      const byId = await postForm(ctx.app, '/connect/introspect', {
        token: access_token,
        client_id: spa.key.publicKey,
      });
      expectInvalidClient(byId);
      expect(byId.json().error_description).toMatch(/confidential client/);
      const bySecret = await postForm(
        ctx.app,
        '/connect/introspect',
        { token: access_token },
        { authorization: basicAuth(spa.key.publicKey, generatePrivateKey()) },
      );
      expectInvalidClient(bySecret);
      // A confidential client still introspects as before (its own tokens only).
      const byConfidential = await postForm(
        ctx.app,
        '/connect/introspect',
        { token: access_token },
        { authorization: basicAuth(confidential.publicKey, confidential.privateKey) },
      );
      expect(byConfidential.json()).toEqual({ active: false });
    });

    it('refuses a revoked public client and an expired one', async () => {
      const db = ctx.app.services.db;
      const doomed = await createApiKey(
        db,
        { tenantId: ctx.seed.a.tenantId, clientType: 'public', redirectUris: [REDIRECT] },
        CLI_ACTOR,
      );
      const { code, verifier } = await codeWithPkce(doomed.key.publicKey);
      await revokeApiKey(db, doomed.key.publicKey, CLI_ACTOR);
      ctx.app.services.keys.invalidate(doomed.key.id);
      const revoked = await exchange(code, verifier, doomed.key.publicKey);
      expectInvalidClient(revoked);
      expect(revoked.json().error_description).toBe('the API key is revoked');

      const shortLived = await createApiKey(
        db,
        { tenantId: ctx.seed.a.tenantId, clientType: 'public', redirectUris: [REDIRECT], expiresInMs: 50 },
        CLI_ACTOR,
      );
      await wait(80);
      const expired = await publicTokenRequest(ctx.app, shortLived.key.publicKey, {
        grant_type: 'refresh_token',
        refresh_token: 'grt_x',
      });
      expectInvalidClient(expired);
      expect(expired.json().error_description).toBe('the API key has expired');
    });

    it('refuses a client_id that cannot be a public key without looking it up', async () => {
      const lookups = { ...ctx.app.services.keys.stats.lookups.client };
      for (const clientId of ["'; drop table api_keys; --", 'gpk_short', 'x'.repeat(5000), 'gpk_é💥']) {
        const res = await publicTokenRequest(ctx.app, clientId, {
          grant_type: 'refresh_token',
          refresh_token: 'r',
        });
        expectInvalidClient(res);
      }
      expect(ctx.app.services.keys.stats.lookups.client).toEqual(lookups);
    });

    it('answers an unknown public key as invalid_client', async () => {
      const res = await publicTokenRequest(ctx.app, 'gpk_AAAAAAAAAAAAAAAAAAAAAAAA', {
        grant_type: 'authorization_code',
        code: 'gac_x',
      });
      expectInvalidClient(res);
      expect(res.json().error_description).toBe('the API key is not valid');
    });
  });

  describe('a confidential client must prove its secret', () => {
    it.each(['client_credentials', 'refresh_token', 'authorization_code'])(
      'refuses a confidential client that sends its client_id alone (%s): invalid_client',
      async (grantType) => {
        const res = await publicTokenRequest(ctx.app, confidential.publicKey, {
          grant_type: grantType,
          code: 'gac_x',
          refresh_token: 'grt_x',
          redirect_uri: REDIRECT,
        });
        expectInvalidClient(res);
        expect(res.json().error_description).toMatch(
          /confidential client: authenticate with its client_secret/,
        );
      },
    );

    it('does not let a stolen code of a confidential client be redeemed with its client_id alone, nor burn it', async () => {
      const { code, verifier } = await codeWithPkce(confidential.publicKey);
      const stolen = await exchange(code, verifier, confidential.publicKey);
      expectInvalidClient(stolen);
      const rightful = await tokenRequest(ctx.app, confidential, {
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT,
        code_verifier: verifier,
      });
      expect(rightful.statusCode).toBe(200);
    });

    it('refuses the seeded confidential key with client_id alone too, and keeps its Basic authentication', async () => {
      expectInvalidClient(
        await publicTokenRequest(ctx.app, ctx.seed.orgKeyA.key.publicKey, {
          grant_type: 'client_credentials',
        }),
      );
      const res = await postForm(
        ctx.app,
        '/connect/token',
        { grant_type: 'client_credentials' },
        { authorization: basicOf(ctx.seed.orgKeyA) },
      );
      expect(res.statusCode).toBe(200);
    });
  });

  describe('PKCE binds a public client’s code', () => {
    it('refuses a public client without PKCE at /connect/authorize with an error redirect (invalid_request)', async () => {
      const { location } = await owner.authorize({
        response_type: 'code',
        client_id: spa.key.publicKey,
        redirect_uri: REDIRECT,
        scope: 'api1',
        state: 'no-pkce',
      });
      expect(location?.origin + (location?.pathname ?? '')).toBe(REDIRECT);
      expect(location?.searchParams.get('error')).toBe('invalid_request');
      expect(location?.searchParams.get('error_description')).toMatch(/PKCE/);
      expect(location?.searchParams.get('state')).toBe('no-pkce');
      expect(location?.searchParams.get('code')).toBeNull();
    });

    it('refuses the plain method for a public client (RFC 9700 2.1.1)', async () => {
      const { location } = await owner.authorize({
        response_type: 'code',
        client_id: spa.key.publicKey,
        redirect_uri: REDIRECT,
        scope: 'api1',
        code_challenge: 'a'.repeat(43),
        code_challenge_method: 'plain',
      });
      expect(location?.searchParams.get('error')).toBe('invalid_request');
      expect(location?.searchParams.get('code')).toBeNull();
    });

    it("refuses a public client's code redeemed by another client_id, and leaves it to its own client", async () => {
      const { code, verifier } = await codeWithPkce();
      const byOther = await exchange(code, verifier, otherPublic.key.publicKey);
      expect(byOther.statusCode).toBe(400);
      expect(byOther.json()).toEqual({
        error: 'invalid_grant',
        error_description: 'the authorization code was issued to another client',
      });
      const byConfidential = await tokenRequest(ctx.app, confidential, {
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT,
        code_verifier: verifier,
      });
      expect(byConfidential.json().error).toBe('invalid_grant');
      expect((await exchange(code, verifier)).statusCode).toBe(200);
    });

    it('refuses a code_verifier that does not match, and a missing one', async () => {
      const { code, verifier } = await codeWithPkce();
      const wrong = await exchange(code, pkcePair().verifier);
      expect(wrong.json()).toEqual({
        error: 'invalid_grant',
        error_description: 'code_verifier does not match',
      });
      const missing = await publicTokenRequest(ctx.app, spa.key.publicKey, {
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT,
      });
      expect(missing.json().error).toBe('invalid_grant');
      expect((await exchange(code, verifier)).statusCode).toBe(200);
    });

    it("refuses a public client's code that has no PKCE challenge (defence in depth)", async () => {
      // The authorization endpoint never issues one; a code made behind its back still does not work.
      const code = await issueAuthorizationCode(ctx.app.services.db, {
        apiKeyId: spa.key.id,
        userId: ctx.seed.a.userId,
        redirectUri: REDIRECT,
        scope: 'api1',
        codeChallenge: null,
        nonce: null,
        authTime: null,
        sid: null,
      });
      const res = await publicTokenRequest(ctx.app, spa.key.publicKey, {
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT,
      });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({
        error: 'invalid_grant',
        error_description: 'a public client must use PKCE: this code has no code_challenge',
      });
    });
  });

  describe('revocation by client_id alone (RFC 7009 2.1)', () => {
    const revoke = (token: string, clientId = spa.key.publicKey, headers: Record<string, string> = {}) =>
      postForm(ctx.app, '/connect/revocation', { token, client_id: clientId }, headers);

    it('lets a public client revoke its own refresh token, which takes the grant along', async () => {
      const { access_token, refresh_token } = await tokens();
      const res = await revoke(refresh_token);
      expect(res.statusCode).toBe(200);
      expect((await refresh(refresh_token)).json().error).toBe('invalid_grant');
      expect(await eventually(async () => (await me(access_token)).statusCode === 401)).toBe(true);
    });

    it('lets a public client revoke its own access token', async () => {
      const { access_token } = await tokens();
      expect((await revoke(access_token)).statusCode).toBe(200);
      expect(await eventually(async () => (await me(access_token)).statusCode === 401)).toBe(true);
    });

    it("does not let a public client revoke another client's tokens (200, token untouched)", async () => {
      const { access_token, refresh_token } = await tokens();
      expect((await revoke(refresh_token, otherPublic.key.publicKey)).statusCode).toBe(200);
      expect((await revoke(access_token, otherPublic.key.publicKey)).statusCode).toBe(200);
      expect((await me(access_token)).statusCode).toBe(200);
      expect((await refresh(refresh_token)).statusCode).toBe(200);
    });

    it('refuses revocation by a confidential client_id alone: invalid_client', async () => {
      expectInvalidClient(await revoke('grt_x', confidential.publicKey));
    });
  });

  describe('CORS for the public client’s origins', () => {
    it('names the SPA origin on the token response, and on a grant error after authentication', async () => {
      const { code, verifier } = await codeWithPkce();
      const ok = await exchange(code, verifier, spa.key.publicKey, { origin: SPA_ORIGIN });
      expect(ok.statusCode).toBe(200);
      expect(ok.headers['access-control-allow-origin']).toBe(SPA_ORIGIN);
      expect(ok.headers.vary).toMatch(/Origin/);
      const failed = await exchange(code, verifier, spa.key.publicKey, { origin: SPA_ORIGIN });
      expect(failed.statusCode).toBe(400);
      expect(failed.headers['access-control-allow-origin']).toBe(SPA_ORIGIN);
    });

    it('sends no CORS header to an origin the public key does not allow', async () => {
      const { code, verifier } = await codeWithPkce();
      const res = await exchange(code, verifier, spa.key.publicKey, { origin: EVIL_ORIGIN });
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
      // Another public client of the same tenant does not lend its origins either.
      const other = await publicTokenRequest(
        ctx.app,
        otherPublic.key.publicKey,
        { grant_type: 'refresh_token', refresh_token: 'grt_x' },
        { origin: SPA_ORIGIN },
      );
      expect(other.headers['access-control-allow-origin']).toBeUndefined();
    });

    it('names the SPA origin on the revocation response', async () => {
      const { refresh_token } = await tokens();
      const res = await postForm(
        ctx.app,
        '/connect/revocation',
        { token: refresh_token, client_id: spa.key.publicKey },
        { origin: SPA_ORIGIN },
      );
      expect(res.statusCode).toBe(200);
      expect(res.headers['access-control-allow-origin']).toBe(SPA_ORIGIN);
    });

    it.each(['/connect/token', '/connect/revocation'])(
      'answers the preflight of %s for an origin only a public key allows',
      async (url) => {
        const res = await ctx.app.inject({
          method: 'OPTIONS',
          url,
          headers: {
            origin: SPA_ORIGIN,
            'access-control-request-method': 'POST',
            'access-control-request-headers': 'content-type',
          },
        });
        expect(res.statusCode).toBe(204);
        expect(res.headers['access-control-allow-origin']).toBe(SPA_ORIGIN);
        expect(res.headers['access-control-allow-methods']).toMatch(/POST/);
        const evil = await ctx.app.inject({
          method: 'OPTIONS',
          url,
          headers: { origin: EVIL_ORIGIN, 'access-control-request-method': 'POST' },
        });
        expect(evil.headers['access-control-allow-origin']).toBeUndefined();
      },
    );

    it('never answers CORS on the introspection endpoint, even to the public client’s origin', async () => {
      const res = await ctx.app.inject({
        method: 'OPTIONS',
        url: '/connect/introspect',
        headers: { origin: SPA_ORIGIN, 'access-control-request-method': 'POST' },
      });
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    });
  });

  describe('loopback redirect URIs of native apps (RFC 8252 7.3)', () => {
    async function authorizeAt(redirectUri: string) {
      const { verifier, challenge } = pkcePair();
      const res = await owner.get(
        `/connect/authorize?${new URLSearchParams({
          response_type: 'code',
          client_id: spa.key.publicKey,
          redirect_uri: redirectUri,
          scope: 'api1',
          code_challenge: challenge,
          code_challenge_method: 'S256',
        })}`,
      );
      return { res, verifier };
    }

    it.each([
      ['http://127.0.0.1:51234/callback', 'http://127.0.0.1/callback'],
      ['http://[::1]:8080/callback', 'http://[::1]/callback'],
    ])('accepts %s, registered as %s, and the exchange must repeat it with its port', async (used) => {
      const { res, verifier } = await authorizeAt(used);
      expect(res.statusCode).toBe(303);
      const location = new URL(res.headers.location as string);
      expect(`${location.origin}${location.pathname}`).toBe(used);
      const code = location.searchParams.get('code') as string;
      expect(code).toMatch(/^gac_/);
      const registered = used.replace(/:\d+\//, '/');
      const otherPort = used.replace(/:\d+\//, ':9/');
      for (const redirectUri of [registered, otherPort]) {
        const res2 = await publicTokenRequest(ctx.app, spa.key.publicKey, {
          grant_type: 'authorization_code',
          code,
          redirect_uri: redirectUri,
          code_verifier: verifier,
        });
        expect(res2.json(), redirectUri).toEqual({
          error: 'invalid_grant',
          error_description: 'redirect_uri does not match the authorization request',
        });
      }
      const ok = await publicTokenRequest(ctx.app, spa.key.publicKey, {
        grant_type: 'authorization_code',
        code,
        redirect_uri: used,
        code_verifier: verifier,
      });
      expect(ok.statusCode).toBe(200);
    });

    it.each([
      ['localhost instead of the IP literal', 'http://localhost:51234/callback'],
      ['another path', 'http://127.0.0.1:51234/other'],
      ['a longer path', 'http://127.0.0.1:51234/callback/evil'],
      ['a host that starts like the loopback address', 'http://127.0.0.1.evil.test/callback'],
      ['the same with a port', 'http://127.0.0.1.evil.test:51234/callback'],
      ['userinfo before the loopback address', 'http://127.0.0.1@evil.test/callback'],
      ['https where http was registered', 'https://127.0.0.1:5/callback'],
      ['an empty port', 'http://127.0.0.1:/callback'],
      ['the IPv6 loopback for an IPv4 registration path', 'http://[::1]:51234/other'],
      ['another loopback address', 'http://127.0.0.2:51234/callback'],
    ])('refuses %s with an error page, never a redirect', async (_name, redirectUri) => {
      const { res } = await authorizeAt(redirectUri);
      expect(res.statusCode).toBe(400);
      expect(res.headers.location).toBeUndefined();
      expect(res.body).toContain('The redirect URI is not registered for this application.');
    });

    it('refuses a port that no URL can carry with a 4xx, never a 500', async () => {
      const { res } = await authorizeAt('http://127.0.0.1:99999/callback');
      expect(res.statusCode).toBeGreaterThanOrEqual(400);
      expect(res.statusCode).toBeLessThan(500);
      expect(res.headers.location).toBeUndefined();
    });
  });
});

/** DESIGN.md 3 rule 9 for a client that proves nothing but its client_id, which anyone can send. */
describeEachDialect('the token budget of a public client', (dialect) => {
  const ctx = useSeededApp(dialect, { GATEHOUSE_RATE_LIMIT: '3', GATEHOUSE_TOKEN_RATE_LIMIT: '1000000' });

  it('is per address: requests naming it from one address cannot spend the budget of its other users', async () => {
    const spa = await createApiKey(
      ctx.app.services.db,
      { tenantId: ctx.seed.a.tenantId, clientType: 'public', redirectUris: [REDIRECT] },
      CLI_ACTOR,
    );
    const attempt = (remoteAddress: string) =>
      postForm(
        ctx.app,
        '/connect/token',
        { grant_type: 'refresh_token', refresh_token: 'grt_x', client_id: spa.key.publicKey },
        {},
        { remoteAddress },
      );
    for (let i = 0; i < 3; i++) expect((await attempt('203.0.113.70')).json().error).toBe('invalid_grant');
    const spent = await attempt('203.0.113.70');
    expect(spent.statusCode).toBe(429);
    expect(spent.json().error).toBe('rate_limited');
    const user = await attempt('203.0.113.71');
    expect(user.statusCode).toBe(400);
    expect(user.json().error).toBe('invalid_grant');
    expect(user.headers['ratelimit-remaining']).toBe('2');
  });
});
