import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { listAuthorizedApps } from '../../domain/consents.ts';
import { organizationsOf } from '../../domain/users.ts';
import { csrfToken } from '../../http/session/csrf.ts';
import type { User } from '../../model/types.ts';
import type { FieldErrors } from '../forms.ts';
import { sendPage } from '../layout.ts';
import { signInPath } from '../sign-in/return-to.ts';
import { accountFrame } from './frame.ts';
import { signedInUser } from './signed-in-user.ts';
import { accountPage } from './view.ts';

/** The notices of `?done=`: fixed texts, never anything from the URL. */
const NOTICES: Record<string, string> = {
  name: 'Your display name is saved.',
  password: 'Your password is changed. Every other browser signed in to your account was signed out.',
};

/** What a refused form brings back to the page. */
export interface AccountFormState {
  displayName?: string;
  errors?: FieldErrors;
  status?: number;
  headers?: Record<string, string>;
}

/** Renders the account page of `user`, with the state of a refused form if any. */
export async function renderAccount(
  request: FastifyRequest,
  reply: FastifyReply,
  user: User,
  state: AccountFormState & { notice?: string | undefined } = {},
): Promise<FastifyReply> {
  const { db } = request.server.services;
  const [organizations, apps] = await Promise.all([
    organizationsOf(db, user.id),
    listAuthorizedApps(db, user.id),
  ]);
  const csrf = csrfToken(request, reply);
  const body = accountPage({
    user,
    organizations,
    apps,
    csrf,
    notice: state.notice,
    displayName: state.displayName,
    errors: state.errors ?? {},
  });
  if (state.headers) reply.headers(state.headers);
  const title = 'Your account';
  return sendPage(reply, {
    title,
    body,
    status: state.status ?? 200,
    document: accountFrame(title, user.email, csrf, body),
  });
}

async function showAccount(
  request: FastifyRequest<{ Querystring: { done?: unknown } }>,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const user = await signedInUser(request);
  if (!user) return reply.redirect(signInPath('/console'), 303);
  const done = request.query.done;
  const notice = typeof done === 'string' && Object.hasOwn(NOTICES, done) ? NOTICES[done] : undefined;
  return renderAccount(request, reply, user, { notice });
}

/** `GET /console`: the signed-in user's account page (any member, whatever their role). */
export function accountPageRoute(pages: FastifyInstance): void {
  pages.get<{ Querystring: { done?: unknown } }>('/console', { schema: { hide: true } }, showAccount);
}
