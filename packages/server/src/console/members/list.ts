import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { listTenantMembers } from '../../domain/members.ts';
import { workspacesById } from '../../domain/workspaces.ts';
import { textOf } from '../forms.ts';
import { adminPage, orgOf } from '../org/access.ts';
import { PAGE_SIZE, pageOf } from '../paging.ts';
import { sendShellPage } from '../shell.ts';
import { noticeOf } from '../workspaces/common.ts';
import { memberListPage, NAMES_PER_ROW } from './views.ts';

interface ListRoute {
  Params: { tenantId: string };
  Querystring: Record<string, unknown>;
}

/** Notices of the list, by `?done=` code: fixed texts, never text from the URL. */
const NOTICES = {
  removed: 'Member removed. Their sessions and the access of their apps have ended.',
} as const;

async function listMembers(request: FastifyRequest<ListRoute>, reply: FastifyReply): Promise<FastifyReply> {
  const context = orgOf(request);
  const { db } = request.server.services;
  const q = textOf(request.query.q, 254).trim();
  const page = pageOf(request.query.page);
  const tenantId = context.organization.tenantId;
  const { items, total } = await listTenantMembers(db, tenantId, {
    page,
    size: PAGE_SIZE,
    q: q || undefined,
  });
  // Only the names a row shows: a page of 50 members looks up at most 150 workspaces.
  const names = await workspacesById(
    db,
    tenantId,
    items.flatMap((m) => (m.workspaceIds ?? []).slice(0, NAMES_PER_ROW)),
  );
  return sendShellPage(reply, context, {
    title: 'Members',
    section: 'members',
    body: memberListPage(context, {
      items,
      total,
      page,
      q,
      names,
      notice: noticeOf(NOTICES, request.query.done),
    }),
  });
}

/** `GET /o/:tenantId/members`: the organization's members, by email. */
export function memberListRoute(pages: FastifyInstance): void {
  pages.get<ListRoute>(
    '/o/:tenantId/members',
    { preHandler: adminPage, schema: { hide: true } },
    listMembers,
  );
}
