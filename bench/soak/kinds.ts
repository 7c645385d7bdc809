/**
 * Every kind of request the soak sends, with the statuses it expects. A request is an error when it
 * gets no answer, or a status outside its kind's list other than 429 (a rate limit: expected, and
 * counted apart). The `refused` kinds expect 401 and nothing else: a 200 there would be a credential
 * accepted that must not be (a lost revocation, a bad key let in).
 */
export const KINDS = {
  meApiKey: { label: 'GET /me, X-API-Key', family: 'api', expect: [200] },
  workspacesApiKey: { label: 'GET /v1/workspaces, X-API-Key', family: 'api', expect: [200] },
  meBearer: { label: 'GET /me, Bearer (client credentials)', family: 'api', expect: [200] },
  workspacesBearer: { label: 'GET /v1/workspaces, Bearer', family: 'api', expect: [200] },
  meUser: { label: 'GET /me, Bearer (user token)', family: 'api', expect: [200] },
  tokenClientCredentials: {
    label: 'POST /connect/token, client_credentials',
    family: 'token',
    expect: [200],
  },
  tokenCode: { label: 'POST /connect/token, authorization_code', family: 'token', expect: [200] },
  tokenRefresh: { label: 'POST /connect/token, refresh_token', family: 'token', expect: [200] },
  introspect: { label: 'POST /connect/introspect', family: 'token', expect: [200] },
  revokeAccess: { label: 'POST /connect/revocation, access token', family: 'token', expect: [200] },
  revokeRefresh: { label: 'POST /connect/revocation, refresh token', family: 'token', expect: [200] },
  authorize: { label: 'GET /connect/authorize', family: 'sign-in', expect: [200, 303] },
  signInPage: { label: 'GET /console/sign-in', family: 'sign-in', expect: [200] },
  signIn: { label: 'POST /console/sign-in', family: 'sign-in', expect: [303] },
  consent: { label: 'POST /console/consent', family: 'sign-in', expect: [303] },
  keyCreate: { label: 'POST /v1/api-keys', family: 'admin', expect: [201] },
  keyUse: { label: 'GET /me, X-API-Key of a new or rotated key', family: 'admin', expect: [200] },
  keyPatch: { label: 'PATCH /v1/api-keys/:publicKey', family: 'admin', expect: [200] },
  keyRotate: { label: 'POST /v1/api-keys/:publicKey/rotate', family: 'admin', expect: [200] },
  keyRevoke: { label: 'DELETE /v1/api-keys/:publicKey', family: 'admin', expect: [204] },
  keyList: { label: 'GET /v1/api-keys', family: 'admin', expect: [200] },
  auditList: { label: 'GET /v1/audit-events', family: 'admin', expect: [200] },
  workspaceCreate: { label: 'POST /v1/workspaces', family: 'admin', expect: [201] },
  workspaceRename: { label: 'PATCH /v1/workspaces/:id', family: 'admin', expect: [200] },
  badKey: { label: 'GET /me, malformed X-API-Key', family: 'refused', expect: [401] },
  unknownKey: { label: 'GET /me, well-formed unknown X-API-Key', family: 'refused', expect: [401] },
  noCredential: { label: 'GET /v1/workspaces, no credential', family: 'refused', expect: [401] },
  oldSecret: { label: 'GET /me, rotated-out private key (grace 0)', family: 'refused', expect: [401] },
  revokedKey: { label: 'GET /me, revoked X-API-Key', family: 'refused', expect: [401] },
  revokedToken: { label: 'GET /me, revoked access token', family: 'refused', expect: [401] },
  metrics: { label: 'GET /metrics (the soak reading the server)', family: 'scrape', expect: [200] },
  checkKeys: { label: 'check: GET /v1/api-keys', family: 'check', expect: [200] },
  checkKeyWorks: { label: 'check: GET /me with every live key', family: 'check', expect: [200] },
  checkWorkspaces: { label: 'check: GET /v1/workspaces', family: 'check', expect: [200] },
  checkAudit: { label: 'check: GET /v1/audit-events', family: 'check', expect: [200] },
  checkIntrospect: { label: 'check: POST /connect/introspect', family: 'check', expect: [200] },
} as const satisfies Record<string, { label: string; family: Family; expect: readonly number[] }>;

export type Family = 'api' | 'token' | 'sign-in' | 'admin' | 'refused' | 'scrape' | 'check';
export type KindId = keyof typeof KINDS;

/** How an answer counts: served as asked, refused as expected (401), rate-limited (429), or an error. */
export type Outcome = 'ok' | 'refused' | 'limited' | 'error';

/** The outcome of `status` for a request of `kind` (0: no answer at all). */
export function outcomeOf(kind: KindId, status: number): Outcome {
  if (status === 429) return 'limited';
  if (!(KINDS[kind].expect as readonly number[]).includes(status)) return 'error';
  return status === 401 ? 'refused' : 'ok';
}

/** Latency groups of the charts and the per-interval table. */
export const LATENCY_GROUPS = [
  { id: 'api', label: 'API calls (X-API-Key and Bearer)', families: ['api'] },
  { id: 'token', label: 'OAuth endpoints (token, revocation, introspection)', families: ['token'] },
  { id: 'admin', label: 'admin API writes and reads', families: ['admin'] },
  { id: 'sign-in', label: 'sign-in and consent pages', families: ['sign-in'] },
] as const satisfies readonly { id: string; label: string; families: readonly Family[] }[];
