import { bearerCache, type Credential } from './credentials.ts';
import { requestTokens, type TokenEndpoint, type TokenSet } from './token-endpoint.ts';

/** Tokens kept from an earlier run: a {@link TokenSet}, or only its refresh token. */
export interface StoredTokens {
  accessToken?: string | undefined;
  refreshToken?: string | undefined;
  /** Epoch ms; unknown: the access token is used until the API refuses it. */
  expiresAt?: number | undefined;
  scope?: string | undefined;
}

/** Receives every new token set; persist it, since the refresh token it replaces no longer works. */
export type OnTokens = (tokens: TokenSet) => void | Promise<void>;

/**
 * A person's tokens, refreshed with rotation (RFC 6749 6, RFC 9700 4.14.2): the access token is used
 * until shortly before it expires or until the API refuses it, then exchanged with the refresh token
 * for a new pair, which `onTokens` receives before any request uses it. One refresh at a time: a
 * rotated refresh token presented twice would make the server revoke the whole family.
 */
export function refreshTokenCredential(
  endpoint: TokenEndpoint,
  tokens: StoredTokens,
  onTokens?: OnTokens,
): Credential {
  if (!tokens.accessToken && !tokens.refreshToken) {
    throw new TypeError('Gatehouse: tokens needs an accessToken or a refreshToken');
  }
  let refreshToken = tokens.refreshToken;
  let scope = tokens.scope;
  return bearerCache({
    initial: tokens.accessToken
      ? { value: tokens.accessToken, expiresAt: tokens.expiresAt ?? Number.POSITIVE_INFINITY }
      : undefined,
    canRenew: () => refreshToken !== undefined,
    fetchToken: async () => {
      // canRenew() held: bearerCache asks for a token only then.
      const answer = await requestTokens(endpoint, {
        grant_type: 'refresh_token',
        refresh_token: refreshToken ?? '',
      });
      // RFC 6749 6: without a new refresh token, the current one stays valid; without scope, it is unchanged.
      const rotated = answer.refreshToken ?? refreshToken;
      const next: TokenSet = {
        ...answer,
        scope: answer.scope || scope || '',
        ...(rotated !== undefined ? { refreshToken: rotated } : {}),
      };
      refreshToken = next.refreshToken;
      scope = next.scope;
      await onTokens?.(next);
      return { value: next.accessToken, expiresAt: next.expiresAt };
    },
    now: endpoint.now,
  });
}
