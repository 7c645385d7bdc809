import { CSRF_FIELD } from '../../http/session/csrf.ts';
import type { ApiKey, User, Workspace } from '../../model/types.ts';
import { html, type SafeHtml } from '../html.ts';

/** What each scope value lets the application do, in the words the consent page uses. */
export const SCOPE_TEXT: Record<string, { title: string; detail: string }> = {
  api1: {
    title: 'Use the Gatehouse API as you',
    detail: 'Read and change the data of the workspaces listed above, with the rights of your account.',
  },
  openid: {
    title: 'Sign you in',
    detail: 'Know who you are: your Gatehouse account identifier.',
  },
  profile: {
    title: 'See your name',
    detail: 'The display name of your account.',
  },
  email: {
    title: 'See your email address',
    detail: 'The address you sign in with.',
  },
  offline_access: {
    title: 'Stay connected',
    detail: 'Keep this access when you are not signed in, until you remove it.',
  },
};

export interface ConsentView {
  client: ApiKey;
  tenantLabel: string;
  user: User;
  scopes: string[];
  /** Workspaces the application will reach; null: all of the organization's (now and future). */
  workspaces: Workspace[] | null;
  /** The authorization request's parameters, posted back with the decision. */
  params: Record<string, string>;
  csrfToken: string;
}

function hiddenFields(params: Record<string, string>): SafeHtml[] {
  return Object.entries(params).map(
    ([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`,
  );
}

function workspaceText(view: ConsentView): SafeHtml {
  if (view.workspaces === null) return html`All workspaces of ${view.tenantLabel}`;
  return html`<ul class="plain">${view.workspaces.map((w) => html`<li>${w.label}</li>`)}</ul>`;
}

/**
 * The consent page. Every value shown comes through `html`, so that a key label such as
 * `<script>alert(1)</script>` is displayed as text (the label is chosen by whoever created the key).
 */
export function consentPage(view: ConsentView): SafeHtml {
  const app = view.client.label;
  const destination = new URL(view.params.redirect_uri ?? '').host;
  return html`<h1>Allow <span class="app">${app}</span> to access your account?</h1>
<p class="lead"><strong>${app}</strong> is an application registered by <strong>${view.tenantLabel}</strong>.</p>
<dl class="facts">
<dt>Signed in as</dt><dd>${view.user.email}</dd>
<dt>Organization</dt><dd>${view.tenantLabel}</dd>
<dt>Workspaces</dt><dd>${workspaceText(view)}</dd>
</dl>
<h2>It will be able to</h2>
<ul class="scopes">
${view.scopes.map((s) => {
  const text = SCOPE_TEXT[s];
  return html`<li><strong>${text?.title ?? s}</strong> <span class="scope">${s}</span><br><span class="muted">${text?.detail ?? ''}</span></li>`;
})}
</ul>
<form method="post" action="/console/consent">
${hiddenFields(view.params)}
<input type="hidden" name="${CSRF_FIELD}" value="${view.csrfToken}">
<div class="actions">
<button type="submit" name="decision" value="allow" class="primary">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button>
</div>
</form>
<p class="muted small">You will be sent back to <strong>${destination}</strong>. You can remove this access at any time from <a href="/console">your account</a>.</p>`;
}
