import { type Kysely, type Selectable, sql } from 'kysely';
import type { Page, PageQuery, Workspace, WorkspaceScope } from '../../model/types.ts';
import type { Database } from '../schema.ts';
import { likeLower } from './like.ts';

function scoped(db: Kysely<Database>, scope: WorkspaceScope) {
  let query = db.selectFrom('workspaces as w').where('w.tenant_id', '=', scope.tenantId);
  if (scope.workspaceIds !== null) query = query.where('w.id', 'in', someIds(scope.workspaceIds));
  return query;
}

/** An empty set must match nothing; `in ()` is invalid SQL. */
function someIds(ids: readonly number[]): readonly number[] {
  return ids.length ? ids : [-1];
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

/** The order of a list, on the table or derived table named `alias`: its sort key, then the id. */
function orderOf(alias: 'w' | 'p', page: PageQuery) {
  const id = sql.ref(`${alias}.id`);
  const direction = page.asc === false ? sql`desc` : sql`asc`;
  switch (page.sortBy?.toLowerCase()) {
    // Labels sort case-insensitively, so that SQLite (binary collation) and PostgreSQL (locale) agree;
    // the index workspaces_tenant_label (migration 009) serves this order.
    case 'label':
      return sql`lower(${sql.ref(`${alias}.label`)}) ${direction}, ${id} ${direction}`;
    case 'state':
      return sql`${sql.ref(`${alias}.state`)} ${direction}, ${id} ${direction}`;
    default:
      return sql`${id} ${direction}`;
  }
}

/** The workspaces of a scope that match the search `q`, as a condition on `workspaces as w`. */
function matching(scope: WorkspaceScope, q: string | undefined) {
  const conditions = [sql`w.tenant_id = ${scope.tenantId}`];
  if (scope.workspaceIds !== null) conditions.push(sql`w.id in (${sql.join(someIds(scope.workspaceIds))})`);
  if (q) conditions.push(likeLower('w.label', q));
  return sql.join(conditions, sql` and `);
}

/**
 * A page of the scope's workspaces (`q` searches labels), with each one's entity count and the total
 * of the whole list, in one statement. The page is a derived table (LIMIT and OFFSET inside), so that
 * entities are counted for its rows only: PostgreSQL evaluates the select list of the rows OFFSET
 * skips too. The total is an uncorrelated subquery, evaluated once. A page past the last has no row
 * to carry the total: only then does a second statement count.
 *
 * Written as one `sql` template rather than with the query builder: building and compiling the same
 * statement with the builder took five times the CPU of the template (about 60 µs against 12 a call,
 * measured for bench row 6), and the SQL is the same on both dialects. Every value is a parameter.
 */
export async function listWorkspaces(
  db: Kysely<Database>,
  scope: WorkspaceScope,
  page: PageQuery,
): Promise<Page<Workspace>> {
  const where = matching(scope, page.q);
  const offset = (page.page - 1) * page.size;
  const { rows } = await sql<Row & { total: number }>`
    select p.id, p.tenant_id, p.label, p.logo_url, p.state, p.permissions,
      p.data_subject_archived_retention_days,
      (select count(*) from entities e where e.workspace_id = p.id) as nb_entities,
      (select count(*) from workspaces w where ${where}) as total
    from (
      select w.id, w.tenant_id, w.label, w.logo_url, w.state, w.permissions,
        w.data_subject_archived_retention_days
      from workspaces w where ${where}
      order by ${orderOf('w', page)} limit ${page.size} offset ${offset}
    ) p
    order by ${orderOf('p', page)}`.execute(db);
  const first = rows[0];
  if (first) return { items: rows.map(toWorkspace), total: Number(first.total) };
  if (offset === 0) return { items: [], total: 0 };
  const counted = await sql<{ n: number }>`select count(*) as n from workspaces w where ${where}`.execute(db);
  return { items: [], total: Number(counted.rows[0]?.n ?? 0) };
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
