import { OAUTH_ERRORS, type OAuthErrorCode, PROBLEMS, type ProblemCode } from './codes.ts';

/** One invalid input, named so that a client (or a form) can show the message beside the field. */
export interface FieldError {
  field: string;
  message: string;
}

/** A REST error answered as `application/problem+json`. */
export class ProblemError extends Error {
  override name = 'ProblemError';
  readonly status: number;
  constructor(
    readonly code: ProblemCode,
    readonly detail?: string,
    readonly headers: Record<string, string> = {},
    /** For `validation_failed`: which inputs are wrong (the problem's `errors` member). */
    readonly errors: readonly FieldError[] = [],
  ) {
    super(detail ?? PROBLEMS[code].title);
    this.status = PROBLEMS[code].status;
  }
}

/**
 * RFC 6749 5.2 limits `error_description` to %x20-21 / %x23-5B / %x5D-7E: no double quote, no backslash,
 * nothing outside printable ASCII. Descriptions quote parameter names and may echo what a client sent,
 * so every one is mapped into that set (quotes become single quotes, anything else `?`). The same text
 * is safe inside an RFC 6750 `WWW-Authenticate` quoted string.
 */
export function safeDescription(text: string): string {
  return text
    .replace(/"/g, "'")
    .replace(/\\/g, '/')
    .replace(/[^\x20-\x7e]/g, '?');
}

/** An OAuth 2.0 error answered as RFC 6749 5.2 JSON (or a redirect, once the redirect URI is trusted). */
export class OAuthError extends Error {
  override name = 'OAuthError';
  readonly status: number;
  readonly description: string | undefined;
  constructor(
    readonly error: OAuthErrorCode,
    description?: string,
    readonly headers: Record<string, string> = {},
  ) {
    const safe = description === undefined ? undefined : safeDescription(description);
    super(safe ?? error);
    this.description = safe;
    this.status = OAUTH_ERRORS[error];
  }
}

/** A 400 `validation_failed` problem naming the input that is wrong. */
export function invalidField(field: string, message: string): ProblemError {
  return new ProblemError('validation_failed', message, {}, [{ field, message }]);
}

/** `invalid_client` with the challenge RFC 6749 5.2 requires when the client tried HTTP Basic. */
export function invalidClient(description = 'client authentication failed'): OAuthError {
  return new OAuthError('invalid_client', description, {
    'www-authenticate': 'Basic realm="gatehouse", charset="UTF-8"',
  });
}
