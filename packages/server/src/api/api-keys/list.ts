import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type KeyListQuery, listKeys } from '../../domain/api-keys.ts';
import { principalOf } from '../../http/authenticate.ts';
import { administrators } from '../guards.ts';
import { adminErrors, pageOf, pageQuerySchema, security } from '../schemas.ts';
import { apiKeyView } from './view.ts';

const querystring = {
  type: 'object',
  properties: {
    ...pageQuerySchema.properties,
    workspaceId: { type: 'integer', minimum: 1, maximum: 2_147_483_647 },
    status: { type: 'string', enum: ['active', 'revoked', 'expired'] },
  },
  additionalProperties: false,
} as const;

async function list(request: FastifyRequest<{ Querystring: KeyListQuery }>) {
  const page = await listKeys(request.server.services.db, principalOf(request).tenantId, request.query);
  const now = Date.now();
  return { items: page.items.map((key) => apiKeyView(key, now)), total: page.total };
}

/** `GET /v1/api-keys`: the organization's keys, paged, by workspace and status; never a private key. */
export function listApiKeysRoute(api: FastifyInstance): void {
  api.get<{ Querystring: KeyListQuery }>(
    '/v1/api-keys',
    {
      preHandler: administrators(),
      schema: {
        tags: ['API keys'],
        summary: "List the organization's API keys",
        security,
        querystring,
        response: { 200: pageOf('ApiKey'), ...adminErrors },
      },
    },
    list,
  );
}
