import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { revokeApiKey } from '../../domain/api-keys.ts';
import { actorOf } from '../../http/actor.ts';
import { principalOf } from '../../http/authenticate.ts';
import { administrators } from '../guards.ts';
import { adminErrors, publicKeyParam, security } from '../schemas.ts';

type Request = FastifyRequest<{ Params: { publicKey: string } }>;

async function revoke(request: Request, reply: FastifyReply): Promise<FastifyReply> {
  const { db, caches } = request.server.services;
  const options = { tenantId: principalOf(request).tenantId, caches };
  await revokeApiKey(db, request.params.publicKey, actorOf(request), options);
  return reply.code(204).send();
}

/**
 * `DELETE /v1/api-keys/{publicKey}`: revokes the key at once, with its tokens. Idempotent: revoking a
 * revoked key answers 204 again and records nothing more. A key cannot revoke itself.
 */
export function revokeApiKeyRoute(api: FastifyInstance): void {
  api.delete<{ Params: { publicKey: string } }>(
    '/v1/api-keys/:publicKey',
    {
      preHandler: administrators(),
      schema: {
        tags: ['API keys'],
        summary: 'Revoke an API key',
        security,
        params: publicKeyParam,
        response: { 204: { type: 'null' }, 403: { $ref: 'Problem#' }, ...adminErrors },
      },
    },
    revoke,
  );
}
