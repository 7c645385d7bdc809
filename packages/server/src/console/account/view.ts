import { CSRF_FIELD } from '../../http/session/csrf.ts';
import type { ConsentListing } from '../../model/types.ts';
import { html, type SafeHtml } from '../html.ts';
import { signOutForm } from '../sign-out.ts';

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
