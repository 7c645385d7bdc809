import { bearerCache, type Credential } from './credentials.ts';
import { requestTokens, type TokenEndpoint } from './token-endpoint.ts';

export interface ClientCredentialsOptions {
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  scope: string;
  fetch: typeof fetch;
  /** Renew this long before `expires_in` runs out, so a token never expires in flight. */
  marginMs?: number;
  now?: () => number;
}

/**
 * OAuth2 client credentials (RFC 6749 4.4): fetches an access token, caches it until shortly before it
 * expires, and shares one request between concurrent callers. After a 401 the refused token is dropped
 * so that the retry fetches a new one (the key may have been rotated, the token revoked).
 */
export function clientCredentials(options: ClientCredentialsOptions): Credential {
  const now = options.now ?? Date.now;
  const endpoint: TokenEndpoint = {
    baseUrl: options.baseUrl,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    fetch: options.fetch,
    now,
  };
  return bearerCache({
    fetchToken: async () => {
      const tokens = await requestTokens(endpoint, {
        grant_type: 'client_credentials',
        scope: options.scope,
      });
      return { value: tokens.accessToken, expiresAt: tokens.expiresAt };
    },
    marginMs: options.marginMs,
    now,
  });
}
