import type { FastifyInstance } from 'fastify';
import { ENDPOINTS } from './discovery.ts';
import { DOCUMENTED_ONLY } from './schemas.ts';

const schema = {
  tags: ['OAuth2'],
  summary: 'The keys that verify access tokens and ID tokens (JWKS)',
  description:
    'RFC 7517. Public, cacheable for 1 minute: after a rotation, fetch it again on an unknown `kid`.',
  produces: ['application/jwk-set+json'],
  response: { 200: { description: 'The key set', $ref: 'JsonWebKeySet#' } },
};

/**
 * `GET /.well-known/openid-configuration/jwks` (RFC 7517): the public parts of the active key of each
 * algorithm (EC for ES256, RSA for RS256) and of every retired key that may still have valid tokens. Short cache lifetime: after a rotation, resource
 * servers must see the new key soon (clients also refetch on an unknown kid).
 */
export function jwksRoute(app: FastifyInstance): void {
  app.get(ENDPOINTS.jwks, { schema, ...DOCUMENTED_ONLY }, async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=60').type('application/jwk-set+json');
    return app.services.keyRing.jwks();
  });
}
