import {
  accessTokenCredential,
  apiKeyCredential,
  type Credential,
  clientCredentials,
} from './credentials.ts';
import { errorFromResponse, GatehouseError } from './errors.ts';
import type { Entity, Page, Principal, Workspace } from './types.gen.ts';

interface CommonOptions {
  /** Where Gatehouse answers, e.g. `https://auth.example.com` (a path prefix is kept). */
  baseUrl: string;
  /** A fetch implementation; the global one by default (Node 18+, browsers, Deno, Bun). */
  fetch?: typeof fetch;
}

/** One way to authenticate: an API key, OAuth2 client credentials, or a ready access token. */
export type GatehouseOptions = CommonOptions &
  (
    | { apiKey: string }
    | {
        clientId: string;
        clientSecret: string;
        /** Scopes to ask for; `api1` by default. */
        scope?: string;
      }
    | { accessToken: string }
  );

/** Paging and search as every list endpoint takes them. */
export interface ListQuery {
  /** 1-based. */
  page?: number;
  /** Items per page, at most 500 (server default 50). */
  size?: number;
  /** Text search on the label. */
  q?: string;
  sortBy?: string;
  asc?: boolean;
}

function credentialOf(options: GatehouseOptions, baseUrl: string, fetchImpl: typeof fetch): Credential {
  if ('apiKey' in options) return apiKeyCredential(options.apiKey);
  if ('accessToken' in options) return accessTokenCredential(options.accessToken);
  return clientCredentials({
    baseUrl,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    scope: options.scope ?? 'api1',
    fetch: fetchImpl,
  });
}

function queryString(query: ListQuery = {}): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined) params.set(name, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

/**
 * Client of the Gatehouse API.
 *
 * @example
 * ```ts
 * const gatehouse = new Gatehouse({ baseUrl: 'https://auth.example.com', apiKey: process.env.GATEHOUSE_KEY });
 * const { items, total } = await gatehouse.workspaces.list({ size: 100 });
 * ```
 */
export class Gatehouse {
  private readonly baseUrl: string;
  private readonly fetch: typeof fetch;
  private readonly credential: Credential;

  constructor(options: GatehouseOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    // Bound: some runtimes refuse a fetch called with another `this`.
    this.fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.credential = credentialOf(options, this.baseUrl, this.fetch);
  }

  /** The caller as Gatehouse sees it (`GET /me`). */
  me(): Promise<Principal> {
    return this.request('GET', '/me');
  }

  readonly workspaces = {
    /** The workspaces the credential may see, one page. */
    list: (query?: ListQuery): Promise<Page<Workspace>> =>
      this.request('GET', `/v1/workspaces${queryString(query)}`),
    /** Every visible workspace, page after page. */
    all: (query?: Omit<ListQuery, 'page'>): AsyncGenerator<Workspace> =>
      this.paginate((page) => this.workspaces.list({ ...query, page })),
    get: (id: number): Promise<Workspace> => this.request('GET', `/v1/workspaces/${id}`),
  };

  readonly entities = {
    list: (workspaceId: number, query?: ListQuery): Promise<Page<Entity>> =>
      this.request('GET', `/v1/workspaces/${workspaceId}/entities${queryString(query)}`),
    create: (workspaceId: number, entity: { name: string }): Promise<Entity> =>
      this.request('POST', `/v1/workspaces/${workspaceId}/entities`, entity),
    delete: (workspaceId: number, entityId: number): Promise<void> =>
      this.request('DELETE', `/v1/workspaces/${workspaceId}/entities/${entityId}`),
  };

  private async *paginate<T>(fetchPage: (page: number) => Promise<Page<T>>): AsyncGenerator<T> {
    let seen = 0;
    for (let page = 1; ; page++) {
      const { items, total } = await fetchPage(page);
      yield* items;
      seen += items.length;
      if (items.length === 0 || seen >= total) return;
    }
  }

  /**
   * Sends one request; a 401 under client credentials renews the token and retries once (the server
   * refused before doing anything, so a retry cannot apply a change twice).
   */
  private async request<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: object): Promise<T> {
    let response = await this.send(method, path, body);
    if (response.status === 401 && this.credential.renew()) {
      await response.body?.cancel();
      response = await this.send(method, path, body);
    }
    if (!response.ok) throw await errorFromResponse(response);
    if (response.status === 204) return undefined as T; // only the void-returning calls get 204
    // The server validates every response against the route's schema, which types.gen.ts mirrors.
    return (await response.json()) as T;
  }

  private async send(method: string, path: string, body?: object): Promise<Response> {
    const headers: Record<string, string> = {
      accept: 'application/json',
      ...(await this.credential.headers()),
    };
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
        detail: `${method} ${path} failed: no response`,
        cause,
      });
    }
  }
}
