import type { Principal } from '../domain/types.ts';

/** Result of checking an access token; a failure carries a short reason for `error_description`. */
export type BearerResult = { valid: true; principal: Principal } | { valid: false; reason: string };

/** Verifies `Authorization: Bearer` access tokens. */
export interface BearerVerifier {
  verify(token: string): Promise<BearerResult>;
}

/** Used until an authorization server is configured: every bearer token is refused. */
export const noBearer: BearerVerifier = {
  verify: async () => ({ valid: false, reason: 'bearer tokens are not accepted' }),
};
