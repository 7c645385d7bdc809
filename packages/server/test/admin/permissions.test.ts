import type { LightMyRequestResponse } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { MEMBERSHIP_TTL_MS } from '../../src/auth/bearer-verifier.ts';
import { createApiKey, type IssuedApiKey, type NewApiKeyInput } from '../../src/domain/api-keys.ts';
import { CLI_ACTOR } from '../../src/domain/audit.ts';
import { addMember } from '../../src/domain/members.ts';
import { issueAccessToken } from '../../src/oauth/access-token.ts';
import { Browser, codeFor, tokenRequest } from '../helpers/authorization-flow.ts';
import { routeKey } from '../helpers/registered-routes.ts';
import { ROUTE_TABLE } from '../helpers/route-table.ts';
import { PASSWORD } from '../helpers/seed.ts';
import { useSeededApp } from '../helpers/seeded-app.ts';
import { describeEachDialect } from '../helpers/test-app.ts';
import { decodePart, OAUTH_ENV, tokenFor } from '../oauth/oauth-helpers.ts';

const REDIRECT = 'https://app.example/callback';

type Headers = Record<string, string>;
type Method = 'GET' | 'HEAD' | 'POST' | 'PATCH' | 'DELETE';

/** One request of the admin API, aimed at resources of tenant A that a refused caller must leave alone. */
interface AdminRequest {
  method: Method;
  /** The route's pattern, to prove the list covers every admin route of the route table. */
  path: string;
  url: string;
  payload?: Record<string, unknown>;
}

/** What the admin requests aim at: a key, a member and a workspace of tenant A. */
interface Targets {
  key: string;
  member: number;
  workspace: number;
}

/** Every route of the admin API, each with a request that would change something if it got through. */
function adminRequests(t: Targets): AdminRequest[] {
  return [
    { method: 'GET', path: '/v1/api-keys', url: '/v1/api-keys' },
    {
      method: 'POST',
      path: '/v1/api-keys',
      url: '/v1/api-keys',
      payload: { label: 'must never exist' },
    },
    { method: 'GET', path: '/v1/api-keys/:publicKey', url: `/v1/api-keys/${t.key}` },
    {
      method: 'PATCH',
      path: '/v1/api-keys/:publicKey',
      url: `/v1/api-keys/${t.key}`,
      payload: { label: 'must never be renamed' },
    },
    {
      method: 'POST',
      path: '/v1/api-keys/:publicKey/rotate',
      url: `/v1/api-keys/${t.key}/rotate`,
      payload: { graceSeconds: 0 },
    },
    { method: 'DELETE', path: '/v1/api-keys/:publicKey', url: `/v1/api-keys/${t.key}` },
    { method: 'GET', path: '/v1/api-keys/:publicKey/usage', url: `/v1/api-keys/${t.key}/usage` },
    {
      method: 'POST',
      path: '/v1/workspaces',
      url: '/v1/workspaces',
      payload: { label: 'must never exist' },
    },
    {
      method: 'PATCH',
      path: '/v1/workspaces/:id',
      url: `/v1/workspaces/${t.workspace}`,
      payload: { label: 'must never be renamed', state: 'Archived' },
    },
    { method: 'GET', path: '/v1/members', url: '/v1/members' },
    {
      method: 'POST',
      path: '/v1/members',
      url: '/v1/members',
      payload: { email: 'must-never-join@a.test', role: 'admin', password: PASSWORD },
    },
    {
      method: 'PATCH',
      path: '/v1/members/:userId',
      url: `/v1/members/${t.member}`,
      payload: { role: 'admin' },
    },
    { method: 'DELETE', path: '/v1/members/:userId', url: `/v1/members/${t.member}` },
    { method: 'GET', path: '/v1/audit-events', url: '/v1/audit-events' },
  ];
}

function expectProblem(res: LightMyRequestResponse, status: number, code: string) {
  expect(res.statusCode, res.body).toBe(status);
  expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/);
  expect(res.json()).toMatchObject({ status, code });
}

const key = (issued: { privateKey: string }): Headers => ({ 'x-api-key': issued.privateKey });
const bearer = (token: string): Headers => ({ authorization: `Bearer ${token}` });
const client = (issued: IssuedApiKey) => ({ publicKey: issued.key.publicKey, privateKey: issued.privateKey });

