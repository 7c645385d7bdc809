import type { FastifyInstance, FastifyRequest } from 'fastify';
import { listWorkspaceEntities } from '../../domain/workspaces.ts';
import { principalOf } from '../../http/authenticate.ts';
import type { Entity, Page, PageQuery } from '../../model/types.ts';
import { authenticated } from '../guards.ts';
import { authErrors, idParam, pageOf, pageQuerySchema, security } from '../schemas.ts';

type Request = FastifyRequest<{ Params: { id: number }; Querystring: PageQuery }>;

function listEntities(request: Request): Promise<Page<Entity>> {
  const { db } = request.server.services;
  return listWorkspaceEntities(db, principalOf(request), request.params.id, request.query);
}

/** `GET /v1/workspaces/{id}/entities`: a workspace's legal entities, paged. */
export function listEntitiesRoute(api: FastifyInstance): void {
  api.get<{ Params: { id: number }; Querystring: PageQuery }>(
    '/v1/workspaces/:id/entities',
    {
      preHandler: authenticated(),
      schema: {
        tags: ['Entities'],
        summary: "List a workspace's entities",
        security,
        params: idParam('id'),
        querystring: pageQuerySchema,
        response: { 200: pageOf('Entity'), ...authErrors },
      },
    },
    listEntities,
  );
}
