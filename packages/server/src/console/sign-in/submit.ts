import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { signIn } from '../../domain/sign-in.ts';
import { CSRF_FIELD, checkCsrf, formFields } from '../../http/session/csrf.ts';
import { beginSession } from '../../http/session/session.ts';
import { csrfFailure } from '../error-pages.ts';
import { sendErrorPage } from '../layout.ts';
import { renderSignIn, signInTarget } from './render.ts';
import { safeReturnTo } from './return-to.ts';

function field(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  return typeof value === 'string' ? value : '';
}

async function submitSignIn(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const body = formFields(request.body);
  if (!checkCsrf(request, body[CSRF_FIELD])) return csrfFailure(reply);
  const email = field(body, 'email').trim().slice(0, 254);
  const password = field(body, 'password').slice(0, 1024);
  const returnTo = safeReturnTo(body.return_to);
  const client = (await signInTarget(request, returnTo))?.client;
  const { db, signInThrottle } = request.server.services;
  const outcome = await signIn(db, signInThrottle, { email, password, ip: request.ip, client });
  switch (outcome.kind) {
    case 'throttled':
      return sendErrorPage(
        reply,
        429,
        'Too many attempts',
        `Too many failed sign-ins. Try again in ${Math.ceil(outcome.retryAfterSeconds / 60)} minutes.`,
        { 'retry-after': String(outcome.retryAfterSeconds) },
      );
    case 'busy':
      return sendErrorPage(
        reply,
        503,
        'Busy',
        'Many people are signing in right now. Try again in a moment.',
        {
          'retry-after': String(outcome.retryAfterSeconds),
        },
      );
    case 'failed':
      // One answer for an unknown account and a wrong password (DESIGN.md 3 rule 8).
      return renderSignIn(request, reply, { email, returnTo, error: 'Incorrect email or password.' }, 400);
    case 'not_member':
      return renderSignIn(
        request,
        reply,
        { email, returnTo, error: 'This account is not a member of the organization of this application.' },
        403,
      );
    case 'ok':
      await beginSession(request, reply, outcome.user.id);
      return reply.redirect(returnTo, 303);
  }
}

/** `POST /console/sign-in`: checks the password within the sign-in budgets, then starts a session. */
export function signInSubmitRoute(pages: FastifyInstance): void {
  pages.post('/console/sign-in', { schema: { hide: true } }, submitSignIn);
}
