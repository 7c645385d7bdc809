import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { renderSignIn } from './render.ts';
import { loginHintOf, type SignInReason, safeReturnTo } from './return-to.ts';

const NOTICES: Record<SignInReason, string> = {
  not_member:
    'The account you are signed in with is not a member of the organization of this application. Sign in with another account.',
  signed_out: 'You are signed out.',
};

function showSignIn(
  request: FastifyRequest<{ Querystring: Record<string, unknown> }>,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const reason = request.query.reason;
  const notice = reason === 'not_member' || reason === 'signed_out' ? NOTICES[reason] : undefined;
  const returnTo = safeReturnTo(request.query.return_to);
  return renderSignIn(request, reply, { email: loginHintOf(returnTo), returnTo, notice });
}

/** `GET /console/sign-in`: the email and password form (DESIGN.md 3 rule 8). */
export function signInPageRoute(pages: FastifyInstance): void {
  pages.get<{ Querystring: Record<string, unknown> }>(
    '/console/sign-in',
    { schema: { hide: true } },
    showSignIn,
  );
}
