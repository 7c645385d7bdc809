import { keyActor } from '../../domain/audit.ts';
import { findRefreshToken, revokeReusedFamily, rotateRefreshToken } from '../../domain/refresh-tokens.ts';
import { SCOPES } from '../../domain/scopes.ts';
import { OAuthError } from '../../errors/errors.ts';
import { resolveScope } from '../scope.ts';
import type { GrantHandler } from './grant.ts';
import { invalidGrant, issueUserTokens } from './user-grant.ts';

/**
 * RFC 6749 6, refresh token: opaque, this client's, unexpired, unrevoked and unused. Every use
 * rotates it (a new token, sliding lifetime); presenting one that was already rotated revokes the
 * whole family (DESIGN.md 3 rule 6). A narrower `scope` may be asked for the access token only.
 */
export const refreshToken: GrantHandler = async ({ request, params, client, services }) => {
  const token = params.get('refresh_token');
  if (token === undefined) throw new OAuthError('invalid_request', 'refresh_token is required');
  const record = await findRefreshToken(services.db, token);
  if (!record) throw invalidGrant('the refresh token is invalid');
  if (record.apiKeyId !== client.id) throw invalidGrant('the refresh token was issued to another client');
  if (record.revokedAt !== null) throw invalidGrant('the refresh token was revoked');
  const reused = async () => {
    await revokeReusedFamily(
      services.db,
      services.denylist,
      record,
      client,
      keyActor(client.publicKey, request.ip),
    );
    return invalidGrant('the refresh token was already used; its whole family is revoked');
  };
  if (record.rotatedAt !== null) {
    throw await reused();
  }
  if (record.expiresAt <= Date.now()) throw invalidGrant('the refresh token has expired');
  const granted = SCOPES.filter((s) => record.scope.split(' ').includes(s));
  const accessScope = resolveScope(params.get('scope') ?? record.scope, granted);
  const tokens = await issueUserTokens(services, {
    client,
    userId: record.userId,
    familyId: record.familyId,
    grantScope: record.scope,
    accessScope,
    parentId: record.id,
  });
  if (!(await rotateRefreshToken(services.db, record, tokens.grant))) {
    // Used (or revoked) concurrently: as good as a reuse.
    throw await reused();
  }
  return tokens.response;
};
