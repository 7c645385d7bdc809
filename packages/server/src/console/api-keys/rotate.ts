import type { FastifyInstance, FastifyReply } from 'fastify';
import { rotateApiKey } from '../../domain/api-keys.ts';
import { ProblemError } from '../../errors/errors.ts';
import { formFields } from '../../http/session/csrf.ts';
import { textOf } from '../forms.ts';
import { adminForm, orgOf, orgPath } from '../org/access.ts';
import { stashSecret } from '../reveal.ts';
import { GRACE_CHOICES, type KeyRequest, type KeyRoute, keyOfPath, renderKeyPage } from './show.ts';

async function rotate(request: KeyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const context = orgOf(request);
  const key = await keyOfPath(request, context);
  const grace = textOf(formFields(request.body).grace, 10);
  const refuse = (rotateError: string, status: number) =>
    renderKeyPage(request, reply, context, key, { rotateError, grace, status });
  if (!GRACE_CHOICES.some((c) => c.value === grace))
    return refuse('Choose a grace period from the list.', 400);
  const { db, caches } = request.server.services;
  try {
    const issued = await rotateApiKey(db, key.publicKey, Number(grace) * 1000, context.actor, {
      tenantId: context.organization.tenantId,
      caches,
    });
    const page = orgPath(context, `/api-keys/${key.publicKey}`);
    stashSecret(reply, page, context.user.id, { kind: 'rotated', secret: issued.privateKey });
    return reply.redirect(page, 303);
  } catch (error) {
    // An admin rotating an admin key, a revoked key, a rotation racing this one: nothing was issued.
    if (error instanceof ProblemError && ['forbidden', 'conflict'].includes(error.code))
      return refuse(error.detail ?? 'This key cannot be rotated.', error.status);
    throw error;
  }
}

/** `POST /o/:tenantId/api-keys/:publicKey/rotate`: a new private key, shown once on the key's page. */
export function rotateKeyRoute(pages: FastifyInstance): void {
  pages.post<KeyRoute>(
    '/o/:tenantId/api-keys/:publicKey/rotate',
    { preHandler: adminForm, schema: { hide: true } },
    rotate,
  );
}
