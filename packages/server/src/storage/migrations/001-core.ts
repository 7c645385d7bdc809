import type { Kysely } from 'kysely';
import { type Dialect, id, idModifiers, timestamp } from './helpers.ts';

/** Tenants, workspaces, entities, users, API keys, the audit log. */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('tenants')
    .addColumn('id', id(dialect), idModifiers(dialect))
    .addColumn('label', 'text', (c) => c.notNull())
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('workspaces')
    .addColumn('id', id(dialect), idModifiers(dialect))
    .addColumn('tenant_id', 'integer', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('label', 'text', (c) => c.notNull())
    .addColumn('logo_url', 'text')
    .addColumn('state', 'text', (c) => c.notNull().defaultTo('Active'))
    .addColumn('permissions', 'text')
    .addColumn('data_subject_archived_retention_days', 'integer')
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('workspaces_tenant').on('workspaces').columns(['tenant_id', 'id']).execute();

  await db.schema
    .createTable('entities')
    .addColumn('id', id(dialect), idModifiers(dialect))
    .addColumn('tenant_id', 'integer', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('workspace_id', 'integer', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('entities_workspace').on('entities').columns(['workspace_id', 'id']).execute();

  await db.schema
    .createTable('users')
    .addColumn('id', id(dialect), idModifiers(dialect))
    .addColumn('email', 'text', (c) => c.notNull().unique())
    .addColumn('display_name', 'text')
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('memberships')
    .addColumn('tenant_id', 'integer', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .addPrimaryKeyConstraint('memberships_pk', ['tenant_id', 'user_id'])
    .execute();
  await db.schema.createIndex('memberships_user').on('memberships').column('user_id').execute();

  await db.schema
    .createTable('membership_workspaces')
    .addColumn('tenant_id', 'integer', (c) => c.notNull())
    .addColumn('user_id', 'integer', (c) => c.notNull())
    .addColumn('workspace_id', 'integer', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('membership_workspaces_pk', ['tenant_id', 'user_id', 'workspace_id'])
    .addForeignKeyConstraint('membership_workspaces_membership', ['tenant_id', 'user_id'], 'memberships', [
      'tenant_id',
      'user_id',
    ])
    .execute();

  await db.schema
    .createTable('api_keys')
    .addColumn('id', id(dialect), idModifiers(dialect))
    .addColumn('tenant_id', 'integer', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('workspace_id', 'integer', (c) => c.references('workspaces.id').onDelete('cascade'))
    .addColumn('label', 'text', (c) => c.notNull())
    .addColumn('public_key', 'text', (c) => c.notNull().unique())
    .addColumn('redirect_uris', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('cors_origins', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('expires_at', timestamp)
    .addColumn('created_by', 'text')
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .addColumn('last_used_at', timestamp)
    .addColumn('revoked_at', timestamp)
    .execute();
  await db.schema.createIndex('api_keys_tenant').on('api_keys').columns(['tenant_id', 'id']).execute();

  await db.schema
    .createTable('api_key_secrets')
    .addColumn('id', id(dialect), idModifiers(dialect))
    .addColumn('api_key_id', 'integer', (c) => c.notNull().references('api_keys.id').onDelete('cascade'))
    .addColumn('secret_hash', 'text', (c) => c.notNull().unique())
    .addColumn('last4', 'text', (c) => c.notNull())
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .addColumn('expires_at', timestamp)
    .execute();
  await db.schema.createIndex('api_key_secrets_key').on('api_key_secrets').column('api_key_id').execute();

  await db.schema
    .createTable('invalidations')
    .addColumn('id', id(dialect), idModifiers(dialect))
    .addColumn('api_key_id', 'integer', (c) => c.notNull())
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('audit_events')
    .addColumn('id', id(dialect), idModifiers(dialect))
    .addColumn('tenant_id', 'integer')
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target', 'text')
    .addColumn('ip', 'text')
    .addColumn('details', 'text')
    .addColumn('created_at', timestamp, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('audit_events_tenant')
    .on('audit_events')
    .columns(['tenant_id', 'id'])
    .execute();
}
