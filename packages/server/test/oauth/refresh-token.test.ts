import { beforeAll, expect, it } from 'vitest';
import { createApiKey, revokeApiKey } from '../../src/domain/api-keys.ts';
import { CLI_ACTOR } from '../../src/domain/audit.ts';
import { Browser, tokenRequest } from '../helpers/authorization-flow.ts';
import { basicAuth, eventually, postForm } from '../helpers/http.ts';
import { PASSWORD } from '../helpers/seed.ts';
import { useSeededApp } from '../helpers/seeded-app.ts';
import { describeEachDialect } from '../helpers/test-app.ts';

const REDIRECT = 'https://app.example/callback';

interface Tokens {
  access_token: string;
  refresh_token: string;
  scope: string;
  expires_in: number;
}

describeEachDialect('refresh_token grant and refresh-token revocation', (dialect) => {
  const ctx = useSeededApp(dialect);
  let owner: Browser;
  let client: { publicKey: string; privateKey: string };

  beforeAll(async () => {
    client = { publicKey: ctx.seed.orgKeyA.key.publicKey, privateKey: ctx.seed.orgKeyA.privateKey };
    owner = new Browser(ctx.app);
    await owner.signIn('owner@a.test', PASSWORD);
  });

  async function grant(by = client): Promise<Tokens> {
    const { location } = await owner.authorize({
      response_type: 'code',
      client_id: by.publicKey,
      redirect_uri: REDIRECT,
      scope: 'api1 offline_access',
    });
    const code = location?.searchParams.get('code') as string;
    const res = await tokenRequest(ctx.app, by, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
    });
    expect(res.statusCode).toBe(200);
    return res.json();
  }

  const refresh = (token: string, extra: Record<string, string> = {}, by = client) =>
    tokenRequest(ctx.app, by, { grant_type: 'refresh_token', refresh_token: token, ...extra });
  const me = (token: string) => ctx.app.inject({ url: '/me', headers: { authorization: `Bearer ${token}` } });
  const revoke = (token: string, by = client) =>
    postForm(
      ctx.app,
      '/connect/revocation',
      { token, token_type_hint: 'refresh_token' },
      { authorization: basicAuth(by.publicKey, by.privateKey) },
    );

  it('rotates the refresh token on every use and answers the same shape as the code exchange', async () => {
    const first = await grant();
    const res = await refresh(first.refresh_token);
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const second = res.json();
    expect(Object.keys(second)).toEqual([
      'access_token',
      'expires_in',
      'token_type',
      'refresh_token',
      'scope',
    ]);
    expect(second).toMatchObject({ expires_in: 3600, token_type: 'Bearer', scope: 'api1 offline_access' });
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect((await me(second.access_token)).json().user.email).toBe('owner@a.test');
    const third = await refresh(second.refresh_token);
    expect(third.statusCode).toBe(200);
  });

  it('revokes the whole family when a rotated token is presented again (reuse detection)', async () => {
    const first = await grant();
    const second: Tokens = (await refresh(first.refresh_token)).json();
    const reuse = await refresh(first.refresh_token);
    expect(reuse.statusCode).toBe(400);
    expect(reuse.json().error).toBe('invalid_grant');
    // The newest token of the family dies too, and so do the family's access tokens.
    expect((await refresh(second.refresh_token)).json().error).toBe('invalid_grant');
    expect(await eventually(async () => (await me(second.access_token)).statusCode === 401)).toBe(true);
    expect((await me(first.access_token)).statusCode).toBe(401);
    const audit = await ctx.app.services.db
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', 'refresh_token.reused')
      .execute();
    expect(audit[0]).toMatchObject({ tenant_id: ctx.seed.a.tenantId, actor: `key:${client.publicKey}` });
  });

  it('leaves other families of the same user alone when one family is revoked', async () => {
    const victim = await grant();
    const bystander = await grant();
    await refresh(victim.refresh_token);
    await refresh(victim.refresh_token);
    expect((await refresh(bystander.refresh_token)).statusCode).toBe(200);
  });

  it('lets only one of two concurrent uses of a token succeed', async () => {
    const { refresh_token } = await grant();
    const results = await Promise.all([refresh(refresh_token), refresh(refresh_token)]);
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 400]);
  });

  it('refuses a refresh token presented by another client', async () => {
    const other = await createApiKey(
      ctx.app.services.db,
      { tenantId: ctx.seed.a.tenantId, label: 'Other app', redirectUris: [REDIRECT] },
      CLI_ACTOR,
    );
    const { refresh_token } = await grant();
    const res = await refresh(
      refresh_token,
      {},
      { publicKey: other.key.publicKey, privateKey: other.privateKey },
    );
    expect(res.json().error).toBe('invalid_grant');
    expect((await refresh(refresh_token)).statusCode).toBe(200);
  });

  it('refuses an expired refresh token', async () => {
    const { refresh_token } = await grant();
    await ctx.app.services.db
      .updateTable('refresh_tokens')
      .set({ expires_at: Date.now() - 1 })
      .execute();
    expect((await refresh(refresh_token)).json()).toMatchObject({
      error: 'invalid_grant',
      error_description: 'the refresh token has expired',
    });
  });

  it('slides the lifetime: each new token lives refreshTokenTtl from its own issue', async () => {
    const { refresh_token } = await grant();
    const before = Date.now();
    await refresh(refresh_token);
    const newest = await ctx.app.services.db
      .selectFrom('refresh_tokens')
      .select(['expires_at', 'parent_id', 'family_id'])
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    expect(newest.parent_id).not.toBeNull();
    expect(newest.expires_at).toBeGreaterThanOrEqual(before + ctx.app.services.config.refreshTokenTtl * 1000);
  });

  it('may narrow the access token scope, never widen it', async () => {
    const { refresh_token } = await grant();
    const narrow = await refresh(refresh_token, { scope: 'api1' });
    expect(narrow.json()).toMatchObject({ scope: 'api1', refresh_token: expect.any(String) });
    const wider = await refresh(narrow.json().refresh_token, { scope: 'api1 admin' });
    expect(wider.json().error).toBe('invalid_scope');
    const noApi = await refresh(narrow.json().refresh_token, { scope: 'offline_access' });
    expect(noApi.json().error).toBe('invalid_scope');
  });

  it('refuses a token of a grant without offline_access to exist at all', async () => {
    const { location } = await owner.authorize({
      response_type: 'code',
      client_id: client.publicKey,
      redirect_uri: REDIRECT,
      scope: 'api1',
      prompt: 'consent',
    });
    const code = location?.searchParams.get('code') as string;
    const res = await tokenRequest(ctx.app, client, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
    });
    expect(res.json().refresh_token).toBeUndefined();
  });

  it.each([
    ['an unknown token', 'grt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['a malformed token', 'grt_<script>'],
    ['an access token', 'eyJhbGciOiJub25lIn0.e30.'],
  ])('refuses %s with invalid_grant', async (_name, token) => {
    expect((await refresh(token)).json().error).toBe('invalid_grant');
  });

  it('requires the refresh_token parameter', async () => {
    const res = await tokenRequest(ctx.app, client, { grant_type: 'refresh_token' });
    expect(res.json().error).toBe('invalid_request');
  });

  it('revocation of a refresh token kills its family and the access tokens of the grant (RFC 7009 2.1)', async () => {
    const first = await grant();
    const second: Tokens = (await refresh(first.refresh_token)).json();
    const res = await revoke(second.refresh_token);
    expect(res.statusCode).toBe(200);
    expect((await refresh(second.refresh_token)).json().error).toBe('invalid_grant');
    expect(await eventually(async () => (await me(second.access_token)).statusCode === 401)).toBe(true);
  });

  it('revocation by another client answers 200 and leaves the token alone', async () => {
    const other = await createApiKey(
      ctx.app.services.db,
      { tenantId: ctx.seed.a.tenantId, label: 'Meddler' },
      CLI_ACTOR,
    );
    const { refresh_token } = await grant();
    const res = await revoke(refresh_token, { publicKey: other.key.publicKey, privateKey: other.privateKey });
    expect(res.statusCode).toBe(200);
    expect((await refresh(refresh_token)).statusCode).toBe(200);
  });

  it('refresh tokens and consents of a revoked key die with it', async () => {
    const key = await createApiKey(
      ctx.app.services.db,
      { tenantId: ctx.seed.a.tenantId, label: 'Doomed app', redirectUris: [REDIRECT] },
      CLI_ACTOR,
    );
    const own = { publicKey: key.key.publicKey, privateKey: key.privateKey };
    const { refresh_token } = await grant(own);
    await revokeApiKey(ctx.app.services.db, key.key.publicKey, CLI_ACTOR);
    const row = await ctx.app.services.db
      .selectFrom('refresh_tokens')
      .select('revoked_at')
      .where('api_key_id', '=', key.key.id)
      .executeTakeFirstOrThrow();
    expect(row.revoked_at).not.toBeNull();
    const consents = await ctx.app.services.db
      .selectFrom('consents')
      .where('api_key_id', '=', key.key.id)
      .selectAll()
      .execute();
    expect(consents).toEqual([]);
    // invalid_grant at once (the token is revoked), invalid_client once the key cache has heard of it.
    expect(['invalid_grant', 'invalid_client']).toContain(
      (await refresh(refresh_token, {}, own)).json().error,
    );
  });

  it('stores refresh tokens only as hashes', async () => {
    const { refresh_token } = await grant();
    const rows = await ctx.app.services.db.selectFrom('refresh_tokens').selectAll().execute();
    expect(JSON.stringify(rows)).not.toContain(refresh_token.slice(4));
  });
});
