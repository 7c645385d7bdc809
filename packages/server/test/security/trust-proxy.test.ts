import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, hiddenFields } from '../helpers/authorization-flow.ts';
import { seed } from '../helpers/seed.ts';
import { createTestApp, describeEachDialect, type TestApp, testConfig } from '../helpers/test-app.ts';

const PROXY = '10.0.0.5';

describeEachDialect(
  'GATEHOUSE_TRUST_PROXY=true: the client address is the one the proxy appended',
  (dialect) => {
    let t: TestApp;
    let app: FastifyInstance;
    beforeAll(async () => {
      t = await createTestApp(dialect, { GATEHOUSE_TRUST_PROXY: 'true' });
      app = t.app;
      await seed(app.services.db);
    });
    afterAll(() => t.close());

    it('records the right-most X-Forwarded-For address in the audit log, not the one the client chose', async () => {
      const browser = new Browser(app);
      const page = await browser.get('/console/sign-in');
      await app.inject({
        method: 'POST',
        url: '/console/sign-in',
        remoteAddress: PROXY,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-forwarded-for': '6.6.6.6, 203.0.113.9',
          ...browser.jar.header(),
        },
        payload: new URLSearchParams({
          ...hiddenFields(page.body, '/console/sign-in'),
          email: 'owner@a.test',
          password: 'wrong password, long enough',
        }).toString(),
      });
      const event = await app.services.db
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
