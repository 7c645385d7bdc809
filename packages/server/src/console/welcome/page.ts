import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { accountOfLink } from '../../domain/sign-in-links.ts';
import { csrfToken } from '../../http/session/csrf.ts';
import { sendErrorPage, sendPage } from '../layout.ts';
import { welcomePage } from './view.ts';

type Request = FastifyRequest<{ Querystring: Record<string, unknown> }>;

/** What an unknown, used or expired link is told: the same for all three. */
export function linkGone(reply: FastifyReply): FastifyReply {
  return sendErrorPage(
    reply,
    404,
    'This link no longer works',
    'Sign-in links work once and for 24 hours. Ask an administrator of your organization for a new one.',
  );
}

async function showWelcome(request: Request, reply: FastifyReply): Promise<FastifyReply> {
  const token = typeof request.query.token === 'string' ? request.query.token : '';
  const user = await accountOfLink(request.server.services.db, token);
  if (!user) return linkGone(reply);
  // Opening the page spends nothing: link previews and scanners fetch links too. Only the form does.
  const body = welcomePage({ email: user.email, token, csrfToken: csrfToken(request, reply) });
  return sendPage(reply, { title: 'Welcome', body });
}

/** `GET /console/welcome?token=…`: the page of a one-time sign-in link. */
export function welcomePageRoute(pages: FastifyInstance): void {
  pages.get<{ Querystring: Record<string, unknown> }>(
    '/console/welcome',
    { schema: { hide: true } },
    showWelcome,
  );
}
