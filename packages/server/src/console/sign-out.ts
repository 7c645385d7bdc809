import type { FastifyInstance } from 'fastify';
import { endSession } from '../domain/sessions.ts';
import { CSRF_FIELD, checkCsrf, csrfFailure, formFields } from './csrf.ts';
import { html, type SafeHtml } from './html.ts';
import { clearSessionCookie, readSessionCookie } from './session-cookie.ts';
import { signInPath } from './sign-in.ts';

/** The sign-out button: a form, since a link (GET) could be triggered by any page. */
export function signOutForm(csrfToken: string): SafeHtml {
  return html`<form method="post" action="/console/sign-out" class="inline">
<input type="hidden" name="${CSRF_FIELD}" value="${csrfToken}">
<button type="submit" class="link">Sign out</button>
</form>`;
}

/** `POST /console/sign-out`: ends the session on the server, not just in the browser. */
export function signOutRoutes(app: FastifyInstance): void {
  app.post('/console/sign-out', { schema: { hide: true } }, async (request, reply) => {
    if (!checkCsrf(request, formFields(request.body)[CSRF_FIELD])) return csrfFailure(reply);
    const token = readSessionCookie(request);
    if (token) await endSession(app.services.db, token);
    clearSessionCookie(reply);
    return reply.redirect(signInPath('/console', 'signed_out'), 303);
  });
}
