import { type Kysely, type Selectable, sql } from 'kysely';
import type { Page, PageQuery, Workspace, WorkspaceScope } from '../../model/types.ts';
import type { Database } from '../schema.ts';
import { likeLower } from './like.ts';

// Labels sort case-insensitively, so that SQLite (binary collation) and PostgreSQL (locale) agree.
const SORTABLE = { id: sql.ref('w.id'), label: sql`lower(${sql.ref('w.label')})`, state: sql.ref('w.state') };

function scoped(db: Kysely<Database>, scope: WorkspaceScope) {
  let query = db.selectFrom('workspaces as w').where('w.tenant_id', '=', scope.tenantId);
  if (scope.workspaceIds !== null) {
    // An empty set must match nothing; `in ()` is invalid SQL.
    query = query.where('w.id', 'in', scope.workspaceIds.length ? scope.workspaceIds : [-1]);
  }
  return query;
}

function withEntityCount(db: Kysely<Database>, scope: WorkspaceScope) {
  return scoped(db, scope).select((eb) => [
    'w.id',
    'w.tenant_id',
    'w.label',
    'w.logo_url',
    'w.state',
    'w.permissions',
    'w.data_subject_archived_retention_days',
    eb
      .selectFrom('entities as e')
      .whereRef('e.workspace_id', '=', 'w.id')
      .select(eb.fn.countAll<number>().as('n'))
      .as('nb_entities'),
  ]);
}

type Row = Omit<Selectable<Database['workspaces']>, 'created_at'> & { nb_entities: number | null };

function toWorkspace(row: Row): Workspace {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    label: row.label,
    logoUrl: row.logo_url,
    state: row.state,
    permissions: row.permissions,
    dataSubjectArchivedRetentionDays: row.data_subject_archived_retention_days,
    nbEntities: Number(row.nb_entities ?? 0),
  };
}

export async function listWorkspaces(
  db: Kysely<Database>,
  scope: WorkspaceScope,
  page: PageQuery,
): Promise<Page<Workspace>> {
  let ids = scoped(db, scope).select('w.id');
  let count = scoped(db, scope).select((eb) => eb.fn.countAll<number>().as('n'));
  if (page.q) {
    const matches = likeLower('w.label', page.q);
    ids = ids.where(matches);
    count = count.where(matches);
  }
  const sortBy = page.sortBy?.toLowerCase();
  const column = sortBy === 'label' || sortBy === 'state' ? SORTABLE[sortBy] : SORTABLE.id;
  const direction = page.asc === false ? 'desc' : 'asc';
  // The page's ids first, then entity counts for those rows only: counting in the paged query made
  // PostgreSQL evaluate the count for every row skipped by OFFSET too (the bench's row 6).
  const pageIds = ids
    .orderBy(column, direction)
    .orderBy('w.id', direction)
    .limit(page.size)
    .offset((page.page - 1) * page.size);
  const [rows, total] = await Promise.all([
    withEntityCount(db, scope)
      .where('w.id', 'in', pageIds)
      .orderBy(column, direction)
      .orderBy('w.id', direction)
      .execute(),
    count.executeTakeFirstOrThrow(),
  ]);
  return { items: rows.map(toWorkspace), total: Number(total.n) };
}

export async function findWorkspace(
  db: Kysely<Database>,
  scope: WorkspaceScope,
  id: number,
): Promise<Workspace | undefined> {
  const row = await withEntityCount(db, scope).where('w.id', '=', id).executeTakeFirst();
  return row && toWorkspace(row);
}

/** A workspace's settings, as created or changed (`undefined`: left as it is). */
export interface WorkspaceFields {
  label?: string;
  logoUrl?: string | null;
  dataSubjectArchivedRetentionDays?: number | null;
  state?: Workspace['state'];
}

function columnsOf(fields: WorkspaceFields) {
  return {
    ...(fields.label !== undefined ? { label: fields.label } : {}),
    ...(fields.logoUrl !== undefined ? { logo_url: fields.logoUrl } : {}),
    ...(fields.dataSubjectArchivedRetentionDays !== undefined
      ? { data_subject_archived_retention_days: fields.dataSubjectArchivedRetentionDays }
      : {}),
    ...(fields.state !== undefined ? { state: fields.state } : {}),
  };
}

export async function insertWorkspace(
  db: Kysely<Database>,
  tenantId: number,
  fields: WorkspaceFields & { label: string },
  now: number,
): Promise<Workspace> {
  const row = await db
    .insertInto('workspaces')
    .values({
      state: 'Active',
      ...columnsOf(fields),
      label: fields.label,
      tenant_id: tenantId,
      created_at: now,
    })
    .returning(['id'])
    .executeTakeFirstOrThrow();
  const created = await findWorkspace(db, { tenantId, workspaceIds: null }, row.id);
  if (!created) throw new Error(`workspace ${row.id} vanished after its insert`);
  return created;
}

/** Changes a workspace of the tenant; returns it as it is now, or undefined when there is none. */
export async function updateWorkspace(
  db: Kysely<Database>,
  tenantId: number,
  id: number,
  fields: WorkspaceFields,
): Promise<Workspace | undefined> {
  const set = columnsOf(fields);
  if (Object.keys(set).length) {
    await db
      .updateTable('workspaces')
      .set(set)
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .execute();
  }
  return findWorkspace(db, { tenantId, workspaceIds: null }, id);
}
