import { insertAuditEvent } from '../storage/repositories/audit.ts';
import type { Db } from '../storage/transaction.ts';

/** Who did something and from where: recorded with every change (DESIGN.md 3 rule 11). */
export interface Actor {
  /** `cli`, `system`, `user:<id>`, `key:<public key>` or `anonymous`. */
  actor: string;
  ip?: string | null;
  userAgent?: string | null;
  /**
   * What the actor may do in the organization it changes: an owner, or an admin (a user, or a key acting
   * for itself, `keyId`). Absent for the operator of the server (the CLI), who may do anything.
   */
  authority?: Authority;
}

export interface Authority {
  role: 'owner' | 'admin';
  /** The key acting for itself, if any: a key may not rotate or revoke itself (no self-perpetuation). */
  keyId: number | null;
}

/** Whether the actor may do what only an owner may: grant `admin` keys, make or unmake owners. */
export function actsAsOwner(by: Actor): boolean {
  return by.authority === undefined || by.authority.role === 'owner';
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
  | 'workspace.updated'
  | 'member.added'
  | 'member.updated'
  | 'member.removed'
  | 'member.signed_in_by_link'
  | 'api_key.created'
  | 'api_key.revoked'
  | 'api_key.rotated'
  | 'api_key.updated'
  | 'signing_key.created'
  | 'signing_key.rotated'
  | 'consent.granted'
  | 'consent.revoked'
  | 'authorization_code.replayed'
  | 'refresh_token.revoked'
  | 'refresh_token.reused'
  | 'login.failed'
  | 'login.refused'
  | 'user.updated'
  | 'user.password_changed';

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
  const { actor, ip = null, userAgent = null } = by;
  return insertAuditEvent(trx, { ...entry, actor, ip, userAgent, action }, now);
}
