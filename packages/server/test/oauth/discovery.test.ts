import { createLocalJWKSet, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { buildMetadata } from '../../src/oauth/discovery.ts';
import { GRANTS } from '../../src/oauth/token/index.ts';
import { useSeededApp } from '../helpers/seeded-app.ts';
import { describeEachDialect } from '../helpers/test-app.ts';
import { OAUTH_ENV, tokenFor } from './oauth-helpers.ts';

describeEachDialect('discovery (RFC 8414) and JWKS', (dialect) => {
  const ctx = useSeededApp(dialect, OAUTH_ENV);

  it('serves the same metadata at both well-known paths, with issuer = the configured public URL', async () => {
    const rfc = await ctx.app.inject({ url: '/.well-known/oauth-authorization-server' });
    const oidc = await ctx.app.inject({ url: '/.well-known/openid-configuration' });
    expect(rfc.statusCode).toBe(200);
    expect(rfc.headers['content-type']).toMatch(/^application\/json/);
    expect(oidc.json()).toEqual(rfc.json());
    const issuer = ctx.app.services.config.issuer;
    expect(rfc.json()).toMatchObject({
      issuer,
      token_endpoint: `${issuer}/connect/token`,
      jwks_uri: `${issuer}/.well-known/openid-configuration/jwks`,
      revocation_endpoint: `${issuer}/connect/revocation`,
      introspection_endpoint: `${issuer}/connect/introspect`,
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
      revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
      introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    });
  });

  it('describes only what is implemented: grants from the dispatcher, the authorization endpoint iff routed', async () => {
    const metadata = (await ctx.app.inject({ url: '/.well-known/oauth-authorization-server' })).json();
    expect(metadata.grant_types_supported).toEqual([...GRANTS.keys()]);
    expect(metadata.grant_types_supported).toContain('client_credentials');
    const authorize = ctx.app.hasRoute({ method: 'GET', url: '/connect/authorize' });
    expect('authorization_endpoint' in metadata).toBe(authorize);
    expect('code_challenge_methods_supported' in metadata).toBe(authorize);
    // OpenID Connect is claimed exactly when its endpoints are routed.
    const openid =
      ctx.app.hasRoute({ method: 'GET', url: '/connect/userinfo' }) &&
      ctx.app.hasRoute({ method: 'GET', url: '/connect/endsession' });
    expect(openid).toBe(true);
    for (const field of [
      'id_token_signing_alg_values_supported',
      'userinfo_endpoint',
      'end_session_endpoint',
      'subject_types_supported',
    ]) {
      expect(metadata).toHaveProperty(field);
    }
  });

  it('publishes a JWKS with which the reference library (jose) verifies our tokens, pinned as DESIGN.md says', async () => {
    const jwks = (await ctx.app.inject({ url: '/.well-known/openid-configuration/jwks' })).json();
    const token = await tokenFor(ctx.app, ctx.seed.orgKeyA);
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks), {
      issuer: ctx.app.services.config.issuer,
      audience: 'api1',
      typ: 'at+jwt',
      algorithms: ['ES256'],
    });
    expect(protectedHeader.alg).toBe('ES256');
    expect(payload.client_id).toBe(ctx.seed.orgKeyA.key.publicKey);
  });
});

describe('authorization server metadata', () => {
  const issuer = 'https://auth.example';

  it('lists no authorization endpoint, response type or PKCE method for client credentials alone', () => {
    const metadata = buildMetadata({
      issuer,
      grantTypes: ['client_credentials'],
      authorizationEndpoint: false,
    });
    expect(metadata).not.toHaveProperty('authorization_endpoint');
    expect(metadata).not.toHaveProperty('code_challenge_methods_supported');
    expect(metadata).not.toHaveProperty('authorization_response_iss_parameter_supported');
    expect(metadata.response_types_supported).toEqual([]);
    expect(metadata.grant_types_supported).toEqual(['client_credentials']);
    expect(metadata.scopes_supported).toEqual(['api1']);
  });

  it('adds the authorization endpoint, S256, RFC 9207 iss and offline_access once they exist', () => {
    const metadata = buildMetadata({
      issuer,
      grantTypes: ['client_credentials', 'authorization_code', 'refresh_token'],
      authorizationEndpoint: true,
    });
    expect(metadata).toMatchObject({
      authorization_endpoint: `${issuer}/connect/authorize`,
      response_types_supported: ['code'],
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
      scopes_supported: ['api1', 'offline_access'],
    });
    expect(metadata).not.toHaveProperty('userinfo_endpoint');
    expect(metadata).not.toHaveProperty('id_token_signing_alg_values_supported');
  });

  it('adds the OpenID Provider fields (OpenID Connect Discovery 3) with userinfo and end session', () => {
    const metadata = buildMetadata({
      issuer,
      grantTypes: ['client_credentials', 'authorization_code', 'refresh_token'],
      authorizationEndpoint: true,
      openid: true,
    });
    expect(metadata).toMatchObject({
      userinfo_endpoint: `${issuer}/connect/userinfo`,
      end_session_endpoint: `${issuer}/connect/endsession`,
      scopes_supported: ['api1', 'openid', 'profile', 'email', 'offline_access'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256', 'ES256'],
      response_types_supported: ['code'],
      request_uri_parameter_supported: false,
      request_parameter_supported: false,
      claims_parameter_supported: false,
    });
    expect(metadata.claims_supported).toEqual(
      expect.arrayContaining([
        'sub',
        'iss',
        'aud',
        'auth_time',
        'nonce',
        'at_hash',
        'sid',
        'name',
        'email',
        'email_verified',
      ]),
    );
  });
});
