import type { FastifyInstance, FastifyRequest } from 'fastify';
import { getKeyListing } from '../../domain/api-keys.ts';
import { principalOf } from '../../http/authenticate.ts';
import { administrators } from '../guards.ts';
import { adminErrors, publicKeyParam, security } from '../schemas.ts';
import { apiKeyView } from './view.ts';

type Request = FastifyRequest<{ Params: { publicKey: string } }>;

async function get(request: Request) {
  const { db } = request.server.services;
  return apiKeyView(await getKeyListing(db, request.params.publicKey, principalOf(request).tenantId));
}

/** `GET /v1/api-keys/{publicKey}`: one key of the organization; another's is 404. */
export function getApiKeyRoute(api: FastifyInstance): void {
  api.get<{ Params: { publicKey: string } }>(
    '/v1/api-keys/:publicKey',
    {
      preHandler: administrators(),
      schema: {
        tags: ['API keys'],
        summary: 'One API key',
        security,
        params: publicKeyParam,
        response: { 200: { $ref: 'ApiKey#' }, ...adminErrors },
      },
    },
    get,
  );
}
