import type { Kysely } from 'kysely';
import { type Dialect, id, idModifiers, timestamp } from './helpers.ts';

/**
 * The authorization code flow: browser sessions, remembered consents, codes, refresh tokens
 * and the access tokens issued from each grant (so that a replayed code or a reused refresh
 * token can revoke them). Every secret column holds a sha256, never the secret (DESIGN.md 3 rule 1).
 */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('sessions')
    .addColumn('id', id(dialect), idModifiers(dialect))
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('authenticated_at', timestamp, (c) => c.notNull())
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .addColumn('expires_at', timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sessions_user').on('sessions').column('user_id').execute();

  await db.schema
    .createTable('consents')
    .addColumn('id', id(dialect), idModifiers(dialect))
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('api_key_id', 'integer', (c) => c.notNull().references('api_keys.id').onDelete('cascade'))
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .addUniqueConstraint('consents_user_key', ['user_id', 'api_key_id'])
    .execute();
  await db.schema.createIndex('consents_key').on('consents').column('api_key_id').execute();

  await db.schema
    .createTable('authorization_codes')
    .addColumn('id', id(dialect), idModifiers(dialect))
    .addColumn('code_hash', 'text', (c) => c.notNull().unique())
    .addColumn('api_key_id', 'integer', (c) => c.notNull().references('api_keys.id').onDelete('cascade'))
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('redirect_uri', 'text', (c) => c.notNull())
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('code_challenge', 'text')
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .addColumn('expires_at', timestamp, (c) => c.notNull())
    .addColumn('consumed_at', timestamp)
    // The grant the code was exchanged for: what a replay revokes.
    .addColumn('family_id', 'text')
    .execute();

  await db.schema
    .createTable('refresh_tokens')
    .addColumn('id', id(dialect), idModifiers(dialect))
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('family_id', 'text', (c) => c.notNull())
    .addColumn('parent_id', 'integer')
    .addColumn('api_key_id', 'integer', (c) => c.notNull().references('api_keys.id').onDelete('cascade'))
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .addColumn('expires_at', timestamp, (c) => c.notNull())
    .addColumn('rotated_at', timestamp)
    .addColumn('revoked_at', timestamp)
    .execute();
  await db.schema.createIndex('refresh_tokens_family').on('refresh_tokens').column('family_id').execute();
  await db.schema
    .createIndex('refresh_tokens_user_key')
    .on('refresh_tokens')
    .columns(['user_id', 'api_key_id'])
    .execute();
  await db.schema.createIndex('refresh_tokens_key').on('refresh_tokens').column('api_key_id').execute();

  await db.schema
    .createTable('grant_access_tokens')
    .addColumn('family_id', 'text', (c) => c.notNull())
    .addColumn('jti', 'text', (c) => c.notNull())
    .addColumn('api_key_id', 'integer', (c) => c.notNull().references('api_keys.id').onDelete('cascade'))
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('expires_at', timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('grant_access_tokens_pk', ['family_id', 'jti'])
    .execute();
  await db.schema
    .createIndex('grant_access_tokens_user_key')
    .on('grant_access_tokens')
    .columns(['user_id', 'api_key_id'])
    .execute();
}
