import { beforeAll, expect, it } from 'vitest';
import { createApiKey } from '../../src/domain/api-keys.ts';
import { CLI_ACTOR } from '../../src/domain/audit.ts';
import { createTenant } from '../../src/domain/tenants.ts';
import { insertAuditEvent } from '../../src/storage/repositories/audit.ts';
import { PASSWORD } from '../helpers/seed.ts';
import { useSeededApp } from '../helpers/seeded-app.ts';
import { describeEachDialect } from '../helpers/test-app.ts';

const T0 = Date.parse('2024-03-01T00:00:00.000Z');
const HOUR = 3_600_000;
const at = (hours: number) => new Date(T0 + hours * HOUR).toISOString();

/** Tenant C's log, oldest first: written at known times so that every filter has one right answer. */
const EVENTS = [
  { action: 'member.added', actor: 'user:901', hours: 0 },
  { action: 'member.updated', actor: 'user:901', hours: 1 },
  { action: 'member.added', actor: 'key:gpk_000000000000000000000001', hours: 2 },
  { action: 'workspace.updated', actor: 'user:902', hours: 3 },
  { action: 'member.added', actor: 'user:901', hours: 4 },
  { action: 'member.removed', actor: 'user:902', hours: 5 },
  { action: 'member.added', actor: 'user:902', hours: 6 },
] as const;

interface EventJson {
  tenantId: number;
  action: string;
  actor: string;
  target: string | null;
  createdAt: string;
}

