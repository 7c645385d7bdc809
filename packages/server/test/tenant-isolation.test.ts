import { beforeAll, describe, expect, it } from 'vitest';
import { useSeededApp } from './helpers/seeded-app.ts';
import { describeEachDialect } from './helpers/test-app.ts';

/** DESIGN.md 3 rule 3: no credential of tenant A reads or changes anything of tenant B, and a workspace key stays in its workspace. */
describeEachDialect('tenant and workspace isolation', (dialect) => {
  const ctx = useSeededApp(dialect);
  let entityOfB: number;
  let entityOfMain: number;
  beforeAll(async () => {
    entityOfB = (
      await send(ctx.seed.orgKeyB.privateKey, 'POST', `/v1/workspaces/${ctx.seed.b.workspaceId}/entities`, {
        name: 'B secret entity',
      }).then((r) => r.json())
    ).id;
    entityOfMain = (
      await send(
        ctx.seed.orgKeyA.privateKey,
        'POST',
        `/v1/workspaces/${ctx.seed.a.mainWorkspaceId}/entities`,
        {
          name: 'A main entity',
        },
      ).then((r) => r.json())
    ).id;
  });

  function send(key: string, method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object) {
    return ctx.app.inject({ method, url, headers: { 'x-api-key': key }, ...(payload ? { payload } : {}) });
  }

  describe('a workspace-scoped key', () => {
    const key = () => ctx.seed.workspaceKeyA.privateKey;

    it('lists only its own workspace', async () => {
      const res = await send(key(), 'GET', '/v1/workspaces');
      expect(res.json().items.map((w: { id: number }) => w.id)).toEqual([ctx.seed.a.secondWorkspaceId]);
      expect(res.json().total).toBe(1);
    });

    it('finds nothing else in its organization, even when searching', async () => {
      const res = await send(key(), 'GET', '/v1/workspaces?q=Main');
      expect(res.json()).toEqual({ items: [], total: 0 });
    });

    it("gets 404, not 403, for its tenant's other workspace", async () => {
      const res = await send(key(), 'GET', `/v1/workspaces/${ctx.seed.a.mainWorkspaceId}`);
      expect(res.statusCode).toBe(404);
      expect(res.json().code).toBe('not_found');
    });

    it("gets 404 reading, creating and deleting entities of the tenant's other workspace", async () => {
      const base = `/v1/workspaces/${ctx.seed.a.mainWorkspaceId}/entities`;
      expect((await send(key(), 'GET', base)).statusCode).toBe(404);
      expect((await send(key(), 'POST', base, { name: 'sneaky' })).statusCode).toBe(404);
      expect((await send(key(), 'DELETE', `${base}/${entityOfMain}`)).statusCode).toBe(404);
      const after = await send(ctx.seed.orgKeyA.privateKey, 'GET', base);
      const names = after.json().items.map((e: { name: string }) => e.name);
      expect(names).toContain('A main entity');
      expect(names).not.toContain('sneaky');
    });

    it('works normally inside its own workspace', async () => {
      const base = `/v1/workspaces/${ctx.seed.a.secondWorkspaceId}/entities`;
      const created = await send(key(), 'POST', base, { name: 'mine' });
      expect(created.statusCode).toBe(201);
      expect((await send(key(), 'DELETE', `${base}/${created.json().id}`)).statusCode).toBe(204);
    });

    it('answers /me with its workspace', async () => {
      expect((await send(key(), 'GET', '/me')).json().workspaceId).toBe(ctx.seed.a.secondWorkspaceId);
    });
  });

  describe("tenant A's organization key against tenant B", () => {
    const key = () => ctx.seed.orgKeyA.privateKey;

    it("never lists tenant B's workspaces", async () => {
      const res = await send(key(), 'GET', '/v1/workspaces?size=500');
      const tenants = res.json().items.map((w: { tenantId: number }) => w.tenantId);
      expect(new Set(tenants)).toEqual(new Set([ctx.seed.a.tenantId]));
      expect((await send(key(), 'GET', '/v1/workspaces?q=Other')).json().total).toBe(0);
    });

    it("gets 404 for tenant B's workspace, exactly as for one that does not exist", async () => {
      const foreign = await send(key(), 'GET', `/v1/workspaces/${ctx.seed.b.workspaceId}`);
      const missing = await send(key(), 'GET', '/v1/workspaces/2147483000');
      expect(foreign.statusCode).toBe(404);
      expect(missing.statusCode).toBe(404);
      // Same answer apart from the id in the detail and the request id: no existence oracle.
      const strip = (b: Record<string, unknown>) => ({ ...b, detail: undefined, requestId: undefined });
      expect(strip(foreign.json())).toEqual(strip(missing.json()));
      expect(foreign.body).not.toContain('Other');
    });

    it("gets 404 reading, creating and deleting tenant B's entities, and changes nothing", async () => {
      const base = `/v1/workspaces/${ctx.seed.b.workspaceId}/entities`;
      expect((await send(key(), 'GET', base)).statusCode).toBe(404);
      expect((await send(key(), 'POST', base, { name: 'planted' })).statusCode).toBe(404);
      expect((await send(key(), 'DELETE', `${base}/${entityOfB}`)).statusCode).toBe(404);
      // Its own workspace in the path with B's entity id: still not found, still not deleted.
      const crossed = await send(
        key(),
        'DELETE',
        `/v1/workspaces/${ctx.seed.a.mainWorkspaceId}/entities/${entityOfB}`,
      );
      expect(crossed.statusCode).toBe(404);
      const seenByB = await send(ctx.seed.orgKeyB.privateKey, 'GET', base);
      expect(seenByB.json().items.map((e: { name: string }) => e.name)).toEqual(['B secret entity']);
    });

    it("cannot read tenant B's audit log", async () => {
      const res = await send(ctx.seed.adminKeyA.privateKey, 'GET', '/v1/audit-events?size=500');
      expect(res.statusCode).toBe(200);
      const tenants = res.json().items.map((e: { tenantId: number }) => e.tenantId);
      expect(new Set(tenants)).toEqual(new Set([ctx.seed.a.tenantId]));
    });
  });

  describe('path tricks', () => {
    const key = () => ctx.seed.orgKeyA.privateKey;
    it.each([
      ['an encoded slash and dot segments', () => '/v1/workspaces/1%2F..'],
      [
        'dot segments to a foreign workspace',
        () => `/v1/workspaces/${ctx.seed.a.mainWorkspaceId}/../${ctx.seed.b.workspaceId}`,
      ],
      ['a negative id', () => '/v1/workspaces/-1'],
      ['a zero id', () => '/v1/workspaces/0'],
      ['an id beyond 32 bits', () => '/v1/workspaces/99999999999999999999'],
      ['a fractional id', () => '/v1/workspaces/1.5'],
      ['Infinity', () => '/v1/workspaces/Infinity'],
      ['-Infinity', () => '/v1/workspaces/-Infinity'],
      ['an exponent overflowing to Infinity', () => '/v1/workspaces/1e309'],
      ['an SQL injection', () => `/v1/workspaces/${encodeURIComponent('1 OR 1=1')}`],
      ['a stacked query', () => `/v1/workspaces/${encodeURIComponent('1; DROP TABLE workspaces')}`],
      ['an encoded NUL', () => '/v1/workspaces/1%00'],
      ['an overlong UTF-8 dot', () => '/v1/workspaces/%c0%ae%c0%ae'],
      [
        'a foreign id with an injected OR in the entity path',
        () => `/v1/workspaces/${ctx.seed.b.workspaceId}%20OR%201=1/entities`,
      ],
    ])('refuses %s with a 4xx', async (_name, url) => {
      const res = await send(key(), 'GET', url());
      expect(res.statusCode).toBeGreaterThanOrEqual(400);
      expect(res.statusCode).toBeLessThan(500);
      expect(res.body).not.toContain('Other');
    });

    it('gives nothing of tenant B for ids written in another notation', async () => {
      const id = ctx.seed.b.workspaceId;
      for (const spelled of [`0x${id.toString(16)}`, `${id}.0`, `${id}e0`, `+${id}`, `0${id}`]) {
        const res = await send(key(), 'GET', `/v1/workspaces/${spelled}`);
        expect(res.statusCode, spelled).toBeGreaterThanOrEqual(400);
        expect(res.statusCode, spelled).toBeLessThan(500);
      }
    });

    it('does not let the tables be dropped through a search string', async () => {
      await send(key(), 'GET', `/v1/workspaces?q=${encodeURIComponent("'); DROP TABLE workspaces; --")}`);
      expect((await send(key(), 'GET', '/v1/workspaces')).json().total).toBe(2);
    });
  });
});
