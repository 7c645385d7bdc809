import type { preHandlerAsyncHookHandler } from 'fastify';
import { API_SCOPE } from '../domain/scopes.ts';
import { authenticate } from '../http/authenticate.ts';
import { requireScope } from '../http/require-scope.ts';

/**
 * The pre-handlers of an authenticated REST route: a credential, the REST API's scope, then the
 * route's own checks. A new array every time: the rate-limit plugin appends its hook to the array a
 * route declares, so a shared one would collect every route's limiter.
 */
export function authenticated(...checks: preHandlerAsyncHookHandler[]): preHandlerAsyncHookHandler[] {
  return [authenticate, requireScope(API_SCOPE), ...checks];
}
