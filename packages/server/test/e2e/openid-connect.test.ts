import { createHash } from 'node:crypto';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CreatedApiKey, createApiKey, type NewApiKeyInput } from '../../src/domain/api-keys.ts';
import { CLI_ACTOR } from '../../src/domain/audit.ts';
import { FetchAgent } from '../helpers/fetch-agent.ts';
import { type ListeningTestApp, listenTestApp } from '../helpers/http.ts';
import { PASSWORD, seed } from '../helpers/seed.ts';
import { describeEachDialect } from '../helpers/test-app.ts';

const REDIRECT = 'https://app.example/callback';
const LOGGED_OUT = 'https://app.example/signed-out';
const OWNER_A = { email: 'owner@a.test', password: PASSWORD };
const SCOPE = 'openid profile email api1 offline_access';
/** The development issuer is plain http on loopback; production issuers are https. */
const INSECURE = { execute: [client.allowInsecureRequests] };

/** OpenID Connect Core 3.1.3.6: base64url of the left half of the SHA-256 of the access token. */
const atHash = (accessToken: string) =>
  createHash('sha256').update(accessToken, 'ascii').digest().subarray(0, 16).toString('base64url');

describeEachDialect('OpenID Connect: openid-client v6 and oauth4webapi in strict mode', (dialect) => {
  let server: ListeningTestApp;
  let issuer: string;
  let confidential: CreatedApiKey;
  let publicApp: CreatedApiKey;
  let es256App: CreatedApiKey;
  let otherApp: CreatedApiKey;

  beforeAll(async () => {
    server = await listenTestApp(dialect);
    issuer = server.issuer;
    const s = await seed(server.app.services.db);
    const app = (input: Omit<NewApiKeyInput, 'tenantId'>) =>
      createApiKey(
        server.app.services.db,
        { tenantId: s.a.tenantId, redirectUris: [REDIRECT], postLogoutRedirectUris: [LOGGED_OUT], ...input },
        CLI_ACTOR,
      );
    confidential = await app({ label: 'Relying party' });
    publicApp = await app({ label: 'Single-page app', clientType: 'public' });
    es256App = await app({ label: 'ES256 app', idTokenSignedResponseAlg: 'ES256' });
    otherApp = await app({ label: 'Another app' });
  });
  afterAll(async () => {
    await server?.close();
  });

  /** openid-client's configuration for a key: a secret when it has one, `none` for a public client. */
  async function configFor(key: CreatedApiKey, metadata: Partial<client.ClientMetadata> = {}) {
    const auth = key.privateKey ? client.ClientSecretBasic(key.privateKey) : client.None();
    const config = await client.discovery(new URL(issuer), key.key.publicKey, metadata, auth, INSECURE);
    // Strict: every ID token's signature is checked against the JWKS, not only its claims.
    client.enableNonRepudiationChecks(config);
    return config;
  }

  /** One sign-in through the front channel with fresh PKCE, state and nonce. */
  async function signIn(config: client.Configuration, agent = new FetchAgent(), extra = {}) {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: SCOPE,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      ...extra,
    });
    const { callback } = await agent.authorize(url.href, issuer, OWNER_A);
    return { agent, callback, verifier, state, nonce };
  }

  it('discovers an OpenID Provider that lists exactly what it supports', async () => {
    const metadata = (await configFor(confidential)).serverMetadata();
    expect(metadata).toMatchObject({
      issuer,
      userinfo_endpoint: `${issuer}/connect/userinfo`,
      end_session_endpoint: `${issuer}/connect/endsession`,
      id_token_signing_alg_values_supported: ['RS256', 'ES256'],
      subject_types_supported: ['public'],
      response_types_supported: ['code'],
      code_challenge_methods_supported: ['S256'],
    });
    expect(metadata.scopes_supported).toEqual(['api1', 'openid', 'profile', 'email', 'offline_access']);
  });

  for (const kind of ['confidential', 'public'] as const) {
    it(`runs the whole flow as a ${kind} client: code with PKCE, nonce and state, ID token, userinfo, refresh, logout`, async () => {
      const key = kind === 'public' ? publicApp : confidential;
      const config = await configFor(key);
      const before = Math.floor(Date.now() / 1000);
      const { agent, callback, verifier, state, nonce } = await signIn(config, new FetchAgent(), {
        max_age: '300',
      });
      const tokens = await client.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: verifier,
        expectedState: state,
        expectedNonce: nonce,
        maxAge: 300,
      });
      const claims = tokens.claims();
      if (!claims) throw new Error('no ID token');
      expect(claims).toMatchObject({
        iss: issuer,
        aud: key.key.publicKey,
        nonce,
        email: 'owner@a.test',
        email_verified: false,
        at_hash: atHash(tokens.access_token),
      });
      expect(claims.sub).toMatch(/^\d+$/);
      expect(claims.sid).toEqual(expect.any(String));
      expect(claims.auth_time).toBeGreaterThanOrEqual(before - 1);
      expect(claims.exp - claims.iat).toBe(3600);
      // RS256 by default (OpenID Connect Core 15.1), verifiable with the published keys alone.
      const { protectedHeader } = await jwtVerify(
        tokens.id_token as string,
        createRemoteJWKSet(new URL(`${issuer}/.well-known/openid-configuration/jwks`)),
        { issuer, audience: key.key.publicKey, algorithms: ['RS256'] },
      );
      expect(protectedHeader).toMatchObject({ alg: 'RS256', typ: 'JWT' });

      const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
      expect(userinfo).toMatchObject({ sub: claims.sub, email: 'owner@a.test', email_verified: false });
      const me = await fetch(`${issuer}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
      expect(me.status).toBe(200);

      const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token as string);
      expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);

      const logout = client.buildEndSessionUrl(config, {
        id_token_hint: tokens.id_token as string,
        post_logout_redirect_uri: LOGGED_OUT,
        state: 'bye',
      });
      const { leftFor } = await agent.follow(await agent.request(logout.href), issuer);
      expect(leftFor?.href).toBe(`${LOGGED_OUT}?state=bye`);
      // The session is over: a silent request now needs a sign-in.
      const silent = client.buildAuthorizationUrl(config, {
        redirect_uri: REDIRECT,
        scope: 'openid',
        prompt: 'none',
        code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
        code_challenge_method: 'S256',
      });
      const { leftFor: refused } = await agent.follow(await agent.request(silent.href), issuer);
      expect(refused?.searchParams.get('error')).toBe('login_required');
    });
  }

  it('signs ID tokens with ES256 for a key registered so, and a client expecting RS256 refuses them', async () => {
    const es256 = await configFor(es256App, { id_token_signed_response_alg: 'ES256' });
    const first = await signIn(es256);
    const tokens = await client.authorizationCodeGrant(es256, first.callback, {
      pkceCodeVerifier: first.verifier,
      expectedState: first.state,
      expectedNonce: first.nonce,
    });
    expect(decodeProtectedHeader(tokens.id_token as string).alg).toBe('ES256');

    // Algorithm confusion: the relying party pinned RS256, the server signed with ES256 as registered.
    const pinned = await configFor(es256App, { id_token_signed_response_alg: 'RS256' });
    const second = await signIn(pinned);
    const refused = await client
      .authorizationCodeGrant(pinned, second.callback, {
        pkceCodeVerifier: second.verifier,
        expectedState: second.state,
        expectedNonce: second.nonce,
      })
      .then(
        () => null,
        (error: Error) => error,
      );
    // openid-client wraps the reason: the JWS algorithm is not the one this client registered.
    expect((refused?.cause as Error | undefined)?.message).toMatch(/unexpected JWT "alg"/);
  });

  describe('oauth4webapi', () => {
    /** A code exchanged by hand, returning the token endpoint's raw response for oauth4webapi to process. */
    async function exchange(key: CreatedApiKey, nonce: string) {
      const as = await oauth.processDiscoveryResponse(
        new URL(issuer),
        await oauth.discoveryRequest(new URL(issuer), { [oauth.allowInsecureRequests]: true }),
      );
      const oauthClient: oauth.Client = { client_id: key.key.publicKey };
      const auth = key.privateKey ? oauth.ClientSecretBasic(key.privateKey) : oauth.None();
      const verifier = oauth.generateRandomCodeVerifier();
      const url = new URL(as.authorization_endpoint as string);
      url.search = new URLSearchParams({
        response_type: 'code',
        client_id: key.key.publicKey,
        redirect_uri: REDIRECT,
        scope: SCOPE,
        nonce,
        code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      }).toString();
      const { callback } = await new FetchAgent().authorize(url.href, issuer, OWNER_A);
      const params = oauth.validateAuthResponse(as, oauthClient, callback, oauth.expectNoState);
      const response = await oauth.authorizationCodeGrantRequest(
        as,
        oauthClient,
        auth,
        params,
        REDIRECT,
        verifier,
        { [oauth.allowInsecureRequests]: true },
      );
      return { as, oauthClient, response };
    }

    for (const kind of ['confidential', 'public'] as const) {
      it(`validates the ID token and its signature for a ${kind} client`, async () => {
        const key = kind === 'public' ? publicApp : confidential;
        const nonce = oauth.generateRandomNonce();
        const { as, oauthClient, response } = await exchange(key, nonce);
        const result = await oauth.processAuthorizationCodeResponse(as, oauthClient, response, {
          expectedNonce: nonce,
          requireIdToken: true,
        });
        // Then the signature, against the published JWKS (processing checked the claims only).
        await oauth.validateApplicationLevelSignature(as, response, { [oauth.allowInsecureRequests]: true });
        const claims = oauth.getValidatedIdTokenClaims(result);
        expect(claims).toMatchObject({ aud: key.key.publicKey, nonce, at_hash: atHash(result.access_token) });
      });
    }

    it('refuses an ID token whose nonce is not the one this request sent (mismatch and replay)', async () => {
      const { as, oauthClient, response } = await exchange(confidential, 'nonce-of-the-request');
      const body = await response.json();
      // Mismatch: the relying party expected another nonce.
      await expect(
        oauth.processAuthorizationCodeResponse(as, oauthClient, Response.json(body), {
          expectedNonce: 'another-nonce',
        }),
      ).rejects.toThrow(/nonce/);
      // Replay: the old ID token presented in a later sign-in whose request carried a fresh nonce.
      await expect(
        oauth.processAuthorizationCodeResponse(as, oauthClient, Response.json(body), {
          expectedNonce: oauth.generateRandomNonce(),
        }),
      ).rejects.toThrow(/nonce/);
    });

    it("refuses an ID token issued to another client (another client's aud)", async () => {
      const nonce = oauth.generateRandomNonce();
      const { as, response } = await exchange(otherApp, nonce);
      const body = (await response.json()) as { id_token: string };
      expect(decodeJwt(body.id_token).aud).toBe(otherApp.key.publicKey);
      await expect(
        oauth.processAuthorizationCodeResponse(
          as,
          { client_id: confidential.key.publicKey },
          Response.json(body),
          { expectedNonce: nonce },
        ),
      ).rejects.toThrow(/aud/);
    });
  });
});
