import { beforeEach, expect, it } from 'vitest';
import { CLI_ACTOR } from '../../src/domain/audit.ts';
import { addMember, removeMember } from '../../src/domain/members.ts';
import { checkCredentials } from '../../src/domain/users.ts';
import { CSRF_FIELD } from '../../src/http/session/csrf.ts';
import type { Role } from '../../src/model/types.ts';
import { Browser, csrfOf, hiddenFields } from '../helpers/authorization-flow.ts';
import { PASSWORD } from '../helpers/seed.ts';
import { useSeededApp } from '../helpers/seeded-app.ts';
import { describeEachDialect } from '../helpers/test-app.ts';

const NEW_PASSWORD = 'a brand new passphrase, long enough';
const SESSION = 'gatehouse-session';

describeEachDialect('console: account page', (dialect) => {
  const ctx = useSeededApp(dialect);
  beforeEach(() => ctx.app.services.signInThrottle.clear());

  /** A fresh account with PASSWORD, a member of each organization given with its role. */
  async function account(email: string, memberships: { tenantId: number; role: Role }[]) {
    const { db } = ctx.app.services;
    let userId = 0;
    for (const { tenantId, role } of memberships) {
      const added = await addMember(db, { tenantId, email, password: PASSWORD, role }, CLI_ACTOR);
      userId = added.user.id;
    }
    return userId;
  }

  async function signedIn(email: string, password = PASSWORD) {
    const browser = new Browser(ctx.app);
    const res = await browser.signIn(email, password);
    expect(res.statusCode, res.body).toBe(303);
    return browser;
  }

  /** Posts one of the account page's forms as the browser would, from the page it just loaded. */
  async function submit(browser: Browser, action: string, form: Record<string, string>) {
    const page = await browser.get('/console');
    expect(page.statusCode).toBe(200);
    return browser.post(action, { ...hiddenFields(page.body, action), ...form });
  }

  const auditOf = (userId: number, action: string) =>
    ctx.app.services.db
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', action)
      .where('target', '=', `user:${userId}`)
      .orderBy('id')
      .execute();

  const A = () => ctx.seed.a.tenantId;
  const B = () => ctx.seed.b.tenantId;

  it('shows any signed-in user their organizations, linking the API configuration of those they administer', async () => {
    await account('two-orgs@a.test', [
      { tenantId: A(), role: 'member' },
      { tenantId: B(), role: 'admin' },
    ]);
    const browser = await signedIn('two-orgs@a.test');
    const res = await browser.get('/console');
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).not.toMatch(/<script|\sstyle=|\son[a-z]+=/i);
    expect(res.body).toContain('<h1>Your account</h1>');
    expect(res.body.match(/<h1/g)).toHaveLength(1);
    expect(res.body).toContain(`href="/o/${B()}/api-keys"`);
    expect(res.body).not.toContain(`href="/o/${A()}/api-keys"`);
    expect(res.body).toMatch(/Tenant A<\/strong> <span class="badge neutral">Member<\/span>/);
    expect(res.body).toMatch(/Tenant B<\/strong> <span class="badge neutral">Admin<\/span>/);
    expect(res.body).toContain('None yet.');
  });

  it('changes the display name, and audits it in each organization of the user, without the name', async () => {
    const userId = await account('named@a.test', [
      { tenantId: A(), role: 'member' },
      { tenantId: B(), role: 'member' },
    ]);
    const browser = await signedIn('named@a.test');
    const res = await submit(browser, '/console/profile', { display_name: '  Ada Lovelace  ' });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/console?done=name');
    const page = await browser.get(res.headers.location as string);
    expect(page.body).toContain('<p class="notice" role="status">Your display name is saved.</p>');
    expect(page.body).toContain('value="Ada Lovelace"');
    const events = await auditOf(userId, 'user.updated');
    expect(events.map((e) => e.tenant_id).sort()).toEqual([A(), B()].sort());
    for (const event of events) {
      expect(event).toMatchObject({ actor: `user:${userId}`, ip: '127.0.0.1' });
      expect(JSON.parse(event.details ?? '{}')).toEqual({ changed: ['displayName'] });
      expect(JSON.stringify(event)).not.toContain('Lovelace');
    }
    // The same name again changes nothing and writes nothing.
    await submit(browser, '/console/profile', { display_name: 'Ada Lovelace' });
    expect(await auditOf(userId, 'user.updated')).toHaveLength(2);
    // Empty clears it.
    await submit(browser, '/console/profile', { display_name: '' });
    const user = await ctx.app.services.db
      .selectFrom('users')
      .select('display_name')
      .where('id', '=', userId)
      .executeTakeFirstOrThrow();
    expect(user.display_name).toBeNull();
  });

  it.each([
    ['too long', `<b>${'x'.repeat(200)}`, 'Display name must be 1 to 200 characters.'],
    ['with a control character', 'Bell\u0007<i>', 'Display name must not contain control characters.'],
  ])(
    'refuses a name %s with a 400 beside the field, keeping what was typed (escaped)',
    async (_what, typed, message) => {
      const userId = await account(`refused-${typed.length}@a.test`, [{ tenantId: A(), role: 'member' }]);
      const browser = await signedIn(`refused-${typed.length}@a.test`);
      const res = await submit(browser, '/console/profile', { display_name: typed });
      expect(res.statusCode).toBe(400);
      expect(res.body).toContain(`<p class="field-error" id="display_name-error">${message}</p>`);
      expect(res.body).toContain(
        'aria-invalid="true" aria-describedby="display_name-hint display_name-error"',
      );
      const escaped = typed.replace(/</g, '&lt;').replace(/>/g, '&gt;');
      expect(res.body).toContain(`value="${escaped}"`);
      expect(res.body).not.toMatch(/<b>x|<i>/);
      expect(await auditOf(userId, 'user.updated')).toHaveLength(0);
    },
  );

  it('escapes a hostile display name on the account page and in the console’s top bar (XSS)', async () => {
    await account('hostile@a.test', [{ tenantId: A(), role: 'admin' }]);
    const browser = await signedIn('hostile@a.test');
    const hostile = '<script>alert("name")</script>';
    expect((await submit(browser, '/console/profile', { display_name: hostile })).statusCode).toBe(303);
    for (const url of ['/console', `/o/${A()}/audit`]) {
      const page = await browser.get(url);
      expect(page.statusCode, url).toBe(200);
      expect(page.body).toContain('&lt;script&gt;alert(&quot;name&quot;)&lt;/script&gt;');
      expect(page.body).not.toContain('<script>alert');
    }
  });

  it('refuses the name form without a valid CSRF token, changing nothing', async () => {
    const userId = await account('csrf-name@a.test', [{ tenantId: A(), role: 'member' }]);
    const browser = await signedIn('csrf-name@a.test');
    const bare = await browser.post('/console/profile', { display_name: 'Forged' });
    expect(bare.statusCode).toBe(403);
    const other = new Browser(ctx.app);
    const stolen = csrfOf((await other.get('/console/sign-in')).body);
    const foreign = await browser.post('/console/profile', { [CSRF_FIELD]: stolen, display_name: 'Forged' });
    expect(foreign.statusCode).toBe(403);
    const page = await browser.get('/console');
    const token = hiddenFields(page.body, '/console/profile')[CSRF_FIELD] as string;
    const crossSite = await browser.post(
      '/console/profile',
      { [CSRF_FIELD]: token, display_name: 'Cross-site' },
      { origin: 'https://evil.example' },
    );
    expect(crossSite.statusCode).toBe(403);
    const after = await browser.get('/console');
    expect(after.body).not.toContain('Cross-site');
    expect(after.body).not.toContain('Forged');
    expect(await auditOf(userId, 'user.updated')).toHaveLength(0);
  });

  it('sends a signed-out form to the sign-in page', async () => {
    const stranger = new Browser(ctx.app);
    const token = csrfOf((await stranger.get('/console/sign-in')).body);
    for (const action of ['/console/profile', '/console/password']) {
      const res = await stranger.post(action, { [CSRF_FIELD]: token, display_name: 'x' });
      expect(res.statusCode).toBe(303);
      expect(String(res.headers.location)).toMatch(/^\/console\/sign-in\?return_to=%2Fconsole/);
    }
  });

  it('refuses a wrong current password beside its field, audits it, and changes nothing', async () => {
    const userId = await account('wrong@a.test', [{ tenantId: A(), role: 'member' }]);
    const browser = await signedIn('wrong@a.test');
    const res = await submit(browser, '/console/password', {
      current_password: 'not my password at all',
      new_password: NEW_PASSWORD,
      confirm_password: NEW_PASSWORD,
    });
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain(
      '<p class="field-error" id="current_password-error">Your current password is not correct.</p>',
    );
    expect(res.body).not.toContain(NEW_PASSWORD);
    expect(res.body).not.toContain('not my password at all');
    const [failed] = await auditOf(userId, 'login.failed');
    expect(failed).toMatchObject({ tenant_id: A(), actor: `user:${userId}` });
    expect(JSON.parse(failed?.details ?? '{}')).toEqual({ reason: 'wrong_current_password' });
    expect((await checkCredentials(ctx.app.services.db, 'wrong@a.test', PASSWORD)).ok).toBe(true);
    expect((await browser.get('/console')).statusCode).toBe(200);
  });

  it.each([
    [
      'a new password shorter than the policy',
      { current_password: PASSWORD, new_password: 'short', confirm_password: 'short' },
      'new_password',
      'Password must be at least 12 characters.',
    ],
    [
      'a confirmation that differs',
      { current_password: PASSWORD, new_password: NEW_PASSWORD, confirm_password: `${NEW_PASSWORD}!` },
      'confirm_password',
      'The two new passwords do not match.',
    ],
    [
      'the current password again',
      { current_password: PASSWORD, new_password: PASSWORD, confirm_password: PASSWORD },
      'new_password',
      'Choose a password different from the current one.',
    ],
    [
      'an empty current password',
      { current_password: '', new_password: NEW_PASSWORD, confirm_password: NEW_PASSWORD },
      'current_password',
      'Enter your current password.',
    ],
  ])(
    'refuses %s beside the field, keeping the name and echoing no password',
    async (_what, form, field, message) => {
      const email = `weak-${field}-${message.length}@a.test`;
      await account(email, [{ tenantId: A(), role: 'member' }]);
      const browser = await signedIn(email);
      await submit(browser, '/console/profile', { display_name: 'Kept Name' });
      const res = await submit(browser, '/console/password', form);
      expect(res.statusCode).toBe(400);
      expect(res.body).toContain(`<p class="field-error" id="${field}-error">${message}</p>`);
      expect(res.body).toContain(`id="${field}" name="${field}" type="password" value=""`);
      expect(res.body).toContain('value="Kept Name"');
      for (const typed of [form.current_password, form.new_password, form.confirm_password].filter(Boolean))
        expect(res.body).not.toContain(typed);
      expect((await checkCredentials(ctx.app.services.db, email, PASSWORD)).ok).toBe(true);
    },
  );

  it('changes the password: every other session ends, this browser continues on a fresh session, the old password is dead', async () => {
    const userId = await account('changer@a.test', [
      { tenantId: A(), role: 'admin' },
      { tenantId: B(), role: 'member' },
    ]);
    const browser = await signedIn('changer@a.test');
    const elsewhere = await signedIn('changer@a.test');
    const before = browser.jar.cookies.get(SESSION) as string;
    const res = await submit(browser, '/console/password', {
      current_password: PASSWORD,
      new_password: NEW_PASSWORD,
      confirm_password: NEW_PASSWORD,
    });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/console?done=password');
    const after = browser.jar.cookies.get(SESSION) as string;
    expect(after).toMatch(/^gss_/);
    expect(after).not.toBe(before);
    const page = await browser.get('/console?done=password');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Your password is changed.');
    // This browser's forms work on with the fresh session (its CSRF token follows the new cookie).
    expect((await submit(browser, '/console/profile', { display_name: 'Still here' })).statusCode).toBe(303);
    const stale = await ctx.app.inject({ url: '/console', headers: { cookie: `${SESSION}=${before}` } });
    expect(stale.statusCode).toBe(303);
    const other = await elsewhere.get(`/o/${A()}/audit`);
    expect(other.statusCode).toBe(303);
    expect(String(other.headers.location)).toMatch(/^\/console\/sign-in/);
    expect((await new Browser(ctx.app).signIn('changer@a.test', PASSWORD)).statusCode).toBe(400);
    expect((await new Browser(ctx.app).signIn('changer@a.test', NEW_PASSWORD)).statusCode).toBe(303);
    const events = await auditOf(userId, 'user.password_changed');
    expect(events.map((e) => e.tenant_id).sort()).toEqual([A(), B()].sort());
    for (const event of events) {
      expect(event).toMatchObject({ actor: `user:${userId}`, details: null });
      expect(JSON.stringify(event)).not.toContain(NEW_PASSWORD);
    }
    // A's admins see it in their log, named.
    const log = await browser.get(`/o/${A()}/audit?action=user.password_changed`);
    expect(log.body).toContain('<code>user.password_changed</code>');
    expect(log.body).toContain('changer@a.test');
  });

  it('records the changes of an account without organization once, without tenant', async () => {
    const userId = await account('alone@a.test', [{ tenantId: A(), role: 'member' }]);
    await removeMember(ctx.app.services.db, ctx.app.services.denylist, A(), userId, CLI_ACTOR);
    const browser = await signedIn('alone@a.test');
    const page = await browser.get('/console');
    expect(page.body).toContain('You are not a member of any organization yet.');
    expect((await submit(browser, '/console/profile', { display_name: 'Alone' })).statusCode).toBe(303);
    const events = await auditOf(userId, 'user.updated');
    expect(events.map((e) => e.tenant_id)).toEqual([null]);
  });

  it('spends the sign-in budget on wrong current passwords: no password oracle behind a session', async () => {
    await account('guessed@a.test', [{ tenantId: A(), role: 'member' }]);
    const browser = await signedIn('guessed@a.test');
    const { perAccount } = ctx.app.services.signInThrottle.limits;
    const guess = (current: string) =>
      submit(browser, '/console/password', {
        current_password: current,
        new_password: NEW_PASSWORD,
        confirm_password: NEW_PASSWORD,
      });
    for (let i = 0; i < perAccount; i++)
      expect((await guess(`wrong guess number ${i}`)).statusCode).toBe(400);
    const blocked = await guess(PASSWORD);
    expect(blocked.statusCode).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    expect(blocked.body).toMatch(
      /<p class="field-error" id="current_password-error">Too many wrong passwords\./,
    );
    // The same budget as signing in: the account's sign-in is held too, and the password is unchanged.
    expect((await new Browser(ctx.app).signIn('guessed@a.test', PASSWORD)).statusCode).toBe(429);
    ctx.app.services.signInThrottle.clear();
    expect((await checkCredentials(ctx.app.services.db, 'guessed@a.test', PASSWORD)).ok).toBe(true);
  });

  it('refuses the password form without a valid CSRF token, changing nothing', async () => {
    await account('csrf-password@a.test', [{ tenantId: A(), role: 'member' }]);
    const browser = await signedIn('csrf-password@a.test');
    const form = { current_password: PASSWORD, new_password: NEW_PASSWORD, confirm_password: NEW_PASSWORD };
    expect((await browser.post('/console/password', form)).statusCode).toBe(403);
    const other = new Browser(ctx.app);
    const stolen = csrfOf((await other.get('/console/sign-in')).body);
    expect((await browser.post('/console/password', { ...form, [CSRF_FIELD]: stolen })).statusCode).toBe(403);
    expect((await checkCredentials(ctx.app.services.db, 'csrf-password@a.test', PASSWORD)).ok).toBe(true);
    expect((await browser.get('/console')).statusCode).toBe(200);
  });
});
