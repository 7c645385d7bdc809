import type { FastifyReply, FastifyRequest } from 'fastify';
import { findUser } from '../../domain/users.ts';
import { csrfToken } from '../../http/session/csrf.ts';
import { finishSession } from '../../http/session/session.ts';
import type { SessionRecord } from '../../model/types.ts';
import type { EndSessionOutcome } from '../../oauth/end-session/outcome.ts';
import { formTargetOf, sendErrorPage, sendPage } from '../layout.ts';
import { confirmationPage, signedOutPage } from './views.ts';

/**
 * Answers a step of RP-initiated logout (oauth/end-session/): the session ended here, in the database
 * and in the browser (`finishSession`), before the redirect or the signed-out page; the confirmation
 * page, whose form may lead straight on to the client (its `form-action` names the origin of the
 * registered URI: Chromium applies `form-action` to the redirect that follows a form post, see
 * `formTargetOf`); or an error page, which changes nothing. Every answer is `no-store`.
 */
export async function answerEndSession(
  request: FastifyRequest,
  reply: FastifyReply,
  outcome: EndSessionOutcome,
  session: SessionRecord | undefined,
): Promise<FastifyReply> {
  switch (outcome.kind) {
    case 'error-page':
      return sendErrorPage(reply, 400, outcome.title, outcome.message);
    case 'resubmit':
      return reply.header('cache-control', 'no-store').redirect(outcome.location, 303);
    case 'signed-out': {
      if (outcome.endSession) await finishSession(request, reply);
      if (outcome.location !== null)
        return reply.header('cache-control', 'no-store').redirect(outcome.location, 303);
      return sendPage(reply, { title: 'Signed out', body: signedOutPage(outcome.client) });
    }
    case 'confirm': {
      const { request: logout } = outcome;
      const user = session && (await findUser(request.server.services.db, session.userId));
      const body = confirmationPage({
        client: logout.client,
        email: user?.email ?? null,
        params: logout.params,
        csrfToken: csrfToken(request, reply),
      });
      return sendPage(reply, {
        title: 'Sign out of Gatehouse?',
        body,
        formTargets: logout.redirectUri ? formTargetOf(logout.redirectUri) : [],
      });
    }
  }
}
