import type { FastifyInstance } from 'fastify';
import { authenticate, principalOf } from '../auth/authenticate.ts';
import type { PageQuery } from '../domain/types.ts';
import { getVisibleWorkspace, listVisibleWorkspaces } from '../domain/workspaces.ts';
import { authErrors, idParam, pageOf, pageQuerySchema, security } from './schemas.ts';

/** `GET /v1/workspaces` and `GET /v1/workspaces/{id}`: only what the principal may see. */
export function workspaceRoutes(app: FastifyInstance): void {
  app.get<{ Querystring: PageQuery }>(
    '/v1/workspaces',
    {
      preHandler: authenticate,
      schema: {
        tags: ['Workspaces'],
        summary: 'List the workspaces the caller may see',
        security,
        querystring: pageQuerySchema,
        response: { 200: pageOf('Workspace'), ...authErrors },
      },
    },
    async (request) => listVisibleWorkspaces(app.services.db, principalOf(request), request.query),
  );

  app.get<{ Params: { id: number } }>(
    '/v1/workspaces/:id',
    {
      preHandler: authenticate,
      schema: {
        tags: ['Workspaces'],
        summary: 'One workspace',
        security,
        params: idParam('id'),
        response: { 200: { $ref: 'Workspace#' }, ...authErrors },
      },
    },
    async (request) => getVisibleWorkspace(app.services.db, principalOf(request), request.params.id),
  );
}
