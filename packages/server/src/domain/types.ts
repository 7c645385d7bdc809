/** Domain records, in camelCase, as repositories return them. */

export type Role = 'owner' | 'admin' | 'member';

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
}

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
