import type { FastifyInstance, FastifyRequest } from 'fastify';
import { updateWorkspace, type WorkspaceChanges } from '../../domain/workspaces.ts';
import { actorOf } from '../../http/actor.ts';
import { principalOf } from '../../http/authenticate.ts';
import type { Workspace } from '../../model/types.ts';
import { administrators } from '../guards.ts';
import { adminErrors, idParam, security } from '../schemas.ts';
import { WORKSPACE_SETTINGS } from './settings.ts';

const body = {
  type: 'object',
  properties: {
    label: { type: 'string', minLength: 1, maxLength: 200 },
    state: { type: 'string', enum: ['Active', 'Archived'], description: 'Archived: listed, read-only' },
    ...WORKSPACE_SETTINGS,
  },
  additionalProperties: false,
  minProperties: 1,
} as const;

type Request = FastifyRequest<{ Params: { id: number }; Body: WorkspaceChanges }>;

function update(request: Request): Promise<Workspace> {
  const { tenantId } = principalOf(request);
  return updateWorkspace(
    request.server.services.db,
    tenantId,
    request.params.id,
    request.body,
    actorOf(request),
  );
}

/** `PATCH /v1/workspaces/{id}`: rename, change the settings, archive or restore a workspace. */
export function updateWorkspaceRoute(api: FastifyInstance): void {
  api.patch<{ Params: { id: number }; Body: WorkspaceChanges }>(
    '/v1/workspaces/:id',
    {
      preHandler: administrators(),
      schema: {
        tags: ['Workspaces'],
        summary: 'Change a workspace (label, logo, retention, archived or not)',
        security,
        params: idParam('id'),
        body,
        response: { 200: { $ref: 'Workspace#' }, ...adminErrors },
      },
    },
    update,
  );
}
