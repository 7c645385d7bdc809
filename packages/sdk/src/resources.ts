import type { Operations } from './operations.gen.ts';
import { paginate } from './pager.ts';

type Op = Operations;

/** Paging and search as every list endpoint takes them: `page` (1-based), `size` (at most 500), `q`, `sortBy`, `asc`. */
export type ListQuery = Op['GET /v1/workspaces']['query'];
export type NewWorkspace = Op['POST /v1/workspaces']['body'];
export type WorkspaceChanges = Op['PATCH /v1/workspaces/{id}']['body'];
export type NewEntity = Op['POST /v1/workspaces/{id}/entities']['body'];
export type ApiKeyQuery = Op['GET /v1/api-keys']['query'];
export type NewApiKey = Op['POST /v1/api-keys']['body'];
export type ApiKeyChanges = Op['PATCH /v1/api-keys/{publicKey}']['body'];
export type KeyRotation = Op['POST /v1/api-keys/{publicKey}/rotate']['body'];
export type KeyUsageQuery = Op['GET /v1/api-keys/{publicKey}/usage']['query'];
export type NewMember = Op['POST /v1/members']['body'];
export type MemberChanges = Op['PATCH /v1/members/{userId}']['body'];
export type AuditEventQuery = Op['GET /v1/audit-events']['query'];

/** One call of an operation (the client's `call`). */
export type Caller = <K extends keyof Operations>(
  key: K,
  input?: { path?: Record<string, string | number>; query?: object | undefined; body?: object | undefined },
) => Promise<Operations[K]['response']>;

type Answer<K extends keyof Operations> = Promise<Operations[K]['response']>;
type WithoutPage<Q> = Omit<NonNullable<Q>, 'page'>;

/** Every REST route as a method, grouped by resource; list methods have an `all()` that walks every page. */
export function resources(call: Caller) {
  return {
    status: (): Answer<'GET /status'> => call('GET /status'),
    me: (): Answer<'GET /me'> => call('GET /me'),
    rateLimitingState: (): Answer<'GET /rate-limiting-state'> => call('GET /rate-limiting-state'),

    workspaces: {
      /** The workspaces the credential may see, one page. */
      list: (query?: ListQuery): Answer<'GET /v1/workspaces'> => call('GET /v1/workspaces', { query }),
      /** Every visible workspace, page after page. */
      all: (query?: WithoutPage<ListQuery>) =>
        paginate((page) => call('GET /v1/workspaces', { query: { ...query, page } })),
      get: (id: number): Answer<'GET /v1/workspaces/{id}'> =>
        call('GET /v1/workspaces/{id}', { path: { id } }),
      /** Admin API. */
      create: (workspace: NewWorkspace): Answer<'POST /v1/workspaces'> =>
        call('POST /v1/workspaces', { body: workspace }),
      /** Admin API: rename, change the settings, archive (`state: 'Archived'`) or restore. */
      update: (id: number, changes: WorkspaceChanges): Answer<'PATCH /v1/workspaces/{id}'> =>
        call('PATCH /v1/workspaces/{id}', { path: { id }, body: changes }),
    },

    entities: {
      list: (workspaceId: number, query?: ListQuery): Answer<'GET /v1/workspaces/{id}/entities'> =>
        call('GET /v1/workspaces/{id}/entities', { path: { id: workspaceId }, query }),
      all: (workspaceId: number, query?: WithoutPage<ListQuery>) =>
        paginate((page) =>
          call('GET /v1/workspaces/{id}/entities', { path: { id: workspaceId }, query: { ...query, page } }),
        ),
      create: (workspaceId: number, entity: NewEntity): Answer<'POST /v1/workspaces/{id}/entities'> =>
        call('POST /v1/workspaces/{id}/entities', { path: { id: workspaceId }, body: entity }),
      delete: (
        workspaceId: number,
        entityId: number,
      ): Answer<'DELETE /v1/workspaces/{id}/entities/{entityId}'> =>
        call('DELETE /v1/workspaces/{id}/entities/{entityId}', { path: { id: workspaceId, entityId } }),
    },

    apiKeys: {
      list: (query?: ApiKeyQuery): Answer<'GET /v1/api-keys'> => call('GET /v1/api-keys', { query }),
      all: (query?: WithoutPage<ApiKeyQuery>) =>
        paginate((page) => call('GET /v1/api-keys', { query: { ...query, page } })),
      get: (publicKey: string): Answer<'GET /v1/api-keys/{publicKey}'> =>
        call('GET /v1/api-keys/{publicKey}', { path: { publicKey } }),
      /** The answer carries the private key, this once. */
      create: (key: NewApiKey): Answer<'POST /v1/api-keys'> => call('POST /v1/api-keys', { body: key }),
      update: (publicKey: string, changes: ApiKeyChanges): Answer<'PATCH /v1/api-keys/{publicKey}'> =>
        call('PATCH /v1/api-keys/{publicKey}', { path: { publicKey }, body: changes }),
      /** A new private key, shown this once; the current one works for `graceSeconds`. */
      rotate: (publicKey: string, rotation?: KeyRotation): Answer<'POST /v1/api-keys/{publicKey}/rotate'> =>
        call('POST /v1/api-keys/{publicKey}/rotate', { path: { publicKey }, body: rotation ?? {} }),
      /** Revokes the key and its tokens at once. */
      revoke: (publicKey: string): Answer<'DELETE /v1/api-keys/{publicKey}'> =>
        call('DELETE /v1/api-keys/{publicKey}', { path: { publicKey } }),
      usage: (publicKey: string, query?: KeyUsageQuery): Answer<'GET /v1/api-keys/{publicKey}/usage'> =>
        call('GET /v1/api-keys/{publicKey}/usage', { path: { publicKey }, query }),
    },

    members: {
      list: (query?: ListQuery): Answer<'GET /v1/members'> => call('GET /v1/members', { query }),
      all: (query?: WithoutPage<ListQuery>) =>
        paginate((page) => call('GET /v1/members', { query: { ...query, page } })),
      /** A new account without a password gets a one-time sign-in link, in this answer only. */
      add: (member: NewMember): Answer<'POST /v1/members'> => call('POST /v1/members', { body: member }),
      update: (userId: number, changes: MemberChanges): Answer<'PATCH /v1/members/{userId}'> =>
        call('PATCH /v1/members/{userId}', { path: { userId }, body: changes }),
      remove: (userId: number): Answer<'DELETE /v1/members/{userId}'> =>
        call('DELETE /v1/members/{userId}', { path: { userId } }),
    },

    auditEvents: {
      /** The organization's audit log, newest first. */
      list: (query?: AuditEventQuery): Answer<'GET /v1/audit-events'> =>
        call('GET /v1/audit-events', { query }),
      all: (query?: WithoutPage<AuditEventQuery>) =>
        paginate((page) => call('GET /v1/audit-events', { query: { ...query, page } })),
    },

    consents: {
      list: (): Answer<'GET /v1/me/consents'> => call('GET /v1/me/consents'),
      /** Withdraws the consent: the app's refresh tokens and the access tokens issued from them end. */
      revoke: (publicKey: string): Answer<'DELETE /v1/me/consents/{publicKey}'> =>
        call('DELETE /v1/me/consents/{publicKey}', { path: { publicKey } }),
    },
  };
}
