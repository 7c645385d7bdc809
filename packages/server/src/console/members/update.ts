import type { FastifyInstance, FastifyReply } from 'fastify';
import { updateMember } from '../../domain/members.ts';
import { ProblemError } from '../../errors/errors.ts';
import { formFields } from '../../http/session/csrf.ts';
import { type FieldErrors, textOf } from '../forms.ts';
import { adminForm, orgOf } from '../org/access.ts';
import { sendShellPage } from '../shell.ts';
import { sentence } from '../workspaces/common.ts';
import {
  checkWorkspaceCount,
  formErrorsOf,
  type MemberRequest,
  type MemberRoute,
  memberOfUrl,
  memberPath,
  workspaceChoices,
  workspaceIdsOf,
} from './common.ts';
import { memberPage, nameOf } from './views.ts';

/** Where a refusal shows: a bad field beside it; the owner rules (403, 409 for the last owner) beside the role. */
function refusalOf(error: ProblemError): { status: number; errors: FieldErrors; general?: string } {
  const detail = sentence(error.detail ?? error.message);
  switch (error.code) {
    case 'validation_failed':
      return error.errors.length
        ? { status: 400, errors: formErrorsOf(error.errors) }
        : { status: 400, errors: {}, general: detail };
    case 'forbidden':
    case 'conflict':
      return { status: error.status, errors: { role: detail } };
    default:
      throw error;
  }
}

async function update(request: MemberRequest, reply: FastifyReply): Promise<FastifyReply> {
  const context = orgOf(request);
  const member = await memberOfUrl(request, context);
  const { db, caches } = request.server.services;
  const tenantId = context.organization.tenantId;
  const fields = formFields(request.body);
  const role = textOf(fields.role, 20);
  const workspaceIds = workspaceIdsOf(fields.workspaceIds);
  try {
    checkWorkspaceCount(workspaceIds);
    // Workspaces limit members only: for an owner or admin the domain clears them.
    const changes = { role, workspaceIds: role === 'member' ? workspaceIds : undefined };
    await updateMember(db, tenantId, member.id, changes, context.actor, caches);
  } catch (error) {
    if (!(error instanceof ProblemError)) throw error;
    const { status, errors, general } = refusalOf(error);
    const choices = await workspaceChoices(db, tenantId, [...workspaceIds, ...(member.workspaceIds ?? [])]);
    return sendShellPage(reply, context, {
      title: nameOf(member),
      section: 'members',
      status,
      body: memberPage(context, { member, choices, role, workspaceIds, errors, general }),
    });
  }
  // Someone who made themselves a member no longer manages the organization: to their own account page.
  if (member.id === context.user.id && role === 'member') return reply.redirect('/console', 303);
  return reply.redirect(`${memberPath(context, member.id)}?done=updated`, 303);
}

/** `POST /o/:tenantId/members/:userId`: changes a member's role and workspaces (audited). */
export function updateMemberRoute(pages: FastifyInstance): void {
  pages.post<MemberRoute>(
    '/o/:tenantId/members/:userId',
    { preHandler: adminForm, schema: { hide: true } },
    update,
  );
}
