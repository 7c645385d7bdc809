import { createApiKey } from '../../packages/server/src/domain/api-keys.ts';
import { CLI_ACTOR } from '../../packages/server/src/domain/audit.ts';
import { addMember } from '../../packages/server/src/domain/members.ts';
import { createTenant } from '../../packages/server/src/domain/tenants.ts';
import { createWorkspace } from '../../packages/server/src/domain/workspaces.ts';
import { migrate, openStorage } from '../../packages/server/src/storage/database.ts';

/** A confidential client the soak authenticates as; `privateKey` changes when the soak rotates it. */
export interface SoakClient {
  publicKey: string;
  privateKey: string;
}

/** A person who signs in during the code flow: a member of tenant A. */
export interface SoakUser {
  email: string;
  password: string;
}

export interface SoakSeed {
  /** Tenant A: the API traffic, the OAuth clients and the people. */
  tenantA: number;
  /** Tenant B: the target of the admin changes (so that they do not grow what the API calls read). */
  tenantB: number;
  /** Org keys of tenant A, with a registered redirect URL: API calls, tokens, code flow. Rotated with grace. */
  pool: SoakClient[];
  /** Admin keys: A's rotates the pool keys, B's makes the admin changes in B. */
  adminA: SoakClient;
  adminB: SoakClient;
  users: SoakUser[];
  /** Keys and workspaces of B before the soak, for the final counts. */
  keysOfB: number;
  workspacesOfB: number;
}

export const REDIRECT_URI = 'https://app.example/callback';
/** Fixtures of a throwaway database, not secrets. */
const PASSWORD = 'soak-password-not-secret';
const POOL_SIZE = 8;
const USERS = 10;
const WORKSPACES_OF_A = 10;

/**
 * Seeds a fresh database through the domain functions (each change audited, as through the admin
 * API), before the server starts.
 */
export async function seedSoak(url: string): Promise<SoakSeed> {
  const storage = openStorage(url, { poolSize: 2 });
  try {
    await migrate(storage);
    const db = storage.db;
    const a = await createTenant(
      db,
      { label: 'Soak A', ownerEmail: 'owner@a.soak', ownerPassword: PASSWORD, workspace: 'Main' },
      CLI_ACTOR,
    );
    const b = await createTenant(
      db,
      { label: 'Soak B', ownerEmail: 'owner@b.soak', ownerPassword: PASSWORD, workspace: 'First' },
      CLI_ACTOR,
    );
    for (let i = 2; i <= WORKSPACES_OF_A; i++)
      await createWorkspace(db, a.tenantId, `Workspace ${i}`, CLI_ACTOR);
    const client = (issued: { key: { publicKey: string }; privateKey: string }): SoakClient => ({
      publicKey: issued.key.publicKey,
      privateKey: issued.privateKey,
    });
    const pool: SoakClient[] = [];
    for (let i = 0; i < POOL_SIZE; i++) {
      const issued = await createApiKey(
        db,
        { tenantId: a.tenantId, label: `soak pool ${i}`, redirectUris: [REDIRECT_URI] },
        CLI_ACTOR,
      );
      pool.push(client(issued));
    }
    const adminA = client(
      await createApiKey(
        db,
        { tenantId: a.tenantId, label: 'soak admin A', permissions: 'admin' },
        CLI_ACTOR,
      ),
    );
    const adminB = client(
      await createApiKey(
        db,
        { tenantId: b.tenantId, label: 'soak admin B', permissions: 'admin' },
        CLI_ACTOR,
      ),
    );
    const users: SoakUser[] = [];
    for (let i = 0; i < USERS; i++) {
      const email = `person-${i}@a.soak`;
      await addMember(db, { tenantId: a.tenantId, email, password: PASSWORD, role: 'member' }, CLI_ACTOR);
      users.push({ email, password: PASSWORD });
    }
    return {
      tenantA: a.tenantId,
      tenantB: b.tenantId,
      pool,
      adminA,
      adminB,
      users,
      keysOfB: 1,
      workspacesOfB: 1,
    };
  } finally {
    await storage.close();
  }
}
