import type { Kysely } from 'kysely';
import { type Dialect, id, idModifiers, timestamp } from './helpers.ts';

/**
 * The admin API: per-key permissions (`read`, `write`, `admin`; existing keys keep today's `write`),
 * the user agent of every audited change, and one-time sign-in links for members added without a
 * password (stored as sha256, like every secret).
 */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  await db.schema
    .alterTable('api_keys')
    .addColumn('permissions', 'text', (c) => c.notNull().defaultTo('write'))
    .execute();
  await db.schema.alterTable('audit_events').addColumn('user_agent', 'text').execute();
  await db.schema
    .createIndex('audit_events_tenant_action')
    .on('audit_events')
    .columns(['tenant_id', 'action'])
    .execute();
  await db.schema
    .createTable('sign_in_links')
    .addColumn('id', id(dialect), idModifiers(dialect))
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('tenant_id', 'integer', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .addColumn('expires_at', timestamp, (c) => c.notNull())
    .addColumn('used_at', timestamp)
    .execute();
}
