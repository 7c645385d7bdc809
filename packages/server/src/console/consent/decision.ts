import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CSRF_FIELD, checkCsrf } from '../../http/session/csrf.ts';
import { currentSession } from '../../http/session/session.ts';
import { decide } from '../../oauth/authorize/authorize.ts';
import { readParams } from '../../oauth/authorize/validate-request.ts';
import { answerOutcome } from '../answer-outcome.ts';
import { csrfFailure } from '../error-pages.ts';

async function submitDecision(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const { [CSRF_FIELD]: token, decision, ...params } = readParams(request.body);
  if (!checkCsrf(request, token)) return csrfFailure(reply);
  const session = await currentSession(request);
  const outcome = await decide(request.server.services, params, session, { decision, ip: request.ip });
  return answerOutcome(request, reply, outcome);
}

/** `POST /console/consent`: the Allow or Deny of the consent page (see `decide` in oauth/authorize/). */
export function consentDecisionRoute(pages: FastifyInstance): void {
  pages.post('/console/consent', { schema: { hide: true } }, submitDecision);
}
