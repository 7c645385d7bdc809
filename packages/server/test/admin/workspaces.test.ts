import type { LightMyRequestResponse } from 'fastify';
import { expect, it } from 'vitest';
import { useSeededApp } from '../helpers/seeded-app.ts';
import { describeEachDialect } from '../helpers/test-app.ts';

const USER_AGENT = 'workspaces-test/1.0';

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

interface WorkspaceJson {
  id: number;
  tenantId: number;
  label: string;
  logoUrl: string | null;
  state: 'Active' | 'Archived';
  permissions: string | null;
  dataSubjectArchivedRetentionDays: number | null;
  nbEntities: number;
}

/** DESIGN.md 1 (tenancy, admin API) and issue 10: `POST /v1/workspaces`, `PATCH /v1/workspaces/{id}`. */
describeEachDialect('admin API: workspace writes', (dialect) => {
  const ctx = useSeededApp(dialect);

  const send = (key: string, method: Method, url: string, payload?: Record<string, unknown>) =>
    ctx.app.inject({
      method,
      url,
      headers: { 'x-api-key': key, 'user-agent': USER_AGENT },
      ...(payload ? { payload } : {}),
    });
  const asAdmin = (method: Method, url: string, payload?: Record<string, unknown>) =>
    send(ctx.seed.adminKeyA.privateKey, method, url, payload);
  /** The data API, through A's ordinary `write` key. */
  const asWriter = (method: Method, url: string, payload?: Record<string, unknown>) =>
    send(ctx.seed.orgKeyA.privateKey, method, url, payload);

  async function created(label: string, settings: Record<string, unknown> = {}): Promise<WorkspaceJson> {
    const res = await asAdmin('POST', '/v1/workspaces', { label, ...settings });
    expect(res.statusCode, res.body).toBe(201);
    return res.json();
  }

  const listed = async () =>
    (await asWriter('GET', '/v1/workspaces?size=500')).json().items as WorkspaceJson[];
  const fetched = async (id: number) =>
    (await asWriter('GET', `/v1/workspaces/${id}`)).json() as WorkspaceJson;

  const expectFieldError = (res: LightMyRequestResponse, field: string) => {
    expect(res.statusCode, res.body).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json().code).toBe('validation_failed');
    expect(res.json().errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
  };

  // --- create ------------------------------------------------------------------------------------

  it('creates a workspace (201) in exactly the documented shape, with its settings', async () => {
    const res = await asAdmin('POST', '/v1/workspaces', {
      label: 'Created with settings',
      logoUrl: 'https://cdn.example/logo.png',
      dataSubjectArchivedRetentionDays: 30,
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toEqual({
      id: expect.any(Number),
      tenantId: ctx.seed.a.tenantId,
      label: 'Created with settings',
      logoUrl: 'https://cdn.example/logo.png',
      state: 'Active',
      permissions: null,
      dataSubjectArchivedRetentionDays: 30,
      nbEntities: 0,
    });
  });

  it('creates a workspace from a label alone, without logo or retention', async () => {
    const workspace = await created('Label only');
    expect(workspace).toMatchObject({
      logoUrl: null,
      dataSubjectArchivedRetentionDays: null,
      state: 'Active',
    });
  });

  it('lists a created workspace at GET /v1/workspaces and answers it at GET /v1/workspaces/{id}', async () => {
    const workspace = await created('Listed afterwards');
    expect(await listed()).toContainEqual(workspace);
    expect(await fetched(workspace.id)).toEqual(workspace);
  });

  it('trims the label it stores', async () => {
    expect((await created('  Padded label  ')).label).toBe('Padded label');
  });

  // --- patch -------------------------------------------------------------------------------------

  it('renames a workspace and leaves its other settings alone', async () => {
    const workspace = await created('Before rename', { logoUrl: 'https://cdn.example/a.png' });
    const res = await asAdmin('PATCH', `/v1/workspaces/${workspace.id}`, { label: 'After rename' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ ...workspace, label: 'After rename' });
    expect(await fetched(workspace.id)).toEqual(res.json());
  });

  it('sets, replaces and clears (null) the logo URL', async () => {
    const workspace = await created('Logo changes');
    for (const logoUrl of ['https://cdn.example/one.png', 'https://cdn.example/two.svg', null]) {
      const res = await asAdmin('PATCH', `/v1/workspaces/${workspace.id}`, { logoUrl });
      expect(res.statusCode, res.body).toBe(200);
      expect((await fetched(workspace.id)).logoUrl).toBe(logoUrl);
    }
  });

  it('sets, replaces and clears (null) the archived-data retention, 0 and 36500 included', async () => {
    const workspace = await created('Retention changes');
    for (const days of [0, 36_500, 90, null]) {
      const res = await asAdmin('PATCH', `/v1/workspaces/${workspace.id}`, {
        dataSubjectArchivedRetentionDays: days,
      });
      expect(res.statusCode, res.body).toBe(200);
      expect((await fetched(workspace.id)).dataSubjectArchivedRetentionDays).toBe(days);
    }
  });

  // --- bad input ---------------------------------------------------------------------------------

  it.each([
    ['plain http', 'http://cdn.example/logo.png'],
    ['not a URL at all', 'not a url'],
    ['a javascript: URL', 'javascript:alert(1)'],
    ['an https URL with a space', 'https://cdn.example/my logo.png'],
  ])(
    'refuses a logoUrl that is %s with a 400 naming logoUrl, on create and on change',
    async (_name, logoUrl) => {
      const before = await listed();
      expectFieldError(await asAdmin('POST', '/v1/workspaces', { label: 'Bad logo', logoUrl }), 'logoUrl');
      const id = ctx.seed.a.mainWorkspaceId;
      expectFieldError(await asAdmin('PATCH', `/v1/workspaces/${id}`, { logoUrl }), 'logoUrl');
      expect(await listed()).toEqual(before);
    },
  );

  it('refuses a logoUrl that starts with https:// but does not parse as a URL', async () => {
    const { id } = await created('Unparsable logo');
    const before = await fetched(id);
    expectFieldError(await asAdmin('PATCH', `/v1/workspaces/${id}`, { logoUrl: 'https://[' }), 'logoUrl');
    expect(await fetched(id)).toEqual(before);
  });

  it.each([
    ['negative', -1],
    ['over 36500', 36_501],
    ['not whole', 1.5],
  ])(
    'refuses a retention that is %s with a 400 naming dataSubjectArchivedRetentionDays',
    async (_name, days) => {
      const before = await listed();
      const field = 'dataSubjectArchivedRetentionDays';
      expectFieldError(
        await asAdmin('POST', '/v1/workspaces', { label: 'Bad retention', [field]: days }),
        field,
      );
      expectFieldError(
        await asAdmin('PATCH', `/v1/workspaces/${ctx.seed.a.mainWorkspaceId}`, { [field]: days }),
        field,
      );
      expect(await listed()).toEqual(before);
    },
  );

  it.each([
    ['empty', ''],
    ['only spaces', '   '],
    ['over 200 characters', 'x'.repeat(201)],
    ['with a control character', 'bad\u0007label'],
  ])('refuses a label that is %s with a 400 naming label', async (_name, label) => {
    const before = await listed();
    expectFieldError(await asAdmin('POST', '/v1/workspaces', { label }), 'label');
    expectFieldError(
      await asAdmin('PATCH', `/v1/workspaces/${ctx.seed.a.mainWorkspaceId}`, { label }),
      'label',
    );
    expect(await listed()).toEqual(before);
  });

  it('refuses a create without a label with a 400 naming label', async () => {
    expectFieldError(
      await asAdmin('POST', '/v1/workspaces', { logoUrl: 'https://cdn.example/x.png' }),
      'label',
    );
  });

  it('refuses an unknown state with a 400 naming state', async () => {
    const id = ctx.seed.a.mainWorkspaceId;
    expectFieldError(await asAdmin('PATCH', `/v1/workspaces/${id}`, { state: 'Deleted' }), 'state');
    expect((await fetched(id)).state).toBe('Active');
  });

  it('refuses an unknown field with a 400 naming it, on create and on change', async () => {
    const before = await listed();
    expectFieldError(await asAdmin('POST', '/v1/workspaces', { label: 'Extra', tenantId: 2 }), 'tenantId');
    expectFieldError(
      await asAdmin('PATCH', `/v1/workspaces/${ctx.seed.a.mainWorkspaceId}`, { nbEntities: 99 }),
      'nbEntities',
    );
    expect(await listed()).toEqual(before);
  });

  it('refuses an empty change with a 400', async () => {
    const res = await asAdmin('PATCH', `/v1/workspaces/${ctx.seed.a.mainWorkspaceId}`, {});
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('validation_failed');
  });

  // --- archive and restore ---------------------------------------------------------------------------

  /** A workspace with one entity, through the data API. */
  async function workspaceWithEntity(label: string) {
    const workspace = await created(label);
    const entity = await asWriter('POST', `/v1/workspaces/${workspace.id}/entities`, { name: 'Kept entity' });
    expect(entity.statusCode, entity.body).toBe(201);
    return { workspace, entityId: entity.json().id as number };
  }

  const archive = (id: number) => asAdmin('PATCH', `/v1/workspaces/${id}`, { state: 'Archived' });
  const restore = (id: number) => asAdmin('PATCH', `/v1/workspaces/${id}`, { state: 'Active' });
  const entityNames = async (id: number) =>
    ((await asWriter('GET', `/v1/workspaces/${id}/entities`)).json().items as { name: string }[]).map(
      (e) => e.name,
    );

  it('archives a workspace: it stays listed with state Archived', async () => {
    const { workspace } = await workspaceWithEntity('To archive');
    const res = await archive(workspace.id);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ ...workspace, state: 'Archived', nbEntities: 1 });
    expect(await listed()).toContainEqual(res.json());
  });

  it('keeps an archived workspace and its entities readable', async () => {
    const { workspace } = await workspaceWithEntity('Archived, readable');
    await archive(workspace.id);
    const one = await asWriter('GET', `/v1/workspaces/${workspace.id}`);
    expect(one.statusCode).toBe(200);
    expect(one.json().state).toBe('Archived');
    expect(await entityNames(workspace.id)).toEqual(['Kept entity']);
  });

  it('refuses to add an entity to an archived workspace with a 409 conflict, adding nothing', async () => {
    const { workspace } = await workspaceWithEntity('Archived, no adds');
    await archive(workspace.id);
    const res = await asWriter('POST', `/v1/workspaces/${workspace.id}/entities`, { name: 'Sneaked in' });
    expect(res.statusCode).toBe(409);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json().code).toBe('conflict');
    expect(await entityNames(workspace.id)).toEqual(['Kept entity']);
    expect((await fetched(workspace.id)).nbEntities).toBe(1);
  });

  it('refuses to delete an entity of an archived workspace with a 409 conflict, deleting nothing', async () => {
    const { workspace, entityId } = await workspaceWithEntity('Archived, no deletes');
    await archive(workspace.id);
    const res = await asWriter('DELETE', `/v1/workspaces/${workspace.id}/entities/${entityId}`);
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('conflict');
    expect(await entityNames(workspace.id)).toEqual(['Kept entity']);
  });

  it('restores an archived workspace: state Active, and entity writes work again', async () => {
    const { workspace, entityId } = await workspaceWithEntity('Archived then restored');
    await archive(workspace.id);
    const res = await restore(workspace.id);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().state).toBe('Active');
    const add = await asWriter('POST', `/v1/workspaces/${workspace.id}/entities`, { name: 'Added after' });
    expect(add.statusCode).toBe(201);
    expect((await asWriter('DELETE', `/v1/workspaces/${workspace.id}/entities/${entityId}`)).statusCode).toBe(
      204,
    );
    expect(await entityNames(workspace.id)).toEqual(['Added after']);
  });

  it('lets an archived workspace be renamed and archived again without changing its state', async () => {
    const workspace = await created('Archived, renamed');
    await archive(workspace.id);
    const renamed = await asAdmin('PATCH', `/v1/workspaces/${workspace.id}`, {
      label: 'Renamed while archived',
    });
    expect(renamed.json()).toMatchObject({ label: 'Renamed while archived', state: 'Archived' });
    expect((await archive(workspace.id)).json().state).toBe('Archived');
  });

  // --- other organizations -------------------------------------------------------------------------

  it("answers 404 to a change of tenant B's workspace and leaves it as it was", async () => {
    const id = ctx.seed.b.workspaceId;
    for (const body of [
      { label: 'Taken over' },
      { state: 'Archived' },
      { logoUrl: 'https://evil.example/x.png' },
    ]) {
      const res = await asAdmin('PATCH', `/v1/workspaces/${id}`, body);
      expect(res.statusCode).toBe(404);
      expect(res.json().code).toBe('not_found');
    }
    const b = await send(ctx.seed.orgKeyB.privateKey, 'GET', `/v1/workspaces/${id}`);
    expect(b.json()).toMatchObject({ label: 'Other', state: 'Active', logoUrl: null });
  });

  it('answers 404 for an unknown workspace id exactly as for another tenant', async () => {
    const unknown = await asAdmin('PATCH', '/v1/workspaces/999999', { label: 'x' });
    const foreign = await asAdmin('PATCH', `/v1/workspaces/${ctx.seed.b.workspaceId}`, { label: 'x' });
    expect(unknown.statusCode).toBe(404);
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().title).toBe(unknown.json().title);
  });

  it("creates the workspace in the caller's own tenant, never another's", async () => {
    const res = await send(ctx.seed.adminKeyB.privateKey, 'POST', '/v1/workspaces', { label: 'Made by B' });
    expect(res.json().tenantId).toBe(ctx.seed.b.tenantId);
    expect((await listed()).map((w) => w.label)).not.toContain('Made by B');
  });

  // --- audit ---------------------------------------------------------------------------------------

  async function eventsFor(action: string, workspaceId: number) {
    const res = await asAdmin('GET', `/v1/audit-events?${new URLSearchParams({ action, size: '500' })}`);
    expect(res.statusCode).toBe(200);
    return (res.json().items as { target: string }[]).filter((e) => e.target === `workspace:${workspaceId}`);
  }

  it('audits workspace.created with the acting key, address and user agent', async () => {
    const workspace = await created('Audited creation');
    expect(await eventsFor('workspace.created', workspace.id)).toEqual([
      expect.objectContaining({
        tenantId: ctx.seed.a.tenantId,
        actor: `key:${ctx.seed.adminKeyA.key.publicKey}`,
        ip: expect.any(String),
        userAgent: USER_AGENT,
      }),
    ]);
  });

  it('audits workspace.updated once per change, naming the fields and the resulting state', async () => {
    const workspace = await created('Audited changes');
    await asAdmin('PATCH', `/v1/workspaces/${workspace.id}`, { label: 'Audited, renamed', logoUrl: null });
    await archive(workspace.id);
    const events = await eventsFor('workspace.updated', workspace.id);
    expect(events).toEqual([
      expect.objectContaining({
        actor: `key:${ctx.seed.adminKeyA.key.publicKey}`,
        details: { fields: ['state'], state: 'Archived' },
      }),
      expect.objectContaining({
        details: { fields: expect.arrayContaining(['label', 'logoUrl']), state: 'Active' },
      }),
    ]);
  });

  it('writes no audit event for a refused change', async () => {
    const workspace = await created('Audited refusal');
    await asAdmin('PATCH', `/v1/workspaces/${workspace.id}`, { logoUrl: 'http://cdn.example/x.png' });
    expect(await eventsFor('workspace.updated', workspace.id)).toEqual([]);
  });
});
