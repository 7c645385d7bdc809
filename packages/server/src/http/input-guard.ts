import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ProblemError } from '../errors/errors.ts';

/**
 * Why a value cannot reach the database, or null. Two gaps the JSON schemas cannot close:
 * Ajv coerces "Infinity" and "1e309" to integers and then skips minimum/maximum for non-finite numbers,
 * and PostgreSQL refuses text containing NUL. Either would surface as a 500 (DESIGN.md 3 rule 10).
 */
function unstorable(value: unknown): string | null {
  if (typeof value === 'number') return Number.isFinite(value) ? null : 'must be a finite number';
  if (typeof value === 'string') return value.includes('\u0000') ? 'must not contain NUL characters' : null;
  return null;
}

/**
 * Checks the top level of an object (or of the Map the OAuth form parser produces) and the items of
 * its arrays; schemas bound anything deeper.
 */
function firstProblem(part: string, data: unknown): string | null {
  if (data === null || typeof data !== 'object') return null;
  const entries = data instanceof Map ? data.entries() : Object.entries(data);
  for (const [name, value] of entries) {
    const values: unknown[] = Array.isArray(value) ? value : [value];
    for (const item of values) {
      const problem = unstorable(item);
      if (problem) return `${part} ${name} ${problem}`;
    }
  }
  return null;
}

function check(request: FastifyRequest): string | null {
  return (
    firstProblem('params', request.params) ??
    firstProblem('querystring', request.query) ??
    firstProblem('body', request.body)
  );
}

/**
 * Input hardening for every route: validated input that the database would still choke on is a 400
 * (in the format of the route's scope: `invalid_request` on the OAuth endpoints), and only JSON and form bodies are accepted, so that any
 * other content type is a 415 rather than a string handed to a route that expects an object.
 */
export function inputGuard(app: FastifyInstance): void {
  app.removeContentTypeParser('text/plain');
  app.addHook('preHandler', async function refuseUnstorableInput(request) {
    const problem = check(request);
    if (problem === null) return;
    throw new ProblemError('validation_failed', problem);
  });
}
