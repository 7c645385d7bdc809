import type { FastifyInstance, FastifyRequest } from 'fastify';
import { listVisibleWorkspaces } from '../../domain/workspaces.ts';
import { principalOf } from '../../http/authenticate.ts';
import type { Page, PageQuery, Workspace } from '../../model/types.ts';
import { authenticated } from '../guards.ts';
import { authErrors, pageOf, pageQuerySchema, security, WORKSPACES_EXAMPLE } from '../schemas.ts';

type Request = FastifyRequest<{ Querystring: PageQuery }>;

function listWorkspaces(request: Request): Promise<Page<Workspace>> {
  return listVisibleWorkspaces(request.server.services.db, principalOf(request), request.query);
}

/** `GET /v1/workspaces`: the workspaces the principal may see, paged. */
export function listWorkspacesRoute(api: FastifyInstance): void {
  api.get<{ Querystring: PageQuery }>(
    '/v1/workspaces',
    {
      preHandler: authenticated(),
      schema: {
        tags: ['Workspaces'],
        summary: 'List the workspaces the caller may see',
        security,
        querystring: pageQuerySchema,
        response: { 200: pageOf('Workspace', WORKSPACES_EXAMPLE), ...authErrors },
      },
    },
    listWorkspaces,
  );
}
