import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { describeEachDialect } from '../../server/test/helpers/test-app.ts';
import { Gatehouse, GatehouseError } from '../src/index.ts';
import { bearerOf, recordingFetch, revokeToken, type SdkServer, startServer } from './sdk-server.ts';

describeEachDialect('SDK with client credentials', (dialect) => {
  let server: SdkServer;
  const client = () => ({
    clientId: server.seeded.orgKeyA.key.publicKey,
    clientSecret: server.seeded.orgKeyA.privateKey,
  });
  beforeAll(async () => {
    server = await startServer(dialect);
  });
  afterAll(() => server.close());
  afterEach(() => {
    vi.useRealTimers();
  });

  const tokenCalls = (calls: { url: string }[]) => calls.filter((c) => c.url.endsWith('/connect/token'));

  it('fetches a token once and reuses it until it nears expiry', async () => {
    const recorder = recordingFetch();
    const sdk = new Gatehouse({ baseUrl: server.baseUrl, ...client(), fetch: recorder.fetch });
    const me = await sdk.me();
    expect(me).toMatchObject({ authMethod: 'bearer', tenantId: server.seeded.a.tenantId, scope: 'api1' });
    await sdk.workspaces.list();
    await sdk.me();
    expect(tokenCalls(recorder.calls)).toHaveLength(1);
    const bearers = new Set(
      recorder.calls.filter((c) => !c.url.endsWith('/connect/token')).map((c) => c.authorization),
    );
    expect(bearers.size).toBe(1);
    expect([...bearers][0]).toMatch(/^Bearer ey/);
  });

  it('concurrent first calls share one token request', async () => {
    const recorder = recordingFetch();
    const sdk = new Gatehouse({ baseUrl: server.baseUrl, ...client(), fetch: recorder.fetch });
    await Promise.all([
      sdk.me(),
      sdk.me(),
      sdk.workspaces.list(),
      sdk.workspaces.get(server.seeded.a.mainWorkspaceId),
    ]);
    expect(tokenCalls(recorder.calls)).toHaveLength(1);
  });

  it('after a 401 (token revoked) fetches a new token and retries once', async () => {
    const recorder = recordingFetch();
    const sdk = new Gatehouse({ baseUrl: server.baseUrl, ...client(), fetch: recorder.fetch });
    await sdk.me();
    await revokeToken(server.baseUrl, server.seeded.orgKeyA, bearerOf(recorder.calls.at(-1)));
    await expect(sdk.me()).resolves.toMatchObject({ authMethod: 'bearer' });
    expect(tokenCalls(recorder.calls)).toHaveLength(2);
    const meCalls = recorder.calls.filter((c) => c.url.endsWith('/me'));
    expect(meCalls).toHaveLength(3);
    expect(meCalls[2]?.authorization).not.toBe(meCalls[1]?.authorization);
  });

  it('concurrent requests refused together (token revoked) share one new token and each retry once', async () => {
    const recorder = recordingFetch();
    const sdk = new Gatehouse({ baseUrl: server.baseUrl, ...client(), fetch: recorder.fetch });
    await sdk.me();
    await revokeToken(server.baseUrl, server.seeded.orgKeyA, bearerOf(recorder.calls.at(-1)));
    const answers = await Promise.all([sdk.me(), sdk.me(), sdk.workspaces.list(), sdk.me(), sdk.me()]);
    expect(answers).toHaveLength(5);
    expect(tokenCalls(recorder.calls)).toHaveLength(2);
    // 1 first call, then 5 refused and 5 retried.
    expect(recorder.calls.filter((c) => !c.url.endsWith('/connect/token'))).toHaveLength(11);
  });

  it('a second 401 is not retried again: the error reaches the caller', async () => {
    const sdk = new Gatehouse({
      baseUrl: server.baseUrl,
      ...client(),
      // Every API call is answered 401, as if each new token were revoked at once.
      fetch: async (input, init) =>
        String(input).endsWith('/connect/token')
          ? fetch(input, init)
          : new Response(JSON.stringify({ code: 'invalid_token', detail: 'revoked' }), { status: 401 }),
    });
    await expect(sdk.me()).rejects.toMatchObject({ status: 401, code: 'invalid_token', detail: 'revoked' });
  });

  it('renews the token before expires_in runs out (clock moved past the renewal margin)', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    const recorder = recordingFetch();
    const sdk = new Gatehouse({ baseUrl: server.baseUrl, ...client(), fetch: recorder.fetch });
    await sdk.me();
    // 3600 s tokens are renewed a minute early: at 58 min the first one is still used...
    vi.setSystemTime(Date.now() + 58 * 60_000);
    await sdk.me();
    expect(tokenCalls(recorder.calls)).toHaveLength(1);
    // ...and at 59 min 30 s (still valid on the server) a new one is fetched first.
    vi.setSystemTime(Date.now() + 90_000);
    await sdk.me();
    expect(tokenCalls(recorder.calls)).toHaveLength(2);
    const meCalls = recorder.calls.filter((c) => c.url.endsWith('/me'));
    expect(bearerOf(meCalls[2])).not.toBe(bearerOf(meCalls[1]));
    expect(meCalls).toHaveLength(3);
  });

  it('a wrong secret is a 401 GatehouseError with the OAuth error fields', async () => {
    const sdk = new Gatehouse({
      baseUrl: server.baseUrl,
      clientId: client().clientId,
      clientSecret: 'gsk_wrong',
    });
    const error = await sdk.me().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GatehouseError);
    expect(error).toMatchObject({ status: 401, code: 'invalid_client', error: 'invalid_client' });
    expect((error as GatehouseError).error_description).toEqual(expect.any(String));
  });

  it('an unknown scope is refused with invalid_scope', async () => {
    const sdk = new Gatehouse({ baseUrl: server.baseUrl, ...client(), scope: 'api1 admin' });
    await expect(sdk.me()).rejects.toMatchObject({ status: 400, error: 'invalid_scope' });
  });

  it('a workspace-scoped client sees only its workspace', async () => {
    const sdk = new Gatehouse({
      baseUrl: server.baseUrl,
      clientId: server.seeded.workspaceKeyA.key.publicKey,
      clientSecret: server.seeded.workspaceKeyA.privateKey,
    });
    const page = await sdk.workspaces.list();
    expect(page.items.map((w) => w.id)).toEqual([server.seeded.a.secondWorkspaceId]);
    await expect(sdk.workspaces.get(server.seeded.a.mainWorkspaceId)).rejects.toMatchObject({ status: 404 });
  });

  it('accessToken: a token obtained elsewhere is sent as is', async () => {
    const response = await fetch(`${server.baseUrl}/connect/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: client().clientId,
        client_secret: client().clientSecret,
      }).toString(),
    });
    const { access_token } = (await response.json()) as { access_token: string };
    const sdk = new Gatehouse({ baseUrl: server.baseUrl, accessToken: access_token });
    await expect(sdk.me()).resolves.toMatchObject({ authMethod: 'bearer' });
    const broken = new Gatehouse({ baseUrl: server.baseUrl, accessToken: `${access_token}x` });
    await expect(broken.me()).rejects.toMatchObject({ status: 401, code: 'invalid_token' });
  });
});
