import { errorFromResponse, GatehouseError } from './errors.ts';

/** Adds a credential to a request, and may renew it once when the server answers 401. */
export interface Credential {
  headers(): Promise<Record<string, string>>;
  /** Called after a 401: true when a fresh credential is worth one retry. */
  renew(): boolean;
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

interface TokenResponse {
  access_token: string;
  expires_in: number;
  token_type: string;
  scope?: string;
}

function isTokenResponse(value: unknown): value is TokenResponse {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>; // checked field by field below
  return (
    typeof v.access_token === 'string' && typeof v.expires_in === 'number' && typeof v.token_type === 'string'
  );
}

/** RFC 6749 2.3.1: client_id and secret are form-urlencoded before being joined for HTTP Basic. */
function basic(clientId: string, clientSecret: string): string {
  const form = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${btoa(`${form(clientId)}:${form(clientSecret)}`)}`;
}

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
 * expires, and shares one request between concurrent callers. After a 401 the cached token is dropped
 * so that the next request fetches a new one (the key may have been rotated, the token revoked).
 */
export function clientCredentials(options: ClientCredentialsOptions): Credential {
  const now = options.now ?? Date.now;
  let token: { value: string; renewAt: number } | null = null;
  let pending: Promise<string> | null = null;

  async function fetchToken(): Promise<string> {
    let response: Response;
    try {
      response = await options.fetch(`${options.baseUrl}/connect/token`, {
        method: 'POST',
        headers: {
          authorization: basic(options.clientId, options.clientSecret),
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: new URLSearchParams({ grant_type: 'client_credentials', scope: options.scope }).toString(),
      });
    } catch (cause) {
      throw new GatehouseError({
        status: 0,
        code: 'network_error',
        detail: 'the token endpoint is unreachable',
        cause,
      });
    }
    if (!response.ok) throw await errorFromResponse(response);
    const body: unknown = await response.json();
    if (!isTokenResponse(body)) {
      throw new GatehouseError({
        status: response.status,
        code: 'invalid_response',
        detail: 'not a token response',
      });
    }
    const lifetimeMs = body.expires_in * 1000;
    // At most a minute early, and never more than a tenth of a short lifetime.
    const margin = options.marginMs ?? Math.min(60_000, lifetimeMs / 10);
    token = { value: body.access_token, renewAt: now() + lifetimeMs - margin };
    return body.access_token;
  }

  async function current(): Promise<string> {
    if (token && now() < token.renewAt) return token.value;
    pending ??= fetchToken().finally(() => {
      pending = null;
    });
    return pending;
  }

  return {
    headers: async () => ({ authorization: `Bearer ${await current()}` }),
    renew: () => {
      token = null;
      return true;
    },
  };
}
