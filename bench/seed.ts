import { sql } from 'kysely';
import { createApiKey } from '../packages/server/src/domain/api-keys.ts';
import { CLI_ACTOR } from '../packages/server/src/domain/audit.ts';
import { generatePrivateKey, generatePublicKey } from '../packages/server/src/domain/key-format.ts';
import { hashSecret } from '../packages/server/src/domain/secrets.ts';
import { createTenant } from '../packages/server/src/domain/tenants.ts';
import { migrate, openStorage } from '../packages/server/src/storage/database.ts';
import { insertApiKey } from '../packages/server/src/storage/repositories/api-keys.ts';
import { insertEntity } from '../packages/server/src/storage/repositories/entities.ts';
import { insertWorkspace } from '../packages/server/src/storage/repositories/workspaces.ts';
import { inTransaction } from '../packages/server/src/storage/transaction.ts';

/** A client the bench authenticates as. Held in memory only: never printed or written. */
export interface BenchClient {
  publicKey: string;
  privateKey: string;
}

export interface Seeded {
  /** Organization key of tenant A: rows 1 and 2, and the single client of row 4. */
  main: BenchClient;
  /** Row 5: distinct clients of tenant A (the first is not `main`). */
  clients: BenchClient[];
  /** Organization key of tenant B, which owns `workspaces` workspaces: row 6. */
  workspaceOwner: BenchClient;
}

export interface SeedSize {
  clients: number;
  workspaces: number;
}

const OWNER_PASSWORD = 'bench-owner-password-not-secret';

/**
 * Seeds the run's database before the server starts: through the domain functions for what is
 * created once, and through the repositories in one transaction for the thousands of keys and
 * workspaces (one audited transaction per key would make seeding take longer than the bench).
 */
export async function seed(url: string, size: SeedSize): Promise<Seeded> {
  const storage = openStorage(url, { poolSize: 2 });
  try {
    await migrate(storage);
    const db = storage.db;
    const a = await createTenant(
      db,
      { label: 'Bench A', ownerEmail: 'owner@a.bench', ownerPassword: OWNER_PASSWORD, workspace: 'Main' },
      CLI_ACTOR,
    );
    const b = await createTenant(
      db,
      { label: 'Bench B', ownerEmail: 'owner@b.bench', ownerPassword: OWNER_PASSWORD },
      CLI_ACTOR,
    );
    const mainKey = await createApiKey(db, { tenantId: a.tenantId, label: 'bench main' }, CLI_ACTOR);
    const ownerKey = await createApiKey(db, { tenantId: b.tenantId, label: 'bench workspaces' }, CLI_ACTOR);
    const now = Date.now();
    const clients: BenchClient[] = [];
    await inTransaction(db, async (trx) => {
      for (let i = 0; i < size.clients; i++) {
        const client = { publicKey: generatePublicKey(), privateKey: generatePrivateKey() };
        await insertApiKey(
          trx,
          {
            tenantId: a.tenantId,
            workspaceId: null,
            label: `bench client ${i}`,
            publicKey: client.publicKey,
            redirectUris: [],
            corsOrigins: [],
            expiresAt: null,
            createdBy: 'bench',
          },
          { hash: hashSecret(client.privateKey), last4: client.privateKey.slice(-4) },
          now,
        );
        clients.push(client);
      }
      for (let i = 1; i <= size.workspaces; i++) {
        const workspace = await insertWorkspace(
          trx,
          b.tenantId,
          { label: `Workspace ${String(i).padStart(4, '0')}` },
          now,
        );
        // A few entities so that `nbEntities` counts something.
        for (let e = 0; e < i % 4; e++) await insertEntity(trx, b.tenantId, workspace.id, `Entity ${e}`, now);
      }
    });
    // Statistics, as a long-lived database has them: autovacuum would gather them within a minute, but
    // it may be off (it is on the bench's machine), and without them PostgreSQL plans row 6's page as a
    // sort of the tenant's every workspace. SQLite's planner needs none for these indexes.
    if (storage.dialect === 'postgres') await sql`ANALYZE`.execute(db);
    return {
      main: { publicKey: mainKey.key.publicKey, privateKey: mainKey.privateKey },
      clients,
      workspaceOwner: { publicKey: ownerKey.key.publicKey, privateKey: ownerKey.privateKey },
    };
  } finally {
    await storage.close();
  }
}
