import type { FastifyInstance, FastifyReply } from 'fastify';
import { removeMember } from '../../domain/members.ts';
import { ProblemError } from '../../errors/errors.ts';
import { finishSession } from '../../http/session/session.ts';
import { adminForm, adminPage, orgOf, orgPath } from '../org/access.ts';
import { sendShellPage } from '../shell.ts';
import { signInPath } from '../sign-in/return-to.ts';
import { sentence } from '../workspaces/common.ts';
import { type MemberRequest, type MemberRoute, memberOfUrl } from './common.ts';
import { nameOf, removeMemberPage } from './views.ts';

async function confirmRemoval(request: MemberRequest, reply: FastifyReply): Promise<FastifyReply> {
  const context = orgOf(request);
  const member = await memberOfUrl(request, context);
  return sendShellPage(reply, context, {
    title: `Remove ${nameOf(member)}`,
    section: 'members',
    body: removeMemberPage(context, member),
  });
}

async function remove(request: MemberRequest, reply: FastifyReply): Promise<FastifyReply> {
  const context = orgOf(request);
  const member = await memberOfUrl(request, context);
  const { db, denylist, caches } = request.server.services;
  try {
    await removeMember(db, denylist, context.organization.tenantId, member.id, context.actor, caches);
  } catch (error) {
    // The owner rules: an admin cannot remove an owner (403), nobody the last owner (409).
    if (!(error instanceof ProblemError) || (error.code !== 'forbidden' && error.code !== 'conflict'))
      throw error;
    return sendShellPage(reply, context, {
      title: `Remove ${nameOf(member)}`,
      section: 'members',
      status: error.status,
      body: removeMemberPage(context, member, sentence(error.detail ?? error.message)),
    });
  }
  if (member.id === context.user.id) {
    // Removal ended every session of theirs, this one included: the browser forgets it too.
    await finishSession(request, reply);
    return reply.redirect(signInPath('/', 'signed_out'), 303);
  }
  return reply.redirect(`${orgPath(context, '/members')}?done=removed`, 303);
}

/**
 * `GET /o/:tenantId/members/:userId/remove`, the confirmation step, and its form, `POST` the same
 * path: removes the member, ending their sessions and their apps' access (audited).
 */
export function removeMemberRoutes(pages: FastifyInstance): void {
  const path = '/o/:tenantId/members/:userId/remove';
  pages.get<MemberRoute>(path, { preHandler: adminPage, schema: { hide: true } }, confirmRemoval);
  pages.post<MemberRoute>(path, { preHandler: adminForm, schema: { hide: true } }, remove);
}
