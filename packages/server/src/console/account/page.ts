import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { listAuthorizedApps } from '../../domain/consents.ts';
import { csrfToken } from '../../http/session/csrf.ts';
import { sendPage } from '../layout.ts';
import { signInPath } from '../sign-in/return-to.ts';
import { signedInUser } from './signed-in-user.ts';
import { accountPage } from './view.ts';

async function showAccount(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const user = await signedInUser(request);
  if (!user) return reply.redirect(signInPath('/console'), 303);
  const apps = await listAuthorizedApps(request.server.services.db, user.id);
  return sendPage(reply, {
    title: 'Your account',
    body: accountPage(user.email, apps, csrfToken(request, reply)),
  });
}

/** `GET /console`: the signed-in user's account page. */
export function accountPageRoute(pages: FastifyInstance): void {
  pages.get('/console', { schema: { hide: true } }, showAccount);
}
