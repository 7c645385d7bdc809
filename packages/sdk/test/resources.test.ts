import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_ACTOR } from '../../server/src/domain/audit.ts';
import { createWorkspace } from '../../server/src/domain/workspaces.ts';
import { describeEachDialect } from '../../server/test/helpers/test-app.ts';
import { openApiDocument } from '../scripts/generate-types.ts';
import { restOperations } from '../scripts/operations.ts';
import { Gatehouse } from '../src/index.ts';
import { personTokens, recordingFetch, type SdkServer, startServer } from './sdk-server.ts';

/** One call of every SDK method, with made-up arguments. */
function everyMethod(sdk: Gatehouse): (() => Promise<unknown>)[] {
  const key = 'gpk_000000000000000000000000';
  return [
    () => sdk.status(),
    () => sdk.me(),
    () => sdk.rateLimitingState(),
    () => sdk.workspaces.list({ page: 2, size: 10, q: 'a', sortBy: 'label', asc: false }),
    () => sdk.workspaces.get(7),
    () => sdk.workspaces.create({ label: 'New' }),
    () => sdk.workspaces.update(7, { state: 'Archived' }),
    () => sdk.entities.list(7),
    () => sdk.entities.create(7, { name: 'Acme' }),
    () => sdk.entities.delete(7, 8),
    () => sdk.apiKeys.list({ status: 'active' }),
    () => sdk.apiKeys.get(key),
    () => sdk.apiKeys.create({ label: 'New key' }),
    () => sdk.apiKeys.update(key, { label: 'Renamed' }),
    () => sdk.apiKeys.rotate(key, { graceSeconds: 60 }),
    () => sdk.apiKeys.revoke(key),
    () => sdk.apiKeys.usage(key, { interval: 'day' }),
    () => sdk.members.list(),
    () => sdk.members.add({ email: 'new@a.test', role: 'member' }),
    () => sdk.members.update(3, { role: 'admin' }),
    () => sdk.members.remove(3),
    () => sdk.auditEvents.list({ action: 'api_key.created' }),
    () => sdk.consents.list(),
    () => sdk.consents.revoke(key),
  ];
}

describe('typed resources', () => {
  it('every REST operation of the OpenAPI document has an SDK method, and every method one operation', async () => {
    const sent: string[] = [];
    const sdk = new Gatehouse({
      baseUrl: 'http://gatehouse.test',
      apiKey: 'gsk_test',
      fetch: async (input, init) => {
        sent.push(`${init?.method} ${new URL(String(input)).pathname}`);
        return new Response(JSON.stringify({ items: [], total: 0 }), { status: 200 });
      },
    });
    for (const method of everyMethod(sdk)) await method();
    const operations = restOperations(await openApiDocument()).map(({ key }) => key);
    const pattern = (key: string) => new RegExp(`^${key.replace(/\{\w+\}/g, '[^/]+')}$`);
    const matched = sent.map((call) => operations.filter((op) => pattern(op).test(call)));
    // A call matching two templates takes the literal one (`/v1/me/consents`, not `/v1/{x}/consents`).
    expect(
      matched.every((ops) => ops.length >= 1),
      `calls without an operation: ${sent}`,
    ).toBe(true);
    const covered = new Set(
      matched.map((ops) => ops.sort((a, b) => a.split('{').length - b.split('{').length)[0]),
    );
    expect([...covered].sort()).toEqual([...operations].sort());
  });

  it('path parameters are URL-encoded', async () => {
    let url = '';
    const sdk = new Gatehouse({
      baseUrl: 'http://gatehouse.test/prefix/',
      apiKey: 'gsk_test',
      fetch: async (input) => {
        url = String(input);
        return new Response('{}');
      },
    });
    await sdk.apiKeys.get('gpk_a/../b?c');
    expect(url).toBe('http://gatehouse.test/prefix/v1/api-keys/gpk_a%2F..%2Fb%3Fc');
  });
});

