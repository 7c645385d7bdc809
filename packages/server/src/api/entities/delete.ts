import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { removeEntity } from '../../domain/workspaces.ts';
import { principalOf } from '../../http/authenticate.ts';
import { requirePermission } from '../../http/require-permission.ts';
import { authenticated } from '../guards.ts';
import { authErrors, idParam, security } from '../schemas.ts';

type Params = { id: number; entityId: number };

const entityParams = {
  type: 'object',
  properties: { ...idParam('id').properties, ...idParam('entityId').properties },
  required: ['id', 'entityId'],
} as const;

async function remove(
  request: FastifyRequest<{ Params: Params }>,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const { id, entityId } = request.params;
  await removeEntity(request.server.services.db, principalOf(request), id, entityId);
  return reply.code(204).send();
}

/** `DELETE /v1/workspaces/{id}/entities/{entityId}`. */
export function deleteEntityRoute(api: FastifyInstance): void {
  api.delete<{ Params: Params }>(
    '/v1/workspaces/:id/entities/:entityId',
    {
      preHandler: authenticated(requirePermission('write')),
      schema: {
        tags: ['Entities'],
        summary: 'Delete an entity',
        security,
        params: entityParams,
        response: {
          403: { $ref: 'Problem#' },
          409: { $ref: 'Problem#' },
          204: { type: 'null' },
          ...authErrors,
        },
      },
    },
    remove,
  );
}
