import { ProblemError } from '../errors/errors.ts';
import { insertAuditEvent } from '../storage/repositories/audit.ts';
import { deleteEntity, insertEntity, listEntities } from '../storage/repositories/entities.ts';
import { findTenant } from '../storage/repositories/tenants.ts';
import {
  findWorkspace,
  insertWorkspace,
  listWorkspaces,
  type WorkspaceScope,
} from '../storage/repositories/workspaces.ts';
import { type Db, inTransaction } from '../storage/transaction.ts';
import type { Actor } from './audit.ts';
import type { Entity, Page, PageQuery, Principal, Workspace } from './types.ts';
import { checkLabel } from './validation.ts';

/**
 * What a principal may see: its tenant, narrowed to the key's workspace and, for a user token,
 * to the user's workspaces (the intersection of both).
 */
export function scopeOf(principal: Principal): WorkspaceScope {
  let ids: number[] | null = principal.workspaceId === null ? null : [principal.workspaceId];
  const userIds = principal.user?.workspaceIds ?? null;
  if (userIds !== null) ids = ids === null ? userIds : ids.filter((id) => userIds.includes(id));
  return { tenantId: principal.tenantId, workspaceIds: ids };
}

export function listVisibleWorkspaces(
  db: Db,
  principal: Principal,
  page: PageQuery,
): Promise<Page<Workspace>> {
  return listWorkspaces(db, scopeOf(principal), page);
}

/** A workspace in the principal's scope; anything else, even another tenant's, is a 404. */
export async function getVisibleWorkspace(db: Db, principal: Principal, id: number): Promise<Workspace> {
  const workspace = await findWorkspace(db, scopeOf(principal), id);
  if (!workspace) throw new ProblemError('not_found', `no workspace ${id}`);
  return workspace;
}

export async function createWorkspace(
  db: Db,
  tenantId: number,
  label: string,
  by: Actor,
): Promise<Workspace> {
  const checked = checkLabel(label, 'workspace label');
  if (!(await findTenant(db, tenantId))) throw new ProblemError('not_found', `no organization ${tenantId}`);
  const now = Date.now();
  return inTransaction(db, async (trx) => {
    const workspace = await insertWorkspace(trx, tenantId, checked, now);
    await insertAuditEvent(
      trx,
      { tenantId, ...by, action: 'workspace.created', target: `workspace:${workspace.id}` },
      now,
    );
    return workspace;
  });
}

export async function listWorkspaceEntities(
  db: Db,
  principal: Principal,
  workspaceId: number,
  page: PageQuery,
): Promise<Page<Entity>> {
  await getVisibleWorkspace(db, principal, workspaceId);
  return listEntities(db, workspaceId, page);
}

export async function createEntity(
  db: Db,
  principal: Principal,
  workspaceId: number,
  name: string,
): Promise<Entity> {
  const workspace = await getVisibleWorkspace(db, principal, workspaceId);
  return insertEntity(db, workspace.tenantId, workspace.id, checkLabel(name, 'entity name'), Date.now());
}

export async function removeEntity(
  db: Db,
  principal: Principal,
  workspaceId: number,
  id: number,
): Promise<void> {
  await getVisibleWorkspace(db, principal, workspaceId);
  if (!(await deleteEntity(db, workspaceId, id))) throw new ProblemError('not_found', `no entity ${id}`);
}
