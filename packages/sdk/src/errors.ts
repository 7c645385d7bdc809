import type { OAuthErrorCode, ProblemCode } from './operations.gen.ts';

/**
 * Codes the SDK itself reports: no response (`network_error`), a response that is not what the API
 * answers (`http_error`, `invalid_response`), or an authorization response that must not be trusted
 * (`state_mismatch`, `issuer_mismatch`, `missing_code`).
 */
export type SdkErrorCode =
  | 'network_error'
  | 'http_error'
  | 'invalid_response'
  | 'state_mismatch'
  | 'issuer_mismatch'
  | 'missing_code';

/**
 * Every code a `GatehouseError` may carry: the server's problem codes, the OAuth error codes and the
 * SDK's own. Open-ended (`string & {}`), so that a newer server's code is not a type lie.
 */
export type GatehouseErrorCode = ProblemCode | OAuthErrorCode | SdkErrorCode | (string & {});

/** What went wrong, as the server said it: an RFC 9457 problem, an RFC 6749 error, or neither. */
export interface GatehouseErrorInit {
  status: number;
  code: GatehouseErrorCode;
  detail?: string | undefined;
  requestId?: string | undefined;
  retryAfter?: number | undefined;
  type?: string | undefined;
  title?: string | undefined;
  error?: string | undefined;
  error_description?: string | undefined;
  cause?: unknown;
}

/**
 * The one error the SDK throws. REST errors carry the problem+json fields (`status`, `code`, `detail`,
 * `requestId`); token endpoint errors carry RFC 6749 5.2's `error` and `error_description` (spelled as
 * on the wire) and mirror them into `code` and `detail`, so callers can `switch (e.code)` either way.
 *
 * @example
 * ```ts
 * try {
 *   await gatehouse.workspaces.get(42);
 * } catch (error) {
 *   if (!(error instanceof GatehouseError)) throw error;
 *   if (error.code === 'rate_limited') await sleep((error.retryAfter ?? 1) * 1000);
 *   else console.error(error.status, error.code, error.detail, error.requestId);
 * }
 * ```
 */
export class GatehouseError extends Error {
  override name = 'GatehouseError';
  /** HTTP status; 0 when no response of the server is concerned (no response, or an authorization response). */
  readonly status: number;
  readonly code: GatehouseErrorCode;
  readonly detail: string | undefined;
  /** Quote it when reporting a problem: the server logs it with the request. */
  readonly requestId: string | undefined;
  /** Seconds to wait before trying again, from `Retry-After` (429 and 503). */
  readonly retryAfter: number | undefined;
  /** The problem's stable `type` URI. */
  readonly type: string | undefined;
  readonly title: string | undefined;
  /** RFC 6749 5.2 error code (token endpoint and authorization responses only). */
  readonly error: string | undefined;
  readonly error_description: string | undefined;

  constructor(init: GatehouseErrorInit) {
    super(init.detail ?? init.error_description ?? init.title ?? `${init.code} (HTTP ${init.status})`, {
      cause: init.cause,
    });
    this.status = init.status;
    this.code = init.code;
    this.detail = init.detail;
    this.requestId = init.requestId;
    this.retryAfter = init.retryAfter;
    this.type = init.type;
    this.title = init.title;
    this.error = init.error;
    this.error_description = init.error_description;
  }
}

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** RFC 9110 10.2.3: `Retry-After` is either a number of seconds or an HTTP date. */
export function retryAfterSeconds(header: string | null, now = Date.now()): number | undefined {
  if (header === null) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim());
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1000));
}

/** Builds the error of a non-2xx response from its body, whatever format it came in. */
export async function errorFromResponse(response: Response): Promise<GatehouseError> {
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  const fields: Record<string, unknown> =
    // A non-null object parsed from JSON: string keys, values of unknown type (each is checked below).
    typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const retryAfter = retryAfterSeconds(response.headers.get('retry-after'));
  const oauthError = text(fields.error);
  if (oauthError !== undefined && text(fields.code) === undefined) {
    const description = text(fields.error_description);
    return new GatehouseError({
      status: response.status,
      code: oauthError,
      detail: description,
      retryAfter,
      error: oauthError,
      error_description: description,
    });
  }
  return new GatehouseError({
    status: response.status,
    code: text(fields.code) ?? 'http_error',
    detail: text(fields.detail),
    requestId: text(fields.requestId),
    retryAfter,
    type: text(fields.type),
    title: text(fields.title),
  });
}
