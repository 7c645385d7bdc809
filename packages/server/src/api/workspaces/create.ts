import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createWorkspace } from '../../domain/workspaces.ts';
import { actorOf } from '../../http/actor.ts';
import { principalOf } from '../../http/authenticate.ts';
import { administrators } from '../guards.ts';
import { adminErrors, security } from '../schemas.ts';
import { WORKSPACE_SETTINGS } from './settings.ts';

interface Body {
  label: string;
  logoUrl?: string | null;
  dataSubjectArchivedRetentionDays?: number | null;
}

const body = {
  type: 'object',
  properties: { label: { type: 'string', minLength: 1, maxLength: 200 }, ...WORKSPACE_SETTINGS },
  required: ['label'],
  additionalProperties: false,
} as const;

async function create(request: FastifyRequest<{ Body: Body }>, reply: FastifyReply): Promise<FastifyReply> {
  const { label, ...settings } = request.body;
  const workspace = await createWorkspace(
    request.server.services.db,
    principalOf(request).tenantId,
    label,
    actorOf(request),
    settings,
  );
  return reply.code(201).send(workspace);
}

/** `POST /v1/workspaces`: a new workspace of the organization. */
export function createWorkspaceRoute(api: FastifyInstance): void {
  api.post<{ Body: Body }>(
    '/v1/workspaces',
    {
      preHandler: administrators(),
      schema: {
        tags: ['Workspaces'],
        summary: 'Create a workspace',
        security,
        body,
        response: { 201: { $ref: 'Workspace#' }, ...adminErrors },
      },
    },
    create,
  );
}
