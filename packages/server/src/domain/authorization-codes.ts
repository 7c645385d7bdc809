import type { CodeRecord } from '../model/types.ts';
import { findKeyById } from '../storage/repositories/api-keys.ts';
import { consumeCode, findCodeByHash, insertCode } from '../storage/repositories/authorization-codes.ts';
import { type Db, inTransaction } from '../storage/transaction.ts';
import { type Actor, audit } from './audit.ts';
import { type IssuedGrant, recordIssuedTokens, revokeFamiliesWithTokens } from './refresh-tokens.ts';
import type { RevocationSink } from './revocations.ts';
import { hashSecret, isOpaqueToken, randomToken } from './secrets.ts';

/** Codes live 60 seconds (RFC 6749 4.1.2 recommends at most 10 minutes; a browser redirect needs less). */
export const CODE_TTL_MS = 60_000;

const CODE_PREFIX = 'gac_';

export interface CodeBinding {
  apiKeyId: number;
  userId: number;
  /** The redirect URI of the request, byte for byte, which the exchange must repeat (RFC 6749 4.1.3). */
  redirectUri: string;
  scope: string;
  /** PKCE S256 challenge (RFC 7636 4.2), or null when the client sent none. */
  codeChallenge: string | null;
  /** OpenID Connect: the request's `nonce`, when the user authenticated, and the session's `sid`. */
  nonce: string | null;
  authTime: number | null;
  sid: string | null;
}

/** Issues a single-use code of 256 random bits bound to client, redirect URI, user and challenge. */
export async function issueAuthorizationCode(
  db: Db,
  binding: CodeBinding,
  now = Date.now(),
): Promise<string> {
  const code = randomToken(CODE_PREFIX);
  await insertCode(db, { ...binding, codeHash: hashSecret(code), expiresAt: now + CODE_TTL_MS }, now);
  return code;
}

/** The record of a code, used or not; anything not shaped like one of our codes is unknown. */
export async function findAuthorizationCode(db: Db, code: string): Promise<CodeRecord | undefined> {
  if (!isOpaqueToken(CODE_PREFIX, code)) return undefined;
  return findCodeByHash(db, hashSecret(code));
}

/**
 * Exchanges a code for its tokens in one transaction (DESIGN.md 2): the code is consumed and the
 * tokens recorded together, so a crash never leaves a code usable twice or tokens without their grant.
 * @returns false when a concurrent exchange consumed the code first.
 */
export async function redeemCode(
  db: Db,
  code: CodeRecord,
  grant: IssuedGrant,
  now = Date.now(),
): Promise<boolean> {
  return inTransaction(db, async (trx) => {
    if (!(await consumeCode(trx, code.id, grant.familyId, now))) return false;
    await recordIssuedTokens(trx, grant, now);
    return true;
  });
}

/**
 * A code presented again after its exchange: it leaked, so everything issued from it is revoked
 * (RFC 6749 4.1.2, RFC 9700 4.2.4: the refresh token family and the access tokens' jtis) and audited.
 */
export async function revokeReplayedCode(
  db: Db,
  sink: RevocationSink,
  code: CodeRecord,
  by: Actor,
): Promise<void> {
  const now = Date.now();
  const key = await findKeyById(db, code.apiKeyId);
  await inTransaction(db, async (trx) => {
    if (code.familyId && key) await revokeFamiliesWithTokens(trx, sink, [code.familyId], key.publicKey, now);
    const entry = {
      tenantId: key?.tenantId ?? null,
      target: `user:${code.userId}`,
      details: { family: code.familyId },
    };
    await audit(trx, by, 'authorization_code.replayed', entry, now);
  });
}
