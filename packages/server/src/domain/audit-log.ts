import { ProblemError } from '../errors/errors.ts';
import type { AuditRecord, Page, PageQuery, Principal } from '../model/types.ts';
import { listAuditEvents } from '../storage/repositories/audit.ts';
import type { Db } from '../storage/transaction.ts';

/**
 * The audit log is the organization's: whole-organization credentials read it, and a user token only
 * for an owner or admin. Anyone else is told it does not exist (404, DESIGN.md 1: no existence oracle).
 */
export function mayReadAuditLog(principal: Principal): boolean {
  if (principal.workspaceId !== null) return false;
  return principal.user === null || principal.user.role === 'owner' || principal.user.role === 'admin';
}

/** The principal's tenant's audit events, newest first (DESIGN.md 3 rule 11). */
export function readAuditLog(db: Db, principal: Principal, page: PageQuery): Promise<Page<AuditRecord>> {
  if (!mayReadAuditLog(principal))
    throw new ProblemError('not_found', 'no audit log in the scope of this credential');
  return listAuditEvents(db, principal.tenantId, page.size, (page.page - 1) * page.size);
}
