import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProblemError } from '../errors/errors.ts';
import type { Principal, Role } from '../model/types.ts';
import { requireRole } from './require-role.ts';

const principal = (role: Role | null): Principal => ({
  authMethod: role ? 'bearer' : 'apiKey',
  tenantId: 1,
  workspaceId: null,
  apiKey: { id: 1, publicKey: 'gpk_000000000000000000000000', label: 'k' },
  user: role ? { id: 7, email: 'u@example.com', displayName: null, role, workspaceIds: null } : null,
  scope: 'api1',
  permissions: 'admin',
});

describe('requireRole', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = Fastify();
    app.decorateRequest('principal', null);
    app.setErrorHandler((error, _request, reply) =>
      reply
        .code(error instanceof ProblemError ? error.status : 500)
        .send({ code: (error as ProblemError).code }),
    );
    app.get<{ Querystring: { role?: string } }>(
      '/owners-only',
      {
        preHandler: [
          // Stands in for `authenticate`: the principal the route would see.
          async (request) => {
            const role = request.query.role;
            request.principal = principal(role === 'key' ? null : (role as Role));
          },
          requireRole('owner', 'admin'),
        ],
      },
      async () => ({ ok: true }),
    );
    await app.ready();
  });
  afterAll(() => app.close());

  const as = (role: string) => app.inject({ method: 'GET', url: `/owners-only?role=${role}` });

  it('lets owners and admins through', async () => {
    expect((await as('owner')).statusCode).toBe(200);
    expect((await as('admin')).statusCode).toBe(200);
  });

  it('answers 404 not_found, never 403, to a member: no existence oracle', async () => {
    const res = await as('member');
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ code: 'not_found' });
  });

  it('leaves a key acting for itself to the route (it has no user and no role)', async () => {
    expect((await as('key')).statusCode).toBe(200);
  });
});
