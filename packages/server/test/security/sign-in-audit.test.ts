import { beforeAll, beforeEach, expect, it } from 'vitest';
import { Browser, hiddenFields } from '../helpers/authorization-flow.ts';
import { releaseTogether } from '../helpers/concurrent.ts';
import { postForm } from '../helpers/http.ts';
import { useSeededApp } from '../helpers/seeded-app.ts';
import { describeEachDialect } from '../helpers/test-app.ts';

describeEachDialect('sign-in audit events are no account-existence oracle', (dialect) => {
  const ctx = useSeededApp(dialect);
  let returnTo: string;
  beforeAll(async () => {
    const query = new URLSearchParams({
      response_type: 'code',
      client_id: ctx.seed.orgKeyA.key.publicKey,
      redirect_uri: 'https://app.example/callback',
      scope: 'api1',
    });
    returnTo = `/connect/authorize?${query}`;
  });
  beforeEach(() => ctx.app.services.signInThrottle.clear());

  /** A sign-in form loaded for tenant A's application, ready to post. */
  async function prepare(email: string, password: string, ip = '10.7.0.1') {
    const browser = new Browser(ctx.app);
    const page = await browser.get(`/console/sign-in?${new URLSearchParams({ return_to: returnTo })}`);
    const form = { ...hiddenFields(page.body, '/console/sign-in'), email, password };
    return () => postForm(ctx.app, '/console/sign-in', form, browser.jar.header(), { remoteAddress: ip });
  }

  const eventsOfTenantA = () =>
    ctx.app.services.db
      .selectFrom('audit_events')
      .selectAll()
      .where('tenant_id', '=', ctx.seed.a.tenantId)
      .where('action', '=', 'login.failed')
      .execute();

  it("writes nothing into tenant A's log when a user of tenant B fails to sign in through A's client", async () => {
    const before = (await eventsOfTenantA()).length;
    expect((await (await prepare('owner@b.test', 'wrong password, long enough'))()).statusCode).toBe(400);
    expect((await (await prepare('nobody@nowhere.test', 'wrong password, long enough'))()).statusCode).toBe(
      400,
    );
    expect(await eventsOfTenantA()).toHaveLength(before);
    // The failure is still recorded, for the operator, without a tenant.
    const anonymous = await ctx.app.services.db
      .selectFrom('audit_events')
      .selectAll()
      .where('tenant_id', 'is', null)
      .where('action', '=', 'login.failed')
      .where('target', '=', `user:${ctx.seed.b.userId}`)
      .execute();
    expect(anonymous.length).toBeGreaterThan(0);
  });

  it("records a failed sign-in of tenant A's own member in A's log", async () => {
    const before = (await eventsOfTenantA()).length;
    expect((await (await prepare('owner@a.test', 'wrong password, long enough'))()).statusCode).toBe(400);
    const after = await eventsOfTenantA();
    expect(after).toHaveLength(before + 1);
    expect(after.at(-1)).toMatchObject({ target: `user:${ctx.seed.a.userId}`, actor: 'anonymous' });
  });

  it("bounds what 100 concurrent failed sign-ins through A's client write into A's log", async () => {
    const before = (await eventsOfTenantA()).length;
    const sends = await Promise.all(
      Array.from({ length: 100 }, (_, i) => prepare('owner@a.test', `wrong password ${i}`, `10.8.0.${i}`)),
    );
    const responses = await releaseTogether(sends);
    expect(responses.filter((r) => r.statusCode === 429).length).toBeGreaterThanOrEqual(90);
    expect((await eventsOfTenantA()).length - before).toBeLessThanOrEqual(
      ctx.app.services.signInThrottle.limits.perAccount,
    );
  });
});
