import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { Browser } from '../../server/test/helpers/authorization-flow.ts';
import { describeEachDialect } from '../../server/test/helpers/test-app.ts';
import { Gatehouse, OAuthClient, type StoredTokens, type TokenSet } from '../src/index.ts';
import {
  bearerOf,
  personTokens,
  recordingFetch,
  revokeToken,
  type SdkServer,
  startServer,
} from './sdk-server.ts';

describeEachDialect('SDK with a person’s tokens (refresh with rotation)', (dialect) => {
  let server: SdkServer;
  let browser: Browser;
  beforeAll(async () => {
    server = await startServer(dialect);
    browser = new Browser(server.app);
  });
  afterAll(() => server.close());
  afterEach(() => {
    vi.useRealTimers();
  });

  /** A client of tenant A's org key holding `tokens`, recording its requests and every new token set. */
  function client(tokens: StoredTokens) {
    const recorder = recordingFetch();
    const saved: TokenSet[] = [];
    const sdk = new Gatehouse({
      baseUrl: server.baseUrl,
      clientId: server.seeded.orgKeyA.key.publicKey,
      clientSecret: server.seeded.orgKeyA.privateKey,
      tokens,
      onTokens: (next) => {
        saved.push(next);
      },
      fetch: recorder.fetch,
    });
    return { sdk, recorder, saved };
  }

  it('uses a valid access token as it is: no refresh, nothing to persist', async () => {
    const tokens = await personTokens(server, browser);
    const { sdk, recorder, saved } = client(tokens);
    await expect(sdk.me()).resolves.toMatchObject({ authMethod: 'bearer', user: { email: 'owner@a.test' } });
    expect(recorder.tokenCalls()).toHaveLength(0);
    expect(saved).toEqual([]);
  });

  it('with only a refresh token, refreshes first and hands the new pair to onTokens', async () => {
    const tokens = await personTokens(server, browser);
    const { sdk, recorder, saved } = client({ refreshToken: tokens.refreshToken });
    await expect(sdk.me()).resolves.toMatchObject({ user: { email: 'owner@a.test' } });
    expect(recorder.tokenCalls()).toHaveLength(1);
    expect(saved).toHaveLength(1);
    expect(saved[0]).toMatchObject({ tokenType: 'Bearer', scope: 'api1 offline_access' });
    expect(saved[0]?.refreshToken).toEqual(expect.any(String));
    expect(saved[0]?.refreshToken).not.toBe(tokens.refreshToken);
    expect(bearerOf(recorder.calls.at(-1))).toBe(saved[0]?.accessToken);
  });

  it('after a 401 (access token revoked) refreshes once, retries, and rotates the refresh token each time', async () => {
    const tokens = await personTokens(server, browser);
    const { sdk, recorder, saved } = client(tokens);
    const { orgKeyA } = server.seeded;
    await revokeToken(server.baseUrl, orgKeyA, tokens.accessToken);
    await expect(sdk.me()).resolves.toMatchObject({ user: { email: 'owner@a.test' } });
    await revokeToken(server.baseUrl, orgKeyA, saved[0]?.accessToken ?? '');
    await expect(sdk.workspaces.list()).resolves.toMatchObject({ total: 7 });
    expect(recorder.tokenCalls()).toHaveLength(2);
    const refreshTokens = [tokens.refreshToken, ...saved.map((t) => t.refreshToken)];
    expect(new Set(refreshTokens).size).toBe(3);
  });

  it('N requests refused together share one refresh: a rotated refresh token is never presented twice', async () => {
    const tokens = await personTokens(server, browser);
    const { sdk, recorder, saved } = client(tokens);
    await revokeToken(server.baseUrl, server.seeded.orgKeyA, tokens.accessToken);
    const answers = await Promise.all(Array.from({ length: 6 }, () => sdk.me()));
    expect(answers.every((me) => me.user?.email === 'owner@a.test')).toBe(true);
    expect(recorder.tokenCalls()).toHaveLength(1);
    expect(saved).toHaveLength(1);
  });

  it('refreshes before the access token expires (clock moved to its last seconds)', async () => {
    const tokens = await personTokens(server, browser);
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    const { sdk, recorder, saved } = client(tokens);
    vi.setSystemTime(tokens.expiresAt - 30_000);
    await sdk.me();
    expect(recorder.tokenCalls()).toHaveLength(1);
    expect(bearerOf(recorder.calls.at(-1))).toBe(saved[0]?.accessToken);
  });

  it('a refresh token the server no longer honours is an invalid_grant GatehouseError', async () => {
    const tokens = await personTokens(server, browser);
    const oauth = new OAuthClient({
      baseUrl: server.baseUrl,
      clientId: server.seeded.orgKeyA.key.publicKey,
      clientSecret: server.seeded.orgKeyA.privateKey,
    });
    const next = await oauth.refresh(tokens.refreshToken ?? '');
    expect(next.refreshToken).not.toBe(tokens.refreshToken);
    // Presenting the rotated one again is reuse: refused, and the whole family is revoked (RFC 9700 4.14.2).
    const { sdk } = client({ refreshToken: tokens.refreshToken });
    await expect(sdk.me()).rejects.toMatchObject({ status: 400, code: 'invalid_grant' });
    await expect(oauth.refresh(next.refreshToken ?? '')).rejects.toMatchObject({ code: 'invalid_grant' });
  });

  it('without a refresh token, an access token is used until refused, then the 401 reaches the caller', async () => {
    const tokens = await personTokens(server, browser, 'api1');
    const { sdk, recorder } = client({ accessToken: tokens.accessToken });
    await sdk.me();
    await revokeToken(server.baseUrl, server.seeded.orgKeyA, tokens.accessToken);
    await expect(sdk.me()).rejects.toMatchObject({ status: 401, code: 'invalid_token' });
    expect(recorder.tokenCalls()).toHaveLength(0);
  });

  it('tokens with neither an access nor a refresh token are refused at construction', () => {
    expect(() => client({})).toThrow(/accessToken or a refreshToken/);
  });
});
