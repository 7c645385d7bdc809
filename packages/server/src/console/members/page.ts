import type { FastifyInstance, FastifyReply } from 'fastify';
import { adminPage, orgOf } from '../org/access.ts';
import { takeSecret } from '../reveal.ts';
import { sendShellPage } from '../shell.ts';
import { noticeOf } from '../workspaces/common.ts';
import { SIGN_IN_LINK } from './add.ts';
import { type MemberRequest, type MemberRoute, memberOfUrl, memberPath, workspaceChoices } from './common.ts';
import { memberPage, nameOf } from './views.ts';

/** Notices of a member's page, by `?done=` code: fixed texts, never text from the URL. */
const NOTICES = {
  added: 'Member added.',
  joined: 'Member added with the account they already had: their password stays their own.',
  updated: 'Changes saved.',
} as const;

async function showMember(request: MemberRequest, reply: FastifyReply): Promise<FastifyReply> {
  const context = orgOf(request);
  const member = await memberOfUrl(request, context);
  const choices = await workspaceChoices(
    request.server.services.db,
    context.organization.tenantId,
    member.workspaceIds ?? [],
  );
  // Read (and deleted) only here: a reload of this page shows the link no more.
  const revealed = takeSecret(request, reply, memberPath(context, member.id), context.user.id);
  const signInLink = revealed?.kind === SIGN_IN_LINK ? revealed.secret : undefined;
  return sendShellPage(reply, context, {
    title: nameOf(member),
    section: 'members',
    body: memberPage(context, { member, choices, signInLink, notice: noticeOf(NOTICES, request.query.done) }),
  });
}

/** `GET /o/:tenantId/members/:userId`: a member, to change their role and workspaces or remove them. */
export function memberPageRoute(pages: FastifyInstance): void {
  pages.get<MemberRoute>(
    '/o/:tenantId/members/:userId',
    { preHandler: adminPage, schema: { hide: true } },
    showMember,
  );
}
