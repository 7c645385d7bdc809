import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDialect } from '../../server/test/helpers/test-app.ts';
import { Gatehouse, GatehouseError } from '../src/index.ts';
import { type SdkServer, startServer } from './sdk-server.ts';

describeEachDialect('SDK with an API key', (dialect) => {
  let server: SdkServer;
  let sdk: Gatehouse;
  beforeAll(async () => {
    server = await startServer(dialect);
    sdk = new Gatehouse({ baseUrl: `${server.baseUrl}/`, apiKey: server.seeded.orgKeyA.privateKey });
  });
  afterAll(() => server.close());

  it('me() answers the principal of the key', async () => {
    const me = await sdk.me();
    expect(me).toEqual({
      authMethod: 'apiKey',
      tenantId: server.seeded.a.tenantId,
      workspaceId: null,
      apiKey: { publicKey: server.seeded.orgKeyA.key.publicKey, label: 'A org key' },
      user: null,
      scope: 'api1',
      permissions: 'write',
    });
  });

  it('workspaces.list() pages with page and size, and reports the total', async () => {
    const first = await sdk.workspaces.list({ page: 1, size: 3 });
    const third = await sdk.workspaces.list({ page: 3, size: 3 });
    expect(first.total).toBe(7);
    expect(first.items).toHaveLength(3);
    expect(third.items).toHaveLength(1);
    expect(first.items[0]).toMatchObject({
      tenantId: server.seeded.a.tenantId,
      state: 'Active',
      nbEntities: 0,
    });
  });

  it('workspaces.list() passes q, sortBy and asc as the original API clients send them', async () => {
    const found = await sdk.workspaces.list({ q: 'ARL' });
    expect(found.items.map((w) => w.label)).toEqual(['Charlie']);
    const sorted = await sdk.workspaces.list({ sortBy: 'label', asc: false, size: 2 });
    expect(sorted.items.map((w) => w.label)).toEqual(['Second', 'Main']);
  });

  it('workspaces.all() walks every page', async () => {
    const labels: string[] = [];
    for await (const workspace of sdk.workspaces.all({ size: 2 })) labels.push(workspace.label);
    expect(labels).toHaveLength(7);
    expect(new Set(labels).size).toBe(7);
  });

  it('workspaces.get() of another tenant is a 404 GatehouseError with the problem fields', async () => {
    const error = await sdk.workspaces.get(server.seeded.b.workspaceId).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GatehouseError);
    expect(error).toMatchObject({ status: 404, code: 'not_found', requestId: expect.any(String) });
    expect((error as GatehouseError).detail).toMatch(/workspace/);
  });

  it('entities.create/list/delete manage a workspace entity', async () => {
    const workspaceId = server.seeded.a.mainWorkspaceId;
    const created = await sdk.entities.create(workspaceId, { name: 'Acme SAS' });
    expect(created).toMatchObject({ workspaceId, name: 'Acme SAS', createdAt: expect.any(String) });
    expect((await sdk.entities.list(workspaceId)).items.map((e) => e.id)).toContain(created.id);
    expect((await sdk.workspaces.get(workspaceId)).nbEntities).toBe(1);
    await expect(sdk.entities.delete(workspaceId, created.id)).resolves.toBeUndefined();
    await expect(sdk.entities.delete(workspaceId, created.id)).rejects.toMatchObject({ status: 404 });
  });

  it('a validation failure is a 400 GatehouseError', async () => {
    await expect(sdk.entities.create(server.seeded.a.mainWorkspaceId, { name: '' })).rejects.toMatchObject({
      status: 400,
      code: 'validation_failed',
    });
  });

  it('a wrong key is a 401 GatehouseError, not retried', async () => {
    const bad = new Gatehouse({ baseUrl: server.baseUrl, apiKey: 'gsk_not-a-key' });
    await expect(bad.me()).rejects.toMatchObject({ status: 401, code: 'invalid_token' });
  });

  it('no server is a GatehouseError with status 0 and code network_error', async () => {
    const nowhere = new Gatehouse({ baseUrl: 'http://127.0.0.1:1', apiKey: 'x' });
    await expect(nowhere.me()).rejects.toMatchObject({ status: 0, code: 'network_error' });
  });
});
