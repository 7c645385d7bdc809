import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { ConnectionError, FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/config.ts';
import { type OAuthErrorCode, PROBLEMS, type ProblemCode, problemType } from '../errors/codes.ts';
import { type FieldError, OAuthError, ProblemError, safeDescription } from '../errors/errors.ts';
import { isDatabaseUnavailable } from '../storage/database.ts';
import { requestIdentity } from './access-log.ts';
import { baseSecurityHeaders } from './security-headers.ts';

/**
 * How error pages look: the console's (console/error-pages.ts), given to the handlers here so that
 * this layer answers unrouted page requests without depending on the console.
 */
export interface ErrorPages {
  /** Sends an error page. */
  send(
    reply: FastifyReply,
    status: number,
    title: string,
    message: string,
    headers?: Record<string, string>,
  ): FastifyReply;
  /** The HTML of an error page and the headers it needs, for an answer written straight to a socket. */
  render(title: string, message: string): { html: string; headers: Record<string, string> };
}

/** Fastify's own 4xx errors, mapped to our codes so that bad input never looks like a server fault. */
const FASTIFY_CODES: Record<string, ProblemCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'validation_failed',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'validation_failed',
  FST_ERR_CTP_INVALID_JSON_BODY: 'validation_failed',
  FST_ERR_VALIDATION: 'validation_failed',
  FST_ERR_BAD_URL: 'validation_failed',
  FST_ERR_MAX_PARAM_LENGTH: 'validation_failed',
  FST_ERR_ASYNC_CONSTRAINT: 'validation_failed',
};

type ProblemFailure = {
  kind: 'problem';
  code: ProblemCode;
  detail: string | undefined;
  headers: Record<string, string>;
  errors: readonly FieldError[];
};

/** What went wrong, independent of how the scope that caught it answers. */
export type Failure = ProblemFailure | { kind: 'oauth'; error: OAuthError } | { kind: 'unexpected' };

/** Seconds a client is told to wait when the database is unavailable: about a restart or a failover. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

/**
 * The answer to a request that needed the database while it cannot be reached: 503 with Retry-After
 * (RFC 9110 15.6.4), in the format of the scope that caught it. Not a fault of ours, so not logged
 * with a stack; readiness (`/readyz`) tells the load balancer, the background jobs' logs tell the operator.
 */
function databaseUnavailable(): ProblemFailure {
  return {
    kind: 'problem',
    code: 'service_unavailable',
    detail: 'the database is unavailable; retry shortly',
    headers: { 'retry-after': String(DATABASE_RETRY_AFTER_SECONDS) },
    errors: [],
  };
}

/** What an error means to a client; `unexpected` is a fault of ours (logged, answered as a 500). */
export function classify(error: FastifyError | Error): Failure {
  if (error instanceof OAuthError) return { kind: 'oauth', error };
  if (isDatabaseUnavailable(error)) return databaseUnavailable();
  if (error instanceof ProblemError)
    return {
      kind: 'problem',
      code: error.code,
      detail: error.detail,
      headers: error.headers,
      errors: error.errors,
    };
  const fastifyError = error as FastifyError;
  const status = fastifyError.statusCode ?? 500;
  let code: ProblemCode | undefined = FASTIFY_CODES[fastifyError.code];
  if (!code && status === 429) code = 'rate_limited';
  if (!code && status >= 400 && status < 500) code = status === 404 ? 'not_found' : 'validation_failed';
  if (!code) return { kind: 'unexpected' };
  // Validation messages name the field and rule only; they never contain the submitted value.
  const detail = fastifyError.validation
    ? `${fastifyError.validationContext ?? 'request'} ${fastifyError.message.replace(/^[a-z]+\//, '')}`
    : undefined;
  return { kind: 'problem', code, detail, headers: {}, errors: fieldErrorsOf(fastifyError) };
}

/**
 * The inputs a schema refused, by name: `label`, `redirectUris/0`, or the unknown field itself.
 * Ajv's messages name the rule, never the submitted value.
 */