describeEachDialect('typed resources against a real server', (dialect) => {
  let server: SdkServer;
  let admin: Gatehouse;
  beforeAll(async () => {
    server = await startServer(dialect);
    admin = new Gatehouse({ baseUrl: server.baseUrl, apiKey: server.seeded.adminKeyA.privateKey });
  });
  afterAll(() => server.close());

  it('the pager walks every page: 120 workspaces in pages of 50 are three requests', async () => {
    const { b } = server.seeded;
    for (let i = 1; i < 120; i++)
      await createWorkspace(server.app.services.db, b.tenantId, `Bulk ${i}`, CLI_ACTOR);
    const recorder = recordingFetch();
    const sdk = new Gatehouse({
      baseUrl: server.baseUrl,
      apiKey: server.seeded.orgKeyB.privateKey,
      fetch: recorder.fetch,
    });
    const ids: number[] = [];
    for await (const workspace of sdk.workspaces.all({ size: 50 })) ids.push(workspace.id);
    expect(ids).toHaveLength(120);
    expect(new Set(ids).size).toBe(120);
    expect(recorder.calls.map((c) => new URL(c.url).search)).toEqual([
      '?size=50&page=1',
      '?size=50&page=2',
      '?size=50&page=3',
    ]);
  });

  it('the pager stops at once on an empty list', async () => {
    const recorder = recordingFetch();
    const sdk = new Gatehouse({
      baseUrl: server.baseUrl,
      apiKey: server.seeded.orgKeyA.privateKey,
      fetch: recorder.fetch,
    });
    const found: unknown[] = [];
    for await (const workspace of sdk.workspaces.all({ q: 'no such workspace' })) found.push(workspace);
    expect(found).toEqual([]);
    expect(recorder.calls).toHaveLength(1);
  });

  it('workspaces: an admin creates, renames and archives one', async () => {
    const created = await admin.workspaces.create({
      label: 'From the SDK',
      dataSubjectArchivedRetentionDays: 30,
    });
    expect(created).toMatchObject({
      label: 'From the SDK',
      state: 'Active',
      dataSubjectArchivedRetentionDays: 30,
    });
    const archived = await admin.workspaces.update(created.id, { label: 'Renamed', state: 'Archived' });
    expect(archived).toMatchObject({ id: created.id, label: 'Renamed', state: 'Archived' });
  });

  it('API keys: create (private key shown once), get, update, usage, rotate, revoke, list and all', async () => {
    const issued = await admin.apiKeys.create({ label: 'SDK key', permissions: 'read' });
    expect(issued).toMatchObject({ label: 'SDK key', permissions: 'read', status: 'active' });
    expect(issued.privateKey).toMatch(/^gsk_/);
    expect(await admin.apiKeys.get(issued.publicKey)).not.toHaveProperty('privateKey');
    const updated = await admin.apiKeys.update(issued.publicKey, { corsOrigins: ['https://app.example'] });
    expect(updated.corsOrigins).toEqual(['https://app.example']);
    const usage = await admin.apiKeys.usage(issued.publicKey, { interval: 'day' });
    expect(usage).toMatchObject({ publicKey: issued.publicKey, interval: 'day' });
    const rotated = await admin.apiKeys.rotate(issued.publicKey, { graceSeconds: 0 });
    expect(rotated.privateKey).not.toBe(issued.privateKey);
    await expect(admin.apiKeys.revoke(issued.publicKey)).resolves.toBeUndefined();
    expect((await admin.apiKeys.list({ status: 'revoked' })).items.map((k) => k.publicKey)).toContain(
      issued.publicKey,
    );
    const all: string[] = [];
    for await (const key of admin.apiKeys.all({ size: 2 })) all.push(key.publicKey);
    expect(all).toContain(issued.publicKey);
  });

  it('members: add, update, list and remove; the audit log records it all', async () => {
    const added = await admin.members.add({ email: 'sdk@a.test', role: 'member' });
    expect(added).toMatchObject({ email: 'sdk@a.test', role: 'member', created: true });
    expect(added.signInLink).toEqual(expect.any(String));
    expect(await admin.members.update(added.id, { role: 'admin' })).toMatchObject({ role: 'admin' });
    const emails: string[] = [];
    for await (const member of admin.members.all()) emails.push(member.email);
    expect(emails).toContain('sdk@a.test');
    await expect(admin.members.remove(added.id)).resolves.toBeUndefined();
    const events = await admin.auditEvents.list({ actor: `key:${server.seeded.adminKeyA.key.publicKey}` });
    expect(events.items.map((e) => e.action)).toEqual(
      expect.arrayContaining(['member.added', 'member.removed']),
    );
  });

  it('status, rate-limiting state, and a person’s consents (listed, then withdrawn)', async () => {
    await expect(admin.status()).resolves.toEqual({ status: 'ok' });
    await expect(admin.rateLimitingState()).resolves.toMatchObject({ limit: expect.any(Number) });
    const tokens = await personTokens(server);
    const person = new Gatehouse({ baseUrl: server.baseUrl, accessToken: tokens.accessToken });
    const consents = await person.consents.list();
    const publicKey = server.seeded.orgKeyA.key.publicKey;
    expect(consents.items.map((c) => c.publicKey)).toEqual([publicKey]);
    await expect(person.consents.revoke(publicKey)).resolves.toBeUndefined();
    // Withdrawing the consent ended the tokens issued under it.
    await expect(person.me()).rejects.toMatchObject({ status: 401 });
  });
});
