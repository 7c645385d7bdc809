import type { FastifyInstance, FastifyReply } from 'fastify';
import { updateWorkspace } from '../../domain/workspaces.ts';
import type { Workspace } from '../../model/types.ts';
import { adminForm, orgOf } from '../org/access.ts';
import { type WorkspaceRequest, type WorkspaceRoute, workspaceOf, workspacePath } from './common.ts';

/** A form that sets a workspace's state, then shows the workspace with what it now means. */
function setState(state: Workspace['state'], done: 'archived' | 'restored') {
  return async (request: WorkspaceRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const context = orgOf(request);
    const workspace = await workspaceOf(request, context);
    // Archiving an archived workspace (a second tab, a double submit) changes nothing and says so the same.
    if (workspace.state !== state)
      await updateWorkspace(
        request.server.services.db,
        context.organization.tenantId,
        workspace.id,
        { state },
        context.actor,
      );
    return reply.redirect(`${workspacePath(context, workspace.id)}?done=${done}`, 303);
  };
}

/**
 * `POST /o/:tenantId/workspaces/:id/archive` and `/restore`: an archived workspace stays listed and
 * readable, but its data cannot be changed until it is restored (audited).
 */
export function workspaceStateRoutes(pages: FastifyInstance): void {
  const options = { preHandler: adminForm, schema: { hide: true } };
  pages.post<WorkspaceRoute>(
    '/o/:tenantId/workspaces/:id/archive',
    options,
    setState('Archived', 'archived'),
  );
  pages.post<WorkspaceRoute>('/o/:tenantId/workspaces/:id/restore', options, setState('Active', 'restored'));
}
