import { describe, expect, it } from 'vitest';
import { Browser, hiddenFields } from '../helpers/authorization-flow.ts';
import { postForm } from '../helpers/http.ts';
import { useSeededApp } from '../helpers/seeded-app.ts';
import { describeEachDialect, testConfig } from '../helpers/test-app.ts';

const PROXY = '10.0.0.5';

describeEachDialect(
  'GATEHOUSE_TRUST_PROXY=true: the client address is the one the proxy appended',
  (dialect) => {
    const ctx = useSeededApp(dialect, { GATEHOUSE_TRUST_PROXY: 'true' });

    it('records the right-most X-Forwarded-For address in the audit log, not the one the client chose', async () => {
      const browser = new Browser(ctx.app);
      const page = await browser.get('/console/sign-in');
      await postForm(
        ctx.app,
        '/console/sign-in',
        {
          ...hiddenFields(page.body, '/console/sign-in'),
          email: 'owner@a.test',
          password: 'wrong password, long enough',
        },
        { 'x-forwarded-for': '6.6.6.6, 203.0.113.9', ...browser.jar.header() },
        { remoteAddress: PROXY },
      );
      const event = await ctx.app.services.db
        .selectFrom('audit_events')
        .select('ip')
        .where('action', '=', 'login.failed')
        .orderBy('id', 'desc')
        .executeTakeFirstOrThrow();
      expect(event.ip).toBe('203.0.113.9');
    });
  },
);

describe('GATEHOUSE_TRUST_PROXY values', () => {
  it.each([
    ['true', 1],
    ['1', 1],
    ['2', 2],
    ['false', false],
    ['0', false],
  ])('reads %s as %s trusted hops', (value, expected) => {
    expect(testConfig({ GATEHOUSE_TRUST_PROXY: value }).trustProxy).toBe(expected);
  });
});
