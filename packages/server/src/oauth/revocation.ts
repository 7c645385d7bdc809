import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { checkAccessToken } from '../auth/access-token-verify.ts';
import { isRefreshToken, revokeRefreshTokenOf } from '../domain/refresh-tokens.ts';
import { OAuthError } from '../errors/errors.ts';
import { corsForClient } from '../http/cors.ts';
import type { ApiKey } from '../model/types.ts';
import type { Services } from '../services.ts';
import { authenticateClient, clientOf } from './client-auth.ts';
import { formParams } from './form-body.ts';
import { clientErrors, clientSecurity, DOCUMENTED_ONLY, tokenFormSchema } from './schemas.ts';

export interface RevocationContext {
  token: string;
  client: ApiKey;
  services: Services;
}

/**
 * Revokes the token if it is of this revoker's kind and belongs to `client`. Returns whether the token
 * was recognized, so that the next kinds are not tried. A token of another client is recognized and
 * left alone: RFC 7009 2.1 lets the server refuse it, and 2.2 answers 200 either way. The
 * `token_type_hint` is only a hint (2.1): every kind is tried whatever it says.
 */
export type TokenRevoker = (context: RevocationContext) => Promise<boolean>;

/** Refresh tokens: the whole grant is revoked, with the access tokens issued from it (2.1). */
const revokeRefreshToken: TokenRevoker = async ({ token, client, services }) => {
  if (!isRefreshToken(token)) return false;
  await revokeRefreshTokenOf(services.db, services.denylist, token, client);
  return true;
};

/** JWT access tokens: their jti goes on the denylist until their exp. */
const revokeAccessToken: TokenRevoker = async ({ token, client, services }) => {
  const checked = await checkAccessToken(services.keyRing, token, {
    issuer: services.config.issuer,
    now: Date.now(),
    allowExpired: true,
  });
  if (!checked.ok) return false;
  const { claims } = checked;
  if (claims.client_id !== client.publicKey || claims.exp * 1000 <= Date.now()) return true;
  await services.denylist.revoke({
    jti: claims.jti,
    clientId: claims.client_id,
    expiresAt: claims.exp * 1000,
  });
  return true;
};

/** Token kinds that can be revoked, tried in order. */
const REVOKERS: TokenRevoker[] = [revokeRefreshToken, revokeAccessToken];

/** Revokes the posted token; answers 200 whether or not it was known, valid, or the client's own. */
async function revoke(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const token = formParams(request).get('token');
  if (token === undefined) throw new OAuthError('invalid_request', 'token is required');
  const context = { token, client: clientOf(request), services: request.server.services };
  for (const revoker of REVOKERS) if (await revoker(context)) break;
  return reply.code(200).send();
}

const schema = {
  tags: ['OAuth2'],
  summary: 'Revoke an access token or a refresh token',
  description:
    'RFC 7009. A refresh token takes the access tokens issued from it along. Client authentication as at the token endpoint: a public client revokes its own tokens with its `client_id` alone (2.1).',
  security: clientSecurity,
  consumes: ['application/x-www-form-urlencoded'],
  body: tokenFormSchema,
  response: {
    200: {
      description:
        'Revoked, or not a live token of this client: the same empty answer either way (RFC 7009 2.2)',
      type: 'null',
    },
    ...clientErrors,
  },
};

/**
 * `POST /connect/revocation` (RFC 7009): client-authenticated, a public client by its client_id alone
 * (2.1: it can revoke only tokens issued to it, so naming itself suffices); answers 200 whether or not the token
 * was known, valid, or the client's own (2.2), so it reveals nothing about other clients' tokens.
 */
export function revocationRoute(connect: FastifyInstance): void {
  connect.post(
    '/connect/revocation',
    {
      schema,
      ...DOCUMENTED_ONLY,
      config: { rateLimit: false },
      preHandler: [authenticateClient, corsForClient],
    },
    revoke,
  );
}
