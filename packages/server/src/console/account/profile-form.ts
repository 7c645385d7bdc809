import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { updateDisplayName } from '../../domain/accounts.ts';
import { userActor } from '../../domain/audit.ts';
import { ProblemError } from '../../errors/errors.ts';
import { CSRF_FIELD, checkCsrf, formFields } from '../../http/session/csrf.ts';
import { csrfFailure } from '../error-pages.ts';
import { fieldErrorsOf, textOf } from '../forms.ts';
import { signInPath } from '../sign-in/return-to.ts';
import { renderAccount } from './page.ts';
import { signedInUser } from './signed-in-user.ts';

const MAX_USER_AGENT = 512;

const capitalized = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

async function saveName(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const body = formFields(request.body);
  // CSRF first: a forged form changes nothing and learns nothing, signed in or not.
  if (!checkCsrf(request, body[CSRF_FIELD])) return csrfFailure(reply);
  const user = await signedInUser(request);
  if (!user) return reply.redirect(signInPath('/console'), 303);
  const typed = textOf(body.display_name, 1000);
  const { db, caches } = request.server.services;
  const by = {
    ...userActor(user.id, request.ip),
    userAgent: request.headers['user-agent']?.slice(0, MAX_USER_AGENT) ?? null,
  };
  try {
    await updateDisplayName(db, user.id, typed, by, caches);
  } catch (error) {
    if (!(error instanceof ProblemError) || error.code !== 'validation_failed') throw error;
    const errors = fieldErrorsOf(error.errors, { displayName: 'display_name' });
    for (const [name, message] of Object.entries(errors)) errors[name] = `${capitalized(message)}.`;
    return renderAccount(request, reply, user, { displayName: typed, errors, status: 400 });
  }
  return reply.redirect('/console?done=name', 303);
}

/** `POST /console/profile`: the account page's display name form. */
export function profileFormRoute(pages: FastifyInstance): void {
  pages.post('/console/profile', { schema: { hide: true } }, saveName);
}
