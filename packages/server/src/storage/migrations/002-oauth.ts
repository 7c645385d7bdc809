import type { Kysely } from 'kysely';
import { type Dialect, id, idModifiers, timestamp } from './helpers.ts';

/** Token signing keys and the denylist of revoked access tokens. */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('signing_keys')
    .addColumn('id', id(dialect), idModifiers(dialect))
    .addColumn('kid', 'text', (c) => c.notNull().unique())
    .addColumn('alg', 'text', (c) => c.notNull())
    .addColumn('public_jwk', 'text', (c) => c.notNull())
    // AES-256-GCM envelope of the private JWK: never the key itself (DESIGN.md 3 rule 1).
    .addColumn('private_jwk_encrypted', 'text', (c) => c.notNull())
    // 1 for the one key that signs, NULL for retired keys: the unique constraint (NULLs are distinct
    // in both dialects) lets two instances starting at once never both install an active key.
    .addColumn('active', 'integer', (c) => c.unique())
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .addColumn('retired_at', timestamp)
    .execute();

  await db.schema
    .createTable('revoked_tokens')
    .addColumn('id', id(dialect), idModifiers(dialect))
    .addColumn('jti', 'text', (c) => c.notNull().unique())
    .addColumn('client_id', 'text', (c) => c.notNull())
    // The row is useless once the token has expired anyway; expired rows are pruned.
    .addColumn('expires_at', timestamp, (c) => c.notNull())
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('revoked_tokens_expiry').on('revoked_tokens').column('expires_at').execute();
}
