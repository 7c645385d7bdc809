import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CSRF_FIELD, formFields } from '../../http/session/csrf.ts';
import { removeAccess } from './remove-access.ts';

type Request = FastifyRequest<{ Params: { publicKey: string } }>;

async function submitRemoval(request: Request, reply: FastifyReply): Promise<FastifyReply> {
  const result = await removeAccess(request, reply, formFields(request.body)[CSRF_FIELD]);
  return result.done ? reply.redirect('/console', 303) : result.reply;
}

/** `POST /console/consents/:publicKey/revoke`: the account page's "Remove access" button. */
export function removeAccessFormRoute(pages: FastifyInstance): void {
  pages.post<{ Params: { publicKey: string } }>(
    '/console/consents/:publicKey/revoke',
    { schema: { hide: true } },
    submitRemoval,
  );
}