function fieldErrorsOf(error: FastifyError): FieldError[] {
  return (error.validation ?? []).map((issue) => {
    const path = issue.instancePath.replace(/^\//, '');
    const params = issue.params as { missingProperty?: unknown; additionalProperty?: unknown };
    if (typeof params.additionalProperty === 'string')
      return { field: join(path, params.additionalProperty), message: 'is not a known field' };
    if (typeof params.missingProperty === 'string')
      return { field: join(path, params.missingProperty), message: 'is required' };
    return {
      field: path || (error.validationContext ?? 'request'),
      message: issue.message ?? 'is not valid',
    };
  });
}

const join = (path: string, name: string) => (path ? `${path}/${name}` : name);

/** Sends an RFC 9457 problem; `extensions` are extension members (RFC 9457 3.2) documented on `Problem`. */
export function sendProblem(
  reply: FastifyReply,
  code: ProblemCode,
  detail?: string,
  headers: Record<string, string> = {},
  errors: readonly FieldError[] = [],
  extensions: Record<string, unknown> = {},
) {
  const { status, title } = PROBLEMS[code];
  return reply
    .code(status)
    .headers(headers)
    .type('application/problem+json; charset=utf-8')
    .send({
      type: problemType(code),
      title,
      status,
      detail: detail ?? title,
      code,
      requestId: reply.request.id,
      ...(errors.length ? { errors } : {}),
      ...extensions,
    });
}

/** Sends an RFC 6749 5.2 error; token responses are never cached (RFC 6749 5.1). */
export function sendOAuthError(reply: FastifyReply, error: OAuthError) {
  return reply
    .code(error.status)
    .headers({ 'cache-control': 'no-store', pragma: 'no-cache', ...error.headers })
    .type('application/json; charset=utf-8')
    .send(
      error.description
        ? { error: error.error, error_description: error.description }
        : { error: error.error },
    );
}

/** The RFC 6749 code for a problem raised by a rule shared with the REST API (transport, input, limits). */
const OAUTH_OF_PROBLEM: Partial<Record<ProblemCode, OAuthErrorCode>> = {
  rate_limited: 'rate_limited',
  busy: 'temporarily_unavailable',
  service_unavailable: 'temporarily_unavailable',
  internal: 'server_error',
};

function asOAuthError(failure: Exclude<Failure, { kind: 'unexpected' }>): OAuthError {
  if (failure.kind === 'oauth') return failure.error;
  const error = OAUTH_OF_PROBLEM[failure.code] ?? 'invalid_request';
  return new OAuthError(error, failure.detail ?? PROBLEMS[failure.code].title, failure.headers);
}

export function logUnexpected(request: FastifyRequest, error: Error): void {
  request.log.error({ err: error, ...requestIdentity(request) }, 'unhandled error');
}

const INTERNAL_DETAIL = 'an unexpected error occurred; quote the requestId when reporting it';

/** Sends the problem a caught error stands for; an error we did not raise on purpose is a bare 500. */
function problemOf(error: FastifyError | Error, request: FastifyRequest): ProblemFailure | null {
  const failure = classify(error);
  if (failure.kind === 'unexpected') {
    logUnexpected(request, error);
    return null;
  }
  if (failure.kind === 'problem') return failure;
  return {
    kind: 'problem',
    code: failure.error.status === 429 ? 'rate_limited' : 'validation_failed',
    detail: failure.error.description,
    headers: failure.error.headers,
    errors: [],
  };
}

/**
 * The REST API's errors: RFC 9457 problems. An error we did not raise on purpose becomes a 500 that
 * says nothing of its cause; the cause is logged.
 */
export function answerProblems(scope: FastifyInstance): void {
  scope.setErrorHandler((error: FastifyError | Error, request, reply) => {
    const problem = problemOf(error, request);
    if (!problem) return sendProblem(reply, 'internal', INTERNAL_DETAIL);
    return sendProblem(reply, problem.code, problem.detail, problem.headers, problem.errors);
  });
}

/**
 * The root scope: requests no route matched, and the errors of the routes registered at the root
 * (the API reference, metrics, discovery). A request no route matched is answered in the format of
 * the endpoint family its path names; anything else as a problem.
 */
export function answerUnrouted(app: FastifyInstance, pages: ErrorPages): void {
  app.setErrorHandler((error: FastifyError | Error, request, reply) => {
    const problem = problemOf(error, request);
    if (!problem) return sendProblem(reply, 'internal', INTERNAL_DETAIL);
    // A request no route matched can still fail first (its body did not parse): answered by its path.
    if (request.is404 && answerByPath(pages, request, reply, PROBLEMS[problem.code].status, problem.detail))
      return reply;
    return sendProblem(reply, problem.code, problem.detail, problem.headers, problem.errors);
  });
  app.setNotFoundHandler((request, reply) => {
    if (answerByPath(pages, request, reply, 404, 'There is no such page or endpoint.')) return reply;
    return sendProblem(reply, 'not_found', 'no such route');
  });
}

/**
 * Answers a request no route matched in the format of the endpoint family its path names: a page
 * under /console, /connect/authorize and /connect/endsession, RFC 6749 JSON under the other OAuth
 * endpoints. Returns false for any other path, which the caller answers with a problem.
 */
function answerByPath(
  pages: ErrorPages,
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  detail: string | undefined,
): boolean {
  const family = familyOf(request.raw.url ?? '');
  if (family === 'page') {
    pages.send(
      reply,
      status,
      PAGE_TITLES[status] ?? 'This request is not valid',
      detail ?? 'Go back and try again.',
    );
    return true;
  }
  if (family === 'oauth') {
    void reply
      .code(status)
      .headers({ 'cache-control': 'no-store', pragma: 'no-cache' })
      .type('application/json; charset=utf-8')
      .send({ error: 'invalid_request', error_description: safeDescription(detail ?? 'no such endpoint') });
    return true;
  }
  return false;
}

/** The OAuth endpoints' errors (`/connect/token`, revocation, introspection): RFC 6749 5.2 JSON. */
export function answerOAuthErrors(scope: FastifyInstance): void {
  scope.setErrorHandler((error: FastifyError | Error, request, reply) => {
    const failure = classify(error);
    if (failure.kind !== 'unexpected') return sendOAuthError(reply, asOAuthError(failure));
    logUnexpected(request, error);
    return sendOAuthError(reply, new OAuthError('server_error'));
  });
}

/** Titles of error pages by status. */
export const PAGE_TITLES: Partial<Record<number, string>> = {
  403: 'Not allowed',
  404: 'Not found',
  413: 'Too large',
  415: 'Not a form',
  429: 'Too many attempts',
  503: 'Busy',
};

const OAUTH_JSON_PATH = /^\/connect\/(token|revocation|introspect|userinfo)/i;
const PAGE_PATH = /^\/(console|connect\/(authorize|endsession)|o(\/|$))/i;

/**
 * The endpoint family a raw request target names, for choosing a format when no route was found. The
 * path is read without an absolute-form origin (which ends at `/`, `?` or `#`, RFC 3986 3.2), query or
 * fragment, with escaped unreserved characters decoded (`/conne%63t`, equivalent by RFC 3986 6.2.2.2)
 * and every other escape, `%2F` and malformed ones included, left as it is.
 */
function familyOf(target: string): 'page' | 'oauth' | 'problem' {
  const path = (target.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, '').split(/[?#]/, 1)[0] ?? '').replace(
    /%([0-9a-f]{2})/gi,
    (encoded, hex: string) => {
      const char = String.fromCharCode(Number.parseInt(hex, 16));
      return /[A-Za-z0-9\-._~]/.test(char) ? char : encoded;
    },
  );
  if (PAGE_PATH.test(path)) return 'page';
  return OAUTH_JSON_PATH.test(path) ? 'oauth' : 'problem';
}

/**
 * Errors raised before any route is found (a path that is not valid percent-encoding, a parameter
 * too long for the router): answered in the format of the endpoint the path names, with the headers
 * every response carries, and without echoing the path.
 */
export function frameworkErrors(
  pages: ErrorPages,
): (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => void {
  return (error, request, reply) => {
    reply.headers(baseSecurityHeaders(request.server.services.config));
    if (classify(error).kind === 'unexpected') {
      logUnexpected(request, error);
      void sendProblem(reply, 'internal', INTERNAL_DETAIL);
      return;
    }
    const detail = 'the request path is not valid';
    if (!answerByPath(pages, request, reply, 400, detail))
      void sendProblem(reply, 'validation_failed', detail);
  };
}

/** Status and detail of the errors Node's HTTP parser reports, by its error code. */
const CLIENT_ERRORS: Record<string, [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'the request headers are too large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'the request took too long'],
};
const NOT_HTTP: [number, string, string] = [400, 'Bad Request', 'the request is not valid HTTP'];

/** The three formats of an answer sent on a socket, without a reply: status line, headers, body. */
function socketAnswer(
  config: Config,
  pages: ErrorPages,
  target: string,
  [status, reason, detail]: [number, string, string],
): string {
  const family = familyOf(target);
  let type: string;
  let body: string;
  const extra: Record<string, string> = {};
  if (family === 'page') {
    type = 'text/html; charset=utf-8';
    const page = pages.render('This request is not valid', 'Check the address and try again.');
    body = page.html;
    Object.assign(extra, page.headers);
  } else if (family === 'oauth') {
    type = 'application/json; charset=utf-8';
    body = JSON.stringify({ error: 'invalid_request', error_description: detail });
    Object.assign(extra, { 'cache-control': 'no-store', pragma: 'no-cache' });
  } else {
    type = 'application/problem+json; charset=utf-8';
    // No request was made of these bytes, but an id still lets the answer be quoted in a report.
    body = JSON.stringify({
      type: problemType('validation_failed'),
      title: PROBLEMS.validation_failed.title,
      status,
      detail,
      code: 'validation_failed',
      requestId: randomUUID(),
    });
  }
  const headers = Object.entries({ ...baseSecurityHeaders(config), ...extra })
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  return (
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: ${type}\r\n${headers}` +
    `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`
  );
}

/**
 * Requests Node's HTTP parser refuses (a raw non-ASCII byte or a space in the target, an unknown
 * method, headers too large) never reach Fastify: answered here, on the socket, in the format of the
 * endpoint family the request line names, with the headers every response carries, instead of
 * Fastify's default JSON. Nothing of the request is echoed.
 */
export function clientErrorHandler(
  config: Config,
  pages: ErrorPages,
): (error: ConnectionError, socket: Socket) => void {
  return (error, socket) => {
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    if (socket.writable) {
      // Node hands over the bytes it read as a Buffer (Fastify's type describes its JSON form).
      const raw: unknown = error.rawPacket;
      const packet = Buffer.isBuffer(raw) ? raw : Buffer.alloc(0);
      const target = /^[A-Za-z]* ([^ \r\n]*)/.exec(packet.toString('latin1'))?.[1] ?? '';
      socket.write(socketAnswer(config, pages, target, CLIENT_ERRORS[error.code] ?? NOT_HTTP));
    }
    socket.destroy(error);
  };
}
