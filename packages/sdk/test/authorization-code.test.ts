import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from '../../server/test/helpers/authorization-flow.ts';
import { PASSWORD } from '../../server/test/helpers/seed.ts';
import { describeEachDialect } from '../../server/test/helpers/test-app.ts';
import { GatehouseError, OAuthClient } from '../src/index.ts';
import { type SdkServer, startServer } from './sdk-server.ts';

const REDIRECT_URI = 'https://app.example/callback';

describe('createAuthorizationRequest', () => {
  const oauth = new OAuthClient({
    baseUrl: 'https://auth.example/',
    clientId: 'gpk_app',
    clientSecret: 'gsk_x',
  });

  it('answers the authorize URL of the server with a fresh state and an S256 challenge of the verifier', async () => {
    const { url, state, codeVerifier } = await oauth.createAuthorizationRequest({
      redirectUri: REDIRECT_URI,
      scope: 'api1 offline_access',
    });
    const parsed = new URL(url);
    expect(`${parsed.origin}${parsed.pathname}`).toBe('https://auth.example/connect/authorize');
    expect(Object.fromEntries(parsed.searchParams)).toEqual({
      response_type: 'code',
      client_id: 'gpk_app',
      redirect_uri: REDIRECT_URI,
      scope: 'api1 offline_access',
      state,
      code_challenge: createHash('sha256').update(codeVerifier).digest('base64url'),
      code_challenge_method: 'S256',
    });
    // RFC 7636 4.1: 43 to 128 unreserved characters.
    expect(codeVerifier).toMatch(/^[A-Za-z0-9_-]{43,128}$/);
    expect(state).toMatch(/^[A-Za-z0-9_-]{22,}$/);
  });

  it('never repeats a state or a verifier, and asks for api1 by default', async () => {
    const requests = await Promise.all(
      Array.from({ length: 20 }, () => oauth.createAuthorizationRequest({ redirectUri: REDIRECT_URI })),
    );
    expect(new Set(requests.map((r) => r.state)).size).toBe(20);
    expect(new Set(requests.map((r) => r.codeVerifier)).size).toBe(20);
    expect(new URL(requests[0]?.url ?? '').searchParams.get('scope')).toBe('api1');
  });
});

