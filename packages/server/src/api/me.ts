import type { FastifyInstance } from 'fastify';
import { principalOf } from '../http/authenticate.ts';
import { authenticated } from './guards.ts';
import { authErrors, security } from './schemas.ts';

/** `GET /me`: the caller as Gatehouse sees it. */
export function meRoute(api: FastifyInstance): void {
  api.get(
    '/me',
    {
      preHandler: authenticated(),
      schema: {
        tags: ['Identity'],
        summary: 'The current principal',
        security,
        response: { 200: { $ref: 'Principal#' }, ...authErrors },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const user = principal.user && {
        id: principal.user.id,
        email: principal.user.email,
        displayName: principal.user.displayName,
        role: principal.user.role,
      };
      return {
        authMethod: principal.authMethod,
        tenantId: principal.tenantId,
        workspaceId: principal.workspaceId,
        apiKey: { publicKey: principal.apiKey.publicKey, label: principal.apiKey.label },
        user,
        scope: principal.scope,
        permissions: principal.permissions,
      };
    },
  );
}
