import type { FastifyReply, FastifyRequest } from 'fastify';
import { ProblemError } from '../errors/errors.ts';
import type { Role } from '../model/types.ts';
import { principalOf } from './authenticate.ts';

/**
 * Pre-handler, after `authenticate`: a user's token must be of a user with one of `roles` in the
 * token's organization. Anyone else is told the resource does not exist (404, DESIGN.md 1: no
 * existence oracle). A key acting for itself has no user and no role: what it may do is the route's
 * own rule.
 */
export function requireRole(
  ...roles: Role[]
): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  return async function requireRoleOf(request) {
    const { user } = principalOf(request);
    if (user && !roles.includes(user.role)) {
      throw new ProblemError('not_found', 'nothing here is in the scope of this credential');
    }
  };
}
