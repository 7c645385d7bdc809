import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { organizationsOf } from '../domain/users.ts';
import { signedInUser } from './account/signed-in-user.ts';
import { signInPath } from './sign-in/return-to.ts';

/**
 * `GET /`: where the console starts. Signed out: the sign-in page. An owner or admin: the API
 * configuration of their first organization where they are one. Anyone else: their account page.
 */
async function home(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const user = await signedInUser(request);
  if (!user) return reply.redirect(signInPath('/'), 303);
  const organizations = await organizationsOf(request.server.services.db, user.id);
  const administered = organizations.find((o) => o.role === 'owner' || o.role === 'admin');
  return reply.redirect(administered ? `/o/${administered.tenantId}/api-keys` : '/console', 303);
}

export function homeRoute(pages: FastifyInstance): void {
  pages.get('/', { schema: { hide: true } }, home);
}
