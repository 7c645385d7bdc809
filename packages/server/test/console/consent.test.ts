import { beforeAll, expect, it } from 'vitest';
import { createApiKey, type IssuedApiKey } from '../../src/domain/api-keys.ts';
import { CLI_ACTOR } from '../../src/domain/audit.ts';
import { addMember } from '../../src/domain/members.ts';
import { CSRF_FIELD } from '../../src/http/session/csrf.ts';
import { Browser, hiddenFields, tokenRequest } from '../helpers/authorization-flow.ts';
import { eventually } from '../helpers/http.ts';
import { PASSWORD } from '../helpers/seed.ts';
import { useSeededApp } from '../helpers/seeded-app.ts';
import { describeEachDialect } from '../helpers/test-app.ts';

const REDIRECT = 'https://app.example/callback';
const XSS_LABEL = '<script>alert("label")</script><img src=x onerror=alert(1)>';

describeEachDialect('consent page, decision and revocation', (dialect) => {
  const ctx = useSeededApp(dialect);
  let evil: IssuedApiKey;
  let issuer: string;

  beforeAll(async () => {
    issuer = ctx.app.services.config.issuer;
    evil = await createApiKey(
      ctx.app.services.db,
      { tenantId: ctx.seed.a.tenantId, label: XSS_LABEL, redirectUris: [REDIRECT] },
      CLI_ACTOR,
    );
  });

  const query = (extra: Record<string, string> = {}) => ({
    response_type: 'code',
    client_id: ctx.seed.orgKeyA.key.publicKey,
    redirect_uri: REDIRECT,
    scope: 'api1 offline_access',
    state: 'st',
    prompt: 'consent',
    ...extra,
  });

  async function consentPage(extra: Record<string, string> = {}, email = 'owner@a.test') {
    const browser = new Browser(ctx.app);
    await browser.signIn(email, PASSWORD);
    const page = await browser.get(`/connect/authorize?${new URLSearchParams(query(extra))}`);
    expect(page.statusCode).toBe(200);
    return { browser, page };
  }

  it('names the app, the organization, the workspaces and what each scope means', async () => {
    const { page } = await consentPage();
    expect(page.body).toContain('A org key');
    expect(page.body).toContain('Tenant A');
    expect(page.body).toContain('All workspaces of Tenant A');
    expect(page.body).toContain('owner@a.test');
    expect(page.body).toContain('Use the Gatehouse API as you');
    expect(page.body).toContain('Stay connected');
    expect(page.body).toContain('app.example');
    expect(page.body).toMatch(
      /<button type="submit" name="decision" value="allow" class="primary">Allow<\/button>/,
    );
    expect(page.body).toMatch(/<button type="submit" name="decision" value="deny">Deny<\/button>/);
  });

  it('lists the workspaces of a member limited to some', async () => {
    await addMember(
      ctx.app.services.db,
      {
        tenantId: ctx.seed.a.tenantId,
        email: 'limited@a.test',
        password: PASSWORD,
        role: 'member',
        workspaceIds: [ctx.seed.a.secondWorkspaceId],
      },
      CLI_ACTOR,
    );
    const { page } = await consentPage({}, 'limited@a.test');
    expect(page.body).toContain('<li>Second</li>');
    expect(page.body).not.toContain('<li>Main</li>');
  });

  it('escapes a key label full of markup on the consent, sign-in and account pages (XSS)', async () => {
    const { browser, page } = await consentPage({ client_id: evil.key.publicKey });
    const signIn = await ctx.app.inject({
      url: `/console/sign-in?${new URLSearchParams({
        return_to: `/connect/authorize?${new URLSearchParams(query({ client_id: evil.key.publicKey }))}`,
      })}`,
    });
    await browser.post('/console/consent', {
      ...hiddenFields(page.body, '/console/consent'),
      decision: 'allow',
    });
    const account = await browser.get('/console');
    for (const body of [page.body, signIn.body, account.body]) {
      expect(body).toContain(
        '&lt;script&gt;alert(&quot;label&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;',
      );
      expect(body).not.toContain('<script');
      expect(body).not.toContain('<img');
    }
  });

  it('allows the client redirect origin, and only it, in the consent page form-action', async () => {
    const { page } = await consentPage();
    expect(page.headers['content-security-policy']).toBe(
      "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self' https://app.example; frame-ancestors 'none'; base-uri 'none'",
    );
  });

  it('Allow redirects with code, state and iss, remembers the consent, and audits it', async () => {
    const { browser, page } = await consentPage();
    const res = await browser.post('/console/consent', {
      ...hiddenFields(page.body, '/console/consent'),
      decision: 'allow',
    });
    expect(res.statusCode).toBe(303);
    const location = new URL(String(res.headers.location));
    expect(location.searchParams.get('code')).toMatch(/^gac_/);
    expect(location.searchParams.get('state')).toBe('st');
    expect(location.searchParams.get('iss')).toBe(issuer);
    const audit = await ctx.app.services.db
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', 'consent.granted')
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    expect(audit).toMatchObject({
      tenant_id: ctx.seed.a.tenantId,
      actor: `user:${ctx.seed.a.userId}`,
      target: ctx.seed.orgKeyA.key.publicKey,
    });
  });

  it('Deny redirects with error=access_denied, state and iss, and remembers nothing', async () => {
    const key = await createApiKey(
      ctx.app.services.db,
      { tenantId: ctx.seed.a.tenantId, label: 'Denied app', redirectUris: [REDIRECT] },
      CLI_ACTOR,
    );
    const { browser, page } = await consentPage({ client_id: key.key.publicKey });
    const res = await browser.post('/console/consent', {
      ...hiddenFields(page.body, '/console/consent'),
      decision: 'deny',
    });
    const location = new URL(String(res.headers.location));
    expect(Object.fromEntries(location.searchParams)).toEqual({
      error: 'access_denied',
      error_description: 'the user denied the request',
      state: 'st',
      iss: issuer,
    });
    const consents = await ctx.app.services.db
      .selectFrom('consents')
      .where('api_key_id', '=', key.key.id)
      .selectAll()
      .execute();
    expect(consents).toEqual([]);
  });

  it('refuses a decision without a valid CSRF token with a 403 page and issues no code', async () => {
    const { browser, page } = await consentPage();
    const fields = hiddenFields(page.body, '/console/consent');
    for (const token of [undefined, 'forged', `${fields[CSRF_FIELD]}x`]) {
      const form: Record<string, string> = { ...fields, decision: 'allow' };
      if (token === undefined) delete form[CSRF_FIELD];
      else form[CSRF_FIELD] = token;
      const res = await browser.post('/console/consent', form);
      expect(res.statusCode).toBe(403);
      expect(res.headers.location).toBeUndefined();
    }
    // A valid token of another browser's session does not work either.
    const other = await consentPage();
    const stolen = {
      ...fields,
      [CSRF_FIELD]: hiddenFields(other.page.body, '/console/consent')[CSRF_FIELD] as string,
    };
    expect((await browser.post('/console/consent', { ...stolen, decision: 'allow' })).statusCode).toBe(403);
  });

  it('validates a tampered decision form like a new request: never a redirect to an unregistered URI', async () => {
    const { browser, page } = await consentPage();
    const fields = hiddenFields(page.body, '/console/consent');
    const evilRedirect = await browser.post('/console/consent', {
      ...fields,
      redirect_uri: 'https://evil.example/callback',
      decision: 'allow',
    });
    expect(evilRedirect.statusCode).toBe(400);
    expect(evilRedirect.headers.location).toBeUndefined();
    const otherTenant = await browser.post('/console/consent', {
      ...fields,
      client_id: ctx.seed.orgKeyB.key.publicKey,
      decision: 'allow',
    });
    expect(otherTenant.statusCode).toBe(400);
    expect(otherTenant.headers.location).toBeUndefined();
    const widened = await browser.post('/console/consent', {
      ...fields,
      scope: 'api1 admin',
      decision: 'allow',
    });
    expect(new URL(String(widened.headers.location)).searchParams.get('error')).toBe('invalid_scope');
  });

  it('refuses a decision posted without a session: back to the sign-in page', async () => {
    const { page } = await consentPage();
    const stranger = new Browser(ctx.app);
    await stranger.get('/console/sign-in');
    const res = await stranger.post('/console/consent', {
      ...hiddenFields(page.body, '/console/consent'),
      decision: 'allow',
    });
    expect([303, 403]).toContain(res.statusCode);
    expect(String(res.headers.location ?? '')).not.toContain('code=');
  });

  it('revokes a consent from the account page: refresh and access tokens die, and it is audited', async () => {
    const browser = new Browser(ctx.app);
    await browser.signIn('owner@a.test', PASSWORD);
    const { location } = await browser.authorize(query());
    const tokens = (
      await tokenRequest(
        ctx.app,
        { publicKey: ctx.seed.orgKeyA.key.publicKey, privateKey: ctx.seed.orgKeyA.privateKey },
        {
          grant_type: 'authorization_code',
          code: location?.searchParams.get('code') as string,
          redirect_uri: REDIRECT,
        },
      )
    ).json();
    const account = await browser.get('/console');
    const action = `/console/consents/${ctx.seed.orgKeyA.key.publicKey}/revoke`;
    expect(account.body).toContain(action);
    const res = await browser.post(action, hiddenFields(account.body, action));
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/console');
    const refreshed = await tokenRequest(
      ctx.app,
      { publicKey: ctx.seed.orgKeyA.key.publicKey, privateKey: ctx.seed.orgKeyA.privateKey },
      {
        grant_type: 'refresh_token',
        refresh_token: tokens.refresh_token,
      },
    );
    expect(refreshed.json().error).toBe('invalid_grant');
    const me = () =>
      ctx.app.inject({ url: '/me', headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(await eventually(async () => (await me()).statusCode === 401)).toBe(true);
    const again = await browser.get(`/connect/authorize?${new URLSearchParams(query({ prompt: 'none' }))}`);
    expect(new URL(String(again.headers.location)).searchParams.get('error')).toBe('consent_required');
    const audit = await ctx.app.services.db
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', 'consent.revoked')
      .execute();
    expect(audit.at(-1)).toMatchObject({
      actor: `user:${ctx.seed.a.userId}`,
      target: ctx.seed.orgKeyA.key.publicKey,
    });
  });

  it('revokes with DELETE and an X-CSRF-Token header, and refuses it without one', async () => {
    const browser = new Browser(ctx.app);
    await browser.signIn('owner@a.test', PASSWORD);
    await browser.authorize(query());
    const account = await browser.get('/console');
    const token = hiddenFields(account.body, '/console/sign-out')[CSRF_FIELD] as string;
    const url = `/console/consents/${ctx.seed.orgKeyA.key.publicKey}`;
    const del = (headers: Record<string, string>) =>
      ctx.app.inject({ method: 'DELETE', url, headers: { ...browser.jar.header(), ...headers } });
    expect((await del({})).statusCode).toBe(403);
    expect((await del({ 'x-csrf-token': token })).statusCode).toBe(204);
    expect((await del({ 'x-csrf-token': token })).statusCode).toBe(404);
    const bogus = await ctx.app.inject({
      method: 'DELETE',
      url: '/console/consents/not-a-key',
      headers: { ...browser.jar.header(), 'x-csrf-token': token },
    });
    expect(bogus.statusCode).toBe(404);
  });

  it('cannot revoke another user’s consent: revocation acts on the signed-in user only', async () => {
    const owner = new Browser(ctx.app);
    await owner.signIn('owner@a.test', PASSWORD);
    await owner.authorize(query());
    const other = new Browser(ctx.app);
    await other.signIn('owner@b.test', PASSWORD);
    const page = await other.get('/console');
    const token = hiddenFields(page.body, '/console/sign-out')[CSRF_FIELD] as string;
    const res = await ctx.app.inject({
      method: 'DELETE',
      url: `/console/consents/${ctx.seed.orgKeyA.key.publicKey}`,
      headers: { ...other.jar.header(), 'x-csrf-token': token },
    });
    expect(res.statusCode).toBe(404);
    const none = await owner.get(`/connect/authorize?${new URLSearchParams(query({ prompt: 'none' }))}`);
    expect(new URL(String(none.headers.location)).searchParams.get('code')).toMatch(/^gac_/);
  });
});
