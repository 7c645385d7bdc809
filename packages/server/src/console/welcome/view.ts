import { CSRF_FIELD } from '../../http/session/csrf.ts';
import { html, type SafeHtml } from '../html.ts';

export interface WelcomeView {
  email: string;
  token: string;
  csrfToken: string;
  error?: string | undefined;
}

/** The page a one-time sign-in link opens: the new account chooses its password, then is signed in. */
export function welcomePage(view: WelcomeView): SafeHtml {
  return html`<h1>Welcome</h1>
<p class="lead">Choose a password for <strong>${view.email}</strong>. This link works once.</p>
${view.error ? html`<p class="error" role="alert" id="welcome-error">${view.error}</p>` : ''}
<form method="post" action="/console/welcome">
<input type="hidden" name="${CSRF_FIELD}" value="${view.csrfToken}">
<input type="hidden" name="token" value="${view.token}">
<input type="hidden" name="username" value="${view.email}" autocomplete="username">
<label for="password">New password (12 characters or more)</label>
<input id="password" name="password" type="password" autocomplete="new-password" required minlength="12" maxlength="1024"${view.error ? html` aria-describedby="welcome-error"` : ''}>
<div class="actions"><button type="submit" class="primary">Set password and sign in</button></div>
</form>`;
}
