import type { FastifyRequest } from 'fastify';
import type { ApiKey } from '../../model/types.ts';
import type { Services } from '../../services.ts';
import type { FormParams } from '../form-body.ts';

/** RFC 6749 5.1 successful token response, fields in the order DESIGN.md 1 shows. */
export interface TokenResponse {
  access_token: string;
  expires_in: number;
  token_type: 'Bearer';
  scope: string;
  refresh_token?: string;
  /** OpenID Connect Core 3.1.3.3: only from an authorization code granted `openid`. */
  id_token?: string;
}

/** What a grant handler gets: the authenticated client and the request's (deduplicated) parameters. */
export interface GrantContext {
  request: FastifyRequest;
  params: FormParams;
  client: ApiKey;
  services: Services;
}

/** One grant type: validates its own parameters, issues the tokens, or throws an `OAuthError`. */
export type GrantHandler = (context: GrantContext) => Promise<TokenResponse>;
