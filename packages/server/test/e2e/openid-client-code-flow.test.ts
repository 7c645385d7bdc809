import * as client from 'openid-client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createApiKey, type IssuedApiKey } from '../../src/domain/api-keys.ts';
import { CLI_ACTOR } from '../../src/domain/audit.ts';
import { FetchAgent } from '../helpers/fetch-agent.ts';
import { type ListeningTestApp, listenTestApp } from '../helpers/http.ts';
import { PASSWORD, seed } from '../helpers/seed.ts';
import { describeEachDialect } from '../helpers/test-app.ts';

const REDIRECT = 'https://app.example/callback';

describeEachDialect('openid-client v6 drives the authorization code flow with PKCE', (dialect) => {
  let server: ListeningTestApp;
  let issuer: string;
  let key: IssuedApiKey;

  beforeAll(async () => {
    server = await listenTestApp(dialect);
    issuer = server.issuer;
    const s = await seed(server.app.services.db);
    key = await createApiKey(
      server.app.services.db,
      { tenantId: s.a.tenantId, label: 'openid-client app', redirectUris: [REDIRECT] },
      CLI_ACTOR,
    );
  });
  afterAll(async () => {
    await server?.close();
  });

  it('discovers, authorizes with S256, exchanges the code (iss and state checked), calls /me, refreshes', async () => {
    const config = await client.discovery(
      new URL(issuer),
      key.key.publicKey,
      undefined,
      client.ClientSecretBasic(key.privateKey),
      // Loopback development issuer is http; production issuers are https.
      { execute: [client.allowInsecureRequests] },
    );
    expect(config.serverMetadata().code_challenge_methods_supported).toEqual(['S256']);
    expect(config.serverMetadata().authorization_response_iss_parameter_supported).toBe(true);

    const verifier = client.randomPKCECodeVerifier();
    const challenge = await client.calculatePKCECodeChallenge(verifier);
    const state = client.randomState();
    const authorizationUrl = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: 'api1 offline_access',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state,
    });

    // The person: open the URL, sign in, allow.
    const { callback, consentHtml } = await new FetchAgent().authorize(authorizationUrl.href, issuer, {
      email: 'owner@a.test',
      password: PASSWORD,
    });
    expect(consentHtml).toContain('openid-client app');
    expect(callback.href.startsWith(REDIRECT)).toBe(true);

    const tokens = await client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: verifier,
      expectedState: state,
    });
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.expires_in).toBe(3600);
    expect(tokens.scope).toBe('api1 offline_access');
    expect(tokens.refresh_token).toMatch(/^grt_/);

    const me = await fetch(`${issuer}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(await me.json()).toMatchObject({ authMethod: 'bearer', user: { email: 'owner@a.test' } });

    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token as string);
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    const again = await fetch(`${issuer}/me`, {
      headers: { authorization: `Bearer ${refreshed.access_token}` },
    });
    expect(again.status).toBe(200);
    // The old refresh token is spent: presenting it again revokes the family, which openid-client reports.
    await expect(client.refreshTokenGrant(config, tokens.refresh_token as string)).rejects.toMatchObject({
      error: 'invalid_grant',
    });
    await expect(client.refreshTokenGrant(config, refreshed.refresh_token as string)).rejects.toMatchObject({
      error: 'invalid_grant',
    });
  });

  it('rejects an authorization response whose state or iss was tampered with', async () => {
    const config = await client.discovery(
      new URL(issuer),
      key.key.publicKey,
      undefined,
      client.ClientSecretBasic(key.privateKey),
      { execute: [client.allowInsecureRequests] },
    );
    const forged = new URL(`${REDIRECT}?code=gac_x&state=other&iss=${encodeURIComponent(issuer)}`);
    await expect(client.authorizationCodeGrant(config, forged, { expectedState: 'mine' })).rejects.toThrow();
    const mixUp = new URL(
      `${REDIRECT}?code=gac_x&state=mine&iss=${encodeURIComponent('https://evil.example')}`,
    );
    await expect(client.authorizationCodeGrant(config, mixUp, { expectedState: 'mine' })).rejects.toThrow();
  });
});
