import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { answerOAuthErrors } from '../http/error-handler.ts';
import { discoveryRoutes } from './discovery.ts';
import { acceptOnlyForms } from './form-body.ts';
import { introspectionRoute } from './introspection.ts';
import { jwksRoute } from './jwks.ts';
import { revocationRoute } from './revocation.ts';
import { OAUTH_SCHEMAS } from './schemas.ts';
import { tokenRoute } from './token/index.ts';
import { userinfoRoute } from './userinfo.ts';

/** RFC 6749 5.1 and 5.2: responses with tokens, and the errors of these endpoints, are never cached. */
async function noStore(_request: FastifyRequest, reply: FastifyReply): Promise<void> {
  reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
}

/**
 * `/connect/token`, revocation, introspection and userinfo: one encapsulated scope, so that RFC 6749 5.2 errors,
 * form-only bodies, `no-store` and the per-address budget apply to these endpoints and nowhere else.
 * The authorization endpoint answers pages and redirects instead: it is registered with the pages.
 */
const connectScope: FastifyPluginAsync = async (connect) => {
  answerOAuthErrors(connect);
  acceptOnlyForms(connect);
  connect.addHook('onRequest', connect.budgets.limitAddress);
  connect.addHook('onRequest', noStore);
  tokenRoute(connect);
  revocationRoute(connect);
  introspectionRoute(connect);
  userinfoRoute(connect);
};

/** The authorization server's JSON endpoints: discovery and JWKS (public, cacheable), and `/connect/*`. */
export async function oauthRoutes(app: FastifyInstance): Promise<void> {
  // At the root, where the OpenAPI document resolves them (as the REST API's in api/index.ts).
  for (const schema of OAUTH_SCHEMAS) app.addSchema(schema);
  discoveryRoutes(app);
  jwksRoute(app);
  await app.register(connectScope);
}
