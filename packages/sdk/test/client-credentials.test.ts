import { afterAll, beforeAll, expect, it } from 'vitest';
import { basicAuth } from '../../server/test/helpers/http.ts';
import { describeEachDialect } from '../../server/test/helpers/test-app.ts';
import { Gatehouse, GatehouseError } from '../src/index.ts';
import { recordingFetch, type SdkServer, startServer } from './sdk-server.ts';

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
    const first = recorder.calls.at(-1)?.authorization?.replace(/^Bearer /, '') ?? '';
    const basic = basicAuth(client().clientId, client().clientSecret);
    const revoked = await fetch(`${server.baseUrl}/connect/revocation`, {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: first }).toString(),
    });
    expect(revoked.status).toBe(200);
    await expect(sdk.me()).resolves.toMatchObject({ authMethod: 'bearer' });
    expect(tokenCalls(recorder.calls)).toHaveLength(2);
    const meCalls = recorder.calls.filter((c) => c.url.endsWith('/me'));
    expect(meCalls).toHaveLength(3);
    expect(meCalls[2]?.authorization).not.toBe(meCalls[1]?.authorization);
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
