import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { currentSession } from '../http/session/session.ts';
import { authorize } from '../oauth/authorize/authorize.ts';
import { readParams } from '../oauth/authorize/validate-request.ts';
import { answerOutcome } from './answer-outcome.ts';

async function authorizeRequest(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const params = readParams(request.method === 'GET' ? request.query : request.body);
  const outcome = await authorize(request.server.services, params, await currentSession(request));
  return answerOutcome(request, reply, outcome);
}

/**
 * `GET|POST /connect/authorize` (RFC 6749 3.1: both methods), among the pages because it answers
 * pages and redirects; the protocol is in oauth/authorize/. It never answers CORS (see http/cors.ts).
 */
export function authorizeRoute(pages: FastifyInstance): void {
  pages.route({
    method: ['GET', 'POST'],
    url: '/connect/authorize',
    schema: { hide: true },
    handler: authorizeRequest,
  });
}
