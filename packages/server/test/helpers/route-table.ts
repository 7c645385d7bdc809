import { ACCOUNT_PAGES } from './console-routes/account.ts';
import { API_KEY_PAGES } from './console-routes/api-keys.ts';
import { AUDIT_PAGES } from './console-routes/audit.ts';
import { MEMBER_PAGES } from './console-routes/members.ts';
import { WORKSPACE_PAGES } from './console-routes/workspaces.ts';
import { PASSWORD, type Seed } from './seed.ts';

/**
 * Every route the app registers, in one table, each with the kind that decides its common checks
 * (helpers/common-route-tests.ts runs them; common-routes.test.ts proves the table is complete):
 *
 * - `rest-authenticated`: 401 with `WWW-Authenticate: Bearer realm="gatehouse"` and a problem without a
 *   credential, 401 `invalid_token` for an unknown key or a malformed bearer token, and for another
 *   tenant's credential (of the route's {@link RestAuthenticatedRoute.credential} kind) either 404
 *   (never 403) on a resource of tenant A, or its own data and none of A's. An admin route also answers
 *   404 to A's own `write` key; a user-token route answers 404 to A's keys, admin key included.
 * - `rest-public`: 200 JSON without a credential, and a stray unknown key changes nothing.
 * - `oauth-client`: 401 `invalid_client` with a `Basic` challenge without client authentication or with
 *   an unknown client (RFC 6749 5.2); another tenant's valid client aimed at tenant A's tokens learns
 *   nothing about them and leaves them working.
 * - `oauth-bearer`: a resource of the authorization server that takes a user's access token (userinfo):
 *   RFC 6749 JSON errors with RFC 6750 challenges: 401 with the bare `Bearer realm="gatehouse"` without a
 *   token (an API key is none), 401 `invalid_token` for a malformed one, 403 `insufficient_scope` for a
 *   user token without `openid`, and another tenant's user gets their own answer, nothing of A.
 * - `page`: without a session, a page or a redirect to sign-in, never JSON, never a 500, even when the
 *   client asks for JSON; a form (or script request) without a valid CSRF token is a 403 page that
 *   changes nothing, signed in or not.
 * - `public`: its answer without a credential, the same with a stray unknown key.
 */
export type RouteKind =
  | 'rest-authenticated'
  | 'rest-public'
  | 'oauth-client'
  | 'oauth-bearer'
  | 'page'
  | 'public';

export type RouteMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD';

/**
 * What entries build their requests from: resources of tenant A; B (seed.ts) plays the intruder. The
 * checks of a route that changes something answer it twice (B's attempt, then A's), so such routes
 * aim at spare resources made for them, never at the seed's, which other checks rely on.
 */
export interface RouteFixture {
  seed: Seed;
  /** An entity of tenant A's main workspace. */
  entityOfA: number;
  /** Public key of a spare organization key of A, which the checks relabel and rotate. */
  spareKeyOfA: string;
  /** Public key of a spare key of A, which the checks revoke. */
  revocableKeyOfA: string;
  /** A spare member of A (role `member`, with a password), whose role the checks change. */
  spareMemberOfA: number;
  /** A spare member of A (role `member`, with a password), whom the checks remove. */
  removableMemberOfA: number;
  /** Public key of a key of A that A's owner consented to, a consent the checks withdraw. */
  consentedKeyOfA: string;
  /** The token of the one-time sign-in link of a member of A added without a password (unspent). */
  signInLinkOfA: string;
}

/** Tenant A's credentials from a real authorization code grant, for the OAuth endpoints' checks. */
export interface TokensOfA {
  accessToken: string;
  refreshToken: string;
  /** A code issued to A's key and not redeemed yet. */
  code: string;
  redirectUri: string;
}

interface RouteBase {
  method: RouteMethod;
  /** The pattern exactly as registered with Fastify, e.g. `/v1/workspaces/:id`. */
  path: string;
}

