import { randomBytes } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { countStatuses, releaseMany } from '../helpers/concurrent.ts';
import { basicAuth, postForm, wait } from '../helpers/http.ts';
import { useSeededApp } from '../helpers/seeded-app.ts';
import { describeEachDialect } from '../helpers/test-app.ts';

/** The `ApiKey` schema's fields (admin-schemas.ts), which every view of a key has, and only those. */
const API_KEY_FIELDS = [
  'publicKey',
  'label',
  'workspaceId',
  'permissions',
  'redirectUris',
  'corsOrigins',
  'clientType',
  'postLogoutRedirectUris',
  'idTokenSignedResponseAlg',
  'last4',
  'status',
  'createdBy',
  'createdAt',
  'lastUsedAt',
  'expiresAt',
  'revokedAt',
].sort();

const PUBLIC_KEY = /^gpk_[0-9A-Za-z]{24}$/;
const PRIVATE_KEY = /^gsk_[0-9A-Za-z]{49}$/;
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
/** Where the audited requests come from, so that the audit log's address is provably the caller's. */
const CALLER_IP = '203.0.113.77';
const USER_AGENT = 'gatehouse-admin-test/1.0 (api-keys)';

interface KeyView {
  publicKey: string;
  label: string;
  workspaceId: number | null;
  permissions: string;
  redirectUris: string[];
  corsOrigins: string[];
  clientType: 'confidential' | 'public';
  postLogoutRedirectUris: string[];
  idTokenSignedResponseAlg: 'RS256' | 'ES256';
  last4: string | null;
  status: 'active' | 'revoked' | 'expired';
  createdBy: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
}
interface IssuedView extends KeyView {
  privateKey: string;
  previousKeyExpiresAt?: string | null;
}
interface AuditEvent {
  actor: string;
  action: string;
  target: string | null;
  ip: string | null;
  userAgent: string | null;
  details: Record<string, unknown> | null;
}
interface FieldError {
  field: string;
  message: string;
}

/** A label no other test uses, so that `q` finds exactly the keys of one test. */
const tag = (what: string) => `${what}-${randomBytes(4).toString('hex')}`;

/** A problem+json answer: its status, code and (for 400) the fields it names. */
function expectProblem(res: LightMyRequestResponse, status: number, code: string) {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = res.json() as { status: number; code: string; errors?: FieldError[] };
  expect(body.status).toBe(status);
  expect(body.code).toBe(code);
  return body;
}

/** Fields a 400 problem names; fails unless it is a `validation_failed` problem naming at least one. */
function namedFields(res: LightMyRequestResponse): string[] {
  const body = expectProblem(res, 400, 'validation_failed');
  expect(body.errors?.length ?? 0, res.body).toBeGreaterThan(0);
  return (body.errors ?? []).map((error) => error.field);
}

/**
 * DESIGN.md 1 "Admin API" and issue 10: the API-key endpoints of the admin API. The key cache polls
 * its invalidation feed once a minute here, so that an effect seen at once (a revoked key refused, a
 * new redirect URI accepted, a removed origin refused) can only come from this instance's own update.
 */
