import type { FastifyInstance } from 'fastify';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { type Seed, seed } from '../helpers/seed.ts';
import { createTestApp, describeEachDialect, type TestApp, testConfig } from '../helpers/test-app.ts';
import { basicOf, decodePart, eventually, form, OAUTH_ENV, post, tokenFor } from './oauth-helpers.ts';

describeEachDialect('token revocation (RFC 7009) and introspection (RFC 7662)', (dialect) => {
  let t: TestApp;
  let app: FastifyInstance;
  let s: Seed;
  beforeAll(async () => {
    t = await createTestApp(dialect, OAUTH_ENV);
    app = t.app;
    s = await seed(app.services.db);
  });
  afterAll(() => t.close());

  const me = (target: FastifyInstance, token: string) =>
    target.inject({ method: 'GET', url: '/me', headers: { authorization: `Bearer ${token}` } });
  const revoke = (params: Record<string, string>, headers: Record<string, string>) =>
    post(app, '/connect/revocation', form(params), headers);
  const introspect = (params: Record<string, string>, headers: Record<string, string>) =>
    post(app, '/connect/introspect', form(params), headers);

  describe('revocation', () => {
    it('revokes its own JWT access token: 200, then the token is refused with 401', async () => {
      const token = await tokenFor(app, s.orgKeyA);
      expect((await me(app, token)).statusCode).toBe(200);
      const res = await revoke({ token }, { authorization: basicOf(s.orgKeyA) });
      expect(res.statusCode).toBe(200);
      expect(res.body).toBe('');
      const after = await me(app, token);
      expect(after.statusCode).toBe(401);
      expect(after.json().detail).toMatch(/revoked/);
    });

    it('accepts client_secret_post and treats token_type_hint as a hint only', async () => {
      const token = await tokenFor(app, s.orgKeyA);
      const res = await revoke(
        {
          token,
          token_type_hint: 'refresh_token',
          client_id: s.orgKeyA.key.publicKey,
          client_secret: s.orgKeyA.privateKey,
        },
        {},
      );
      expect(res.statusCode).toBe(200);
      expect((await me(app, token)).statusCode).toBe(401);
    });

    it("answers 200 and does nothing for another client's token", async () => {
      const token = await tokenFor(app, s.orgKeyB);
      const res = await revoke({ token }, { authorization: basicOf(s.orgKeyA) });
      expect(res.statusCode).toBe(200);
      expect((await me(app, token)).statusCode).toBe(200);
    });

    it('answers 200 for an unknown or malformed token, and for a second revocation', async () => {
      for (const token of ['garbage', 'a.b.c', 'e30.e30.AAAA']) {
        expect((await revoke({ token }, { authorization: basicOf(s.orgKeyA) })).statusCode).toBe(200);
      }
      const token = await tokenFor(app, s.orgKeyA);
      for (let i = 0; i < 2; i++) {
        expect((await revoke({ token }, { authorization: basicOf(s.orgKeyA) })).statusCode).toBe(200);
      }
    });

    it('requires client authentication and a token parameter', async () => {
      const token = await tokenFor(app, s.orgKeyA);
      const anonymous = await revoke({ token }, {});
      expect(anonymous.statusCode).toBe(401);
      expect(anonymous.json().error).toBe('invalid_client');
      const missing = await revoke({}, { authorization: basicOf(s.orgKeyA) });
      expect(missing.statusCode).toBe(400);
      expect(missing.json().error).toBe('invalid_request');
      const twice = await post(app, '/connect/revocation', `token=${token}&token=${token}`, {
        authorization: basicOf(s.orgKeyA),
      });
      expect(twice.json().error).toBe('invalid_request');
      expect((await me(app, token)).statusCode).toBe(200);
    });

    it('reaches another instance through the shared table within about a second', async () => {
      const other = await buildApp(testConfig(OAUTH_ENV), { storage: t.storage, keyCache: { pollMs: 50 } });
      try {
        const token = await tokenFor(app, s.orgKeyA);
        expect((await me(other, token)).statusCode).toBe(200);
        await revoke({ token }, { authorization: basicOf(s.orgKeyA) });
        expect(await eventually(async () => (await me(other, token)).statusCode === 401, 3000)).toBe(true);
      } finally {
        await other.close();
      }
    });

    it('is remembered by an instance that starts after the revocation', async () => {
      const token = await tokenFor(app, s.orgKeyA);
      await revoke({ token }, { authorization: basicOf(s.orgKeyA) });
      const later = await buildApp(testConfig(OAUTH_ENV), { storage: t.storage });
      try {
        expect((await me(later, token)).statusCode).toBe(401);
      } finally {
        await later.close();
      }
    });
  });

  describe('introspection', () => {
    it('describes an active token of the calling client', async () => {
      const token = await tokenFor(app, s.workspaceKeyA);
      const res = await introspect({ token }, { authorization: basicOf(s.workspaceKeyA) });
      expect(res.statusCode).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      const claims = decodePart(token, 1);
      expect(res.json()).toEqual({
        active: true,
        scope: 'api1',
        client_id: s.workspaceKeyA.key.publicKey,
        token_type: 'Bearer',
        exp: claims.exp,
        iat: claims.iat,
        sub: s.workspaceKeyA.key.publicKey,
        aud: 'api1',
        iss: app.services.config.issuer,
        jti: claims.jti,
        tenant_id: s.a.tenantId,
        workspace_id: s.a.secondWorkspaceId,
        permissions: 'write',
      });
    });

    it("answers {active: false} for another client's token", async () => {
      const token = await tokenFor(app, s.orgKeyB);
      const res = await introspect({ token }, { authorization: basicOf(s.orgKeyA) });
      expect(res.json()).toEqual({ active: false });
    });

    it('answers {active: false} for revoked, expired and garbage tokens', async () => {
      const revoked = await tokenFor(app, s.orgKeyA);
      await revoke({ token: revoked }, { authorization: basicOf(s.orgKeyA) });
      const signer = app.services.keyRing.signer();
      const now = Math.floor(Date.now() / 1000);
      const expired = await new SignJWT({
        ...decodePart(await tokenFor(app, s.orgKeyA), 1),
        iat: now - 7200,
        exp: now - 3600,
      })
        .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: signer.kid })
        .sign(signer.key);
      for (const token of [revoked, expired, 'garbage', 'a.b.c']) {
        const res = await introspect({ token }, { authorization: basicOf(s.orgKeyA) });
        expect(res.statusCode).toBe(200);
        expect(res.json()).toEqual({ active: false });
      }
    });

    it('requires client authentication and a token parameter', async () => {
      const token = await tokenFor(app, s.orgKeyA);
      const anonymous = await introspect({ token }, {});
      expect(anonymous.statusCode).toBe(401);
      expect(anonymous.headers['www-authenticate']).toMatch(/^Basic /);
      const missing = await introspect({}, { authorization: basicOf(s.orgKeyA) });
      expect(missing.json().error).toBe('invalid_request');
    });
  });
});
