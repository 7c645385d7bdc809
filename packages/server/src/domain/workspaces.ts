import { invalidField, ProblemError } from '../errors/errors.ts';
import type { Entity, Page, PageQuery, Principal, Workspace, WorkspaceScope } from '../model/types.ts';
import { deleteEntity, insertEntity, listEntities } from '../storage/repositories/entities.ts';
import {
  findWorkspace,
  insertWorkspace,
  listWorkspaces,
  updateWorkspace as writeWorkspace,
} from '../storage/repositories/workspaces.ts';
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

/** A page of an organization's workspaces, archived ones included (its administrators' view). */
export function listTenantWorkspaces(db: Db, tenantId: number, page: PageQuery): Promise<Page<Workspace>> {
  return listWorkspaces(db, { tenantId, workspaceIds: null }, page);
}

/** The organization's workspaces among `ids` (say, those a page of keys names), by id. */
export async function workspacesById(
  db: Db,
  tenantId: number,
  ids: readonly number[],
): Promise<Map<number, Workspace>> {
  const unique = [...new Set(ids)];
  if (!unique.length) return new Map();
  const page = await listWorkspaces(db, { tenantId, workspaceIds: unique }, { page: 1, size: unique.length });
  return new Map(page.items.map((w) => [w.id, w]));
}

/** A workspace of the organization, archived or not; any other is a 404. */
export async function getTenantWorkspace(db: Db, tenantId: number, id: number): Promise<Workspace> {
  const workspace = await findWorkspace(db, { tenantId, workspaceIds: null }, id);
  if (!workspace) throw new ProblemError('not_found', `no workspace ${id}`);
  return workspace;
}

/** A workspace in the principal's scope; anything else, even another tenant's, is a 404. */
export async function getVisibleWorkspace(db: Db, principal: Principal, id: number): Promise<Workspace> {
  const workspace = await findWorkspace(db, scopeOf(principal), id);
  if (!workspace) throw new ProblemError('not_found', `no workspace ${id}`);
  return workspace;
}

/** A workspace's settings besides its label. */
export interface WorkspaceSettings {
  logoUrl?: string | null | undefined;
  dataSubjectArchivedRetentionDays?: number | null | undefined;
}

/** What may change on a workspace: its settings, its label, and whether it is archived. */
export interface WorkspaceChanges extends WorkspaceSettings {
  label?: string | undefined;
  state?: Workspace['state'] | undefined;
}

/** An absolute https URL on a plain host name, without credentials or spaces, at most 2048 characters. */
function isHttpsUrl(value: string): boolean {
  if (value.length > 2048 || /\s/.test(value)) return false;
  const url = URL.parse(value);
  if (url?.protocol !== 'https:' || url.username || url.password) return false;
  // The URL parser accepts characters such as `"` in host names, which no DNS name has.
  return /^[a-z0-9.-]+$/i.test(url.hostname) || /^\[[0-9a-f:.]+\]$/i.test(url.hostname);
}

function checkSettings(settings: WorkspaceSettings) {
  const { logoUrl, dataSubjectArchivedRetentionDays: days } = settings;
  if (logoUrl != null && !isHttpsUrl(logoUrl))
    throw invalidField('logoUrl', 'logoUrl must be an https URL of at most 2048 characters');
  if (days != null && !(Number.isSafeInteger(days) && days >= 0 && days <= 36_500))
    throw invalidField(
      'dataSubjectArchivedRetentionDays',
      'dataSubjectArchivedRetentionDays must be 0 to 36500',
    );
  return {
    ...(logoUrl !== undefined ? { logoUrl } : {}),
    ...(days !== undefined ? { dataSubjectArchivedRetentionDays: days } : {}),
  };
}

export async function createWorkspace(
  db: Db,
  tenantId: number,
  label: string,
  by: Actor,
  settings: WorkspaceSettings = {},
): Promise<Workspace> {
  const fields = { label: checkLabel(label, 'workspace label'), ...checkSettings(settings) };
  await requireTenant(db, tenantId);
  const now = Date.now();
  return inTransaction(db, async (trx) => {
    const workspace = await insertWorkspace(trx, tenantId, fields, now);
    await audit(trx, by, 'workspace.created', { tenantId, target: `workspace:${workspace.id}` }, now);
    return workspace;
  });
}

/**
 * Renames, re-sets or archives a workspace of the tenant (404 for any other). An archived workspace
 * stays listed, with `state: "Archived"`, and its data can be read but not changed.
 */
export async function updateWorkspace(
  db: Db,
  tenantId: number,
  id: number,
  changes: WorkspaceChanges,
  by: Actor,
): Promise<Workspace> {
  const fields = {
    ...(changes.label !== undefined ? { label: checkLabel(changes.label, 'workspace label') } : {}),
    ...(changes.state !== undefined ? { state: changes.state } : {}),
    ...checkSettings(changes),
  };
  const before = await findWorkspace(db, { tenantId, workspaceIds: null }, id);
  if (!before) throw new ProblemError('not_found', `no workspace ${id}`);
  const now = Date.now();
  return inTransaction(db, async (trx) => {
    const after = await writeWorkspace(trx, tenantId, id, fields);
    if (!after) throw new ProblemError('not_found', `no workspace ${id}`);
    const details = { fields: Object.keys(fields), state: after.state };
    await audit(trx, by, 'workspace.updated', { tenantId, target: `workspace:${id}`, details }, now);
    return after;
  });
}

/** A workspace the principal may change the data of: in its scope, and not archived (409 when archived). */
async function writableWorkspace(db: Db, principal: Principal, id: number): Promise<Workspace> {
  const workspace = await getVisibleWorkspace(db, principal, id);
  if (workspace.state === 'Archived')
    throw new ProblemError('conflict', `workspace ${id} is archived: its data can be read, not changed`);
  return workspace;
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
  const workspace = await writableWorkspace(db, principal, workspaceId);
  return insertEntity(
    db,
    workspace.tenantId,
    workspace.id,
    checkLabel(name, 'entity name', 'name'),
    Date.now(),
  );
}

export async function removeEntity(
  db: Db,
  principal: Principal,
  workspaceId: number,
  id: number,
): Promise<void> {
  await writableWorkspace(db, principal, workspaceId);
  if (!(await deleteEntity(db, workspaceId, id))) throw new ProblemError('not_found', `no entity ${id}`);
}
