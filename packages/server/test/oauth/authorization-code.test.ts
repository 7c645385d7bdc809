import { decodeJwt, decodeProtectedHeader } from 'jose';
import { beforeAll, expect, it } from 'vitest';
import { createApiKey, type IssuedApiKey } from '../../src/domain/api-keys.ts';
import { CLI_ACTOR } from '../../src/domain/audit.ts';
import { addMember } from '../../src/domain/members.ts';
import { Browser, pkcePair, tokenRequest } from '../helpers/authorization-flow.ts';
import { eventually, postForm } from '../helpers/http.ts';
import { PASSWORD } from '../helpers/seed.ts';
import { useSeededApp } from '../helpers/seeded-app.ts';
import { describeEachDialect } from '../helpers/test-app.ts';

const REDIRECT = 'https://app.example/callback';
const OWNER_A = { email: 'owner@a.test', password: PASSWORD };

describeEachDialect('authorization_code grant at /connect/token', (dialect) => {
  const ctx = useSeededApp(dialect);
  let owner: Browser;
  let client: { publicKey: string; privateKey: string };
  let otherClient: IssuedApiKey;

  beforeAll(async () => {
    client = { publicKey: ctx.seed.orgKeyA.key.publicKey, privateKey: ctx.seed.orgKeyA.privateKey };
    otherClient = await createApiKey(
      ctx.app.services.db,
      { tenantId: ctx.seed.a.tenantId, label: 'Other app', redirectUris: [REDIRECT] },
      CLI_ACTOR,
    );
    owner = new Browser(ctx.app);
    await owner.signIn(OWNER_A.email, OWNER_A.password);
  });

  const query = (extra: Record<string, string> = {}) => ({
    response_type: 'code',
    client_id: client.publicKey,
    redirect_uri: REDIRECT,
    scope: 'api1 offline_access',
    state: 's',
    ...extra,
  });

  async function codeFor(extra: Record<string, string> = {}, browser = owner): Promise<string> {
    const { location, res } = await browser.authorize(query(extra));
    const code = location?.searchParams.get('code');
    if (!code)
      throw new Error(`no code: ${res.statusCode} ${res.headers.location ?? res.body.slice(0, 300)}`);
    return code;
  }

  const exchange = (code: string, extra: Record<string, string> = {}, by = client) =>
    tokenRequest(ctx.app, by, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, ...extra });
  const me = (token: string) => ctx.app.inject({ url: '/me', headers: { authorization: `Bearer ${token}` } });

  it('answers access_token, expires_in 3600, Bearer, refresh_token and scope, uncached', async () => {
    const res = await exchange(await codeFor());
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json();
    expect(Object.keys(body)).toEqual(['access_token', 'expires_in', 'token_type', 'refresh_token', 'scope']);
    expect(body).toMatchObject({ expires_in: 3600, token_type: 'Bearer', scope: 'api1 offline_access' });
    expect(body.refresh_token).toMatch(/^grt_[A-Za-z0-9_-]{43}$/);
  });

  it('issues no refresh token without offline_access', async () => {
    const res = await exchange(await codeFor({ scope: 'api1' }));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      access_token: expect.any(String),
      expires_in: 3600,
      token_type: 'Bearer',
      scope: 'api1',
    });
  });

  it('issues an RFC 9068 token whose sub is the user, in the key tenant, and /me shows the user', async () => {
    const { access_token } = (await exchange(await codeFor())).json();
    expect(decodeProtectedHeader(access_token)).toMatchObject({ typ: 'at+jwt', alg: 'ES256' });
    expect(decodeJwt(access_token)).toMatchObject({
      sub: String(ctx.seed.a.userId),
      client_id: client.publicKey,
      tenant_id: ctx.seed.a.tenantId,
      workspace_id: null,
      aud: 'api1',
      scope: 'api1 offline_access',
      // The lesser of the key's (write) and the owner's role (admin).
      permissions: 'write',
    });
    const res = await me(access_token);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      authMethod: 'bearer',
      tenantId: ctx.seed.a.tenantId,
      workspaceId: null,
      apiKey: { publicKey: client.publicKey, label: 'A org key' },
      user: { id: ctx.seed.a.userId, email: 'owner@a.test', displayName: null, role: 'owner' },
      scope: 'api1 offline_access',
      permissions: 'write',
    });
  });

  it('lists only the workspaces both the key and the user may see', async () => {
    const member = await addMember(
      ctx.app.services.db,
      {
        tenantId: ctx.seed.a.tenantId,
        email: 'member@a.test',
        password: PASSWORD,
        role: 'member',
        workspaceIds: [ctx.seed.a.secondWorkspaceId],
      },
      CLI_ACTOR,
    );
    const browser = new Browser(ctx.app);
    const { location } = await browser.authorize(query(), { email: 'member@a.test', password: PASSWORD });
    const { access_token } = (await exchange(location?.searchParams.get('code') as string)).json();
    const list = await ctx.app.inject({
      url: '/v1/workspaces',
      headers: { authorization: `Bearer ${access_token}` },
    });
    expect(list.json().items.map((w: { id: number }) => w.id)).toEqual([ctx.seed.a.secondWorkspaceId]);
    const main = await ctx.app.inject({
      url: `/v1/workspaces/${ctx.seed.a.mainWorkspaceId}`,
      headers: { authorization: `Bearer ${access_token}` },
    });
    expect(main.statusCode).toBe(404);
    expect((await me(access_token)).json().user).toEqual({
      id: member.user.id,
      email: 'member@a.test',
      displayName: null,
      role: 'member',
    });
    // The owner, through the same key, sees the whole organization.
    const ownerToken = (await exchange(await codeFor())).json().access_token;
    const all = await ctx.app.inject({
      url: '/v1/workspaces',
      headers: { authorization: `Bearer ${ownerToken}` },
    });
    expect(all.json().total).toBe(2);
  });

  it('refuses at authorization a user whose workspaces do not meet the key workspace', async () => {
    await addMember(
      ctx.app.services.db,
      {
        tenantId: ctx.seed.a.tenantId,
        email: 'main-only@a.test',
        password: PASSWORD,
        role: 'member',
        workspaceIds: [ctx.seed.a.mainWorkspaceId],
      },
      CLI_ACTOR,
    );
    const scoped = await createApiKey(
      ctx.app.services.db,
      {
        tenantId: ctx.seed.a.tenantId,
        workspaceId: ctx.seed.a.secondWorkspaceId,
        label: 'Second only',
        redirectUris: [REDIRECT],
      },
      CLI_ACTOR,
    );
    const { location } = await new Browser(ctx.app).authorize(query({ client_id: scoped.key.publicKey }), {
      email: 'main-only@a.test',
      password: PASSWORD,
    });
    expect(location?.searchParams.get('error')).toBe('access_denied');
    expect(location?.searchParams.get('code')).toBeNull();
  });

  it('refuses a replayed code and revokes every token issued from the first exchange', async () => {
    const code = await codeFor();
    const first = (await exchange(code)).json();
    expect((await me(first.access_token)).statusCode).toBe(200);
    const replay = await exchange(code);
    expect(replay.statusCode).toBe(400);
    expect(replay.json().error).toBe('invalid_grant');
    expect(await eventually(async () => (await me(first.access_token)).statusCode === 401)).toBe(true);
    const refresh = await tokenRequest(ctx.app, client, {
      grant_type: 'refresh_token',
      refresh_token: first.refresh_token,
    });
    expect(refresh.json().error).toBe('invalid_grant');
    const audit = await ctx.app.services.db
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', 'authorization_code.replayed')
      .execute();
    expect(audit.length).toBeGreaterThan(0);
    expect(audit[0]).toMatchObject({ tenant_id: ctx.seed.a.tenantId, actor: `key:${client.publicKey}` });
  });

  it('lets only one of two concurrent exchanges of a code succeed', async () => {
    const code = await codeFor();
    const results = await Promise.all([exchange(code), exchange(code), exchange(code)]);
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 400, 400]);
  });

  it('refuses a code presented by another client, and leaves it usable by its own', async () => {
    const code = await codeFor();
    const stolen = await exchange(
      code,
      {},
      { publicKey: otherClient.key.publicKey, privateKey: otherClient.privateKey },
    );
    expect(stolen.statusCode).toBe(400);
    expect(stolen.json().error).toBe('invalid_grant');
    expect((await exchange(code)).statusCode).toBe(200);
  });

  it.each([
    ['missing', undefined],
    ['different', 'https://app.example/other'],
    ['with a trailing slash', `${REDIRECT}/`],
  ])('refuses a redirect_uri that is %s (RFC 6749 4.1.3)', async (_name, redirectUri) => {
    const code = await codeFor();
    const form: Record<string, string> = { grant_type: 'authorization_code', code };
    if (redirectUri) form.redirect_uri = redirectUri;
    const res = await tokenRequest(ctx.app, client, form);
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('invalid_grant');
  });

  it('requires the PKCE verifier when a challenge was sent, and checks it (RFC 7636 4.6)', async () => {
    const { verifier, challenge } = pkcePair();
    const code = await codeFor({ code_challenge: challenge, code_challenge_method: 'S256' });
    for (const extra of [
      {},
      { code_verifier: pkcePair().verifier },
      { code_verifier: `${verifier}x` },
      { code_verifier: 'short' },
    ]) {
      const res = await exchange(code, extra);
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toBe('invalid_grant');
    }
    const ok = await exchange(code, { code_verifier: verifier });
    expect(ok.statusCode).toBe(200);
  });

  it('refuses a verifier for a code that had no challenge (PKCE downgrade, RFC 9700 2.1.1)', async () => {
    const code = await codeFor();
    const res = await exchange(code, { code_verifier: pkcePair().verifier });
    expect(res.json().error).toBe('invalid_grant');
  });

  it('refuses an expired code (60 s)', async () => {
    const code = await codeFor();
    await ctx.app.services.db
      .updateTable('authorization_codes')
      .set({ expires_at: Date.now() - 1 })
      .execute();
    const res = await exchange(code);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      error: 'invalid_grant',
      error_description: 'the authorization code has expired',
    });
  });

  it('issues codes that live 60 seconds', async () => {
    const before = Date.now();
    await codeFor();
    const row = await ctx.app.services.db
      .selectFrom('authorization_codes')
      .select(['created_at', 'expires_at'])
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    expect(row.expires_at - row.created_at).toBe(60_000);
    expect(row.created_at).toBeGreaterThanOrEqual(before);
  });

  it.each([
    ['an unknown code', 'gac_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['a malformed code', "' or 1=1 --"],
    ['unicode', 'gac_💥'],
  ])('refuses %s with invalid_grant', async (_name, code) => {
    const res = await exchange(code);
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('invalid_grant');
  });

  it('requires the code parameter', async () => {
    const res = await tokenRequest(ctx.app, client, {
      grant_type: 'authorization_code',
      redirect_uri: REDIRECT,
    });
    expect(res.json().error).toBe('invalid_request');
  });

  it('requires client authentication', async () => {
    const code = await codeFor();
    const res = await postForm(ctx.app, '/connect/token', {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
    });
    expect(res.statusCode).toBe(401);
    expect(res.json().error).toBe('invalid_client');
  });

  it('accepts client_secret_post as well as Basic', async () => {
    const code = await codeFor();
    const res = await postForm(ctx.app, '/connect/token', {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      client_id: client.publicKey,
      client_secret: client.privateKey,
    });
    expect(res.statusCode).toBe(200);
  });

  it('refuses the exchange when the user left the organization in the meantime', async () => {
    await addMember(
      ctx.app.services.db,
      { tenantId: ctx.seed.a.tenantId, email: 'leaver@a.test', password: PASSWORD, role: 'admin' },
      CLI_ACTOR,
    );
    const browser = new Browser(ctx.app);
    const { location } = await browser.authorize(query(), { email: 'leaver@a.test', password: PASSWORD });
    const code = location?.searchParams.get('code') as string;
    const user = await ctx.app.services.db
      .selectFrom('users')
      .select('id')
      .where('email', '=', 'leaver@a.test')
      .executeTakeFirstOrThrow();
    await ctx.app.services.db.deleteFrom('memberships').where('user_id', '=', user.id).execute();
    const res = await exchange(code);
    expect(res.json().error).toBe('invalid_grant');
  });

  it('stores codes only as hashes', async () => {
    const code = await codeFor();
    const rows = await ctx.app.services.db.selectFrom('authorization_codes').selectAll().execute();
    expect(JSON.stringify(rows)).not.toContain(code);
    expect(JSON.stringify(rows)).not.toContain(code.slice(4));
  });
});
