/** @gatehouse/sdk: a fetch-based client for the Gatehouse API, with no runtime dependencies. */
export {
  type AccessTokenAuth,
  type ApiKeyAuth,
  type CallInput,
  type ClientCredentialsAuth,
  Gatehouse,
  type GatehouseOptions,
  type RefreshTokenAuth,
} from './client.ts';
export { GatehouseError, type GatehouseErrorCode, type SdkErrorCode } from './errors.ts';
export {
  type AuthorizationRequest,
  type AuthorizationRequestOptions,
  type ExchangeCodeOptions,
  OAuthClient,
} from './oauth-client.ts';
export type { OAuthErrorCode, Operations, ProblemCode } from './operations.gen.ts';
export { paginate } from './pager.ts';
export type { OnTokens, StoredTokens } from './refresh-tokens.ts';
export type {
  ApiKeyChanges,
  ApiKeyQuery,
  AuditEventQuery,
  KeyRotation,
  KeyUsageQuery,
  ListQuery,
  MemberChanges,
  NewApiKey,
  NewEntity,
  NewMember,
  NewWorkspace,
  WorkspaceChanges,
} from './resources.ts';
export type { OAuthClientOptions, TokenSet } from './token-endpoint.ts';
export type * from './types.gen.ts';

export const SDK_VERSION = '0.1.0';
