import type { LightMyRequestResponse } from 'fastify';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApiKey, getKey, type IssuedApiKey } from '../../src/domain/api-keys.ts';
import { CLI_ACTOR } from '../../src/domain/audit.ts';
import { generatePublicKey } from '../../src/domain/key-format.ts';
import { addMember } from '../../src/domain/members.ts';
import { issueAccessToken } from '../../src/oauth/access-token.ts';
import { Browser, csrfOf, hiddenFields } from '../helpers/authorization-flow.ts';
import { PASSWORD } from '../helpers/seed.ts';
import { useSeededApp } from '../helpers/seeded-app.ts';
import { describeEachDialect } from '../helpers/test-app.ts';

/** A page, not JSON, not a redirect: the console's HTML with its strict CSP. */
function expectPage(res: LightMyRequestResponse, status: number) {
  expect(res.statusCode, res.body.slice(0, 400)).toBe(status);
  expect(res.headers['content-type']).toMatch(/^text\/html/);
  expect(res.body).toMatch(/^<!doctype html>/i);
  expect(res.headers['content-security-policy']).toMatch(/default-src 'none'/);
  expect(res.headers.location).toBeUndefined();
}

const signInTo = (returnTo: string) => `/console/sign-in?${new URLSearchParams({ return_to: returnTo })}`;

/**
 * Who reaches the organization's console, and where the console starts: `GET /`, sign-in and its
 * return path, members (403 page), other organizations (404 page, never a hint that A exists),
 * malformed ids (404 page, never a 500) and forms without a CSRF token (403 page, nothing changed).
 */
