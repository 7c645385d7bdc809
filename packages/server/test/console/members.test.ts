import { beforeAll, describe, expect, it } from 'vitest';
import { CLI_ACTOR } from '../../src/domain/audit.ts';
import { addMember, getMember } from '../../src/domain/members.ts';
import { createTenant } from '../../src/domain/tenants.ts';
import { checkCredentials } from '../../src/domain/users.ts';
import { Browser, csrfOf, hiddenFields } from '../helpers/authorization-flow.ts';
import { postForm } from '../helpers/http.ts';
import { PASSWORD } from '../helpers/seed.ts';
import { useSeededApp } from '../helpers/seeded-app.ts';
import { describeEachDialect } from '../helpers/test-app.ts';

const XSS = '<script>alert("name")</script>';
const ESCAPED = '&lt;script&gt;alert(&quot;name&quot;)&lt;/script&gt;';
const NEW_PASSWORD = 'a passphrase chosen on the welcome page';

type Fields = Record<string, string | readonly string[]>;

/** The rows of a list page's table. */
const rowsOf = (body: string) => body.match(/<tr>\s*<td/g)?.length ?? 0;

describeEachDialect('console: members', (dialect) => {
  const ctx = useSeededApp(dialect);
  let owner: Browser;
  let base: string;

  const db = () => ctx.app.services.db;
  const tenantA = () => ctx.seed.a.tenantId;
  const auditOf = (action: string, target: string) =>
    db()
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', action)
      .where('target', '=', target)
      .execute();
  const userIdOf = async (email: string) =>
    (await db().selectFrom('users').select('id').where('email', '=', email).executeTakeFirstOrThrow()).id;
  const addWithPassword = (email: string, role: string, tenantId = tenantA(), workspaceIds?: number[]) =>
    addMember(db(), { tenantId, email, password: PASSWORD, role, workspaceIds }, CLI_ACTOR);

  async function signedIn(email: string): Promise<Browser> {
    const browser = new Browser(ctx.app);
    const res = await browser.signIn(email, PASSWORD);
    expect(res.statusCode, res.body).toBe(303);
    return browser;
  }

  /** Posts a form as a browser would, repeated fields (ticked boxes) included. */
  async function post(browser: Browser, url: string, fields: Fields) {
    const body = new URLSearchParams();
    for (const [name, value] of Object.entries(fields))
      for (const v of typeof value === 'string' ? [value] : value) body.append(name, v);
    const res = await postForm(ctx.app, url, body.toString(), browser.jar.header());
    browser.jar.store(res);
    return res;
  }

  /** Posts the form of `action` on the page at `pageUrl`, with its hidden fields. */
  async function submit(browser: Browser, pageUrl: string, action: string, fields: Fields = {}) {
    const page = await browser.get(pageUrl);
    expect(page.statusCode, page.body).toBe(200);
    return post(browser, action, { ...hiddenFields(page.body, action), ...fields });
  }

  const addForm = (browser: Browser, fields: Fields) => submit(browser, `${base}/new`, base, fields);

  beforeAll(async () => {
    owner = await signedIn('owner@a.test');
    base = `/o/${tenantA()}/members`;
    await addWithPassword('admin@a.test', 'admin');
    await addWithPassword('limited@a.test', 'member', tenantA(), [ctx.seed.a.secondWorkspaceId]);
  });

  describe('the list', () => {
    it('lists members by email with their role, workspaces and the date they were added', async () => {
      const res = await owner.get(base);
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-security-policy']).toMatch(/default-src 'none'/);
      expect(res.body).toContain('<h1>Members</h1>');
      expect(res.body).toMatch(/href="\/o\/\d+\/members" aria-current="page"/);
      const main = res.body.slice(res.body.indexOf('<main'));
      expect(main.indexOf('admin@a.test')).toBeLessThan(main.indexOf('owner@a.test'));
      expect(res.body).toContain('<span class="badge owner">Owner</span>');
      expect(res.body).toContain('<span class="badge admin">Admin</span>');
      expect(res.body).toContain('<span class="badge member">Member</span>');
      expect(res.body).toContain('<td data-label="Workspaces">Second</td>');
      expect(res.body).toContain('<td data-label="Workspaces">All workspaces</td>');
      expect(res.body).toMatch(/<td data-label="Added">\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC<\/td>/);
      expect(res.body).toContain('(you)');
      expect(res.body).not.toContain('owner@b.test');
      expect(res.body).not.toMatch(/style=|<script>/);
    });

    it('searches by name or email, and says when nothing matches', async () => {
      const res = await owner.get(`${base}?q=LIMITED`);
      expect(res.body).toContain('limited@a.test');
      expect(res.body).not.toContain('admin@a.test');
      const none = await owner.get(`${base}?q=${encodeURIComponent('<b>nobody')}`);
      expect(none.statusCode).toBe(200);
      expect(none.body).toContain('No member’s name or email contains');
      expect(none.body).toContain('&lt;b&gt;nobody');
      expect(none.body).toContain(`href="${base}">Show all members</a>`);
    });
  });

  describe('adding a member', () => {
    it('adds a new account with a one-time sign-in link, shown once on the next page, that works at /console/welcome', async () => {
      const res = await addForm(owner, {
        email: 'Invited@A.test',
        displayName: 'Invited Person',
        role: 'member',
        workspaceIds: [String(ctx.seed.a.mainWorkspaceId)],
        access: 'link',
      });
      expect(res.statusCode, res.body).toBe(303);
      const location = String(res.headers.location);
      expect(location).toMatch(new RegExp(`^${base}/\\d+\\?done=added$`));
      // The link rides in a sealed cookie, never in the URL or a body.
      expect(location).not.toContain('gsl_');
      expect(res.body).not.toContain('gsl_');

      const page = await owner.get(location);
      expect(page.statusCode).toBe(200);
      expect(page.headers['cache-control']).toBe('no-store');
      const link = /<code id="sign-in-link">([^<]+)<\/code>/.exec(page.body)?.[1];
      expect(link).toMatch(/\/console\/welcome\?token=gsl_/);
      expect(page.body).toContain('you will not see this again');
      expect(page.body).toContain(
        '<button type="button" class="copy" data-copy="sign-in-link" aria-describedby="link-title" hidden>Copy</button>',
      );
      expect(page.body).toContain('Member added.');
      expect(page.body).toContain('<h1>Invited Person</h1>');
      expect(page.body).toContain('<dt>Workspaces</dt><dd>Main</dd>');

      const reload = await owner.get(location);
      expect(reload.statusCode).toBe(200);
      expect(reload.body).not.toContain('gsl_');
      expect(reload.body).not.toContain('sign-in-link');

      const id = Number(/members\/(\d+)/.exec(location)?.[1]);
      const events = await auditOf('member.added', `user:${id}`);
      expect(events).toHaveLength(1);
      expect(JSON.parse(events[0]?.details ?? '{}')).toMatchObject({
        signInLink: true,
        created: true,
        role: 'member',
      });
      expect(events[0]?.actor).toBe(`user:${ctx.seed.a.userId}`);

      // The person opens the link in their own browser and chooses a password.
      const url = new URL(String(link).replaceAll('&amp;', '&'));
      const invited = new Browser(ctx.app);
      const welcome = await invited.get(`${url.pathname}${url.search}`);
      expect(welcome.statusCode).toBe(200);
      const done = await invited.post('/console/welcome', {
        ...hiddenFields(welcome.body, '/console/welcome'),
        password: NEW_PASSWORD,
      });
      expect(done.statusCode).toBe(303);
      expect((await checkCredentials(db(), 'invited@a.test', NEW_PASSWORD)).ok).toBe(true);
      expect((await invited.get('/console')).statusCode).toBe(200);
    });

    it('adds a new account with the password typed, and shows no link', async () => {
      const res = await addForm(owner, {
        email: 'with-password@a.test',
        role: 'admin',
        access: 'password',
        password: PASSWORD,
      });
      expect(res.statusCode, res.body).toBe(303);
      const page = await owner.get(String(res.headers.location));
      expect(page.body).toContain('Member added.');
      expect(page.body).not.toContain('gsl_');
      expect((await checkCredentials(db(), 'with-password@a.test', PASSWORD)).ok).toBe(true);
    });

    it('adds an existing account of another organization as it is: its password stays its own, no link', async () => {
      const res = await addForm(owner, {
        email: 'owner@b.test',
        role: 'member',
        access: 'password',
        password: 'an attacker-chosen password',
      });
      expect(res.statusCode).toBe(303);
      const page = await owner.get(String(res.headers.location));
      expect(page.body).toContain('Member added with the account they already had');
      expect(page.body).not.toContain('gsl_');
      expect((await checkCredentials(db(), 'owner@b.test', PASSWORD)).ok).toBe(true);
      expect((await checkCredentials(db(), 'owner@b.test', 'an attacker-chosen password')).ok).toBe(false);
    });

    it('limits only members to workspaces: boxes left ticked for an admin mean every workspace', async () => {
      const res = await addForm(owner, {
        email: 'admin-with-boxes@a.test',
        role: 'admin',
        workspaceIds: [String(ctx.seed.a.secondWorkspaceId)],
        access: 'link',
      });
      expect(res.statusCode).toBe(303);
      const member = await getMember(db(), tenantA(), await userIdOf('admin-with-boxes@a.test'));
      expect(member).toMatchObject({ role: 'admin', workspaceIds: null });
    });

    it('refuses a bad email with the error beside it, keeping everything typed but the password (400)', async () => {
      const res = await addForm(owner, {
        email: 'not an email',
        displayName: 'Typed Name',
        role: 'member',
        workspaceIds: [String(ctx.seed.a.secondWorkspaceId)],
        access: 'password',
        password: 'a typed password never echoed',
      });
      expect(res.statusCode).toBe(400);
      expect(res.body).toMatch(
        /<p class="field-error" id="email-error">Email is not an email address\.<\/p>/,
      );
      expect(res.body).toMatch(
        /id="email" name="email" type="email" value="not an email"[^>]*aria-invalid="true"/,
      );
      expect(res.body).toContain('value="Typed Name"');
      expect(res.body).toMatch(/value="member" checked/);
      expect(res.body).toContain(`value="${ctx.seed.a.secondWorkspaceId}" checked`);
      expect(res.body).toMatch(/value="password" checked/);
      expect(res.body).not.toContain('a typed password never echoed');
    });

    it('refuses a short password for a new account beside the password field (400)', async () => {
      const res = await addForm(owner, {
        email: 'short@a.test',
        role: 'member',
        access: 'password',
        password: 'short',
      });
      expect(res.statusCode).toBe(400);
      expect(res.body).toMatch(
        /<p class="field-error" id="password-error">Password must be at least 12 characters\.<\/p>/,
      );
      expect(res.body).toContain('value="short@a.test"');
      await expect(userIdOf('short@a.test')).rejects.toThrow();
    });

    it("refuses another organization's workspace beside the workspaces (400)", async () => {
      const res = await addForm(owner, {
        email: 'cross@a.test',
        role: 'member',
        workspaceIds: [String(ctx.seed.b.workspaceId)],
        access: 'link',
      });
      expect(res.statusCode).toBe(400);
      expect(res.body).toContain('id="workspaces-error"');
      expect(res.body).not.toContain('>Other<');
      await expect(userIdOf('cross@a.test')).rejects.toThrow();
    });

    it('refuses an existing member beside the email (409)', async () => {
      const res = await addForm(owner, { email: 'admin@a.test', role: 'member', access: 'link' });
      expect(res.statusCode).toBe(409);
      expect(res.body).toContain('This person is already a member of this organization.');
    });

    it('refuses a form without a valid CSRF token with a 403 page, adding nobody', async () => {
      const res = await post(owner, base, {
        email: 'forged@a.test',
        role: 'owner',
        access: 'link',
        csrf_token: 'x',
      });
      expect(res.statusCode).toBe(403);
      await expect(userIdOf('forged@a.test')).rejects.toThrow();
    });

    it('escapes a hostile name on every page that shows it', async () => {
      const res = await addForm(owner, {
        email: 'hostile@a.test',
        displayName: XSS,
        role: 'member',
        access: 'link',
      });
      expect(res.statusCode).toBe(303);
      const page = String(res.headers.location).split('?')[0] as string;
      for (const url of [page, base, `${page}/remove`]) {
        const shown = await owner.get(url);
        expect(shown.body, url).not.toContain('<script>alert');
        expect(shown.body, url).toContain(ESCAPED);
      }
    });
  });

  describe('the rules of the admin API hold in the console', () => {
    let admin: Browser;
    beforeAll(async () => {
      admin = await signedIn('admin@a.test');
    });

    it('offers an admin no owner role, and shows the refusal of a forged one beside the role (403)', async () => {
      const form = await admin.get(`${base}/new`);
      expect(form.body).not.toMatch(/name="role" value="owner"/);
      expect(form.body).toContain('Only an owner can make an owner.');
      const res = await addForm(admin, { email: 'would-be-owner@a.test', role: 'owner', access: 'link' });
      expect(res.statusCode).toBe(403);
      expect(res.body).toContain('<!doctype html>');
      expect(res.body).toMatch(
        /<p class="field-error" id="role-error">Only an owner can add an owner\.<\/p>/,
      );
      expect(res.body).toContain('value="would-be-owner@a.test"');
      await expect(userIdOf('would-be-owner@a.test')).rejects.toThrow();
    });

    it("refuses an admin's making a member an owner, on the member's page (403)", async () => {
      const limited = await userIdOf('limited@a.test');
      const page = `${base}/${limited}`;
      const res = await submit(admin, page, page, { role: 'owner' });
      expect(res.statusCode).toBe(403);
      expect(res.body).toContain('Only an owner can make an owner.');
      expect((await getMember(db(), tenantA(), limited)).role).toBe('member');
    });

    it("shows an admin an owner's page without forms, and refuses a forged removal on the confirmation page (403)", async () => {
      const page = `${base}/${ctx.seed.a.userId}`;
      const shown = await admin.get(page);
      expect(shown.statusCode).toBe(200);
      expect(shown.body).toContain('Only an owner can change or remove an owner.');
      expect(shown.body).not.toContain('Save changes');
      const res = await submit(admin, `${page}/remove`, `${page}/remove`);
      expect(res.statusCode).toBe(403);
      expect(res.body).toContain('Only an owner can remove an owner.');
      expect((await getMember(db(), tenantA(), ctx.seed.a.userId)).role).toBe('owner');
    });

    it('neither demotes nor removes the last owner, and says why on the page (409)', async () => {
      const page = `${base}/${ctx.seed.a.userId}`;
      const demoted = await submit(owner, page, page, { role: 'admin' });
      expect(demoted.statusCode).toBe(409);
      expect(demoted.body).toContain('The last owner of an organization can be neither demoted nor removed.');
      // What was typed stays selected.
      expect(demoted.body).toMatch(/value="admin" checked/);
      const removed = await submit(owner, `${page}/remove`, `${page}/remove`);
      expect(removed.statusCode).toBe(409);
      expect(removed.body).toContain('The last owner of an organization can be neither demoted nor removed.');
      expect((await getMember(db(), tenantA(), ctx.seed.a.userId)).role).toBe('owner');
      expect((await owner.get(base)).statusCode).toBe(200);
    });
  });

  describe("a member's page", () => {
    it('changes the workspaces and role of a member, and audits it', async () => {
      const id = await userIdOf('limited@a.test');
      const page = `${base}/${id}`;
      const shown = await owner.get(page);
      expect(shown.body).toContain(`value="${ctx.seed.a.secondWorkspaceId}" checked`);
      expect(shown.body).toContain('Remove member…');
      const both = [String(ctx.seed.a.mainWorkspaceId), String(ctx.seed.a.secondWorkspaceId)];
      const res = await submit(owner, page, page, { role: 'member', workspaceIds: both });
      expect(res.statusCode, res.body).toBe(303);
      expect(res.headers.location).toBe(`${page}?done=updated`);
      const after = await owner.get(String(res.headers.location));
      expect(after.body).toContain('Changes saved.');
      expect(after.body).toContain('<dt>Workspaces</dt><dd>Main, Second</dd>');
      const promoted = await submit(owner, page, page, { role: 'admin', workspaceIds: both });
      expect(promoted.statusCode).toBe(303);
      expect(await getMember(db(), tenantA(), id)).toMatchObject({ role: 'admin', workspaceIds: null });
      const events = await auditOf('member.updated', `user:${id}`);
      expect(events).toHaveLength(2);
      expect(JSON.parse(events[1]?.details ?? '{}')).toMatchObject({ role: 'admin', previousRole: 'member' });
    });

    it('refuses an unknown role beside the role, keeping the ticked workspaces (400)', async () => {
      const id = await userIdOf('with-password@a.test');
      const page = `${base}/${id}`;
      const res = await submit(owner, page, page, {
        role: 'root',
        workspaceIds: [String(ctx.seed.a.mainWorkspaceId)],
      });
      expect(res.statusCode).toBe(400);
      expect(res.body).toContain('id="role-error"');
    });

    it('removes a member after a confirmation step, ending their sessions, and audits it', async () => {
      await addWithPassword('leaving@a.test', 'member');
      const leaving = await signedIn('leaving@a.test');
      expect((await leaving.get('/console')).statusCode).toBe(200);
      const id = await userIdOf('leaving@a.test');
      const confirm = await owner.get(`${base}/${id}/remove`);
      expect(confirm.statusCode).toBe(200);
      expect(confirm.body).toContain('<h1>Remove leaving@a.test?</h1>');
      expect(confirm.body).toContain('<button type="submit" class="danger">Remove member</button>');
      expect(confirm.body).toContain(`<a class="button secondary" href="${base}/${id}">Cancel</a>`);
      const res = await post(
        owner,
        `${base}/${id}/remove`,
        hiddenFields(confirm.body, `${base}/${id}/remove`),
      );
      expect(res.statusCode).toBe(303);
      expect(res.headers.location).toBe(`${base}?done=removed`);
      const list = await owner.get(String(res.headers.location));
      expect(list.body).toContain('Member removed.');
      expect(list.body).not.toContain('leaving@a.test');
      expect((await owner.get(`${base}/${id}`)).statusCode).toBe(404);
      expect((await leaving.get('/console')).statusCode).toBe(303);
      expect(await auditOf('member.removed', `user:${id}`)).toHaveLength(1);
    });
  });

  describe('changing yourself', () => {
    let tenantId: number;
    let first: Browser;
    beforeAll(async () => {
      const tenant = await createTenant(
        db(),
        { label: 'Self', ownerEmail: 'first@self.test', ownerPassword: PASSWORD },
        CLI_ACTOR,
      );
      tenantId = tenant.tenantId;
      await addWithPassword('second@self.test', 'owner', tenantId);
      await addWithPassword('third@self.test', 'admin', tenantId);
      first = await signedIn('first@self.test');
    });

    it('an owner who demotes themselves to admin stays on their page, still an admin', async () => {
      const id = await userIdOf('first@self.test');
      const page = `/o/${tenantId}/members/${id}`;
      const shown = await first.get(page);
      expect(shown.body).toContain('This is you.');
      expect(shown.body).toContain('Remove yourself…');
      const res = await submit(first, page, page, { role: 'admin' });
      expect(res.statusCode).toBe(303);
      expect(res.headers.location).toBe(`${page}?done=updated`);
      expect((await first.get(String(res.headers.location))).statusCode).toBe(200);
    });

    it('an admin who makes themselves a member lands on their account page, and the console is closed to them', async () => {
      const third = await signedIn('third@self.test');
      const page = `/o/${tenantId}/members/${await userIdOf('third@self.test')}`;
      const res = await submit(third, page, page, { role: 'member' });
      expect(res.statusCode).toBe(303);
      expect(res.headers.location).toBe('/console');
      expect((await third.get(`/o/${tenantId}/members`)).statusCode).toBe(403);
    });

    it('someone who removes themselves is signed out and sent to sign-in', async () => {
      const id = await userIdOf('first@self.test');
      const confirm = await first.get(`/o/${tenantId}/members/${id}/remove`);
      expect(confirm.body).toContain('<h1>Remove yourself?</h1>');
      expect(confirm.body).toContain('You will be signed out');
      const res = await post(
        first,
        `/o/${tenantId}/members/${id}/remove`,
        hiddenFields(confirm.body, `/o/${tenantId}/members/${id}/remove`),
      );
      expect(res.statusCode).toBe(303);
      expect(String(res.headers.location)).toMatch(/^\/console\/sign-in\?return_to=%2F&reason=signed_out$/);
      expect((await first.get(`/o/${tenantId}/members`)).statusCode).toBe(303);
      await expect(getMember(db(), tenantId, id)).rejects.toMatchObject({ code: 'not_found' });
    });
  });

  describe('another organization', () => {
    it("answers B's member id in A's URLs with a 404 page, and changes nothing of B", async () => {
      // owner@b.test joined A above: a user of B only is made for this check.
      const onlyB = await addWithPassword('only-b@b.test', 'member', ctx.seed.b.tenantId);
      const url = `${base}/${onlyB.user.id}`;
      for (const get of [url, `${url}/remove`]) {
        const res = await owner.get(get);
        expect(res.statusCode, get).toBe(404);
        expect(res.body).toContain('There is no such member in this organization.');
        expect(res.body).not.toContain('only-b@b.test');
      }
      const csrf = csrfOf((await owner.get(base)).body);
      for (const [target, form] of [
        [url, { role: 'admin' }],
        [`${url}/remove`, {}],
      ] as const) {
        const res = await post(owner, target, { ...form, csrf_token: csrf });
        expect(res.statusCode, target).toBe(404);
      }
      expect(await getMember(db(), ctx.seed.b.tenantId, onlyB.user.id)).toMatchObject({ role: 'member' });
    });

    it("answers A's owner at B's members with a 404 page", async () => {
      expect((await owner.get(`/o/${ctx.seed.b.tenantId}/members`)).statusCode).toBe(404);
      expect((await owner.get(`/o/${ctx.seed.b.tenantId}/members/new`)).statusCode).toBe(404);
    });

    it('answers a malformed member id with a 404 page', async () => {
      for (const id of ['x', '0', '12345678901'])
        expect((await owner.get(`${base}/${id}`)).statusCode, id).toBe(404);
    });
  });

  it("answers a member (not an admin) with a 403 page on the members' pages and forms", async () => {
    await addWithPassword('just-member@a.test', 'member');
    const member = await signedIn('just-member@a.test');
    for (const url of [
      base,
      `${base}/new`,
      `${base}/${ctx.seed.a.userId}`,
      `${base}/${ctx.seed.a.userId}/remove`,
    ]) {
      const res = await member.get(url);
      expect(res.statusCode, url).toBe(403);
      expect(res.body).toContain('Administrators only');
    }
    const csrf = csrfOf((await member.get('/console')).body);
    const res = await post(member, base, {
      email: 'by-member@a.test',
      role: 'member',
      access: 'link',
      csrf_token: csrf,
    });
    expect(res.statusCode).toBe(403);
    await expect(userIdOf('by-member@a.test')).rejects.toThrow();
  });

  describe('a large organization', () => {
    let big: Browser;
    let bigBase: string;
    let tenantId: number;
    let lastWorkspace: number;

    beforeAll(async () => {
      const tenant = await createTenant(
        db(),
        { label: 'Large', ownerEmail: 'owner@large.test', ownerPassword: PASSWORD },
        CLI_ACTOR,
      );
      tenantId = tenant.tenantId;
      bigBase = `/o/${tenantId}/members`;
      const now = Date.now();
      const users = await db()
        .insertInto('users')
        .values(
          Array.from({ length: 60 }, (_, i) => ({
            email: `m${String(i).padStart(2, '0')}@large.test`,
            display_name: null,
            password_hash: 'x',
            created_at: now,
          })),
        )
        .returning('id')
        .execute();
      await db()
        .insertInto('memberships')
        .values(
          users.map((u) => ({
            tenant_id: tenantId,
            user_id: u.id,
            role: 'member' as const,
            created_at: now,
          })),
        )
        .execute();
      const rows = Array.from({ length: 1001 }, (_, i) => ({
        tenant_id: tenantId,
        label: `Space ${String(i).padStart(4, '0')}`,
        state: 'Active' as const,
        created_at: now,
      }));
      for (let i = 0; i < rows.length; i += 200)
        await db()
          .insertInto('workspaces')
          .values(rows.slice(i, i + 200))
          .execute();
      lastWorkspace = (
        await db()
          .selectFrom('workspaces')
          .select('id')
          .where('label', '=', 'Space 1000')
          .executeTakeFirstOrThrow()
      ).id;
      await db()
        .insertInto('membership_workspaces')
        .values({ tenant_id: tenantId, user_id: users[0]?.id as number, workspace_id: lastWorkspace })
        .execute();
      big = await signedIn('owner@large.test');
    });

    it('shows 50 members a page, with the count and a link to the next', async () => {
      const first = await big.get(bigBase);
      expect(rowsOf(first.body)).toBe(50);
      expect(first.body).toContain('Showing 1–50 of 61');
      expect(first.body).toContain(`href="${bigBase}?page=2" rel="next"`);
      const second = await big.get(`${bigBase}?page=2`);
      expect(rowsOf(second.body)).toBe(11);
      expect(second.body).toContain('owner@large.test');
    });

    it('lists the first 1,000 workspaces by name in a scrolling box, plus those a member already has', async () => {
      const started = performance.now();
      const form = await big.get(`${bigBase}/new`);
      expect(performance.now() - started).toBeLessThan(2000);
      expect(form.body.match(/type="checkbox" name="workspaceIds"/g)).toHaveLength(1000);
      expect(form.body).toContain('class="workspace-choices scrolls"');
      expect(form.body).toContain('The first 1,000 workspaces by name are listed.');
      expect(form.body).not.toContain('Space 1000');
      const m00 = await userIdOf('m00@large.test');
      const page = await big.get(`${bigBase}/${m00}`);
      expect(page.body).toContain(`value="${lastWorkspace}" checked`);
      expect(page.body).toContain('<dt>Workspaces</dt><dd>Space 1000</dd>');
      const list = await big.get(bigBase);
      expect(list.body).toContain('<td data-label="Workspaces">Space 1000</td>');
    });

    it('refuses more than 1,000 workspaces at once beside the workspaces (400)', async () => {
      const ids = Array.from({ length: 1001 }, (_, i) => String(i + 1));
      const res = await submit(big, `${bigBase}/new`, bigBase, {
        email: 'many@large.test',
        role: 'member',
        workspaceIds: ids,
        access: 'link',
      });
      expect(res.statusCode).toBe(400);
      expect(res.body).toContain('Choose at most 1,000 workspaces');
    });
  });
});
