import { keyStatus } from '../../domain/api-keys.ts';
import type { ApiKey, ApiKeyListing } from '../../model/types.ts';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** A key as the admin API shows it (the `ApiKey` schema): never its private key nor its hashes. */
export function apiKeyView(key: ApiKey | ApiKeyListing, now = Date.now()) {
  return {
    publicKey: key.publicKey,
    label: key.label,
    workspaceId: key.workspaceId,
    permissions: key.permissions,
    redirectUris: key.redirectUris,
    corsOrigins: key.corsOrigins,
    clientType: key.clientType,
    postLogoutRedirectUris: key.postLogoutRedirectUris,
    idTokenSignedResponseAlg: key.idTokenSignedResponseAlg,
    last4: 'last4' in key ? key.last4 : null,
    status: keyStatus(key, now) ?? 'active',
    createdBy: key.createdBy,
    createdAt: new Date(key.createdAt).toISOString(),
    lastUsedAt: iso(key.lastUsedAt),
    expiresAt: iso(key.expiresAt),
    revokedAt: iso(key.revokedAt),
  };
}
