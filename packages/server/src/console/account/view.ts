import { MIN_PASSWORD_LENGTH } from '../../domain/passwords.ts';
import type { OrganizationOfUser } from '../../domain/users.ts';
import type { ConsentListing, User } from '../../model/types.ts';
import { csrfField, errorSummary, type FieldErrors, inputField } from '../forms.ts';
import { html, type SafeHtml } from '../html.ts';

/** What the account page shows, and the state of its forms after a refused post. */
export interface AccountView {
  user: User;
  organizations: OrganizationOfUser[];
  apps: ConsentListing[];
  csrf: string;
  notice?: string | undefined;
  /** The display name as typed (a refused change), else the stored one. */
  displayName?: string | undefined;
  errors?: FieldErrors;
}

const ROLE_NAMES = { owner: 'Owner', admin: 'Admin', member: 'Member' } as const;

function organizationItem(o: OrganizationOfUser): SafeHtml {
  const administered = o.role === 'owner' || o.role === 'admin';
  return html`<li class="org-row">
<div><strong>${o.label}</strong> <span class="badge neutral">${ROLE_NAMES[o.role]}</span></div>
${administered ? html`<a href="/o/${o.tenantId}/api-keys">API configuration<span class="visually-hidden"> of ${o.label}</span></a>` : ''}
</li>`;
}

function organizations(view: AccountView): SafeHtml {
  return html`<section class="panel" aria-labelledby="organizations-heading">
<h2 id="organizations-heading">Organizations</h2>
${
  view.organizations.length
    ? html`<ul class="plain rows">${view.organizations.map(organizationItem)}</ul>`
    : html`<p class="muted">You are not a member of any organization yet. An organization’s owner can add you.</p>`
}
</section>`;
}

function profile(view: AccountView): SafeHtml {
  const errors = view.errors ?? {};
  return html`<section class="panel" aria-labelledby="profile-heading">
<h2 id="profile-heading">Profile</h2>
<form method="post" action="/console/profile">
${csrfField(view.csrf)}
${inputField({
  name: 'display_name',
  label: 'Display name',
  value: view.displayName ?? view.user.displayName ?? '',
  hint: 'Shown to the administrators of your organizations. Leave it empty to show your email.',
  error: errors.display_name,
  maxlength: 200,
  autocomplete: 'name',
})}
<div class="actions"><button type="submit">Save name</button></div>
</form>
</section>`;
}

function password(view: AccountView): SafeHtml {
  const errors = view.errors ?? {};
  // Passwords are never written back into the page: a refused form comes back with them empty.
  return html`<section class="panel" aria-labelledby="password-heading">
<h2 id="password-heading">Password</h2>
<form method="post" action="/console/password">
${csrfField(view.csrf)}
<input type="email" name="username" autocomplete="username" value="${view.user.email}" hidden>
${inputField({ name: 'current_password', label: 'Current password', type: 'password', autocomplete: 'current-password', maxlength: 1024, error: errors.current_password })}
${inputField({ name: 'new_password', label: 'New password', type: 'password', autocomplete: 'new-password', maxlength: 1024, hint: `At least ${MIN_PASSWORD_LENGTH} characters.`, error: errors.new_password })}
${inputField({ name: 'confirm_password', label: 'Confirm new password', type: 'password', autocomplete: 'new-password', maxlength: 1024, error: errors.confirm_password })}
<p class="hint">Changing it signs you out everywhere else: other browsers must sign in again with the new password.</p>
<div class="actions"><button type="submit">Change password</button></div>
</form>
</section>`;
}

function appItem(app: ConsentListing, token: string): SafeHtml {
  const since = new Date(app.createdAt).toISOString().slice(0, 10);
  return html`<li class="app-row">
<div><strong>${app.label}</strong><br><span class="muted small">${app.tenantLabel} · ${app.scope} · since ${since}</span></div>
<form method="post" action="/console/consents/${app.publicKey}/revoke">
${csrfField(token)}
<button type="submit" aria-label="Remove access of ${app.label}">Remove access</button>
</form>
</li>`;
}

function apps(view: AccountView): SafeHtml {
  return html`<section class="panel" aria-labelledby="apps-heading">
<h2 id="apps-heading">Applications you allowed</h2>
${
  view.apps.length
    ? html`<p class="muted small">They act for you within what you allowed. Removing access signs the application out.</p>
<ul class="plain apps">${view.apps.map((a) => appItem(a, view.csrf))}</ul>`
    : html`<p class="muted">None yet. When you allow an application to act for you, it is listed here.</p>`
}
</section>`;
}

/** The signed-in user's page: their organizations, name, password, and the applications they allowed. */
export function accountPage(view: AccountView): SafeHtml {
  return html`<div class="page-head"><h1>Your account</h1></div>
<p class="lead">Signed in as <strong>${view.user.email}</strong>.</p>
${view.notice ? html`<p class="notice" role="status">${view.notice}</p>` : ''}
${errorSummary(view.errors ?? {})}
${organizations(view)}
${profile(view)}
${password(view)}
${apps(view)}`;
}