describeEachDialect('admin API: /v1/api-keys', (dialect) => {
  const ctx = useSeededApp(dialect, {}, { keyCache: { pollMs: 60_000 } });

  const adminA = () => ctx.seed.adminKeyA.privateKey;
  const send = (
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    url: string,
    body?: string | object,
    key: string = adminA(),
    headers: Record<string, string> = {},
  ) =>
    ctx.app.inject({
      method,
      url,
      headers: { 'x-api-key': key, 'user-agent': USER_AGENT, ...headers },
      remoteAddress: CALLER_IP,
      ...(body === undefined ? {} : { payload: body }),
    });

  async function create(body: Record<string, unknown>): Promise<IssuedView> {
    const res = await send('POST', '/v1/api-keys', body);
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as IssuedView;
  }
  const getKey = async (publicKey: string) => {
    const res = await send('GET', `/v1/api-keys/${publicKey}`);
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as KeyView;
  };
  const list = async (query: Record<string, string>) => {
    const res = await send('GET', `/v1/api-keys?${new URLSearchParams(query)}`);
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as { items: KeyView[]; total: number };
  };
  const me = (headers: Record<string, string>) => ctx.app.inject({ method: 'GET', url: '/me', headers });
  const meWithKey = (privateKey: string) => me({ 'x-api-key': privateKey });
  const clientToken = (publicKey: string, privateKey: string) =>
    postForm(ctx.app, '/connect/token', 'grant_type=client_credentials&scope=api1', {
      authorization: basicAuth(publicKey, privateKey),
    });

  /** Tenant A's audit events with `action` about `target`, through the admin API. */
  async function auditOf(action: string, target: string): Promise<AuditEvent[]> {
    const res = await send('GET', `/v1/audit-events?action=${action}&size=500`);
    expect(res.statusCode, res.body).toBe(200);
    return (res.json().items as AuditEvent[]).filter((event) => event.target === target);
  }

  const db = () => ctx.app.services.db;
  const keyId = async (publicKey: string) =>
    (
      await db()
        .selectFrom('api_keys')
        .select('id')
        .where('public_key', '=', publicKey)
        .executeTakeFirstOrThrow()
    ).id;
  /** Rows a tenant has in the tables a key change writes: keys, secrets, audit events, invalidations. */
  async function rowsOf(tenantId: number) {
    const keys = await db()
      .selectFrom('api_keys')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('tenant_id', '=', tenantId)
      .executeTakeFirstOrThrow();
    const secrets = await db()
      .selectFrom('api_key_secrets as s')
      .innerJoin('api_keys as k', 'k.id', 's.api_key_id')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('k.tenant_id', '=', tenantId)
      .executeTakeFirstOrThrow();
    const events = await db()
      .selectFrom('audit_events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('tenant_id', '=', tenantId)
      .executeTakeFirstOrThrow();
    const invalidations = await db()
      .selectFrom('invalidations as i')
      .innerJoin('api_keys as k', 'k.id', 'i.api_key_id')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('k.tenant_id', '=', tenantId)
      .executeTakeFirstOrThrow();
    return {
      keys: Number(keys.n),
      secrets: Number(secrets.n),
      events: Number(events.n),
      invalidations: Number(invalidations.n),
    };
  }

  describe('POST /v1/api-keys', () => {
    it('answers 201 with the documented fields and the private key, never to be cached', async () => {
      const label = tag('created');
      const before = Date.now();
      const res = await send('POST', '/v1/api-keys', {
        label,
        redirectUris: ['https://client.example/callback'],
        corsOrigins: ['https://client.example'],
      });
      expect(res.statusCode, res.body).toBe(201);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      const key = res.json() as IssuedView;
      expect(Object.keys(key).sort()).toEqual([...API_KEY_FIELDS, 'privateKey'].sort());
      expect(key).toEqual({
        publicKey: expect.stringMatching(PUBLIC_KEY),
        privateKey: expect.stringMatching(PRIVATE_KEY),
        label,
        workspaceId: null,
        permissions: 'write',
        redirectUris: ['https://client.example/callback'],
        corsOrigins: ['https://client.example'],
        clientType: 'confidential',
        postLogoutRedirectUris: [],
        idTokenSignedResponseAlg: 'RS256',
        last4: key.privateKey.slice(-4),
        status: 'active',
        createdBy: `key:${ctx.seed.adminKeyA.key.publicKey}`,
        createdAt: expect.stringMatching(ISO),
        lastUsedAt: null,
        expiresAt: null,
        revokedAt: null,
      });
      expect(Date.parse(key.createdAt)).toBeGreaterThanOrEqual(before - 1000);
      expect(Date.parse(key.createdAt)).toBeLessThanOrEqual(Date.now() + 1000);
    });

    it('issues a private key that authenticates X-API-Key on /me at once, in the creator tenant', async () => {
      const key = await create({ label: tag('works') });
      const res = await meWithKey(key.privateKey);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({
        authMethod: 'apiKey',
        tenantId: ctx.seed.a.tenantId,
        workspaceId: null,
        apiKey: { publicKey: key.publicKey, label: key.label },
        permissions: 'write',
      });
    });

    it('never shows the private key again: GET and the list carry only its last 4 characters', async () => {
      const label = tag('shown-once');
      const key = await create({ label });
      const secretPart = key.privateKey.slice(4, 30);
      const one = await send('GET', `/v1/api-keys/${key.publicKey}`);
      const listed = await send('GET', `/v1/api-keys?q=${label}`);
      for (const res of [one, listed]) {
        expect(res.statusCode).toBe(200);
        expect(res.body).not.toContain(secretPart);
        expect(res.body).not.toContain('privateKey');
      }
      expect(Object.keys(one.json()).sort()).toEqual(API_KEY_FIELDS);
      expect(one.json()).toMatchObject({ publicKey: key.publicKey, last4: key.privateKey.slice(-4) });
      expect(listed.json().items).toEqual([one.json()]);
    });

    it('records api_key.created with the calling key as actor, its address and user agent', async () => {
      const key = await create({ label: tag('audited'), permissions: 'read' });
      const events = await auditOf('api_key.created', key.publicKey);
      expect(events).toEqual([
        expect.objectContaining({
          actor: `key:${ctx.seed.adminKeyA.key.publicKey}`,
          action: 'api_key.created',
          target: key.publicKey,
          ip: CALLER_IP,
          userAgent: USER_AGENT,
          details: expect.objectContaining({ permissions: 'read', workspaceId: null }),
        }),
      ]);
      expect(JSON.stringify(events)).not.toContain(key.privateKey.slice(4, 30));
    });
  });

  describe('GET /v1/api-keys', () => {
    const prefix = tag('listed');
    let active: IssuedView;
    let inWorkspace: IssuedView;
    let revoked: IssuedView;
    let expired: IssuedView;
    beforeAll(async () => {
      active = await create({ label: `${prefix} delta active` });
      inWorkspace = await create({
        label: `${prefix} alpha workspace`,
        workspaceId: ctx.seed.a.secondWorkspaceId,
      });
      revoked = await create({ label: `${prefix} charlie revoked` });
      expect((await send('DELETE', `/v1/api-keys/${revoked.publicKey}`)).statusCode).toBe(204);
      expired = await create({ label: `${prefix} bravo expired`, expiresIn: 1 });
      // expiresIn is in whole seconds: wait until the key is past its expiry.
      await wait(Math.max(0, Date.parse(expired.expiresAt ?? '') - Date.now()) + 50);
    });
    const publicKeys = (page: { items: KeyView[] }) => page.items.map((key) => key.publicKey);

    it('filters by workspaceId: only that workspace’s keys', async () => {
      const page = await list({ workspaceId: String(ctx.seed.a.secondWorkspaceId) });
      expect(page.items.length).toBeGreaterThan(0);
      expect(page.total).toBe(page.items.length);
      expect(new Set(page.items.map((key) => key.workspaceId))).toEqual(
        new Set([ctx.seed.a.secondWorkspaceId]),
      );
      expect(publicKeys(page)).toEqual(
        expect.arrayContaining([inWorkspace.publicKey, ctx.seed.workspaceKeyA.key.publicKey]),
      );
      expect(publicKeys(page)).not.toContain(active.publicKey);
    });

    it.each([
      ['active', () => active, () => [revoked, expired]],
      ['revoked', () => revoked, () => [active, expired]],
      ['expired', () => expired, () => [active, revoked]],
    ] as const)(
      'filters by status=%s and shows each key with that status',
      async (status, wanted, others) => {
        const page = await list({ q: prefix, status });
        expect(publicKeys(page)).toContain(wanted().publicKey);
        for (const other of others()) expect(publicKeys(page)).not.toContain(other.publicKey);
        expect(page.items.every((key) => key.status === status)).toBe(true);
        expect(page.total).toBe(page.items.length);
      },
    );

    it('shows a revoked key with revokedAt and an expired one with its past expiresAt', async () => {
      const shown = await list({ q: prefix });
      const byKey = new Map(shown.items.map((key) => [key.publicKey, key]));
      expect(byKey.get(revoked.publicKey)).toMatchObject({
        status: 'revoked',
        revokedAt: expect.stringMatching(ISO),
      });
      expect(byKey.get(expired.publicKey)?.status).toBe('expired');
      expect(Date.parse(byKey.get(expired.publicKey)?.expiresAt ?? '')).toBeLessThanOrEqual(Date.now());
      expect(byKey.get(active.publicKey)).toMatchObject({
        status: 'active',
        revokedAt: null,
        expiresAt: null,
      });
    });

    it('searches the label with q, case-insensitively', async () => {
      const page = await list({ q: prefix.toUpperCase() });
      expect(page.total).toBe(4);
      expect(new Set(publicKeys(page))).toEqual(
        new Set([active.publicKey, inWorkspace.publicKey, revoked.publicKey, expired.publicKey]),
      );
      expect((await list({ q: `${prefix} charlie` })).items.map((key) => key.publicKey)).toEqual([
        revoked.publicKey,
      ]);
    });

    it('pages with page and size: total counts every match, items only the page', async () => {
      const pages = await Promise.all(
        [1, 2, 3].map((page) => list({ q: prefix, size: '3', page: String(page) })),
      );
      expect(pages.map((page) => page.total)).toEqual([4, 4, 4]);
      expect(pages.map((page) => page.items.length)).toEqual([3, 1, 0]);
      const seen = pages.flatMap(publicKeys);
      expect(new Set(seen).size).toBe(4);
    });

    it('sorts by label, ascending or descending', async () => {
      const labels = ['alpha workspace', 'bravo expired', 'charlie revoked', 'delta active'].map(
        (rest) => `${prefix} ${rest}`,
      );
      const ascending = await list({ q: prefix, sortBy: 'label', asc: 'true' });
      expect(ascending.items.map((key) => key.label)).toEqual(labels);
      const descending = await list({ q: prefix, sortBy: 'label', asc: 'false' });
      expect(descending.items.map((key) => key.label)).toEqual([...labels].reverse());
    });

    it("never lists another tenant's keys, whatever the filter", async () => {
      const bKeys = [ctx.seed.orgKeyB.key.publicKey, ctx.seed.adminKeyB.key.publicKey];
      const all = await list({ size: '500' });
      expect(all.total).toBe(all.items.length);
      for (const key of bKeys) expect(publicKeys(all)).not.toContain(key);
      expect(all.items.length).toBeGreaterThanOrEqual(4);
      expect((await list({ q: 'B org key' })).total).toBe(0);
      for (const status of ['active', 'revoked', 'expired'])
        for (const key of bKeys) expect(publicKeys(await list({ status, size: '500' }))).not.toContain(key);
      // B's workspace as a filter finds nothing, as a workspace that does not exist would.
      expect(await list({ workspaceId: String(ctx.seed.b.workspaceId) })).toEqual({ items: [], total: 0 });
    });
  });

  describe('GET /v1/api-keys/{publicKey}', () => {
    it("answers one of the organization's keys in the ApiKey shape", async () => {
      const shown = await getKey(ctx.seed.orgKeyA.key.publicKey);
      expect(Object.keys(shown).sort()).toEqual(API_KEY_FIELDS);
      expect(shown).toMatchObject({
        publicKey: ctx.seed.orgKeyA.key.publicKey,
        label: 'A org key',
        workspaceId: null,
        permissions: 'write',
        redirectUris: ['https://app.example/callback'],
        last4: ctx.seed.orgKeyA.privateKey.slice(-4),
        status: 'active',
        createdBy: 'cli',
      });
    });

    it("answers 404 for another tenant's key, like for a key that does not exist", async () => {
      const other = await send('GET', `/v1/api-keys/${ctx.seed.orgKeyB.key.publicKey}`);
      expectProblem(other, 404, 'not_found');
      expect(other.body).not.toContain('B org key');
      expectProblem(await send('GET', `/v1/api-keys/gpk_${'0'.repeat(24)}`), 404, 'not_found');
    });

    it.each([
      ['too short', 'gpk_abc'],
      ['the wrong prefix', `gsk_${'a'.repeat(24)}`],
      ['a character outside base62', `gpk_${'a'.repeat(23)}-`],
    ])('answers 400 naming publicKey for a public key %s', async (_name, publicKey) => {
      expect(namedFields(await send('GET', `/v1/api-keys/${publicKey}`))).toContain('publicKey');
    });
  });

  describe('PATCH /v1/api-keys/{publicKey}', () => {
    const R1 = 'https://patched.example/callback';
    const R2 = 'https://patched.example/new-callback';
    const authorize = (clientId: string, redirectUri: string) =>
      ctx.app.inject({
        method: 'GET',
        url: `/connect/authorize?${new URLSearchParams({
          response_type: 'code',
          client_id: clientId,
          redirect_uri: redirectUri,
          scope: 'api1',
          state: 's1',
        })}`,
      });
    /** Accepted: the request goes on to sign-in (no session here), the step after the client checks. */
    function expectAccepted(res: LightMyRequestResponse) {
      expect(res.statusCode, res.body).toBe(303);
      expect(String(res.headers.location)).toMatch(/^\/console\/sign-in\?/);
    }
    /** Refused: an error page, never a redirect (RFC 6749 4.1.2.1). */
    function expectErrorPage(res: LightMyRequestResponse) {
      expect(res.statusCode).toBe(400);
      expect(res.headers.location).toBeUndefined();
      expect(res.headers['content-type']).toMatch(/^text\/html/);
    }

    it('changes label, redirect URIs and CORS origins, answers the key, and records api_key.updated', async () => {
      const key = await create({ label: tag('before') });
      const label = tag('after');
      const res = await send('PATCH', `/v1/api-keys/${key.publicKey}`, {
        label,
        redirectUris: [R1, 'http://127.0.0.1:8080/cb'],
        corsOrigins: ['https://patched.example', 'http://localhost:3000'],
      });
      expect(res.statusCode, res.body).toBe(200);
      const expected = {
        publicKey: key.publicKey,
        label,
        redirectUris: [R1, 'http://127.0.0.1:8080/cb'],
        corsOrigins: ['https://patched.example', 'http://localhost:3000'],
        last4: key.last4,
        status: 'active',
        permissions: 'write',
      };
      expect(Object.keys(res.json()).sort()).toEqual(API_KEY_FIELDS);
      expect(res.json()).toMatchObject(expected);
      expect(await getKey(key.publicKey)).toMatchObject(expected);
      expect(await auditOf('api_key.updated', key.publicKey)).toEqual([
        expect.objectContaining({
          actor: `key:${ctx.seed.adminKeyA.key.publicKey}`,
          ip: CALLER_IP,
          userAgent: USER_AGENT,
        }),
      ]);
    });

    it('sets a future expiresAt, and null removes it', async () => {
      const key = await create({ label: tag('expiry') });
      const at = new Date(Date.now() + 3_600_000).toISOString();
      const set = await send('PATCH', `/v1/api-keys/${key.publicKey}`, { expiresAt: at });
      expect(set.statusCode, set.body).toBe(200);
      expect(Date.parse(set.json().expiresAt)).toBe(Date.parse(at));
      expect(Date.parse((await getKey(key.publicKey)).expiresAt ?? '')).toBe(Date.parse(at));
      const cleared = await send('PATCH', `/v1/api-keys/${key.publicKey}`, { expiresAt: null });
      expect(cleared.statusCode, cleared.body).toBe(200);
      expect(cleared.json().expiresAt).toBeNull();
      expect((await getKey(key.publicKey)).expiresAt).toBeNull();
      expect((await meWithKey(key.privateKey)).statusCode).toBe(200);
    });

    it('an expiresAt that passes makes the key expire: refused, and listed as expired', async () => {
      const key = await create({ label: tag('soon') });
      expect((await meWithKey(key.privateKey)).statusCode).toBe(200);
      const at = new Date(Date.now() + 1000).toISOString();
      expect((await send('PATCH', `/v1/api-keys/${key.publicKey}`, { expiresAt: at })).statusCode).toBe(200);
      await wait(Math.max(0, Date.parse(at) - Date.now()) + 50);
      const res = await meWithKey(key.privateKey);
      expect(res.statusCode).toBe(401);
      expect(res.json().detail).toMatch(/expired/);
      expect((await getKey(key.publicKey)).status).toBe('expired');
    });

    it('a new redirect URI is accepted by /connect/authorize at once, a removed one refused at once', async () => {
      const key = await create({ label: tag('redirects'), redirectUris: [R1] });
      // Both answers put the client in this instance's cache, which polling would not refresh for a minute.
      expectAccepted(await authorize(key.publicKey, R1));
      expectErrorPage(await authorize(key.publicKey, R2));
      const res = await send('PATCH', `/v1/api-keys/${key.publicKey}`, { redirectUris: [R2] });
      expect(res.statusCode, res.body).toBe(200);
      expectAccepted(await authorize(key.publicKey, R2));
      const removed = await authorize(key.publicKey, R1);
      expectErrorPage(removed);
      expect(removed.body).not.toContain('code=');
    });

    it('a removed CORS origin stops being allowed at once, for actual requests and preflights', async () => {
      const kept = `https://kept-${randomBytes(3).toString('hex')}.example`;
      const removed = `https://removed-${randomBytes(3).toString('hex')}.example`;
      const key = await create({ label: tag('cors'), corsOrigins: [kept, removed] });
      const actual = (origin: string) => me({ 'x-api-key': key.privateKey, origin });
      const preflight = (origin: string) =>
        ctx.app.inject({
          method: 'OPTIONS',
          url: '/me',
          headers: {
            origin,
            'access-control-request-method': 'GET',
            'access-control-request-headers': 'x-api-key',
          },
        });
      // Allowed first (and the key cached), so that a refusal afterwards is the change's doing.
      expect((await actual(removed)).headers['access-control-allow-origin']).toBe(removed);
      expect((await preflight(removed)).headers['access-control-allow-origin']).toBe(removed);
      const res = await send('PATCH', `/v1/api-keys/${key.publicKey}`, { corsOrigins: [kept] });
      expect(res.statusCode, res.body).toBe(200);
      const after = await actual(removed);
      expect(after.statusCode).toBe(200);
      expect(after.headers['access-control-allow-origin']).toBeUndefined();
      const refused = await preflight(removed);
      expect(refused.headers['access-control-allow-origin']).toBeUndefined();
      expect(refused.headers['access-control-allow-methods']).toBeUndefined();
      // The origin that stays is still allowed: the refusal is about the removed origin only.
      expect((await actual(kept)).headers['access-control-allow-origin']).toBe(kept);
      expect((await preflight(kept)).headers['access-control-allow-origin']).toBe(kept);
    });

    it('answers 409 for a revoked key and changes nothing', async () => {
      const label = tag('revoked-patch');
      const key = await create({ label });
      expect((await send('DELETE', `/v1/api-keys/${key.publicKey}`)).statusCode).toBe(204);
      const res = await send('PATCH', `/v1/api-keys/${key.publicKey}`, {
        label: tag('renamed'),
        redirectUris: [R1],
      });
      expectProblem(res, 409, 'conflict');
      expect(await getKey(key.publicKey)).toMatchObject({ label, redirectUris: [], status: 'revoked' });
      expect(await auditOf('api_key.updated', key.publicKey)).toEqual([]);
    });
  });

  describe('POST /v1/api-keys/{publicKey}/rotate', () => {
    const rotate = (publicKey: string, body: object) =>
      send('POST', `/v1/api-keys/${publicKey}/rotate`, body);

    it('issues a new private key, shown once and not cached, that works at once', async () => {
      const key = await create({ label: tag('rotated') });
      const before = Date.now();
      const res = await rotate(key.publicKey, { graceSeconds: 3600 });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      const rotated = res.json() as IssuedView;
      expect(rotated.privateKey).toMatch(PRIVATE_KEY);
      expect(rotated.privateKey).not.toBe(key.privateKey);
      expect(rotated).toMatchObject({ publicKey: key.publicKey, last4: rotated.privateKey.slice(-4) });
      expect(Date.parse(rotated.previousKeyExpiresAt ?? '')).toBeGreaterThanOrEqual(before + 3_599_000);
      const res2 = await meWithKey(rotated.privateKey);
      expect(res2.statusCode, res2.body).toBe(200);
      expect(res2.json().apiKey.publicKey).toBe(key.publicKey);
      expect((await clientToken(key.publicKey, rotated.privateKey)).statusCode).toBe(200);
      expect((await getKey(key.publicKey)).last4).toBe(rotated.privateKey.slice(-4));
    });

    it('keeps the old private key working during graceSeconds', async () => {
      const key = await create({ label: tag('grace') });
      expect((await rotate(key.publicKey, { graceSeconds: 3600 })).statusCode).toBe(200);
      expect((await meWithKey(key.privateKey)).statusCode).toBe(200);
      expect((await clientToken(key.publicKey, key.privateKey)).statusCode).toBe(200);
    });

    it('refuses the old private key at once with graceSeconds 0, for X-API-Key and client credentials', async () => {
      const key = await create({ label: tag('no-grace') });
      // Cached as valid first: only this instance's own eviction can refuse it in time.
      expect((await meWithKey(key.privateKey)).statusCode).toBe(200);
      expect((await clientToken(key.publicKey, key.privateKey)).statusCode).toBe(200);
      const res = await rotate(key.publicKey, { graceSeconds: 0 });
      expect(res.statusCode, res.body).toBe(200);
      const old = await meWithKey(key.privateKey);
      expect(old.statusCode).toBe(401);
      expect(old.json().detail).toMatch(/rotated/);
      expect((await clientToken(key.publicKey, key.privateKey)).json().error).toBe('invalid_client');
      expect((await meWithKey(res.json().privateKey)).statusCode).toBe(200);
    });

    it('a second rotation without grace ends the grace period of the first one', async () => {
      const key = await create({ label: tag('twice') });
      const first = (await rotate(key.publicKey, { graceSeconds: 3600 })).json() as IssuedView;
      expect((await meWithKey(key.privateKey)).statusCode).toBe(200);
      const second = (await rotate(key.publicKey, { graceSeconds: 0 })).json() as IssuedView;
      expect((await meWithKey(key.privateKey)).statusCode).toBe(401);
      expect((await meWithKey(first.privateKey)).statusCode).toBe(401);
      expect((await meWithKey(second.privateKey)).statusCode).toBe(200);
    });

    it.each([86_401, -1, 1.5])(
      'answers 400 naming graceSeconds for %j and rotates nothing',
      async (grace) => {
        const key = await create({ label: tag('bad-grace') });
        const before = await rowsOf(ctx.seed.a.tenantId);
        expect(namedFields(await rotate(key.publicKey, { graceSeconds: grace }))).toContain('graceSeconds');
        expect(await rowsOf(ctx.seed.a.tenantId)).toEqual(before);
        expect((await meWithKey(key.privateKey)).statusCode).toBe(200);
      },
    );

    it('answers 409 for a revoked key', async () => {
      const key = await create({ label: tag('revoked-rotate') });
      expect((await send('DELETE', `/v1/api-keys/${key.publicKey}`)).statusCode).toBe(204);
      expectProblem(await rotate(key.publicKey, { graceSeconds: 0 }), 409, 'conflict');
    });

    /** 20 rotations of one new key, released together, each with a grace period (so a loser's key would live). */
    async function raceRotations() {
      const key = await create({ label: tag('raced') });
      const responses = await releaseMany(20, () => rotate(key.publicKey, { graceSeconds: 60 }));
      const current = await db()
        .selectFrom('api_key_secrets')
        .select(['id', 'last4'])
        .where('api_key_id', '=', await keyId(key.publicKey))
        .where('expires_at', 'is', null)
        .execute();
      return { key, responses, current };
    }

    it('of 20 rotations of one key released together, exactly one current secret remains: the last issued', async () => {
      const { responses, current } = await raceRotations();
      expect(current).toHaveLength(1);
      const issued = responses
        .filter((r) => r.statusCode === 200)
        .map((r) => (r.json() as IssuedView).privateKey);
      expect(issued.map((privateKey) => privateKey.slice(-4))).toContain(current[0]?.last4);
      for (const res of responses.filter((r) => r.statusCode !== 200)) expectProblem(res, 409, 'conflict');
    });

    it('of 20 rotations of one key released together, each that answers 200 is recorded, and none but the current secret outlives the grace', async () => {
      const { key, responses, current } = await raceRotations();
      const statuses = countStatuses(responses);
      // Rotations that overlap are refused (409); the ones a database runs one after another each
      // rotate the one before, as a rotation must (SQLite serializes them completely).
      expect((statuses[200] ?? 0) + (statuses[409] ?? 0)).toBe(20);
      expect(statuses[200]).toBeGreaterThanOrEqual(1);
      expect(await auditOf('api_key.rotated', key.publicKey)).toHaveLength(statuses[200] ?? 0);
      const rows = await db()
        .selectFrom('api_key_secrets')
        .select(['last4', 'expires_at'])
        .where('api_key_id', '=', await keyId(key.publicKey))
        .execute();
      // Every secret but the one current is in a grace period that ends within the 60 s asked for.
      const now = Date.now();
      for (const row of rows.filter((r) => r.last4 !== current[0]?.last4))
        expect(row.expires_at).toBeLessThanOrEqual(now + 60_000);
    });
  });

  describe('DELETE /v1/api-keys/{publicKey}', () => {
    const revoke = (publicKey: string) => send('DELETE', `/v1/api-keys/${publicKey}`);

    it('answers 204 and refuses the key at once: X-API-Key and its client-credentials token', async () => {
      const key = await create({ label: tag('revoked') });
      const token = (await clientToken(key.publicKey, key.privateKey)).json().access_token as string;
      // Both credentials are verified (and cached) first: polling would not drop them for a minute.
      expect((await meWithKey(key.privateKey)).statusCode).toBe(200);
      expect((await me({ authorization: `Bearer ${token}` })).statusCode).toBe(200);
      const res = await revoke(key.publicKey);
      expect(res.statusCode).toBe(204);
      expect(res.body).toBe('');
      const byKey = await meWithKey(key.privateKey);
      expect(byKey.statusCode).toBe(401);
      expect(byKey.json().detail).toMatch(/revoked/);
      const byToken = await me({ authorization: `Bearer ${token}` });
      expect(byToken.statusCode).toBe(401);
      expect(byToken.headers['www-authenticate']).toMatch(/invalid_token/);
      expect((await clientToken(key.publicKey, key.privateKey)).json().error).toBe('invalid_client');
      expect(await getKey(key.publicKey)).toMatchObject({
        status: 'revoked',
        revokedAt: expect.stringMatching(ISO),
      });
    });

    it('is idempotent: a second DELETE answers 204 and records no second api_key.revoked', async () => {
      const key = await create({ label: tag('twice-revoked') });
      expect((await revoke(key.publicKey)).statusCode).toBe(204);
      const revokedAt = (await getKey(key.publicKey)).revokedAt;
      expect((await revoke(key.publicKey)).statusCode).toBe(204);
      expect((await getKey(key.publicKey)).revokedAt).toBe(revokedAt);
      expect(await auditOf('api_key.revoked', key.publicKey)).toEqual([
        expect.objectContaining({ actor: `key:${ctx.seed.adminKeyA.key.publicKey}`, ip: CALLER_IP }),
      ]);
    });

    it('of 10 DELETEs released together, all answer 204 and one api_key.revoked is recorded', async () => {
      const key = await create({ label: tag('raced-revoke') });
      const responses = await releaseMany(10, () => revoke(key.publicKey));
      expect(countStatuses(responses)).toEqual({ 204: 10 });
      expect(await auditOf('api_key.revoked', key.publicKey)).toHaveLength(1);
      expect((await meWithKey(key.privateKey)).statusCode).toBe(401);
    });
  });

  describe('bad input: 400 naming the field, nothing written', () => {
    const now = () => Date.now();
    const CASES: [string, () => Record<string, unknown>, RegExp][] = [
      ['a redirect URI that is not absolute', () => ({ redirectUris: ['/callback'] }), /^redirectUris/],
      [
        'an http redirect URI on a non-loopback host',
        () => ({ redirectUris: ['http://app.example/callback'] }),
        /^redirectUris/,
      ],
      [
        'a redirect URI with a fragment',
        () => ({ redirectUris: ['https://app.example/cb#x'] }),
        /^redirectUris/,
      ],
      [
        'a redirect URI with a wildcard',
        () => ({ redirectUris: ['https://*.app.example/cb'] }),
        /^redirectUris/,
      ],
      [
        'a redirect URI with a wildcard in its path',
        () => ({ redirectUris: ['https://app.example/*'] }),
        /^redirectUris/,
      ],
      ['a CORS origin with a path', () => ({ corsOrigins: ['https://app.example/app'] }), /^corsOrigins/],
      [
        'a CORS origin with a trailing slash',
        () => ({ corsOrigins: ['https://app.example/'] }),
        /^corsOrigins/,
      ],
      [
        'a post-logout redirect URI that is not absolute',
        () => ({ postLogoutRedirectUris: ['https://ok.example/bye', '/signed-out'] }),
        /^postLogoutRedirectUris\/1$/,
      ],
      [
        'an http post-logout redirect URI on a non-loopback host',
        () => ({ postLogoutRedirectUris: ['http://app.example/bye'] }),
        /^postLogoutRedirectUris\/0$/,
      ],
      [
        'an HMAC ID token algorithm',
        () => ({ idTokenSignedResponseAlg: 'HS256' }),
        /^idTokenSignedResponseAlg$/,
      ],
      [
        'the ID token algorithm none',
        () => ({ idTokenSignedResponseAlg: 'none' }),
        /^idTokenSignedResponseAlg$/,
      ],
      ['a label of 201 characters', () => ({ label: 'x'.repeat(201) }), /^label$/],
      ['a label with a control character', () => ({ label: 'bell\u0007key' }), /^label$/],
      ['an unknown field', () => ({ colour: 'red' }), /^colour$/],
      [
        'an expiresAt in the past',
        () => ({ expiresAt: new Date(now() - 60_000).toISOString() }),
        /^expiresAt$/,
      ],
    ];

    it.each(CASES)('POST refuses %s', async (_name, extra, field) => {
      const before = await rowsOf(ctx.seed.a.tenantId);
      const res = await send('POST', '/v1/api-keys', { label: tag('bad'), ...extra() });
      expect(
        namedFields(res).some((name) => field.test(name)),
        res.body,
      ).toBe(true);
      expect(await rowsOf(ctx.seed.a.tenantId)).toEqual(before);
    });

    it.each(CASES)('PATCH refuses %s and leaves the key as it was', async (_name, extra, field) => {
      const key = await create({ label: tag('patched-bad'), redirectUris: ['https://ok.example/cb'] });
      const shown = await getKey(key.publicKey);
      const before = await rowsOf(ctx.seed.a.tenantId);
      const res = await send('PATCH', `/v1/api-keys/${key.publicKey}`, extra());
      expect(
        namedFields(res).some((name) => field.test(name)),
        res.body,
      ).toBe(true);
      expect(await rowsOf(ctx.seed.a.tenantId)).toEqual(before);
      expect(await getKey(key.publicKey)).toEqual(shown);
    });

    it('POST refuses expiresAt and expiresIn together', async () => {
      const before = await rowsOf(ctx.seed.a.tenantId);
      const res = await send('POST', '/v1/api-keys', {
        label: tag('both'),
        expiresAt: new Date(now() + 3_600_000).toISOString(),
        expiresIn: 3600,
      });
      expect(namedFields(res).some((name) => name === 'expiresAt' || name === 'expiresIn')).toBe(true);
      expect(await rowsOf(ctx.seed.a.tenantId)).toEqual(before);
    });

    it('POST refuses a workspaceId of another tenant, naming workspaceId and telling nothing of it', async () => {
      const before = await rowsOf(ctx.seed.a.tenantId);
      const res = await send('POST', '/v1/api-keys', {
        label: tag('ws-b'),
        workspaceId: ctx.seed.b.workspaceId,
      });
      expect(namedFields(res)).toEqual(['workspaceId']);
      expect(res.body).not.toMatch(/Other|Tenant B/);
      expect(await rowsOf(ctx.seed.a.tenantId)).toEqual(before);
      // The answer is the one a workspace that does not exist gets: no oracle for B's workspace ids.
      const missing = await send('POST', '/v1/api-keys', {
        label: tag('ws-none'),
        workspaceId: 2_000_000_000,
      });
      const strip = (r: LightMyRequestResponse) => {
        const { requestId: _id, ...rest } = r.json();
        return JSON.stringify(rest).replace(/\d+/g, 'N');
      };
      expect(strip(res)).toEqual(strip(missing));
    });

    it('POST refuses a label that is missing, naming label', async () => {
      const before = await rowsOf(ctx.seed.a.tenantId);
      expect(namedFields(await send('POST', '/v1/api-keys', {}))).toContain('label');
      expect(await rowsOf(ctx.seed.a.tenantId)).toEqual(before);
    });

    it.each([
      ['text/plain', 'label=plain'],
      ['application/x-www-form-urlencoded', 'label=form'],
    ])('POST refuses a %s body with a 4xx problem and writes nothing', async (type, payload) => {
      const before = await rowsOf(ctx.seed.a.tenantId);
      const res = await send('POST', '/v1/api-keys', payload, adminA(), { 'content-type': type });
      expect([400, 415]).toContain(res.statusCode);
      expectProblem(
        res,
        res.statusCode,
        res.statusCode === 415 ? 'unsupported_media_type' : 'validation_failed',
      );
      expect(await rowsOf(ctx.seed.a.tenantId)).toEqual(before);
    });

    it('POST refuses a body that is not valid JSON with a 400 problem and writes nothing', async () => {
      const before = await rowsOf(ctx.seed.a.tenantId);
      const res = await send('POST', '/v1/api-keys', '{"label": "x",', adminA(), {
        'content-type': 'application/json',
      });
      expectProblem(res, 400, 'validation_failed');
      expect(await rowsOf(ctx.seed.a.tenantId)).toEqual(before);
    });
  });

  describe('public clients and OpenID Connect settings (issue 14)', () => {
    type CreatedView = Omit<IssuedView, 'privateKey'> & { privateKey: string | null };
    const LOGOUT = 'https://spa.example/signed-out';
    const rotate = (publicKey: string) =>
      send('POST', `/v1/api-keys/${publicKey}/rotate`, { graceSeconds: 0 });
    const secretsOf = async (publicKey: string) =>
      db()
        .selectFrom('api_key_secrets')
        .select('id')
        .where('api_key_id', '=', await keyId(publicKey))
        .execute();

    async function createPublic(extra: Record<string, unknown> = {}): Promise<CreatedView> {
      const res = await send('POST', '/v1/api-keys', {
        label: tag('spa'),
        clientType: 'public',
        redirectUris: ['https://spa.example/callback'],
        ...extra,
      });
      expect(res.statusCode, res.body).toBe(201);
      expect(res.headers['cache-control']).toBe('no-store');
      return res.json() as CreatedView;
    }

    it('creates a public client: 201 with clientType public, privateKey and last4 null, and no secret stored', async () => {
      const key = await createPublic({ postLogoutRedirectUris: [LOGOUT] });
      expect(Object.keys(key).sort()).toEqual([...API_KEY_FIELDS, 'privateKey'].sort());
      expect(key).toMatchObject({
        publicKey: expect.stringMatching(PUBLIC_KEY),
        clientType: 'public',
        privateKey: null,
        last4: null,
        postLogoutRedirectUris: [LOGOUT],
        idTokenSignedResponseAlg: 'RS256',
        status: 'active',
      });
      expect(await secretsOf(key.publicKey)).toEqual([]);
      const [event] = await auditOf('api_key.created', key.publicKey);
      expect(event?.details).toMatchObject({ clientType: 'public' });
    });

    it('creates a confidential key when clientType is left out, and with clientType confidential', async () => {
      const implicit = await create({ label: tag('implicit') });
      const explicit = await create({ label: tag('explicit'), clientType: 'confidential' });
      for (const key of [implicit, explicit]) {
        expect(key.clientType).toBe('confidential');
        expect(key.privateKey).toMatch(PRIVATE_KEY);
        expect((await meWithKey(key.privateKey)).statusCode).toBe(200);
      }
    });

    it('refuses to rotate a public client: 409, nothing issued, nothing recorded', async () => {
      const key = await createPublic();
      const res = await rotate(key.publicKey);
      const problem = expectProblem(res, 409, 'conflict') as { detail?: string };
      expect(problem.detail).toMatch(/public client/);
      expect(res.body).not.toMatch(/gsk_/);
      expect(await secretsOf(key.publicKey)).toEqual([]);
      expect(await auditOf('api_key.rotated', key.publicKey)).toEqual([]);
    });

    it('shows clientType, postLogoutRedirectUris and idTokenSignedResponseAlg on GET and on the list', async () => {
      const label = tag('oidc-listed');
      const spa = await createPublic({
        label: `${label}-spa`,
        postLogoutRedirectUris: [LOGOUT, 'http://127.0.0.1:5173/bye'],
        idTokenSignedResponseAlg: 'ES256',
      });
      const server = await create({ label: `${label}-server` });
      const one = await getKey(spa.publicKey);
      expect(Object.keys(one).sort()).toEqual(API_KEY_FIELDS);
      expect(one).toMatchObject({
        clientType: 'public',
        postLogoutRedirectUris: [LOGOUT, 'http://127.0.0.1:5173/bye'],
        idTokenSignedResponseAlg: 'ES256',
        last4: null,
      });
      const listed = await list({ q: label, sortBy: 'label', asc: 'true' });
      expect(listed.items).toEqual([
        expect.objectContaining({ publicKey: server.publicKey, clientType: 'confidential' }),
        one,
      ]);
      expect(JSON.stringify(listed)).not.toContain('privateKey');
    });

    it('PATCH replaces postLogoutRedirectUris and changes idTokenSignedResponseAlg, recorded as api_key.updated', async () => {
      const key = await createPublic({ postLogoutRedirectUris: [LOGOUT] });
      const res = await send('PATCH', `/v1/api-keys/${key.publicKey}`, {
        postLogoutRedirectUris: ['https://spa.example/goodbye'],
        idTokenSignedResponseAlg: 'ES256',
      });
      expect(res.statusCode, res.body).toBe(200);
      expect(Object.keys(res.json()).sort()).toEqual(API_KEY_FIELDS);
      const expected = {
        clientType: 'public',
        postLogoutRedirectUris: ['https://spa.example/goodbye'],
        idTokenSignedResponseAlg: 'ES256',
        redirectUris: ['https://spa.example/callback'],
      };
      expect(res.json()).toMatchObject(expected);
      expect(await getKey(key.publicKey)).toMatchObject(expected);
      const [event] = await auditOf('api_key.updated', key.publicKey);
      expect(event?.details).toEqual({ fields: ['postLogoutRedirectUris', 'idTokenSignedResponseAlg'] });
      const cleared = await send('PATCH', `/v1/api-keys/${key.publicKey}`, { postLogoutRedirectUris: [] });
      expect(cleared.statusCode, cleared.body).toBe(200);
      expect(cleared.json()).toMatchObject({ postLogoutRedirectUris: [], idTokenSignedResponseAlg: 'ES256' });
    });

    it('PATCH names every wrong post-logout redirect URI by its place in the list, changing nothing', async () => {
      const key = await createPublic({ postLogoutRedirectUris: [LOGOUT] });
      const shown = await getKey(key.publicKey);
      const res = await send('PATCH', `/v1/api-keys/${key.publicKey}`, {
        postLogoutRedirectUris: ['https://spa.example/ok', 'not a url', 'https://spa.example/bye#x'],
      });
      const problem = expectProblem(res, 400, 'validation_failed');
      expect(problem.errors).toEqual([
        { field: 'postLogoutRedirectUris/1', message: 'redirect URI is not an absolute URL: not a url' },
        {
          field: 'postLogoutRedirectUris/2',
          message: 'redirect URI must not have a fragment: https://spa.example/bye#x',
        },
      ]);
      expect(await getKey(key.publicKey)).toEqual(shown);
    });

    it.each([
      ['HS256', 'an HMAC algorithm (the client could forge its own ID tokens)'],
      ['none', 'no signature at all'],
      ['RS512', 'an algorithm Gatehouse does not sign with'],
    ])('PATCH refuses idTokenSignedResponseAlg %s (%s) with 400 naming the field', async (alg) => {
      const key = await createPublic();
      const shown = await getKey(key.publicKey);
      const res = await send('PATCH', `/v1/api-keys/${key.publicKey}`, { idTokenSignedResponseAlg: alg });
      expect(namedFields(res)).toEqual(['idTokenSignedResponseAlg']);
      expect(await getKey(key.publicKey)).toEqual(shown);
    });

    it.each([
      ['public', 'confidential'],
      ['confidential', 'public'],
      ['confidential', 'confidential'],
    ] as const)(
      'PATCH refuses clientType (a %s key sent %s) with 400 saying it is set at creation, changing nothing',
      async (from, to) => {
        const key = from === 'public' ? await createPublic() : await create({ label: tag('fixed-type') });
        const shown = await getKey(key.publicKey);
        const before = await rowsOf(ctx.seed.a.tenantId);
        const res = await send('PATCH', `/v1/api-keys/${key.publicKey}`, {
          clientType: to,
          label: tag('renamed'),
        });
        const problem = expectProblem(res, 400, 'validation_failed') as {
          detail?: string;
          errors?: FieldError[];
        };
        expect(problem.errors).toEqual([
          {
            field: 'clientType',
            message:
              'the client type is set when a key is created and never changes; create a new key instead',
          },
        ]);
        expect(problem.detail).toMatch(/set when a key is created/);
        expect(await getKey(key.publicKey)).toEqual(shown);
        expect(await rowsOf(ctx.seed.a.tenantId)).toEqual(before);
      },
    );

    it('POST refuses an unknown clientType, naming it, and creates nothing', async () => {
      const before = await rowsOf(ctx.seed.a.tenantId);
      const res = await send('POST', '/v1/api-keys', { label: tag('odd-type'), clientType: 'native' });
      expect(namedFields(res)).toEqual(['clientType']);
      expect(await rowsOf(ctx.seed.a.tenantId)).toEqual(before);
    });

    it("answers a PATCH with clientType on tenant B's key the same 400 as on its own key: no existence oracle", async () => {
      const mine = await createPublic();
      const theirs = await send('PATCH', `/v1/api-keys/${ctx.seed.orgKeyB.key.publicKey}`, {
        clientType: 'public',
      });
      const own = await send('PATCH', `/v1/api-keys/${mine.publicKey}`, { clientType: 'public' });
      const strip = (r: LightMyRequestResponse) => {
        const { requestId: _id, ...rest } = r.json();
        return rest;
      };
      expect(strip(theirs)).toEqual(strip(own));
      expect(theirs.body).not.toContain('B org key');
    });
  });

  describe("tenant B's keys in the path", () => {
    const bKey = () => ctx.seed.orgKeyB;
    async function stateOfB() {
      const id = await keyId(bKey().key.publicKey);
      const key = await db()
        .selectFrom('api_keys')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      const secrets = await db()
        .selectFrom('api_key_secrets')
        .selectAll()
        .where('api_key_id', '=', id)
        .orderBy('id')
        .execute();
      return { key: { ...key, last_used_at: null }, secrets, rows: await rowsOf(ctx.seed.b.tenantId) };
    }

    it.each([
      ['GET', '', undefined],
      ['PATCH', '', { label: 'taken over', redirectUris: ['https://evil.example/cb'] }],
      ['POST', '/rotate', { graceSeconds: 0 }],
      ['DELETE', '', undefined],
    ] as const)(
      "%s /v1/api-keys/{B's public key}%s answers 404 and leaves B's key unchanged",
      async (method, suffix, body) => {
        const before = await stateOfB();
        const res = await send(method, `/v1/api-keys/${bKey().key.publicKey}${suffix}`, body);
        expectProblem(res, 404, 'not_found');
        expect(res.body).not.toContain('B org key');
        expect(await stateOfB()).toEqual(before);
        expect((await meWithKey(bKey().privateKey)).statusCode).toBe(200);
      },
    );
  });
});
