/** Adds a credential to a request, and may renew it once when the server answers 401. */
export interface Credential {
  headers(): Promise<Record<string, string>>;
  /**
   * Called after a 401 to the request that carried `sent`: true when a fresh credential is worth one
   * retry. Only the credential that was refused is dropped, so that N requests refused together
   * renew it once, not N times.
   */
  renew(sent: Record<string, string>): boolean;
}

/** `X-API-Key: <private key>`. Nothing to renew: a refused key stays refused. */
export function apiKeyCredential(apiKey: string): Credential {
  const headers = { 'x-api-key': apiKey };
  return { headers: async () => headers, renew: () => false };
}

/** A bearer token obtained elsewhere (authorization code flow, another service). */
export function accessTokenCredential(accessToken: string): Credential {
  const headers = { authorization: `Bearer ${accessToken}` };
  return { headers: async () => headers, renew: () => false };
}

/** An access token and when it expires (epoch ms; `Infinity` when unknown: used until refused). */
export interface Bearer {
  value: string;
  expiresAt: number;
}

export interface BearerCacheOptions {
  /** Fetches a new access token: client credentials, or a refresh. */
  fetchToken: () => Promise<Bearer>;
  /** A token to start with. */
  initial?: Bearer | undefined;
  /** False when no new token can be had (a refresh credential without a refresh token). */
  canRenew?: () => boolean;
  /** Renew this long before expiry; by default a minute, and never more than a tenth of the lifetime. */
  marginMs?: number | undefined;
  now?: (() => number) | undefined;
}

/**
 * One access token at a time: reused until shortly before it expires (so that it never expires in
 * flight), fetched by one request however many callers wait for it, and dropped after a 401 (the key
 * may have been rotated or the token revoked).
 */
export function bearerCache(options: BearerCacheOptions): Credential {
  const now = options.now ?? Date.now;
  const canRenew = options.canRenew ?? (() => true);
  let token: { value: string; renewAt: number } | null = null;
  let pending: Promise<string> | null = null;

  function keep(bearer: Bearer): string {
    const margin = options.marginMs ?? Math.min(60_000, Math.max(0, bearer.expiresAt - now()) / 10);
    token = { value: bearer.value, renewAt: bearer.expiresAt - margin };
    return bearer.value;
  }
  if (options.initial) keep(options.initial);

  async function current(): Promise<string> {
    if (token && (now() < token.renewAt || !canRenew())) return token.value;
    pending ??= options
      .fetchToken()
      .then(keep)
      .finally(() => {
        pending = null;
      });
    return pending;
  }

  return {
    headers: async () => ({ authorization: `Bearer ${await current()}` }),
    renew: (sent) => {
      if (!canRenew()) return false;
      if (token && sent.authorization === `Bearer ${token.value}`) token = null;
      return true;
    },
  };
}
