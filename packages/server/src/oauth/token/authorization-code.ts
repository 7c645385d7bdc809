import { keyActor } from '../../domain/audit.ts';
import { findAuthorizationCode, redeemCode, revokeReplayedCode } from '../../domain/authorization-codes.ts';
import { randomId } from '../../domain/secrets.ts';
import { OAuthError } from '../../errors/errors.ts';
import { verifyChallenge } from '../pkce.ts';
import type { GrantHandler } from './grant.ts';
import { invalidGrant, issueUserTokens } from './user-grant.ts';

/**
 * RFC 6749 4.1.3, authorization code: the code must be this client's, unexpired, unused, presented
 * with the redirect URI of the authorization request and, when the request had a PKCE challenge, the
 * matching verifier (RFC 7636 4.6). A used code presented again revokes everything issued from it.
 * A code granted `openid` also answers an ID token (OpenID Connect Core 3.1.3.3).
 */
export const authorizationCode: GrantHandler = async ({ request, params, client, services }) => {
  const code = params.get('code');
  if (code === undefined) throw new OAuthError('invalid_request', 'code is required');
  const record = await findAuthorizationCode(services.db, code);
  if (!record) throw invalidGrant('the authorization code is invalid');
  if (record.consumedAt !== null) {
    await revokeReplayedCode(services.db, services.denylist, record, keyActor(client.publicKey, request.ip));
    throw invalidGrant('the authorization code was already used; the tokens issued from it are revoked');
  }
  // Not consumed on a mismatch: whoever holds a stolen code cannot burn the rightful client's.
  if (record.apiKeyId !== client.id)
    throw invalidGrant('the authorization code was issued to another client');
  if (record.expiresAt <= Date.now()) throw invalidGrant('the authorization code has expired');
  if (params.get('redirect_uri') !== record.redirectUri)
    throw invalidGrant('redirect_uri does not match the authorization request');
  // Defence in depth (RFC 9700 2.1.1): the authorization endpoint already requires PKCE of a public
  // client, whose code is bound to the app that asked for it by nothing else.
  if (client.clientType === 'public' && record.codeChallenge === null)
    throw invalidGrant('a public client must use PKCE: this code has no code_challenge');
  const verifier = params.get('code_verifier');
  if (record.codeChallenge !== null) {
    if (verifier === undefined) throw invalidGrant('code_verifier is required (PKCE was used)');
    if (!verifyChallenge(verifier, record.codeChallenge)) throw invalidGrant('code_verifier does not match');
  } else if (verifier !== undefined) {
    // RFC 9700 2.1.1: a verifier without a challenge is a PKCE downgrade attempt.
    throw invalidGrant('code_verifier sent but the authorization request had no code_challenge');
  }
  const tokens = await issueUserTokens(services, {
    client,
    userId: record.userId,
    familyId: randomId(),
    grantScope: record.scope,
    accessScope: record.scope,
    parentId: null,
    // Its ID token (when the scope has openid) repeats the request's nonce and the sign-in's time and session.
    signIn: { nonce: record.nonce, authTime: record.authTime, sid: record.sid },
  });
  if (!(await redeemCode(services.db, record, tokens.grant))) {
    // A concurrent exchange won the race: this one is a replay, and what the winner got is revoked.
    const winner = await findAuthorizationCode(services.db, code);
    if (winner)
      await revokeReplayedCode(
        services.db,
        services.denylist,
        winner,
        keyActor(client.publicKey, request.ip),
      );
    throw invalidGrant('the authorization code was already used; the tokens issued from it are revoked');
  }
  return tokens.response;
};
