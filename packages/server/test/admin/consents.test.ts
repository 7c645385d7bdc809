import { beforeAll, expect, it } from 'vitest';
import { createApiKey } from '../../src/domain/api-keys.ts';
import { CLI_ACTOR } from '../../src/domain/audit.ts';
import { addMember } from '../../src/domain/members.ts';
import { Browser, codeFor, tokenRequest } from '../helpers/authorization-flow.ts';
import { basicAuth, postForm } from '../helpers/http.ts';
import { PASSWORD } from '../helpers/seed.ts';
import { useSeededApp } from '../helpers/seeded-app.ts';
import { describeEachDialect } from '../helpers/test-app.ts';

const REDIRECT = 'https://app.example/callback';
const EMAIL = 'consenting@a.test';

interface Client {
  publicKey: string;
  privateKey: string;
}

interface Tokens {
  access_token: string;
  refresh_token: string;
}

/**
 * Issue 10: `GET /v1/me/consents` and `DELETE /v1/me/consents/{publicKey}`, for the signed-in person's
 * own consents, through a real user token of the authorization code flow. The user is a member of
 * both tenants and has consented to an application of each: a token of one organization must learn
 * nothing of the other's, nor change it. Polling is slowed to a minute, so that "at once" can only be
 * this instance's own update.
 */
