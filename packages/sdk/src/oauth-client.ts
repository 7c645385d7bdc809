import { GatehouseError } from './errors.ts';
import { pkcePair, randomToken } from './pkce.ts';
import {
  type OAuthClientOptions,
  requestTokens,
  type TokenEndpoint,
  type TokenSet,
  tokenEndpoint,
} from './token-endpoint.ts';

export interface AuthorizationRequestOptions {
  /** One of the key's redirect URLs, byte for byte. */
  redirectUri: string;
  /** `api1` by default; add `offline_access` for a refresh token, `openid` for an ID token. */
  scope?: string;
  /** More authorization parameters (`prompt`, `nonce`, `login_hint`...). */
  params?: Record<string, string>;
}

/** Where to send the browser, and what to keep (in the session) until the callback. */
export interface AuthorizationRequest {
  url: string;
  state: string;
  codeVerifier: string;
}

export interface ExchangeCodeOptions {
  /** The URL the browser came back to, with its query (relative to `redirectUri` is fine). */
  callbackUrl: string | URL;
  /** The `state` of {@link OAuthClient.createAuthorizationRequest}, kept until now. */
  state: string;
  codeVerifier: string;
  redirectUri: string;
}

/**
 * The authorization code flow with PKCE (RFC 6749 4.1, RFC 7636), for an app that acts for a person.
 *
 * @example
 * ```ts
 * const oauth = new OAuthClient({ baseUrl, clientId: 'gpk_...', clientSecret: 'gsk_...' });
 * const { url, state, codeVerifier } = await oauth.createAuthorizationRequest({
 *   redirectUri: 'https://app.example/callback',
 *   scope: 'api1 offline_access',
 * });
 * // Keep state and codeVerifier in the session, send the browser to url; then, on the callback:
 * const tokens = await oauth.exchangeCode({ callbackUrl, state, codeVerifier, redirectUri });
 * const gatehouse = new Gatehouse({ baseUrl, clientId, clientSecret, tokens, onTokens: save });
 * ```
 */
export class OAuthClient {
  private readonly endpoint: TokenEndpoint;
  private readonly issuer: string;

  constructor(options: OAuthClientOptions & { issuer?: string }) {
    this.endpoint = tokenEndpoint(options);
    // RFC 8414 3.3: the issuer is the URL its metadata is found under, so this server's base URL
    // (Gatehouse spells it without a trailing slash); `issuer` only for a server named otherwise.
    this.issuer = options.issuer ?? this.endpoint.baseUrl;
  }

  /** The authorization URL, with a fresh `state` and a PKCE S256 challenge (RFC 7636 4.2). */
  async createAuthorizationRequest(options: AuthorizationRequestOptions): Promise<AuthorizationRequest> {
    const { codeVerifier, codeChallenge } = await pkcePair();
    // 128 bits: unguessable, so a forged callback cannot carry it (RFC 6749 10.12).
    const state = randomToken(16);
    const query = new URLSearchParams({
      ...options.params,
      response_type: 'code',
      client_id: this.endpoint.clientId,
      redirect_uri: options.redirectUri,
      scope: options.scope ?? 'api1',
      state,
      code_challenge: codeChallenge,
      code_challenge_method: 'S256',
    });
    return { url: `${this.endpoint.baseUrl}/connect/authorize?${query}`, state, codeVerifier };
  }

  /**
   * Checks the authorization response, then exchanges its code for tokens (RFC 6749 4.1.3). Refuses
   * a callback whose `state` is not the one sent (a forged or replayed response, RFC 6749 10.12) or
   * whose `iss` is not this server (a mix-up attack, RFC 9207 2.4), before anything else is read.
   */
  async exchangeCode(options: ExchangeCodeOptions): Promise<TokenSet> {
    const params = new URL(options.callbackUrl, options.redirectUri).searchParams;
    if (!options.state || params.get('state') !== options.state) {
      throw refused('state_mismatch', 'the callback state is not the one of this authorization request');
    }
    const iss = params.get('iss');
    // Gatehouse always sends `iss`: a response without it did not come from this server. Compared as
    // plain strings, as RFC 9207 2.4 requires.
    if (iss !== this.issuer) {
      throw refused(
        'issuer_mismatch',
        `the callback comes from ${iss ?? 'an unnamed issuer'}, not ${this.issuer}`,
      );
    }
    const error = params.get('error');
    if (error !== null) {
      const description = params.get('error_description') ?? undefined;
      throw new GatehouseError({
        status: 0,
        code: error,
        detail: description,
        error,
        error_description: description,
      });
    }
    const code = params.get('code');
    if (code === null) throw refused('missing_code', 'the callback has neither a code nor an error');
    return requestTokens(this.endpoint, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: options.redirectUri,
      code_verifier: options.codeVerifier,
    });
  }

  /** New tokens for a refresh token (RFC 6749 6); the answer carries the next refresh token. */
  refresh(refreshToken: string, scope?: string): Promise<TokenSet> {
    return requestTokens(this.endpoint, {
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      ...(scope !== undefined ? { scope } : {}),
    });
  }
}

function refused(
  code: 'state_mismatch' | 'issuer_mismatch' | 'missing_code',
  detail: string,
): GatehouseError {
  return new GatehouseError({ status: 0, code, detail });
}
