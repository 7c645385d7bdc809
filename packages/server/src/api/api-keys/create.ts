import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createApiKey } from '../../domain/api-keys.ts';
import { actorOf } from '../../http/actor.ts';
import { principalOf } from '../../http/authenticate.ts';
import type { ClientType, IdTokenAlgorithm, Permission } from '../../model/types.ts';
import {
  CLIENT_TYPE,
  CORS_ORIGINS,
  ID_TOKEN_ALGORITHM,
  POST_LOGOUT_REDIRECT_URIS,
  REDIRECT_URIS,
} from '../admin-schemas.ts';
import { administrators } from '../guards.ts';
import { adminErrors, security } from '../schemas.ts';
import { apiKeyView } from './view.ts';

interface Body {
  label: string;
  workspaceId?: number | null;
  permissions?: Permission;
  redirectUris?: string[];
  corsOrigins?: string[];
  clientType?: ClientType;
  postLogoutRedirectUris?: string[];
  idTokenSignedResponseAlg?: IdTokenAlgorithm;
  expiresAt?: string;
  expiresIn?: number;
}

const body = {
  type: 'object',
  properties: {
    label: { type: 'string', minLength: 1, maxLength: 200 },
    workspaceId: { type: ['integer', 'null'], minimum: 1, maximum: 2_147_483_647 },
    permissions: { type: 'string', enum: ['read', 'write', 'admin'], default: 'write' },
    redirectUris: REDIRECT_URIS,
    corsOrigins: CORS_ORIGINS,
    clientType: { ...CLIENT_TYPE, default: 'confidential' },
    postLogoutRedirectUris: POST_LOGOUT_REDIRECT_URIS,
    idTokenSignedResponseAlg: { ...ID_TOKEN_ALGORITHM, default: 'RS256' },
    expiresAt: { type: 'string', format: 'date-time', description: 'When the key stops working' },
    expiresIn: { type: 'integer', minimum: 1, maximum: 315_360_000, description: 'Lifetime in seconds' },
  },
  required: ['label'],
  additionalProperties: false,
} as const;

async function create(request: FastifyRequest<{ Body: Body }>, reply: FastifyReply): Promise<FastifyReply> {
  const { body: input } = request;
  const issued = await createApiKey(
    request.server.services.db,
    {
      tenantId: principalOf(request).tenantId,
      workspaceId: input.workspaceId,
      label: input.label,
      permissions: input.permissions,
      redirectUris: input.redirectUris,
      corsOrigins: input.corsOrigins,
      clientType: input.clientType,
      postLogoutRedirectUris: input.postLogoutRedirectUris,
      idTokenSignedResponseAlg: input.idTokenSignedResponseAlg,
      expiresAt: input.expiresAt === undefined ? undefined : Date.parse(input.expiresAt),
      expiresInMs: input.expiresIn === undefined ? undefined : input.expiresIn * 1000,
    },
    actorOf(request),
  );
  // Preflights from the new key's origins are allowed at once on this instance.
  await request.server.services.caches.keyChanged(issued.key.id);
  // A public client has no private key: `privateKey` is null (present, so that every answer has the
  // same fields), and so is `last4`.
  const view = {
    ...apiKeyView(issued.key),
    last4: issued.privateKey?.slice(-4) ?? null,
    privateKey: issued.privateKey,
  };
  // The private key is in this answer only: nothing may keep a copy of it (RFC 9111 5.2.2.5).
  return reply.code(201).header('cache-control', 'no-store').send(view);
}

/**
 * `POST /v1/api-keys`: a new key, with its private key shown this once. Only an owner creates an
 * `admin` key; an admin key creates `read` and `write` keys only. A `public` client (a single-page or
 * native app, which cannot keep a secret) gets no private key: `privateKey` is null.
 */
export function createApiKeyRoute(api: FastifyInstance): void {
  api.post<{ Body: Body }>(
    '/v1/api-keys',
    {
      preHandler: administrators(),
      schema: {
        tags: ['API keys'],
        summary: 'Create an API key (its private key is shown once)',
        description:
          'A `clientType: "public"` key (a single-page or native app) has no private key: its `privateKey` and `last4` are null, and it signs people in with the authorization code flow and PKCE, authenticating by `client_id` alone.',
        security,
        body,
        response: { 201: { $ref: 'IssuedApiKey#' }, 403: { $ref: 'Problem#' }, ...adminErrors },
      },
    },
    create,
  );
}
