import type { FastifyInstance } from 'fastify';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { eventually, postForm } from '../helpers/http.ts';
import { useSeededApp } from '../helpers/seeded-app.ts';
import { describeEachDialect, testConfig } from '../helpers/test-app.ts';
import { basicOf, decodePart, form, OAUTH_ENV, tokenFor } from './oauth-helpers.ts';

describeEachDialect('token revocation (RFC 7009) and introspection (RFC 7662)', (dialect) => {
  const ctx = useSeededApp(dialect, OAUTH_ENV);

  const me = (target: FastifyInstance, token: string) =>
    target.inject({ method: 'GET', url: '/me', headers: { authorization: `Bearer ${token}` } });
  const revoke = (params: Record<string, string>, headers: Record<string, string>) =>
    postForm(ctx.app, '/connect/revocation', form(params), headers);
  const introspect = (params: Record<string, string>, headers: Record<string, string>) =>
    postForm(ctx.app, '/connect/introspect', form(params), headers);

  describe('revocation', () => {
    it('revokes its own JWT access token: 200, then the token is refused with 401', async () => {
      const token = await tokenFor(ctx.app, ctx.seed.orgKeyA);
      expect((await me(ctx.app, token)).statusCode).toBe(200);
      const res = await revoke({ token }, { authorization: basicOf(ctx.seed.orgKeyA) });
      expect(res.statusCode).toBe(200);
      expect(res.body).toBe('');
      const after = await me(ctx.app, token);
      expect(after.statusCode).toBe(401);
      expect(after.json().detail).toMatch(/revoked/);
    });

    it('accepts client_secret_post and treats token_type_hint as a hint only', async () => {
      const token = await tokenFor(ctx.app, ctx.seed.orgKeyA);
      const res = await revoke(
        {
          token,
          token_type_hint: 'refresh_token',
          client_id: ctx.seed.orgKeyA.key.publicKey,
          client_secret: ctx.seed.orgKeyA.privateKey,
        },
        {},
      );
      expect(res.statusCode).toBe(200);
      expect((await me(ctx.app, token)).statusCode).toBe(401);
    });

    it("answers 200 and does nothing for another client's token", async () => {
      const token = await tokenFor(ctx.app, ctx.seed.orgKeyB);
      const res = await revoke({ token }, { authorization: basicOf(ctx.seed.orgKeyA) });
      expect(res.statusCode).toBe(200);
      expect((await me(ctx.app, token)).statusCode).toBe(200);
    });

    it('answers 200 for an unknown or malformed token, and for a second revocation', async () => {
      for (const token of ['garbage', 'a.b.c', 'e30.e30.AAAA']) {
        expect((await revoke({ token }, { authorization: basicOf(ctx.seed.orgKeyA) })).statusCode).toBe(200);
      }
      const token = await tokenFor(ctx.app, ctx.seed.orgKeyA);
      for (let i = 0; i < 2; i++) {
        expect((await revoke({ token }, { authorization: basicOf(ctx.seed.orgKeyA) })).statusCode).toBe(200);
      }
    });

    it('requires client authentication and a token parameter', async () => {
      const token = await tokenFor(ctx.app, ctx.seed.orgKeyA);
      const anonymous = await revoke({ token }, {});
      expect(anonymous.statusCode).toBe(401);
      expect(anonymous.json().error).toBe('invalid_client');
      const missing = await revoke({}, { authorization: basicOf(ctx.seed.orgKeyA) });
      expect(missing.statusCode).toBe(400);
      expect(missing.json().error).toBe('invalid_request');
      const twice = await postForm(ctx.app, '/connect/revocation', `token=${token}&token=${token}`, {
        authorization: basicOf(ctx.seed.orgKeyA),
      });
      expect(twice.json().error).toBe('invalid_request');
      expect((await me(ctx.app, token)).statusCode).toBe(200);
    });

    it('reaches another instance through the shared table within about a second', async () => {
      const other = await buildApp(testConfig(OAUTH_ENV), { storage: ctx.storage, keyCache: { pollMs: 50 } });
      try {
        const token = await tokenFor(ctx.app, ctx.seed.orgKeyA);
        expect((await me(other, token)).statusCode).toBe(200);
        await revoke({ token }, { authorization: basicOf(ctx.seed.orgKeyA) });
        expect(await eventually(async () => (await me(other, token)).statusCode === 401, 3000)).toBe(true);
      } finally {
        await other.close();
      }
    });

    it('is remembered by an instance that starts after the revocation', async () => {
      const token = await tokenFor(ctx.app, ctx.seed.orgKeyA);
      await revoke({ token }, { authorization: basicOf(ctx.seed.orgKeyA) });
      const later = await buildApp(testConfig(OAUTH_ENV), { storage: ctx.storage });
      try {
        expect((await me(later, token)).statusCode).toBe(401);
      } finally {
        await later.close();
      }
    });
  });

  describe('introspection', () => {
    it('describes an active token of the calling client', async () => {
      const token = await tokenFor(ctx.app, ctx.seed.workspaceKeyA);
      const res = await introspect({ token }, { authorization: basicOf(ctx.seed.workspaceKeyA) });
      expect(res.statusCode).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      const claims = decodePart(token, 1);
      expect(res.json()).toEqual({
        active: true,
        scope: 'api1',
        client_id: ctx.seed.workspaceKeyA.key.publicKey,
        token_type: 'Bearer',
        exp: claims.exp,
        iat: claims.iat,
        sub: ctx.seed.workspaceKeyA.key.publicKey,
        aud: 'api1',
        iss: ctx.app.services.config.issuer,
        jti: claims.jti,
        tenant_id: ctx.seed.a.tenantId,
        workspace_id: ctx.seed.a.secondWorkspaceId,
        permissions: 'write',
      });
    });

    it("answers {active: false} for another client's token", async () => {
      const token = await tokenFor(ctx.app, ctx.seed.orgKeyB);
      const res = await introspect({ token }, { authorization: basicOf(ctx.seed.orgKeyA) });
      expect(res.json()).toEqual({ active: false });
    });

    it('answers {active: false} for revoked, expired and garbage tokens', async () => {
      const revoked = await tokenFor(ctx.app, ctx.seed.orgKeyA);
      await revoke({ token: revoked }, { authorization: basicOf(ctx.seed.orgKeyA) });
      const signer = ctx.app.services.keyRing.signer();
      const now = Math.floor(Date.now() / 1000);
      const expired = await new SignJWT({
        ...decodePart(await tokenFor(ctx.app, ctx.seed.orgKeyA), 1),
        iat: now - 7200,
        exp: now - 3600,
      })
        .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: signer.kid })
        .sign(signer.key);
      for (const token of [revoked, expired, 'garbage', 'a.b.c']) {
        const res = await introspect({ token }, { authorization: basicOf(ctx.seed.orgKeyA) });
        expect(res.statusCode).toBe(200);
        expect(res.json()).toEqual({ active: false });
      }
    });

    it('requires client authentication and a token parameter', async () => {
      const token = await tokenFor(ctx.app, ctx.seed.orgKeyA);
      const anonymous = await introspect({ token }, {});
      expect(anonymous.statusCode).toBe(401);
      expect(anonymous.headers['www-authenticate']).toMatch(/^Basic /);
      const missing = await introspect({}, { authorization: basicOf(ctx.seed.orgKeyA) });
      expect(missing.json().error).toBe('invalid_request');
    });
  });
});
