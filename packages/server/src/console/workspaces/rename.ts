import type { FastifyInstance, FastifyReply } from 'fastify';
import { updateWorkspace } from '../../domain/workspaces.ts';
import { ProblemError } from '../../errors/errors.ts';
import { formFields } from '../../http/session/csrf.ts';
import { fieldErrorsOf, textOf } from '../forms.ts';
import { adminForm, orgOf } from '../org/access.ts';
import { sendShellPage } from '../shell.ts';
import {
  sentence,
  type WorkspaceRequest,
  type WorkspaceRoute,
  workspaceOf,
  workspacePath,
} from './common.ts';
import { workspacePage } from './views.ts';

async function rename(request: WorkspaceRequest, reply: FastifyReply): Promise<FastifyReply> {
  const context = orgOf(request);
  const workspace = await workspaceOf(request, context);
  const label = textOf(formFields(request.body).label, 1000);
  try {
    await updateWorkspace(
      request.server.services.db,
      context.organization.tenantId,
      workspace.id,
      { label },
      context.actor,
    );
    return reply.redirect(`${workspacePath(context, workspace.id)}?done=renamed`, 303);
  } catch (error) {
    if (!(error instanceof ProblemError) || error.code !== 'validation_failed') throw error;
    const errors = fieldErrorsOf(error.errors.map((e) => ({ ...e, message: sentence(e.message) })));
    return sendShellPage(reply, context, {
      title: workspace.label,
      section: 'workspaces',
      status: 400,
      body: workspacePage(context, { workspace, label, errors }),
    });
  }
}

/** `POST /o/:tenantId/workspaces/:id`: renames a workspace (audited). */
export function renameWorkspaceRoute(pages: FastifyInstance): void {
  pages.post<WorkspaceRoute>(
    '/o/:tenantId/workspaces/:id',
    { preHandler: adminForm, schema: { hide: true } },
    rename,
  );
}
