import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { removeMember } from '../../domain/members.ts';
import { actorOf } from '../../http/actor.ts';
import { principalOf } from '../../http/authenticate.ts';
import { administrators } from '../guards.ts';
import { adminErrors, idParam, security } from '../schemas.ts';

type Request = FastifyRequest<{ Params: { userId: number } }>;

async function remove(request: Request, reply: FastifyReply): Promise<FastifyReply> {
  const { db, denylist, caches } = request.server.services;
  const { tenantId } = principalOf(request);
  await removeMember(db, denylist, tenantId, request.params.userId, actorOf(request), caches);
  return reply.code(204).send();
}

/**
 * `DELETE /v1/members/{userId}`: removes a member, with their sessions, consents, refresh tokens and
 * the access tokens issued from them. The last owner cannot be removed (409).
 */
export function removeMemberRoute(api: FastifyInstance): void {
  api.delete<{ Params: { userId: number } }>(
    '/v1/members/:userId',
    {
      preHandler: administrators(),
      schema: {
        tags: ['Members'],
        summary: 'Remove a member',
        security,
        params: idParam('userId'),
        response: {
          204: { type: 'null' },
          403: { $ref: 'Problem#' },
          409: { $ref: 'Problem#' },
          ...adminErrors,
        },
      },
    },
    remove,
  );
}
