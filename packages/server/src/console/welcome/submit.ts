import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { accountOfLink, redeemSignInLink } from '../../domain/sign-in-links.ts';
import { ProblemError } from '../../errors/errors.ts';
import { CSRF_FIELD, checkCsrf, csrfToken, formFields } from '../../http/session/csrf.ts';
import { beginSession } from '../../http/session/session.ts';
import { csrfFailure } from '../error-pages.ts';
import { sendPage } from '../layout.ts';
import { linkGone } from './page.ts';
import { welcomePage } from './view.ts';

const text = (value: unknown) => (typeof value === 'string' ? value : '');

async function submitWelcome(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const body = formFields(request.body);
  if (!checkCsrf(request, body[CSRF_FIELD])) return csrfFailure(reply);
  const token = text(body.token);
  const { db } = request.server.services;
  try {
    const user = await redeemSignInLink(db, token, text(body.password).slice(0, 1024), request.ip);
    await beginSession(request, reply, user.id);
    return reply.redirect('/', 303);
  } catch (error) {
    if (!(error instanceof ProblemError) || error.code !== 'validation_failed') {
      if (error instanceof ProblemError && error.code === 'not_found') return linkGone(reply);
      throw error;
    }
    // A password the policy refuses: the link is not spent, the page says why.
    const user = await accountOfLink(db, token);
    if (!user) return linkGone(reply);
    const view = { email: user.email, token, csrfToken: csrfToken(request, reply), error: error.detail };
    return sendPage(reply, { status: 400, title: 'Welcome', body: welcomePage(view) });
  }
}

/** `POST /console/welcome`: sets the new account's password, spends the link, and signs the browser in. */
export function welcomeSubmitRoute(pages: FastifyInstance): void {
  pages.post('/console/welcome', { schema: { hide: true } }, submitWelcome);
}
