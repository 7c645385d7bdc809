import { keyStatus } from '../../domain/api-keys.ts';
import { missingScope, SCOPES } from '../../domain/scopes.ts';
import type { OAuthErrorCode } from '../../errors/codes.ts';
import type { ApiKey } from '../../model/types.ts';
import type { Services } from '../../services.ts';
import { checkChallenge } from '../pkce.ts';
import { isRegisteredRedirect } from '../redirect.ts';

export type Prompt = 'none' | 'login' | 'consent';

/** A validated authorization request (RFC 6749 4.1.1, RFC 7636 4.3). */
export interface AuthorizationRequest {
  client: ApiKey;
  redirectUri: string;
  state: string | null;
  /** Granted scope values, in canonical order. */
  scopes: string[];
  codeChallenge: string | null;
  prompt: Set<Prompt>;
  /** OpenID Connect Core 3.1.2.1: echoed in the ID token. */
  nonce: string | null;
  /** Seconds since the user last authenticated beyond which they must sign in again; null: any. */
  maxAge: number | null;
  /** The parameters as received, carried through the sign-in and consent pages and validated again there. */
  params: Record<string, string>;
}

export type AuthorizationValidation =
  | { kind: 'ok'; request: AuthorizationRequest }
  /**
   * The client or redirect URI cannot be trusted: an error page, never a redirect (RFC 6749 4.1.2.1).
   * `client` is the live client named by `client_id`, when there is one (the sign-in page names it).
   */
  | { kind: 'page'; message: string; client?: ApiKey }
  /** The redirect URI is trusted: the error goes back to the client. */
  | {
      kind: 'redirect';
      client: ApiKey;
      redirectUri: string;
      state: string | null;
      error: OAuthErrorCode;
      description: string;
    };

const MAX_PARAM_LENGTH = 4096;

/**
 * Reads the request parameters (query for GET, form body for POST). A parameter sent twice is kept
 * as a marker so that validation can refuse it (RFC 6749 3.1: parameters MUST NOT be repeated).
 */
export function readParams(source: unknown): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  if (typeof source !== 'object' || source === null) return out;
  for (const [name, value] of Object.entries(source)) {
    if (typeof value === 'string') out[name] = value;
    else if (Array.isArray(value)) out[name] = value.map(String);
  }
  return out;
}

function single(params: Record<string, string | string[]>, name: string): string | undefined | null {
  const value = params[name];
  if (Array.isArray(value)) return null;
  return value === '' ? undefined : value;
}

/**
 * Validates an authorization request in the order RFC 6749 4.1.2.1 prescribes: first what decides
 * whether the redirect URI can be trusted (client and exact redirect URI: errors there are shown on a
 * page, never redirected, so that no error path is an open redirect), then everything else, whose
 * errors go back to the client with its `state`.
 */
