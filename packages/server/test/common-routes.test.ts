import type { FastifyInstance, HTTPMethods } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommonRouteTests } from './helpers/common-route-tests.ts';
import { collectRoutes, type RegisteredRoute, routeKey } from './helpers/registered-routes.ts';
import { ROUTE_TABLE, ROUTES_OUTSIDE_THE_TABLE } from './helpers/route-table.ts';
import { type Seed, seed } from './helpers/seed.ts';
import { createTestApp, describeEachDialect, type TestApp } from './helpers/test-app.ts';
import { OAUTH_ENV } from './oauth/oauth-helpers.ts';

/**
 * The common checks send many failing credentials from one address: the failed-authentication budget
 * is not what they test (security/failed-auth-limits.test.ts does).
 */
const ENV = { ...OAUTH_ENV, GATEHOUSE_AUTH_FAILURE_LIMIT: '1000000' };

/** DESIGN.md 1 and 3: one table of every route, each checked by its kind (helpers/route-table.ts). */
describeEachDialect('every route, by the route table', (dialect) => {
  let t: TestApp;
  let app: FastifyInstance;
  let s: Seed;
  let registered: RegisteredRoute[];
  beforeAll(async () => {
    const collected = await collectRoutes(() => createTestApp(dialect, ENV));
    t = collected.built;
    registered = collected.routes;
    app = t.app;
    s = await seed(app.services.db);
  });
  afterAll(() => t.close());

  describe('the table', () => {
    it('covers every registered route: a new route that is not in the table fails here', () => {
      const known = new Set([...ROUTE_TABLE, ...ROUTES_OUTSIDE_THE_TABLE].map(routeKey));
      const missing = [...new Set(registered.map(routeKey))].filter((key) => !known.has(key)).sort();
      expect(missing, 'routes missing from test/helpers/route-table.ts').toEqual([]);
    });

    it('lists only routes the app registers: a removed or renamed route fails here', () => {
      const seen = new Set(registered.map(routeKey));
      const stale = [...ROUTE_TABLE, ...ROUTES_OUTSIDE_THE_TABLE]
        .filter((route) => !seen.has(routeKey(route)))
        .map(routeKey);
      expect(stale, 'table entries no route answers to').toEqual([]);
      // Fastify's own answer too, so that the collector cannot agree with a table it failed to read.
      for (const route of ROUTE_TABLE)
        expect(app.hasRoute({ method: route.method as HTTPMethods, url: route.path }), routeKey(route)).toBe(
          true,
        );
    });

    it('lists each route once', () => {
      const keys = ROUTE_TABLE.map(routeKey);
      expect(keys.filter((key, i) => keys.indexOf(key) !== i)).toEqual([]);
    });
  });

  describe('common route checks', () => {
    runCommonRouteTests({ app: () => app, seed: () => s }, ROUTE_TABLE);
  });
});
