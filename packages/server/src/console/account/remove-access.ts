import type { FastifyReply, FastifyRequest } from 'fastify';
import { userActor } from '../../domain/audit.ts';
import { revokeConsent } from '../../domain/consents.ts';
import { isPublicKey } from '../../domain/key-format.ts';
import { checkCsrf } from '../../http/session/csrf.ts';
import { csrfFailure } from '../error-pages.ts';
import { signInPath } from '../sign-in/return-to.ts';
import { signedInUser } from './signed-in-user.ts';

export type Removal = { done: false; reply: FastifyReply } | { done: true; removed: boolean };

/**
 * Withdraws the signed-in user's consent to the key named in the path, once the CSRF token (from the
 * form or the `X-CSRF-Token` header) checks out: the key's tokens for this user die with it.
 */
export async function removeAccess(
  request: FastifyRequest<{ Params: { publicKey: string } }>,
  reply: FastifyReply,
  token: unknown,
): Promise<Removal> {
  if (!checkCsrf(request, token)) return { done: false, reply: csrfFailure(reply) };
  const user = await signedInUser(request);
  if (!user) return { done: false, reply: reply.redirect(signInPath('/console'), 303) };
  const { publicKey } = request.params;
  const { db, denylist } = request.server.services;
  const removed =
    isPublicKey(publicKey) &&
    (await revokeConsent(db, denylist, user.id, publicKey, userActor(user.id, request.ip)));
  return { done: true, removed };
}
