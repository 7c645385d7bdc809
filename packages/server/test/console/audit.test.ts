import { beforeAll, expect, it } from 'vitest';
import { audit, CLI_ACTOR, keyActor, userActor } from '../../src/domain/audit.ts';
import { AUDIT_ACTIONS } from '../../src/domain/audit-actions.ts';
import { addMember } from '../../src/domain/members.ts';
import { createTenant } from '../../src/domain/tenants.ts';
import { Browser } from '../helpers/authorization-flow.ts';
import { PASSWORD } from '../helpers/seed.ts';
import { useSeededApp } from '../helpers/seeded-app.ts';
import { describeEachDialect } from '../helpers/test-app.ts';

/** 2030-01-01T00:00:00Z: the busy organization's events are written on the days after it. */
const START = Date.UTC(2030, 0, 1);
const EVENTS = 120;

/** The rows of the audit table, each as the text of its cells. */
function rows(body: string): string[] {
  const tbody = /<tbody>([\s\S]*?)<\/tbody>/.exec(body)?.[1] ?? '';
  return [...tbody.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((m) => m[1] ?? '');
}

describeEachDialect('console: audit log', (dialect) => {
  const ctx = useSeededApp(dialect);
  /** An organization of its own with a known log: `EVENTS` events, one every 6 hours from START. */
  let busy: { tenantId: number; userId: number; memberId: number; outsiderId: number };

  beforeAll(async () => {
    const { db } = ctx.app.services;
    const created = await createTenant(
      db,
      { label: 'Busy org', ownerEmail: 'owner@busy.test', ownerPassword: PASSWORD, workspace: 'Main' },
      CLI_ACTOR,
    );
    const member = await addMember(
      db,
      { tenantId: created.tenantId, email: 'member@busy.test', password: PASSWORD, role: 'member' },
      CLI_ACTOR,
    );
    await addMember(
      db,
      { tenantId: ctx.seed.a.tenantId, email: 'member@a.test', password: PASSWORD, role: 'member' },
      CLI_ACTOR,
    );
    busy = {
      tenantId: created.tenantId,
      userId: created.userId,
      memberId: member.user.id,
      outsiderId: ctx.seed.b.userId,
    };
    // Delete what the set-up wrote, so that the log holds exactly the events below.
    await db.deleteFrom('audit_events').where('tenant_id', '=', busy.tenantId).execute();
    for (let i = 0; i < EVENTS; i++) {
      const actor =
        i % 3 === 0
          ? userActor(busy.userId, '192.0.2.1')
          : i % 3 === 1
            ? keyActor(ctx.seed.orgKeyA.key.publicKey, '192.0.2.2')
            : CLI_ACTOR;
      await audit(
        db,
        actor,
        i % 2 ? 'api_key.updated' : 'workspace.updated',
        { tenantId: busy.tenantId, target: `event-${i}`, details: { n: i } },
        START + i * 6 * 3_600_000,
      );
    }
    // B's own event, which A's log must never show.
    await audit(db, CLI_ACTOR, 'api_key.created', {
      tenantId: ctx.seed.b.tenantId,
      target: 'marker-of-b',
      details: { secret: 'of-b' },
    });
  });

  async function signedIn(email: string, returnTo = '/console') {
    const browser = new Browser(ctx.app);
    const res = await browser.signIn(email, PASSWORD, returnTo);
    expect(res.statusCode, res.body).toBe(303);
    return browser;
  }

  const busyPath = () => `/o/${busy.tenantId}/audit`;

  it('lists the newest event first, 50 a page, with a pager through all of them', async () => {
    const browser = await signedIn('owner@busy.test');
    const first = await browser.get(busyPath());
    expect(first.statusCode).toBe(200);
    expect(first.headers['cache-control']).toBe('no-store');
    const page1 = rows(first.body);
    expect(page1).toHaveLength(50);
    expect(page1[0]).toContain(`event-${EVENTS - 1}`);
    expect(page1[0]).toContain('2030-01-30 18:00');
    expect(page1[49]).toContain(`event-${EVENTS - 50}`);
    expect(first.body).toContain('Showing 1–50 of 120');
    expect(first.body).toContain(`href="${busyPath()}?page=2" rel="next"`);
    expect(first.body).not.toContain('rel="prev"');
    const third = await browser.get(`${busyPath()}?page=3`);
    const page3 = rows(third.body);
    expect(page3).toHaveLength(20);
    expect(page3.at(-1)).toContain('event-0<');
    expect(third.body).toContain('Showing 101–120 of 120');
    expect(third.body).not.toContain('rel="next"');
    const beyond = await browser.get(`${busyPath()}?page=9`);
    expect(beyond.statusCode).toBe(200);
    expect(beyond.body).toContain('There are no events on this page.');
  });

  it('filters by action, keeping the filter in the pager links and the select', async () => {
    const browser = await signedIn('owner@busy.test');
    const res = await browser.get(`${busyPath()}?action=api_key.updated`);
    expect(res.statusCode).toBe(200);
    const found = rows(res.body);
    expect(found).toHaveLength(50);
    expect(found.every((r) => r.includes('<code>api_key.updated</code>'))).toBe(true);
    expect(res.body).toContain('Showing 1–50 of 60');
    expect(res.body).toContain(`href="${busyPath()}?action=api_key.updated&amp;page=2"`);
    expect(res.body).toContain('<option value="api_key.updated" selected>');
    // Every action name is offered, after "All actions".
    expect(res.body).toContain('<option value="">All actions</option>');
    for (const action of AUDIT_ACTIONS) expect(res.body).toContain(`<option value="${action}"`);
  });

  it('filters by actor, and names member actors by email', async () => {
    const browser = await signedIn('owner@busy.test');
    const res = await browser.get(`${busyPath()}?actor=user:${busy.userId}`);
    const found = rows(res.body);
    expect(found).toHaveLength(40);
    for (const row of found) {
      expect(row).toContain('owner@busy.test');
      expect(row).toContain(`user:${busy.userId}`);
    }
    const keys = rows((await browser.get(`${busyPath()}?actor=key:${ctx.seed.orgKeyA.key.publicKey}`)).body);
    expect(keys).toHaveLength(40);
    expect(rows((await browser.get(`${busyPath()}?actor=cli&action=workspace.updated`)).body)).toHaveLength(
      20,
    );
  });

  it('filters by UTC days, the To day included whole', async () => {
    const browser = await signedIn('owner@busy.test');
    // 2030-01-02 holds events 4 to 7 (00:00, 06:00, 12:00, 18:00).
    const one = await browser.get(`${busyPath()}?from=2030-01-02&to=2030-01-02`);
    const found = rows(one.body);
    expect(found.map((r) => /event-\d+/.exec(r)?.[0])).toEqual(['event-7', 'event-6', 'event-5', 'event-4']);
    expect(one.body).toContain('value="2030-01-02"');
    expect(one.body).toContain('Includes the whole day, UTC');
    const from = rows((await browser.get(`${busyPath()}?from=2030-01-30`)).body);
    expect(from.map((r) => /event-\d+/.exec(r)?.[0])).toEqual([
      'event-119',
      'event-118',
      'event-117',
      'event-116',
    ]);
    const to = await browser.get(`${busyPath()}?to=2030-01-01`);
    expect(rows(to.body)).toHaveLength(4);
  });

  it('shows an empty state with a way out when nothing matches', async () => {
    const browser = await signedIn('owner@busy.test');
    const res = await browser.get(`${busyPath()}?action=consent.granted`);
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('No events match these filters.');
    expect(res.body).toContain(`<a class="button secondary" href="${busyPath()}">Clear filters</a>`);
    expect(res.body).not.toContain('<table');
  });

  it.each([
    // A select cannot show a value it does not offer: it comes back on "All actions".
    [
      'action',
      'action=root.deleted',
      'Choose an action from the list.',
      '<option value="">All actions</option>',
    ],
    [
      'actor',
      'actor=%3Cscript%3Ealert(1)%3C%2Fscript%3E',
      'Enter an actor such as',
      '&lt;script&gt;alert(1)&lt;/script&gt;',
    ],
    ['from', 'from=2030-02-30', 'Enter a date as YYYY-MM-DD.', '2030-02-30'],
    ['to', 'from=2030-01-05&to=2030-01-04', 'Enter a day on or after the From day.', '2030-01-04'],
  ])(
    'refuses an invalid %s filter with a 400 and the error beside it, keeping what was typed',
    async (field, query, message, kept) => {
      const browser = await signedIn('owner@busy.test');
      const res = await browser.get(`${busyPath()}?${query}`);
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.body).toContain(`aria-invalid="true" aria-describedby="${field}-hint ${field}-error"`);
      expect(res.body).toMatch(
        new RegExp(
          `<p class="field-error" id="${field}-error">${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`,
        ),
      );
      expect(res.body).toContain(kept);
      expect(res.body).not.toContain('<script>alert');
      expect(res.body).toContain('Correct the filters above to see events.');
    },
  );

  it('never shows another organization’s events, whatever the filter', async () => {
    const browser = await signedIn('owner@a.test');
    for (const query of ['', '?action=api_key.created', '?actor=cli', '?page=2']) {
      const res = await browser.get(`/o/${ctx.seed.a.tenantId}/audit${query}`);
      expect(res.statusCode).toBe(200);
      expect(res.body).not.toContain('marker-of-b');
      expect(res.body).not.toContain('event-');
    }
    const own = await browser.get(`/o/${ctx.seed.a.tenantId}/audit?action=tenant.created`);
    expect(rows(own.body)).toHaveLength(1);
  });

  it('names only members: a user of another organization stays a bare user reference', async () => {
    const { db } = ctx.app.services;
    await audit(db, userActor(busy.outsiderId, '192.0.2.9'), 'consent.granted', {
      tenantId: busy.tenantId,
      target: `user:${busy.memberId}`,
    });
    const browser = await signedIn('owner@busy.test');
    const res = await browser.get(`${busyPath()}?action=consent.granted`);
    const [row] = rows(res.body);
    expect(row).toContain(`user:${busy.outsiderId}`);
    expect(row).not.toContain('owner@b.test');
    // A target that is a member is named too.
    expect(row).toContain('member@busy.test');
    await db
      .deleteFrom('audit_events')
      .where('action', '=', 'consent.granted')
      .where('tenant_id', '=', busy.tenantId)
      .execute();
  });

  it('escapes every value of an event: target, details, IP (XSS)', async () => {
    const { db } = ctx.app.services;
    const hostile = '<script>alert(1)</script>';
    await audit(db, { actor: 'cli', ip: hostile }, 'login.refused', {
      tenantId: busy.tenantId,
      target: hostile,
      details: { [hostile]: hostile, list: ['a', hostile], nested: { x: hostile } },
    });
    const browser = await signedIn('owner@busy.test');
    const res = await browser.get(`${busyPath()}?action=login.refused`);
    expect(res.statusCode).toBe(200);
    expect(res.body).not.toContain('<script>alert');
    expect(res.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(res.body).toContain('a, &lt;script&gt;');
    await db
      .deleteFrom('audit_events')
      .where('action', '=', 'login.refused')
      .where('tenant_id', '=', busy.tenantId)
      .execute();
  });

  it('shows a member a 403 page, another organization’s owner a 404 page, and a stranger the sign-in', async () => {
    const member = await signedIn('member@busy.test');
    const refused = await member.get(busyPath());
    expect(refused.statusCode).toBe(403);
    expect(refused.body).toContain('Administrators only');
    expect(refused.body).not.toContain('event-');
    const b = await signedIn('owner@b.test');
    for (const url of [busyPath(), `/o/${ctx.seed.a.tenantId}/audit`, '/o/99999/audit', '/o/0/audit']) {
      const res = await b.get(url);
      expect(res.statusCode, url).toBe(404);
      expect(res.body).not.toContain('event-');
    }
    const anonymous = await ctx.app.inject({ url: `${busyPath()}?action=api_key.updated` });
    expect(anonymous.statusCode).toBe(303);
    expect(anonymous.headers.location).toBe(
      `/console/sign-in?return_to=${encodeURIComponent(`${busyPath()}?action=api_key.updated`)}`,
    );
  });

  it('stays fast on a log of 1,000 events, naming the page’s people', async () => {
    const { db } = ctx.app.services;
    const big = await createTenant(
      db,
      { label: 'Big org', ownerEmail: 'owner@big.test', ownerPassword: PASSWORD, workspace: 'Main' },
      CLI_ACTOR,
    );
    const values = Array.from({ length: 1000 }, (_, i) => ({
      tenant_id: big.tenantId,
      actor: `user:${big.userId}`,
      action: 'api_key.updated',
      target: `big-${i}`,
      ip: null,
      user_agent: null,
      details: null,
      created_at: START + i * 60_000,
    }));
    for (let i = 0; i < values.length; i += 200)
      await db
        .insertInto('audit_events')
        .values(values.slice(i, i + 200))
        .execute();
    const browser = await signedIn('owner@big.test');
    const started = performance.now();
    const res = await browser.get(`/o/${big.tenantId}/audit?page=2`);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(rows(res.body)).toHaveLength(50);
    expect(res.body).toContain('Showing 51–100 of 1,001');
    expect(rows(res.body).every((r) => r.includes('owner@big.test') || r.includes('cli'))).toBe(true);
  });
});
