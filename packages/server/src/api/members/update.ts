import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type MemberChanges, updateMember } from '../../domain/members.ts';
import { actorOf } from '../../http/actor.ts';
import { principalOf } from '../../http/authenticate.ts';
import { administrators } from '../guards.ts';
import { adminErrors, idParam, security } from '../schemas.ts';
import { memberView } from './view.ts';

const body = {
  type: 'object',
  properties: {
    role: { type: 'string', enum: ['owner', 'admin', 'member'] },
    workspaceIds: {
      type: 'array',
      maxItems: 500,
      items: { type: 'integer', minimum: 1, maximum: 2_147_483_647 },
      description: 'Limits a member to these workspaces; empty: every workspace',
    },
  },
  additionalProperties: false,
  minProperties: 1,
} as const;

type Request = FastifyRequest<{ Params: { userId: number }; Body: MemberChanges }>;

async function update(request: Request) {
  const { db, caches } = request.server.services;
  const { tenantId } = principalOf(request);
  return memberView(
    await updateMember(db, tenantId, request.params.userId, request.body, actorOf(request), caches),
  );
}

/**
 * `PATCH /v1/members/{userId}`: a member's role and workspaces. Only an owner makes or unmakes an
 * owner; the last owner cannot be demoted (409).
 */
export function updateMemberRoute(api: FastifyInstance): void {
  api.patch<{ Params: { userId: number }; Body: MemberChanges }>(
    '/v1/members/:userId',
    {
      preHandler: administrators(),
      schema: {
        tags: ['Members'],
        summary: "Change a member's role or workspaces",
        security,
        params: idParam('userId'),
        body,
        response: {
          200: { $ref: 'Member#' },
          403: { $ref: 'Problem#' },
          409: { $ref: 'Problem#' },
          ...adminErrors,
        },
      },
    },
    update,
  );
}
