import type { FastifyInstance, FastifyRequest } from 'fastify';
import { getKeyListing, updateKey } from '../../domain/api-keys.ts';
import { actorOf } from '../../http/actor.ts';
import { principalOf } from '../../http/authenticate.ts';
import { CORS_ORIGINS, REDIRECT_URIS } from '../admin-schemas.ts';
import { administrators } from '../guards.ts';
import { adminErrors, publicKeyParam, security } from '../schemas.ts';
import { apiKeyView } from './view.ts';

interface Body {
  label?: string;
  redirectUris?: string[];
  corsOrigins?: string[];
  expiresAt?: string | null;
}

const body = {
  type: 'object',
  properties: {
    label: { type: 'string', minLength: 1, maxLength: 200 },
    redirectUris: REDIRECT_URIS,
    corsOrigins: CORS_ORIGINS,
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
 * `PATCH /v1/api-keys/{publicKey}`: label, redirect URLs, CORS origins and expiry (never the scope,
 * the permissions or the secret). A key cannot change itself, and only an owner changes an admin key.
 * Applied on this instance before the answer: a new redirect URL
 * works at once, a removed CORS origin is refused at once.
 */
export function updateApiKeyRoute(api: FastifyInstance): void {
  api.patch<{ Params: { publicKey: string }; Body: Body }>(
    '/v1/api-keys/:publicKey',
    {
      preHandler: administrators(),
      schema: {
        tags: ['API keys'],
        summary: "Change an API key's label, redirect URLs, CORS origins or expiry",
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
