import type { FastifyInstance, FastifyRequest } from 'fastify';
import { getKeyListing, updateKey } from '../../domain/api-keys.ts';
import { invalidField } from '../../errors/errors.ts';
import { actorOf } from '../../http/actor.ts';
import { principalOf } from '../../http/authenticate.ts';
import type { IdTokenAlgorithm } from '../../model/types.ts';
import {
  CORS_ORIGINS,
  ID_TOKEN_ALGORITHM,
  POST_LOGOUT_REDIRECT_URIS,
  REDIRECT_URIS,
} from '../admin-schemas.ts';
import { administrators } from '../guards.ts';
import { adminErrors, publicKeyParam, security } from '../schemas.ts';
import { apiKeyView } from './view.ts';

interface Body {
  label?: string;
  redirectUris?: string[];
  corsOrigins?: string[];
  postLogoutRedirectUris?: string[];
  idTokenSignedResponseAlg?: IdTokenAlgorithm;
  expiresAt?: string | null;
}

const body = {
  type: 'object',
  properties: {
    label: { type: 'string', minLength: 1, maxLength: 200 },
    redirectUris: REDIRECT_URIS,
    corsOrigins: CORS_ORIGINS,
    postLogoutRedirectUris: POST_LOGOUT_REDIRECT_URIS,
    idTokenSignedResponseAlg: ID_TOKEN_ALGORITHM,
    expiresAt: {
      type: ['string', 'null'],
      format: 'date-time',
      description: 'null: the key no longer expires',
    },
  },
  additionalProperties: false,
  minProperties: 1,
} as const;

type Request = FastifyRequest<{ Params: { publicKey: string }; Body: Body }>;

/**
 * A key's client type is fixed at creation: a confidential key turned public would keep private keys
 * that still work, and a public one turned confidential would have none. Refused before the schema,
 * which would only say that `clientType` is not a known field, so that the caller learns why.
 */
async function refuseClientTypeChange(request: FastifyRequest): Promise<void> {
  const { body: sent } = request;
  if (typeof sent === 'object' && sent !== null && Object.hasOwn(sent, 'clientType'))
    throw invalidField(
      'clientType',
      'the client type is set when a key is created and never changes; create a new key instead',
    );
}

async function update(request: Request) {
  const { db, caches } = request.server.services;
  const { tenantId } = principalOf(request);
  const { expiresAt, ...rest } = request.body;
  const changes = {
    ...rest,
    ...(expiresAt !== undefined ? { expiresAt: expiresAt === null ? null : Date.parse(expiresAt) } : {}),
  };
  await updateKey(db, request.params.publicKey, changes, actorOf(request), { tenantId, caches });
  return apiKeyView(await getKeyListing(db, request.params.publicKey, tenantId));
}

/**
 * `PATCH /v1/api-keys/{publicKey}`: label, redirect URLs, CORS origins, post-logout redirect URLs,
 * ID token algorithm and expiry (never the scope, the permissions, the client type or the secret). A
 * key cannot change itself, and only an owner changes an admin key. Applied on this instance before
 * the answer: a new redirect URL works at once, a removed CORS origin is refused at once.
 */
export function updateApiKeyRoute(api: FastifyInstance): void {
  api.patch<{ Params: { publicKey: string }; Body: Body }>(
    '/v1/api-keys/:publicKey',
    {
      preValidation: refuseClientTypeChange,
      preHandler: administrators(),
      schema: {
        tags: ['API keys'],
        summary:
          "Change an API key's label, redirect URLs, CORS origins, post-logout redirect URLs, ID token algorithm or expiry",
        description: 'The client type is set at creation: a body with `clientType` is refused (400).',
        security,
        params: publicKeyParam,
        body,
        response: {
          200: { $ref: 'ApiKey#' },
          403: { $ref: 'Problem#' },
          409: { $ref: 'Problem#' },
          ...adminErrors,
        },
      },
    },
    update,
  );
}
