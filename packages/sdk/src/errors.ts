/** What went wrong, as the server said it: an RFC 9457 problem, an RFC 6749 error, or neither. */
export interface GatehouseErrorInit {
  status: number;
  /** Problem code (`unauthorized`, `not_found`, ...), the OAuth `error`, or `network_error`/`http_error`. */
  code: string;
  detail?: string | undefined;
  requestId?: string | undefined;
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
 */
export class GatehouseError extends Error {
  override name = 'GatehouseError';
  /** HTTP status; 0 when no response arrived. */
  readonly status: number;
  readonly code: string;
  readonly detail: string | undefined;
  /** Quote it when reporting a problem: the server logs it with the request. */
  readonly requestId: string | undefined;
  /** The problem's stable `type` URI. */
  readonly type: string | undefined;
  readonly title: string | undefined;
  /** RFC 6749 5.2 error code (token endpoint only). */
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
    this.type = init.type;
    this.title = init.title;
    this.error = init.error;
    this.error_description = init.error_description;
  }
}

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

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
  const oauthError = text(fields.error);
  if (oauthError !== undefined && text(fields.code) === undefined) {
    const description = text(fields.error_description);
    return new GatehouseError({
      status: response.status,
      code: oauthError,
      detail: description,
      error: oauthError,
      error_description: description,
    });
  }
  return new GatehouseError({
    status: response.status,
    code: text(fields.code) ?? 'http_error',
    detail: text(fields.detail),
    requestId: text(fields.requestId),
    type: text(fields.type),
    title: text(fields.title),
  });
}
