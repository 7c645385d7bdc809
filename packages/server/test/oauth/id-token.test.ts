import { createHash, createHmac, createPublicKey } from 'node:crypto';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, errors, type JWK, jwtVerify } from 'jose';
import { beforeAll, expect, it } from 'vitest';
import { createApiKey, type IssuedApiKey } from '../../src/domain/api-keys.ts';
import { CLI_ACTOR } from '../../src/domain/audit.ts';
import { signCompact } from '../../src/domain/jws.ts';
import { addMember } from '../../src/domain/members.ts';
import { rotateSigningKey } from '../../src/domain/signing-keys.ts';
import { issueIdToken, verifyIdTokenHint } from '../../src/oauth/id-token.ts';
import { Browser, tokenRequest } from '../helpers/authorization-flow.ts';
import { PASSWORD } from '../helpers/seed.ts';
import { useSeededApp } from '../helpers/seeded-app.ts';
import { describeEachDialect, testConfig } from '../helpers/test-app.ts';
import { OAUTH_ENV, tokenFor } from './oauth-helpers.ts';

const REDIRECT = 'https://app.example/callback';
const SECRET = testConfig().secret;
const ADA = { email: 'ada@a.test', password: PASSWORD, name: 'Ada Lovelace' };

interface Tokens {
  access_token: string;
  expires_in: number;
  token_type: string;
  refresh_token?: string;
  scope: string;
  id_token?: string;
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** OpenID Connect Core 3.1.3.6, computed here independently of the server. */
const atHashOf = (accessToken: string) =>
  createHash('sha256').update(accessToken, 'ascii').digest().subarray(0, 16).toString('base64url');

describeEachDialect('ID tokens (OpenID Connect Core 2, 3.1.3.6-3.1.3.8)', (dialect) => {
  const ctx = useSeededApp(dialect, OAUTH_ENV);
  /** Ada, a member with a display name, signed in once (her session's sign-in time moved 10 minutes back). */
  let ada: { id: number; browser: Browser; authTime: number; sid: string };
  let rs256Client: IssuedApiKey;
  let es256Client: IssuedApiKey;

  beforeAll(async () => {
    const db = ctx.app.services.db;
    rs256Client = ctx.seed.orgKeyA;
    es256Client = await createApiKey(
      db,
      {
        tenantId: ctx.seed.a.tenantId,
        label: 'ES256 app',
        redirectUris: [REDIRECT],
        idTokenSignedResponseAlg: 'ES256',
      },
      CLI_ACTOR,
    );
    const member = await addMember(
      db,
      {
        tenantId: ctx.seed.a.tenantId,
        email: ADA.email,
        password: PASSWORD,
        displayName: ADA.name,
        role: 'member',
      },
      CLI_ACTOR,
    );
    const browser = new Browser(ctx.app);
    expect((await browser.signIn(ADA.email, ADA.password)).statusCode).toBe(303);
    const session = await db
      .selectFrom('sessions')
      .select(['id', 'authenticated_at', 'sid'])
      .where('user_id', '=', member.user.id)
      .executeTakeFirstOrThrow();
    // Moved back, so that auth_time cannot be mistaken for the time of the exchange.
    const authenticatedAt = Number(session.authenticated_at) - 600_000;
    await db
      .updateTable('sessions')
      .set({ authenticated_at: authenticatedAt })
      .where('id', '=', session.id)
      .execute();
    ada = {
      id: member.user.id,
      browser,
      authTime: Math.floor(authenticatedAt / 1000),
      sid: String(session.sid),
    };
  });

  const clientOf = (issued: IssuedApiKey) => ({
    publicKey: issued.key.publicKey,
    privateKey: issued.privateKey,
  });

  /** The code flow for Ada: authorize (consenting if asked), then exchange the code. */
  async function signInTokens(
    options: { scope?: string; nonce?: string; client?: IssuedApiKey } = {},
  ): Promise<Tokens> {
    const client = options.client ?? rs256Client;
    const { location, res } = await ada.browser.authorize({
      response_type: 'code',
      client_id: client.key.publicKey,
      redirect_uri: REDIRECT,
      scope: options.scope ?? 'openid api1',
      state: 's',
      ...(options.nonce === undefined ? {} : { nonce: options.nonce }),
    });
    const code = location?.searchParams.get('code');
    if (!code)
      throw new Error(`no code: ${res.statusCode} ${res.headers.location ?? res.body.slice(0, 300)}`);
    const tokens = await tokenRequest(ctx.app, clientOf(client), {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
    });
    expect(tokens.statusCode, tokens.body).toBe(200);
    return tokens.json();
  }

  async function idTokenOf(options: Parameters<typeof signInTokens>[0] = {}): Promise<string> {
    const { id_token } = await signInTokens(options);
    if (!id_token) throw new Error('no id_token');
    return id_token;
  }

  const jwks = async (): Promise<{ keys: (JWK & { kid: string })[] }> =>
    (await ctx.app.inject({ url: '/.well-known/openid-configuration/jwks' })).json();
  const kidOf = async (kty: 'EC' | 'RSA') => (await jwks()).keys.find((k) => k.kty === kty)?.kid;

  /** Verifies an ID token as a relying party would, with jose against our published JWKS. */
  async function verifyAsClient(idToken: string, client: IssuedApiKey, alg: 'RS256' | 'ES256') {
    return jwtVerify(idToken, createLocalJWKSet(await jwks()), {
      issuer: ctx.app.services.config.issuer,
      audience: client.key.publicKey,
      algorithms: [alg],
      typ: 'JWT',
      requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', 'auth_time', 'at_hash', 'sid'],
    });
  }

  const bearer = (url: string, token: string) =>
    ctx.app.inject({ url, headers: { authorization: `Bearer ${token}` } });
  const hint = (token: string) => verifyIdTokenHint(ctx.app.services, token);

  it('answers the id_token last when the code has openid: access_token, expires_in, token_type, refresh_token, scope, id_token', async () => {
    const body = await signInTokens({ scope: 'openid api1 offline_access' });
    expect(Object.keys(body)).toEqual([
      'access_token',
      'expires_in',
      'token_type',
      'refresh_token',
      'scope',
      'id_token',
    ]);
    expect(Object.keys(await signInTokens({ scope: 'openid api1' }))).toEqual([
      'access_token',
      'expires_in',
      'token_type',
      'scope',
      'id_token',
    ]);
  });

  it('verifies with jose against the JWKS: RS256 by default, under the RSA key, with every claim of OpenID Connect Core 2', async () => {
    const before = Math.floor(Date.now() / 1000);
    const tokens = await signInTokens({ nonce: 'n-0S6_WzA2Mj' });
    const { payload, protectedHeader } = await verifyAsClient(tokens.id_token ?? '', rs256Client, 'RS256');
    expect(protectedHeader).toEqual({ alg: 'RS256', typ: 'JWT', kid: await kidOf('RSA') });
    expect(Object.keys(payload)).toEqual([
      'iss',
      'sub',
      'aud',
      'exp',
      'iat',
      'auth_time',
      'nonce',
      'at_hash',
      'sid',
    ]);
    expect(payload).toMatchObject({
      iss: ctx.app.services.config.issuer,
      sub: String(ada.id),
      aud: rs256Client.key.publicKey,
      auth_time: ada.authTime,
      nonce: 'n-0S6_WzA2Mj',
      at_hash: atHashOf(tokens.access_token),
      sid: ada.sid,
    });
    // The same subject as the access token's, and the same lifetime.
    expect(payload.sub).toBe(decodeJwt(tokens.access_token).sub);
    expect(payload.iat).toBeGreaterThanOrEqual(before);
    expect(payload.iat).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(ctx.app.services.config.accessTokenTtl);
  });

  it('signs ES256 for a key created with idTokenSignedResponseAlg ES256, under the EC key', async () => {
    const idToken = await idTokenOf({ client: es256Client });
    const { payload, protectedHeader } = await verifyAsClient(idToken, es256Client, 'ES256');
    expect(protectedHeader).toEqual({ alg: 'ES256', typ: 'JWT', kid: await kidOf('EC') });
    expect(payload.aud).toBe(es256Client.key.publicKey);
    // jose, told to expect RS256 only, refuses it: the client's choice is what it gets.
    await expect(verifyAsClient(idToken, es256Client, 'RS256')).rejects.toBeInstanceOf(
      errors.JOSEAlgNotAllowed,
    );
  });

  it('echoes the nonce only when the authorization request sent one', async () => {
    expect(decodeJwt(await idTokenOf({ nonce: 'abc 123' })).nonce).toBe('abc 123');
    const without = decodeJwt(await idTokenOf());
    expect(without).not.toHaveProperty('nonce');
  });

  it('auth_time is when the user signed in, not when the code was exchanged', async () => {
    const claims = decodeJwt(await idTokenOf());
    expect(claims.auth_time).toBe(ada.authTime);
    expect((claims.iat ?? 0) - ada.authTime).toBeGreaterThanOrEqual(600);
  });

  it('at_hash is the left half of the SHA-256 of the access token issued with it (3.1.3.6), for both algorithms', async () => {
    for (const client of [rs256Client, es256Client]) {
      const tokens = await signInTokens({ client });
      const { at_hash } = decodeJwt(tokens.id_token ?? '');
      expect(at_hash).toBe(atHashOf(tokens.access_token));
      expect(Buffer.from(String(at_hash), 'base64url')).toHaveLength(16);
      // Bound to its own access token: another one does not match.
      const other = await signInTokens({ client });
      expect(at_hash).not.toBe(atHashOf(other.access_token));
    }
  });

  it("sid is the sign-in session's public identifier, never its cookie", async () => {
    const { sid } = decodeJwt(await idTokenOf());
    expect(sid).toBe(ada.sid);
    for (const cookie of ada.browser.jar.cookies.values()) expect(cookie).not.toContain(String(sid));
    // Another browser's sign-in is another session.
    const other = new Browser(ctx.app);
    const { location } = await other.authorize(
      {
        response_type: 'code',
        client_id: rs256Client.key.publicKey,
        redirect_uri: REDIRECT,
        scope: 'openid',
      },
      ADA,
    );
    const res = await tokenRequest(ctx.app, clientOf(rs256Client), {
      grant_type: 'authorization_code',
      code: location?.searchParams.get('code') ?? '',
      redirect_uri: REDIRECT,
    });
    const otherSid = decodeJwt(res.json().id_token).sid;
    expect(otherSid).toEqual(expect.any(String));
    expect(otherSid).not.toBe(sid);
  });

  it('releases name only with profile, email and email_verified only with email (OpenID Connect Core 5.4)', async () => {
    const userClaimsOf = async (scope: string) => {
      const claims = decodeJwt(await idTokenOf({ scope }));
      return { name: claims.name, email: claims.email, email_verified: claims.email_verified };
    };
    const none = { name: undefined, email: undefined, email_verified: undefined };
    expect(await userClaimsOf('openid api1')).toEqual(none);
    expect(await userClaimsOf('openid profile')).toEqual({ ...none, name: ADA.name });
    expect(await userClaimsOf('openid email')).toEqual({ ...none, email: ADA.email, email_verified: false });
    expect(await userClaimsOf('openid profile email')).toEqual({
      name: ADA.name,
      email: ADA.email,
      email_verified: false,
    });
  });

  it('openid without api1: an ID token, and an access token the REST API refuses', async () => {
    const tokens = await signInTokens({ scope: 'openid profile' });
    expect(tokens.scope).toBe('openid profile');
    expect(decodeJwt(tokens.id_token ?? '').sub).toBe(String(ada.id));
    for (const url of ['/me', '/v1/workspaces']) {
      const res = await bearer(url, tokens.access_token);
      expect(res.statusCode, url).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/error="invalid_token"/);
      expect(res.json().detail).toMatch(/api1/);
    }
  });

  it('answers no ID token without openid', async () => {
    const body = await signInTokens({ scope: 'api1' });
    expect(body).not.toHaveProperty('id_token');
  });

  it('a refresh answers no ID token (OpenID Connect Core 12.2)', async () => {
    const first = await signInTokens({ scope: 'openid api1 offline_access' });
    const res = await tokenRequest(ctx.app, clientOf(rs256Client), {
      grant_type: 'refresh_token',
      refresh_token: first.refresh_token ?? '',
    });
    expect(res.statusCode).toBe(200);
    expect(Object.keys(res.json())).toEqual([
      'access_token',
      'expires_in',
      'token_type',
      'refresh_token',
      'scope',
    ]);
  });

  it('an ID token is no access token: /me refuses it as a Bearer token, RS256 and ES256 alike (typ)', async () => {
    for (const client of [rs256Client, es256Client]) {
      const idToken = await idTokenOf({ client });
      const res = await bearer('/me', idToken);
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/error="invalid_token"/);
      expect(res.json().detail).toMatch(/typ/);
    }
  });

