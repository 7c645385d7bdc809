import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { html } from '../html.ts';
import { sendPage } from '../layout.ts';
import { removeAccess } from './remove-access.ts';

type Request = FastifyRequest<{ Params: { publicKey: string } }>;

async function deleteConsent(request: Request, reply: FastifyReply): Promise<FastifyReply> {
  const result = await removeAccess(request, reply, request.headers['x-csrf-token']);
  if (!result.done) return result.reply;
  if (result.removed) return reply.code(204).send();
  return sendPage(reply, {
    status: 404,
    title: 'Not found',
    body: html`<h1>Not found</h1><p>No such authorization.</p>`,
  });
}

/** `DELETE /console/consents/:publicKey`, for scripts of the page's own origin (token in `X-CSRF-Token`). */
export function removeAccessRequestRoute(pages: FastifyInstance): void {
  pages.delete<{ Params: { publicKey: string } }>(
    '/console/consents/:publicKey',
    { schema: { hide: true } },
    deleteConsent,
  );
}
