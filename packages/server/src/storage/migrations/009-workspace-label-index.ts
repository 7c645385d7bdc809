import { type Kysely, sql } from 'kysely';
import type { Dialect } from './helpers.ts';

/**
 * An index in the order of a workspace list sorted by label (`sortBy=label`, the console's order):
 * labels sort by `lower(label)` on both dialects (storage/repositories/workspaces.ts), then by id.
 * Without it a page of an organization with many workspaces sorts them all to return 50. The default
 * order (by id) is already that of `workspaces_tenant` (`tenant_id`, `id`). An index on an expression
 * is written the same on SQLite and PostgreSQL; the query must repeat the expression exactly.
 */
export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
  await sql`create index workspaces_tenant_label on workspaces (tenant_id, lower(label), id)`.execute(db);
}
