import { beforeAll, expect, it } from 'vitest';
import { useSeededApp } from './helpers/seeded-app.ts';
import { describeEachDialect } from './helpers/test-app.ts';

describeEachDialect('workspace entities', (dialect) => {
  const ctx = useSeededApp(dialect);
  let entityOfMain: number;
  beforeAll(async () => {
    entityOfMain = (await create(ctx.seed.a.mainWorkspaceId, 'Fixture')).json().id;
  });

  const headers = () => ({ 'x-api-key': ctx.seed.orgKeyA.privateKey });
  const create = (workspaceId: number, name: unknown) =>
    ctx.app.inject({
      method: 'POST',
      url: `/v1/workspaces/${workspaceId}/entities`,
      headers: headers(),
      payload: { name },
    });
  const list = (workspaceId: number, query = '') =>
    ctx.app.inject({
      method: 'GET',
      url: `/v1/workspaces/${workspaceId}/entities${query}`,
      headers: headers(),
    });
  const remove = (workspaceId: number, id: number) =>
    ctx.app.inject({
      method: 'DELETE',
      url: `/v1/workspaces/${workspaceId}/entities/${id}`,
      headers: headers(),
    });

  it('creates an entity: 201 with id, workspaceId, trimmed name and an ISO creation time', async () => {
    const res = await create(ctx.seed.a.secondWorkspaceId, '  Acme SAS  ');
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(Object.keys(body).sort()).toEqual(['createdAt', 'id', 'name', 'workspaceId']);
    expect(body).toMatchObject({ workspaceId: ctx.seed.a.secondWorkspaceId, name: 'Acme SAS' });
    expect(new Date(body.createdAt).toISOString()).toBe(body.createdAt);
  });

  it('lists a workspace entities as {items, total}, oldest first, paginated', async () => {
    const workspace = ctx.seed.a.secondWorkspaceId;
    for (const name of ['E1', 'E2', 'E3']) await create(workspace, name);
    const all = await list(workspace);
    expect(all.statusCode).toBe(200);
    const names = all.json().items.map((e: { name: string }) => e.name);
    expect(names.slice(-3)).toEqual(['E1', 'E2', 'E3']);
    expect(all.json().total).toBe(names.length);
    const page = await list(workspace, '?page=2&size=2');
    expect(page.json().items).toHaveLength(2);
    expect(page.json().items[0].name).toBe(names[2]);
    const desc = await list(workspace, '?asc=false');
    expect(desc.json().items.map((e: { name: string }) => e.name)).toEqual([...names].reverse());
  });

  it('lists only the entities of the workspace in the path', async () => {
    const items = (await list(ctx.seed.a.mainWorkspaceId)).json().items as { workspaceId: number }[];
    expect(items.every((e) => e.workspaceId === ctx.seed.a.mainWorkspaceId)).toBe(true);
  });

  it('deletes an entity: 204, then 404 when deleted again', async () => {
    const id = (await create(ctx.seed.a.mainWorkspaceId, 'Short-lived')).json().id;
    const first = await remove(ctx.seed.a.mainWorkspaceId, id);
    expect(first.statusCode).toBe(204);
    expect(first.body).toBe('');
    const again = await remove(ctx.seed.a.mainWorkspaceId, id);
    expect(again.statusCode).toBe(404);
    expect(again.json().code).toBe('not_found');
  });

  it('answers 404 when the entity exists but under another workspace of the same tenant', async () => {
    const res = await remove(ctx.seed.a.secondWorkspaceId, entityOfMain);
    expect(res.statusCode).toBe(404);
    expect((await list(ctx.seed.a.mainWorkspaceId)).json().items.map((e: { id: number }) => e.id)).toContain(
      entityOfMain,
    );
  });

  it('answers 404 for entities of a workspace that does not exist', async () => {
    expect((await list(2_147_483_647)).statusCode).toBe(404);
    expect((await create(2_147_483_647, 'x')).statusCode).toBe(404);
    expect((await remove(2_147_483_647, 1)).statusCode).toBe(404);
  });

  it.each([
    ['a missing name', {}],
    ['an empty name', { name: '' }],
    ['a blank name', { name: '   ' }],
    ['a name over 200 characters', { name: 'x'.repeat(201) }],
    ['a name with control characters', { name: 'a\u0000b' }],
    ['an object as name', { name: { $ne: null } }],
  ])('refuses %s with a 400 problem', async (_case, payload) => {
    const res = await ctx.app.inject({
      method: 'POST',
      url: `/v1/workspaces/${ctx.seed.a.mainWorkspaceId}/entities`,
      headers: headers(),
      payload,
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json().code).toBe('validation_failed');
  });

  it('refuses fields it does not know, naming them: a body cannot move an entity to another tenant', async () => {
    const res = await ctx.app.inject({
      method: 'POST',
      url: `/v1/workspaces/${ctx.seed.a.mainWorkspaceId}/entities`,
      headers: headers(),
      payload: {
        name: 'Mass assignment',
        tenantId: ctx.seed.b.tenantId,
        workspaceId: ctx.seed.b.workspaceId,
        id: 1,
      },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('validation_failed');
    const fields = res.json().errors.map((e: { field: string }) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['tenantId']));
    const other = await ctx.app.inject({
      method: 'GET',
      url: `/v1/workspaces/${ctx.seed.b.workspaceId}/entities`,
      headers: { 'x-api-key': ctx.seed.orgKeyB.privateKey },
    });
    expect(other.json().total).toBe(0);
  });
});
