import { insertAuditEvent } from '../storage/repositories/audit.ts';
import type { Db } from '../storage/transaction.ts';

/** Who did something and from where: recorded with every change (DESIGN.md 3 rule 11). */
export interface Actor {
  /** `cli`, `system`, `user:<id>`, `key:<public key>` or `anonymous`. */
  actor: string;
  ip?: string | null;
}

export const CLI_ACTOR: Actor = { actor: 'cli', ip: null };
export const SYSTEM_ACTOR: Actor = { actor: 'system', ip: null };

/** A signed-in user acting through the console or a token. */
export function userActor(userId: number, ip: string | null): Actor {
  return { actor: `user:${userId}`, ip };
}

/** An API key acting for itself (an OAuth client at the token endpoint, an admin key). */
export function keyActor(publicKey: string, ip: string | null): Actor {
  return { actor: `key:${publicKey}`, ip };
}

/** Every action the audit log records; owners filter on these names, so they never change. */
export type AuditAction =
  | 'tenant.created'
  | 'workspace.created'
  | 'member.added'
  | 'api_key.created'
  | 'api_key.revoked'
  | 'api_key.rotated'
  | 'signing_key.created'
  | 'signing_key.rotated'
  | 'consent.granted'
  | 'consent.revoked'
  | 'authorization_code.replayed'
  | 'refresh_token.revoked'
  | 'refresh_token.reused'
  | 'login.failed'
  | 'login.refused';

export interface AuditEntry {
  /** The organization whose log shows it; null for platform events (signing keys, unknown accounts). */
  tenantId: number | null;
  target?: string | null;
  /** Identifiers only, never a secret. */
  details?: Record<string, unknown>;
}

/**
 * Records an audit event. Call it with the transaction of the change it describes, so that the change
 * and its record are written together or not at all (DESIGN.md 2).
 */
export function audit(
  trx: Db,
  by: Actor,
  action: AuditAction,
  entry: AuditEntry,
  now = Date.now(),
): Promise<void> {
  return insertAuditEvent(trx, { ...entry, actor: by.actor, ip: by.ip ?? null, action }, now);
}
