import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { rotateApiKey } from '../../domain/api-keys.ts';
import { actorOf } from '../../http/actor.ts';
import { principalOf } from '../../http/authenticate.ts';
import { administrators } from '../guards.ts';
import { adminErrors, publicKeyParam, security } from '../schemas.ts';
import { apiKeyView } from './view.ts';

const body = {
  type: 'object',
  properties: {
    graceSeconds: {
      type: 'integer',
      minimum: 0,
      maximum: 86_400,
      default: 0,
      description: 'How long the current private key keeps working (0 to 24 h)',
    },
  },
  additionalProperties: false,
} as const;

type Request = FastifyRequest<{ Params: { publicKey: string }; Body: { graceSeconds: number } | undefined }>;

async function rotate(request: Request, reply: FastifyReply): Promise<FastifyReply> {
  const { db, caches } = request.server.services;
  const graceMs = (request.body?.graceSeconds ?? 0) * 1000;
  const options = { tenantId: principalOf(request).tenantId, caches };
  const issued = await rotateApiKey(db, request.params.publicKey, graceMs, actorOf(request), options);
  const previousKeyExpiresAt = new Date(Date.now() + graceMs).toISOString();
  const view = {
    ...apiKeyView(issued.key),
    last4: issued.privateKey.slice(-4),
    privateKey: issued.privateKey,
  };
  return reply.header('cache-control', 'no-store').send({ ...view, previousKeyExpiresAt });
}

/**
 * `POST /v1/api-keys/{publicKey}/rotate`: a new private key, shown this once; the current one works
 * for the grace period. A key cannot rotate itself, only an owner rotates an admin key, and of
 * rotations racing for one key, one wins (409).
 */
export function rotateApiKeyRoute(api: FastifyInstance): void {
  api.post<{ Params: { publicKey: string }; Body: { graceSeconds: number } | undefined }>(
    '/v1/api-keys/:publicKey/rotate',
    {
      preHandler: administrators(),
      schema: {
        tags: ['API keys'],
        summary: 'Rotate the private key of an API key (the new one is shown once)',
        security,
        params: publicKeyParam,
        body,
        response: {
          200: { $ref: 'IssuedApiKey#' },
          403: { $ref: 'Problem#' },
          409: { $ref: 'Problem#' },
          ...adminErrors,
        },
      },
    },
    rotate,
  );
}
