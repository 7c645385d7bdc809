import type { FastifyReply, FastifyRequest } from 'fastify';
import { hasScope, type Scope } from '../domain/scopes.ts';
import { principalOf, refuse } from './authenticate.ts';

/**
 * Pre-handler, after `authenticate`: the principal's scope must include `scope`. An API key always
 * carries `api1`; a token carries what was granted, and a token without the REST API's scope is no
 * credential for it (401 `invalid_token`, like any token this API does not accept).
 */
export function requireScope(scope: Scope): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  return async function requireScopeOf(request) {
    if (!hasScope(principalOf(request).scope, scope)) {
      throw refuse(`the access token lacks the ${scope} scope`, true);
    }
  };
}
