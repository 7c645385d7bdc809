import type { Generated } from 'kysely';
import type { UsageOutcome } from '../model/types.ts';

/**
 * Table types. Timestamps are epoch milliseconds (bigint in PostgreSQL, parsed to number),
 * so that both dialects compare and sort them the same way.
 */
export interface Database {
  tenants: { id: Generated<number>; label: string; created_at: number };
  workspaces: {
    id: Generated<number>;
    tenant_id: number;
    label: string;
    logo_url: string | null;
    state: 'Active' | 'Archived';
    permissions: string | null;
    data_subject_archived_retention_days: number | null;
    created_at: number;
  };
  entities: {
    id: Generated<number>;
    tenant_id: number;
    workspace_id: number;
    name: string;
    created_at: number;
  };
  users: {
    id: Generated<number>;
    email: string;
    display_name: string | null;
    password_hash: string;
    created_at: number;
  };
  memberships: { tenant_id: number; user_id: number; role: 'owner' | 'admin' | 'member'; created_at: number };
  /** Per-workspace access of a member; none means every workspace of the tenant. */
  membership_workspaces: { tenant_id: number; user_id: number; workspace_id: number };
  api_keys: {
    id: Generated<number>;
    tenant_id: number;
    workspace_id: number | null;
    label: string;
    public_key: string;
    /** JSON array of strings. */
    redirect_uris: string;
    /** JSON array of strings. */
    cors_origins: string;
    expires_at: number | null;
    created_by: string | null;
    created_at: number;
    last_used_at: number | null;
    revoked_at: number | null;
    /** `read`, `write` or `admin` (DESIGN.md 1). */
    permissions: Generated<'read' | 'write' | 'admin'>;
    /** `confidential`, or `public`: no private key, PKCE required (DESIGN.md 1). */
    client_type: Generated<'confidential' | 'public'>;
    /** JSON array of strings: where RP-initiated logout may send the browser back. */
    post_logout_redirect_uris: Generated<string>;
    /** `RS256` or `ES256`. */
    id_token_signed_response_alg: Generated<'RS256' | 'ES256'>;
  };
  /** Private keys of an API key, as sha256; more than one only during a rotation's grace period. */
  api_key_secrets: {
    id: Generated<number>;
    api_key_id: number;
    secret_hash: string;
    last4: string;
    created_at: number;
    /** Set on the old secret when the key rotates: end of its grace period. */
    expires_at: number | null;
  };
  /** Append-only change feed that every instance polls to drop cached credentials. */
  invalidations: { id: Generated<number>; api_key_id: number; created_at: number };
  /** Access-token signing keys; the private JWK is stored encrypted with the server secret. */
  signing_keys: {
    id: Generated<number>;
    kid: string;
    alg: string;
    /** Public JWK, JSON. */
    public_jwk: string;
    /** AES-256-GCM envelope of the private JWK (src/oauth/key-encryption.ts). */
    private_jwk_encrypted: string;
    /** 1 for the signing key of its `alg`, null once retired (unique with `alg`: one active key per algorithm). */
    active: number | null;
    created_at: number;
    retired_at: number | null;
  };
  /** Revoked access tokens by `jti`, kept until they would have expired anyway. */
  revoked_tokens: {
    id: Generated<number>;
    jti: string;
    client_id: string;
    expires_at: number;
    created_at: number;
  };
  /** Browser sessions of the sign-in pages; the cookie holds the token, the table its sha256. */
  sessions: {
    id: Generated<number>;
    token_hash: string;
    user_id: number;
    /** When the user last typed their password (`prompt=login` asks for a fresh one). */
    authenticated_at: number;
    created_at: number;
    expires_at: number;
    /** Public identifier of the session (the ID token's `sid`); null for sessions older than OpenID Connect. */
    sid: string | null;
  };
  /** Remembered consent of a user to an API key (OAuth client), for a space-separated scope. */
  consents: { id: Generated<number>; user_id: number; api_key_id: number; scope: string; created_at: number };
  /** Authorization codes, stored as sha256; `family_id` names the grant a code was exchanged for. */
  authorization_codes: {
    id: Generated<number>;
    code_hash: string;
    api_key_id: number;
    user_id: number;
    redirect_uri: string;
    scope: string;
    /** PKCE S256 challenge, or null when the client sent none. */
    code_challenge: string | null;
    created_at: number;
    expires_at: number;
    consumed_at: number | null;
    family_id: string | null;
    /** What the ID token repeats: the request's nonce, when the user authenticated, the session's sid. */
    nonce: string | null;
    auth_time: number | null;
    sid: string | null;
  };
  /** Refresh tokens, stored as sha256; one family per grant, each use rotates to a child. */
  refresh_tokens: {
    id: Generated<number>;
    token_hash: string;
    family_id: string;
    parent_id: number | null;
    api_key_id: number;
    user_id: number;
    scope: string;
    created_at: number;
    expires_at: number;
    rotated_at: number | null;
    revoked_at: number | null;
  };
  /** Access tokens issued from a grant, so that revoking the grant can deny their `jti`s. */
  grant_access_tokens: {
    family_id: string;
    jti: string;
    api_key_id: number;
    user_id: number;
    expires_at: number;
  };
  audit_events: {
    id: Generated<number>;
    tenant_id: number | null;
    actor: string;
    action: string;
    target: string | null;
    ip: string | null;
    /** JSON object. */
    details: string | null;
    user_agent: string | null;
    created_at: number;
  };
  /** One-time sign-in links of members added without a password; the link holds the token, this its sha256. */
  sign_in_links: {
    id: Generated<number>;
    token_hash: string;
    user_id: number;
    tenant_id: number;
    created_at: number;
    expires_at: number;
    used_at: number | null;
  };
  /** Requests per key, hour (epoch ms of its start) and outcome; added to in batches, kept 90 days. */
  key_usage: {
    api_key_id: number;
    hour: number;
    outcome: UsageOutcome;
    count: number;
  };
}
