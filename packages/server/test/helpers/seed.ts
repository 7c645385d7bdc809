import { createApiKey, type NewApiKeyInput } from '../../src/domain/api-keys.ts';
import { CLI_ACTOR } from '../../src/domain/audit.ts';
import { createTenant } from '../../src/domain/tenants.ts';
import { createWorkspace } from '../../src/domain/workspaces.ts';
import type { Db } from '../../src/storage/transaction.ts';

export const PASSWORD = 'correct horse battery staple';

/** Two tenants: A with workspaces "Main" and "Second" and B with "Other", plus keys for each scope. */
export async function seed(db: Db) {
  const a = await createTenant(
    db,
    { label: 'Tenant A', ownerEmail: 'owner@a.test', ownerPassword: PASSWORD, workspace: 'Main' },
    CLI_ACTOR,
  );
  const b = await createTenant(
    db,
    { label: 'Tenant B', ownerEmail: 'owner@b.test', ownerPassword: PASSWORD, workspace: 'Other' },
    CLI_ACTOR,
  );
  const second = await createWorkspace(db, a.tenantId, 'Second', CLI_ACTOR);
  const key = (input: NewApiKeyInput & { clientType?: 'confidential' }) => createApiKey(db, input, CLI_ACTOR);
  const orgKeyA = await key({
    tenantId: a.tenantId,
    label: 'A org key',
    redirectUris: ['https://app.example/callback'],
  });
  const workspaceKeyA = await key({
    tenantId: a.tenantId,
    workspaceId: second.id,
    label: 'A second-workspace key',
  });
  const orgKeyB = await key({ tenantId: b.tenantId, label: 'B org key' });
  // Admin keys: the admin API of their own organization (DESIGN.md 1).
  const adminKeyA = await key({ tenantId: a.tenantId, label: 'A admin key', permissions: 'admin' });
  const adminKeyB = await key({ tenantId: b.tenantId, label: 'B admin key', permissions: 'admin' });
  return {
    a: { ...a, mainWorkspaceId: a.workspaceId as number, secondWorkspaceId: second.id },
    b: { ...b, workspaceId: b.workspaceId as number },
    orgKeyA,
    workspaceKeyA,
    orgKeyB,
    adminKeyA,
    adminKeyB,
  };
}

export type Seed = Awaited<ReturnType<typeof seed>>;
