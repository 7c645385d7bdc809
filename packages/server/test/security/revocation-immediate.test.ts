import { beforeAll, expect, it } from 'vitest';
import { Browser, codeFor, csrfOf, tokenRequest } from '../helpers/authorization-flow.ts';
import { PASSWORD } from '../helpers/seed.ts';
import { useSeededApp } from '../helpers/seeded-app.ts';
import { describeEachDialect } from '../helpers/test-app.ts';

const REDIRECT = 'https://app.example/callback';

/**
 * DESIGN.md 2: a revocation is effective on the instance that makes it before it answers. Polling is
 * slowed to a minute here, so that only the instance's own update can refuse the token in time.
 */
describeEachDialect('revocations take effect on this instance before it answers', (dialect) => {
  const ctx = useSeededApp(dialect, {}, { keyCache: { pollMs: 60_000 } });
  let owner: Browser;
  let client: { publicKey: string; privateKey: string };
  beforeAll(async () => {
    client = { publicKey: ctx.seed.orgKeyA.key.publicKey, privateKey: ctx.seed.orgKeyA.privateKey };
    owner = new Browser(ctx.app);
    expect((await owner.signIn('owner@a.test', PASSWORD)).statusCode).toBe(303);
  });

  const code = () => codeFor(owner, client.publicKey);
  const exchange = (value: string) =>
    tokenRequest(ctx.app, client, { grant_type: 'authorization_code', code: value, redirect_uri: REDIRECT });
  const me = (token: string) => ctx.app.inject({ url: '/me', headers: { authorization: `Bearer ${token}` } });

  async function removeAccess(): Promise<void> {
    const page = await owner.get('/console');
    const res = await owner.post(`/console/consents/${client.publicKey}/revoke`, {
      csrf_token: csrfOf(page.body),
    });
    expect(res.statusCode).toBe(303);
  }

  it('refuses the access token at once after a refresh token is reused', async () => {
    const tokens = (await exchange(await code())).json();
    expect((await me(tokens.access_token)).statusCode).toBe(200);
    const rotated = await tokenRequest(ctx.app, client, {
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token,
    });
    expect(rotated.statusCode).toBe(200);
    const reuse = await tokenRequest(ctx.app, client, {
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token,
    });
    expect(reuse.json().error).toBe('invalid_grant');
    expect((await me(tokens.access_token)).statusCode).toBe(401);
    expect((await me(rotated.json().access_token)).statusCode).toBe(401);
  });

  it('refuses the access token at once after its code is replayed', async () => {
    const value = await code();
    const tokens = (await exchange(value)).json();
    expect((await me(tokens.access_token)).statusCode).toBe(200);
    expect((await exchange(value)).json().error).toBe('invalid_grant');
    expect((await me(tokens.access_token)).statusCode).toBe(401);
  });

  it('refuses the access token at once after the user removes the app', async () => {
    const tokens = (await exchange(await code())).json();
    expect((await me(tokens.access_token)).statusCode).toBe(200);
    await removeAccess();
    expect((await me(tokens.access_token)).statusCode).toBe(401);
  });

  it('refuses a code issued before the user removed the app with invalid_grant', async () => {
    const value = await code();
    await removeAccess();
    const res = await exchange(value);
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('invalid_grant');
  });

  it('refuses every code in flight when the user removes the app', async () => {
    // Two codes in flight, access removed once: neither works.
    const first = await code();
    const second = await code();
    await removeAccess();
    expect((await exchange(first)).json().error).toBe('invalid_grant');
    expect((await exchange(second)).json().error).toBe('invalid_grant');
  });
});
