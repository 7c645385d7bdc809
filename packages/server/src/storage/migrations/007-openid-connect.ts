import { type Kysely, sql } from 'kysely';
import { type Dialect, id, idModifiers, timestamp } from './helpers.ts';

/**
 * OpenID Connect and public clients:
 * - per key: its client type (`confidential`, or `public` for single-page and native apps, which have
 *   no private key), the ID token's signing algorithm, and the URIs RP-initiated logout may return to;
 * - per code: what its ID token repeats (the request's `nonce`, when the user authenticated, which
 *   session);
 * - per session: a public identifier (`sid`), never derived from the cookie's secret;
 * - signing keys: one active key per algorithm (ES256 signs access tokens, RS256 ID tokens by
 *   default), so the uniqueness of `active` becomes that of (`alg`, `active`).
 */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  await db.schema
    .alterTable('api_keys')
    .addColumn('client_type', 'text', (c) => c.notNull().defaultTo('confidential'))
    .execute();
  await db.schema
    .alterTable('api_keys')
    .addColumn('post_logout_redirect_uris', 'text', (c) => c.notNull().defaultTo('[]'))
    .execute();
  await db.schema
    .alterTable('api_keys')
    .addColumn('id_token_signed_response_alg', 'text', (c) => c.notNull().defaultTo('RS256'))
    .execute();
  await db.schema.alterTable('authorization_codes').addColumn('nonce', 'text').execute();
  await db.schema.alterTable('authorization_codes').addColumn('auth_time', timestamp).execute();
  await db.schema.alterTable('authorization_codes').addColumn('sid', 'text').execute();
  await db.schema.alterTable('sessions').addColumn('sid', 'text').execute();

  if (dialect === 'postgres') {
    await sql`alter table signing_keys drop constraint signing_keys_active_key`.execute(db);
  } else {
    // SQLite cannot drop a column's constraint: the table (a handful of rows) is rebuilt.
    await db.schema
      .createTable('signing_keys_next')
      .addColumn('id', id(dialect), idModifiers(dialect))
      .addColumn('kid', 'text', (c) => c.notNull().unique())
      .addColumn('alg', 'text', (c) => c.notNull())
      .addColumn('public_jwk', 'text', (c) => c.notNull())
      .addColumn('private_jwk_encrypted', 'text', (c) => c.notNull())
      .addColumn('active', 'integer')
      .addColumn('created_at', timestamp, (c) => c.notNull())
      .addColumn('retired_at', timestamp)
      .execute();
    await sql`insert into signing_keys_next select id, kid, alg, public_jwk, private_jwk_encrypted, active, created_at, retired_at from signing_keys`.execute(
      db,
    );
    await db.schema.dropTable('signing_keys').execute();
    await db.schema.alterTable('signing_keys_next').renameTo('signing_keys').execute();
  }
  // NULLs are distinct in both dialects: retired keys (active NULL) never collide.
  await db.schema
    .createIndex('signing_keys_alg_active')
    .on('signing_keys')
    .columns(['alg', 'active'])
    .unique()
    .execute();
}
