import type { Kysely } from 'kysely';
import type { AuditRecord } from '../../model/types.ts';
import type { Database } from '../schema.ts';

export interface AuditEvent {
  tenantId: number | null;
  /** Who acted: `cli`, `user:<id>`, `key:<public key>`, `anonymous`. */
  actor: string;
  action: string;
  target?: string | null;
  ip?: string | null;
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
      details: event.details ? JSON.stringify(event.details) : null,
      created_at: now,
    })
    .execute();
}

export async function listAuditEvents(
  db: Kysely<Database>,
  tenantId: number,
  limit: number,
  offset: number,
): Promise<{ items: AuditRecord[]; total: number }> {
  const [rows, total] = await Promise.all([
    db
      .selectFrom('audit_events')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .orderBy('id', 'desc')
      .limit(limit)
      .offset(offset)
      .execute(),
    db
      .selectFrom('audit_events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('tenant_id', '=', tenantId)
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
