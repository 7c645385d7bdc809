import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { listAuthorizedApps, revokeConsent } from '../domain/consents.ts';
import { oauthOf } from '../oauth/runtime.ts';
import type { ConsentListing } from '../storage/repositories/consents.ts';
import { findUserById } from '../storage/repositories/users.ts';
import { CSRF_FIELD, checkCsrf, csrfFailure, csrfToken, formFields } from './csrf.ts';
import { html, type SafeHtml } from './html.ts';
import { sendPage } from './layout.ts';
import { currentSession } from './session-cookie.ts';
import { signInPath } from './sign-in.ts';
import { signOutForm } from './sign-out.ts';

const PUBLIC_KEY = /^gpk_[0-9A-Za-z]{24}$/;

function appItem(app: ConsentListing, token: string): SafeHtml {
  const since = new Date(app.createdAt).toISOString().slice(0, 10);
  return html`<li class="app-row">
<div><strong>${app.label}</strong><br><span class="muted small">${app.tenantLabel} · ${app.scope} · since ${since}</span></div>
<form method="post" action="/console/consents/${app.publicKey}/revoke">
<input type="hidden" name="${CSRF_FIELD}" value="${token}">
<button type="submit" aria-label="Remove access of ${app.label}">Remove access</button>
</form>
</li>`;
}

/** The signed-in user's page: who they are, the applications they authorized (revocable), sign-out. */
export function accountPage(email: string, apps: ConsentListing[], token: string): SafeHtml {
  return html`<h1>Your account</h1>
<p class="lead">Signed in as <strong>${email}</strong>.</p>
<h2>Applications you authorized</h2>
${
  apps.length
    ? html`<ul class="plain apps">${apps.map((a) => appItem(a, token))}</ul>`
    : html`<p class="muted">None yet.</p>`
}
${signOutForm(token)}`;
}

async function signedInUser(request: FastifyRequest) {
  const session = await currentSession(request);
  return session && findUserById(request.server.services.db, session.userId);
}

async function revoke(
  request: FastifyRequest<{ Params: { publicKey: string } }>,
  reply: FastifyReply,
  token: unknown,
) {
  if (!checkCsrf(request, token)) return { done: false as const, reply: csrfFailure(reply) };
  const user = await signedInUser(request);
  if (!user) return { done: false as const, reply: reply.redirect(signInPath('/console'), 303) };
  const { publicKey } = request.params;
  const removed =
    PUBLIC_KEY.test(publicKey) &&
    (await revokeConsent(
      request.server.services.db,
      oauthOf(request.server.services).denylist,
      user.id,
      publicKey,
      {
        actor: `user:${user.id}`,
        ip: request.ip,
      },
    ));
  return { done: true as const, removed };
}

/**
 * `GET /console`, and consent revocation for the signed-in user: `POST /console/consents/:publicKey/revoke`
 * (the page's form) and `DELETE /console/consents/:publicKey` (with the token in `X-CSRF-Token`).
 */
export function accountRoutes(app: FastifyInstance): void {
  app.get('/console', { schema: { hide: true } }, async (request, reply) => {
    const user = await signedInUser(request);
    if (!user) return reply.redirect(signInPath('/console'), 303);
    const apps = await listAuthorizedApps(app.services.db, user.id);
    return sendPage(reply, {
      title: 'Your account',
      body: accountPage(user.email, apps, csrfToken(request, reply)),
    });
  });

  app.post<{ Params: { publicKey: string } }>(
    '/console/consents/:publicKey/revoke',
    { schema: { hide: true } },
    async (request, reply) => {
      const result = await revoke(request, reply, formFields(request.body)[CSRF_FIELD]);
      return result.done ? reply.redirect('/console', 303) : result.reply;
    },
  );

  app.delete<{ Params: { publicKey: string } }>(
    '/console/consents/:publicKey',
    { schema: { hide: true } },
    async (request, reply) => {
      const result = await revoke(request, reply, request.headers['x-csrf-token']);
      if (!result.done) return result.reply;
      return result.removed
        ? reply.code(204).send()
        : sendPage(reply, {
            status: 404,
            title: 'Not found',
            body: html`<h1>Not found</h1><p>No such authorization.</p>`,
          });
    },
  );
}
