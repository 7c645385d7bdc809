import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { changePassword } from '../../domain/accounts.ts';
import { userActor } from '../../domain/audit.ts';
import { passwordProblem } from '../../domain/passwords.ts';
import { setSessionCookie } from '../../http/session/cookies.ts';
import { CSRF_FIELD, checkCsrf, formFields } from '../../http/session/csrf.ts';
import type { User } from '../../model/types.ts';
import { csrfFailure } from '../error-pages.ts';
import { type FieldErrors, textOf } from '../forms.ts';
import { signInPath } from '../sign-in/return-to.ts';
import { renderAccount } from './page.ts';
import { signedInUser } from './signed-in-user.ts';

const MAX_PASSWORD = 1024;
const MAX_USER_AGENT = 512;

interface PasswordForm {
  current: string;
  next: string;
  confirmation: string;
}

const sentence = (text: string) => `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;

/**
 * What is wrong with the form on its face, before any password is checked: nothing here depends on the
 * current password, so these answers tell nothing about it, and cost no attempt of the budget.
 */
function formErrors(form: PasswordForm): FieldErrors {
  const errors: FieldErrors = {};
  if (!form.current) errors.current_password = 'Enter your current password.';
  const problem = passwordProblem(form.next);
  if (problem) errors.new_password = sentence(problem);
  else if (form.next === form.current)
    errors.new_password = 'Choose a password different from the current one.';
  if (!errors.new_password && form.confirmation !== form.next)
    errors.confirm_password = 'The two new passwords do not match.';
  return errors;
}

function refused(
  request: FastifyRequest,
  reply: FastifyReply,
  user: User,
  errors: FieldErrors,
  status = 400,
) {
  return renderAccount(request, reply, user, { errors, status });
}

async function submitPassword(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const body = formFields(request.body);
  // CSRF first: a forged form changes nothing and learns nothing, signed in or not.
  if (!checkCsrf(request, body[CSRF_FIELD])) return csrfFailure(reply);
  const user = await signedInUser(request);
  if (!user) return reply.redirect(signInPath('/console'), 303);
  const form = {
    current: textOf(body.current_password, MAX_PASSWORD),
    next: textOf(body.new_password, MAX_PASSWORD + 1),
    confirmation: textOf(body.confirm_password, MAX_PASSWORD + 1),
  };
  const errors = formErrors(form);
  if (Object.keys(errors).length) return refused(request, reply, user, errors);
  const { db, signInThrottle } = request.server.services;
  const by = {
    ...userActor(user.id, request.ip),
    userAgent: request.headers['user-agent']?.slice(0, MAX_USER_AGENT) ?? null,
  };
  const input = { user, currentPassword: form.current, newPassword: form.next, ip: request.ip };
  const outcome = await changePassword(db, signInThrottle, input, by);
  switch (outcome.kind) {
    case 'weak_password':
      return refused(request, reply, user, { new_password: sentence(outcome.problem) });
    case 'wrong_password':
      return refused(request, reply, user, { current_password: 'Your current password is not correct.' });
    case 'throttled': {
      const minutes = Math.ceil(outcome.retryAfterSeconds / 60);
      const message = `Too many wrong passwords. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`;
      const headers = { 'retry-after': String(outcome.retryAfterSeconds) };
      return renderAccount(request, reply, user, {
        errors: { current_password: message },
        status: 429,
        headers,
      });
    }
    case 'busy': {
      const headers = { 'retry-after': String(outcome.retryAfterSeconds) };
      const message = 'The server is busy checking passwords. Try again in a moment.';
      return renderAccount(request, reply, user, {
        errors: { current_password: message },
        status: 503,
        headers,
      });
    }
    case 'changed':
      // Every session ended, this browser's too: it continues on the fresh one.
      setSessionCookie(reply, outcome.sessionToken);
      return reply.redirect('/console?done=password', 303);
  }
}

/** `POST /console/password`: changes the signed-in user's password (the current one is required). */
export function passwordFormRoute(pages: FastifyInstance): void {
  pages.post('/console/password', { schema: { hide: true } }, submitPassword);
}
