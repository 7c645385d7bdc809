import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createEntity } from '../../domain/workspaces.ts';
import { principalOf } from '../../http/authenticate.ts';
import { requirePermission } from '../../http/require-permission.ts';
import { authenticated } from '../guards.ts';
import { authErrors, idParam, security } from '../schemas.ts';

type Request = FastifyRequest<{ Params: { id: number }; Body: { name: string } }>;

async function create(request: Request, reply: FastifyReply): Promise<FastifyReply> {
  const { db } = request.server.services;
  const entity = await createEntity(db, principalOf(request), request.params.id, request.body.name);
  return reply.code(201).send(entity);
}

/** `POST /v1/workspaces/{id}/entities`: adds a legal entity (what makes `nbEntities` real). */
export function createEntityRoute(api: FastifyInstance): void {
  api.post<{ Params: { id: number }; Body: { name: string } }>(
    '/v1/workspaces/:id/entities',
    {
      preHandler: authenticated(requirePermission('write')),
      schema: {
        tags: ['Entities'],
        summary: 'Create an entity in a workspace',
        security,
        params: idParam('id'),
        body: {
          type: 'object',
          properties: { name: { type: 'string', minLength: 1, maxLength: 200 } },
          required: ['name'],
          additionalProperties: false,
        },
        response: {
          403: { $ref: 'Problem#' },
          409: { $ref: 'Problem#' },
          201: { $ref: 'Entity#' },
          400: { $ref: 'Problem#' },
          ...authErrors,
        },
      },
    },
    create,
  );
}