describeEachDialect('admin API: /v1/me/consents', (dialect) => {
  const ctx = useSeededApp(dialect, {}, { keyCache: { pollMs: 60_000 } });
  let browser: Browser;
  let userId: number;
  let appA: Client;
  let appB: Client;

  beforeAll(async () => {
    const { db } = ctx.app.services;
    const { user } = await addMember(
      db,
      { tenantId: ctx.seed.a.tenantId, email: EMAIL, password: PASSWORD, role: 'member' },
      CLI_ACTOR,
    );
    userId = user.id;
    // The same account joins B as it is.
    await addMember(db, { tenantId: ctx.seed.b.tenantId, email: EMAIL, role: 'member' }, CLI_ACTOR);
    const issuedB = await createApiKey(
      db,
      { tenantId: ctx.seed.b.tenantId, label: 'B app', redirectUris: [REDIRECT] },
      CLI_ACTOR,
    );
    appA = { publicKey: ctx.seed.orgKeyA.key.publicKey, privateKey: ctx.seed.orgKeyA.privateKey };
    appB = { publicKey: issuedB.key.publicKey, privateKey: issuedB.privateKey };
    browser = new Browser(ctx.app);
    expect((await browser.signIn(EMAIL, PASSWORD)).statusCode).toBe(303);
  });

  /** A real grant: code (consenting when asked), then the exchange. */
  async function grant(client: Client, by = browser): Promise<Tokens> {
    const code = await codeFor(by, client.publicKey);
    const res = await tokenRequest(ctx.app, client, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
    });
    expect(res.statusCode, res.body).toBe(200);
    return res.json();
  }

  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const list = (headers: Record<string, string>) =>
    ctx.app.inject({ method: 'GET', url: '/v1/me/consents', headers });
  const withdraw = (headers: Record<string, string>, publicKey: string) =>
    ctx.app.inject({ method: 'DELETE', url: `/v1/me/consents/${publicKey}`, headers });
  const refresh = (client: Client, token: string) =>
    tokenRequest(ctx.app, client, { grant_type: 'refresh_token', refresh_token: token });
  const me = (token: string) => ctx.app.inject({ url: '/me', headers: bearer(token) });
  const consentRows = () =>
    ctx.app.services.db.selectFrom('consents').select('api_key_id').where('user_id', '=', userId).execute();
  const listedKeys = async (token: string) =>
    ((await list(bearer(token))).json().items as { publicKey: string }[]).map((c) => c.publicKey);

  it("lists a member's consent to the organization's app in the documented shape", async () => {
    const tokens = await grant(appA);
    const res = await list(bearer(tokens.access_token));
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({
      items: [
        {
          publicKey: appA.publicKey,
          label: 'A org key',
          tenantId: ctx.seed.a.tenantId,
          tenantLabel: 'Tenant A',
          scope: 'api1 offline_access',
          createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        },
      ],
      total: 1,
    });
  });

  it("does not list a consent to another organization's app", async () => {
    const tokensA = await grant(appA);
    const tokensB = await grant(appB);
    expect(await consentRows()).toHaveLength(2);
    const throughA = await list(bearer(tokensA.access_token));
    expect(throughA.json().total).toBe(1);
    expect(throughA.body).not.toContain(appB.publicKey);
    expect(throughA.body).not.toContain('Tenant B');
    expect(await listedKeys(tokensB.access_token)).toEqual([appB.publicKey]);
  });

  it('withdraws a consent with 204: it is no longer listed, nor stored', async () => {
    const tokens = await grant(appA);
    const res = await withdraw(bearer(tokens.access_token), appA.publicKey);
    expect(res.statusCode, res.body).toBe(204);
    const after = await grant(appB);
    expect(await listedKeys(after.access_token)).toEqual([appB.publicKey]);
    expect((await consentRows()).map((r) => r.api_key_id)).not.toContain(ctx.seed.orgKeyA.key.id);
  });

  it("withdrawing a consent ends the grant's refresh tokens (invalid_grant)", async () => {
    const older = await grant(appA);
    const tokens = await grant(appA);
    expect((await withdraw(bearer(tokens.access_token), appA.publicKey)).statusCode).toBe(204);
    for (const token of [tokens.refresh_token, older.refresh_token]) {
      const res = await refresh(appA, token);
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toBe('invalid_grant');
    }
  });

  it("withdrawing a consent refuses the grant's access tokens at once, the caller's own included", async () => {
    const older = await grant(appA);
    const tokens = await grant(appA);
    expect((await withdraw(bearer(tokens.access_token), appA.publicKey)).statusCode).toBe(204);
    for (const token of [tokens.access_token, older.access_token]) {
      const res = await me(token);
      expect(res.statusCode).toBe(401);
      expect(res.json().detail).toBe('the access token was revoked');
    }
  });

  it("withdrawing a consent leaves another person's consent to the same app alone", async () => {
    const owner = new Browser(ctx.app);
    expect((await owner.signIn('owner@a.test', PASSWORD)).statusCode).toBe(303);
    const ownerTokens = await grant(appA, owner);
    const tokens = await grant(appA);
    expect((await withdraw(bearer(tokens.access_token), appA.publicKey)).statusCode).toBe(204);
    expect((await me(ownerTokens.access_token)).statusCode).toBe(200);
    expect((await refresh(appA, ownerTokens.refresh_token)).statusCode).toBe(200);
  });

  it("answers 404 to withdrawing a consent to tenant B's app through A's token, which stays intact", async () => {
    const tokensB = await grant(appB);
    const tokensA = await grant(appA);
    const res = await withdraw(bearer(tokensA.access_token), appB.publicKey);
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe('not_found');
    expect(await listedKeys(tokensB.access_token)).toEqual([appB.publicKey]);
    expect((await me(tokensB.access_token)).statusCode).toBe(200);
    expect((await refresh(appB, tokensB.refresh_token)).statusCode).toBe(200);
  });

  it("answers tenant B's app through A's token exactly like an app never consented to", async () => {
    const tokens = await grant(appA);
    const foreign = await withdraw(bearer(tokens.access_token), appB.publicKey);
    const never = await withdraw(bearer(tokens.access_token), ctx.seed.workspaceKeyA.key.publicKey);
    const unknown = await withdraw(bearer(tokens.access_token), `gpk_${'0'.repeat(24)}`);
    for (const res of [foreign, never, unknown]) expect(res.statusCode).toBe(404);
    expect(foreign.json().detail.replace(appB.publicKey, '')).toBe(
      unknown.json().detail.replace(`gpk_${'0'.repeat(24)}`, ''),
    );
  });

  it('refuses a malformed public key with a 400 naming publicKey', async () => {
    const tokens = await grant(appA);
    const res = await withdraw(bearer(tokens.access_token), 'not-a-public-key');
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toEqual([expect.objectContaining({ field: 'publicKey' })]);
  });

  it('answers 404 to an API key on both routes, and changes nothing', async () => {
    await grant(appA);
    const before = await consentRows();
    for (const key of [ctx.seed.orgKeyA.privateKey, ctx.seed.adminKeyA.privateKey]) {
      const listing = await list({ 'x-api-key': key });
      expect(listing.statusCode).toBe(404);
      expect(listing.json().code).toBe('not_found');
      const removal = await withdraw({ 'x-api-key': key }, appA.publicKey);
      expect(removal.statusCode).toBe(404);
    }
    expect(await consentRows()).toEqual(before);
  });

  it('answers 404 to a client-credentials token (no user) on both routes', async () => {
    const res = await postForm(
      ctx.app,
      '/connect/token',
      { grant_type: 'client_credentials', scope: 'api1' },
      { authorization: basicAuth(appA.publicKey, appA.privateKey) },
    );
    const token = res.json().access_token as string;
    expect((await list(bearer(token))).statusCode).toBe(404);
    expect((await withdraw(bearer(token), appA.publicKey)).statusCode).toBe(404);
  });

  it('answers 401 without a credential', async () => {
    expect((await list({})).statusCode).toBe(401);
    expect((await withdraw({}, appA.publicKey)).statusCode).toBe(401);
  });

  it('audits consent.revoked with the user as the actor', async () => {
    const tokens = await grant(appA);
    await withdraw({ ...bearer(tokens.access_token), 'user-agent': 'consents-test/1.0' }, appA.publicKey);
    const log = await ctx.app.inject({
      url: '/v1/audit-events?action=consent.revoked',
      headers: { 'x-api-key': ctx.seed.adminKeyA.privateKey },
    });
    expect(log.json().items[0]).toMatchObject({
      tenantId: ctx.seed.a.tenantId,
      actor: `user:${userId}`,
      target: appA.publicKey,
      userAgent: 'consents-test/1.0',
    });
  });
});