/** Issue 10: `GET /v1/audit-events` filters `action`, `actor`, `from` and `to` (`to` exclusive). */
describeEachDialect('admin API: audit log filters', (dialect) => {
  const ctx = useSeededApp(dialect);
  let tenantC: number;
  let adminKeyC: { publicKey: string; privateKey: string };

  beforeAll(async () => {
    const { db } = ctx.app.services;
    tenantC = (
      await createTenant(
        db,
        { label: 'Tenant C', ownerEmail: 'owner@c.test', ownerPassword: PASSWORD },
        CLI_ACTOR,
      )
    ).tenantId;
    const issued = await createApiKey(
      db,
      { tenantId: tenantC, label: 'C admin key', permissions: 'admin' },
      CLI_ACTOR,
    );
    adminKeyC = { publicKey: issued.key.publicKey, privateKey: issued.privateKey };
    // The same actions in tenant B, at the same times: no filter may reach across tenants.
    for (const tenantId of [tenantC, ctx.seed.b.tenantId]) {
      for (const [index, event] of EVENTS.entries()) {
        await insertAuditEvent(
          db,
          { tenantId, action: event.action, actor: event.actor, target: `event:${index}` },
          T0 + event.hours * HOUR,
        );
      }
    }
  });

  const read = (query: Record<string, string>, key = adminKeyC.privateKey) =>
    ctx.app.inject({
      method: 'GET',
      url: `/v1/audit-events?${new URLSearchParams(query)}`,
      headers: { 'x-api-key': key },
    });

  /** The indexes into {@link EVENTS} of a page's items (events of tenant C's own set-up have none). */
  async function indexes(query: Record<string, string>) {
    const res = await read(query);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json() as { items: EventJson[]; total: number };
    for (const item of body.items) expect(item.tenantId).toBe(tenantC);
    const found = body.items.map((e) =>
      e.target?.startsWith('event:') ? Number(e.target.slice(6)) : e.action,
    );
    return { found, total: body.total, items: body.items };
  }

  it('filters by action, newest first', async () => {
    expect(await indexes({ action: 'member.added' })).toMatchObject({ found: [6, 4, 2, 0], total: 4 });
  });

  it('filters by actor, a user or a key', async () => {
    expect(await indexes({ actor: 'user:901' })).toMatchObject({ found: [4, 1, 0], total: 3 });
    expect(await indexes({ actor: 'key:gpk_000000000000000000000001' })).toMatchObject({
      found: [2],
      total: 1,
    });
  });

  it('matches action and actor exactly, not as a prefix or pattern', async () => {
    expect((await indexes({ action: 'member' })).total).toBe(0);
    expect((await indexes({ action: 'member.%' })).total).toBe(0);
    expect((await indexes({ actor: 'user:90' })).total).toBe(0);
    expect((await indexes({ actor: 'USER:901' })).total).toBe(0);
  });

  it('answers an action nobody took with an empty page, not an error', async () => {
    expect((await read({ action: 'nothing.happened' })).json()).toEqual({ items: [], total: 0 });
  });

  it('filters from a time, inclusive: an event at exactly `from` is included', async () => {
    const { found, items } = await indexes({ from: at(3) });
    // Tenant C's own set-up (tenant.created, api_key.created) happened now, after every fixed event;
    // the log is ordered by id, and the set-up was written first.
    expect(found).toEqual([6, 5, 4, 3, 'api_key.created', 'tenant.created']);
    for (const item of items) expect(Date.parse(item.createdAt)).toBeGreaterThanOrEqual(T0 + 3 * HOUR);
  });

  it('filters up to a time, exclusive: an event at exactly `to` is left out', async () => {
    expect(await indexes({ to: at(3) })).toMatchObject({ found: [2, 1, 0], total: 3 });
  });

  it('reads a time with an offset as the instant it names', async () => {
    const zulu = await indexes({ from: at(3), to: at(5) });
    const offset = await indexes({ from: '2024-03-01T05:00:00+02:00', to: '2024-03-01T00:00:00-05:00' });
    expect(zulu.found).toEqual([4, 3]);
    expect(offset.found).toEqual(zulu.found);
  });

  it('answers an empty window (from equal to to) with nothing', async () => {
    expect((await indexes({ from: at(3), to: at(3) })).total).toBe(0);
  });

  it('combines action, actor, from and to', async () => {
    const query = { action: 'member.added', actor: 'user:901', from: at(1), to: at(6) };
    expect(await indexes(query)).toMatchObject({ found: [4], total: 1 });
    expect((await indexes({ ...query, to: at(4) })).total).toBe(0);
  });

  it('pages a filtered log: total counts every match, page and size pick the slice', async () => {
    expect(await indexes({ action: 'member.added', size: '2', page: '2' })).toMatchObject({
      found: [2, 0],
      total: 4,
    });
    expect(await indexes({ action: 'member.added', size: '3', page: '2' })).toMatchObject({
      found: [0],
      total: 4,
    });
    expect(await indexes({ action: 'member.added', size: '2', page: '3' })).toMatchObject({
      found: [],
      total: 4,
    });
  });

  it("never returns another tenant's events, whatever the filters", async () => {
    const res = await read({ action: 'member.added', size: '500' }, ctx.seed.adminKeyA.privateKey);
    expect(res.json()).toEqual({ items: [], total: 0 });
    const b = await read({ actor: 'user:901', from: at(0) }, ctx.seed.adminKeyB.privateKey);
    expect(b.json().total).toBe(3);
    for (const item of b.json().items as EventJson[]) expect(item.tenantId).toBe(ctx.seed.b.tenantId);
  });

  it('filters real events by the acting key', async () => {
    const made = await ctx.app.inject({
      method: 'POST',
      url: '/v1/workspaces',
      headers: { 'x-api-key': adminKeyC.privateKey },
      payload: { label: 'Made by the C admin key' },
    });
    expect(made.statusCode).toBe(201);
    const { found, items } = await indexes({ actor: `key:${adminKeyC.publicKey}` });
    expect(found).toEqual(['workspace.created']);
    expect(items[0]?.target).toBe(`workspace:${made.json().id}`);
  });

  it.each([
    ['from', 'yesterday'],
    ['from', '2024-03-01'],
    ['from', '2024-03-01T00:00:00'],
    ['from', '2024-02-30T00:00:00Z'],
    ['to', '1709251200000'],
    ['to', 'not a date'],
  ])('refuses %s=%s with a 400 naming the parameter', async (name, value) => {
    const res = await read({ [name]: value });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json().code).toBe('validation_failed');
    expect(res.json().errors).toEqual([expect.objectContaining({ field: name })]);
  });

  it('refuses an empty action or actor with a 400 naming it', async () => {
    for (const name of ['action', 'actor']) {
      const res = await read({ [name]: '' });
      expect(res.statusCode).toBe(400);
      expect(res.json().errors).toEqual([expect.objectContaining({ field: name })]);
    }
  });

  it('refuses an unknown filter with a 400 naming it', async () => {
    const res = await read({ target: 'event:1' });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toEqual([expect.objectContaining({ field: 'target' })]);
  });
});
