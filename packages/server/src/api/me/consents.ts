import type { FastifyInstance, FastifyRequest } from 'fastify';
import { listAuthorizedApps } from '../../domain/consents.ts';
import { principalOf } from '../../http/authenticate.ts';
import { requireUser } from '../../http/require-permission.ts';
import { authenticated } from '../guards.ts';
import { authErrors, pageOf, userSecurity } from '../schemas.ts';

async function list(request: FastifyRequest) {
  const { user, tenantId } = principalOf(request);
  // requireUser ran: a user token. Only this organization's applications: a token of one says nothing of another.
  const apps = user ? await listAuthorizedApps(request.server.services.db, user.id, tenantId) : [];
  const items = apps.map((app) => ({ ...app, createdAt: new Date(app.createdAt).toISOString() }));
  return { items, total: items.length };
}

/** `GET /v1/me/consents`: the applications of this organization the signed-in person allowed. */
export function listMyConsentsRoute(api: FastifyInstance): void {
  api.get(
    '/v1/me/consents',
    {
      preHandler: authenticated(requireUser),
      schema: {
        tags: ['Identity'],
        summary: 'The applications you allowed (user tokens only)',
        security: userSecurity,
        response: { 200: pageOf('Consent'), ...authErrors },
      },
    },
    list,
  );
}
