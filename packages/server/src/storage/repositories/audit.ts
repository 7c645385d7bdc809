import type { Kysely } from 'kysely';
import type { AuditRecord, Page } from '../../model/types.ts';
import type { Database } from '../schema.ts';

export interface AuditEvent {
  tenantId: number | null;
  /** Who acted: `cli`, `user:<id>`, `key:<public key>`, `anonymous`. */
  actor: string;
  action: string;
  target?: string | null;
  ip?: string | null;
  userAgent?: string | null;
  /** Never a secret: callers pass identifiers only. */
  details?: Record<string, unknown>;
}

export async function insertAuditEvent(db: Kysely<Database>, event: AuditEvent, now: number): Promise<void> {
  await db
    .insertInto('audit_events')
    .values({
      tenant_id: event.tenantId,
      actor: event.actor,
      action: event.action,
      target: event.target ?? null,
      ip: event.ip ?? null,
      user_agent: event.userAgent ?? null,
      details: event.details ? JSON.stringify(event.details) : null,
      created_at: now,
    })
    .execute();
}

/** Which events of a tenant to list: all filters are optional and combine. */
export interface AuditQuery {
  tenantId: number;
  action?: string | undefined;
  actor?: string | undefined;
  /** Epoch ms, inclusive. */
  from?: number | undefined;
  /** Epoch ms, exclusive. */
  to?: number | undefined;
  limit: number;
  offset: number;
}

function eventsMatching(db: Kysely<Database>, query: AuditQuery) {
  let select = db.selectFrom('audit_events').where('tenant_id', '=', query.tenantId);
  if (query.action !== undefined) select = select.where('action', '=', query.action);
  if (query.actor !== undefined) select = select.where('actor', '=', query.actor);
  if (query.from !== undefined) select = select.where('created_at', '>=', query.from);
  if (query.to !== undefined) select = select.where('created_at', '<', query.to);
  return select;
}

/** A page of a tenant's audit events, newest first. */
export async function listAuditEvents(db: Kysely<Database>, query: AuditQuery): Promise<Page<AuditRecord>> {
  const [rows, total] = await Promise.all([
    eventsMatching(db, query)
      .selectAll()
      .orderBy('id', 'desc')
      .limit(query.limit)
      .offset(query.offset)
      .execute(),
    eventsMatching(db, query)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow(),
  ]);
  return {
    items: rows.map((r) => ({
      id: r.id,
      tenantId: r.tenant_id,
      actor: r.actor,
      action: r.action,
      target: r.target,
      ip: r.ip,
      userAgent: r.user_agent,
      details: r.details ? (JSON.parse(r.details) as Record<string, unknown>) : null,
      createdAt: new Date(r.created_at).toISOString(),
    })),
    total: Number(total.n),
  };
}

/**
 * Deletes at most `limit` events written before `before`, oldest first; returns how many. One bounded
 * batch per call, so that pruning a huge log never holds a long lock (callers loop until it returns
 * less than `limit`); the `audit_events_created` index finds the batch.
 */
export async function deleteAuditEventsBefore(
  db: Kysely<Database>,
  before: number,
  limit: number,
): Promise<number> {
  const result = await db
    .deleteFrom('audit_events')
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('audit_events')
        .select('id')
        .where('created_at', '<', before)
        .orderBy('created_at')
        .limit(limit),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
