import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { PROBLEMS } from '../errors/codes.ts';
import { classify, type ErrorPages, logUnexpected, PAGE_TITLES } from '../http/error-handler.ts';
import { html } from './html.ts';
import { CONTENT_SECURITY_POLICY, layout, sendErrorPage } from './layout.ts';

/** The console's error pages, for the handlers of requests no route matched (http/error-handler.ts). */
export const errorPages: ErrorPages = {
  send: sendErrorPage,
  render: (title, message) => ({
    html: layout(
      title,
      html`<h1>${title}</h1>
<p class="error" role="alert">${message}</p>`,
    ).value,
    headers: { 'content-security-policy': CONTENT_SECURITY_POLICY, 'x-frame-options': 'DENY' },
  }),
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

/** The 403 page of a form posted without a valid CSRF token (DESIGN.md 3 rule 8). */
export function csrfFailure(reply: FastifyReply): FastifyReply {
  return sendErrorPage(
    reply,
    403,
    'This form has expired',
    'The form could not be verified. Go back, reload the page and try again.',
  );
}
