import { errorFromResponse, GatehouseError } from './errors.ts';

/**
 * Tokens as the SDK keeps them: the token response of RFC 6749 5.1 with `expires_in` turned into an
 * instant, so that a stored set stays meaningful after a restart. Persist it whole (`onTokens`).
 */
export interface TokenSet {
  accessToken: string;
  /** `Bearer`. */
  tokenType: string;
  /** When the access token expires, in epoch milliseconds. */
  expiresAt: number;
  scope: string;
  /** Present when `offline_access` was granted; rotated on every use (RFC 9700 4.14.2). */
  refreshToken?: string;
  /** With the `openid` scope. */
  idToken?: string;
}

/** How the SDK authenticates to the token endpoint: a confidential client has a secret. */
export interface OAuthClientOptions {
  /** Where Gatehouse answers, e.g. `https://auth.example.com` (a path prefix is kept). */
  baseUrl: string;
  /** The key's public key (`gpk_...`), its OAuth `client_id`. */
  clientId: string;
  /** The key's private key (`gsk_...`): keep it on a server, never in a browser you do not control. */
  clientSecret?: string | undefined;
  /** A fetch implementation; the global one by default (Node 18+, browsers, Deno, Bun). */
  fetch?: typeof fetch | undefined;
}

/** The options, checked and normalised once. */
export interface TokenEndpoint {
  baseUrl: string;
  clientId: string;
  clientSecret: string | undefined;
  fetch: typeof fetch;
  now: () => number;
}

/** `https://auth.example.com/` and `https://AUTH.example.com` are one base URL: parsed, without trailing slashes. */
export function normaliseBaseUrl(baseUrl: unknown): string {
  if (typeof baseUrl !== 'string' || baseUrl === '') {
    throw new TypeError('Gatehouse: baseUrl is required, e.g. http://127.0.0.1:8080');
  }
  return new URL(baseUrl).href.replace(/\/+$/, '');
}

/** A required string option, refused early with its name (a missing environment variable, usually). */
export function requireOption(value: unknown, name: string): string {
  if (typeof value !== 'string' || value === '') throw new TypeError(`Gatehouse: ${name} is required`);
  return value;
}

/** The default fetch, bound: some runtimes refuse a fetch called with another `this`. */
export function defaultFetch(fetchImpl: typeof fetch | undefined): typeof fetch {
  return fetchImpl ?? globalThis.fetch.bind(globalThis);
}

export function tokenEndpoint(options: OAuthClientOptions, now: () => number = Date.now): TokenEndpoint {
  return {
    baseUrl: normaliseBaseUrl(options.baseUrl),
    clientId: requireOption(options.clientId, 'clientId'),
    clientSecret:
      options.clientSecret === undefined ? undefined : requireOption(options.clientSecret, 'clientSecret'),
    fetch: defaultFetch(options.fetch),
    now,
  };
}

/** RFC 6749 2.3.1: client_id and secret are form-urlencoded before being joined for HTTP Basic. */
function basic(clientId: string, clientSecret: string): string {
  const form = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  // Both parts are ASCII once form-encoded, which is all btoa accepts.
  return `Basic ${btoa(`${form(clientId)}:${form(clientSecret)}`)}`;
}

interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope?: string;
  refresh_token?: string;
  id_token?: string;
}

function isTokenResponse(value: unknown): value is TokenResponse {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>; // checked field by field below
  return (
    typeof v.access_token === 'string' &&
    typeof v.expires_in === 'number' &&
    typeof v.token_type === 'string' &&
    (v.refresh_token === undefined || typeof v.refresh_token === 'string') &&
    (v.scope === undefined || typeof v.scope === 'string')
  );
}

/**
 * `POST /connect/token` with `form`: HTTP Basic for a confidential client, `client_id` in the body
 * for a public one (RFC 6749 2.3.1 and 3.2.1). Throws a `GatehouseError` with the RFC 6749 5.2 fields.
 */
export async function requestTokens(
  endpoint: TokenEndpoint,
  form: Record<string, string>,
): Promise<TokenSet> {
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
  };
  const body = new URLSearchParams(form);
  if (endpoint.clientSecret === undefined) body.set('client_id', endpoint.clientId);
  else headers.authorization = basic(endpoint.clientId, endpoint.clientSecret);
  // The lifetime counts from before the request: a slow answer never makes a token look younger.
  const sentAt = endpoint.now();
  let response: Response;
  try {
    response = await endpoint.fetch(`${endpoint.baseUrl}/connect/token`, {
      method: 'POST',
      headers,
      body: body.toString(),
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
  const answer: unknown = await response.json().catch(() => undefined);
  if (!isTokenResponse(answer)) {
    throw new GatehouseError({
      status: response.status,
      code: 'invalid_response',
      detail: 'not a token response',
    });
  }
  return {
    accessToken: answer.access_token,
    tokenType: answer.token_type,
    expiresAt: sentAt + answer.expires_in * 1000,
    // RFC 6749 5.1: without `scope`, the scope granted is the one requested.
    scope: answer.scope ?? form.scope ?? '',
    ...(answer.refresh_token !== undefined ? { refreshToken: answer.refresh_token } : {}),
    ...(answer.id_token !== undefined ? { idToken: answer.id_token } : {}),
  };
}
