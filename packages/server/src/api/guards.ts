import type { preHandlerAsyncHookHandler } from 'fastify';
import { API_SCOPE } from '../domain/scopes.ts';
import { authenticate } from '../http/authenticate.ts';
import { requireAdmin } from '../http/require-permission.ts';
import { requireRole } from '../http/require-role.ts';
import { requireScope } from '../http/require-scope.ts';

/**
 * The pre-handlers of an authenticated REST route: a credential, the REST API's scope, then the
 * route's own checks (the per-credential rate limit is added after them: http/rate-limit.ts).
 */
export function authenticated(...checks: preHandlerAsyncHookHandler[]): preHandlerAsyncHookHandler[] {
  return [authenticate, requireScope(API_SCOPE), ...checks];
}

/**
 * The pre-handlers of an admin route: an `admin` credential of the whole organization, and for a user
 * token an owner or admin (404 to anyone else).
 */
export function administrators(...checks: preHandlerAsyncHookHandler[]): preHandlerAsyncHookHandler[] {
  return authenticated(requireAdmin, requireRole('owner', 'admin'), ...checks);
}