export interface RestAuthenticatedRoute extends RouteBase {
  kind: 'rest-authenticated';
  /** A URL naming a resource of tenant A (or the caller itself). */
  url: (fixture: RouteFixture) => string;
  payload?: Record<string, unknown>;
  /**
   * `not-found`: the URL names a resource of tenant A, so another tenant's key gets 404, exactly as for
   * a resource that does not exist, while A's own key reaches it. `own`: the route answers about the
   * caller (`/me`, lists, creations), so another tenant's key gets its own data (any 2xx: a creation is
   * 201) and nothing of A.
   */
  foreignKey: 'not-found' | 'own';
  /**
   * The credentials of A and B the checks send. `data` (default): the organization keys (`write`).
   * `admin`: the admin keys, since the admin API answers anything less with 404 (checked too, with
   * A's `write` key). `user`: each tenant owner's access token from the authorization code flow, for
   * what a person does for themselves; keys, even admin keys, get 404 there (checked too).
   */
  credential?: 'data' | 'admin' | 'user';
}

export interface RestPublicRoute extends RouteBase {
  kind: 'rest-public';
  url: string;
}

export interface OAuthClientRoute extends RouteBase {
  kind: 'oauth-client';
  /** A complete request of the endpoint but for the client authentication. */
  form: Record<string, string>;
  /** Requests another tenant's client makes with tenant A's tokens. */
  aimedAt: (tokens: TokensOfA) => Record<string, string>[];
  /** The answer each of those gets: `json` is matched as a subset unless `exact`. */
  foreignAnswer: { status: number; json?: Record<string, unknown>; exact?: boolean; empty?: boolean };
}

export interface OAuthBearerRoute extends RouteBase {
  kind: 'oauth-bearer';
  url: string;
}

export interface PageRoute extends RouteBase {
  kind: 'page';
  url: (fixture: RouteFixture) => string;
  /** The form a browser would post (before its CSRF token). */
  form?: (fixture: RouteFixture) => Record<string, string>;
  /**
   * Where the route reads its CSRF token: the form's hidden field, the `X-CSRF-Token` header (requests
   * from the page's own scripts), or nowhere (safe methods, and the authorization endpoint, a protocol
   * request any site may send, which only leads to our own pages).
   */
  csrf: 'field' | 'header' | 'none';
  /**
   * Its answer without a session (and without a CSRF token). `redirect`: a 303 to a page of our own
   * whose location matches `location` (the end-session endpoint turns a posted request into a GET).
   */
  anonymous: {
    status: number;
    answer: 'html' | 'css' | 'script' | 'sign-in-redirect' | 'redirect';
    location?: RegExp;
  };
}

export interface PublicRoute extends RouteBase {
  kind: 'public';
  url: string;
  /** Its answer without a credential: a content type, or a redirect target. */
  answer: { status: number; contentType?: RegExp; location?: string };
}

export type RouteEntry =
  | RestAuthenticatedRoute
  | RestPublicRoute
  | OAuthClientRoute
  | OAuthBearerRoute
  | PageRoute
  | PublicRoute;

const REDIRECT_URI = 'https://app.example/callback';

/** A valid authorization request of A's organization key (seed.ts registers this redirect URI). */
const authorizeParams = (f: RouteFixture): Record<string, string> => ({
  response_type: 'code',
  client_id: f.seed.orgKeyA.key.publicKey,
  redirect_uri: REDIRECT_URI,
  scope: 'api1',
  state: 'common-route-checks',
});

const ws = (f: RouteFixture) => `/v1/workspaces/${f.seed.a.mainWorkspaceId}`;

