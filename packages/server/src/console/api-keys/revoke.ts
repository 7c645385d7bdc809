import type { FastifyInstance, FastifyReply } from 'fastify';
import { revokeApiKey } from '../../domain/api-keys.ts';
import { csrfField } from '../forms.ts';
import { html } from '../html.ts';
import { adminForm, adminPage, orgOf, orgPath } from '../org/access.ts';
import { sendShellPage } from '../shell.ts';
import { type KeyRequest, type KeyRoute, keyOfPath } from './show.ts';

async function confirmRevoke(request: KeyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const context = orgOf(request);
  const key = await keyOfPath(request, context);
  const keyPage = orgPath(context, `/api-keys/${key.publicKey}`);
  if (key.revokedAt !== null) return reply.redirect(keyPage, 303);
  const body = html`<div class="page-head"><div><p class="small"><a href="${keyPage}">${key.label}</a></p>
<h1>Revoke “${key.label}”?</h1></div></div>
<section class="panel danger">
<p>Every request with this key, its access tokens and its refresh tokens will be refused at once, on every instance. Apps that use it as an OAuth client stop working. <strong>This cannot be undone.</strong></p>
<p class="small muted">Public key <code>${key.publicKey}</code></p>
<form method="post" action="${orgPath(context, `/api-keys/${key.publicKey}/revoke`)}">
${csrfField(context.csrf)}
<div class="actions"><button type="submit" class="danger">Revoke key</button><a class="button secondary" href="${keyPage}">Cancel</a></div>
</form>
</section>`;
  return sendShellPage(reply, context, { title: `Revoke ${key.label}`, section: 'api-keys', body });
}

async function revoke(request: KeyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const context = orgOf(request);
  const key = await keyOfPath(request, context);
  const { db, caches } = request.server.services;
  // Any refusal (none is expected of an owner or admin: revoking takes power away) is an error page.
  await revokeApiKey(db, key.publicKey, context.actor, { tenantId: context.organization.tenantId, caches });
  return reply.redirect(`${orgPath(context, '/api-keys')}?done=revoked`, 303);
}

/** `GET` (the confirmation) and `POST /o/:tenantId/api-keys/:publicKey/revoke`: revokes a key at once. */
export function revokeKeyRoutes(pages: FastifyInstance): void {
  pages.get<KeyRoute>(
    '/o/:tenantId/api-keys/:publicKey/revoke',
    { preHandler: adminPage, schema: { hide: true } },
    confirmRevoke,
  );
  pages.post<KeyRoute>(
    '/o/:tenantId/api-keys/:publicKey/revoke',
    { preHandler: adminForm, schema: { hide: true } },
    revoke,
  );
}
