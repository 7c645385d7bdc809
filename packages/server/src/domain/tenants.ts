import { invalidField, ProblemError } from '../errors/errors.ts';
import type { Tenant } from '../model/types.ts';
import { countTenants, findTenant, insertTenant, listAllTenants } from '../storage/repositories/tenants.ts';
import { findUserByEmail, insertMembership, insertUser } from '../storage/repositories/users.ts';
import { findWorkspace, insertWorkspace } from '../storage/repositories/workspaces.ts';
import { type Db, inTransaction } from '../storage/transaction.ts';
import { type Actor, audit } from './audit.ts';
import { hashNewPassword } from './passwords.ts';
import { checkEmail, checkLabel } from './validation.ts';

export interface NewTenant {
  label: string;
  ownerEmail: string;
  ownerPassword: string;
  /** Label of a first workspace; none is created when absent. */
  workspace?: string | undefined;
}

export interface CreatedTenant {
  tenantId: number;
  workspaceId: number | null;
  userId: number;
}

/**
 * Creates a tenant with its owner and, optionally, a first workspace, in one transaction.
 * An owner who already has an account keeps it, and its password: they become owner of the new tenant too.
 */
export async function createTenant(db: Db, input: NewTenant, by: Actor): Promise<CreatedTenant> {
  const label = checkLabel(input.label, 'organization label');
  const workspaceLabel =
    input.workspace === undefined ? undefined : checkLabel(input.workspace, 'workspace label', 'workspace');
  checkEmail(input.ownerEmail, 'ownerEmail', 'owner email');
  const existing = await findUserByEmail(db, input.ownerEmail);
  // Hash before the transaction: scrypt takes ~100 ms, too long to hold SQLite's write lock.
  const newOwner = existing
    ? null
    : {
        email: input.ownerEmail,
        displayName: null,
        passwordHash: await hashNewPassword(input.ownerPassword),
      };
  const now = Date.now();
  return inTransaction(db, async (trx) => {
    const tenant = await insertTenant(trx, label, now);
    const workspace = workspaceLabel
      ? await insertWorkspace(trx, tenant.id, { label: workspaceLabel }, now)
      : null;
    const user = newOwner ? await insertUser(trx, newOwner, now) : existing;
    if (!user) throw new Error('unreachable: either the owner exists or a new one was prepared');
    await insertMembership(trx, tenant.id, user.id, 'owner', [], now);
    const entry = { tenantId: tenant.id, target: `tenant:${tenant.id}`, details: { ownerUserId: user.id } };
    await audit(trx, by, 'tenant.created', entry, now);
    return { tenantId: tenant.id, workspaceId: workspace?.id ?? null, userId: user.id };
  });
}

/** First-run set-up: refuses once any tenant exists, so that it cannot be replayed against a live installation. */
export async function initialize(db: Db, input: NewTenant, by: Actor): Promise<CreatedTenant> {
  await refuseIfInitialized(db);
  return createTenant(db, input, by);
}

/** The conflict {@link initialize} answers once an organization exists (the CLI checks before asking for a password). */
export async function refuseIfInitialized(db: Db): Promise<void> {
  if ((await countTenants(db)) > 0) {
    throw new ProblemError(
      'conflict',
      'Gatehouse is already initialized; add an organization with `gatehouse tenants create`',
    );
  }
}

/** Every organization, by id (the operator's view: the CLI). */
export function listTenants(db: Db): Promise<Tenant[]> {
  return listAllTenants(db);
}

/** The tenant, or a 404 problem: the one check every operation on an organization starts with. */
export async function requireTenant(db: Db, tenantId: number): Promise<Tenant> {
  const tenant = await findTenant(db, tenantId);
  if (!tenant) throw new ProblemError('not_found', `no organization ${tenantId}`);
  return tenant;
}

/** A workspace of the tenant, or a 404 problem (another tenant's workspace is as missing as none). */
export async function requireWorkspace(
  db: Db,
  tenantId: number,
  workspaceId: number,
  field?: string,
): Promise<void> {
  if (await findWorkspace(db, { tenantId, workspaceIds: null }, workspaceId)) return;
  const message = `no workspace ${workspaceId} in organization ${tenantId}`;
  // Named in a request body, it is bad input (400); named in a path, a missing resource (404).
  throw field ? invalidField(field, message) : new ProblemError('not_found', message);
}

/** The tenant's name, for pages that say whose application asks (undefined when there is none). */
export async function tenantLabel(db: Db, tenantId: number): Promise<string | undefined> {
  return (await findTenant(db, tenantId))?.label;
}

/** Whether no organization exists yet (the server then tells how to create the first). */
export async function isUninitialized(db: Db): Promise<boolean> {
  return (await countTenants(db)) === 0;
}
