import { beforeAll, expect, it } from 'vitest';
import { Browser, codeFor, tokenRequest } from '../helpers/authorization-flow.ts';
import { countStatuses, releaseMany } from '../helpers/concurrent.ts';
import { PASSWORD, seed } from '../helpers/seed.ts';
import { useSeededApp } from '../helpers/seeded-app.ts';
import { createTestApp, describeEachDialect } from '../helpers/test-app.ts';
import { OAUTH_ENV } from '../oauth/oauth-helpers.ts';

const REDIRECT = 'https://app.example/callback';

/** Budgets and single-use credentials, attacked with requests released at once rather than in a loop. */
describeEachDialect('budgets and single-use credentials under concurrent requests', (dialect) => {
  const ctx = useSeededApp(dialect, OAUTH_ENV);
  let client: { publicKey: string; privateKey: string };
  let owner: Browser;
  beforeAll(async () => {
    client = { publicKey: ctx.seed.orgKeyA.key.publicKey, privateKey: ctx.seed.orgKeyA.privateKey };
    owner = new Browser(ctx.app);
    expect((await owner.signIn('owner@a.test', PASSWORD)).statusCode).toBe(303);
  });

  it("spends a client's token-endpoint budget exactly: 30 concurrent requests, 20 tokens", async () => {
    const limited = await createTestApp(dialect, { GATEHOUSE_RATE_LIMIT: '20' });
    try {
      const keys = await seed(limited.app.services.db);
      const other = {
        publicKey: keys.workspaceKeyA.key.publicKey,
        privateKey: keys.workspaceKeyA.privateKey,
      };
      const responses = await releaseMany(30, () =>
        tokenRequest(limited.app, other, { grant_type: 'client_credentials' }),
      );
      expect(countStatuses(responses)).toEqual({ 200: 20, 429: 10 });
    } finally {
      await limited.close();
    }
  });

  const code = () => codeFor(owner, client.publicKey);

  it("spends a key's API budget exactly: 40 concurrent requests, 30 answered", async () => {
    const limited = await createTestApp(dialect, { GATEHOUSE_RATE_LIMIT: '30' });
    try {
      const keys = await seed(limited.app.services.db);
      const me = () => limited.app.inject({ url: '/me', headers: { 'x-api-key': keys.orgKeyB.privateKey } });
      // Verified once first, so that all 40 are answered from the cache, in one tick.
      expect((await me()).statusCode).toBe(200);
      expect(countStatuses(await releaseMany(40, me))).toEqual({ 200: 29, 429: 11 });
    } finally {
      await limited.close();
    }
  });

  it('exchanges a code once when 20 exchanges are released at once, and revokes what the winner got', async () => {
    const value = await code();
    const responses = await releaseMany(20, () =>
      tokenRequest(ctx.app, client, {
        grant_type: 'authorization_code',
        code: value,
        redirect_uri: REDIRECT,
      }),
    );
    const counts = countStatuses(responses);
    expect(counts[200]).toBe(1);
    expect(counts[400]).toBe(19);
    const winner = responses.find((r) => r.statusCode === 200)?.json();
    const me = await ctx.app.inject({
      url: '/me',
      headers: { authorization: `Bearer ${winner.access_token}` },
    });
    expect(me.statusCode).toBe(401);
  });

  it('rotates a refresh token once when 20 refreshes are released at once, and ends the family', async () => {
    const first = await tokenRequest(ctx.app, client, {
      grant_type: 'authorization_code',
      code: await code(),
      redirect_uri: REDIRECT,
    });
    const { refresh_token } = first.json();
    const responses = await releaseMany(20, () =>
      tokenRequest(ctx.app, client, { grant_type: 'refresh_token', refresh_token }),
    );
    const counts = countStatuses(responses);
    expect(counts[200] ?? 0).toBeLessThanOrEqual(1);
    expect(counts[400]).toBeGreaterThanOrEqual(19);
    // Reuse was detected, so every refresh token of the family is dead, the winner's included.
    for (const res of responses.filter((r) => r.statusCode === 200)) {
      const next = await tokenRequest(ctx.app, client, {
        grant_type: 'refresh_token',
        refresh_token: res.json().refresh_token,
      });
      expect(next.json().error).toBe('invalid_grant');
    }
  });
});
