import { clientCredentials } from './client-credentials.ts';
import { accessTokenCredential, apiKeyCredential, type Credential } from './credentials.ts';
import { errorFromResponse, GatehouseError } from './errors.ts';
import type { Operations } from './operations.gen.ts';
import { type OnTokens, refreshTokenCredential, type StoredTokens } from './refresh-tokens.ts';
import { resources } from './resources.ts';
import { defaultFetch, normaliseBaseUrl, requireOption, tokenEndpoint } from './token-endpoint.ts';

interface CommonOptions {
  /** Where Gatehouse answers, e.g. `https://auth.example.com` (a path prefix is kept). */
  baseUrl: string;
  /** A fetch implementation; the global one by default (Node 18+, browsers, Deno, Bun). */
  fetch?: typeof fetch;
}

/** An API key's private key, sent as `X-API-Key`. */
export interface ApiKeyAuth {
  apiKey: string;
}

/** OAuth2 client credentials: the key's public key and private key. */
export interface ClientCredentialsAuth {
  clientId: string;
  clientSecret: string;
  /** Scopes to ask for; `api1` by default. */
  scope?: string;
}

/** An access token obtained elsewhere, used as it is (never renewed). */
export interface AccessTokenAuth {
  accessToken: string;
}

/** A person's tokens (from {@link OAuthClient.exchangeCode}): refreshed, with rotation, when they expire. */
export interface RefreshTokenAuth {
  clientId: string;
  /** The key's private key; omitted only for a public client, which has none. */
  clientSecret?: string;
  tokens: StoredTokens;
  /** Receives each new token set: persist it, the refresh token it replaces no longer works. */
  onTokens?: OnTokens;
}

/** One way to authenticate: an API key, client credentials, an access token, or a person's tokens. */
export type GatehouseOptions = CommonOptions &
  (ApiKeyAuth | ClientCredentialsAuth | AccessTokenAuth | RefreshTokenAuth);

function credentialOf(options: GatehouseOptions, baseUrl: string, fetchImpl: typeof fetch): Credential {
  if ('apiKey' in options) return apiKeyCredential(requireOption(options.apiKey, 'apiKey'));
  if ('tokens' in options) {
    const endpoint = tokenEndpoint({ ...options, baseUrl, fetch: fetchImpl });
    return refreshTokenCredential(endpoint, options.tokens, options.onTokens);
  }
  if ('accessToken' in options)
    return accessTokenCredential(requireOption(options.accessToken, 'accessToken'));
  return clientCredentials({
    baseUrl,
    clientId: requireOption(options.clientId, 'clientId'),
    clientSecret: requireOption(options.clientSecret, 'clientSecret'),
    scope: options.scope ?? 'api1',
    fetch: fetchImpl,
  });
}

/** What one call sends besides its method and path template. */
export interface CallInput {
  path?: Record<string, string | number>;
  query?: object | undefined;
  body?: object | undefined;
}

function urlOf(template: string, input: CallInput): string {
  const path = template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = input.path?.[name];
    if (value === undefined) throw new TypeError(`Gatehouse: ${name} is required`);
    return encodeURIComponent(String(value));
  });
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(input.query ?? {})) {
    if (value !== undefined) params.set(name, String(value));
  }
  const query = params.toString();
  return query ? `${path}?${query}` : path;
}

/**
 * Client of the Gatehouse API: one method for every REST route, typed from the OpenAPI document.
 *
 * @example
 * ```ts
 * const gatehouse = new Gatehouse({ baseUrl: 'https://auth.example.com', apiKey: process.env.GATEHOUSE_KEY });
 * const { items, total } = await gatehouse.workspaces.list({ size: 100 });
 * for await (const workspace of gatehouse.workspaces.all()) console.log(workspace.label);
 * ```
 */
export class Gatehouse {
  private readonly baseUrl: string;
  private readonly fetch: typeof fetch;
  private readonly credential: Credential;
  private readonly api = resources(<K extends keyof Operations>(key: K, input?: CallInput) =>
    this.call(key, input),
  );

  constructor(options: GatehouseOptions) {
    this.baseUrl = normaliseBaseUrl(options.baseUrl);
    this.fetch = defaultFetch(options.fetch);
    this.credential = credentialOf(options, this.baseUrl, this.fetch);
  }

  /** `GET /status`: whether the service answers (no authentication). */
  readonly status = this.api.status;
  /** `GET /me`: the caller as Gatehouse sees it. */
  readonly me = this.api.me;
  /** `GET /rate-limiting-state`: the caller's budget in the current minute. */
  readonly rateLimitingState = this.api.rateLimitingState;
  readonly workspaces = this.api.workspaces;
  readonly entities = this.api.entities;
  /** The admin API: an `admin` credential of the whole organization. */
  readonly apiKeys = this.api.apiKeys;
  readonly members = this.api.members;
  readonly auditEvents = this.api.auditEvents;
  /** The signed-in person's consents (user tokens only). */
  readonly consents = this.api.consents;

  /**
   * Calls one operation, `METHOD /path/{param}`; the typed methods above are the usual way. A 401
   * under OAuth renews the token and retries once: the server refused before doing anything, so a
   * retry cannot apply a change twice.
   */
  async call<K extends keyof Operations>(key: K, input: CallInput = {}): Promise<Operations[K]['response']> {
    const [method = 'GET', template = '/'] = key.split(' ');
    const path = urlOf(template, input);
    let sent = await this.credential.headers();
    let response = await this.send(method, path, sent, input.body);
    if (response.status === 401 && this.credential.renew(sent)) {
      await response.body?.cancel();
      sent = await this.credential.headers();
      response = await this.send(method, path, sent, input.body);
    }
    if (!response.ok) throw await errorFromResponse(response);
    // Only the operations answering `undefined` answer 204.
    if (response.status === 204) return undefined as Operations[K]['response'];
    // The server validates every response against the route's schema, which operations.gen.ts mirrors.
    return (await response.json()) as Operations[K]['response'];
  }

  private async send(method: string, path: string, credential: Record<string, string>, body?: object) {
    const headers: Record<string, string> = { accept: 'application/json', ...credential };
    if (body !== undefined) headers['content-type'] = 'application/json';
    try {
      return await this.fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (cause) {
      throw new GatehouseError({
        status: 0,
        code: 'network_error',
        detail: `${method} ${path.split('?')[0]} failed: no response`,
        cause,
      });
    }
  }
}