describeEachDialect('exchangeCode through a real authorization', (dialect) => {
  let server: SdkServer;
  let oauth: OAuthClient;
  // One person's browser: signed in on the first authorization, consent remembered after it.
  let browser: Browser;
  beforeAll(async () => {
    server = await startServer(dialect);
    browser = new Browser(server.app);
    const { orgKeyA } = server.seeded;
    oauth = new OAuthClient({
      baseUrl: server.baseUrl,
      clientId: orgKeyA.key.publicKey,
      clientSecret: orgKeyA.privateKey,
    });
  });
  afterAll(() => server.close());

  /** Starts a request with the SDK, then signs in and consents in a browser; answers the callback URL. */
  async function authorize(scope = 'api1 offline_access') {
    const request = await oauth.createAuthorizationRequest({ redirectUri: REDIRECT_URI, scope });
    const query = Object.fromEntries(new URL(request.url).searchParams);
    const { location } = await browser.authorize(query, { email: 'owner@a.test', password: PASSWORD });
    if (!location) throw new Error('no redirect to the callback');
    return { ...request, callbackUrl: location.href, location };
  }

  it('exchanges the code for tokens that act for the person, with a refresh token for offline_access', async () => {
    const { callbackUrl, state, codeVerifier } = await authorize();
    const tokens = await oauth.exchangeCode({ callbackUrl, state, codeVerifier, redirectUri: REDIRECT_URI });
    expect(tokens).toMatchObject({
      accessToken: expect.stringMatching(/^ey/),
      refreshToken: expect.any(String),
      tokenType: 'Bearer',
      scope: 'api1 offline_access',
    });
    expect(tokens.expiresAt).toBeGreaterThan(Date.now() + 3_500_000);
    const me = await fetch(`${server.baseUrl}/me`, {
      headers: { authorization: `Bearer ${tokens.accessToken}` },
    });
    expect(await me.json()).toMatchObject({ authMethod: 'bearer', user: { email: 'owner@a.test' } });
  });

  it('accepts the callback as the path and query the app received (relative to the redirect URI)', async () => {
    const { location, state, codeVerifier } = await authorize('api1');
    const tokens = await oauth.exchangeCode({
      callbackUrl: `${location.pathname}${location.search}`,
      state,
      codeVerifier,
      redirectUri: REDIRECT_URI,
    });
    expect(tokens.refreshToken).toBeUndefined();
  });

  it('refuses a callback whose state is not the one sent, before spending its code', async () => {
    const { callbackUrl, state, codeVerifier } = await authorize();
    const other = await oauth.createAuthorizationRequest({ redirectUri: REDIRECT_URI });
    const refused = await oauth
      .exchangeCode({ callbackUrl, state: other.state, codeVerifier, redirectUri: REDIRECT_URI })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(GatehouseError);
    expect(refused).toMatchObject({ status: 0, code: 'state_mismatch' });
    // The code was not sent anywhere: the rightful exchange still works.
    await expect(
      oauth.exchangeCode({ callbackUrl, state, codeVerifier, redirectUri: REDIRECT_URI }),
    ).resolves.toMatchObject({ tokenType: 'Bearer' });
  });

  it('refuses a callback whose iss is another server, or that has none (RFC 9207 mix-up defence)', async () => {
    const { location, state, codeVerifier } = await authorize();
    const exchange = (callbackUrl: string) =>
      oauth.exchangeCode({ callbackUrl, state, codeVerifier, redirectUri: REDIRECT_URI });
    const forged = new URL(location);
    forged.searchParams.set('iss', 'https://evil.example');
    await expect(exchange(forged.href)).rejects.toMatchObject({ code: 'issuer_mismatch' });
    forged.searchParams.delete('iss');
    await expect(exchange(forged.href)).rejects.toMatchObject({ code: 'issuer_mismatch' });
    const elsewhere = new OAuthClient({
      baseUrl: server.baseUrl,
      issuer: 'https://auth.other.example',
      clientId: server.seeded.orgKeyA.key.publicKey,
      clientSecret: server.seeded.orgKeyA.privateKey,
    });
    await expect(
      elsewhere.exchangeCode({ callbackUrl: location.href, state, codeVerifier, redirectUri: REDIRECT_URI }),
    ).rejects.toMatchObject({ code: 'issuer_mismatch' });
    await expect(exchange(location.href)).resolves.toMatchObject({ tokenType: 'Bearer' });
  });

  it('a wrong code verifier is refused by the server with invalid_grant (PKCE)', async () => {
    const { callbackUrl, state } = await authorize();
    const wrong = await oauth.createAuthorizationRequest({ redirectUri: REDIRECT_URI });
    await expect(
      oauth.exchangeCode({ callbackUrl, state, codeVerifier: wrong.codeVerifier, redirectUri: REDIRECT_URI }),
    ).rejects.toMatchObject({ status: 400, code: 'invalid_grant', error: 'invalid_grant' });
  });

  it('an error response (the person said no) is a GatehouseError with the OAuth error', async () => {
    const { state, codeVerifier } = await oauth.createAuthorizationRequest({ redirectUri: REDIRECT_URI });
    const callback = new URL(REDIRECT_URI);
    callback.search = new URLSearchParams({
      error: 'access_denied',
      error_description: 'the user refused',
      state,
      iss: server.baseUrl,
    }).toString();
    await expect(
      oauth.exchangeCode({ callbackUrl: callback, state, codeVerifier, redirectUri: REDIRECT_URI }),
    ).rejects.toMatchObject({ code: 'access_denied', error: 'access_denied', detail: 'the user refused' });
  });
});