  it('an access token HMAC-signed with our published RSA public key is refused (RFC 8725 2.1)', async () => {
    const rsa = (await jwks()).keys.find((k) => k.kty === 'RSA') as JWK & { kid: string };
    const pem = createPublicKey({ key: rsa, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
    const now = Math.floor(Date.now() / 1000);
    const header = b64({ alg: 'HS256', typ: 'at+jwt', kid: rsa.kid });
    const payload = b64({
      iss: ctx.app.services.config.issuer,
      aud: 'api1',
      sub: rs256Client.key.publicKey,
      client_id: rs256Client.key.publicKey,
      scope: 'api1',
      iat: now,
      exp: now + 600,
      jti: 'forged',
      tenant_id: ctx.seed.a.tenantId,
      workspace_id: null,
    });
    const mac = createHmac('sha256', pem).update(`${header}.${payload}`).digest('base64url');
    const res = await bearer('/me', `${header}.${payload}.${mac}`);
    expect(res.statusCode).toBe(401);
    expect(res.json().detail).toMatch(/algorithm/);
  });

  it('verifyIdTokenHint accepts a genuine ID token and tells its sub, aud and sid', async () => {
    for (const client of [rs256Client, es256Client]) {
      const check = await hint(await idTokenOf({ client }));
      expect(check).toEqual({
        ok: true,
        claims: { sub: String(ada.id), aud: client.key.publicKey, sid: ada.sid },
      });
    }
  });

  it('verifyIdTokenHint accepts an expired genuine ID token (RP-initiated logout 1.0, 2)', async () => {
    const issuedAt = Date.now() - 3 * ctx.app.services.config.accessTokenTtl * 1000;
    const expired = await issueIdToken(ctx.app.services, {
      client: rs256Client.key,
      userId: ada.id,
      scope: 'openid',
      nonce: null,
      authTime: issuedAt,
      sid: ada.sid,
      accessToken: 'irrelevant',
      now: issuedAt,
    });
    await expect(verifyAsClient(expired, rs256Client, 'RS256')).rejects.toBeInstanceOf(errors.JWTExpired);
    expect(await hint(expired)).toEqual({
      ok: true,
      claims: { sub: String(ada.id), aud: rs256Client.key.publicKey, sid: ada.sid },
    });
  });

  it('verifyIdTokenHint refuses alg none, signed or unsigned', async () => {
    const genuine = await idTokenOf();
    const [, payload] = genuine.split('.');
    const kid = decodeProtectedHeader(genuine).kid;
    for (const alg of ['none', 'None', 'NONE']) {
      const header = b64({ alg, typ: 'JWT', kid });
      expect(await hint(`${header}.${payload}.`)).toEqual({ ok: false, reason: 'the ID token is malformed' });
      expect(await hint(`${header}.${payload}.AAAA`)).toEqual({
        ok: false,
        reason: 'the ID token algorithm is not accepted',
      });
    }
  });

  it('verifyIdTokenHint refuses HS256 keyed with our RSA public key, however the key is written', async () => {
    const genuine = await idTokenOf();
    const [, payload] = genuine.split('.');
    const rsa = (await jwks()).keys.find((k) => k.kty === 'RSA') as JWK & { kid: string; n: string };
    const publicKey = createPublicKey({ key: rsa, format: 'jwk' });
    const header = b64({ alg: 'HS256', typ: 'JWT', kid: rsa.kid });
    const secrets = [
      publicKey.export({ type: 'spki', format: 'pem' }),
      publicKey.export({ type: 'pkcs1', format: 'pem' }),
      publicKey.export({ type: 'spki', format: 'der' }),
      JSON.stringify(rsa),
      Buffer.from(rsa.n, 'base64url'),
    ];
    for (const secret of secrets) {
      const mac = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
      expect(await hint(`${header}.${payload}.${mac}`)).toEqual({
        ok: false,
        reason: 'the ID token algorithm is not accepted',
      });
    }
  });

  it("verifyIdTokenHint refuses an algorithm that is not its key's (kid/alg mismatch)", async () => {
    const rsToken = await idTokenOf();
    const esToken = await idTokenOf({ client: es256Client });
    const [, rsPayload, rsSignature] = rsToken.split('.');
    const [, esPayload, esSignature] = esToken.split('.');
    const rsKid = decodeProtectedHeader(rsToken).kid;
    const mismatch = { ok: false, reason: 'the ID token algorithm does not match its key' };
    // The RSA key's genuine token, relabelled ES256.
    const relabelled = b64({ ...decodeProtectedHeader(rsToken), alg: 'ES256' });
    expect(await hint(`${relabelled}.${rsPayload}.${rsSignature}`)).toEqual(mismatch);
    // The EC key's genuine signature, presented under the RSA key's kid.
    const swapped = b64({ alg: 'ES256', typ: 'JWT', kid: rsKid });
    expect(await hint(`${swapped}.${esPayload}.${esSignature}`)).toEqual(mismatch);
  });

  it('verifyIdTokenHint refuses a tampered payload', async () => {
    const [header, payload, signature] = (await idTokenOf()).split('.');
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8'));
    for (const change of [{ sub: String(ctx.seed.a.userId) }, { aud: es256Client.key.publicKey }]) {
      expect(await hint(`${header}.${b64({ ...claims, ...change })}.${signature}`)).toEqual({
        ok: false,
        reason: 'the ID token signature is invalid',
      });
    }
  });

  it('verifyIdTokenHint refuses a token of another issuer, even signed with our own key', async () => {
    const claims = decodeJwt(await idTokenOf());
    const signer = ctx.app.services.keyRing.signer('RS256');
    const forged = await signCompact(
      { alg: 'RS256', typ: 'JWT', kid: signer.kid },
      { ...claims, iss: 'https://evil.example' },
      signer.key,
    );
    expect(await hint(forged)).toEqual({ ok: false, reason: 'the ID token was issued by another issuer' });
  });

  it('verifyIdTokenHint refuses an access token, an unknown kid, a missing subject and garbage', async () => {
    const accessToken = await tokenFor(ctx.app, ctx.seed.orgKeyA);
    expect(await hint(accessToken)).toEqual({ ok: false, reason: 'the token is not an ID token (typ)' });
    const signer = ctx.app.services.keyRing.signer('RS256');
    const claims = decodeJwt(await idTokenOf());
    const signed = (payload: object, header: Record<string, string> = {}) =>
      signCompact({ alg: 'RS256', typ: 'JWT', kid: signer.kid, ...header }, payload, signer.key);
    // An access token's claims under the ID token typ: its aud is the API, not a client.
    expect(await hint(await signed(decodeJwt(accessToken)))).toEqual({
      ok: false,
      reason: 'the token is not an ID token (aud)',
    });
    const { sub: _sub, ...noSubject } = claims;
    expect(await hint(await signed(noSubject))).toEqual({ ok: false, reason: 'the ID token has no subject' });
    expect(await hint(await signed(claims, { kid: 'made-up' }))).toEqual({
      ok: false,
      reason: 'the ID token was signed by an unknown key',
    });
    for (const garbage of ['', 'a.b', 'not a token', `${'a'.repeat(9000)}.b.c`]) {
      expect(await hint(garbage)).toEqual({ ok: false, reason: 'the ID token is malformed' });
    }
  });

  // Last: it rotates the keys every test above was signed with.
  it('rotation keeps the previous keys published: earlier ID tokens still verify, new ones carry the new kids', async () => {
    const before = { RS256: await idTokenOf(), ES256: await idTokenOf({ client: es256Client }) };
    const rotated = await rotateSigningKey(ctx.app.services.db, SECRET, CLI_ACTOR);
    await ctx.app.services.keyRing.reload();
    const published = (await jwks()).keys.map((k) => k.kid);
    for (const { alg, kid, previousKid } of rotated) {
      expect(published).toContain(kid);
      expect(published).toContain(previousKid);
      const client = alg === 'RS256' ? rs256Client : es256Client;
      expect(decodeProtectedHeader(before[alg]).kid).toBe(previousKid);
      await expect(verifyAsClient(before[alg], client, alg)).resolves.toBeTruthy();
      expect((await hint(before[alg])).ok).toBe(true);
      const after = await idTokenOf({ client });
      expect(decodeProtectedHeader(after).kid).toBe(kid);
      await expect(verifyAsClient(after, client, alg)).resolves.toBeTruthy();
    }
  });
});
