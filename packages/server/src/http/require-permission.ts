import type { FastifyReply, FastifyRequest } from 'fastify';
import { permits } from '../domain/permissions.ts';
import { ProblemError } from '../errors/errors.ts';
import type { Permission } from '../model/types.ts';
import { principalOf } from './authenticate.ts';

type PreHandler = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

/**
 * Pre-handler of the data API's changes, after `authenticate`: a `read` credential may use only safe
 * methods; anything else is 403 `insufficient_permission` (the resource exists: the caller may read it).
 */
export function requirePermission(permission: Exclude<Permission, 'admin'>): PreHandler {
  return async function requirePermissionOf(request) {
    const principal = principalOf(request);
    if (!permits(principal.permissions, permission)) {
      throw new ProblemError(
        'insufficient_permission',
        `this credential has the ${principal.permissions} permission; ${permission} is needed`,
      );
    }
  };
}

/**
 * Pre-handler of the admin API, after `authenticate`: an `admin` credential of the whole organization
 * (an admin key, or a token through an admin key). To anyone else the admin API does not exist: 404,
 * never 403 (DESIGN.md 1: no existence oracle).
 */
export async function requireAdmin(request: FastifyRequest): Promise<void> {
  const principal = principalOf(request);
  if (!permits(principal.permissions, 'admin') || principal.workspaceId !== null) {
    throw new ProblemError('not_found', 'nothing here is in the scope of this credential');
  }
}

/** Pre-handler of what a signed-in person does for themselves (their consents): a user token only. */
export async function requireUser(request: FastifyRequest): Promise<void> {
  if (!principalOf(request).user)
    throw new ProblemError('not_found', 'this resource exists only for a user token');
}
