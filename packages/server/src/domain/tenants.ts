import { ProblemError } from '../errors/errors.ts';
import { insertAuditEvent } from '../storage/repositories/audit.ts';
import { countTenants, insertTenant } from '../storage/repositories/tenants.ts';
import { findUserByEmail, insertMembership, insertUser } from '../storage/repositories/users.ts';
import { insertWorkspace } from '../storage/repositories/workspaces.ts';
import { type Db, inTransaction } from '../storage/transaction.ts';
import type { Actor } from './audit.ts';
import { hashPassword, passwordProblem } from './passwords.ts';
import { checkLabel } from './validation.ts';

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

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * Creates a tenant with its owner and, optionally, a first workspace, in one transaction.
 * An owner who already has an account keeps it, and its password: they become owner of the new tenant too.
 */
export async function createTenant(db: Db, input: NewTenant, by: Actor): Promise<CreatedTenant> {
  const label = checkLabel(input.label, 'organization label');
  const workspaceLabel =
    input.workspace === undefined ? undefined : checkLabel(input.workspace, 'workspace label');
  if (!EMAIL.test(input.ownerEmail.trim()))
    throw new ProblemError('validation_failed', 'owner email is not an email address');
  const existing = await findUserByEmail(db, input.ownerEmail);
  // Hash before the transaction: scrypt takes ~100 ms, too long to hold SQLite's write lock.
  const newOwner = existing
    ? null
    : { email: input.ownerEmail, displayName: null, passwordHash: await hashNew(input.ownerPassword) };
  const now = Date.now();
  return inTransaction(db, async (trx) => {
    const tenant = await insertTenant(trx, label, now);
    const workspace = workspaceLabel ? await insertWorkspace(trx, tenant.id, workspaceLabel, now) : null;
    const user = newOwner ? await insertUser(trx, newOwner, now) : existing;
    if (!user) throw new Error('unreachable: either the owner exists or a new one was prepared');
    await insertMembership(trx, tenant.id, user.id, 'owner', [], now);
    await insertAuditEvent(
      trx,
      {
        tenantId: tenant.id,
        ...by,
        action: 'tenant.created',
        target: `tenant:${tenant.id}`,
        details: { ownerUserId: user.id },
      },
      now,
    );
    return { tenantId: tenant.id, workspaceId: workspace?.id ?? null, userId: user.id };
  });
}

async function hashNew(password: string): Promise<string> {
  const problem = passwordProblem(password);
  if (problem) throw new ProblemError('validation_failed', problem);
  return hashPassword(password);
}

/** First-run set-up: refuses once any tenant exists, so that it cannot be replayed against a live installation. */
export async function initialize(db: Db, input: NewTenant, by: Actor): Promise<CreatedTenant> {
  if ((await countTenants(db)) > 0) {
    throw new ProblemError(
      'conflict',
      'Gatehouse is already initialized; add an organization with `gatehouse tenants create`',
    );
  }
  return createTenant(db, input, by);
}
