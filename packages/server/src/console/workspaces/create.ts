import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createWorkspace } from '../../domain/workspaces.ts';
import { ProblemError } from '../../errors/errors.ts';
import { formFields } from '../../http/session/csrf.ts';
import { fieldErrorsOf, textOf } from '../forms.ts';
import { adminForm, orgOf } from '../org/access.ts';
import { sendShellPage } from '../shell.ts';
import { sentence, workspacePath } from './common.ts';
import { newWorkspacePage } from './views.ts';

async function create(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const context = orgOf(request);
  const label = textOf(formFields(request.body).label, 1000);
  try {
    const workspace = await createWorkspace(
      request.server.services.db,
      context.organization.tenantId,
      label,
      context.actor,
    );
    return reply.redirect(`${workspacePath(context, workspace.id)}?done=created`, 303);
  } catch (error) {
    if (!(error instanceof ProblemError) || error.code !== 'validation_failed') throw error;
    // The name stays as typed, with the reason beside it.
    const errors = fieldErrorsOf(error.errors.map((e) => ({ ...e, message: sentence(e.message) })));
    return sendShellPage(reply, context, {
      title: 'New workspace',
      section: 'workspaces',
      status: 400,
      body: newWorkspacePage(
        context,
        { label },
        errors,
        error.errors.length ? undefined : sentence(error.message),
      ),
    });
  }
}

/** `POST /o/:tenantId/workspaces`: creates a workspace (audited), then shows it. */
export function createWorkspaceRoute(pages: FastifyInstance): void {
  pages.post('/o/:tenantId/workspaces', { preHandler: adminForm, schema: { hide: true } }, create);
}
