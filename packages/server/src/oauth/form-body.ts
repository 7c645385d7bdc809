import type { FastifyInstance, FastifyRequest } from 'fastify';
import { OAuthError } from '../errors/errors.ts';

/** Parameters of an OAuth request body: one value per name, empty values dropped. */
export type FormParams = ReadonlyMap<string, string>;

/** OAuth requests are a few hundred bytes; anything near this is not one (DESIGN.md 3 rule 10). */
export const FORM_BODY_LIMIT = 16 * 1024;

const PARAMETER_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * Parses `application/x-www-form-urlencoded` (RFC 6749 appendix B). Unlike @fastify/formbody, a name
 * sent twice is refused: RFC 6749 3.1 and 3.2, "Request and response parameters MUST NOT be included
 * more than once". A parameter without a value counts as omitted (RFC 6749 3.1).
 */
export function parseForm(body: string): Map<string, string> {
  const params = new Map<string, string>();
  const seen = new Set<string>();
  for (const [name, value] of new URLSearchParams(body)) {
    if (seen.has(name)) {
      // The name is echoed only when it looks like a parameter name: never reflect arbitrary input.
      const shown = PARAMETER_NAME.test(name) ? `"${name}" ` : '';
      throw new OAuthError('invalid_request', `parameter ${shown}is included more than once`);
    }
    seen.add(name);
    if (value !== '') params.set(name, value);
  }
  return params;
}

/**
 * Makes form bodies the only bodies the plugin's routes accept: every other content type gets a
 * Fastify 415, answered as `invalid_request` on /connect/* by the error handler.
 * Call it inside the encapsulated plugin: the rest of the app keeps its own parsers.
 */
export function acceptOnlyForms(scope: FastifyInstance): void {
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT },
    (_request, body, done) => {
      try {
        // parseAs 'string' hands the parser a string.
        done(null, parseForm(body as string));
      } catch (error) {
        done(error as Error);
      }
    },
  );
}

/** The parsed parameters of a request (none when it had no body). */
export function formParams(request: FastifyRequest): FormParams {
  return request.body instanceof Map ? (request.body as FormParams) : new Map();
}
