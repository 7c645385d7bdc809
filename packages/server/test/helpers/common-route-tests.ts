import type { FastifyInstance } from 'fastify';
import { expect, it } from 'vitest';
import { generatePrivateKey } from '../../src/domain/key-format.ts';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** One route to check, against a resource that belongs to the tenant the `foreignKey` is not from. */
export interface CommonRoute {
  /** How the route appears in test names, e.g. `GET /v1/workspaces/{id}`. */
  name: string;
  method: Method;
  /** The URL of a resource of the owning tenant; called when the test runs, after seeding. */
  url: () => string;
  payload?: Record<string, unknown>;
  /**
   * Whether the URL names a resource of one tenant: then the other tenant's key must get 404.
   * False for routes that answer about the caller itself (`/me`, lists).
   */
  tenantResource: boolean;
}

export interface CommonRouteContext {
  app: () => FastifyInstance;
  /** A valid key of a tenant that does NOT own the routes' resources. */
  foreignKey: () => string;
}

function expectProblem(res: { headers: Record<string, unknown>; json: () => Record<string, unknown> }) {
  expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/);
  const body = res.json();
  expect(body).toMatchObject({
    type: expect.any(String),
    status: expect.any(Number),
    code: expect.any(String),
  });
  expect(body.requestId).toEqual(expect.any(String));
}

/**
 * The checks every authenticated route must pass (in the spirit of Unkey's `runCommonRouteTests`):
 * 401 with the RFC 6750 challenge without credentials or with a bad one, and 404, never 403, for a key
 * of another tenant (DESIGN.md 1 and 3 rule 3). Call inside a `describe` whose hooks build the app.
 */
export function runCommonRouteTests(context: CommonRouteContext, routes: CommonRoute[]): void {
  for (const route of routes) {
    const { name } = route;
    const send = (headers: Record<string, string>) =>
      context.app().inject({
        method: route.method,
        url: route.url(),
        headers,
        ...(route.payload ? { payload: route.payload } : {}),
      });

    it(`${name} answers 401 with a Bearer challenge without credentials`, async () => {
      const res = await send({});
      expect(res.statusCode, `${route.method} ${route.url()}`).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="gatehouse"');
      expectProblem(res);
    });

    it(`${name} answers 401 invalid_token to an unknown key`, async () => {
      const res = await send({ 'x-api-key': generatePrivateKey() });
      expect(res.statusCode, `${route.method} ${route.url()}`).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/error="invalid_token"/);
      expectProblem(res);
    });

    if (route.tenantResource) {
      it(`${name} answers 404, never 403, to another tenant's key`, async () => {
        const res = await send({ 'x-api-key': context.foreignKey() });
        expect(res.statusCode, `${route.method} ${route.url()}`).toBe(404);
        expectProblem(res);
        expect(res.json().code).toBe('not_found');
      });
    }
  }
}
