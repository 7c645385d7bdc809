import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createApiKey,
  findClientKey,
  getKey,
  recordKeyUse,
  revokeApiKey,
} from '../../src/domain/api-keys.ts';
import { CLI_ACTOR } from '../../src/domain/audit.ts';
import { readTenantAuditLog } from '../../src/domain/audit-log.ts';
import { addMember } from '../../src/domain/members.ts';
import { createTenant } from '../../src/domain/tenants.ts';
import { createWorkspace } from '../../src/domain/workspaces.ts';
import { Browser, hiddenFields } from '../helpers/authorization-flow.ts';
import { wait } from '../helpers/http.ts';
import { PASSWORD } from '../helpers/seed.ts';
import { useSeededApp } from '../helpers/seeded-app.ts';
import { tamperLast } from '../helpers/tamper.ts';
import { describeEachDialect } from '../helpers/test-app.ts';

const PRIVATE_KEY = /gsk_[0-9A-Za-z]{49}/;
const PUBLIC_KEY = /gpk_[0-9A-Za-z]{24}/;
const HOSTILE = '<script>alert("label")</script><img src=x onerror=alert(1)>';

const ENTITIES: Record<string, string> = {
  '&amp;': '&',
  '&lt;': '<',
  '&gt;': '>',
  '&quot;': '"',
  '&#39;': "'",
  '&#96;': '`',
};
/** Markup as the person reads it: tags dropped, entities decoded, spaces collapsed. */
const textOf = (markup: string) =>
  markup
    .replace(/<[^>]*>/g, ' ')
    .replace(/&(amp|lt|gt|quot|#39|#96);/g, (e) => ENTITIES[e] ?? e)
    .replace(/\s+/g, ' ')
    .trim();

/** The error shown beside a field (`<p class="field-error" id="{name}-error">`), as text. */
function fieldError(page: string, name: string): string | undefined {
  const match = new RegExp(`<p class="field-error" id="${name}-error">([^<]*)</p>`).exec(page);
  return match?.[1] === undefined ? undefined : textOf(match[1]);
}

/** The text inside a text box, as the browser shows it. */
function textareaValue(page: string, name: string): string | undefined {
  const match = new RegExp(`<textarea id="${name}"[^>]*>([^<]*)</textarea>`).exec(page);
  return match?.[1] === undefined
    ? undefined
    : textOf(match[1].replace(/\n/g, '&#10;')).replace(/&#10;/g, '\n');
}

function inputValue(page: string, name: string): string | undefined {
  const match = new RegExp(`<input id="${name}" name="${name}"[^>]*value="([^"]*)"`).exec(page);
  return match?.[1] === undefined ? undefined : textOf(match[1]);
}

/** The rows of the page's key table: each cell's text by its `data-label`, and the row's markup. */
function rowsOf(page: string): { cells: Record<string, string>; markup: string }[] {
  const body = /<tbody>([\s\S]*?)<\/tbody>/.exec(page)?.[1] ?? '';
  return [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map(([, markup = '']) => ({
    markup,
    cells: Object.fromEntries(
      [...markup.matchAll(/<td data-label="([^"]+)">([\s\S]*?)<\/td>/g)].map(([, label = '', cell = '']) => [
        label,
        textOf(cell),
      ]),
    ),
  }));
}

const labelsOf = (page: string) => rowsOf(page).map((r) => r.cells.Label);

describeEachDialect('console: API configuration pages', (dialect) => {
  const ctx = useSeededApp(dialect);
  let owner: Browser;
  let admin: Browser;
  let adminId: number;
  const db = () => ctx.app.services.db;
  const tenantA = () => ctx.seed.a.tenantId;
  const keysOf = (tenantId = tenantA()) => `/o/${tenantId}/api-keys`;

  async function signedIn(email: string): Promise<Browser> {
    const browser = new Browser(ctx.app);
    const res = await browser.signIn(email, PASSWORD);
    expect(res.statusCode, res.body).toBe(303);
    return browser;
  }

  /** Posts the form of `action` found on `page`, with its hidden fields (the CSRF token), as a browser does. */
  async function submit(browser: Browser, page: string, action: string, fields: Record<string, string>) {
    const form = await browser.get(page);
    expect(form.statusCode, form.body.slice(0, 500)).toBe(200);
    return browser.post(action, { ...hiddenFields(form.body, action), ...fields });
  }

  /** The new-key form, filled in and sent. */
  function createKey(browser: Browser, fields: Record<string, string>, tenantId = tenantA()) {
    return submit(browser, `${keysOf(tenantId)}/new`, keysOf(tenantId), {
      label: 'A console key',
      clientType: 'confidential',
      scope: '',
      permissions: 'write',
      redirectUris: '',
      postLogoutRedirectUris: '',
      corsOrigins: '',
      idTokenSignedResponseAlg: 'RS256',
      expiresOn: '',
      ...fields,
    });
  }

  /** Creates a key through the console and reads its private key off the page it is shown on, once. */
  async function createAndReveal(browser: Browser, fields: Record<string, string>, tenantId = tenantA()) {
    const res = await createKey(browser, fields, tenantId);
    expect(res.statusCode, res.body.slice(0, 1000)).toBe(303);
    const location = String(res.headers.location);
    const publicKey = PUBLIC_KEY.exec(location)?.[0] as string;
    expect(location).toBe(`${keysOf(tenantId)}/${publicKey}`);
    const page = await browser.get(location);
    expect(page.statusCode).toBe(200);
    const privateKey = PRIVATE_KEY.exec(page.body)?.[0] as string;
    expect(privateKey).toBeDefined();
    return { publicKey, privateKey, page, created: res };
  }

  const me = (privateKey: string) => ctx.app.inject({ url: '/me', headers: { 'x-api-key': privateKey } });

  const auditOf = async (action: string, target: string, tenantId = tenantA()) =>
    (await readTenantAuditLog(db(), tenantId, { page: 1, size: 100 }, { action })).items.filter(
      (e) => e.target === target,
    );

  /** An organization of its own (A's owner owns it too), for a test that needs to know every key in it. */
  async function freshOrganization(label: string) {
    const created = await createTenant(
      db(),
      { label, ownerEmail: 'owner@a.test', ownerPassword: PASSWORD, workspace: 'Reports' },
      CLI_ACTOR,
    );
    return { tenantId: created.tenantId, workspaceId: created.workspaceId as number };
  }

  beforeAll(async () => {
    ctx.app.services.signInThrottle.clear();
    owner = await signedIn('owner@a.test');
    const added = await addMember(
      db(),
      { tenantId: tenantA(), email: 'admin@a.test', password: PASSWORD, role: 'admin' },
      CLI_ACTOR,
    );
    adminId = added.user.id;
    admin = await signedIn('admin@a.test');
  });
  beforeEach(() => ctx.app.services.signInThrottle.clear());

  describe('the list', () => {
    it('shows each key with its label, public key, scope name, permissions, last 4, creator, last use, expiry and status badge', async () => {
      const org = await freshOrganization('Listing org');
      const made = await createAndReveal(
        owner,
        {
          label: 'Reporting dashboard',
          scope: String(org.workspaceId),
          permissions: 'read',
          expiresOn: '2099-12-31',
        },
        org.tenantId,
      );
      const key = await getKey(db(), made.publicKey);
      await recordKeyUse(db(), new Map([[key.id, Date.parse('2030-01-02T03:04:00Z')]]));
      const whole = await createApiKey(
        db(),
        { tenantId: org.tenantId, label: 'Billing sync', permissions: 'admin' },
        CLI_ACTOR,
      );

      const res = await owner.get(keysOf(org.tenantId));
      expect(res.statusCode).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      const rows = rowsOf(res.body);
      // Newest first.
      expect(rows.map((r) => r.cells.Label)).toEqual(['Billing sync', 'Reporting dashboard']);
      const [billing, reporting] = rows;
      expect(reporting?.cells).toMatchObject({
        Label: 'Reporting dashboard',
        Scope: 'Reports',
        Permissions: 'Read',
        'Private key': `…${made.privateKey.slice(-4)}`,
        'Last used': '2030-01-02 03:04 UTC',
        Expires: '2099-12-31 00:00 UTC',
        Status: 'Active',
      });
      expect(reporting?.cells['Public key']).toContain(made.publicKey);
      expect(reporting?.cells.Created).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d UTC by owner@a\.test$/);
      expect(reporting?.markup).toContain(`href="${keysOf(org.tenantId)}/${made.publicKey}"`);
      expect(reporting?.markup).toContain('<span class="badge active">Active</span>');
      expect(billing?.cells).toMatchObject({
        Scope: 'Whole organization',
        Permissions: 'Admin',
        'Last used': 'Never',
        Expires: 'Never',
        'Private key': `…${whole.privateKey.slice(-4)}`,
      });
      expect(billing?.cells.Created).toMatch(/ by cli$/);
      // Never a private key on the list.
      expect(res.body).not.toMatch(PRIVATE_KEY);
    });

    it('filters by status (active, revoked, expired) and searches labels, keeping the filters in the form', async () => {
      const org = await freshOrganization('Filtering org');
      const key = (label: string, extra: { expiresInMs?: number } = {}) =>
        createApiKey(db(), { tenantId: org.tenantId, label, ...extra }, CLI_ACTOR);
      await key('Live reporting key');
      const gone = await key('Old integration');
      await revokeApiKey(db(), gone.key.publicKey, CLI_ACTOR);
      await key('Trial key', { expiresInMs: 1 });
      await wait(5);

      const list = (query: string) => owner.get(`${keysOf(org.tenantId)}${query}`);
      expect(labelsOf((await list('')).body)).toEqual(['Trial key', 'Old integration', 'Live reporting key']);
      expect(labelsOf((await list('?status=active')).body)).toEqual(['Live reporting key']);
      expect(labelsOf((await list('?status=revoked')).body)).toEqual(['Old integration']);
      const expired = await list('?status=expired');
      expect(labelsOf(expired.body)).toEqual(['Trial key']);
      expect(expired.body).toContain('<span class="badge expired">Expired</span>');
      expect(expired.body).toContain('<option value="expired" selected>');
      expect(rowsOf((await list('?status=revoked')).body)[0]?.markup).toContain(
        '<span class="badge revoked">Revoked</span>',
      );
      const searched = await list('?q=REPORTING');
      expect(labelsOf(searched.body)).toEqual(['Live reporting key']);
      expect(inputValue(searched.body, 'q')).toBe('REPORTING');
      // An unknown status is no filter at all, not an error.
      expect(labelsOf((await list('?status=bogus')).body)).toHaveLength(3);
      const none = await list('?q=nothing-like-this');
      expect(none.statusCode).toBe(200);
      expect(textOf(none.body)).toContain('No key matches these filters.');
      expect(none.body).not.toContain('No API keys yet');
    });

    it('pages 60 keys by 50, newest first, with the filters kept in the pager links', async () => {
      const org = await freshOrganization('Paging org');
      for (let i = 1; i <= 60; i++)
        await createApiKey(
          db(),
          { tenantId: org.tenantId, label: `Bulk key ${String(i).padStart(2, '0')}` },
          CLI_ACTOR,
        );

      const first = await owner.get(`${keysOf(org.tenantId)}?q=bulk`);
      const firstLabels = labelsOf(first.body);
      expect(firstLabels).toHaveLength(50);
      expect(firstLabels[0]).toBe('Bulk key 60');
      expect(textOf(first.body)).toContain('Showing 1–50 of 60');
      expect(first.body).toContain(`href="${keysOf(org.tenantId)}?q=bulk&amp;page=2" rel="next"`);
      expect(first.body).not.toContain('rel="prev"');

      const second = await owner.get(`${keysOf(org.tenantId)}?q=bulk&page=2`);
      const secondLabels = labelsOf(second.body);
      expect(secondLabels).toHaveLength(10);
      expect(secondLabels.at(-1)).toBe('Bulk key 01');
      expect(textOf(second.body)).toContain('Showing 51–60 of 60');
      expect(second.body).toContain(`href="${keysOf(org.tenantId)}?q=bulk" rel="prev"`);
      expect(new Set([...firstLabels, ...secondLabels]).size).toBe(60);
      // A page past the end or a nonsense page number is a page, never an error.
      expect((await owner.get(`${keysOf(org.tenantId)}?page=99`)).statusCode).toBe(200);
      expect(labelsOf((await owner.get(`${keysOf(org.tenantId)}?page=-1`)).body)).toHaveLength(50);
    });

    it('shows an empty state that offers to create the first key, and no filters, to an organization without keys', async () => {
      const org = await freshOrganization('Empty org');
      const res = await owner.get(keysOf(org.tenantId));
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain('<div class="empty"><h2>No API keys yet</h2>');
      expect(res.body).toContain(`href="${keysOf(org.tenantId)}/new">Create an API key</a>`);
      expect(res.body).not.toContain('<table');
      expect(res.body).not.toContain('role="search"');
    });
  });

  describe('creating a key', () => {
    it('creates a key with every field set, audited with the signed-in owner as actor', async () => {
      const made = await createAndReveal(owner, {
        label: 'Mobile app',
        scope: String(ctx.seed.a.secondWorkspaceId),
        permissions: 'read',
        redirectUris: 'https://mobile.example/callback\r\n\r\nhttp://127.0.0.1:8080/cb\r\n',
        corsOrigins: 'https://mobile.example\nhttps://admin.mobile.example',
        expiresOn: '2099-06-30',
      });
      expect(await getKey(db(), made.publicKey)).toMatchObject({
        tenantId: tenantA(),
        label: 'Mobile app',
        workspaceId: ctx.seed.a.secondWorkspaceId,
        permissions: 'read',
        redirectUris: ['https://mobile.example/callback', 'http://127.0.0.1:8080/cb'],
        corsOrigins: ['https://mobile.example', 'https://admin.mobile.example'],
        expiresAt: Date.parse('2099-06-30T00:00:00Z'),
        createdBy: `user:${ctx.seed.a.userId}`,
      });
      const page = textOf(made.page.body);
      expect(page).toContain('Scope Second');
      expect(page).toContain('Permissions Read');
      expect(page).toContain('Expires 2099-06-30 00:00 UTC');
      const [event] = await auditOf('api_key.created', made.publicKey);
      expect(event).toMatchObject({ actor: `user:${ctx.seed.a.userId}`, ip: '127.0.0.1' });
      expect(event?.details).toMatchObject({
        workspaceId: ctx.seed.a.secondWorkspaceId,
        permissions: 'read',
      });
    });

    it('re-renders the form with 400 and an error beside each wrong field, naming every wrong line, with everything typed kept', async () => {
      const before = await readTenantAuditLog(
        db(),
        tenantA(),
        { page: 1, size: 1 },
        { action: 'api_key.created' },
      );
      const typed = {
        label: '   ',
        redirectUris: 'https://ok.example/cb\nftp://files.example/cb\nhttps://app.example/cb#fragment',
        corsOrigins: 'https://ok.example\nhttps://app.example/path',
        expiresOn: '31/12/2099',
        permissions: 'read',
      };
      const res = await createKey(owner, typed);
      expect(res.statusCode).toBe(400);
      expect(res.body).toContain('role="alert" id="form-errors">Check the 4 fields marked below.');
      expect(fieldError(res.body, 'label')).toMatch(/^Label must be 1 to 200 characters/);
      expect(fieldError(res.body, 'redirectUris')).toBe(
        'Line 2: redirect URI must use https (http only on loopback): ftp://files.example/cb ' +
          'Line 3: redirect URI must not have a fragment: https://app.example/cb#fragment',
      );
      expect(fieldError(res.body, 'corsOrigins')).toBe(
        'Line 2: CORS origin must be scheme://host[:port] without path or slash: https://app.example/path',
      );
      expect(fieldError(res.body, 'expiresOn')).toBe('Give a date as YYYY-MM-DD.');
      expect(res.body).toContain('aria-describedby="redirectUris-hint redirectUris-error"');
      expect(res.body).toMatch(/<textarea id="redirectUris"[^>]*aria-invalid="true"/);
      expect(textareaValue(res.body, 'redirectUris')).toBe(typed.redirectUris);
      expect(textareaValue(res.body, 'corsOrigins')).toBe(typed.corsOrigins);
      expect(inputValue(res.body, 'expiresOn')).toBe(typed.expiresOn);
      expect(res.body).toContain('<input type="radio" name="permissions" value="read" checked>');
      const after = await readTenantAuditLog(
        db(),
        tenantA(),
        { page: 1, size: 1 },
        { action: 'api_key.created' },
      );
      expect(after.total).toBe(before.total);
    });

    it('keeps a typed label and names the past expiry beside its field (the domain check)', async () => {
      const res = await createKey(owner, { label: 'Expired already', expiresOn: '2001-01-01' });
      expect(res.statusCode).toBe(400);
      expect(fieldError(res.body, 'expiresOn')).toBe('Expiry must be in the future');
      expect(inputValue(res.body, 'label')).toBe('Expired already');
    });

    it.each(['2099-02-30', '2099-13-01', '31/12/2099', '2099-1-1'])(
      'refuses %j as expiry date beside its field rather than roll it over to another day',
      async (expiresOn) => {
        const res = await createKey(owner, { label: 'Odd date', expiresOn });
        expect(res.statusCode).toBe(400);
        expect(fieldError(res.body, 'expiresOn')).toBe('Give a date as YYYY-MM-DD.');
        expect(inputValue(res.body, 'expiresOn')).toBe(expiresOn);
      },
    );

    it("refuses another organization's workspace as scope beside the scope field, creating nothing", async () => {
      const res = await createKey(owner, {
        label: 'Cross-tenant scope',
        scope: String(ctx.seed.b.workspaceId),
      });
      expect(res.statusCode).toBe(400);
      expect(fieldError(res.body, 'scope')).toBeDefined();
      expect(textOf(res.body)).not.toContain('Other');
      const list = await owner.get(`${keysOf()}?q=Cross-tenant`);
      expect(labelsOf(list.body)).toEqual([]);
    });

    it('makes a workspace key that reaches its workspace only', async () => {
      const { privateKey } = await createAndReveal(owner, {
        label: 'Second workspace only',
        scope: String(ctx.seed.a.secondWorkspaceId),
      });
      const inside = await ctx.app.inject({
        url: `/v1/workspaces/${ctx.seed.a.secondWorkspaceId}`,
        headers: { 'x-api-key': privateKey },
      });
      expect(inside.statusCode, inside.body).toBe(200);
      const outside = await ctx.app.inject({
        url: `/v1/workspaces/${ctx.seed.a.mainWorkspaceId}`,
        headers: { 'x-api-key': privateKey },
      });
      expect(outside.statusCode, outside.body).toBe(404);
    });

    it('offers admin permissions to an owner, who creates an admin key', async () => {
      const form = await owner.get(`${keysOf()}/new`);
      expect(form.body).toContain('name="permissions" value="admin"');
      const { privateKey } = await createAndReveal(owner, {
        label: 'Owner-made admin key',
        permissions: 'admin',
      });
      expect((await me(privateKey)).json()).toMatchObject({ permissions: 'admin' });
    });

    it('neither offers an admin admin permissions nor lets one forge them: 403 with the reason beside the field', async () => {
      const form = await admin.get(`${keysOf()}/new`);
      expect(form.statusCode).toBe(200);
      expect(form.body).not.toContain('value="admin"');
      const res = await createKey(admin, { label: 'Forged admin key', permissions: 'admin' });
      expect(res.statusCode).toBe(403);
      expect(fieldError(res.body, 'permissions')).toBe('only an owner creates admin keys');
      expect(inputValue(res.body, 'label')).toBe('Forged admin key');
      expect(res.body).not.toMatch(PRIVATE_KEY);
      expect(labelsOf((await owner.get(`${keysOf()}?q=Forged`)).body)).toEqual([]);
    });

    it('lets an admin create a write key, audited with the admin as actor', async () => {
      const made = await createAndReveal(admin, { label: 'Admin-made write key', permissions: 'write' });
      expect((await me(made.privateKey)).statusCode).toBe(200);
      expect((await auditOf('api_key.created', made.publicKey))[0]?.actor).toBe(`user:${adminId}`);
    });
  });

  describe('the private key, shown once', () => {
    it('shows the private key on the first visit after creating, never in a URL, never cached, and never again', async () => {
      const res = await createKey(owner, { label: 'Shown once' });
      expect(res.statusCode).toBe(303);
      const location = String(res.headers.location);
      expect(location).not.toMatch(/gsk_/);
      expect(res.body).not.toMatch(PRIVATE_KEY);
      const reveal = [res.headers['set-cookie']]
        .flat()
        .find((c) => String(c).startsWith('gatehouse-reveal='));
      expect(reveal).toMatch(/; HttpOnly; SameSite=Lax$/);

      const first = await owner.get(location);
      expect(first.statusCode).toBe(200);
      expect(first.headers['cache-control']).toBe('no-store');
      const privateKey = PRIVATE_KEY.exec(first.body)?.[0] as string;
      expect(first.body).toContain(`<code id="private-key">${privateKey}</code>`);
      expect(first.body).toContain('Copy it now: you will not see this again.');
      expect(first.body).toContain('data-copy="private-key"');
      // Sealed: the cookie that carried it does not contain it.
      expect(String(reveal)).not.toContain(privateKey);
      expect(String(reveal)).not.toContain(privateKey.slice(4));
      expect(first.body).toContain(`…${privateKey.slice(-4)}`);

      const second = await owner.get(location);
      expect(second.statusCode).toBe(200);
      expect(second.body).not.toMatch(PRIVATE_KEY);
      expect(second.body).not.toContain('Your private key');
    });

    it('gives a private key that works as X-API-Key on /me at once', async () => {
      const { publicKey, privateKey } = await createAndReveal(owner, { label: 'Works at once' });
      const res = await me(privateKey);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({
        apiKey: { publicKey, label: 'Works at once' },
        permissions: 'write',
      });
    });

    it("does not open one user's reveal cookie for another user, for another key's page, or once tampered with", async () => {
      const res = await createKey(owner, { label: 'Sealed for its page' });
      const page = String(res.headers.location);
      const sealed = owner.jar.cookies.get('gatehouse-reveal') as string;
      expect(sealed).toBeDefined();

      // Another user of the same organization, with the owner's cookie: nothing shown, nothing spent.
      const thief = await signedIn('admin@a.test');
      thief.jar.cookies.set('gatehouse-reveal', sealed);
      const stolen = await thief.get(page);
      expect(stolen.statusCode).toBe(200);
      expect(stolen.body).not.toMatch(PRIVATE_KEY);

      // The owner on another key's page: nothing shown there, and the cookie is kept for its own page.
      const elsewhere = await owner.get(`${keysOf()}/${ctx.seed.orgKeyA.key.publicKey}`);
      expect(elsewhere.body).not.toMatch(PRIVATE_KEY);
      expect(owner.jar.cookies.get('gatehouse-reveal')).toBe(sealed);

      // Tampered with: no secret, no error.
      owner.jar.cookies.set('gatehouse-reveal', tamperLast(sealed));
      const tampered = await owner.get(page);
      expect(tampered.statusCode).toBe(200);
      expect(tampered.body).not.toMatch(PRIVATE_KEY);
      owner.jar.cookies.set('gatehouse-reveal', 'not-a-sealed-value');
      expect((await owner.get(page)).statusCode).toBe(200);

      // The genuine cookie, on its own page, for its own user: shown.
      owner.jar.cookies.set('gatehouse-reveal', sealed);
      expect((await owner.get(page)).body).toMatch(PRIVATE_KEY);
    });
  });

  describe('settings', () => {
    const authorize = (client: string, redirectUri: string) =>
      ctx.app.inject({
        url: `/connect/authorize?${new URLSearchParams({
          response_type: 'code',
          client_id: client,
          redirect_uri: redirectUri,
          scope: 'api1',
          state: 'settings-test',
        })}`,
      });

    it('applies a changed redirect URL at once: /connect/authorize accepts the new one and refuses the old one', async () => {
      const { publicKey } = await createAndReveal(owner, {
        label: 'Redirecting app',
        redirectUris: 'https://old.example/callback',
      });
      expect((await authorize(publicKey, 'https://old.example/callback')).statusCode).toBe(303);
      const keyPage = `${keysOf()}/${publicKey}`;
      const res = await submit(owner, keyPage, keyPage, {
        label: 'Redirecting app',
        redirectUris: 'https://new.example/callback',
        corsOrigins: 'https://new.example',
      });
      expect(res.statusCode, res.body.slice(0, 500)).toBe(303);
      expect(res.headers.location).toBe(`${keyPage}?done=updated`);
      const saved = await owner.get(String(res.headers.location));
      expect(saved.body).toContain(
        '<p class="notice" role="status">Saved. The new settings apply at once.</p>',
      );
      expect(textareaValue(saved.body, 'redirectUris')).toBe('https://new.example/callback');
      // The page's authorization example names the new redirect URI, its placeholders readable.
      expect(textOf(saved.body)).toContain(
        `client_id=${publicKey}&redirect_uri=https%3A%2F%2Fnew.example%2Fcallback&scope=api1+offline_access&state=<random>&code_challenge=<base64url(sha256(verifier))>`,
      );

      const accepted = await authorize(publicKey, 'https://new.example/callback');
      expect(accepted.statusCode, accepted.body.slice(0, 300)).toBe(303);
      expect(String(accepted.headers.location)).toMatch(/^\/console\/sign-in\?/);
      const refused = await authorize(publicKey, 'https://old.example/callback');
      expect(refused.statusCode).toBe(400);
      expect(refused.headers.location).toBeUndefined();
      expect(textOf(refused.body)).toContain('The redirect URI is not registered for this application.');

      const [event] = await auditOf('api_key.updated', publicKey);
      expect(event).toMatchObject({ actor: `user:${ctx.seed.a.userId}` });
    });

    it('re-renders the key page with 400, the error beside the field and the typed text kept, changing nothing', async () => {
      const { publicKey } = await createAndReveal(owner, {
        label: 'Kept settings',
        redirectUris: 'https://kept.example/cb',
      });
      const keyPage = `${keysOf()}/${publicKey}`;
      const typed = 'https://kept.example/cb\nnot a url at all';
      const res = await submit(owner, keyPage, keyPage, {
        label: 'Renamed?',
        redirectUris: typed,
        corsOrigins: '',
      });
      expect(res.statusCode).toBe(400);
      expect(fieldError(res.body, 'redirectUris')).toBe(
        'Line 2: redirect URI is not an absolute URL: not a url at all',
      );
      expect(textareaValue(res.body, 'redirectUris')).toBe(typed);
      expect(inputValue(res.body, 'label')).toBe('Renamed?');
      expect(await getKey(db(), publicKey)).toMatchObject({
        label: 'Kept settings',
        redirectUris: ['https://kept.example/cb'],
      });
    });

    it('keeps an admin from changing an admin key (only an owner may): the reason on the page, nothing changed', async () => {
      const keyPage = `${keysOf()}/${ctx.seed.adminKeyA.key.publicKey}`;
      const res = await submit(admin, keyPage, keyPage, {
        label: 'Taken over',
        redirectUris: 'https://attacker.example/cb',
        corsOrigins: '',
      });
      expect(res.statusCode).toBe(403);
      expect(fieldError(res.body, 'label')).toBe('only an owner can change an admin key');
      expect(await getKey(db(), ctx.seed.adminKeyA.key.publicKey)).toMatchObject({
        label: 'A admin key',
        redirectUris: [],
      });
    });
  });

  describe('public clients and OpenID Connect settings (issue 14)', () => {
    const LOGOUT = 'https://spa.example/signed-out';

    /** A public client made through the form: it is answered with its page, no secret to carry. */
    async function createPublic(fields: Record<string, string> = {}) {
      const res = await createKey(owner, {
        label: 'Single-page app',
        clientType: 'public',
        redirectUris: 'https://spa.example/callback',
        ...fields,
      });
      expect(res.statusCode, res.body.slice(0, 1000)).toBe(303);
      const location = String(res.headers.location);
      const publicKey = PUBLIC_KEY.exec(location)?.[0] as string;
      expect(location).toBe(`${keysOf()}/${publicKey}?done=created`);
      return { publicKey, location, created: res, keyPage: `${keysOf()}/${publicKey}` };
    }

    it('offers the client type as two explained choices, post-logout redirect URLs beside the redirect URLs, and the ID token algorithm', async () => {
      const form = await owner.get(`${keysOf()}/new`);
      expect(form.statusCode).toBe(200);
      const text = textOf(form.body);
      expect(form.body).toContain('<input type="radio" name="clientType" value="confidential" checked>');
      expect(form.body).toContain('<input type="radio" name="clientType" value="public">');
      expect(text).toContain('Confidential A server that can keep a private key.');
      expect(text).toContain('Public A single-page or native app; no private key, PKCE required.');
      expect(textareaValue(form.body, 'postLogoutRedirectUris')).toBe('');
      expect(form.body.indexOf('id="redirectUris"')).toBeLessThan(
        form.body.indexOf('id="postLogoutRedirectUris"'),
      );
      expect(form.body).toContain('<label for="postLogoutRedirectUris">Post-logout redirect URLs</label>');
      expect(form.body).toMatch(/<select id="idTokenSignedResponseAlg"[^>]*><option value="RS256" selected>/);
      expect(form.body).toContain('<option value="ES256">');
    });

    it('creates a public client: no private key is shown or carried, the page says why and shows the PKCE flow with client_id only', async () => {
      const { publicKey, location, created, keyPage } = await createPublic({
        postLogoutRedirectUris: LOGOUT,
      });
      // Nothing to reveal: no sealed secret rides along.
      expect([created.headers['set-cookie']].flat().join('\n')).not.toContain('gatehouse-reveal=');
      const found = await findClientKey(db(), publicKey);
      expect(found?.key).toMatchObject({ clientType: 'public', postLogoutRedirectUris: [LOGOUT] });
      expect(found?.secrets).toEqual([]);

      const page = await owner.get(location);
      expect(page.statusCode).toBe(200);
      expect(page.body).not.toMatch(/gsk_/);
      expect(page.body).not.toContain('id="private-key"');
      const text = textOf(page.body);
      expect(text).toContain('This public client has no private key');
      expect(text).toContain('authorization code flow and PKCE (S256)');
      expect(text).toContain('Client type Public');
      expect(text).toContain('Private key None: a public client has no private key');
      expect(text).toContain(`Post-logout redirect URLs ${LOGOUT}`);
      expect(text).toContain('ID token algorithm RS256');
      // The example: the code flow with PKCE, the code exchanged with the client_id and the verifier only.
      expect(text).toContain(`client_id=${publicKey}&redirect_uri=https%3A%2F%2Fspa.example%2Fcallback`);
      expect(text).toContain('code_challenge_method=S256');
      expect(text).toContain('-d grant_type=authorization_code');
      expect(text).toContain(`-d client_id=${publicKey}`);
      expect(text).toContain("-d 'code_verifier=<verifier>'");
      expect(text).not.toContain('X-API-Key:');
      expect(text).not.toContain('client_credentials');
      expect(text).not.toContain('Authorization: Basic');
      // Nothing to rotate.
      expect(page.body).not.toContain(`action="${keyPage}/rotate"`);
      expect(page.body).not.toContain('Rotate the private key');
      // Later visits keep the facts and the example, without the creation notice.
      const later = await owner.get(keyPage);
      expect(textOf(later.body)).not.toContain('This public client has no private key');
      expect(textOf(later.body)).toContain('Client type Public');
      expect(textOf(later.body)).toContain("-d 'code_verifier=<verifier>'");
      expect((await auditOf('api_key.created', publicKey))[0]?.details).toMatchObject({
        clientType: 'public',
      });
    });

    it('marks a public client on the list with a Public badge and no private key', async () => {
      const org = await freshOrganization('Public clients org');
      await createKey(owner, { label: 'Server app' }, org.tenantId);
      const made = await createKey(owner, { label: 'Browser app', clientType: 'public' }, org.tenantId);
      expect(made.statusCode).toBe(303);
      const rows = rowsOf((await owner.get(keysOf(org.tenantId))).body);
      const [browser, server] = rows;
      expect(browser?.cells).toMatchObject({ Label: 'Browser app Public', 'Private key': 'None' });
      expect(browser?.markup).toContain(
        '<span class="badge neutral" title="A public client: no private key">Public</span>',
      );
      expect(server?.cells.Label).toBe('Server app');
      expect(server?.cells['Private key']).toMatch(/^…[0-9A-Za-z]{4}$/);
    });

    it('creates a confidential key with post-logout redirect URLs and ES256 ID tokens, its private key shown once', async () => {
      const made = await createAndReveal(owner, {
        label: 'OpenID web app',
        postLogoutRedirectUris: `${LOGOUT}\r\n\r\nhttp://127.0.0.1:3000/bye\r\n`,
        idTokenSignedResponseAlg: 'ES256',
      });
      expect(await getKey(db(), made.publicKey)).toMatchObject({
        clientType: 'confidential',
        postLogoutRedirectUris: [LOGOUT, 'http://127.0.0.1:3000/bye'],
        idTokenSignedResponseAlg: 'ES256',
      });
      const text = textOf(made.page.body);
      expect(text).toContain('Client type Confidential');
      expect(text).toContain('ID token algorithm ES256');
      expect(text).toContain('X-API-Key:');
      expect(made.page.body).toContain(`action="${keysOf()}/${made.publicKey}/rotate"`);
    });

    it('re-renders the new-key form with 400 naming a wrong post-logout line, an unknown client type and an HMAC ID token algorithm, creating nothing', async () => {
      const typed = 'https://spa.example/bye\nftp://spa.example/bye';
      const res = await createKey(owner, {
        label: 'Wrong OpenID settings',
        clientType: 'secret',
        postLogoutRedirectUris: typed,
        idTokenSignedResponseAlg: 'HS256',
      });
      expect(res.statusCode).toBe(400);
      expect(res.body).toContain('role="alert" id="form-errors">Check the 3 fields marked below.');
      expect(fieldError(res.body, 'postLogoutRedirectUris')).toBe(
        'Line 2: redirect URI must use https (http only on loopback): ftp://spa.example/bye',
      );
      expect(fieldError(res.body, 'clientType')).toBe('Choose a client type.');
      expect(fieldError(res.body, 'idTokenSignedResponseAlg')).toBe(
        'Choose an ID token algorithm from the list.',
      );
      expect(textareaValue(res.body, 'postLogoutRedirectUris')).toBe(typed);
      expect(res.body).toMatch(/<textarea id="postLogoutRedirectUris"[^>]*aria-invalid="true"/);
      expect(labelsOf((await owner.get(`${keysOf()}?q=Wrong OpenID`)).body)).toEqual([]);
    });

    it('keeps the chosen client type when the form comes back with errors', async () => {
      const res = await createKey(owner, { label: '   ', clientType: 'public' });
      expect(res.statusCode).toBe(400);
      expect(res.body).toContain('<input type="radio" name="clientType" value="public" checked>');
    });

    it('edits post-logout redirect URLs and the ID token algorithm in the settings, at once and audited', async () => {
      const { publicKey, keyPage } = await createPublic({
        label: 'Editable SPA',
        postLogoutRedirectUris: LOGOUT,
      });
      const settings = await owner.get(keyPage);
      expect(textareaValue(settings.body, 'postLogoutRedirectUris')).toBe(LOGOUT);
      const res = await submit(owner, keyPage, keyPage, {
        label: 'Editable SPA',
        redirectUris: 'https://spa.example/callback',
        corsOrigins: 'https://spa.example',
        postLogoutRedirectUris: 'https://spa.example/goodbye\nhttp://localhost:5173/bye',
        idTokenSignedResponseAlg: 'ES256',
      });
      expect(res.statusCode, res.body.slice(0, 500)).toBe(303);
      expect(res.headers.location).toBe(`${keyPage}?done=updated`);
      expect(await getKey(db(), publicKey)).toMatchObject({
        clientType: 'public',
        postLogoutRedirectUris: ['https://spa.example/goodbye', 'http://localhost:5173/bye'],
        idTokenSignedResponseAlg: 'ES256',
        corsOrigins: ['https://spa.example'],
      });
      const saved = await owner.get(String(res.headers.location));
      expect(textareaValue(saved.body, 'postLogoutRedirectUris')).toBe(
        'https://spa.example/goodbye\nhttp://localhost:5173/bye',
      );
      expect(saved.body).toContain('<option value="ES256" selected>');
      expect(textOf(saved.body)).toContain('ID token algorithm ES256');
      const [event] = await auditOf('api_key.updated', publicKey);
      expect(event?.details).toMatchObject({
        fields: expect.arrayContaining(['postLogoutRedirectUris', 'idTokenSignedResponseAlg']),
      });
    });

    it('names a wrong post-logout line and an unknown ID token algorithm beside their fields in the settings, changing nothing', async () => {
      const { publicKey, keyPage } = await createPublic({
        label: 'Kept SPA',
        postLogoutRedirectUris: LOGOUT,
      });
      const typed = `${LOGOUT}\nnot a url`;
      const res = await submit(owner, keyPage, keyPage, {
        label: 'Kept SPA, renamed?',
        redirectUris: 'https://spa.example/callback',
        corsOrigins: '',
        postLogoutRedirectUris: typed,
        idTokenSignedResponseAlg: 'none',
      });
      expect(res.statusCode).toBe(400);
      expect(fieldError(res.body, 'postLogoutRedirectUris')).toBe(
        'Line 2: redirect URI is not an absolute URL: not a url',
      );
      expect(fieldError(res.body, 'idTokenSignedResponseAlg')).toBe(
        'Choose an ID token algorithm from the list.',
      );
      expect(textareaValue(res.body, 'postLogoutRedirectUris')).toBe(typed);
      expect(await getKey(db(), publicKey)).toMatchObject({
        label: 'Kept SPA',
        postLogoutRedirectUris: [LOGOUT],
        idTokenSignedResponseAlg: 'RS256',
      });
    });

    it('keeps the post-logout redirect URLs and the ID token algorithm of a settings form that does not send them', async () => {
      const made = await createAndReveal(owner, {
        label: 'Older form',
        postLogoutRedirectUris: LOGOUT,
        idTokenSignedResponseAlg: 'ES256',
      });
      const keyPage = `${keysOf()}/${made.publicKey}`;
      const res = await submit(owner, keyPage, keyPage, {
        label: 'Older form, renamed',
        redirectUris: '',
        corsOrigins: '',
      });
      expect(res.statusCode, res.body.slice(0, 500)).toBe(303);
      expect(await getKey(db(), made.publicKey)).toMatchObject({
        label: 'Older form, renamed',
        postLogoutRedirectUris: [LOGOUT],
        idTokenSignedResponseAlg: 'ES256',
      });
    });

    it('refuses a rotation of a public client posted by hand: 409 with the reason, nothing issued', async () => {
      const { publicKey, keyPage } = await createPublic({ label: 'Unrotatable SPA' });
      const form = await owner.get(keyPage);
      const res = await owner.post(`${keyPage}/rotate`, { ...hiddenFields(form.body, keyPage), grace: '0' });
      expect(res.statusCode).toBe(409);
      expect(res.body).toContain('is a public client: it has no private key</p>');
      expect(res.body).not.toMatch(/gsk_/);
      expect((await findClientKey(db(), publicKey))?.secrets).toEqual([]);
      expect(await auditOf('api_key.rotated', publicKey)).toEqual([]);
    });
  });

  describe('rotation', () => {
    it.each([
      ['0', false],
      ['900', true],
      ['3600', true],
      ['86400', true],
    ])(
      'rotates with a grace of %s seconds: the new private key works, the old one %s',
      async (grace, oldWorks) => {
        const made = await createAndReveal(owner, { label: `Rotated with grace ${grace}` });
        const keyPage = `${keysOf()}/${made.publicKey}`;
        const res = await submit(owner, keyPage, `${keyPage}/rotate`, { grace });
        expect(res.statusCode, res.body.slice(0, 500)).toBe(303);
        expect(res.headers.location).toBe(keyPage);
        const shown = await owner.get(keyPage);
        expect(shown.body).toContain('Your new private key');
        const rotated = PRIVATE_KEY.exec(shown.body)?.[0] as string;
        expect(rotated).not.toBe(made.privateKey);
        expect(shown.body).toContain(`…${rotated.slice(-4)}`);
        expect((await owner.get(keyPage)).body).not.toMatch(PRIVATE_KEY);

        expect((await me(rotated)).statusCode).toBe(200);
        expect((await me(made.privateKey)).statusCode).toBe(oldWorks ? 200 : 401);
        const [event] = await auditOf('api_key.rotated', made.publicKey);
        expect(event).toMatchObject({
          actor: `user:${ctx.seed.a.userId}`,
          details: { graceMs: Number(grace) * 1000 },
        });
      },
    );

    it('refuses a grace period that is not offered, issuing nothing', async () => {
      const made = await createAndReveal(owner, { label: 'Odd grace' });
      const keyPage = `${keysOf()}/${made.publicKey}`;
      const res = await submit(owner, keyPage, `${keyPage}/rotate`, { grace: '31536000' });
      expect(res.statusCode).toBe(400);
      expect(textOf(res.body)).toContain('Choose a grace period from the list.');
      expect(res.body).not.toMatch(PRIVATE_KEY);
      expect(await auditOf('api_key.rotated', made.publicKey)).toEqual([]);
      expect((await me(made.privateKey)).statusCode).toBe(200);
    });

    it('keeps an admin from rotating an admin key (only an owner may): the reason on the page, the key unchanged', async () => {
      const keyPage = `${keysOf()}/${ctx.seed.adminKeyA.key.publicKey}`;
      const res = await submit(admin, keyPage, `${keyPage}/rotate`, { grace: '0' });
      expect(res.statusCode).toBe(403);
      expect(res.body).toContain('<p class="error" role="alert">only an owner can rotate an admin key</p>');
      expect(res.body).not.toMatch(PRIVATE_KEY);
      expect((await me(ctx.seed.adminKeyA.privateKey)).statusCode).toBe(200);
      expect(await auditOf('api_key.rotated', ctx.seed.adminKeyA.key.publicKey)).toEqual([]);
    });
  });

  describe('revocation', () => {
    it('asks for confirmation, then revokes at once: the key gets 401, audited with the user as actor', async () => {
      const made = await createAndReveal(owner, { label: 'Soon revoked' });
      const keyPage = `${keysOf()}/${made.publicKey}`;
      const confirmation = await owner.get(`${keyPage}/revoke`);
      expect(confirmation.statusCode).toBe(200);
      expect(textOf(confirmation.body)).toContain('Revoke “Soon revoked”?');
      expect(confirmation.body).toContain('<button type="submit" class="danger">Revoke key</button>');
      // Seeing the confirmation changes nothing.
      expect((await me(made.privateKey)).statusCode).toBe(200);

      const res = await owner.post(`${keyPage}/revoke`, hiddenFields(confirmation.body, `${keyPage}/revoke`));
      expect(res.statusCode).toBe(303);
      expect(res.headers.location).toBe(`${keysOf()}?done=revoked`);
      const refused = await me(made.privateKey);
      expect(refused.statusCode).toBe(401);
      expect(refused.json()).toMatchObject({ detail: 'the API key is revoked' });

      const list = await owner.get(String(res.headers.location));
      expect(list.body).toContain(
        '<p class="notice" role="status">The key is revoked. It no longer works anywhere.</p>',
      );
      const [event] = await auditOf('api_key.revoked', made.publicKey);
      expect(event).toMatchObject({ actor: `user:${ctx.seed.a.userId}`, ip: '127.0.0.1' });

      // Its page says so and offers nothing more to change; asking to revoke again leads back to it.
      const page = await owner.get(keyPage);
      expect(page.body).toContain('<span class="badge revoked">Revoked</span>');
      expect(page.body).not.toContain(`action="${keyPage}/rotate"`);
      expect(page.body).not.toContain(`action="${keyPage}"`);
      const again = await owner.get(`${keyPage}/revoke`);
      expect(again.statusCode).toBe(303);
      expect(again.headers.location).toBe(keyPage);
    });

    it('refuses to rotate or edit a revoked key on its page, saying why', async () => {
      const made = await createAndReveal(owner, { label: 'Revoked, then rotated' });
      const keyPage = `${keysOf()}/${made.publicKey}`;
      const form = await owner.get(keyPage);
      await revokeApiKey(db(), made.publicKey, CLI_ACTOR);
      const rotate = await owner.post(`${keyPage}/rotate`, {
        ...hiddenFields(form.body, `${keyPage}/rotate`),
        grace: '0',
      });
      expect(rotate.statusCode).toBe(409);
      expect(rotate.body).not.toMatch(PRIVATE_KEY);
      const edit = await owner.post(keyPage, {
        ...hiddenFields(form.body, keyPage),
        label: 'Revived?',
        redirectUris: '',
        corsOrigins: '',
      });
      expect(edit.statusCode).toBe(409);
      expect((await getKey(db(), made.publicKey)).label).toBe('Revoked, then rotated');
    });
  });

  describe('hostile labels', () => {
    it('escapes a key label on the list, the key page, the confirmation and the form that re-renders it', async () => {
      const made = await createAndReveal(owner, { label: HOSTILE });
      const keyPage = `${keysOf()}/${made.publicKey}`;
      const pages = [
        made.page,
        await owner.get(keyPage),
        await owner.get(`${keysOf()}?q=${encodeURIComponent('<script>')}`),
        await owner.get(`${keyPage}/revoke`),
        await submit(owner, keyPage, keyPage, {
          label: HOSTILE,
          redirectUris: 'javascript:alert(1)',
          corsOrigins: '',
        }),
      ];
      for (const page of pages) {
        expect(page.body).not.toContain('<script>alert');
        expect(page.body).not.toContain('<img src=x');
        expect(page.body).toContain('&lt;script&gt;alert(&quot;label&quot;)&lt;/script&gt;');
        expect(page.body).not.toMatch(/<script(?! src="\/console\/static\/console\.js")/);
      }
    });

    it('escapes a hostile organization label in the frame of its pages', async () => {
      const org = await freshOrganization('<b>Evil & Co</b>');
      const res = await owner.get(keysOf(org.tenantId));
      expect(res.body).not.toContain('<b>Evil');
      expect(res.body).toContain('&lt;b&gt;Evil &amp; Co&lt;/b&gt;');
    });
  });

  it("names a workspace key's scope by the workspace's label on its page and on the list", async () => {
    const ws = await createWorkspace(db(), tenantA(), 'Named workspace', CLI_ACTOR);
    const made = await createAndReveal(owner, { label: 'Scoped by name', scope: String(ws.id) });
    expect(textOf(made.page.body)).toContain('Scope Named workspace');
    expect((await owner.get(`${keysOf()}?q=Scoped`)).body).toContain(
      '<td data-label="Scope">Named workspace</td>',
    );
  });
});
