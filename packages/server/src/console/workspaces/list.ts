import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { listTenantWorkspaces } from '../../domain/workspaces.ts';
import { textOf } from '../forms.ts';
import { adminPage, orgOf } from '../org/access.ts';
import { PAGE_SIZE, pageOf } from '../paging.ts';
import { sendShellPage } from '../shell.ts';
import { workspaceListPage } from './views.ts';

interface ListRoute {
  Params: { tenantId: string };
  Querystring: Record<string, unknown>;
}

type ListRequest = FastifyRequest<ListRoute>;

async function listWorkspaces(request: ListRequest, reply: FastifyReply): Promise<FastifyReply> {
  const context = orgOf(request);
  const q = textOf(request.query.q, 200).trim();
  const page = pageOf(request.query.page);
  const { items, total } = await listTenantWorkspaces(
    request.server.services.db,
    context.organization.tenantId,
    { page, size: PAGE_SIZE, q: q || undefined, sortBy: 'label' },
  );
  return sendShellPage(reply, context, {
    title: 'Workspaces',
    section: 'workspaces',
    body: workspaceListPage(context, { items, total, page, q }),
  });
}

/** `GET /o/:tenantId/workspaces`: the organization's workspaces, archived ones included, by name. */
export function workspaceListRoute(pages: FastifyInstance): void {
  pages.get<ListRoute>(
    '/o/:tenantId/workspaces',
    { preHandler: adminPage, schema: { hide: true } },
    listWorkspaces,
  );
}
