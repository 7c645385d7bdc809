import { CSRF_FIELD } from '../../http/session/csrf.ts';
import { html, type SafeHtml } from '../html.ts';

export interface SignInView {
  email: string;
  returnTo: string;
  csrfToken: string;
  error?: string | undefined;
  notice?: string | undefined;
  context?: { app: string; organization: string } | undefined;
}

/** The email and password form; `context` names the application and organization the sign-in is for. */
export function signInPage(view: SignInView): SafeHtml {
  return html`<h1>Sign in</h1>
${view.context ? html`<p class="lead">to continue to <strong>${view.context.app}</strong> (${view.context.organization})</p>` : ''}
${view.notice ? html`<p class="notice" role="status">${view.notice}</p>` : ''}
${view.error ? html`<p class="error" role="alert" id="sign-in-error">${view.error}</p>` : ''}
<form method="post" action="/console/sign-in">
<input type="hidden" name="${CSRF_FIELD}" value="${view.csrfToken}">
<input type="hidden" name="return_to" value="${view.returnTo}">
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="username" required maxlength="254" value="${view.email}"${view.error ? html` aria-describedby="sign-in-error"` : ''}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required maxlength="1024">
<div class="actions"><button type="submit" class="primary">Sign in</button></div>
</form>`;
}
