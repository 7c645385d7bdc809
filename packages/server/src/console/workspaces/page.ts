import type { FastifyInstance, FastifyReply } from 'fastify';
import { adminPage, orgOf } from '../org/access.ts';
import { sendShellPage } from '../shell.ts';
import { noticeOf, type WorkspaceRequest, type WorkspaceRoute, workspaceOf } from './common.ts';
import { ARCHIVED_MEANS, workspacePage } from './views.ts';

/** Notices of the workspace's page, by `?done=` code: fixed texts, never text from the URL. */
export const WORKSPACE_NOTICES = {
  created: 'Workspace created.',
  renamed: 'Workspace renamed.',
  archived: `Workspace archived. ${ARCHIVED_MEANS}`,
  restored: 'Workspace restored: its data can be changed again.',
} as const;

async function showWorkspace(request: WorkspaceRequest, reply: FastifyReply): Promise<FastifyReply> {
  const context = orgOf(request);
  const workspace = await workspaceOf(request, context);
  return sendShellPage(reply, context, {
    title: workspace.label,
    section: 'workspaces',
    body: workspacePage(context, { workspace, notice: noticeOf(WORKSPACE_NOTICES, request.query.done) }),
  });
}

/** `GET /o/:tenantId/workspaces/:id`: a workspace, to rename, archive or restore. */
export function workspacePageRoute(pages: FastifyInstance): void {
  pages.get<WorkspaceRoute>(
    '/o/:tenantId/workspaces/:id',
    { preHandler: adminPage, schema: { hide: true } },
    showWorkspace,
  );
}
