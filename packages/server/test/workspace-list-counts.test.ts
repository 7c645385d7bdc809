import { beforeAll, expect, it } from 'vitest';
import { createApiKey } from '../src/domain/api-keys.ts';
import { CLI_ACTOR } from '../src/domain/audit.ts';
import { createTenant } from '../src/domain/tenants.ts';
import { createWorkspace, updateWorkspace } from '../src/domain/workspaces.ts';
import { PASSWORD } from './helpers/seed.ts';
import { useSeededApp } from './helpers/seeded-app.ts';
import { describeEachDialect } from './helpers/test-app.ts';

/** Labels in mixed case (the label order is case-insensitive), each with its number of entities. */
const WORKSPACES = [
  { label: 'delta', entities: 3 },
  { label: 'Alpha', entities: 0 },
  { label: 'charlie', entities: 2 },
  { label: 'Bravo', entities: 1 },
  { label: 'echo', entities: 0 },
  { label: 'Foxtrot', entities: 3 },
  { label: 'golf', entities: 1 },
];
const ARCHIVED = 'charlie';

interface Listed {
  id: number;
  label: string;
  state: string;
  nbEntities: number;
}

// The page, its entity counts and the total come from one statement (storage/repositories/workspaces.ts):
// these pin that each count belongs to its own row whatever the page and the order, and the total to
// the whole list.
describeEachDialect('GET /v1/workspaces: entity counts and total', (dialect) => {
  const ctx = useSeededApp(dialect);
  let key: string;
  let ids: Map<string, number>;
  beforeAll(async () => {
    const db = ctx.app.services.db;
    const tenant = await createTenant(
      db,
      { label: 'Tenant D', ownerEmail: 'owner@d.test', ownerPassword: PASSWORD },
      CLI_ACTOR,
    );
    key = (await createApiKey(db, { tenantId: tenant.tenantId }, CLI_ACTOR)).privateKey;
    ids = new Map();
    for (const { label, entities } of WORKSPACES) {
      const { id } = await createWorkspace(db, tenant.tenantId, label, CLI_ACTOR);
      ids.set(label, id);
      for (let e = 0; e < entities; e++) expect((await addEntity(id, `${label} ${e}`)).statusCode).toBe(201);
    }
    await updateWorkspace(db, tenant.tenantId, idOf(ARCHIVED), { state: 'Archived' }, CLI_ACTOR);
  });

  const idOf = (label: string) => ids.get(label) ?? Number.NaN;
  const get = (url: string, as = key) => ctx.app.inject({ method: 'GET', url, headers: { 'x-api-key': as } });
  const addEntity = (workspaceId: number, name: string) =>
    ctx.app.inject({
      method: 'POST',
      url: `/v1/workspaces/${workspaceId}/entities`,
      headers: { 'x-api-key': key },
      payload: { name },
    });

  /** Every page of a listing, 3 items a page, with the total each page reported. */
  async function walk(query: string): Promise<{ items: Listed[]; totals: number[] }> {
    const items: Listed[] = [];
    const totals: number[] = [];
    for (let page = 1; page <= 3; page++) {
      const res = await get(`/v1/workspaces?size=3&page=${page}${query}`);
      expect(res.statusCode).toBe(200);
      items.push(...res.json().items);
      totals.push(res.json().total);
    }
    return { items, totals };
  }

  const expected = (label: string) => WORKSPACES.find((w) => w.label === label)?.entities;
  const byLabel = (a: string, b: string) => a.toLowerCase().localeCompare(b.toLowerCase());

  it('gives each workspace its own entity count, on every page and in every order', async () => {
    const labels = WORKSPACES.map((w) => w.label);
    const orders: [string, string[]][] = [
      ['', labels],
      ['&asc=false', [...labels].reverse()],
      ['&sortBy=label', [...labels].sort(byLabel)],
      ['&sortBy=LABEL&asc=false', [...labels].sort(byLabel).reverse()],
      ['&sortBy=state', [...labels.filter((l) => l !== ARCHIVED), ARCHIVED]],
    ];
    for (const [query, order] of orders) {
      const { items, totals } = await walk(query);
      expect(
        items.map((w) => w.label),
        query,
      ).toEqual(order);
      expect(totals, query).toEqual([7, 7, 7]);
      for (const w of items) {
        expect(w.id).toBe(idOf(w.label));
        expect(w.nbEntities, `${w.label} ${query}`).toBe(expected(w.label));
      }
    }
  });

  it('counts an entity as soon as it is added, and no longer once it is removed', async () => {
    const golf = idOf('golf');
    const count = async () =>
      ((await get('/v1/workspaces?sortBy=label&asc=false&size=1')).json().items as Listed[])[0]?.nbEntities;
    expect(await count()).toBe(1);
    const created = await addEntity(golf, 'one more');
    expect(await count()).toBe(2);
    const removed = await ctx.app.inject({
      method: 'DELETE',
      url: `/v1/workspaces/${golf}/entities/${created.json().id}`,
      headers: { 'x-api-key': key },
    });
    expect(removed.statusCode).toBe(204);
    expect(await count()).toBe(1);
  });

  it('reports the total of the search past its last page, and 0 when nothing matches', async () => {
    // "a" is in alpha, charlie, delta and bravo.
    const matches = WORKSPACES.filter((w) => w.label.toLowerCase().includes('a')).length;
    const first = await get('/v1/workspaces?q=A&size=3');
    expect(first.json().total).toBe(matches);
    expect(first.json().items).toHaveLength(3);
    expect((await get('/v1/workspaces?q=a&size=3&page=9')).json()).toEqual({ items: [], total: matches });
    expect((await get('/v1/workspaces?page=4&size=3')).json()).toEqual({ items: [], total: 7 });
    expect((await get('/v1/workspaces?q=zzz')).json()).toEqual({ items: [], total: 0 });
    expect((await get('/v1/workspaces?q=zzz&page=2')).json()).toEqual({ items: [], total: 0 });
  });

  it('lists, counts and totals only the workspace of a workspace-scoped key', async () => {
    const tenantId = (await get('/me')).json().tenantId;
    const scoped = await createApiKey(
      ctx.app.services.db,
      { tenantId, workspaceId: idOf('Foxtrot') },
      CLI_ACTOR,
    );
    const res = await get('/v1/workspaces', scoped.privateKey);
    expect(res.json().total).toBe(1);
    expect(res.json().items.map((w: Listed) => [w.label, w.nbEntities])).toEqual([['Foxtrot', 3]]);
    expect((await get('/v1/workspaces?page=2', scoped.privateKey)).json()).toEqual({ items: [], total: 1 });
  });

  it('totals the caller’s organization only', async () => {
    const res = await get('/v1/workspaces', ctx.seed.orgKeyA.privateKey);
    expect(res.json().items.every((w: Listed) => !ids.has(w.label))).toBe(true);
    expect(res.json().total).toBe(res.json().items.length);
  });
});
