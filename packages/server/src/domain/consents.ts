import type { ApiKey, ConsentListing } from '../model/types.ts';
import { findKeyByPublicKey } from '../storage/repositories/api-keys.ts';
import {
  deleteConsent,
  findConsent,
  listConsentsOfUser,
  upsertConsent,
} from '../storage/repositories/consents.ts';
import { type Db, inTransaction } from '../storage/transaction.ts';
import { type Actor, audit } from './audit.ts';
import { revokeUserGrants } from './refresh-tokens.ts';
import type { RevocationSink } from './revocations.ts';

/** True when the user already agreed to every requested scope value for this key. */
export async function hasConsent(db: Db, userId: number, key: ApiKey, scopes: string[]): Promise<boolean> {
  const consent = await findConsent(db, userId, key.id);
  if (!consent) return false;
  const granted = new Set(consent.scope.split(' '));
  return scopes.every((s) => granted.has(s));
}

/** Remembers a consent (widening an earlier one), with its audit event, in one transaction. */
export async function rememberConsent(
  db: Db,
  userId: number,
  key: ApiKey,
  scopes: string[],
  by: Actor,
): Promise<void> {
  const now = Date.now();
  await inTransaction(db, async (trx) => {
    const earlier = await findConsent(trx, userId, key.id);
    const scope = [...new Set([...(earlier?.scope.split(' ') ?? []), ...scopes])].join(' ');
    await upsertConsent(trx, { userId, apiKeyId: key.id, scope }, now);
    await audit(
      trx,
      by,
      'consent.granted',
      { tenantId: key.tenantId, target: key.publicKey, details: { scope } },
      now,
    );
  });
}

/**
 * Withdraws a user's consent to a key. Everything the user granted to it dies with it: refresh tokens
 * codes not yet exchanged, refresh tokens and live access tokens (refused on this instance at once),
 * so that "remove access" means what it says.
 * @returns false when the user had no consent for that key.
 */
export async function revokeConsent(
  db: Db,
  sink: RevocationSink,
  userId: number,
  publicKey: string,
  by: Actor,
  tenantId?: number,
): Promise<boolean> {
  const found = await findKeyByPublicKey(db, publicKey);
  // Through a token of one organization, the consents to another's applications do not exist.
  if (!found || (tenantId !== undefined && found.key.tenantId !== tenantId)) return false;
  const key = found.key;
  const now = Date.now();
  return inTransaction(db, async (trx) => {
    if (!(await deleteConsent(trx, userId, key.id))) return false;
    await revokeUserGrants(trx, sink, key, userId, now);
    await audit(trx, by, 'consent.revoked', { tenantId: key.tenantId, target: key.publicKey }, now);
    return true;
  });
}

/**
 * The applications a user has authorized: all of them (their own account page), or those of one
 * organization's keys (through a token of that organization, which must learn nothing of others).
 */
export function listAuthorizedApps(db: Db, userId: number, tenantId?: number): Promise<ConsentListing[]> {
  return listConsentsOfUser(db, userId, tenantId);
}
