import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { revokeConsent } from '../../domain/consents.ts';
import { ProblemError } from '../../errors/errors.ts';
import { actorOf } from '../../http/actor.ts';
import { principalOf } from '../../http/authenticate.ts';
import { requirePermission, requireUser } from '../../http/require-permission.ts';
import { authenticated } from '../guards.ts';
import { authErrors, publicKeyParam, userSecurity } from '../schemas.ts';

type Request = FastifyRequest<{ Params: { publicKey: string } }>;

async function revoke(request: Request, reply: FastifyReply): Promise<FastifyReply> {
  const { user, tenantId } = principalOf(request);
  const { db, denylist } = request.server.services;
  const by = actorOf(request);
  const removed =
    user && (await revokeConsent(db, denylist, user.id, request.params.publicKey, by, tenantId));
  if (!removed) throw new ProblemError('not_found', `no consent to ${request.params.publicKey}`);
  return reply.code(204).send();
}

/**
 * `DELETE /v1/me/consents/{publicKey}`: withdraws the signed-in person's consent to an application of
 * this organization; its refresh tokens and the access tokens issued from them end at once.
 */
export function revokeMyConsentRoute(api: FastifyInstance): void {
  api.delete<{ Params: { publicKey: string } }>(
    '/v1/me/consents/:publicKey',
    {
      preHandler: authenticated(requireUser, requirePermission('write')),
      schema: {
        tags: ['Identity'],
        summary: 'Withdraw your consent to an application (user tokens only)',
        security: userSecurity,
        params: publicKeyParam,
        response: { 204: { type: 'null' }, 403: { $ref: 'Problem#' }, ...authErrors },
      },
    },
    revoke,
  );
}
