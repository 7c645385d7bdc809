import { CSRF_FIELD } from '../../http/session/csrf.ts';
import type { ApiKey } from '../../model/types.ts';
import { html, type SafeHtml } from '../html.ts';

/** Where the confirmation form posts: the console's own page route, like the consent form's. */
export const CONFIRM_PATH = '/console/end-session';

export interface ConfirmationView {
  /** The application that asked, when it is known and live. */
  client: ApiKey | null;
  /** The email of the signed-in user, so that they know which account they leave. */
  email: string | null;
  /** The logout request's parameters, posted back with the answer and validated again. */
  params: Record<string, string>;
  csrfToken: string;
}

function hiddenFields(params: Record<string, string>): SafeHtml[] {
  return Object.entries(params).map(
    ([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`,
  );
}

/**
 * "Sign out of Gatehouse?": a logout request without a hint that proves it concerns this session
 * (RP-Initiated Logout 1.0 section 6) is confirmed by the user, with a CSRF-protected form. Every value
 * shown comes through `html`: a key label is chosen by whoever created the key.
 */
export function confirmationPage(view: ConfirmationView): SafeHtml {
  const asker = view.client
    ? html`<p class="lead"><strong>${view.client.label}</strong> asks to sign you out of Gatehouse.</p>`
    : html`<p class="lead">An application asks to sign you out of Gatehouse.</p>`;
  return html`<h1>Sign out of Gatehouse?</h1>
${asker}
${view.email ? html`<dl class="facts"><dt>Signed in as</dt><dd>${view.email}</dd></dl>` : ''}
<form method="post" action="${CONFIRM_PATH}">
${hiddenFields(view.params)}
<input type="hidden" name="${CSRF_FIELD}" value="${view.csrfToken}">
<div class="actions">
<button type="submit" class="primary">Sign out</button>
<a href="/console">Stay signed in</a>
</div>
</form>`;
}

/** The page after a logout that has no registered place to return to. */
export function signedOutPage(client: ApiKey | null): SafeHtml {
  return html`<h1>You are signed out</h1>
<p class="lead">${
    client
      ? html`You signed out of Gatehouse from <strong>${client.label}</strong>.`
      : 'You are no longer signed in to Gatehouse in this browser.'
  }</p>
<p><a href="/console/sign-in">Sign in again</a></p>`;
}
