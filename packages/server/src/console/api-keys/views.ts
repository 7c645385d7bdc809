import { ID_TOKEN_ALGORITHMS, keyStatus } from '../../domain/api-keys.ts';
import type { ApiKey, ClientType, IdTokenAlgorithm, Permission, Workspace } from '../../model/types.ts';
import { type Choice, type FieldErrors, inputField, selectField, textAreaField } from '../forms.ts';
import { html, type SafeHtml } from '../html.ts';

/** A key's status as people read it: active, revoked or expired. */
export function statusOf(key: ApiKey, now = Date.now()): 'active' | 'revoked' | 'expired' {
  const failure = keyStatus(key, now);
  return failure === 'revoked' ? 'revoked' : failure === 'expired' ? 'expired' : 'active';
}

const STATUS_NAMES = { active: 'Active', revoked: 'Revoked', expired: 'Expired' } as const;

export function statusBadge(key: ApiKey, now = Date.now()): SafeHtml {
  const status = statusOf(key, now);
  return html`<span class="badge ${status}">${STATUS_NAMES[status]}</span>`;
}

export const PERMISSION_NAMES: Record<Permission, string> = {
  read: 'Read',
  write: 'Read and write',
  admin: 'Admin',
};

/** What a key reaches: the whole organization, or one workspace by name. */
export function scopeName(key: ApiKey, workspaces: ReadonlyMap<number, Workspace>): string {
  if (key.workspaceId === null) return 'Whole organization';
  return workspaces.get(key.workspaceId)?.label ?? `Workspace ${key.workspaceId}`;
}

/** A value with a copy button (shown by the console's script; the value is selectable without it). */
export function copyable(id: string, value: string, label: string): SafeHtml {
  return html`<span class="copyable"><code id="${id}">${value}</code><button type="button" class="copy" data-copy="${id}" hidden aria-label="Copy ${label}">Copy</button></span>`;
}

/** The one time a private key is shown: with a copy button, and the warning that it will not be again. */
export function secretPanel(title: string, secret: string, usage: SafeHtml | string = ''): SafeHtml {
  return html`<section class="secret" aria-labelledby="secret-title">
<h2 id="secret-title">${title}</h2>
<p><strong>Copy it now: you will not see this again.</strong> Gatehouse keeps only a hash of it.</p>
<div class="copyable"><code id="private-key">${secret}</code><button type="button" class="copy" data-copy="private-key" hidden aria-label="Copy the private key">Copy</button></div>
${usage}
</section>`;
}

export const CLIENT_TYPE_NAMES: Record<ClientType, string> = {
  confidential: 'Confidential',
  public: 'Public',
};

/** A public client's mark beside its label (list and page): it has no private key, so it reads differently. */
export function clientTypeBadge(key: ApiKey): SafeHtml | string {
  return key.clientType === 'public'
    ? html` <span class="badge neutral" title="A public client: no private key">Public</span>`
    : '';
}

/** The settings a key keeps after creation (and may change), as typed into its form. */
export interface KeySettingsInput {
  label: string;
  redirectUris: string;
  corsOrigins: string;
  postLogoutRedirectUris: string;
  idTokenSignedResponseAlg: string;
}

export function settingsOf(key: ApiKey): KeySettingsInput {
  return {
    label: key.label,
    redirectUris: key.redirectUris.join('\n'),
    corsOrigins: key.corsOrigins.join('\n'),
    postLogoutRedirectUris: key.postLogoutRedirectUris.join('\n'),
    idTokenSignedResponseAlg: key.idTokenSignedResponseAlg,
  };
}

const ID_TOKEN_CHOICES: Record<IdTokenAlgorithm, string> = {
  RS256: 'RS256 (RSA; every OpenID client supports it)',
  ES256: 'ES256 (elliptic curve; smaller tokens)',
};

/**
 * Label, redirect URLs, post-logout redirect URLs, CORS origins and ID token algorithm: the fields of
 * both the new-key form and the key page.
 */