export async function validateAuthorizationRequest(
  services: Services,
  params: Record<string, string | string[]>,
): Promise<AuthorizationValidation> {
  const clientId = single(params, 'client_id');
  if (clientId === null) return { kind: 'page', message: 'The client_id parameter is repeated.' };
  if (clientId === undefined) return { kind: 'page', message: 'The client_id parameter is missing.' };
  const client = await services.keys.findClient(clientId);
  if (!client || keyStatus(client, Date.now()) !== null) {
    return { kind: 'page', message: 'This application is unknown or no longer authorized to sign you in.' };
  }
  const redirectUri = single(params, 'redirect_uri');
  if (redirectUri === null)
    return { kind: 'page', message: 'The redirect_uri parameter is repeated.', client };
  if (redirectUri === undefined)
    return { kind: 'page', message: 'The redirect_uri parameter is missing.', client };
  // Byte for byte (DESIGN.md 1, RFC 9700 4.1.1): no normalization of case, slashes or query; only a
  // loopback redirect's port may differ (RFC 8252 7.3).
  if (!isRegisteredRedirect(client.redirectUris, redirectUri)) {
    return { kind: 'page', message: 'The redirect URI is not registered for this application.', client };
  }

  const rawState = single(params, 'state');
  const state = rawState === undefined || rawState === null ? null : rawState;
  const fail = (error: OAuthErrorCode, description: string): AuthorizationValidation => ({
    kind: 'redirect',
    client,
    redirectUri,
    state,
    error,
    description,
  });
  for (const [name, value] of Object.entries(params)) {
    if (Array.isArray(value)) return fail('invalid_request', `the ${name} parameter is repeated`);
    if (value.length > MAX_PARAM_LENGTH) return fail('invalid_request', `the ${name} parameter is too long`);
  }
  // Every value is a single string from here on (checked just above).
  const flat = params as Record<string, string>;

  const responseType = single(flat, 'response_type');
  if (responseType === undefined) return fail('invalid_request', 'response_type is required');
  if (responseType !== 'code')
    return fail('unsupported_response_type', 'only response_type=code is supported');
  const responseMode = single(flat, 'response_mode');
  if (responseMode !== undefined && responseMode !== 'query')
    return fail('invalid_request', 'only response_mode=query is supported');

  // RFC 6749 3.3: the server may default the scope; as for client credentials, the default is api1.
  const scopes = (single(flat, 'scope') ?? 'api1').split(' ').filter(Boolean);
  const unknown = scopes.find((s) => !(SCOPES as readonly string[]).includes(s));
  if (unknown !== undefined) return fail('invalid_scope', `unknown scope "${unknown}"`);
  const scopeProblem = missingScope(scopes);
  if (scopeProblem) return fail('invalid_scope', scopeProblem);

  const pkce = checkChallenge(
    single(flat, 'code_challenge') ?? undefined,
    single(flat, 'code_challenge_method') ?? undefined,
  );
  if (!pkce.ok) return fail('invalid_request', pkce.reason);
  // A public client has no secret: only PKCE binds the code to the app that asked for it (RFC 9700 2.1.1).
  if (client.clientType === 'public' && pkce.challenge === null)
    return fail('invalid_request', 'PKCE (code_challenge with S256) is required for a public client');

  const rawMaxAge = single(flat, 'max_age') ?? undefined;
  if (rawMaxAge !== undefined && !/^\d{1,10}$/.test(rawMaxAge))
    return fail('invalid_request', 'max_age must be a number of seconds');

  const prompt = new Set<Prompt>();
  for (const value of (single(flat, 'prompt') ?? '').split(' ').filter(Boolean)) {
    if (value !== 'none' && value !== 'login' && value !== 'consent')
      return fail('invalid_request', `unsupported prompt value "${value}"`);
    prompt.add(value);
  }
  // OpenID Connect Core 3.1.2.1: none with any other value is an error.
  if (prompt.has('none') && prompt.size > 1)
    return fail('invalid_request', 'prompt=none cannot be combined with other values');

  return {
    kind: 'ok',
    request: {
      client,
      redirectUri,
      state,
      scopes: SCOPES.filter((s) => scopes.includes(s)),
      codeChallenge: pkce.challenge,
      prompt,
      nonce: single(flat, 'nonce') ?? null,
      maxAge: rawMaxAge === undefined ? null : Number(rawMaxAge),
      params: { ...flat },
    },
  };
}

/**
 * The authorization endpoint URL that repeats a request, optionally without some prompt values. Once
 * the user signs in again for `prompt=login`, `max_age` is met too, so it goes with `login`: the fresh
 * session's `auth_time` tells the client, and the request does not loop back to the sign-in page.
 */
export function authorizePath(params: Record<string, string>, dropPrompt: Prompt[] = []): string {
  const copy = { ...params };
  if (dropPrompt.includes('login')) delete copy.max_age;
  if (copy.prompt !== undefined) {
    const kept = copy.prompt.split(' ').filter((p) => p && !(dropPrompt as string[]).includes(p));
    if (kept.length) copy.prompt = kept.join(' ');
    else delete copy.prompt;
  }
  return `/connect/authorize?${new URLSearchParams(copy).toString()}`;
}
