import type { LightMyRequestResponse } from 'fastify';
import { expect, it } from 'vitest';
import { createApiKey } from '../../src/domain/api-keys.ts';
import { CLI_ACTOR } from '../../src/domain/audit.ts';
import { addMember, removeMember, updateMember } from '../../src/domain/members.ts';
import { NO_LOCAL_DENYLIST } from '../../src/domain/revocations.ts';
import { hashSecret } from '../../src/domain/secrets.ts';
import { createTenant } from '../../src/domain/tenants.ts';
import { issueAccessToken } from '../../src/oauth/access-token.ts';
import { Browser, codeFor, csrfOf, hiddenFields, tokenRequest } from '../helpers/authorization-flow.ts';
import { releaseTogether } from '../helpers/concurrent.ts';
import { PASSWORD } from '../helpers/seed.ts';
import { useSeededApp } from '../helpers/seeded-app.ts';
import { describeEachDialect } from '../helpers/test-app.ts';

const REDIRECT = 'https://app.example/callback';
const USER_AGENT = 'members-test/1.0';
const NEW_PASSWORD = 'a brand new passphrase for the welcome page';

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';
/** An admin API credential: an API key, or a user's access token. */
type Credential = { key: string } | { token: string };

interface MemberJson {
  id: number;
  email: string;
  displayName: string | null;
  role: string;
  workspaceIds: number[] | null;
  createdAt: string;
}

/** The `jti` of a JWT access token, read without verifying it (the test issued it). */
function jtiOf(token: string): string {
  const payload = token.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')).jti;
}

/**
 * DESIGN.md 1 (admin API) and issue 10: `/v1/members`. Key-cache and denylist polling are slowed to a
 * minute, so that whatever a change must end "at once" can only be ended by this instance's own update.
 */
