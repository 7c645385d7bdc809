import { describe, expect, it } from 'vitest';
import { createApiKey, revokeApiKey, rotateApiKey } from '../src/domain/api-keys.ts';
import { CLI_ACTOR } from '../src/domain/audit.ts';
import { mayReadAuditLog } from '../src/domain/audit-log.ts';
import type { Principal } from '../src/model/types.ts';
import { useSeededApp } from './helpers/seeded-app.ts';
import { describeEachDialect } from './helpers/test-app.ts';

interface Event {
  id: number;
  tenantId: number;
  actor: string;
  action: string;
  target: string | null;
}

/** DESIGN.md 3 rule 11: owners read their organization's audit log at GET /v1/audit-events. */
describeEachDialect('GET /v1/audit-events', (dialect) => {
  const ctx = useSeededApp(dialect);

  const read = (key: string, query = '') =>
    ctx.app.inject({ method: 'GET', url: `/v1/audit-events${query}`, headers: { 'x-api-key': key } });

  it("lists the organization's events, newest first, in the documented shape", async () => {
    const res = await read(ctx.seed.adminKeyA.privateKey);
    expect(res.statusCode).toBe(200);
    const { items, total } = res.json() as { items: Event[]; total: number };
    expect(total).toBe(items.length);
    expect(items.map((e) => e.action)).toEqual([
      'api_key.created',
      'api_key.created',
      'api_key.created',
      'workspace.created',
      'tenant.created',
    ]);
    expect(items.map((e) => e.id)).toEqual([...items.map((e) => e.id)].sort((a, b) => b - a));
    expect(items[0]).toEqual({
      id: expect.any(Number),
      tenantId: ctx.seed.a.tenantId,
      actor: 'cli',
      action: 'api_key.created',
      target: ctx.seed.adminKeyA.key.publicKey,
      ip: null,
      userAgent: null,
      details: { workspaceId: null, permissions: 'admin', clientType: 'confidential' },
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
  });

  it('is part of the admin API: a write key of the organization gets 404', async () => {
    const res = await read(ctx.seed.orgKeyA.privateKey);
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe('not_found');
  });

  it('shows each tenant only its own events', async () => {
    const a = (await read(ctx.seed.adminKeyA.privateKey)).json().items as Event[];
    const b = (await read(ctx.seed.adminKeyB.privateKey)).json().items as Event[];
    expect(new Set(a.map((e) => e.tenantId))).toEqual(new Set([ctx.seed.a.tenantId]));
    expect(new Set(b.map((e) => e.tenantId))).toEqual(new Set([ctx.seed.b.tenantId]));
    expect(b.map((e) => e.target)).not.toContain(ctx.seed.orgKeyA.key.publicKey);
  });

  it('records revocation and rotation, and never a private key', async () => {
    const issued = await createApiKey(ctx.app.services.db, { tenantId: ctx.seed.a.tenantId }, CLI_ACTOR);
    const rotated = await rotateApiKey(ctx.app.services.db, issued.key.publicKey, 0, CLI_ACTOR);
    await revokeApiKey(ctx.app.services.db, issued.key.publicKey, CLI_ACTOR);
    const res = await read(ctx.seed.adminKeyA.privateKey, '?size=3');
    const items = res.json().items as Event[];
    expect(items.map((e) => [e.action, e.target])).toEqual([
      ['api_key.revoked', issued.key.publicKey],
      ['api_key.rotated', issued.key.publicKey],
      ['api_key.created', issued.key.publicKey],
    ]);
    for (const secret of [issued.privateKey, rotated.privateKey, ctx.seed.adminKeyA.privateKey])
      expect(res.body).not.toContain(secret);
  });

  it('pages with page and size', async () => {
    const all = (await read(ctx.seed.adminKeyA.privateKey, '?size=500')).json();
    const second = (await read(ctx.seed.adminKeyA.privateKey, '?page=2&size=2')).json();
    expect(second.total).toBe(all.total);
    expect(second.items).toEqual(all.items.slice(2, 4));
  });

  it('refuses a page size over 500 with a 400 problem', async () => {
    const res = await read(ctx.seed.adminKeyA.privateKey, '?size=501');
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('validation_failed');
  });

  it('answers 404 to a workspace-scoped key: the log belongs to the organization', async () => {
    const res = await read(ctx.seed.workspaceKeyA.privateKey);
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).not.toContain('api_key');
  });
});

describe('who may read the audit log', () => {
  const principal = (overrides: Partial<Principal>): Principal => ({
    authMethod: 'bearer',
    tenantId: 1,
    workspaceId: null,
    apiKey: { id: 1, publicKey: 'gpk_x', label: 'k' },
    user: null,
    scope: 'api1',
    permissions: 'admin',
    ...overrides,
  });
  const user = (role: 'owner' | 'admin' | 'member') => ({
    id: 1,
    email: 'u@example.com',
    displayName: null,
    role,
    workspaceIds: null,
  });

  it('an organization key, or a user token of an owner or admin', () => {
    expect(mayReadAuditLog(principal({ authMethod: 'apiKey' }))).toBe(true);
    expect(mayReadAuditLog(principal({ user: user('owner') }))).toBe(true);
    expect(mayReadAuditLog(principal({ user: user('admin') }))).toBe(true);
  });

  it('not a read or write credential, whoever it speaks for', () => {
    expect(mayReadAuditLog(principal({ authMethod: 'apiKey', permissions: 'write' }))).toBe(false);
    expect(mayReadAuditLog(principal({ user: user('owner'), permissions: 'write' }))).toBe(false);
  });

  it('not a member, nor anything limited to a workspace', () => {
    expect(mayReadAuditLog(principal({ user: user('member') }))).toBe(false);
    expect(mayReadAuditLog(principal({ workspaceId: 3 }))).toBe(false);
    expect(mayReadAuditLog(principal({ workspaceId: 3, user: user('owner') }))).toBe(false);
  });
});
