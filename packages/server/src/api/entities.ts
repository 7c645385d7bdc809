import type { FastifyInstance } from 'fastify';
import { authenticate, principalOf } from '../auth/authenticate.ts';
import type { PageQuery } from '../domain/types.ts';
import { createEntity, listWorkspaceEntities, removeEntity } from '../domain/workspaces.ts';
import { authErrors, idParam, pageOf, pageQuerySchema, security } from './schemas.ts';

const workspaceParams = idParam('id');
const entityParams = {
  type: 'object',
  properties: { ...workspaceParams.properties, ...idParam('entityId').properties },
  required: ['id', 'entityId'],
} as const;

/** A workspace's legal entities: list, create, delete (what makes `nbEntities` real). */
export function entityRoutes(app: FastifyInstance): void {
  app.get<{ Params: { id: number }; Querystring: PageQuery }>(
    '/v1/workspaces/:id/entities',
    {
      preHandler: authenticate,
      schema: {
        tags: ['Entities'],
        summary: "List a workspace's entities",
        security,
        params: workspaceParams,
        querystring: pageQuerySchema,
        response: { 200: pageOf('Entity'), ...authErrors },
      },
    },
    async (request) =>
      listWorkspaceEntities(app.services.db, principalOf(request), request.params.id, request.query),
  );

  app.post<{ Params: { id: number }; Body: { name: string } }>(
    '/v1/workspaces/:id/entities',
    {
      preHandler: authenticate,
      schema: {
        tags: ['Entities'],
        summary: 'Create an entity in a workspace',
        security,
        params: workspaceParams,
        body: {
          type: 'object',
          properties: { name: { type: 'string', minLength: 1, maxLength: 200 } },
          required: ['name'],
          additionalProperties: false,
        },
        response: { 201: { $ref: 'Entity#' }, 400: { $ref: 'Problem#' }, ...authErrors },
      },
    },
    async (request, reply) => {
      const entity = await createEntity(
        app.services.db,
        principalOf(request),
        request.params.id,
        request.body.name,
      );
      return reply.code(201).send(entity);
    },
  );

  app.delete<{ Params: { id: number; entityId: number } }>(
    '/v1/workspaces/:id/entities/:entityId',
    {
      preHandler: authenticate,
      schema: {
        tags: ['Entities'],
        summary: 'Delete an entity',
        security,
        params: entityParams,
        response: { 204: { type: 'null' }, ...authErrors },
      },
    },
    async (request, reply) => {
      await removeEntity(app.services.db, principalOf(request), request.params.id, request.params.entityId);
      return reply.code(204).send();
    },
  );
}
