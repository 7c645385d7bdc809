import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CSRF_FIELD, checkCsrf, formFields } from '../http/session/csrf.ts';
import { finishSession } from '../http/session/session.ts';
import { csrfFailure } from './error-pages.ts';
import { html, type SafeHtml } from './html.ts';
import { signInPath } from './sign-in/return-to.ts';

/** The sign-out button: a form, since a link (GET) could be triggered by any page. */
export function signOutForm(csrfToken: string): SafeHtml {
  return html`<form method="post" action="/console/sign-out" class="inline">
<input type="hidden" name="${CSRF_FIELD}" value="${csrfToken}">
<button type="submit" class="link">Sign out</button>
</form>`;
}

async function signOut(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  if (!checkCsrf(request, formFields(request.body)[CSRF_FIELD])) return csrfFailure(reply);
  await finishSession(request, reply);
  return reply.redirect(signInPath('/console', 'signed_out'), 303);
}

/** `POST /console/sign-out`: ends the session on the server, not just in the browser. */
export function signOutRoute(pages: FastifyInstance): void {
  pages.post('/console/sign-out', { schema: { hide: true } }, signOut);
}
