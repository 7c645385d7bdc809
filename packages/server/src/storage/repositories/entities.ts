import type { Kysely } from 'kysely';
import type { Entity, Page, PageQuery } from '../../model/types.ts';
import type { Database } from '../schema.ts';

function toEntity(row: { id: number; workspace_id: number; name: string; created_at: number }): Entity {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    name: row.name,
    createdAt: new Date(row.created_at).toISOString(),
  };
}

/** Entities of one workspace; the caller has already checked the workspace is in scope. */
export async function listEntities(
  db: Kysely<Database>,
  workspaceId: number,
  page: PageQuery,
): Promise<Page<Entity>> {
  const [rows, total] = await Promise.all([
    db
      .selectFrom('entities')
      .select(['id', 'workspace_id', 'name', 'created_at'])
      .where('workspace_id', '=', workspaceId)
      .orderBy('id', page.asc === false ? 'desc' : 'asc')
      .limit(page.size)
      .offset((page.page - 1) * page.size)
      .execute(),
    db
      .selectFrom('entities')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('workspace_id', '=', workspaceId)
      .executeTakeFirstOrThrow(),
  ]);
  return { items: rows.map(toEntity), total: Number(total.n) };
}

export async function insertEntity(
  db: Kysely<Database>,
  tenantId: number,
  workspaceId: number,
  name: string,
  now: number,
): Promise<Entity> {
  const row = await db
    .insertInto('entities')
    .values({ tenant_id: tenantId, workspace_id: workspaceId, name, created_at: now })
    .returning(['id', 'workspace_id', 'name', 'created_at'])
    .executeTakeFirstOrThrow();
  return toEntity(row);
}

/** Deletes an entity of the given workspace; false when there is none. */
export async function deleteEntity(db: Kysely<Database>, workspaceId: number, id: number): Promise<boolean> {
  const result = await db
    .deleteFrom('entities')
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
