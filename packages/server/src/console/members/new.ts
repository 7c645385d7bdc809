import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { adminPage, orgOf } from '../org/access.ts';
import { sendShellPage } from '../shell.ts';
import { workspaceChoices } from './common.ts';
import { type NewMemberForm, newMemberPage } from './views.ts';

async function showNewMember(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const context = orgOf(request);
  const choices = await workspaceChoices(request.server.services.db, context.organization.tenantId, []);
  const form: NewMemberForm = {
    email: '',
    displayName: '',
    role: 'member',
    workspaceIds: [],
    access: 'link',
  };
  return sendShellPage(reply, context, {
    title: 'Add member',
    section: 'members',
    body: newMemberPage(context, form, choices, {}),
  });
}

/** `GET /o/:tenantId/members/new`: the form that adds a member. */
export function newMemberRoute(pages: FastifyInstance): void {
  pages.get('/o/:tenantId/members/new', { preHandler: adminPage, schema: { hide: true } }, showNewMember);
}
