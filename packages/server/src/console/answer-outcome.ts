import type { FastifyReply, FastifyRequest } from 'fastify';
import { csrfToken } from '../http/session/csrf.ts';
import type { AuthorizeOutcome } from '../oauth/authorize/outcome.ts';
import { consentPage } from './consent/view.ts';
import { formTargetOf, sendErrorPage, sendPage } from './layout.ts';
import { signInPath } from './sign-in/return-to.ts';

/**
 * Answers a step of the authorization flow (oauth/authorize/): a redirect to the client, never cached;
 * the sign-in page; the consent page, whose form may lead straight on to the client (its `form-action`
 * names the client's origin: see `formTargetOf`); or an error page.
 */
export function answerOutcome(
  request: FastifyRequest,
  reply: FastifyReply,
  outcome: AuthorizeOutcome,
): FastifyReply {
  switch (outcome.kind) {
    case 'redirect':
      return reply.header('cache-control', 'no-store').redirect(outcome.location, 303);
    case 'sign-in':
      return reply.redirect(signInPath(outcome.returnTo, outcome.reason), 303);
    case 'error-page':
      return sendErrorPage(reply, 400, outcome.title, outcome.message);
    case 'consent': {
      const { request: authz, access, workspaces } = outcome;
      const body = consentPage({
        client: authz.client,
        tenantLabel: access.tenantLabel,
        user: access.user,
        scopes: authz.scopes,
        workspaces,
        params: authz.params,
        csrfToken: csrfToken(request, reply),
      });
      return sendPage(reply, {
        title: `Authorize ${authz.client.label}`,
        body,
        formTargets: formTargetOf(authz.redirectUri),
      });
    }
  }
}
