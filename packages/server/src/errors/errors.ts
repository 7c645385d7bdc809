import { OAUTH_ERRORS, type OAuthErrorCode, PROBLEMS, type ProblemCode } from './codes.ts';

/** A REST error answered as `application/problem+json`. */
export class ProblemError extends Error {
  override name = 'ProblemError';
  readonly status: number;
  constructor(
    readonly code: ProblemCode,
    readonly detail?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(detail ?? PROBLEMS[code].title);
    this.status = PROBLEMS[code].status;
  }
}

/** An OAuth 2.0 error answered as RFC 6749 5.2 JSON (or a redirect, once the redirect URI is trusted). */
export class OAuthError extends Error {
  override name = 'OAuthError';
  readonly status: number;
  constructor(
    readonly error: OAuthErrorCode,
    readonly description?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(description ?? error);
    this.status = OAUTH_ERRORS[error];
  }
}

/** `invalid_client` with the challenge RFC 6749 5.2 requires when the client tried HTTP Basic. */
export function invalidClient(description = 'client authentication failed'): OAuthError {
  return new OAuthError('invalid_client', description, {
    'www-authenticate': 'Basic realm="gatehouse", charset="UTF-8"',
  });
}
