import type { FastifyInstance, FastifyRequest } from 'fastify';
import { getVisibleWorkspace } from '../../domain/workspaces.ts';
import { principalOf } from '../../http/authenticate.ts';
import type { Workspace } from '../../model/types.ts';
import { authenticated } from '../guards.ts';
import { authErrors, idParam, security } from '../schemas.ts';

type Request = FastifyRequest<{ Params: { id: number } }>;

function getWorkspace(request: Request): Promise<Workspace> {
  return getVisibleWorkspace(request.server.services.db, principalOf(request), request.params.id);
}

/** `GET /v1/workspaces/{id}`: one workspace in the principal's scope; any other is 404. */
export function getWorkspaceRoute(api: FastifyInstance): void {
  api.get<{ Params: { id: number } }>(
    '/v1/workspaces/:id',
    {
      preHandler: authenticated(),
      schema: {
        tags: ['Workspaces'],
        summary: 'One workspace',
        security,
        params: idParam('id'),
        response: { 200: { $ref: 'Workspace#' }, ...authErrors },
      },
    },
    getWorkspace,
  );
}
