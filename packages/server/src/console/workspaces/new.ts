import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { adminPage, orgOf } from '../org/access.ts';
import { sendShellPage } from '../shell.ts';
import { newWorkspacePage } from './views.ts';

async function showNewWorkspace(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const context = orgOf(request);
  return sendShellPage(reply, context, {
    title: 'New workspace',
    section: 'workspaces',
    body: newWorkspacePage(context, { label: '' }, {}),
  });
}

/** `GET /o/:tenantId/workspaces/new`: the form that creates a workspace. */
export function newWorkspaceRoute(pages: FastifyInstance): void {
  pages.get(
    '/o/:tenantId/workspaces/new',
    { preHandler: adminPage, schema: { hide: true } },
    showNewWorkspace,
  );
}
