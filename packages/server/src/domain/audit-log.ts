import { ProblemError } from '../errors/errors.ts';
import type { AuditRecord, Page, PageQuery, Principal } from '../model/types.ts';
import { listAuditEvents } from '../storage/repositories/audit.ts';
import type { Db } from '../storage/transaction.ts';
import { permits } from './permissions.ts';

/**
 * The audit log is the organization's, part of its admin API: `admin` credentials of the whole
 * organization read it, and a user token only for an owner or admin. Anyone else is told it does not exist (404, DESIGN.md 1: no existence oracle).
 */
export function mayReadAuditLog(principal: Principal): boolean {
  if (principal.workspaceId !== null || !permits(principal.permissions, 'admin')) return false;
  return principal.user === null || principal.user.role === 'owner' || principal.user.role === 'admin';
}

/** Which events to read: every filter is optional, dates are epoch ms (`to` exclusive). */
export interface AuditFilter {
  action?: string | undefined;
  actor?: string | undefined;
  from?: number | undefined;
  to?: number | undefined;
}

/** The principal's tenant's audit events, newest first (DESIGN.md 3 rule 11). */
export function readAuditLog(
  db: Db,
  principal: Principal,
  page: PageQuery,
  filter: AuditFilter = {},
): Promise<Page<AuditRecord>> {
  if (!mayReadAuditLog(principal))
    throw new ProblemError('not_found', 'no audit log in the scope of this credential');
  return readTenantAuditLog(db, principal.tenantId, page, filter);
}

/** A tenant's audit events, newest first, for its admins (the console, the CLI). */
export function readTenantAuditLog(
  db: Db,
  tenantId: number,
  page: PageQuery,
  filter: AuditFilter = {},
): Promise<Page<AuditRecord>> {
  return listAuditEvents(db, { tenantId, ...filter, limit: page.size, offset: (page.page - 1) * page.size });
}