/** DESIGN.md 1 "Permissions" and "Admin API", issue 10 "Who may call them": each credential, over HTTP. */
describeEachDialect('the permission matrix: read, write and admin credentials', (dialect) => {
  const ctx = useSeededApp(dialect, OAUTH_ENV);

  /** An org-wide `read` key of A. */
  let readKey: IssuedApiKey;
  /** A's back-office app: an `admin` key with a redirect URI, through which people sign in. */
  let adminApp: IssuedApiKey;
  /** An `admin` key of A that the tests aim at itself (kept apart from the seed's, in case it dies). */
  let selfAdmin: IssuedApiKey;
  /** What refused requests aim at: a key, a member and the second workspace of A. */
  let targets: Targets;
  /** People of A, by role, all with {@link PASSWORD}. */
  let adminUser: number;
  let memberUser: number;
  /** An entity of A's main workspace that refused DELETEs must leave in place. */
  let entity: number;

  beforeAll(async () => {
    const { db } = ctx.app.services;
    const { a } = ctx.seed;
    const newKey = (label: string, more: Partial<NewApiKeyInput> & { clientType?: 'confidential' } = {}) =>
      createApiKey(db, { tenantId: a.tenantId, label, ...more }, CLI_ACTOR);
    readKey = await newKey('A read key', { permissions: 'read' });
    adminApp = await newKey('A back-office app', { permissions: 'admin', redirectUris: [REDIRECT] });
    selfAdmin = await newKey('A self-aimed admin key', { permissions: 'admin' });
    const victimKey = await newKey('A victim key');
    const person = async (email: string, role: string) =>
      (await addMember(db, { tenantId: a.tenantId, email, role, password: PASSWORD }, CLI_ACTOR)).user.id;
    adminUser = await person('admin@a.test', 'admin');
    memberUser = await person('member@a.test', 'member');
    const victimMember = await person('victim@a.test', 'member');
    targets = { key: victimKey.key.publicKey, member: victimMember, workspace: a.secondWorkspaceId };
    const created = await ctx.app.inject({
      method: 'POST',
      url: entitiesUrl(),
      headers: key(ctx.seed.orgKeyA),
      payload: { name: 'an entity refused writers must not delete' },
    });
    expect(created.statusCode, created.body).toBe(201);
    entity = created.json().id;
  });

  const entitiesUrl = () => `/v1/workspaces/${ctx.seed.a.mainWorkspaceId}/entities`;

  const send = (method: Method, url: string, headers: Headers, payload?: Record<string, unknown>) =>
    ctx.app.inject({ method, url, headers, ...(payload ? { payload } : {}) });

  /**
   * Everything of a tenant a request of the admin or data API could write, but for last-used times:
   * keys and their secrets, members and their workspaces, workspaces, entities, sign-in links, audit
   * events (every change writes one in its transaction), and every account.
   */
  async function stateOf(tenantId: number) {
    const { db } = ctx.app.services;
    const keyColumns = [
      'id',
      'public_key',
      'label',
      'permissions',
      'workspace_id',
      'redirect_uris',
      'cors_origins',
      'expires_at',
      'revoked_at',
    ] as const;
    return {
      keys: await db
        .selectFrom('api_keys')
        .select(keyColumns)
        .where('tenant_id', '=', tenantId)
        .orderBy('id')
        .execute(),
      secrets: await db
        .selectFrom('api_key_secrets as s')
        .innerJoin('api_keys as k', 'k.id', 's.api_key_id')
        .select(['s.id', 's.secret_hash', 's.expires_at'])
        .where('k.tenant_id', '=', tenantId)
        .orderBy('s.id')
        .execute(),
      members: await db
        .selectFrom('memberships')
        .select(['user_id', 'role'])
        .where('tenant_id', '=', tenantId)
        .orderBy('user_id')
        .execute(),
      memberWorkspaces: await db
        .selectFrom('membership_workspaces')
        .select(['user_id', 'workspace_id'])
        .where('tenant_id', '=', tenantId)
        .orderBy('user_id')
        .orderBy('workspace_id')
        .execute(),
      workspaces: await db
        .selectFrom('workspaces')
        .select(['id', 'label', 'state', 'logo_url', 'data_subject_archived_retention_days'])
        .where('tenant_id', '=', tenantId)
        .orderBy('id')
        .execute(),
      entities: await db
        .selectFrom('entities')
        .select(['id', 'name'])
        .where('tenant_id', '=', tenantId)
        .orderBy('id')
        .execute(),
      signInLinks: await db
        .selectFrom('sign_in_links')
        .select('id')
        .where('tenant_id', '=', tenantId)
        .orderBy('id')
        .execute(),
      audit: await db
        .selectFrom('audit_events')
        .select(['id', 'action'])
        .where('tenant_id', '=', tenantId)
        .orderBy('id')
        .execute(),
      accounts: await db.selectFrom('users').select(['id', 'email']).orderBy('id').execute(),
    };
  }

  /** Runs `refused` and proves tenant A is exactly as it was before. */
  async function expectNothingWritten(refused: () => Promise<void>) {
    const before = await stateOf(ctx.seed.a.tenantId);
    await refused();
    expect(await stateOf(ctx.seed.a.tenantId)).toEqual(before);
  }

  /** Every admin route answers `headers` 404 `not_found` (never 403), and nothing of A changes. */
  async function expectNoAdminApi(headers: Headers) {
    await expectNothingWritten(async () => {
      for (const request of adminRequests(targets)) {
        const res = await send(request.method, request.url, headers, request.payload);
        expect(res.statusCode, `${routeKey(request)}: ${res.body}`).toBe(404);
        expectProblem(res, 404, 'not_found');
      }
    });
  }

  /** The principal `/me` shows for a credential. */
  async function me(headers: Headers) {
    const res = await send('GET', '/me', headers);
    expect(res.statusCode, res.body).toBe(200);
    return res.json();
  }

  /** A person's access token through `app`, from a real authorization code grant (sign-in, consent). */
  async function userToken(email: string, app: IssuedApiKey): Promise<string> {
    const browser = new Browser(ctx.app);
    const signedIn = await browser.signIn(email, PASSWORD);
    expect(signedIn.statusCode, signedIn.body).toBe(303);
    const code = await codeFor(browser, app.key.publicKey, REDIRECT, 'api1');
    const res = await tokenRequest(ctx.app, client(app), {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
    });
    expect(res.statusCode, res.body).toBe(200);
    return res.json().access_token;
  }

  const permissionsClaim = (token: string) => decodePart(token, 1).permissions;

  it('the matrix aims at every admin route of the route table', () => {
    const table = ROUTE_TABLE.filter((r) => r.kind === 'rest-authenticated' && r.credential === 'admin');
    const aimed = adminRequests({ key: 'k', member: 1, workspace: 1 }).map(routeKey);
    expect(new Set(aimed)).toEqual(new Set(table.map(routeKey)));
  });

  describe('a read key', () => {
    it('reads the data API: GET and HEAD answer 200, and /me shows permissions read', async () => {
      const { a } = ctx.seed;
      expect((await me(key(readKey))).permissions).toBe('read');
      for (const url of ['/v1/workspaces', `/v1/workspaces/${a.mainWorkspaceId}`, entitiesUrl()]) {
        const get = await send('GET', url, key(readKey));
        expect(get.statusCode, `GET ${url}: ${get.body}`).toBe(200);
        const head = await send('HEAD', url, key(readKey));
        expect(head.statusCode, `HEAD ${url}`).toBe(200);
        expect(head.body).toBe('');
      }
      const listed = await send('GET', entitiesUrl(), key(readKey));
      expect(listed.json().items.map((e: { id: number }) => e.id)).toContain(entity);
    });

    it('is refused POST and DELETE of entities with 403 insufficient_permission, and nothing is written', async () => {
      await expectNothingWritten(async () => {
        const post = await send('POST', entitiesUrl(), key(readKey), { name: 'written by a read key' });
        expectProblem(post, 403, 'insufficient_permission');
        const del = await send('DELETE', `${entitiesUrl()}/${entity}`, key(readKey));
        expectProblem(del, 403, 'insufficient_permission');
      });
    });

    it('gets 404, never 403, from every admin route, and nothing is written', async () => {
      await expectNoAdminApi(key(readKey));
    });
  });

  describe('a write key (the default)', () => {
    it('uses the data API: /me shows write, and it creates and deletes entities', async () => {
      expect((await me(key(ctx.seed.orgKeyA))).permissions).toBe('write');
      const post = await send('POST', entitiesUrl(), key(ctx.seed.orgKeyA), {
        name: 'written by a write key',
      });
      expect(post.statusCode, post.body).toBe(201);
      const del = await send('DELETE', `${entitiesUrl()}/${post.json().id}`, key(ctx.seed.orgKeyA));
      expect(del.statusCode, del.body).toBe(204);
    });

    it('gets 404, never 403, from every admin route, and nothing is written', async () => {
      await expectNoAdminApi(key(ctx.seed.orgKeyA));
    });
  });

  describe('an admin key', () => {
    it('administers its organization: every admin list answers 200, with its own keys and members', async () => {
      const headers = key(ctx.seed.adminKeyA);
      expect((await me(headers)).permissions).toBe('admin');
      const keys = await send('GET', '/v1/api-keys?size=500', headers);
      expect(keys.statusCode, keys.body).toBe(200);
      expect(keys.json().items.map((k: { publicKey: string }) => k.publicKey)).toContain(targets.key);
      const members = await send('GET', '/v1/members?size=500', headers);
      expect(members.statusCode, members.body).toBe(200);
      expect(members.json().items.map((m: { id: number }) => m.id)).toContain(targets.member);
      const audit = await send('GET', '/v1/audit-events', headers);
      expect(audit.statusCode, audit.body).toBe(200);
      expect(audit.json().total).toBeGreaterThan(0);
    });

    it('creates read and write keys, each holding the permission it was given', async () => {
      for (const permissions of ['read', 'write'] as const) {
        const res = await send('POST', '/v1/api-keys', key(ctx.seed.adminKeyA), {
          label: `a ${permissions} key made by an admin key`,
          permissions,
        });
        expect(res.statusCode, res.body).toBe(201);
        expect(res.json()).toMatchObject({
          permissions,
          createdBy: `key:${ctx.seed.adminKeyA.key.publicKey}`,
        });
        expect((await me(key(res.json()))).permissions).toBe(permissions);
      }
    });

    it('cannot create an admin key: 403 forbidden, and no key is created', async () => {
      await expectNothingWritten(async () => {
        const res = await send('POST', '/v1/api-keys', key(ctx.seed.adminKeyA), {
          label: 'an admin key made by an admin key',
          permissions: 'admin',
        });
        expectProblem(res, 403, 'forbidden');
      });
    });

    it('cannot rotate itself: 403 forbidden, nothing is written, and its private key still works', async () => {
      const self = selfAdmin.key.publicKey;
      await expectNothingWritten(async () => {
        for (const graceSeconds of [0, 86_400]) {
          const res = await send('POST', `/v1/api-keys/${self}/rotate`, key(selfAdmin), { graceSeconds });
          expectProblem(res, 403, 'forbidden');
        }
      });
      const still = await send('GET', `/v1/api-keys/${self}`, key(selfAdmin));
      expect(still.statusCode, still.body).toBe(200);
      expect(still.json()).toMatchObject({ status: 'active', last4: selfAdmin.privateKey.slice(-4) });
    });

    it('cannot revoke itself: 403 forbidden, nothing is written, and it still works', async () => {
      const self = selfAdmin.key.publicKey;
      await expectNothingWritten(async () => {
        expectProblem(await send('DELETE', `/v1/api-keys/${self}`, key(selfAdmin)), 403, 'forbidden');
      });
      const still = await send('GET', `/v1/api-keys/${self}`, key(selfAdmin));
      expect(still.statusCode, still.body).toBe(200);
      expect(still.json()).toMatchObject({ status: 'active', revokedAt: null });
    });

    it('cannot change itself: PATCH of its own expiry (to never) is 403 forbidden and nothing is written', async () => {
      const mortal = await createApiKey(
        ctx.app.services.db,
        {
          tenantId: ctx.seed.a.tenantId,
          label: 'A mortal admin key',
          permissions: 'admin',
          expiresInMs: 3_600_000,
        },
        CLI_ACTOR,
      );
      await expectNothingWritten(async () => {
        const url = `/v1/api-keys/${mortal.key.publicKey}`;
        expectProblem(await send('PATCH', url, key(mortal), { expiresAt: null }), 403, 'forbidden');
        expectProblem(
          await send('PATCH', url, key(mortal), { label: 'renamed by itself' }),
          403,
          'forbidden',
        );
      });
    });

    it("cannot rotate or change another admin key: only an owner can, since the new secret is an admin key's", async () => {
      const other = await createApiKey(
        ctx.app.services.db,
        { tenantId: ctx.seed.a.tenantId, label: 'Another admin key of A', permissions: 'admin' },
        CLI_ACTOR,
      );
      const url = `/v1/api-keys/${other.key.publicKey}`;
      const adminToken = await userToken('admin@a.test', adminApp);
      await expectNothingWritten(async () => {
        for (const headers of [key(ctx.seed.adminKeyA), bearer(adminToken)]) {
          const rotated = await send('POST', `${url}/rotate`, headers, { graceSeconds: 0 });
          expectProblem(rotated, 403, 'forbidden');
          expect(rotated.body).not.toMatch(/gsk_/);
          expectProblem(await send('PATCH', url, headers, { expiresAt: null }), 403, 'forbidden');
        }
      });
      const ownerToken = await userToken('owner@a.test', adminApp);
      const byOwner = await send('POST', `${url}/rotate`, bearer(ownerToken), { graceSeconds: 0 });
      expect(byOwner.statusCode, byOwner.body).toBe(200);
      expect(byOwner.json().privateKey).toMatch(/^gsk_/);
    });

    it('may rotate and revoke another key of its organization (the self rule is about itself only)', async () => {
      const other = await createApiKey(
        ctx.app.services.db,
        { tenantId: ctx.seed.a.tenantId, label: 'A key the admin key rotates' },
        CLI_ACTOR,
      );
      const url = `/v1/api-keys/${other.key.publicKey}`;
      const rotated = await send('POST', `${url}/rotate`, key(selfAdmin), { graceSeconds: 0 });
      expect(rotated.statusCode, rotated.body).toBe(200);
      expect((await send('DELETE', url, key(selfAdmin))).statusCode).toBe(204);
    });

    it('cannot make a member an owner: PATCH role owner is 403 forbidden and the role stays', async () => {
      await expectNothingWritten(async () => {
        const res = await send('PATCH', `/v1/members/${targets.member}`, key(ctx.seed.adminKeyA), {
          role: 'owner',
        });
        expectProblem(res, 403, 'forbidden');
      });
    });

    it('cannot add an owner: POST a member with role owner is 403 forbidden and nobody is added', async () => {
      await expectNothingWritten(async () => {
        const res = await send('POST', '/v1/members', key(ctx.seed.adminKeyA), {
          email: 'would-be-owner@a.test',
          role: 'owner',
          password: PASSWORD,
        });
        expectProblem(res, 403, 'forbidden');
      });
    });

    it("cannot demote or remove the organization's owner: 403 forbidden", async () => {
      const owner = ctx.seed.a.userId;
      await expectNothingWritten(async () => {
        const demote = await send('PATCH', `/v1/members/${owner}`, key(ctx.seed.adminKeyA), {
          role: 'admin',
        });
        expectProblem(demote, 403, 'forbidden');
        expectProblem(
          await send('DELETE', `/v1/members/${owner}`, key(ctx.seed.adminKeyA)),
          403,
          'forbidden',
        );
      });
    });
  });

  describe('workspace keys', () => {
    it('a workspace-scoped key cannot be created as admin, even by an owner: 400 naming permissions, nothing created', async () => {
      const ownerToken = await userToken('owner@a.test', adminApp);
      await expectNothingWritten(async () => {
        const res = await send('POST', '/v1/api-keys', bearer(ownerToken), {
          label: 'an admin key of one workspace',
          workspaceId: ctx.seed.a.secondWorkspaceId,
          permissions: 'admin',
        });
        expectProblem(res, 400, 'validation_failed');
        expect(res.json().errors).toEqual([{ field: 'permissions', message: expect.any(String) }]);
      });
    });

    it('a workspace key gets 404, never 403, from every admin route, and nothing is written', async () => {
      await expectNoAdminApi(key(ctx.seed.workspaceKeyA));
    });

    it('a workspace key stored as admin (past the domain rule) still never reaches the admin API, nor its token', async () => {
      const stored = await createApiKey(
        ctx.app.services.db,
        { tenantId: ctx.seed.a.tenantId, workspaceId: ctx.seed.a.secondWorkspaceId, label: 'A forged key' },
        CLI_ACTOR,
      );
      // Written before its first use, so that no cache holds it as `write`.
      await ctx.app.services.db
        .updateTable('api_keys')
        .set({ permissions: 'admin' })
        .where('public_key', '=', stored.key.publicKey)
        .execute();
      expect((await me(key(stored))).permissions).toBe('admin');
      await expectNoAdminApi(key(stored));
      const token = await tokenFor(ctx.app, stored);
      expect(permissionsClaim(token)).toBe('admin');
      await expectNoAdminApi(bearer(token));
    });
  });

  describe('user tokens (authorization code flow)', () => {
    it('an owner through an admin app key holds admin and creates an admin key', async () => {
      const token = await userToken('owner@a.test', adminApp);
      expect(permissionsClaim(token)).toBe('admin');
      expect(await me(bearer(token))).toMatchObject({ permissions: 'admin', user: { role: 'owner' } });
      const res = await send('POST', '/v1/api-keys', bearer(token), {
        label: 'an admin key made by an owner',
        permissions: 'admin',
      });
      expect(res.statusCode, res.body).toBe(201);
      expect(res.json()).toMatchObject({ permissions: 'admin', createdBy: `user:${ctx.seed.a.userId}` });
      const made = await send('GET', '/v1/api-keys', key(res.json()));
      expect(made.statusCode, made.body).toBe(200);
    });

    it('an owner through a write app key holds write: the admin API is 404 to the token, the data API works', async () => {
      const token = await userToken('owner@a.test', ctx.seed.orgKeyA);
      expect(permissionsClaim(token)).toBe('write');
      expect(await me(bearer(token))).toMatchObject({ permissions: 'write', user: { role: 'owner' } });
      await expectNoAdminApi(bearer(token));
      const post = await send('POST', entitiesUrl(), bearer(token), {
        name: "written by an owner's write token",
      });
      expect(post.statusCode, post.body).toBe(201);
    });

    it("a member's token is 404 on every admin route, even through an admin app key", async () => {
      const token = await userToken('member@a.test', adminApp);
      // The lesser of the key's admin and the member role's write.
      expect(permissionsClaim(token)).toBe('write');
      expect(await me(bearer(token))).toMatchObject({ permissions: 'write', user: { role: 'member' } });
      await expectNoAdminApi(bearer(token));
    });

    it("a member's token claiming admin (which the token endpoint never issues) is still held to the role: 404", async () => {
      const { token } = await issueAccessToken(ctx.app.services, {
        client: adminApp.key,
        userId: memberUser,
        scope: 'api1',
        workspaceId: null,
        permissions: 'admin',
      });
      expect((await me(bearer(token))).permissions).toBe('write');
      await expectNoAdminApi(bearer(token));
    });

    it('an admin (role) through an admin app key administers and creates write keys', async () => {
      const token = await userToken('admin@a.test', adminApp);
      expect(permissionsClaim(token)).toBe('admin');
      expect(await me(bearer(token))).toMatchObject({ permissions: 'admin', user: { role: 'admin' } });
      const keys = await send('GET', '/v1/api-keys', bearer(token));
      expect(keys.statusCode, keys.body).toBe(200);
      const res = await send('POST', '/v1/api-keys', bearer(token), {
        label: 'a write key made by an admin',
      });
      expect(res.statusCode, res.body).toBe(201);
      expect(res.json()).toMatchObject({ permissions: 'write', createdBy: `user:${adminUser}` });
    });

    it("a read app's token cannot withdraw a consent: DELETE /v1/me/consents is 403 insufficient_permission", async () => {
      const readApp = await createApiKey(
        ctx.app.services.db,
        {
          tenantId: ctx.seed.a.tenantId,
          label: 'A read-only app',
          permissions: 'read',
          redirectUris: [REDIRECT],
        },
        CLI_ACTOR,
      );
      // The owner has allowed the back-office app too: that is the consent the read app aims at.
      await userToken('owner@a.test', adminApp);
      const token = await userToken('owner@a.test', readApp);
      expect(permissionsClaim(token)).toBe('read');
      const listed = await send('GET', '/v1/me/consents', bearer(token));
      expect(listed.statusCode, listed.body).toBe(200);
      const res = await send('DELETE', `/v1/me/consents/${adminApp.key.publicKey}`, bearer(token));
      expectProblem(res, 403, 'insufficient_permission');
      const after = await send('GET', '/v1/me/consents', bearer(token));
      expect(after.json().items.map((c: { publicKey: string }) => c.publicKey)).toContain(
        adminApp.key.publicKey,
      );
    });

    it('an admin (role) cannot create an admin key nor make, add or demote an owner: 403 forbidden, nothing written', async () => {
      const token = await userToken('admin@a.test', adminApp);
      await expectNothingWritten(async () => {
        const adminKey = await send('POST', '/v1/api-keys', bearer(token), {
          label: 'an admin key made by an admin',
          permissions: 'admin',
        });
        expectProblem(adminKey, 403, 'forbidden');
        const promote = await send('PATCH', `/v1/members/${targets.member}`, bearer(token), {
          role: 'owner',
        });
        expectProblem(promote, 403, 'forbidden');
        const add = await send('POST', '/v1/members', bearer(token), {
          email: 'owner-by-an-admin@a.test',
          role: 'owner',
          password: PASSWORD,
        });
        expectProblem(add, 403, 'forbidden');
        const demote = await send('PATCH', `/v1/members/${ctx.seed.a.userId}`, bearer(token), {
          role: 'member',
        });
        expectProblem(demote, 403, 'forbidden');
      });
    });
  });

  describe('client-credentials tokens', () => {
    it("an admin key's token carries permissions admin and reaches the admin API", async () => {
      const token = await tokenFor(ctx.app, ctx.seed.adminKeyA);
      expect(permissionsClaim(token)).toBe('admin');
      expect(await me(bearer(token))).toMatchObject({ permissions: 'admin', user: null });
      const res = await send('GET', '/v1/api-keys', bearer(token));
      expect(res.statusCode, res.body).toBe(200);
      const made = await send('POST', '/v1/api-keys', bearer(token), { label: 'a key made by a token' });
      expect(made.statusCode, made.body).toBe(201);
      expect(made.json().createdBy).toBe(`key:${ctx.seed.adminKeyA.key.publicKey}`);
    });

    it("an admin key's token cannot rotate or revoke its own key either: 403 forbidden, nothing written", async () => {
      const token = await tokenFor(ctx.app, selfAdmin);
      const self = `/v1/api-keys/${selfAdmin.key.publicKey}`;
      await expectNothingWritten(async () => {
        expectProblem(
          await send('POST', `${self}/rotate`, bearer(token), { graceSeconds: 0 }),
          403,
          'forbidden',
        );
        expectProblem(await send('DELETE', self, bearer(token)), 403, 'forbidden');
      });
      expect((await send('GET', self, bearer(token))).statusCode).toBe(200);
    });

    it("a read key's token carries read: GET works, writes are 403 insufficient_permission and nothing is written", async () => {
      const token = await tokenFor(ctx.app, readKey);
      expect(permissionsClaim(token)).toBe('read');
      expect((await send('GET', entitiesUrl(), bearer(token))).statusCode).toBe(200);
      await expectNothingWritten(async () => {
        const post = await send('POST', entitiesUrl(), bearer(token), { name: 'written by a read token' });
        expectProblem(post, 403, 'insufficient_permission');
        const del = await send('DELETE', `${entitiesUrl()}/${entity}`, bearer(token));
        expectProblem(del, 403, 'insufficient_permission');
      });
      await expectNoAdminApi(bearer(token));
    });
  });

  it("a demoted admin's token loses the admin API at once on this instance", async () => {
    const { db } = ctx.app.services;
    const demoted = await addMember(
      db,
      { tenantId: ctx.seed.a.tenantId, email: 'demoted@a.test', role: 'admin', password: PASSWORD },
      CLI_ACTOR,
    );
    const token = await userToken('demoted@a.test', adminApp);
    const ownerToken = await userToken('owner@a.test', adminApp);
    const before = await send('GET', '/v1/api-keys', bearer(token));
    expect(before.statusCode, before.body).toBe(200);
    // The verifier now holds the token's principal (role admin) for MEMBERSHIP_TTL_MS.
    const cachedAt = Date.now();
    const demote = await send('PATCH', `/v1/members/${demoted.user.id}`, bearer(ownerToken), {
      role: 'member',
    });
    expect(demote.statusCode, demote.body).toBe(200);
    expect(demote.json().role).toBe('member');
    expectProblem(await send('GET', '/v1/api-keys', bearer(token)), 404, 'not_found');
    // Within the membership TTL: only the demotion's own invalidation (forgetUser) can explain the 404.
    expect(Date.now() - cachedAt).toBeLessThan(MEMBERSHIP_TTL_MS);
    expect(await me(bearer(token))).toMatchObject({ permissions: 'write', user: { role: 'member' } });
  });

  describe('another tenant', () => {
    it("B's admin key gets 404 for every path naming a resource of A, and A is left as it was", async () => {
      const { a, adminKeyB } = ctx.seed;
      const aimed: [Method, string, Record<string, unknown>?][] = [
        ['GET', `/v1/api-keys/${targets.key}`],
        ['PATCH', `/v1/api-keys/${targets.key}`, { label: 'renamed by B' }],
        ['POST', `/v1/api-keys/${targets.key}/rotate`, { graceSeconds: 0 }],
        ['DELETE', `/v1/api-keys/${targets.key}`],
        ['GET', `/v1/api-keys/${ctx.seed.adminKeyA.key.publicKey}`],
        ['PATCH', `/v1/members/${targets.member}`, { role: 'admin' }],
        ['DELETE', `/v1/members/${targets.member}`],
        ['PATCH', `/v1/members/${a.userId}`, { role: 'member' }],
        ['GET', `/v1/workspaces/${a.mainWorkspaceId}`],
        ['PATCH', `/v1/workspaces/${a.secondWorkspaceId}`, { label: 'renamed by B', state: 'Archived' }],
        ['GET', entitiesUrl()],
        ['POST', entitiesUrl(), { name: 'planted by B' }],
        ['DELETE', `${entitiesUrl()}/${entity}`],
      ];
      await expectNothingWritten(async () => {
        for (const [method, url, payload] of aimed) {
          const res = await send(method, url, key(adminKeyB), payload);
          expect(res.statusCode, `${method} ${url}: ${res.body}`).toBe(404);
          expectProblem(res, 404, 'not_found');
        }
      });
      // The resources exist: the 404s were isolation, not absence.
      expect((await send('GET', `/v1/api-keys/${targets.key}`, key(ctx.seed.adminKeyA))).statusCode).toBe(
        200,
      );
    });

    it("B's admin key lists only B's keys, members, workspaces and audit events, whatever the filter", async () => {
      const { a, b } = ctx.seed;
      const ofA = [
        'Tenant A',
        '@a.test',
        ctx.seed.orgKeyA.key.publicKey,
        ctx.seed.adminKeyA.key.publicKey,
        targets.key,
        adminApp.key.publicKey,
      ];
      const lists = [
        '/v1/api-keys?size=500',
        `/v1/api-keys?size=500&workspaceId=${a.mainWorkspaceId}`,
        '/v1/api-keys?size=500&q=A',
        '/v1/members?size=500',
        '/v1/members?size=500&q=a.test',
        '/v1/workspaces?size=500',
        '/v1/audit-events?size=500',
        `/v1/audit-events?size=500&actor=key:${ctx.seed.adminKeyA.key.publicKey}`,
        '/v1/audit-events?size=500&action=member.added',
      ];
      for (const url of lists) {
        const res = await send('GET', url, key(ctx.seed.adminKeyB));
        expect(res.statusCode, `${url}: ${res.body}`).toBe(200);
        for (const marker of ofA) expect(res.body, url).not.toContain(marker);
        for (const item of res.json().items as { tenantId?: number }[])
          if ('tenantId' in item) expect(item.tenantId, url).toBe(b.tenantId);
      }
      // B's own lists are not empty: the checks above looked at something.
      const keys = await send('GET', '/v1/api-keys', key(ctx.seed.adminKeyB));
      expect(keys.json().items.map((k: { publicKey: string }) => k.publicKey)).toContain(
        ctx.seed.orgKeyB.key.publicKey,
      );
      const members = await send('GET', '/v1/members', key(ctx.seed.adminKeyB));
      expect(members.json().items.map((m: { email: string }) => m.email)).toEqual(['owner@b.test']);
    });
  });
});
