/**
 * The one registry of error codes. REST errors answer RFC 9457 problems whose `type` is
 * derived from the code; OAuth errors answer RFC 6749 section 5.2 JSON.
 */
export const PROBLEMS = {
  unauthorized: { status: 401, title: 'Authentication required' },
  invalid_token: { status: 401, title: 'Invalid credential' },
  forbidden: { status: 403, title: 'Forbidden' },
  insufficient_permission: { status: 403, title: 'Insufficient permission' },
  not_found: { status: 404, title: 'Not found' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  conflict: { status: 409, title: 'Conflict' },
  validation_failed: { status: 400, title: 'Invalid request' },
  payload_too_large: { status: 413, title: 'Payload too large' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type' },
  rate_limited: { status: 429, title: 'Too many requests' },
  insecure_transport: { status: 403, title: 'HTTPS required' },
  busy: { status: 503, title: 'Busy, retry shortly' },
  service_unavailable: { status: 503, title: 'Service unavailable' },
  internal: { status: 500, title: 'Internal error' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemCode = keyof typeof PROBLEMS;

/** Stable `type` URI of a problem code. */
export function problemType(code: ProblemCode): string {
  return `urn:gatehouse:problem:${code}`;
}

/** RFC 6749 5.2, RFC 6750 3.1, RFC 7009 2.2.1 and OpenID Connect Core 3.1.2.6 error codes with their HTTP status. */
export const OAUTH_ERRORS = {
  invalid_request: 400,
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  unsupported_token_type: 400,
  invalid_scope: 400,
  access_denied: 403,
  unsupported_response_type: 400,
  login_required: 400,
  consent_required: 400,
  interaction_required: 400,
  // RFC 6750 3.1: the errors of a resource that takes a bearer token (the userinfo endpoint).
  invalid_token: 401,
  insufficient_scope: 403,
  rate_limited: 429,
  server_error: 500,
  temporarily_unavailable: 503,
} as const satisfies Record<string, number>;

export type OAuthErrorCode = keyof typeof OAUTH_ERRORS;