/** Every route the app registers (but for {@link ROUTES_OUTSIDE_THE_TABLE}), once. */
export const ROUTE_TABLE: readonly RouteEntry[] = [
  // REST API (RFC 9457 problems)
  { kind: 'rest-authenticated', method: 'GET', path: '/me', url: () => '/me', foreignKey: 'own' },
  {
    kind: 'rest-authenticated',
    method: 'GET',
    path: '/v1/workspaces',
    url: () => '/v1/workspaces?size=500',
    foreignKey: 'own',
  },
  { kind: 'rest-authenticated', method: 'GET', path: '/v1/workspaces/:id', url: ws, foreignKey: 'not-found' },
  {
    kind: 'rest-authenticated',
    method: 'GET',
    path: '/v1/workspaces/:id/entities',
    url: (f) => `${ws(f)}/entities`,
    foreignKey: 'not-found',
  },
  {
    kind: 'rest-authenticated',
    method: 'POST',
    path: '/v1/workspaces/:id/entities',
    url: (f) => `${ws(f)}/entities`,
    payload: { name: 'planted by the common route checks' },
    foreignKey: 'not-found',
  },
  {
    kind: 'rest-authenticated',
    method: 'DELETE',
    path: '/v1/workspaces/:id/entities/:entityId',
    url: (f) => `${ws(f)}/entities/${f.entityOfA}`,
    foreignKey: 'not-found',
  },
  {
    kind: 'rest-authenticated',
    method: 'GET',
    path: '/v1/audit-events',
    url: () => '/v1/audit-events?size=500',
    foreignKey: 'own',
    credential: 'admin',
  },
  {
    kind: 'rest-authenticated',
    method: 'GET',
    path: '/rate-limiting-state',
    url: () => '/rate-limiting-state',
    foreignKey: 'own',
  },

  // The admin API (DESIGN.md 1): admin credentials of the organization; A's write key gets 404 too.
  {
    kind: 'rest-authenticated',
    method: 'GET',
    path: '/v1/api-keys',
    url: () => '/v1/api-keys?size=500',
    foreignKey: 'own',
    credential: 'admin',
  },
  {
    kind: 'rest-authenticated',
    method: 'POST',
    path: '/v1/api-keys',
    url: () => '/v1/api-keys',
    payload: { label: 'planted by the common route checks' },
    foreignKey: 'own',
    credential: 'admin',
  },
  {
    kind: 'rest-authenticated',
    method: 'GET',
    path: '/v1/api-keys/:publicKey',
    url: (f) => `/v1/api-keys/${f.seed.orgKeyA.key.publicKey}`,
    foreignKey: 'not-found',
    credential: 'admin',
  },
  {
    kind: 'rest-authenticated',
    method: 'PATCH',
    path: '/v1/api-keys/:publicKey',
    url: (f) => `/v1/api-keys/${f.spareKeyOfA}`,
    payload: { label: 'A spare key' },
    foreignKey: 'not-found',
    credential: 'admin',
  },
  {
    kind: 'rest-authenticated',
    method: 'DELETE',
    path: '/v1/api-keys/:publicKey',
    url: (f) => `/v1/api-keys/${f.revocableKeyOfA}`,
    foreignKey: 'not-found',
    credential: 'admin',
  },
  {
    kind: 'rest-authenticated',
    method: 'POST',
    path: '/v1/api-keys/:publicKey/rotate',
    url: (f) => `/v1/api-keys/${f.spareKeyOfA}/rotate`,
    payload: { graceSeconds: 60 },
    foreignKey: 'not-found',
    credential: 'admin',
  },
  {
    kind: 'rest-authenticated',
    method: 'GET',
    path: '/v1/api-keys/:publicKey/usage',
    url: (f) => `/v1/api-keys/${f.seed.orgKeyA.key.publicKey}/usage?interval=day`,
    foreignKey: 'not-found',
    credential: 'admin',
  },
  {
    kind: 'rest-authenticated',
    method: 'POST',
    path: '/v1/workspaces',
    url: () => '/v1/workspaces',
    payload: { label: 'planted by the common route checks' },
    foreignKey: 'own',
    credential: 'admin',
  },
  {
    kind: 'rest-authenticated',
    method: 'PATCH',
    path: '/v1/workspaces/:id',
    // A's second workspace under its own label: answered, and nothing the other checks see changes.
    url: (f) => `/v1/workspaces/${f.seed.a.secondWorkspaceId}`,
    payload: { label: 'Second' },
    foreignKey: 'not-found',
    credential: 'admin',
  },
  {
    kind: 'rest-authenticated',
    method: 'GET',
    path: '/v1/members',
    url: () => '/v1/members?size=500',
    foreignKey: 'own',
    credential: 'admin',
  },
  {
    kind: 'rest-authenticated',
    method: 'POST',
    path: '/v1/members',
    url: () => '/v1/members',
    payload: { email: 'added-by-common-route-checks@example.test', role: 'member' },
    foreignKey: 'own',
    credential: 'admin',
  },
  {
    kind: 'rest-authenticated',
    method: 'PATCH',
    path: '/v1/members/:userId',
    url: (f) => `/v1/members/${f.spareMemberOfA}`,
    payload: { role: 'admin' },
    foreignKey: 'not-found',
    credential: 'admin',
  },
  {
    kind: 'rest-authenticated',
    method: 'DELETE',
    path: '/v1/members/:userId',
    url: (f) => `/v1/members/${f.removableMemberOfA}`,
    foreignKey: 'not-found',
    credential: 'admin',
  },
  // A person's own consents: user tokens only. With an API key, even an admin key, there is no person,
  // so these answer 404 (checked); the tenant checks use each owner's token: B's owner lists its own
  // consents and gets 404 withdrawing A's owner's consent, which A's owner withdraws.
  {
    kind: 'rest-authenticated',
    method: 'GET',
    path: '/v1/me/consents',
    url: () => '/v1/me/consents',
    foreignKey: 'own',
    credential: 'user',
  },
  {
    kind: 'rest-authenticated',
    method: 'DELETE',
    path: '/v1/me/consents/:publicKey',
    url: (f) => `/v1/me/consents/${f.consentedKeyOfA}`,
    foreignKey: 'not-found',
    credential: 'user',
  },

  { kind: 'rest-public', method: 'GET', path: '/status', url: '/status' },
  { kind: 'rest-public', method: 'GET', path: '/healthz', url: '/healthz' },
  { kind: 'rest-public', method: 'GET', path: '/readyz', url: '/readyz' },

  // OAuth endpoints (RFC 6749 5.2 JSON errors)
  {
    kind: 'oauth-client',
    method: 'POST',
    path: '/connect/token',
    // grant_type is checked before the client (token/index.ts): without it the answer is invalid_request.
    form: { grant_type: 'client_credentials', scope: 'api1' },
    aimedAt: (a) => [
      { grant_type: 'refresh_token', refresh_token: a.refreshToken },
      { grant_type: 'authorization_code', code: a.code, redirect_uri: a.redirectUri },
    ],
    foreignAnswer: { status: 400, json: { error: 'invalid_grant' } },
  },
  {
    kind: 'oauth-client',
    method: 'POST',
    path: '/connect/revocation',
    form: { token: 'not-a-token' },
    aimedAt: (a) => [
      { token: a.accessToken },
      { token: a.refreshToken },
      { token: a.refreshToken, token_type_hint: 'refresh_token' },
    ],
    // RFC 7009 2.2: 200 whatever the token, so the answer is no oracle either.
    foreignAnswer: { status: 200, empty: true },
  },
  {
    kind: 'oauth-client',
    method: 'POST',
    path: '/connect/introspect',
    form: { token: 'not-a-token' },
    aimedAt: (a) => [{ token: a.accessToken }, { token: a.refreshToken }],
    foreignAnswer: { status: 200, json: { active: false }, exact: true },
  },

  // OpenID Connect Core 5.3: a user's access token with openid (RFC 6750 challenges, RFC 6749 JSON errors)
  { kind: 'oauth-bearer', method: 'GET', path: '/connect/userinfo', url: '/connect/userinfo' },
  { kind: 'oauth-bearer', method: 'POST', path: '/connect/userinfo', url: '/connect/userinfo' },

  // Discovery, keys, the API reference and metrics: public
  {
    kind: 'public',
    method: 'GET',
    path: '/.well-known/openid-configuration',
    url: '/.well-known/openid-configuration',
    answer: { status: 200, contentType: /^application\/json/ },
  },
  {
    kind: 'public',
    method: 'GET',
    path: '/.well-known/oauth-authorization-server',
    url: '/.well-known/oauth-authorization-server',
    answer: { status: 200, contentType: /^application\/json/ },
  },
  {
    kind: 'public',
    method: 'GET',
    path: '/.well-known/openid-configuration/jwks',
    url: '/.well-known/openid-configuration/jwks',
    answer: { status: 200, contentType: /^application\/jwk-set\+json/ },
  },
  // The API reference: Gatehouse's Swagger UI page, at the URL the original API's documentation links.
  {
    kind: 'public',
    method: 'GET',
    path: '/swagger/index.html',
    url: '/swagger/index.html',
    answer: { status: 200, contentType: /^text\/html/ },
  },
  {
    kind: 'public',
    method: 'GET',
    path: '/swagger/v1/swagger.json',
    url: '/swagger/v1/swagger.json',
    answer: { status: 200, contentType: /^application\/json/ },
  },
  // Swagger UI's own routes. `/swagger` and `static/index.html` are answered by swagger-ui.ts with fixed
  // targets (the plugin's own redirect could loop or leave the site); `/swagger/` is the page.
  {
    kind: 'public',
    method: 'GET',
    path: '/swagger',
    url: '/swagger',
    answer: { status: 302, location: '/swagger/index.html' },
  },
  {
    kind: 'public',
    method: 'GET',
    path: '/swagger/static/index.html',
    url: '/swagger/static/index.html',
    answer: { status: 302, location: '/swagger/' },
  },
  {
    kind: 'public',
    method: 'GET',
    path: '/swagger/json',
    url: '/swagger/json',
    answer: { status: 200, contentType: /^application\/json/ },
  },
  // Gatehouse's theme around Swagger UI (http/swagger-ui-assets.ts).
  {
    kind: 'public',
    method: 'GET',
    path: '/swagger/static/theme/gatehouse.css',
    url: '/swagger/static/theme/gatehouse.css',
    answer: { status: 200, contentType: /^text\/css/ },
  },
  {
    kind: 'public',
    method: 'GET',
    path: '/swagger/static/theme/gatehouse.js',
    url: '/swagger/static/theme/gatehouse.js',
    answer: { status: 200, contentType: /^application\/javascript/ },
  },
  {
    kind: 'public',
    method: 'GET',
    path: '/swagger/static/theme/favicon.svg',
    url: '/swagger/static/theme/favicon.svg',
    answer: { status: 200, contentType: /^image\/svg\+xml/ },
  },
  {
    kind: 'public',
    method: 'GET',
    path: '/swagger/yaml',
    url: '/swagger/yaml',
    answer: { status: 200, contentType: /^application\/x-yaml/ },
  },
  // Public unless GATEHOUSE_METRICS=false (then not registered at all: metrics.test.ts).
  {
    kind: 'public',
    method: 'GET',
    path: '/metrics',
    url: '/metrics',
    answer: { status: 200, contentType: /^text\/plain/ },
  },

  // Pages (HTML errors)
  {
    kind: 'page',
    method: 'GET',
    path: '/connect/authorize',
    url: (f) => `/connect/authorize?${new URLSearchParams(authorizeParams(f))}`,
    csrf: 'none',
    anonymous: { status: 303, answer: 'sign-in-redirect' },
  },
  {
    kind: 'page',
    method: 'POST',
    path: '/connect/authorize',
    url: () => '/connect/authorize',
    form: authorizeParams,
    csrf: 'none',
    anonymous: { status: 303, answer: 'sign-in-redirect' },
  },
  // RP-initiated logout: a protocol request any site may send (no CSRF token), answered with pages and
  // redirects. Without a session there is nothing to end: the signed-out page. Posted without the
  // session cookie (as a cross-site form arrives), it is repeated as a GET, which carries the cookie.
  {
    kind: 'page',
    method: 'GET',
    path: '/connect/endsession',
    url: (f) => `/connect/endsession?${new URLSearchParams({ client_id: f.seed.orgKeyA.key.publicKey })}`,
    csrf: 'none',
    anonymous: { status: 200, answer: 'html' },
  },
  {
    kind: 'page',
    method: 'POST',
    path: '/connect/endsession',
    url: () => '/connect/endsession',
    form: (f) => ({ client_id: f.seed.orgKeyA.key.publicKey, state: 'common-route-checks' }),
    csrf: 'none',
    anonymous: { status: 303, answer: 'redirect', location: /^\/connect\/endsession\?client_id=gpk_/ },
  },
  // The "Sign out" of the end-session confirmation page.
  {
    kind: 'page',
    method: 'POST',
    path: '/console/end-session',
    url: () => '/console/end-session',
    form: () => ({}),
    csrf: 'field',
    anonymous: { status: 403, answer: 'html' },
  },
  {
    kind: 'page',
    method: 'GET',
    path: '/console/sign-in',
    url: () => '/console/sign-in?return_to=%2Fconsole',
    csrf: 'none',
    anonymous: { status: 200, answer: 'html' },
  },
  {
    kind: 'page',
    method: 'POST',
    path: '/console/sign-in',
    url: () => '/console/sign-in',
    form: () => ({ email: 'owner@a.test', password: PASSWORD, return_to: '/console' }),
    csrf: 'field',
    anonymous: { status: 403, answer: 'html' },
  },
  {
    kind: 'page',
    method: 'POST',
    path: '/console/sign-out',
    url: () => '/console/sign-out',
    form: () => ({}),
    csrf: 'field',
    anonymous: { status: 403, answer: 'html' },
  },
  {
    kind: 'page',
    method: 'GET',
    path: '/console',
    url: () => '/console',
    csrf: 'none',
    anonymous: { status: 303, answer: 'sign-in-redirect' },
  },
  {
    kind: 'page',
    method: 'POST',
    path: '/console/consents/:publicKey/revoke',
    url: (f) => `/console/consents/${f.seed.orgKeyA.key.publicKey}/revoke`,
    form: () => ({}),
    csrf: 'field',
    anonymous: { status: 403, answer: 'html' },
  },
  {
    kind: 'page',
    method: 'DELETE',
    path: '/console/consents/:publicKey',
    url: (f) => `/console/consents/${f.seed.orgKeyA.key.publicKey}`,
    csrf: 'header',
    anonymous: { status: 403, answer: 'html' },
  },
  {
    kind: 'page',
    method: 'POST',
    path: '/console/consent',
    url: () => '/console/consent',
    form: (f) => ({ ...authorizeParams(f), decision: 'allow' }),
    csrf: 'field',
    anonymous: { status: 403, answer: 'html' },
  },
  // A one-time sign-in link's page: an unknown link is a 404 page, the same as a used or expired one.
  {
    kind: 'page',
    method: 'GET',
    path: '/console/welcome',
    url: () => '/console/welcome?token=gsl_not-a-sign-in-link',
    csrf: 'none',
    anonymous: { status: 404, answer: 'html' },
  },
  {
    kind: 'page',
    method: 'POST',
    path: '/console/welcome',
    url: () => '/console/welcome',
    // A live link: without a valid CSRF token the form must neither spend it nor sign anyone in.
    form: (f) => ({ token: f.signInLinkOfA, password: 'a password the refused form must not set' }),
    csrf: 'field',
    anonymous: { status: 403, answer: 'html' },
  },
  {
    kind: 'page',
    method: 'GET',
    path: '/console/static/console.css',
    url: () => '/console/static/console.css',
    csrf: 'none',
    anonymous: { status: 200, answer: 'css' },
  },
  // The organization's console and the account page: one file per area.
  ...API_KEY_PAGES,
  ...WORKSPACE_PAGES,
  ...MEMBER_PAGES,
  ...AUDIT_PAGES,
  ...ACCOUNT_PAGES,
];

/**
 * Registered routes deliberately left out of the table, each with the reason. Exact routes, not
 * prefixes: anything else Swagger UI (or anyone) adds under /swagger/ must still be in the table.
 */
export const ROUTES_OUTSIDE_THE_TABLE: readonly { method: RouteMethod; path: string; why: string }[] = [
  { method: 'GET', path: '/swagger/static/*', why: "Swagger UI's bundled files (scripts, styles, images)" },
  {
    method: 'GET',
    path: '/swagger/static/swagger-initializer.js',
    why: "Swagger UI's generated start-up script, a static asset",
  },
];
