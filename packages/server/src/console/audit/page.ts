import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { readTenantAuditLog } from '../../domain/audit-log.ts';
import { membersNamedIn } from '../../domain/audit-names.ts';
import { adminPage, orgOf, orgPath } from '../org/access.ts';
import { PAGE_SIZE } from '../paging.ts';
import { sendShellPage } from '../shell.ts';
import { readAuditQuery } from './filters.ts';
import { auditLogPage } from './view.ts';

async function showAuditLog(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const ctx = orgOf(request);
  const { db } = request.server.services;
  const { tenantId } = ctx.organization;
  const query = readAuditQuery(request.query);
  const invalid = Object.keys(query.errors).length > 0;
  const events = invalid
    ? undefined
    : await readTenantAuditLog(db, tenantId, { page: query.page, size: PAGE_SIZE }, query.filter);
  // The page's people in one query, whatever the number of rows.
  const members = await membersNamedIn(db, tenantId, events?.items ?? []);
  const body = auditLogPage({ path: orgPath(ctx, '/audit'), ...query, events, members });
  return sendShellPage(reply, ctx, {
    title: 'Audit log',
    section: 'audit',
    body,
    status: invalid ? 400 : 200,
  });
}

/** `GET /o/:tenantId/audit`: the organization's audit log, for its owners and admins. */
export function auditLogPageRoute(pages: FastifyInstance): void {
  pages.get('/o/:tenantId/audit', { preHandler: adminPage, schema: { hide: true } }, showAuditLog);
}
