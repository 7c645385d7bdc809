import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { KeyStatusFailure } from '../domain/api-keys.ts';

/**
 * Counts a refused request of a key that proved to be itself (its secret matched, or its token is
 * genuine) but is revoked, expired or rotated out. Called where the credential is checked
 * (`authenticate`, `authenticateClient`). A malformed or unknown credential names no key and counts
 * nowhere: counting a guessed public key would let anyone fill another organization's chart.
 */
export function countRefusedKey(request: FastifyRequest, keyId: number, code: KeyStatusFailure): void {
  request.server.services.usage.count(keyId, code);
}

/**
 * `onResponse` hook: a request whose key was accepted (`request.principal` on the REST API,
 * `request.client` on `/connect/*`) counts once, when answered: `rate_limited` when its key's budget
 * refused it, else `accepted`, whatever the route then answered. With an accepted credential, a 429 can
 * only come from the credential's own budget (the global limiter, or `limitClient` at the token
 * endpoint): the per-address budgets answer before a credential is accepted.
 */
async function countKeyUse(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const keyId = request.principal?.apiKey.id ?? request.client?.id;
  if (keyId === undefined) return;
  request.server.services.usage.count(keyId, reply.statusCode === 429 ? 'rate_limited' : 'accepted');
}

/**
 * Counts every request made with a known API key into the key's usage (services.usage: in memory,
 * written in batches). Registered before any other `onResponse` hook, so that the count is taken as
 * the response ends, not after another hook's await.
 */
export function keyUsageCounting(app: FastifyInstance): void {
  app.addHook('onResponse', countKeyUse);
}
