import { API_SCOPE } from '../domain/scopes.ts';
import type { ApiKey, Principal } from '../model/types.ts';

/** The principal of an API key used directly (X-API-Key). */
export function keyPrincipal(key: ApiKey, authMethod: Principal['authMethod'] = 'apiKey'): Principal {
  return {
    authMethod,
    tenantId: key.tenantId,
    workspaceId: key.workspaceId,
    apiKey: { id: key.id, publicKey: key.publicKey, label: key.label },
    user: null,
    scope: API_SCOPE,
    permissions: key.permissions,
  };
}
