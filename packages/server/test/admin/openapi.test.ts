import { describe, expect, it } from 'vitest';
import { ROUTE_TABLE } from '../helpers/route-table.ts';
import { useSeededApp } from '../helpers/seeded-app.ts';

type Operation = {
  security?: unknown[];
  responses?: Record<string, { content?: Record<string, unknown> }>;
  requestBody?: unknown;
};

/** Issue 10: every admin route is in the OpenAPI document, with its security, request and responses. */
describe('the OpenAPI document of the admin API', () => {
  const ctx = useSeededApp('sqlite');

  const adminRoutes = ROUTE_TABLE.filter((r) => r.kind === 'rest-authenticated' && r.credential === 'admin');

  it('documents every admin route of the route table with security, a success answer and its errors', async () => {
    await ctx.app.ready();
    expect(adminRoutes.length).toBeGreaterThanOrEqual(13);
    const paths = (ctx.app.swagger() as { paths: Record<string, Record<string, Operation>> }).paths;
    for (const route of adminRoutes) {
      const path = route.path.replace(/:(\w+)/g, '{$1}');
      const operation = paths[path]?.[route.method.toLowerCase()];
      expect(operation, `${route.method} ${path} is not documented`).toBeDefined();
      expect(operation?.security, `${route.method} ${path} has no security`).toEqual([
        { apiKey: [] },
        { oauth2: ['api1'] },
        { bearer: [] },
      ]);
      const statuses = Object.keys(operation?.responses ?? {});
      expect(
        statuses.some((s) => /^2/.test(s)),
        `${route.method} ${path}: ${statuses}`,
      ).toBe(true);
      for (const error of ['400', '401', '403', '404', '429', '500']) {
        expect(statuses, `${route.method} ${path}`).toContain(error);
        // Problems under the media type they are sent with (RFC 9457 3).
        expect(
          Object.keys(operation?.responses?.[error]?.content ?? {}),
          `${route.method} ${path} ${error}`,
        ).toEqual(['application/problem+json']);
      }
      if (route.method === 'POST' || route.method === 'PATCH')
        expect(operation?.requestBody, `${route.method} ${path} has no request body`).toBeDefined();
    }
  });
});
