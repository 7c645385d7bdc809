import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PROBLEMS, type ProblemCode, problemType } from '../errors/codes.ts';
import { OAuthError, ProblemError } from '../errors/errors.ts';

/** Fastify's own 4xx errors, mapped to our codes so that bad input never looks like a server fault. */
const FASTIFY_CODES: Record<string, ProblemCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'validation_failed',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'validation_failed',
  FST_ERR_CTP_INVALID_JSON_BODY: 'validation_failed',
  FST_ERR_VALIDATION: 'validation_failed',
  FST_ERR_BAD_URL: 'validation_failed',
  FST_ERR_ASYNC_CONSTRAINT: 'validation_failed',
};

function isOAuthEndpoint(request: FastifyRequest): boolean {
  return request.url.slice(0, 9).toLowerCase() === '/connect/';
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
    .send(
      error.description
        ? { error: error.error, error_description: error.description }
        : { error: error.error },
    );
}

/**
 * One error handler for the whole app: OAuth errors as RFC 6749 JSON, everything else as problems.
 * An error we did not raise on purpose becomes a 500 that says nothing of its cause; the cause is logged.
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | Error, request, reply) => {
    if (error instanceof OAuthError) return sendOAuthError(reply, error);
    if (error instanceof ProblemError) return sendProblem(reply, error.code, error.detail, error.headers);
    const fastifyError = error as FastifyError;
    const status = fastifyError.statusCode ?? 500;
    let code: ProblemCode | undefined = FASTIFY_CODES[fastifyError.code];
    if (!code && status === 429) code = 'rate_limited';
    if (!code && status >= 400 && status < 500) code = status === 404 ? 'not_found' : 'validation_failed';
    if (code) {
      // Validation messages name the field and rule only; they never contain the submitted value.
      const detail = fastifyError.validation
        ? `${fastifyError.validationContext ?? 'request'} ${fastifyError.message.replace(/^[a-z]+\//, '')}`
        : undefined;
      if (isOAuthEndpoint(request)) {
        if (code === 'rate_limited')
          return sendOAuthError(reply, new OAuthError('rate_limited', 'too many requests', headerMap(reply)));
        return sendOAuthError(reply, new OAuthError('invalid_request', detail ?? PROBLEMS[code].title));
      }
      return sendProblem(reply, code, detail);
    }
    request.log.error({ err: error }, 'unhandled error');
    if (isOAuthEndpoint(request)) return sendOAuthError(reply, new OAuthError('server_error'));
    return sendProblem(
      reply,
      'internal',
      'an unexpected error occurred; quote the requestId when reporting it',
    );
  });

  app.setNotFoundHandler((_request, reply) => sendProblem(reply, 'not_found', 'no such route'));
}

function headerMap(reply: FastifyReply): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(reply.getHeaders()))
    if (value !== undefined) out[name] = String(value);
  return out;
}