describeEachDialect('console: who reaches the API configuration', (dialect) => {
  const ctx = useSeededApp(dialect);
  const db = () => ctx.app.services.db;
  const A = () => ctx.seed.a.tenantId;
  const B = () => ctx.seed.b.tenantId;
  let owner: Browser;
  let ownerOfB: Browser;
  let member: Browser;
  let memberId: number;
  /** A key of A that the refused forms aim at, with its private key to prove it still works. */
  let target: IssuedApiKey;

  async function signedIn(email: string, returnTo = '/console'): Promise<Browser> {
    const browser = new Browser(ctx.app);
    const res = await browser.signIn(email, PASSWORD, returnTo);
    expect(res.statusCode, res.body).toBe(303);
    return browser;
  }

  const me = (privateKey: string) => ctx.app.inject({ url: '/me', headers: { 'x-api-key': privateKey } });

  /** Every form of a key's pages, as `[name, action, fields]`, aimed at `publicKey` of `tenantId`. */
  const forms = (tenantId: number, publicKey: string): [string, string, Record<string, string>][] => [
    ['create', `/o/${tenantId}/api-keys`, { label: 'Should not exist', permissions: 'admin', scope: '' }],
    [
      'edit',
      `/o/${tenantId}/api-keys/${publicKey}`,
      { label: 'Hijacked', redirectUris: 'https://attacker.example/cb', corsOrigins: '' },
    ],
    ['rotate', `/o/${tenantId}/api-keys/${publicKey}/rotate`, { grace: '0' }],
    ['revoke', `/o/${tenantId}/api-keys/${publicKey}/revoke`, {}],
  ];

  /** The target key is as it was: label, redirect URIs, private key working, nothing created. */
  async function expectTargetUntouched() {
    expect(await getKey(db(), target.key.publicKey)).toMatchObject({
      label: 'Target of refused forms',
      redirectUris: [],
      revokedAt: null,
    });
    expect((await me(target.privateKey)).statusCode).toBe(200);
    const created = await db()
      .selectFrom('api_keys')
      .select('id')
      .where('label', '=', 'Should not exist')
      .execute();
    expect(created).toEqual([]);
  }

  beforeAll(async () => {
    ctx.app.services.signInThrottle.clear();
    target = await createApiKey(db(), { tenantId: A(), label: 'Target of refused forms' }, CLI_ACTOR);
    const added = await addMember(
      db(),
      { tenantId: A(), email: 'member@a.test', password: PASSWORD, role: 'member' },
      CLI_ACTOR,
    );
    memberId = added.user.id;
    owner = await signedIn('owner@a.test');
    ownerOfB = await signedIn('owner@b.test');
    member = await signedIn('member@a.test');
  });
  beforeEach(() => ctx.app.services.signInThrottle.clear());

  describe('GET / (where the console starts)', () => {
    it('sends a signed-out visitor to sign-in, to come back to /', async () => {
      const res = await ctx.app.inject({ url: '/' });
      expect(res.statusCode).toBe(303);
      expect(res.headers.location).toBe(signInTo('/'));
    });

    it("sends an owner to their organization's API configuration", async () => {
      const res = await owner.get('/');
      expect(res.statusCode).toBe(303);
      expect(res.headers.location).toBe(`/o/${A()}/api-keys`);
    });

    it("sends an admin to their organization's API configuration", async () => {
      await addMember(
        db(),
        { tenantId: A(), email: 'admin@a.test', password: PASSWORD, role: 'admin' },
        CLI_ACTOR,
      );
      const res = await (await signedIn('admin@a.test')).get('/');
      expect(res.headers.location).toBe(`/o/${A()}/api-keys`);
    });

    it('sends a member to their account page', async () => {
      const res = await member.get('/');
      expect(res.statusCode).toBe(303);
      expect(res.headers.location).toBe('/console');
    });

    it('sends a member of one organization who administers another to the one they administer', async () => {
      await addMember(
        db(),
        { tenantId: A(), email: 'owner-b-too@a.test', password: PASSWORD, role: 'member' },
        CLI_ACTOR,
      );
      await addMember(db(), { tenantId: B(), email: 'owner-b-too@a.test', role: 'admin' }, CLI_ACTOR);
      const res = await (await signedIn('owner-b-too@a.test')).get('/');
      expect(res.headers.location).toBe(`/o/${B()}/api-keys`);
    });

    it('signs in from / and lands on the API configuration', async () => {
      const browser = new Browser(ctx.app);
      const start = await browser.get('/');
      const signInPage = await browser.get(String(start.headers.location));
      expect(signInPage.statusCode).toBe(200);
      const signIn = await browser.post('/console/sign-in', {
        ...hiddenFields(signInPage.body, '/console/sign-in'),
        email: 'owner@a.test',
        password: PASSWORD,
      });
      expect(signIn.statusCode).toBe(303);
      expect(signIn.headers.location).toBe('/');
      const home = await browser.get('/');
      expect(home.headers.location).toBe(`/o/${A()}/api-keys`);
      const page = await browser.get(String(home.headers.location));
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('<h1>API configuration</h1>');
    });
  });

  describe('sign-in and its return path', () => {
    it.each([
      ['the new-key form', () => `/o/${A()}/api-keys/new`],
      ['the filtered list', () => `/o/${A()}/api-keys?status=revoked&q=old`],
    ])('sends a signed-out visitor of %s to sign-in and back there after', async (_name, path) => {
      const browser = new Browser(ctx.app);
      const visit = await browser.get(path());
      expect(visit.statusCode).toBe(303);
      expect(visit.headers.location).toBe(signInTo(path()));
      const signIn = await browser.signIn('owner@a.test', PASSWORD, path());
      expect(signIn.statusCode).toBe(303);
      expect(signIn.headers.location).toBe(path());
      expect((await browser.get(path())).statusCode).toBe(200);
    });

    it.each([
      '//evil.example/o/1/api-keys',
      'https://evil.example/o/1/api-keys',
      '/\\evil.example/o/1/api-keys',
      '/o/1/../../\\evil.example',
      'javascript:alert(1)',
      '/o/1/api-keys\r\nLocation: https://evil.example',
      '/%2F%2Fevil.example',
    ])('refuses to return off-site to %j: back to / instead', async (returnTo) => {
      const browser = new Browser(ctx.app);
      const signIn = await browser.signIn('owner@a.test', PASSWORD, returnTo);
      expect(signIn.statusCode).toBe(303);
      expect(signIn.headers.location).toBe('/');
    });

    it("brings a form whose session ended back through sign-in to its section's page, which exists", async () => {
      const { user } = await addMember(
        db(),
        { tenantId: A(), email: 'second-owner@a.test', password: PASSWORD, role: 'owner' },
        CLI_ACTOR,
      );
      const browser = await signedIn('second-owner@a.test');
      const page = await browser.get(`/o/${A()}/api-keys/${target.key.publicKey}`);
      const token = csrfOf(page.body);
      // The session ends on the server (signed out elsewhere, or expired); the page's form is still open.
      await db().deleteFrom('sessions').where('user_id', '=', user.id).execute();
      const res = await browser.post(`/o/${A()}/api-keys/${target.key.publicKey}/rotate`, {
        csrf_token: token,
        grace: '0',
      });
      expect(res.statusCode).toBe(303);
      expect(res.headers.location).toBe(signInTo(`/o/${A()}/api-keys`));
      const signIn = await browser.signIn('second-owner@a.test', PASSWORD, `/o/${A()}/api-keys`);
      expect(signIn.headers.location).toBe(`/o/${A()}/api-keys`);
      expect((await browser.get(`/o/${A()}/api-keys`)).statusCode).toBe(200);
      await expectTargetUntouched();
    });
  });

  describe('members of the organization', () => {
    it.each([
      ['the list', () => `/o/${A()}/api-keys`],
      ['the new-key form', () => `/o/${A()}/api-keys/new`],
      ['a key page', () => `/o/${A()}/api-keys/${target.key.publicKey}`],
      ['the revoke confirmation', () => `/o/${A()}/api-keys/${target.key.publicKey}/revoke`],
    ])('get a 403 page for %s', async (_name, url) => {
      const res = await member.get(url());
      expectPage(res, 403);
      expect(res.body).toContain('Administrators only');
      expect(res.body).not.toContain(target.key.label);
    });

    it('get a 403 page for every form, with a valid CSRF token, and nothing changes', async () => {
      const token = csrfOf((await member.get('/console')).body);
      for (const [name, action, fields] of forms(A(), target.key.publicKey)) {
        const res = await member.post(action, { ...fields, csrf_token: token });
        expectPage(res, 403);
        expect(res.body, name).toContain('Administrators only');
        expect(res.body).not.toMatch(/gsk_/);
      }
      await expectTargetUntouched();
    });

    it("get 404 on the admin REST API with their own user token, even through an admin key's client", async () => {
      const { token } = await issueAccessToken(ctx.app.services, {
        client: ctx.seed.adminKeyA.key,
        userId: memberId,
        scope: 'api1',
        workspaceId: null,
      });
      const headers = { authorization: `Bearer ${token}` };
      expect((await ctx.app.inject({ url: '/me', headers })).statusCode).toBe(200);
      const list = await ctx.app.inject({ url: '/v1/api-keys', headers });
      expect(list.statusCode, list.body).toBe(404);
      const create = await ctx.app.inject({
        method: 'POST',
        url: '/v1/api-keys',
        headers,
        payload: { label: 'Should not exist' },
      });
      expect(create.statusCode, create.body).toBe(404);
      const revoke = await ctx.app.inject({
        method: 'DELETE',
        url: `/v1/api-keys/${target.key.publicKey}`,
        headers,
      });
      expect(revoke.statusCode, revoke.body).toBe(404);
      await expectTargetUntouched();
    });
  });

  describe('another organization', () => {
    it.each([
      ['the list', () => `/o/${A()}/api-keys`],
      ['the new-key form', () => `/o/${A()}/api-keys/new`],
      ['a key page', () => `/o/${A()}/api-keys/${target.key.publicKey}`],
      ['the revoke confirmation', () => `/o/${A()}/api-keys/${target.key.publicKey}/revoke`],
    ])(
      "gives B's owner a 404 page for A's %s, the same as for an organization that does not exist",
      async (_name, url) => {
        const res = await ownerOfB.get(url());
        expectPage(res, 404);
        expect(res.body).not.toContain('Tenant A');
        expect(res.body).not.toContain(target.key.label);
        const none = await ownerOfB.get(url().replace(`/o/${A()}/`, '/o/999999/'));
        expect(none.body).toBe(res.body);
      },
    );

    it.each([
      ['its page', (k: string) => `/o/${B()}/api-keys/${k}`],
      ['its revoke confirmation', (k: string) => `/o/${B()}/api-keys/${k}/revoke`],
    ])("gives B's owner a 404 page for A's key through B's own URL: %s", async (_name, url) => {
      const res = await ownerOfB.get(url(target.key.publicKey));
      expectPage(res, 404);
      expect(res.body).not.toContain(target.key.label);
      const unknown = await ownerOfB.get(url(generatePublicKey()));
      expectPage(unknown, 404);
    });

    it("gives B's owner a 404 page for every form aimed at A's key, through A's URL or B's, and nothing changes", async () => {
      const token = csrfOf((await ownerOfB.get(`/o/${B()}/api-keys`)).body);
      for (const tenantId of [A(), B()]) {
        for (const [name, action, fields] of forms(tenantId, target.key.publicKey)) {
          if (name === 'create' && tenantId === B()) continue;
          const res = await ownerOfB.post(action, { ...fields, csrf_token: token });
          expectPage(res, 404);
          expect(res.body, `${name} via ${tenantId}`).not.toContain(target.key.label);
        }
      }
      await expectTargetUntouched();
    });
  });

  describe('malformed ids', () => {
    /** Ids the routes receive and refuse: each a 404 page, the same as for what does not exist. */
    const malformed = () => [
      '/o/0/api-keys',
      '/o/-1/api-keys',
      '/o/abc/api-keys',
      '/o/01/api-keys',
      '/o/1e3/api-keys',
      '/o/99999999999999999999/api-keys',
      '/o/%E2%80%AE1/api-keys',
      `/o/${A()}%20/api-keys`,
      `/o/${A()}/api-keys/not-a-key`,
      `/o/${A()}/api-keys/gpk_short`,
      `/o/${A()}/api-keys/${target.key.publicKey}x`,
      `/o/${A()}/api-keys/${target.key.publicKey.toLowerCase()}`,
      `/o/${A()}/api-keys/${generatePublicKey()}`,
      `/o/${A()}/api-keys/${encodeURIComponent('<script>alert(1)</script>')}`,
      `/o/${A()}/api-keys/%E2%80%AE%F0%9F%98%80`,
    ];
    /** Paths the router itself refuses (a NUL, broken percent-encoding, an over-long parameter). */
    const unroutable = () => [
      '/o/%00/api-keys',
      '/o/%ZZ/api-keys',
      `/o/${A()}/api-keys/%ZZ`,
      `/o/${A()}/api-keys/gpk_%00`,
      `/o/${A()}/api-keys/${'x'.repeat(5000)}`,
      `/o/${A()}/api-keys/%2e%2e/revoke`,
    ];

    it('answers a 404 page, never a 500, to malformed organization ids and public keys', async () => {
      for (const url of malformed()) {
        const res = await owner.get(url);
        expectPage(res, 404);
        expect(res.body, url).not.toContain('<script>alert');
      }
    });

    it('answers a 404 page, never a 500, to every form aimed at malformed ids, changing nothing', async () => {
      const token = csrfOf((await owner.get(`/o/${A()}/api-keys`)).body);
      for (const url of malformed()) {
        for (const action of [url, `${url}/rotate`, `${url}/revoke`]) {
          const res = await owner.post(action, { csrf_token: token, grace: '0', label: 'Hijacked' });
          expectPage(res, 404);
        }
      }
      await expectTargetUntouched();
    });

    it('answers a 4xx, never a 500, to paths the router refuses', async () => {
      const token = csrfOf((await owner.get(`/o/${A()}/api-keys`)).body);
      for (const url of unroutable()) {
        const get = await owner.get(url);
        const post = await owner.post(`${url}/revoke`, { csrf_token: token });
        for (const res of [get, post]) {
          expect(res.statusCode, url).toBeGreaterThanOrEqual(400);
          expect(res.statusCode, url).toBeLessThan(500);
        }
      }
      await expectTargetUntouched();
    });
  });

  describe('CSRF', () => {
    it('refuses every form without a CSRF token with a 403 page, and nothing changes', async () => {
      for (const [name, action, fields] of forms(A(), target.key.publicKey)) {
        const res = await owner.post(action, fields);
        expectPage(res, 403);
        expect(res.body, name).toContain('This form has expired');
      }
      await expectTargetUntouched();
    });

    it("refuses every form with another browser's token, or from another site's origin, with a 403 page", async () => {
      const other = await signedIn('owner@a.test');
      const foreignToken = csrfOf((await other.get(`/o/${A()}/api-keys`)).body);
      const ownToken = csrfOf((await owner.get(`/o/${A()}/api-keys`)).body);
      for (const [name, action, fields] of forms(A(), target.key.publicKey)) {
        const stolen = await owner.post(action, { ...fields, csrf_token: foreignToken });
        expectPage(stolen, 403);
        const crossSite = await owner.post(
          action,
          { ...fields, csrf_token: ownToken },
          { origin: 'https://evil.example' },
        );
        expect(crossSite.statusCode, name).toBe(403);
      }
      await expectTargetUntouched();
    });
  });
});