export function settingsFields(input: KeySettingsInput, errors: FieldErrors): SafeHtml {
  return html`${inputField({ name: 'label', label: 'Label', value: input.label, error: errors.label, required: true, maxlength: 200, hint: 'Say who uses it, e.g. “Reporting dashboard”.' })}
${textAreaField({
  name: 'redirectUris',
  label: 'Redirect URLs',
  value: input.redirectUris,
  error: errors.redirectUris,
  rows: 3,
  hint: 'For the authorization code flow: one per line, https (http only on 127.0.0.1 or localhost), matched exactly.',
})}
${textAreaField({
  name: 'postLogoutRedirectUris',
  label: 'Post-logout redirect URLs',
  value: input.postLogoutRedirectUris,
  error: errors.postLogoutRedirectUris,
  rows: 2,
  hint: 'Where signing out (OpenID Connect RP-initiated logout) may send people back: one per line, like the redirect URLs, matched exactly.',
})}
${textAreaField({
  name: 'corsOrigins',
  label: 'Allowed CORS origins',
  value: input.corsOrigins,
  error: errors.corsOrigins,
  rows: 3,
  hint: 'Web apps that call the API from the browser: one per line, scheme://host[:port], e.g. https://app.example.',
})}
${selectField({
  name: 'idTokenSignedResponseAlg',
  label: 'ID token algorithm',
  value: input.idTokenSignedResponseAlg,
  choices: ID_TOKEN_ALGORITHMS.map((alg) => ({ value: alg, label: ID_TOKEN_CHOICES[alg] })),
  error: errors.idTokenSignedResponseAlg,
  hint: 'How the ID tokens of OpenID Connect sign-ins are signed for this app.',
})}`;
}

/** The new-key form's fields besides the settings. */
export interface NewKeyInput extends KeySettingsInput {
  clientType: string;
  scope: string;
  permissions: string;
  expiresOn: string;
}

export function scopeField(
  value: string,
  workspaces: readonly Workspace[],
  error: string | undefined,
  more: boolean,
): SafeHtml {
  const choices: Choice[] = [
    { value: '', label: 'Whole organization' },
    ...workspaces.map((w) => ({
      value: String(w.id),
      label: `Workspace: ${w.label}${w.state === 'Archived' ? ' (archived)' : ''}`,
    })),
  ];
  return selectField({
    name: 'scope',
    label: 'Scope',
    value,
    choices,
    error,
    hint: more
      ? 'The first 1,000 workspaces by name are listed.'
      : 'A workspace key reaches that workspace only.',
  });
}

export function permissionsField(value: string, mayGrantAdmin: boolean, error: string | undefined): SafeHtml {
  const choices = [
    { value: 'read', label: 'Read', hint: 'GET only.' },
    { value: 'write', label: 'Read and write', hint: 'Reads and changes data.' },
    ...(mayGrantAdmin
      ? [
          {
            value: 'admin',
            label: 'Admin',
            hint: "Also manages the organization's keys, members and workspaces (whole organization only).",
          },
        ]
      : []),
  ];
  return html`<fieldset class="field${error ? ' has-error' : ''}"${error ? html` aria-describedby="permissions-error"` : ''}>
<legend>Permissions</legend>
${choices.map(
  (c) =>
    html`<label class="choice"><input type="radio" name="permissions" value="${c.value}"${c.value === value ? html` checked` : ''}><span>${c.label}<br><span class="muted small">${c.hint}</span></span></label>`,
)}
${error ? html`<p class="field-error" id="permissions-error">${error}</p>` : ''}
</fieldset>`;
}

export function expiryField(value: string, error: string | undefined): SafeHtml {
  return inputField({
    name: 'expiresOn',
    label: 'Expires on (optional)',
    type: 'date',
    value,
    error,
    hint: 'The key stops working at 00:00 UTC that day. Leave empty for a key that does not expire.',
  });
}

const CLIENT_TYPE_CHOICES = [
  { value: 'confidential', label: 'Confidential', hint: 'A server that can keep a private key.' },
  {
    value: 'public',
    label: 'Public',
    hint: 'A single-page or native app; no private key, PKCE required.',
  },
] as const;

/** Confidential or public, each with what it means: chosen once, at creation. */
export function clientTypeField(value: string, error: string | undefined): SafeHtml {
  return html`<fieldset class="field${error ? ' has-error' : ''}"${error ? html` aria-describedby="clientType-error"` : ''}>
<legend>Client type</legend>
${CLIENT_TYPE_CHOICES.map(
  (c) =>
    html`<label class="choice"><input type="radio" name="clientType" value="${c.value}"${c.value === value ? html` checked` : ''}><span>${c.label}<br><span class="muted small">${c.hint}</span></span></label>`,
)}
<p class="hint">Set once: it cannot be changed later.</p>
${error ? html`<p class="field-error" id="clientType-error">${error}</p>` : ''}
</fieldset>`;
}
