import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sendErrorPage } from '../console/layout.ts';
import { type OAuthErrorCode, PROBLEMS, type ProblemCode, problemType } from '../errors/codes.ts';
import { OAuthError, ProblemError } from '../errors/errors.ts';
import { baseSecurityHeaders } from './security-headers.ts';

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

/** What went wrong, independent of how the scope that caught it answers. */
type Failure =
  | { kind: 'problem'; code: ProblemCode; detail: string | undefined; headers: Record<string, string> }
  | { kind: 'oauth'; error: OAuthError }
  | { kind: 'unexpected' };

function classify(error: FastifyError | Error): Failure {
  if (error instanceof OAuthError) return { kind: 'oauth', error };
  if (error instanceof ProblemError)
    return { kind: 'problem', code: error.code, detail: error.detail, headers: error.headers };
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
  return { kind: 'problem', code, detail, headers: {} };
}

/** Sends an RFC 9457 problem. */
export function sendProblem(
  reply: FastifyReply,
  code: ProblemCode,
  detail?: string,
  headers: Record<string, string> = {},
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
  internal: 'server_error',
};

function asOAuthError(failure: Exclude<Failure, { kind: 'unexpected' }>): OAuthError {
  if (failure.kind === 'oauth') return failure.error;
  const error = OAUTH_OF_PROBLEM[failure.code] ?? 'invalid_request';
  return new OAuthError(error, failure.detail ?? PROBLEMS[failure.code].title, failure.headers);
}

function logUnexpected(request: FastifyRequest, error: Error): void {
  request.log.error({ err: error }, 'unhandled error');
}

const INTERNAL_DETAIL = 'an unexpected error occurred; quote the requestId when reporting it';

/**
 * The REST API's errors (the root scope): RFC 9457 problems. An error we did not raise on purpose
 * becomes a 500 that says nothing of its cause; the cause is logged.
 */
export function answerProblems(scope: FastifyInstance): void {
  scope.setErrorHandler((error: FastifyError | Error, request, reply) => {
    const failure = classify(error);
    if (failure.kind === 'problem') return sendProblem(reply, failure.code, failure.detail, failure.headers);
    if (failure.kind === 'oauth') {
      const code = failure.error.status === 429 ? 'rate_limited' : 'validation_failed';
      return sendProblem(reply, code, failure.error.description, failure.error.headers);
    }
    logUnexpected(request, error);
    return sendProblem(reply, 'internal', INTERNAL_DETAIL);
  });
  scope.setNotFoundHandler((_request, reply) => sendProblem(reply, 'not_found', 'no such route'));
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

const PAGE_TITLES: Partial<Record<number, string>> = {
  403: 'Not allowed',
  404: 'Not found',
  413: 'Too large',
  415: 'Not a form',
  429: 'Too many attempts',
  503: 'Busy',
};

/** The browser pages' errors (console, authorization endpoint): an HTML page, never JSON or a stack. */
export function answerPages(scope: FastifyInstance): void {
  scope.setErrorHandler((error: FastifyError | Error, request, reply) => {
    const failure = classify(error);
    if (failure.kind === 'unexpected') {
      logUnexpected(request, error);
      return sendErrorPage(reply, 500, 'Something went wrong', `Try again later (request ${request.id}).`);
    }
    const { status, message, headers } =
      failure.kind === 'oauth'
        ? { status: failure.error.status, message: failure.error.description, headers: failure.error.headers }
        : { status: PROBLEMS[failure.code].status, message: failure.detail, headers: failure.headers };
    const title = PAGE_TITLES[status] ?? 'This request is not valid';
    const shown =
      status === 415 ? 'This page accepts only the forms it serves.' : (message ?? 'Go back and try again.');
    return sendErrorPage(reply, status, title, shown, headers);
  });
}

const OAUTH_JSON_PATH = /^\/connect\/(token|revocation|introspect)/i;
const PAGE_PATH = /^\/(console|connect\/authorize)/i;

/**
 * Errors raised before any route is found (a path that is not valid percent-encoding, a parameter
 * too long for the router): answered in the format of the endpoint the path names, with the headers
 * every response carries, and without echoing the path.
 */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  reply.headers(baseSecurityHeaders(request.server.services.config));
  const failure = classify(error);
  const path = (request.raw.url ?? '').replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, '');
  if (failure.kind === 'unexpected') {
    logUnexpected(request, error);
    void sendProblem(reply, 'internal', INTERNAL_DETAIL);
    return;
  }
  const detail = 'the request path is not valid';
  if (OAUTH_JSON_PATH.test(path)) {
    void sendOAuthError(reply, new OAuthError('invalid_request', detail));
  } else if (PAGE_PATH.test(path)) {
    void sendErrorPage(reply, 400, 'This link is not valid', 'The address of this page is malformed.');
  } else {
    void sendProblem(reply, 'validation_failed', detail);
  }
}