describeEachDialect('admin API: /v1/members', (dialect) => {
  const ctx = useSeededApp(dialect, {}, { keyCache: { pollMs: 60_000 } });

  const adminKey = (): Credential => ({ key: ctx.seed.adminKeyA.privateKey });
  const send = (credential: Credential, method: Method, url: string, payload?: Record<string, unknown>) =>
    ctx.app.inject({
      method,
      url,
      headers: {
        'user-agent': USER_AGENT,
        ...('key' in credential
          ? { 'x-api-key': credential.key }
          : { authorization: `Bearer ${credential.token}` }),
      },
      ...(payload ? { payload } : {}),
    });

  /** A user token with the admin API's permission (through an `admin` key), so that the role decides. */
  async function userToken(userId: number, client = ctx.seed.adminKeyA.key): Promise<Credential> {
    const issued = await issueAccessToken(ctx.app.services, {
      client,
      userId,
      scope: 'api1',
      workspaceId: null,
    });
    return { token: issued.token };
  }

  const ownerOfA = () => userToken(ctx.seed.a.userId);

  /** A new account of tenant A with `role`, added by the CLI (setup, not the subject of the test). */
  async function memberOfA(email: string, role: 'owner' | 'admin' | 'member' = 'member') {
    const { user } = await addMember(
      ctx.app.services.db,
      { tenantId: ctx.seed.a.tenantId, email, password: PASSWORD, role },
      CLI_ACTOR,
    );
    return user.id;
  }

  /** A tenant of its own with `owners` owners, an admin key and each owner's admin token. */
  async function tenantWithOwners(slug: string, owners: number) {
    const { db } = ctx.app.services;
    const created = await createTenant(
      db,
      { label: `Tenant ${slug}`, ownerEmail: `owner1@${slug}.test`, ownerPassword: PASSWORD },
      CLI_ACTOR,
    );
    const ownerIds = [created.userId];
    for (let i = 2; i <= owners; i++) {
      const email = `owner${i}@${slug}.test`;
      const added = await addMember(
        db,
        { tenantId: created.tenantId, email, password: PASSWORD, role: 'owner' },
        CLI_ACTOR,
      );
      ownerIds.push(added.user.id);
    }
    const key = await createApiKey(
      db,
      { tenantId: created.tenantId, label: `${slug} admin key`, permissions: 'admin' },
      CLI_ACTOR,
    );
    const tokens = await Promise.all(ownerIds.map((id) => userToken(id, key.key)));
    return { tenantId: created.tenantId, ownerIds, adminKey: { key: key.privateKey }, tokens };
  }

  const rolesOf = async (credential: Credential) =>
    ((await send(credential, 'GET', '/v1/members?size=500')).json().items as MemberJson[]).map((m) => m.role);

  const membershipOf = (tenantId: number, userId: number) =>
    ctx.app.services.db
      .selectFrom('memberships')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('user_id', '=', userId)
      .executeTakeFirst();

  const countRows = async (table: 'users' | 'memberships' | 'membership_workspaces') =>
    Number(
      (
        await ctx.app.services.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  /** Whether an email and password sign a fresh browser in (303) or not (400 page). */
  async function signsIn(email: string, password: string): Promise<boolean> {
    const res = await new Browser(ctx.app).signIn(email, password);
    expect([303, 400]).toContain(res.statusCode);
    return res.statusCode === 303;
  }

  const expectFieldError = (res: LightMyRequestResponse, field: string) => {
    expect(res.statusCode, res.body).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json().code).toBe('validation_failed');
    expect(res.json().errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
  };

  // --- listing ---------------------------------------------------------------------------------

  it('lists members in the documented shape, and none of another organization', async () => {
    const res = await send(adminKey(), 'GET', '/v1/members?q=owner%40a.test');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      items: [
        {
          id: ctx.seed.a.userId,
          email: 'owner@a.test',
          displayName: null,
          role: 'owner',
          workspaceIds: null,
          createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        },
      ],
      total: 1,
    });
    const all = await send(adminKey(), 'GET', '/v1/members?size=500');
    expect(all.body).not.toContain('owner@b.test');
  });

  it('pages the list by email with page and size, and reverses it with asc=false', async () => {
    for (const n of [3, 1, 5, 2, 4]) await memberOfA(`pg-${n}@paging.test`);
    const second = await send(adminKey(), 'GET', '/v1/members?q=paging.test&size=2&page=2');
    expect(second.statusCode).toBe(200);
    expect(second.json().total).toBe(5);
    expect((second.json().items as MemberJson[]).map((m) => m.email)).toEqual([
      'pg-3@paging.test',
      'pg-4@paging.test',
    ]);
    const reversed = await send(adminKey(), 'GET', '/v1/members?q=paging.test&size=2&asc=false');
    expect((reversed.json().items as MemberJson[]).map((m) => m.email)).toEqual([
      'pg-5@paging.test',
      'pg-4@paging.test',
    ]);
  });

  it('searches with q on the email and on the display name, case-insensitively', async () => {
    await addMember(
      ctx.app.services.db,
      {
        tenantId: ctx.seed.a.tenantId,
        email: 'zed@search.test',
        displayName: 'Marguerite Quokka',
        password: PASSWORD,
        role: 'member',
      },
      CLI_ACTOR,
    );
    const byName = await send(adminKey(), 'GET', '/v1/members?q=QUOKKA');
    expect((byName.json().items as MemberJson[]).map((m) => m.email)).toEqual(['zed@search.test']);
    const byEmail = await send(adminKey(), 'GET', '/v1/members?q=zed%40search');
    expect(byEmail.json()).toMatchObject({ total: 1, items: [{ displayName: 'Marguerite Quokka' }] });
    const none = await send(adminKey(), 'GET', '/v1/members?q=no-such-person');
    expect(none.json()).toEqual({ items: [], total: 0 });
  });

  // --- adding ------------------------------------------------------------------------------------

  it('adds an existing account as it is: it keeps its own password and ignores the one given', async () => {
    const { db } = ctx.app.services;
    await addMember(
      db,
      { tenantId: ctx.seed.b.tenantId, email: 'both@b.test', password: PASSWORD, role: 'member' },
      CLI_ACTOR,
    );
    const res = await send(adminKey(), 'POST', '/v1/members', {
      email: 'Both@B.test',
      role: 'member',
      password: 'a password chosen by another organization',
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ email: 'both@b.test', role: 'member', created: false });
    expect(res.json().signInLink).toBeUndefined();
    expect(await signsIn('both@b.test', PASSWORD)).toBe(true);
    expect(await signsIn('both@b.test', 'a password chosen by another organization')).toBe(false);
    const accounts = await db.selectFrom('users').select('id').where('email', '=', 'both@b.test').execute();
    expect(accounts).toHaveLength(1);
  });

  it('adds a new account with the password given, which then signs in', async () => {
    const res = await send(adminKey(), 'POST', '/v1/members', {
      email: 'new.person@a.test',
      displayName: 'New Person',
      role: 'admin',
      password: NEW_PASSWORD,
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toEqual({
      id: expect.any(Number),
      email: 'new.person@a.test',
      displayName: 'New Person',
      role: 'admin',
      workspaceIds: null,
      createdAt: expect.any(String),
      created: true,
    });
    expect(res.body).not.toContain(NEW_PASSWORD);
    expect(await signsIn('new.person@a.test', NEW_PASSWORD)).toBe(true);
  });

  it('refuses a second add of the same member with a 409 problem', async () => {
    await memberOfA('twice@a.test');
    const res = await send(adminKey(), 'POST', '/v1/members', { email: 'twice@a.test', role: 'member' });
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('conflict');
  });

  /** A new member added through the API without a password: the answer and its link's token. */
  async function addedWithLink(email: string) {
    const res = await send(adminKey(), 'POST', '/v1/members', { email, role: 'member' });
    expect(res.statusCode, res.body).toBe(201);
    const link = new URL(res.json().signInLink as string);
    return { res, id: res.json().id as number, token: link.searchParams.get('token') as string };
  }

  it('answers a new account without a password with a one-time sign-in link, not cached', async () => {
    const { res, token } = await addedWithLink('linked@a.test');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.json()).toMatchObject({ email: 'linked@a.test', created: true });
    const issuer = ctx.app.services.config.issuer;
    expect(res.json().signInLink).toBe(`${issuer}/console/welcome?token=${token}`);
    expect(token).toMatch(/^gsl_[A-Za-z0-9_-]{43}$/);
  });

  it('shows the sign-in link once: neither the member list nor the audit log repeats it', async () => {
    const { token } = await addedWithLink('shown-once@a.test');
    const list = await send(adminKey(), 'GET', '/v1/members?q=shown-once');
    expect(list.json().total).toBe(1);
    expect(list.body).not.toContain(token);
    expect(list.body).not.toContain('signInLink');
    const log = await send(adminKey(), 'GET', '/v1/audit-events?action=member.added&size=500');
    expect(log.statusCode).toBe(200);
    expect(log.body).not.toContain(token);
  });

  it('stores only the sha256 of a sign-in link, never its token', async () => {
    const { id, token } = await addedWithLink('hashed-link@a.test');
    const rows = await ctx.app.services.db
      .selectFrom('sign_in_links')
      .selectAll()
      .where('user_id', '=', id)
      .execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]?.token_hash).toBe(hashSecret(token));
    expect(JSON.stringify(rows)).not.toContain(token);
    expect(JSON.stringify(rows)).not.toContain(token.slice(4));
  });

  it('gives an account added without a password no password that signs in', async () => {
    await addedWithLink('no-password@a.test');
    expect(await signsIn('no-password@a.test', '')).toBe(false);
    expect(await signsIn('no-password@a.test', PASSWORD)).toBe(false);
  });

  // --- the welcome page --------------------------------------------------------------------------

  it('lets the link set a password, signs the browser in and lands on the account page', async () => {
    const { token } = await addedWithLink('welcome@a.test');
    const browser = new Browser(ctx.app);
    const page = await browser.get(`/console/welcome?token=${token}`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('welcome@a.test');
    const res = await browser.post('/console/welcome', {
      ...hiddenFields(page.body, '/console/welcome'),
      password: NEW_PASSWORD,
    });
    expect(res.statusCode, res.body).toBe(303);
    // The console's start, which sends a member on to their account page.
    expect(res.headers.location).toBe('/');
    expect((await browser.get('/')).headers.location).toBe('/console');
    const account = await browser.get('/console');
    expect(account.statusCode).toBe(200);
    expect(account.body).toContain('welcome@a.test');
    expect(await signsIn('welcome@a.test', NEW_PASSWORD)).toBe(true);
  });

  it('spends the link: a second use of it is the 404 page and sets nothing', async () => {
    const { token } = await addedWithLink('single-use@a.test');
    const browser = new Browser(ctx.app);
    const page = await browser.get(`/console/welcome?token=${token}`);
    const fields = hiddenFields(page.body, '/console/welcome');
    expect((await browser.post('/console/welcome', { ...fields, password: NEW_PASSWORD })).statusCode).toBe(
      303,
    );
    // The same browser, now signed in, with a CSRF token valid for its new session.
    const account = await browser.get('/console');
    const again = await browser.post('/console/welcome', {
      csrf_token: csrfOf(account.body),
      token,
      password: 'a second password someone tries to set',
    });
    expect(again.statusCode).toBe(404);
    expect(again.headers['content-type']).toMatch(/^text\/html/);
    expect((await new Browser(ctx.app).get(`/console/welcome?token=${token}`)).statusCode).toBe(404);
    expect(await signsIn('single-use@a.test', 'a second password someone tries to set')).toBe(false);
    expect(await signsIn('single-use@a.test', NEW_PASSWORD)).toBe(true);
  });

  it('lets only one of two simultaneous uses of a link succeed', async () => {
    const { token } = await addedWithLink('raced-link@a.test');
    const browsers = [new Browser(ctx.app), new Browser(ctx.app)];
    const forms = await Promise.all(
      browsers.map(async (b) =>
        hiddenFields((await b.get(`/console/welcome?token=${token}`)).body, '/console/welcome'),
      ),
    );
    const results = await releaseTogether(
      browsers.map(
        (b, i) => () => b.post('/console/welcome', { ...forms[i], password: `${NEW_PASSWORD} ${i}` }),
      ),
    );
    expect(results.map((r) => r.statusCode).sort()).toEqual([303, 404]);
  });

  it('keeps the link working after a password the policy refuses (400 page)', async () => {
    const { token } = await addedWithLink('weak-first@a.test');
    const browser = new Browser(ctx.app);
    const page = await browser.get(`/console/welcome?token=${token}`);
    const refused = await browser.post('/console/welcome', {
      ...hiddenFields(page.body, '/console/welcome'),
      password: 'short',
    });
    expect(refused.statusCode).toBe(400);
    expect(refused.body).toMatch(/at least 12 characters/);
    expect(await signsIn('weak-first@a.test', 'short')).toBe(false);
    const retry = await browser.post('/console/welcome', {
      ...hiddenFields(refused.body, '/console/welcome'),
      password: NEW_PASSWORD,
    });
    expect(retry.statusCode).toBe(303);
    expect(await signsIn('weak-first@a.test', NEW_PASSWORD)).toBe(true);
  });

  it('refuses an expired link (24 h) with the 404 page', async () => {
    const { id, token } = await addedWithLink('expired-link@a.test');
    await ctx.app.services.db
      .updateTable('sign_in_links')
      .set({ expires_at: Date.now() - 1 })
      .where('user_id', '=', id)
      .execute();
    const browser = new Browser(ctx.app);
    expect((await browser.get(`/console/welcome?token=${token}`)).statusCode).toBe(404);
    const signInPage = await browser.get('/console/sign-in');
    const res = await browser.post('/console/welcome', {
      csrf_token: csrfOf(signInPage.body),
      token,
      password: NEW_PASSWORD,
    });
    expect(res.statusCode).toBe(404);
    expect(await signsIn('expired-link@a.test', NEW_PASSWORD)).toBe(false);
  });

  it('refuses an unknown link with the same 404 page', async () => {
    const res = await new Browser(ctx.app).get(`/console/welcome?token=gsl_${'A'.repeat(43)}`);
    expect(res.statusCode).toBe(404);
    expect(res.body).toContain('This link no longer works');
  });

  // --- changing ------------------------------------------------------------------------------------

  it("changes a member's workspaces, then their role (which lifts the workspace limit)", async () => {
    const id = await memberOfA('changing@a.test');
    const limited = await send(adminKey(), 'PATCH', `/v1/members/${id}`, {
      workspaceIds: [ctx.seed.a.secondWorkspaceId],
    });
    expect(limited.statusCode, limited.body).toBe(200);
    expect(limited.json()).toMatchObject({
      id,
      role: 'member',
      workspaceIds: [ctx.seed.a.secondWorkspaceId],
    });
    const promoted = await send(adminKey(), 'PATCH', `/v1/members/${id}`, { role: 'admin' });
    expect(promoted.statusCode).toBe(200);
    expect(promoted.json()).toMatchObject({ id, role: 'admin', workspaceIds: null });
    const listed = (await send(adminKey(), 'GET', '/v1/members?q=changing%40a.test')).json().items;
    expect(listed).toEqual([promoted.json()]);
  });

  it("applies a new workspace limit to the member's token at once", async () => {
    const id = await memberOfA('narrowed@a.test');
    const { token } = (await userToken(id, ctx.seed.orgKeyA.key)) as { token: string };
    const visible = async () =>
      (
        (
          await ctx.app.inject({ url: '/v1/workspaces', headers: { authorization: `Bearer ${token}` } })
        ).json().items as { id: number }[]
      ).map((w) => w.id);
    expect(await visible()).toEqual([ctx.seed.a.mainWorkspaceId, ctx.seed.a.secondWorkspaceId]);
    const res = await send(adminKey(), 'PATCH', `/v1/members/${id}`, {
      workspaceIds: [ctx.seed.a.secondWorkspaceId],
    });
    expect(res.statusCode).toBe(200);
    expect(await visible()).toEqual([ctx.seed.a.secondWorkspaceId]);
  });

  it('limits only members to workspaces: a 400 naming workspaceIds on add and on change', async () => {
    const before = await countRows('memberships');
    const add = await send(adminKey(), 'POST', '/v1/members', {
      email: 'limited-admin@a.test',
      role: 'admin',
      password: PASSWORD,
      workspaceIds: [ctx.seed.a.mainWorkspaceId],
    });
    expectFieldError(add, 'workspaceIds');
    expect(await countRows('memberships')).toBe(before);
    const id = await memberOfA('admin-to-limit@a.test', 'admin');
    const change = await send(adminKey(), 'PATCH', `/v1/members/${id}`, {
      workspaceIds: [ctx.seed.a.mainWorkspaceId],
    });
    expectFieldError(change, 'workspaceIds');
    const promote = await send(adminKey(), 'PATCH', `/v1/members/${id}`, {
      role: 'admin',
      workspaceIds: [ctx.seed.a.secondWorkspaceId],
    });
    expectFieldError(promote, 'workspaceIds');
    expect(await send(adminKey(), 'GET', '/v1/members?q=admin-to-limit').then((r) => r.json().items)).toEqual(
      [expect.objectContaining({ role: 'admin', workspaceIds: null })],
    );
  });

  it("refuses another organization's workspace as a limit with a 400 naming workspaceIds", async () => {
    const before = await countRows('users');
    const res = await send(adminKey(), 'POST', '/v1/members', {
      email: 'foreign-workspace@a.test',
      role: 'member',
      password: PASSWORD,
      workspaceIds: [ctx.seed.b.workspaceId],
    });
    expectFieldError(res, 'workspaceIds');
    expect(await countRows('users')).toBe(before);
  });

  // --- owners --------------------------------------------------------------------------------------

  it('refuses to demote the last owner with a 409 problem', async () => {
    const t = await tenantWithOwners('solo-demote', 1);
    const res = await send(t.tokens[0] as Credential, 'PATCH', `/v1/members/${t.ownerIds[0]}`, {
      role: 'admin',
    });
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('conflict');
    expect(await rolesOf(t.adminKey)).toEqual(['owner']);
  });

  it('refuses to remove the last owner with a 409 problem', async () => {
    const t = await tenantWithOwners('solo-remove', 1);
    const res = await send(t.tokens[0] as Credential, 'DELETE', `/v1/members/${t.ownerIds[0]}`);
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('conflict');
    expect(await rolesOf(t.adminKey)).toEqual(['owner']);
  });

  it('lets an owner demote another owner while one remains', async () => {
    const t = await tenantWithOwners('pair-demote', 2);
    const res = await send(t.tokens[0] as Credential, 'PATCH', `/v1/members/${t.ownerIds[1]}`, {
      role: 'admin',
    });
    expect(res.statusCode, res.body).toBe(200);
    expect((await rolesOf(t.adminKey)).sort()).toEqual(['admin', 'owner']);
  });

  /** Runs `work`, answering `ok` or the problem code it threw: for races whose losers must fail cleanly. */
  const outcome = (work: () => Promise<unknown>) => async () => {
    try {
      await work();
      return 'ok';
    } catch (error) {
      return (error as { code?: string }).code ?? String(error);
    }
  };

  /**
   * Over HTTP the loser of a race between two owners is refused either by the last-owner rule (409) or,
   * when its request was checked after the winner's change, because it no longer is an owner (403) or
   * a member (401): which one depends on timing. What never varies: one wins, and an owner remains.
   */
  const LOSER = [401, 403, 409];

  it('keeps an owner when two owners demote each other at the same moment over HTTP', async () => {
    const t = await tenantWithOwners('race-demote', 2);
    const [first, second] = t.tokens as [Credential, Credential];
    // Both tokens resolved once before the race, so both requests start as owners.
    for (const token of [first, second])
      expect((await send(token, 'GET', '/v1/members')).statusCode).toBe(200);
    const results = await releaseTogether([
      () => send(first, 'PATCH', `/v1/members/${t.ownerIds[1]}`, { role: 'admin' }),
      () => send(second, 'PATCH', `/v1/members/${t.ownerIds[0]}`, { role: 'admin' }),
    ]);
    // The invariant first: the organization still has exactly one owner.
    expect((await rolesOf(t.adminKey)).sort()).toEqual(['admin', 'owner']);
    const statuses = results.map((r) => r.statusCode);
    expect(
      statuses.filter((s) => s === 200),
      `statuses ${statuses}`,
    ).toHaveLength(1);
    expect(LOSER).toEqual(expect.arrayContaining(statuses.filter((s) => s !== 200)));
  });

  it('keeps an owner when two owners remove each other at the same moment over HTTP', async () => {
    const t = await tenantWithOwners('race-remove', 2);
    const [first, second] = t.tokens as [Credential, Credential];
    for (const token of [first, second])
      expect((await send(token, 'GET', '/v1/members')).statusCode).toBe(200);
    const results = await releaseTogether([
      () => send(first, 'DELETE', `/v1/members/${t.ownerIds[1]}`),
      () => send(second, 'DELETE', `/v1/members/${t.ownerIds[0]}`),
    ]);
    // The invariant first: the organization still has exactly one owner.
    expect(await rolesOf(t.adminKey)).toEqual(['owner']);
    const statuses = results.map((r) => r.statusCode);
    expect(
      statuses.filter((s) => s === 204),
      `statuses ${statuses}`,
    ).toHaveLength(1);
    expect(LOSER).toEqual(expect.arrayContaining(statuses.filter((s) => s !== 204)));
  });

  it('answers one of two simultaneous demotions of the only two owners with conflict (409)', async () => {
    const t = await tenantWithOwners('race-demote-domain', 2);
    const { db } = ctx.app.services;
    const [a, b] = t.ownerIds as [number, number];
    const codes = await releaseTogether([
      outcome(() => updateMember(db, t.tenantId, a, { role: 'admin' }, CLI_ACTOR)),
      outcome(() => updateMember(db, t.tenantId, b, { role: 'admin' }, CLI_ACTOR)),
    ]);
    expect((await rolesOf(t.adminKey)).sort()).toEqual(['admin', 'owner']);
    expect(codes.sort()).toEqual(['conflict', 'ok']);
  });

  it('answers one of two simultaneous removals of the only two owners with conflict (409)', async () => {
    const t = await tenantWithOwners('race-remove-domain', 2);
    const { db } = ctx.app.services;
    const [a, b] = t.ownerIds as [number, number];
    const codes = await releaseTogether([
      outcome(() => removeMember(db, NO_LOCAL_DENYLIST, t.tenantId, a, CLI_ACTOR)),
      outcome(() => removeMember(db, NO_LOCAL_DENYLIST, t.tenantId, b, CLI_ACTOR)),
    ]);
    expect(await rolesOf(t.adminKey)).toEqual(['owner']);
    expect(codes.sort()).toEqual(['conflict', 'ok']);
  });

  it('lets only an owner add an owner: an admin key and an admin user get 403', async () => {
    const adminUser = await userToken(await memberOfA('not-an-owner@a.test', 'admin'));
    for (const credential of [adminKey(), adminUser]) {
      const res = await send(credential, 'POST', '/v1/members', {
        email: 'would-be-owner@a.test',
        role: 'owner',
        password: PASSWORD,
      });
      expect(res.statusCode).toBe(403);
      expect(res.json().code).toBe('forbidden');
    }
    expect((await send(adminKey(), 'GET', '/v1/members?q=would-be-owner')).json().total).toBe(0);
    const byOwner = await send(await ownerOfA(), 'POST', '/v1/members', {
      email: 'would-be-owner@a.test',
      role: 'owner',
      password: PASSWORD,
    });
    expect(byOwner.statusCode).toBe(201);
    expect(byOwner.json().role).toBe('owner');
  });

  it('lets only an owner make an owner: an admin key and an admin user get 403', async () => {
    const id = await memberOfA('promotable@a.test');
    const adminUser = await userToken(await memberOfA('promoter@a.test', 'admin'));
    for (const credential of [adminKey(), adminUser]) {
      const res = await send(credential, 'PATCH', `/v1/members/${id}`, { role: 'owner' });
      expect(res.statusCode).toBe(403);
    }
    expect((await membershipOf(ctx.seed.a.tenantId, id))?.role).toBe('member');
    const byOwner = await send(await ownerOfA(), 'PATCH', `/v1/members/${id}`, { role: 'owner' });
    expect(byOwner.statusCode).toBe(200);
    expect(byOwner.json().role).toBe('owner');
  });

  it('lets only an owner demote or remove an owner: an admin key and an admin user get 403', async () => {
    const id = await memberOfA('second-owner@a.test', 'owner');
    const adminUser = await userToken(await memberOfA('usurper@a.test', 'admin'));
    for (const credential of [adminKey(), adminUser]) {
      expect((await send(credential, 'PATCH', `/v1/members/${id}`, { role: 'member' })).statusCode).toBe(403);
      expect((await send(credential, 'DELETE', `/v1/members/${id}`)).statusCode).toBe(403);
    }
    expect((await membershipOf(ctx.seed.a.tenantId, id))?.role).toBe('owner');
    expect((await send(await ownerOfA(), 'DELETE', `/v1/members/${id}`)).statusCode).toBe(204);
    expect(await membershipOf(ctx.seed.a.tenantId, id)).toBeUndefined();
  });

  // --- removing ------------------------------------------------------------------------------------

  /**
   * A member of A who holds everything a member can: a signed-in browser, a consent to A's app, an
   * access and a refresh token from a real code exchange, and a code not yet exchanged.
   */
  async function memberWithEverything(email: string) {
    const client = { publicKey: ctx.seed.orgKeyA.key.publicKey, privateKey: ctx.seed.orgKeyA.privateKey };
    const added = await send(adminKey(), 'POST', '/v1/members', {
      email,
      role: 'member',
      password: PASSWORD,
    });
    expect(added.statusCode).toBe(201);
    const userId = added.json().id as number;
    const browser = new Browser(ctx.app);
    expect((await browser.signIn(email, PASSWORD)).statusCode).toBe(303);
    const exchange = (code: string) =>
      tokenRequest(ctx.app, client, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT });
    const tokens = (await exchange(await codeFor(browser, client.publicKey))).json() as {
      access_token: string;
      refresh_token: string;
    };
    const pendingCode = await codeFor(browser, client.publicKey);
    return { userId, browser, tokens, pendingCode, client, exchange };
  }

  const me = (token: string) => ctx.app.inject({ url: '/me', headers: { authorization: `Bearer ${token}` } });
  const remove = (userId: number) => send(adminKey(), 'DELETE', `/v1/members/${userId}`);

  it('removes a member: their access token is refused at once, by the denylist every instance reads', async () => {
    const m = await memberWithEverything('leaver-access@a.test');
    expect((await me(m.tokens.access_token)).statusCode).toBe(200);
    expect((await remove(m.userId)).statusCode).toBe(204);
    const res = await me(m.tokens.access_token);
    expect(res.statusCode).toBe(401);
    expect(res.json().detail).toBe('the access token was revoked');
    // Recorded, so that the other instances refuse it too when they poll.
    const jti = jtiOf(m.tokens.access_token);
    const rows = await ctx.app.services.db
      .selectFrom('revoked_tokens')
      .select('jti')
      .where('jti', '=', jti)
      .execute();
    expect(rows).toHaveLength(1);
  });

  it('removes a member: their refresh token is invalid_grant', async () => {
    const m = await memberWithEverything('leaver-refresh@a.test');
    expect((await remove(m.userId)).statusCode).toBe(204);
    const res = await tokenRequest(ctx.app, m.client, {
      grant_type: 'refresh_token',
      refresh_token: m.tokens.refresh_token,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('invalid_grant');
  });

  it('removes a member: a code they had not exchanged yet is invalid_grant', async () => {
    const m = await memberWithEverything('leaver-code@a.test');
    expect((await remove(m.userId)).statusCode).toBe(204);
    const res = await m.exchange(m.pendingCode);
    expect(res.json().error).toBe('invalid_grant');
  });

  it('removes a member: their session cookie no longer opens the console', async () => {
    const m = await memberWithEverything('leaver-session@a.test');
    expect((await m.browser.get('/console')).statusCode).toBe(200);
    expect((await remove(m.userId)).statusCode).toBe(204);
    const res = await m.browser.get('/console');
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toMatch(/^\/console\/sign-in/);
  });

  it("removes a member: their consent to the organization's app is gone", async () => {
    const m = await memberWithEverything('leaver-consent@a.test');
    const consents = () =>
      ctx.app.services.db
        .selectFrom('consents')
        .select('api_key_id')
        .where('user_id', '=', m.userId)
        .execute();
    expect(await consents()).toEqual([{ api_key_id: ctx.seed.orgKeyA.key.id }]);
    expect((await remove(m.userId)).statusCode).toBe(204);
    expect(await consents()).toEqual([]);
    expect((await send(adminKey(), 'GET', '/v1/members?q=leaver-consent')).json().total).toBe(0);
  });

  it('answers a second removal of the same member with 404', async () => {
    const id = await memberOfA('removed-twice@a.test');
    expect((await remove(id)).statusCode).toBe(204);
    const again = await remove(id);
    expect(again.statusCode).toBe(404);
    expect(again.json().code).toBe('not_found');
  });

  // --- bad input -----------------------------------------------------------------------------------

  it('refuses a bad email with a 400 naming email, and creates nothing', async () => {
    const before = await countRows('users');
    for (const email of ['not-an-email', 'two@@a.test', 'spaces in@a.test']) {
      expectFieldError(await send(adminKey(), 'POST', '/v1/members', { email, role: 'member' }), 'email');
    }
    expect(await countRows('users')).toBe(before);
  });

  it('refuses an unknown role with a 400 naming role, on add and on change', async () => {
    expectFieldError(
      await send(adminKey(), 'POST', '/v1/members', { email: 'root@a.test', role: 'root' }),
      'role',
    );
    const id = await memberOfA('stays-member@a.test');
    expectFieldError(await send(adminKey(), 'PATCH', `/v1/members/${id}`, { role: 'superuser' }), 'role');
    expect((await membershipOf(ctx.seed.a.tenantId, id))?.role).toBe('member');
  });

  it('refuses an unknown field with a 400 naming it, on add and on change', async () => {
    const before = await countRows('users');
    const add = await send(adminKey(), 'POST', '/v1/members', {
      email: 'extra@a.test',
      role: 'member',
      isSuperUser: true,
    });
    expectFieldError(add, 'isSuperUser');
    expect(await countRows('users')).toBe(before);
    const change = await send(adminKey(), 'PATCH', `/v1/members/${ctx.seed.a.userId}`, { tenantId: 2 });
    expectFieldError(change, 'tenantId');
  });

  it('refuses a missing email or role with a 400 naming it', async () => {
    expectFieldError(await send(adminKey(), 'POST', '/v1/members', { role: 'member' }), 'email');
    expectFieldError(await send(adminKey(), 'POST', '/v1/members', { email: 'no-role@a.test' }), 'role');
  });

  it('refuses a password the policy refuses with a 400, and creates nothing', async () => {
    const before = await countRows('users');
    const res = await send(adminKey(), 'POST', '/v1/members', {
      email: 'weak@a.test',
      role: 'member',
      password: 'short',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('validation_failed');
    expect(res.json().detail).toMatch(/12 characters/);
    expect(await countRows('users')).toBe(before);
  });

  // --- other organizations -------------------------------------------------------------------------

  it("answers 404 for tenant B's user ids, and leaves them as they were", async () => {
    const change = await send(adminKey(), 'PATCH', `/v1/members/${ctx.seed.b.userId}`, { role: 'member' });
    expect(change.statusCode).toBe(404);
    expect(change.json().code).toBe('not_found');
    const removal = await send(adminKey(), 'DELETE', `/v1/members/${ctx.seed.b.userId}`);
    expect(removal.statusCode).toBe(404);
    expect((await membershipOf(ctx.seed.b.tenantId, ctx.seed.b.userId))?.role).toBe('owner');
  });

  it("answers 404 for an id that is no one's, exactly like another organization's", async () => {
    const unknown = await send(adminKey(), 'DELETE', '/v1/members/999999');
    const foreign = await send(adminKey(), 'DELETE', `/v1/members/${ctx.seed.b.userId}`);
    expect(unknown.statusCode).toBe(404);
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().title).toBe(unknown.json().title);
  });

  // --- audit -----------------------------------------------------------------------------------------

  async function eventsOf(action: string, userId: number) {
    const res = await send(
      adminKey(),
      'GET',
      `/v1/audit-events?${new URLSearchParams({ action, size: '500' })}`,
    );
    expect(res.statusCode).toBe(200);
    return (res.json().items as { target: string }[]).filter((e) => e.target === `user:${userId}`);
  }

  it('audits member.added, member.updated and member.removed with the acting key and user agent', async () => {
    const added = await send(adminKey(), 'POST', '/v1/members', {
      email: 'audited@a.test',
      role: 'member',
      password: PASSWORD,
    });
    const id = added.json().id as number;
    await send(adminKey(), 'PATCH', `/v1/members/${id}`, { role: 'admin' });
    await send(adminKey(), 'DELETE', `/v1/members/${id}`);
    const actor = `key:${ctx.seed.adminKeyA.key.publicKey}`;
    expect(await eventsOf('member.added', id)).toEqual([
      expect.objectContaining({
        tenantId: ctx.seed.a.tenantId,
        actor,
        userAgent: USER_AGENT,
        ip: expect.any(String),
        details: expect.objectContaining({ role: 'member', created: true, signInLink: false }),
      }),
    ]);
    expect(await eventsOf('member.updated', id)).toEqual([
      expect.objectContaining({
        actor,
        details: expect.objectContaining({ role: 'admin', previousRole: 'member' }),
      }),
    ]);
    expect(await eventsOf('member.removed', id)).toEqual([
      expect.objectContaining({ actor, details: { role: 'admin' } }),
    ]);
    const log = await send(adminKey(), 'GET', '/v1/audit-events?size=500');
    expect(log.body).not.toContain(PASSWORD);
  });

  it('audits a change made through a user token with that user as the actor', async () => {
    const id = await memberOfA('audited-by-owner@a.test');
    expect((await send(await ownerOfA(), 'PATCH', `/v1/members/${id}`, { role: 'admin' })).statusCode).toBe(
      200,
    );
    expect(await eventsOf('member.updated', id)).toEqual([
      expect.objectContaining({ actor: `user:${ctx.seed.a.userId}`, userAgent: USER_AGENT }),
    ]);
  });

  it('writes no audit event for a refused change', async () => {
    const t = await tenantWithOwners('refused-audit', 1);
    await send(t.tokens[0] as Credential, 'PATCH', `/v1/members/${t.ownerIds[0]}`, { role: 'admin' });
    const log = await send(t.adminKey, 'GET', '/v1/audit-events?action=member.updated');
    expect(log.json()).toEqual({ items: [], total: 0 });
  });
});
