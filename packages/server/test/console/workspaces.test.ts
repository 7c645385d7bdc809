import { beforeAll, describe, expect, it } from 'vitest';
import { CLI_ACTOR } from '../../src/domain/audit.ts';
import { addMember } from '../../src/domain/members.ts';
import { createTenant } from '../../src/domain/tenants.ts';
import { getTenantWorkspace } from '../../src/domain/workspaces.ts';
import { Browser, csrfOf, hiddenFields } from '../helpers/authorization-flow.ts';
import { PASSWORD } from '../helpers/seed.ts';
import { useSeededApp } from '../helpers/seeded-app.ts';
import { describeEachDialect } from '../helpers/test-app.ts';

const XSS = '<script>alert("ws")</script><img src=x onerror=alert(1)>';
const ESCAPED = '&lt;script&gt;alert(&quot;ws&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;';

/** The rows of a list page's table. */
const rowsOf = (body: string) => body.match(/<tr>\s*<td/g)?.length ?? 0;

describeEachDialect('console: workspaces', (dialect) => {
  const ctx = useSeededApp(dialect);
  let owner: Browser;
  let base: string;

  const db = () => ctx.app.services.db;
  const auditOf = (action: string, target: string) =>
    db()
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', action)
      .where('target', '=', target)
      .execute();

  async function signedIn(email: string): Promise<Browser> {
    const browser = new Browser(ctx.app);
    const res = await browser.signIn(email, PASSWORD);
    expect(res.statusCode, res.body).toBe(303);
    return browser;
  }

  /** Posts the form of `action` on the page at `pageUrl`, with its hidden fields, as a browser would. */
  async function submit(
    browser: Browser,
    pageUrl: string,
    action: string,
    fields: Record<string, string> = {},
  ) {
    const page = await browser.get(pageUrl);
    expect(page.statusCode, page.body).toBe(200);
    return browser.post(action, { ...hiddenFields(page.body, action), ...fields });
  }

  beforeAll(async () => {
    owner = await signedIn('owner@a.test');
    base = `/o/${ctx.seed.a.tenantId}/workspaces`;
  });

  it('lists the workspaces by name with their state, entity count and id', async () => {
    await db()
      .insertInto('entities')
      .values(
        [1, 2, 3].map((n) => ({
          tenant_id: ctx.seed.a.tenantId,
          workspace_id: ctx.seed.a.mainWorkspaceId,
          name: `e${n}`,
          created_at: Date.now(),
        })),
      )
      .execute();
    const res = await owner.get(base);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-security-policy']).toMatch(/default-src 'none'/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toContain('<h1>Workspaces</h1>');
    expect(res.body).toMatch(/href="\/o\/\d+\/workspaces" aria-current="page"/);
    expect(res.body.indexOf('>Main</a>')).toBeLessThan(res.body.indexOf('>Second</a>'));
    expect(res.body).toContain(`<a href="${base}/${ctx.seed.a.mainWorkspaceId}">Main</a>`);
    expect(res.body).toContain('<td data-label="Entities">3</td>');
    expect(res.body).toContain(`<td data-label="ID" class="numeric">${ctx.seed.a.secondWorkspaceId}</td>`);
    expect(res.body).toContain('<span class="badge active">Active</span>');
    // Another organization's workspace is never listed.
    expect(res.body).not.toContain('Other');
    expect(res.body).not.toMatch(/style=|<script>/);
  });

  it('creates a workspace, shows it with a notice, and audits it', async () => {
    const res = await submit(owner, `${base}/new`, base, { label: '  Production  ' });
    expect(res.statusCode, res.body).toBe(303);
    const location = String(res.headers.location);
    expect(location).toMatch(new RegExp(`^${base}/\\d+\\?done=created$`));
    const page = await owner.get(location);
    expect(page.body).toContain('<h1>Production</h1>');
    expect(page.body).toContain('<p class="notice" role="status">Workspace created.</p>');
    const id = Number(/workspaces\/(\d+)/.exec(location)?.[1]);
    const events = await auditOf('workspace.created', `workspace:${id}`);
    expect(events).toHaveLength(1);
    expect(events[0]?.actor).toBe(`user:${ctx.seed.a.userId}`);
    expect(events[0]?.tenant_id).toBe(ctx.seed.a.tenantId);
  });

  it('refuses an empty or too long name with the error beside the field, keeping what was typed (400)', async () => {
    const long = 'x'.repeat(201);
    const res = await submit(owner, `${base}/new`, base, { label: long });
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain(`value="${long}"`);
    expect(res.body).toContain('aria-invalid="true"');
    expect(res.body).toMatch(
      /<p class="field-error" id="label-error">Workspace label must be 1 to 200 characters\.<\/p>/,
    );
    expect(res.body).toContain('aria-describedby="label-hint label-error"');
    expect(res.body).toContain('role="alert"');
    const empty = await submit(owner, `${base}/new`, base, { label: '   ' });
    expect(empty.statusCode).toBe(400);
    expect(empty.body).toContain('id="label-error"');
    const count = await db().selectFrom('workspaces').select('id').where('label', '=', long).execute();
    expect(count).toHaveLength(0);
  });

  it('refuses a create without a valid CSRF token with a 403 page, creating nothing', async () => {
    const res = await owner.post(base, { label: 'Forged', csrf_token: 'forged' });
    expect(res.statusCode).toBe(403);
    expect(res.body).toContain('This form has expired');
    const rows = await db().selectFrom('workspaces').select('id').where('label', '=', 'Forged').execute();
    expect(rows).toHaveLength(0);
  });

  it('renames a workspace, keeping a refused name as typed', async () => {
    const page = `${base}/${ctx.seed.a.secondWorkspaceId}`;
    const bad = await submit(owner, page, page, { label: 'bad\u0001name' });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('value="bad\u0001name"');
    expect(bad.body).toContain('must not contain control characters');
    const res = await submit(owner, page, page, { label: 'Second, renamed' });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe(`${page}?done=renamed`);
    const shown = await owner.get(String(res.headers.location));
    expect(shown.body).toContain('<h1>Second, renamed</h1>');
    expect(shown.body).toContain('Workspace renamed.');
    const events = await auditOf('workspace.updated', `workspace:${ctx.seed.a.secondWorkspaceId}`);
    expect(events.at(-1)?.details).toContain('label');
  });

  it('archives a workspace, explaining that its data can be read but not changed, and restores it', async () => {
    const page = `${base}/${ctx.seed.a.secondWorkspaceId}`;
    const before = await owner.get(page);
    expect(before.body).toContain('Archive workspace');
    expect(before.body).toContain('can still be read');
    const archived = await submit(owner, page, `${page}/archive`);
    expect(archived.statusCode).toBe(303);
    expect(archived.headers.location).toBe(`${page}?done=archived`);
    const shown = await owner.get(String(archived.headers.location));
    expect(shown.body).toContain('<span class="badge archived">Archived</span>');
    expect(shown.body).toMatch(
      /Workspace archived\. Its data can still be read, by members and by keys, but nothing in it can be changed until it is restored\./,
    );
    expect(shown.body).toContain('Restore workspace');
    expect(shown.body).not.toContain('Archive workspace');
    const list = await owner.get(base);
    expect(list.body).toContain('<span class="badge archived">Archived</span>');
    // Reloaded without the notice, the page still says what archived means.
    const again = await owner.get(page);
    expect(again.body).toContain('This workspace is archived.');
    expect((await getTenantWorkspace(db(), ctx.seed.a.tenantId, ctx.seed.a.secondWorkspaceId)).state).toBe(
      'Archived',
    );

    const restored = await submit(owner, page, `${page}/restore`);
    expect(restored.headers.location).toBe(`${page}?done=restored`);
    const back = await owner.get(String(restored.headers.location));
    expect(back.body).toContain('Workspace restored');
    expect(back.body).toContain('<span class="badge active">Active</span>');
    const events = await auditOf('workspace.updated', `workspace:${ctx.seed.a.secondWorkspaceId}`);
    expect(events.map((e) => JSON.parse(e.details ?? '{}').state)).toEqual(
      expect.arrayContaining(['Archived', 'Active']),
    );
  });

  it('escapes a hostile name everywhere it is shown', async () => {
    const res = await submit(owner, `${base}/new`, base, { label: XSS });
    expect(res.statusCode).toBe(303);
    for (const url of [String(res.headers.location), base, `${base}?q=${encodeURIComponent('<script>')}`]) {
      const page = await owner.get(url);
      expect(page.body).not.toContain('<script>alert');
      expect(page.body).not.toContain('<img src=x');
      expect(page.body).toContain(ESCAPED);
    }
    const refused = await submit(owner, `${base}/new`, base, { label: `${XSS}${'y'.repeat(200)}` });
    expect(refused.statusCode).toBe(400);
    expect(refused.body).not.toContain('<script>alert');
  });

  it('searches by name, case-insensitively, and says when nothing matches', async () => {
    const res = await owner.get(`${base}?q=MAI`);
    expect(res.body).toContain('>Main</a>');
    expect(res.body).not.toContain('>Production</a>');
    expect(res.body).toContain('value="MAI"');
    const none = await owner.get(`${base}?q=${encodeURIComponent('nothing"like<this')}`);
    expect(none.statusCode).toBe(200);
    expect(none.body).toContain('No workspace name contains “nothing&quot;like&lt;this”.');
    expect(none.body).toContain(`href="${base}">Show all workspaces</a>`);
  });

  describe('another organization', () => {
    it("answers B's workspace id in A's URLs with a 404 page, and changes nothing of B", async () => {
      const other = `${base}/${ctx.seed.b.workspaceId}`;
      const page = await owner.get(other);
      expect(page.statusCode).toBe(404);
      expect(page.body).toContain('There is no such workspace in this organization.');
      expect(page.body).not.toContain('Other');
      const csrf = csrfOf((await owner.get(base)).body);
      for (const [url, form] of [
        [other, { label: 'Taken over' }],
        [`${other}/archive`, {}],
      ] as const) {
        const res = await owner.post(url, { ...form, csrf_token: csrf });
        expect(res.statusCode, url).toBe(404);
        expect(res.headers['content-type']).toMatch(/^text\/html/);
      }
      const b = await getTenantWorkspace(db(), ctx.seed.b.tenantId, ctx.seed.b.workspaceId);
      expect(b).toMatchObject({ label: 'Other', state: 'Active' });
    });

    it("answers A's owner at B's workspaces with the same 404 page as an organization that does not exist", async () => {
      const b = await owner.get(`/o/${ctx.seed.b.tenantId}/workspaces`);
      const none = await owner.get('/o/999999/workspaces');
      expect(b.statusCode).toBe(404);
      expect(none.statusCode).toBe(404);
      expect(b.body).toBe(none.body);
    });

    it('answers a malformed id with a 404 page, never a 500', async () => {
      for (const id of ['abc', '0', '-1', '99999999999', '1e3']) {
        const res = await owner.get(`${base}/${id}`);
        expect(res.statusCode, id).toBe(404);
      }
    });
  });

  it("answers a member (not an admin) with a 403 page on the workspaces' pages and forms", async () => {
    await addMember(
      db(),
      { tenantId: ctx.seed.a.tenantId, email: 'plain-member@a.test', password: PASSWORD, role: 'member' },
      CLI_ACTOR,
    );
    const member = await signedIn('plain-member@a.test');
    for (const url of [base, `${base}/new`, `${base}/${ctx.seed.a.mainWorkspaceId}`]) {
      const res = await member.get(url);
      expect(res.statusCode, url).toBe(403);
      expect(res.body).toContain('Administrators only');
    }
    const csrf = csrfOf((await member.get('/console')).body);
    const res = await member.post(`${base}/${ctx.seed.a.mainWorkspaceId}/archive`, { csrf_token: csrf });
    expect(res.statusCode).toBe(403);
    expect((await getTenantWorkspace(db(), ctx.seed.a.tenantId, ctx.seed.a.mainWorkspaceId)).state).toBe(
      'Active',
    );
  });

  describe('an organization with 1,000 workspaces', () => {
    let big: Browser;
    let bigBase: string;

    beforeAll(async () => {
      const tenant = await createTenant(
        db(),
        { label: 'Big', ownerEmail: 'owner@big.test', ownerPassword: PASSWORD },
        CLI_ACTOR,
      );
      bigBase = `/o/${tenant.tenantId}/workspaces`;
      big = await signedIn('owner@big.test');
      const empty = await big.get(bigBase);
      expect(empty.body).toContain('No workspaces yet');
      expect(empty.body).toContain(`href="${bigBase}/new">Create a workspace</a>`);
      expect(empty.body).not.toContain('Search by name');
      const rows = Array.from({ length: 1000 }, (_, i) => ({
        tenant_id: tenant.tenantId,
        label: `Workspace ${String(i).padStart(4, '0')}`,
        state: i % 10 === 0 ? ('Archived' as const) : ('Active' as const),
        created_at: Date.now(),
      }));
      for (let i = 0; i < rows.length; i += 200)
        await db()
          .insertInto('workspaces')
          .values(rows.slice(i, i + 200))
          .execute();
    });

    it('shows 50 a page, with the count and links to the next and previous pages, quickly', async () => {
      const started = performance.now();
      const first = await big.get(bigBase);
      expect(performance.now() - started).toBeLessThan(1500);
      expect(rowsOf(first.body)).toBe(50);
      expect(first.body).toContain('Showing 1–50 of 1,000');
      expect(first.body).toContain(`href="${bigBase}?page=2" rel="next"`);
      expect(first.body).toContain('Workspace 0000');
      expect(first.body).not.toContain('Workspace 0050');
      const last = await big.get(`${bigBase}?page=20`);
      expect(rowsOf(last.body)).toBe(50);
      expect(last.body).toContain('Showing 951–1,000 of 1,000');
      expect(last.body).toContain('Workspace 0999');
      expect(last.body).toContain(`href="${bigBase}?page=19" rel="prev"`);
      expect(last.body).not.toContain('rel="next"');
    });

    it('keeps the search across pages', async () => {
      const res = await big.get(`${bigBase}?q=workspace%2000`);
      expect(res.body).toContain('Showing 1–50 of 100');
      expect(res.body).toContain(`href="${bigBase}?q=workspace+00&amp;page=2" rel="next"`);
      const second = await big.get(`${bigBase}?q=workspace+00&page=2`);
      expect(rowsOf(second.body)).toBe(50);
      expect(second.body).toContain('Workspace 0099');
    });
  });
});
