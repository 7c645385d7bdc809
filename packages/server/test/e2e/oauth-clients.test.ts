import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type ListeningTestApp, listenTestApp } from '../helpers/http.ts';
import { type Seed, seed } from '../helpers/seed.ts';
import { describeEachDialect } from '../helpers/test-app.ts';

/**
 * panva's strict clients drive the client-credentials flow against a real listening server
 * (DESIGN.md 2: "panva's strict clients drive the flows end to end").
 */
describeEachDialect('client credentials with real OAuth clients', (dialect) => {
  let server: ListeningTestApp;
  let issuer: string;
  let s: Seed;
  beforeAll(async () => {
    // The issuer the app is configured with is the address it answers on.
    server = await listenTestApp(dialect);
    issuer = server.issuer;
    s = await seed(server.app.services.db);
  });
  afterAll(async () => {
    await server?.close();
  });

  const workspaces = (token: string) =>
    fetch(`${issuer}/v1/workspaces`, { headers: { authorization: `Bearer ${token}` } });

  it('openid-client: discovery, client credentials, then the API with the token', async () => {
    const config = await client.discovery(
      new URL(issuer),
      s.orgKeyA.key.publicKey,
      s.orgKeyA.privateKey,
      undefined,
      { execute: [client.allowInsecureRequests] },
    );
    expect(config.serverMetadata().issuer).toBe(issuer);
    const tokens = await client.clientCredentialsGrant(config, { scope: 'api1' });
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.expires_in).toBe(3600);
    expect(tokens.scope).toBe('api1');
    const res = await workspaces(tokens.access_token);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { items: { tenantId: number }[]; total: number };
    expect(body.total).toBe(2);
    expect(body.items.every((w) => w.tenantId === s.a.tenantId)).toBe(true);

    const introspection = await client.tokenIntrospection(config, tokens.access_token);
    expect(introspection).toMatchObject({ active: true, client_id: s.orgKeyA.key.publicKey, scope: 'api1' });
    await client.tokenRevocation(config, tokens.access_token);
    expect((await workspaces(tokens.access_token)).status).toBe(401);
  });

  it('openid-client with client_secret_basic and the RFC 8414 metadata path', async () => {
    const config = await client.discovery(
      new URL(issuer),
      s.orgKeyB.key.publicKey,
      undefined,
      client.ClientSecretBasic(s.orgKeyB.privateKey),
      { execute: [client.allowInsecureRequests], algorithm: 'oauth2' },
    );
    const tokens = await client.clientCredentialsGrant(config, { scope: 'api1' });
    const body = (await (await workspaces(tokens.access_token)).json()) as { items: { id: number }[] };
    expect(body.items.map((w) => w.id)).toEqual([s.b.workspaceId]);
  });

  it('oauth4webapi: discovery, ClientSecretBasic, client credentials, RFC 9068 validation, then the API', async () => {
    const url = new URL(issuer);
    const insecure = { [oauth.allowInsecureRequests]: true };
    const as = await oauth
      .discoveryRequest(url, { ...insecure, algorithm: 'oauth2' })
      .then((response) => oauth.processDiscoveryResponse(url, response));
    const c: oauth.Client = { client_id: s.workspaceKeyA.key.publicKey };
    const auth = oauth.ClientSecretBasic(s.workspaceKeyA.privateKey);
    const response = await oauth.clientCredentialsGrantRequest(
      as,
      c,
      auth,
      new URLSearchParams({ scope: 'api1' }),
      insecure,
    );
    const result = await oauth.processClientCredentialsResponse(as, c, response);
    expect(result).toMatchObject({ token_type: 'bearer', expires_in: 3600, scope: 'api1' });

    // The token as a third-party resource server validates it (RFC 9068 4, keys from jwks_uri).
    const claims = await oauth.validateJwtAccessToken(
      as,
      new Request(`${issuer}/v1/workspaces`, { headers: { authorization: `Bearer ${result.access_token}` } }),
      'api1',
      insecure,
    );
    expect(claims).toMatchObject({ client_id: c.client_id, tenant_id: s.a.tenantId });

    const res = await workspaces(result.access_token);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { items: { id: number }[] };
    expect(body.items.map((w) => w.id)).toEqual([s.a.secondWorkspaceId]);
  });

  it('oauth4webapi sees invalid_client, 401 with a Basic challenge, for a wrong secret', async () => {
    const url = new URL(issuer);
    const insecure = { [oauth.allowInsecureRequests]: true };
    const as = await oauth
      .discoveryRequest(url, insecure)
      .then((r) => oauth.processDiscoveryResponse(url, r));
    const c: oauth.Client = { client_id: s.orgKeyA.key.publicKey };
    const response = await oauth.clientCredentialsGrantRequest(
      as,
      c,
      oauth.ClientSecretBasic(s.orgKeyB.privateKey),
      new URLSearchParams(),
      insecure,
    );
    expect(response.status).toBe(401);
    expect(await response.clone().json()).toMatchObject({ error: 'invalid_client' });
    // RFC 6749 5.2: the 401 carries the Basic challenge, which the client surfaces as such.
    const error = await oauth.processClientCredentialsResponse(as, c, response).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(oauth.WWWAuthenticateChallengeError);
    expect((error as oauth.WWWAuthenticateChallengeError).cause[0]?.scheme).toBe('basic');
  });
});
