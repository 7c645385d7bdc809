import { ProblemError } from '../errors/errors.ts';
import type { Entity, Page, PageQuery, Principal, Workspace, WorkspaceScope } from '../model/types.ts';
import { deleteEntity, insertEntity, listEntities } from '../storage/repositories/entities.ts';
import { findWorkspace, insertWorkspace, listWorkspaces } from '../storage/repositories/workspaces.ts';
import { type Db, inTransaction } from '../storage/transaction.ts';
import { type Actor, audit } from './audit.ts';
import { requireTenant } from './tenants.ts';
import { checkLabel } from './validation.ts';

/**
 * The workspaces both a key and a user may reach: the key's one workspace (or all, for an organization
 * key) narrowed to the user's (or all, when the user is not limited). null means every workspace.
 */
export function intersectWorkspaces(
  keyWorkspaceId: number | null,
  userWorkspaceIds: readonly number[] | null,
): number[] | null {
  if (userWorkspaceIds === null) return keyWorkspaceId === null ? null : [keyWorkspaceId];
  if (keyWorkspaceId === null) return [...userWorkspaceIds];
  return userWorkspaceIds.includes(keyWorkspaceId) ? [keyWorkspaceId] : [];
}

/**
 * What a principal may see: its tenant, narrowed to the key's workspace and, for a user token,
 * to the user's workspaces (the intersection of both).
 */
export function scopeOf(principal: Principal): WorkspaceScope {
  const workspaceIds = intersectWorkspaces(principal.workspaceId, principal.user?.workspaceIds ?? null);
  return { tenantId: principal.tenantId, workspaceIds };
}

/** The workspaces of a scope a consent page lists (the first 50: a page, not an export). */
export async function consentWorkspaces(db: Db, scope: WorkspaceScope): Promise<Workspace[]> {
  return (await listWorkspaces(db, scope, { page: 1, size: 50 })).items;
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
  await requireTenant(db, tenantId);
  const now = Date.now();
  return inTransaction(db, async (trx) => {
    const workspace = await insertWorkspace(trx, tenantId, checked, now);
    await audit(trx, by, 'workspace.created', { tenantId, target: `workspace:${workspace.id}` }, now);
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
