/** The records every layer speaks: storage returns them, domain works on them, routes answer with them. */

export type Role = 'owner' | 'admin' | 'member';

/**
 * What a credential may do (DESIGN.md 1): `read` only safe methods of the data API, `write` the data
 * API, `admin` also the admin API of its own organization. Ordered: each includes the ones before.
 */
export type Permission = 'read' | 'write' | 'admin';

export interface Tenant {
  id: number;
  label: string;
  createdAt: number;
}

export interface Workspace {
  id: number;
  tenantId: number;
  label: string;
  logoUrl: string | null;
  state: 'Active' | 'Archived';
  permissions: string | null;
  dataSubjectArchivedRetentionDays: number | null;
  nbEntities: number;
}

export interface Entity {
  id: number;
  workspaceId: number;
  name: string;
  createdAt: string;
}

export interface ApiKey {
  id: number;
  tenantId: number;
  workspaceId: number | null;
  label: string;
  publicKey: string;
  redirectUris: string[];
  corsOrigins: string[];
  expiresAt: number | null;
  createdBy: string | null;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
  permissions: Permission;
  /** `public` for single-page and native apps: no private key, PKCE required (DESIGN.md 1). */
  clientType: ClientType;
  /** Where RP-initiated logout may send the browser back, matched exactly. */
  postLogoutRedirectUris: string[];
  /** How this client's ID tokens are signed. */
  idTokenSignedResponseAlg: IdTokenAlgorithm;
}

export type ClientType = 'confidential' | 'public';
export type IdTokenAlgorithm = 'RS256' | 'ES256';

export interface User {
  id: number;
  email: string;
  displayName: string | null;
}

/** Who is calling, resolved from a credential. */
export interface Principal {
  authMethod: 'apiKey' | 'bearer';
  tenantId: number;
  /** The one workspace the caller is limited to, or null for the whole organization. */
  workspaceId: number | null;
  apiKey: { id: number; publicKey: string; label: string };
  /** The signed-in user behind a user token; null for API keys and client credentials. */
  user: (User & { role: Role; workspaceIds: number[] | null }) | null;
  scope: string;
  /** What this credential may do: the key's, and for a user token no more than the user's role allows. */
  permissions: Permission;
}

/** A page request as the original API's clients send it. */
export interface PageQuery {
  page: number;
  size: number;
  q?: string | undefined;
  sortBy?: string | undefined;
  asc?: boolean | undefined;
}

export interface Page<T> {
  items: T[];
  total: number;
}

/** A user's membership of a tenant. */
export interface Membership {
  tenantId: number;
  userId: number;
  role: Role;
  /** null: every workspace of the tenant. */
  workspaceIds: number[] | null;
}

/** Which workspaces a caller may see: all of a tenant's, or a fixed set. */
export interface WorkspaceScope {
  tenantId: number;
  /** null: every workspace of the tenant. */
  workspaceIds: number[] | null;
}

/** A key as listed to its organization. */
export interface ApiKeyListing extends ApiKey {
  /** Last 4 characters of the current private key, for display. */
  last4: string | null;
}

/** A key found by the hash of one of its private keys, with that private key's own expiry. */
export interface KeyBySecret {
  key: ApiKey;
  /** End of the rotation grace period of this private key; null while it is current. */
  secretExpiresAt: number | null;
}

/** A key (an OAuth client) with the hashes of its live private keys. */
export interface KeyWithSecrets {
  key: ApiKey;
  secrets: { hash: string; expiresAt: number | null }[];
}

/** One change of a key that every instance must drop from its caches. */
export interface Invalidation {
  id: number;
  apiKeyId: number;
  /** Epoch ms, by the clock of the instance that wrote it. */
  createdAt: number;
}

/** A signing key: the private part stays an encrypted envelope until the key ring opens it. */
export interface SigningKey {
  id: number;
  kid: string;
  alg: string;
  /** Public JWK, JSON text. */
  publicJwk: string;
  privateJwkEncrypted: string;
  active: boolean;
  createdAt: number;
  retiredAt: number | null;
}

/** A revoked access token, as the denylist reads it. */
export interface RevokedToken {
  id: number;
  jti: string;
  /** Expiry of the revoked token, epoch ms: the row matters until then. */
  expiresAt: number;
}

/** A browser session of the sign-in pages. */
export interface SessionRecord {
  id: number;
  userId: number;
  authenticatedAt: number;
  expiresAt: number;
  /** Public identifier (the ID token's `sid`); null for sessions started before OpenID Connect. */
  sid: string | null;
}

/** An authorization code, used or not (a used one is how a replay is recognized). */
export interface CodeRecord {
  id: number;
  apiKeyId: number;
  userId: number;
  redirectUri: string;
  scope: string;
  codeChallenge: string | null;
  expiresAt: number;
  consumedAt: number | null;
  familyId: string | null;
  /** The authorization request's `nonce`, repeated in the ID token. */
  nonce: string | null;
  /** When the user authenticated (epoch ms), for the ID token's `auth_time`. */
  authTime: number | null;
  /** The session's public identifier, for the ID token's `sid`. */
  sid: string | null;
}

/** A refresh token of a grant's family. */
export interface RefreshTokenRecord {
  id: number;
  familyId: string;
  parentId: number | null;
  apiKeyId: number;
  userId: number;
  scope: string;
  expiresAt: number;
  rotatedAt: number | null;
  revokedAt: number | null;
}

/** A user's remembered consent to a key. */
export interface ConsentRecord {
  userId: number;
  apiKeyId: number;
  /** Space-separated scope values the user agreed to. */
  scope: string;
  createdAt: number;
}

/** An application a user authorized, as their account page lists it. */
export interface ConsentListing {
  publicKey: string;
  label: string;
  tenantId: number;
  tenantLabel: string;
  scope: string;
  createdAt: number;
}

/** An audit event as the organization reads it. */
export interface AuditRecord {
  id: number;
  tenantId: number | null;
  actor: string;
  action: string;
  target: string | null;
  ip: string | null;
  userAgent: string | null;
  details: Record<string, unknown> | null;
  createdAt: string;
}

/** A member of an organization, as its admins list them. */
export interface Member extends User {
  role: Role;
  /** null: every workspace of the tenant. */
  workspaceIds: number[] | null;
  createdAt: number;
}

/**
 * How a request made with a known API key ended, as its usage counts it: accepted, or refused because
 * the key is revoked or expired, its private key was rotated out, or its rate limit was spent.
 */
export type UsageOutcome = 'accepted' | 'revoked' | 'expired' | 'rotated_out' | 'rate_limited';

/** Requests of one key with one outcome during one hour (`hour`: epoch ms of its start). */
export interface UsageCount {
  apiKeyId: number;
  hour: number;
  outcome: UsageOutcome;
  count: number;
}
