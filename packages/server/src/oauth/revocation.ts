import type { FastifyInstance } from 'fastify';
import type { ApiKey } from '../domain/types.ts';
import { OAuthError } from '../errors/errors.ts';
import { corsForKey } from '../http/cors.ts';
import type { Services } from '../services.ts';
import { checkAccessToken } from './access-token-verify.ts';
import { authenticateClient } from './client-auth.ts';
import { formParams } from './form-body.ts';
import { oauthOf } from './runtime.ts';
import { revokeRefreshToken } from './token/refresh-token.ts';

export interface RevocationContext {
  token: string;
  /** RFC 7009 2.1 `token_type_hint`: a hint only; every revoker still gets the token. */
  hint: string | undefined;
  client: ApiKey;
  services: Services;
}

/**
 * Revokes the token if it is of this revoker's kind and belongs to `client`. Returns whether the token
 * was recognized, so that the next kinds are not tried. A token of another client is recognized and
 * left alone: RFC 7009 2.1 lets the server refuse it, and 2.2 answers 200 either way.
 */
export type TokenRevoker = (context: RevocationContext) => Promise<boolean>;

/** JWT access tokens: their jti goes on the denylist until their exp. */
export const revokeAccessToken: TokenRevoker = async ({ token, client, services }) => {
  const { keyRing, denylist } = oauthOf(services);
  const checked = await checkAccessToken(keyRing, token, {
    issuer: services.config.issuer,
    now: Date.now(),
    allowExpired: true,
  });
  if (!checked.ok) return false;
  const { claims } = checked;
  if (claims.client_id !== client.publicKey || claims.exp * 1000 <= Date.now()) return true;
  await denylist.revoke({ jti: claims.jti, clientId: claims.client_id, expiresAt: claims.exp * 1000 });
  return true;
};

/** Token kinds that can be revoked, tried in order (the refresh-token revoker joins this list). */
export const REVOKERS: TokenRevoker[] = [revokeRefreshToken, revokeAccessToken];

/**
 * `POST /connect/revocation` (RFC 7009): client-authenticated; answers 200 whether or not the token
 * was known, valid, or the client's own (2.2), so it reveals nothing about other clients' tokens.
 */
export function revocationRoute(app: FastifyInstance): void {
  app.post('/connect/revocation', { schema: { hide: true } }, async (request, reply) => {
    const params = formParams(request);
    const client = await authenticateClient(request, params, app.services);
    corsForKey(reply, request.headers.origin, client);
    const token = params.get('token');
    if (token === undefined) throw new OAuthError('invalid_request', 'token is required');
    const context = { token, hint: params.get('token_type_hint'), client, services: app.services };
    for (const revoke of REVOKERS) if (await revoke(context)) break;
    return reply.code(200).header('cache-control', 'no-store').send();
  });
}
