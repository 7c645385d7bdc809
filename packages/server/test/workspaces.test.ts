import { beforeAll, expect, it } from 'vitest';
import { createApiKey } from '../src/domain/api-keys.ts';
import { CLI_ACTOR } from '../src/domain/audit.ts';
import { createTenant } from '../src/domain/tenants.ts';
import { createWorkspace } from '../src/domain/workspaces.ts';
import { PASSWORD } from './helpers/seed.ts';
import { useSeededApp } from './helpers/seeded-app.ts';
import { describeEachDialect } from './helpers/test-app.ts';

/** Labels of tenant C, chosen to exercise search (LIKE wildcards, case) and sorting. */
const SEARCH_LABELS = ['50% off', 'Sale_2024', 'Salex2024', 'Plain 50 off', 'alpha', 'Beta'];
const FILLER = 55;

describeEachDialect('GET /v1/workspaces', (dialect) => {
  const ctx = useSeededApp(dialect);
  let keyC: string;
  let workspaceIdsC: number[];
  beforeAll(async () => {
    const c = await createTenant(
      ctx.app.services.db,
      { label: 'Tenant C', ownerEmail: 'owner@c.test', ownerPassword: PASSWORD },
      CLI_ACTOR,
    );
    workspaceIdsC = [];
    for (const label of SEARCH_LABELS)
      workspaceIdsC.push((await createWorkspace(ctx.app.services.db, c.tenantId, label, CLI_ACTOR)).id);
    for (let i = 0; i < FILLER; i++)
      workspaceIdsC.push(
        (await createWorkspace(ctx.app.services.db, c.tenantId, `Filler ${i}`, CLI_ACTOR)).id,
      );
    keyC = (await createApiKey(ctx.app.services.db, { tenantId: c.tenantId }, CLI_ACTOR)).privateKey;
  });

  const get = (url: string, key = ctx.seed.orgKeyA.privateKey) =>
    ctx.app.inject({ method: 'GET', url, headers: { 'x-api-key': key } });
  const labels = (res: { json: () => { items: { label: string }[] } }) =>
    res.json().items.map((w) => w.label);

  it('lists the workspaces in exactly the documented shape', async () => {
    const res = await get('/v1/workspaces');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      items: [
        {
          id: ctx.seed.a.mainWorkspaceId,
          tenantId: ctx.seed.a.tenantId,
          label: 'Main',
          logoUrl: null,
          state: 'Active',
          permissions: null,
          dataSubjectArchivedRetentionDays: null,
          nbEntities: 0,
        },
        {
          id: ctx.seed.a.secondWorkspaceId,
          tenantId: ctx.seed.a.tenantId,
          label: 'Second',
          logoUrl: null,
          state: 'Active',
          permissions: null,
          dataSubjectArchivedRetentionDays: null,
          nbEntities: 0,
        },
      ],
      total: 2,
    });
  });

  it('answers one workspace at GET /v1/workspaces/{id} in the same shape', async () => {
    const res = await get(`/v1/workspaces/${ctx.seed.a.mainWorkspaceId}`);
    expect(res.statusCode).toBe(200);
    expect(Object.keys(res.json()).sort()).toEqual(
      [
        'id',
        'tenantId',
        'label',
        'logoUrl',
        'state',
        'permissions',
        'dataSubjectArchivedRetentionDays',
        'nbEntities',
      ].sort(),
    );
    expect(res.json().label).toBe('Main');
  });

  it('answers 404 for a workspace id that does not exist', async () => {
    const res = await get('/v1/workspaces/2147483647');
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe('not_found');
  });

  it('matches paths in any case, as the original API clients send them', async () => {
    for (const url of ['/v1/Workspaces', '/V1/WORKSPACES', `/v1/Workspaces/${ctx.seed.a.mainWorkspaceId}`]) {
      expect((await get(url)).statusCode, url).toBe(200);
    }
    const me = await get('/ME');
    expect(me.statusCode).toBe(200);
    expect(me.json().tenantId).toBe(ctx.seed.a.tenantId);
  });

  it('pages with size 50 by default and reports the full total', async () => {
    const res = await get('/v1/workspaces', keyC);
    expect(res.json().items).toHaveLength(50);
    expect(res.json().total).toBe(SEARCH_LABELS.length + FILLER);
  });

  it('walks the pages with page and size without gaps or overlaps', async () => {
    const seen: number[] = [];
    for (let page = 1; page <= 7; page++) {
      const res = await get(`/v1/workspaces?page=${page}&size=10`, keyC);
      expect(res.statusCode).toBe(200);
      seen.push(...res.json().items.map((w: { id: number }) => w.id));
    }
    expect(seen).toEqual(workspaceIdsC);
    const beyond = await get('/v1/workspaces?page=100&size=10', keyC);
    expect(beyond.json()).toEqual({ items: [], total: SEARCH_LABELS.length + FILLER });
  });

  it('accepts size up to 500 and refuses 501 with a 400 problem', async () => {
    expect((await get('/v1/workspaces?size=500', keyC)).json().items).toHaveLength(61);
    for (const bad of ['size=501', 'size=0', 'page=0', 'size=-1', 'page=abc']) {
      const res = await get(`/v1/workspaces?${bad}`, keyC);
      expect(res.statusCode, bad).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json().code).toBe('validation_failed');
    }
  });

  it('searches labels with q, case-insensitively', async () => {
    expect(labels(await get('/v1/workspaces?q=PLAIN', keyC))).toEqual(['Plain 50 off']);
    expect(labels(await get('/v1/workspaces?q=sale', keyC))).toEqual(['Sale_2024', 'Salex2024']);
  });

  it('treats % and _ in q as literal characters, not LIKE wildcards', async () => {
    expect(labels(await get(`/v1/workspaces?q=${encodeURIComponent('%')}`, keyC))).toEqual(['50% off']);
    expect(labels(await get(`/v1/workspaces?q=${encodeURIComponent('50%')}`, keyC))).toEqual(['50% off']);
    expect(labels(await get('/v1/workspaces?q=_', keyC))).toEqual(['Sale_2024']);
    expect(labels(await get('/v1/workspaces?q=e_2', keyC))).toEqual(['Sale_2024']);
    const total = (await get(`/v1/workspaces?q=${encodeURIComponent('\\')}`, keyC)).json().total;
    expect(total).toBe(0);
  });

  it('reports the total of the search, not of the whole list', async () => {
    const res = await get('/v1/workspaces?q=filler&size=5', keyC);
    expect(res.json().items).toHaveLength(5);
    expect(res.json().total).toBe(FILLER);
  });

  it('sorts by label with sortBy, ascending unless asc=false', async () => {
    // Labels that every collation orders alike, so the expectation holds on both databases.
    const expected = Array.from({ length: FILLER }, (_, i) => `Filler ${i}`).sort();
    const asc = labels(await get('/v1/workspaces?q=filler&sortBy=label&size=500', keyC));
    expect(asc).toEqual(expected);
    const desc = labels(await get('/v1/workspaces?q=filler&sortBy=label&asc=false&size=500', keyC));
    expect(desc).toEqual([...expected].reverse());
  });

  it('accepts sortBy in any case and falls back to id for an unknown column', async () => {
    const byLabel = labels(await get('/v1/workspaces?sortBy=Label&size=3', keyC));
    const byLabelLower = labels(await get('/v1/workspaces?sortBy=label&size=3', keyC));
    expect(byLabel).toEqual(byLabelLower);
    const unknown = await get('/v1/workspaces?sortBy=password_hash&size=500', keyC);
    expect(unknown.statusCode).toBe(200);
    expect(unknown.json().items.map((w: { id: number }) => w.id)).toEqual(workspaceIdsC);
  });

  it('orders by id descending with asc=false', async () => {
    const res = await get('/v1/workspaces?asc=false&size=500', keyC);
    expect(res.json().items.map((w: { id: number }) => w.id)).toEqual([...workspaceIdsC].reverse());
  });

  it('counts the workspace entities in nbEntities, in the list and the item', async () => {
    const id = ctx.seed.a.secondWorkspaceId;
    const headers = { 'x-api-key': ctx.seed.orgKeyA.privateKey };
    const created: number[] = [];
    for (const name of ['Entity one', 'Entity two', 'Entity three']) {
      const res = await ctx.app.inject({
        method: 'POST',
        url: `/v1/workspaces/${id}/entities`,
        headers,
        payload: { name },
      });
      created.push(res.json().id);
    }
    const nb = async () => (await get(`/v1/workspaces/${id}`)).json().nbEntities;
    expect(await nb()).toBe(3);
    const listed = (await get('/v1/workspaces')).json().items.find((w: { id: number }) => w.id === id);
    expect(listed.nbEntities).toBe(3);
    await ctx.app.inject({ method: 'DELETE', url: `/v1/workspaces/${id}/entities/${created[0]}`, headers });
    expect(await nb()).toBe(2);
    // Another workspace's count is untouched.
    expect((await get(`/v1/workspaces/${ctx.seed.a.mainWorkspaceId}`)).json().nbEntities).toBe(0);
  });
});
