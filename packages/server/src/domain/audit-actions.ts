import type { AuditAction } from './audit.ts';

/**
 * Every {@link AuditAction}, as a value: a record keyed by the union, so that adding an action to the
 * union without listing it here fails to compile, and the console's filter always offers all of them.
 */
const ACTIONS: Record<AuditAction, true> = {
  'tenant.created': true,
  'workspace.created': true,
  'workspace.updated': true,
  'member.added': true,
  'member.updated': true,
  'member.removed': true,
  'member.signed_in_by_link': true,
  'api_key.created': true,
  'api_key.revoked': true,
  'api_key.rotated': true,
  'api_key.updated': true,
  'signing_key.created': true,
  'signing_key.rotated': true,
  'consent.granted': true,
  'consent.revoked': true,
  'authorization_code.replayed': true,
  'refresh_token.revoked': true,
  'refresh_token.reused': true,
  'login.failed': true,
  'login.refused': true,
  'user.updated': true,
  'user.password_changed': true,
};

/** The names of every audit action, sorted (the audit log's action filter). */
export const AUDIT_ACTIONS: readonly AuditAction[] = Object.freeze(
  // Sound: the keys of a Record<AuditAction, true> literal are exactly the union's members.
  (Object.keys(ACTIONS) as AuditAction[]).sort(),
);

/** Whether `value` names an audit action. */
export function isAuditAction(value: string): value is AuditAction {
  return Object.hasOwn(ACTIONS, value);
}
