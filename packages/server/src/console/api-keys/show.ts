import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { getKeyListing } from '../../domain/api-keys.ts';
import { membersNamed, nameOf } from '../../domain/audit-names.ts';
import { isPublicKey } from '../../domain/key-format.ts';
import { workspacesById } from '../../domain/workspaces.ts';
import { ProblemError } from '../../errors/errors.ts';
import type { ApiKeyListing } from '../../model/types.ts';
import { csrfField, errorSummary, type FieldErrors, selectField } from '../forms.ts';
import { html, type SafeHtml } from '../html.ts';
import { adminPage, type OrgContext, orgOf, orgPath } from '../org/access.ts';
import { when } from '../paging.ts';
import { takeSecret } from '../reveal.ts';
import { sendShellPage } from '../shell.ts';
import { examples } from './examples.ts';
import { usageSection } from './usage-section.ts';
import {
  CLIENT_TYPE_NAMES,
  clientTypeBadge,
  copyable,
  type KeySettingsInput,
  PERMISSION_NAMES,
  scopeName,
  secretPanel,
  settingsFields,
  settingsOf,
  statusBadge,
  statusOf,
} from './views.ts';

/** The route types of a key's pages. */
export interface KeyRoute {
  Params: { tenantId: string; publicKey: string };
  Querystring: Record<string, unknown>;
}

export type KeyRequest = FastifyRequest<KeyRoute>;

/** The organization's key named in the path (another organization's is a 404, like one that does not exist). */
export async function keyOfPath(request: KeyRequest, context: OrgContext): Promise<ApiKeyListing> {
  const { publicKey } = request.params;
  if (!isPublicKey(publicKey)) throw new ProblemError('not_found', 'There is no such API key.');
  return getKeyListing(request.server.services.db, publicKey, context.organization.tenantId);
}

const NOTICES: Record<string, string> = {
  updated: 'Saved. The new settings apply at once.',
};

/**
 * Shown instead of a private key when a public client is created: it has none, and the app that uses
 * it signs people in with the authorization code flow and PKCE, identified by its client_id alone
 * (RFC 6749 2.1, RFC 7636; RFC 8252 8.4 for native apps).
 */
function noPrivateKeyPanel(key: ApiKeyListing): SafeHtml {
  return html`<section class="secret" aria-labelledby="no-secret-title">
<h2 id="no-secret-title">This public client has no private key</h2>
<p>A single-page or native app cannot keep a secret, so Gatehouse issued none: there is nothing to copy and nothing to rotate.</p>
<p class="small">Your app signs people in with the authorization code flow and PKCE (S256), sending only its client_id <code>${key.publicKey}</code>. It cannot use <code>X-API-Key</code> or client credentials.</p>
</section>`;
}

/** What the page says where a confidential key shows the last characters of its private key. */
function privateKeyFact(key: ApiKeyListing): SafeHtml | string {
  if (key.clientType === 'public') return 'None: a public client has no private key';
  return html`<span class="mono">${key.last4 ? `…${key.last4}` : '—'}</span>`;
}

/** The URLs of a list, one per line, or a word when there are none. */
function urlsFact(urls: readonly string[]): SafeHtml | string {
  return urls.length
    ? html`${urls.map((url, i) => html`${i ? html`<br>` : ''}<span class="mono">${url}</span>`)}`
    : 'None';
}

/** What a form on the key page sends back when it fails: the typed values and the errors. */
export interface KeyPageState {
  settings?: KeySettingsInput;
  settingsErrors?: FieldErrors;
  rotateError?: string;
  grace?: string;
  status?: number;
}

export const GRACE_CHOICES = [
  { value: '0', label: 'None: the current private key stops working now' },
  { value: '900', label: '15 minutes' },
  { value: '3600', label: '1 hour' },
  { value: '86400', label: '24 hours' },
] as const;

function rotatePanel(context: OrgContext, key: ApiKeyListing, state: KeyPageState): SafeHtml {
  return html`<section class="panel" aria-labelledby="rotate-title">
<h2 id="rotate-title">Rotate the private key</h2>
<p class="small">A new private key is issued and shown once. The current one keeps working for the grace period you choose, so that you can deploy the new one first.</p>
${state.rotateError ? html`<p class="error" role="alert">${state.rotateError}</p>` : ''}
<form method="post" action="${orgPath(context, `/api-keys/${key.publicKey}/rotate`)}">
${csrfField(context.csrf)}
${selectField({ name: 'grace', label: 'Grace period', value: state.grace ?? '3600', choices: GRACE_CHOICES })}
<div class="actions"><button type="submit">Rotate private key</button></div>
</form>
</section>`;
}

function settingsPanel(context: OrgContext, key: ApiKeyListing, state: KeyPageState): SafeHtml {
  const errors = state.settingsErrors ?? {};
  return html`<section class="panel" aria-labelledby="settings-title">
<h2 id="settings-title">Settings</h2>
${errorSummary(errors)}
<form method="post" action="${orgPath(context, `/api-keys/${key.publicKey}`)}" novalidate>
${csrfField(context.csrf)}
${settingsFields(state.settings ?? settingsOf(key), errors)}
<div class="actions"><button type="submit" class="primary">Save changes</button></div>
</form>
</section>`;
}

function revokePanel(context: OrgContext, key: ApiKeyListing): SafeHtml {
  return html`<section class="panel danger" aria-labelledby="revoke-title">
<h2 id="revoke-title">Revoke this key</h2>
<p class="small">The key, its tokens and its OAuth grants stop working at once, everywhere. This cannot be undone.</p>
<a class="button secondary" href="${orgPath(context, `/api-keys/${key.publicKey}/revoke`)}">Revoke key…</a>
</section>`;
}

/** Renders a key's page; forms that fail re-render it with what was typed (`state`). */
export async function renderKeyPage(
  request: KeyRequest,
  reply: FastifyReply,
  context: OrgContext,
  key: ApiKeyListing,
  state: KeyPageState = {},
): Promise<FastifyReply> {
  const { db, config } = request.server.services;
  const path = orgPath(context, `/api-keys/${key.publicKey}`);
  const revealed = takeSecret(request, reply, path, context.user.id);
  const [workspaces, names, usage] = await Promise.all([
    workspacesById(db, context.organization.tenantId, key.workspaceId === null ? [] : [key.workspaceId]),
    membersNamed(db, context.organization.tenantId, [key.createdBy]),
    usageSection(request, key),
  ]);
  const status = statusOf(key);
  const notice = typeof request.query.done === 'string' ? NOTICES[request.query.done] : undefined;
  const creator = nameOf(key.createdBy, names);
  const body = html`<div class="page-head"><div><p class="small"><a href="${orgPath(context, '/api-keys')}">API configuration</a></p>
<h1>${key.label} ${statusBadge(key)}${clientTypeBadge(key)}</h1></div></div>
${notice ? html`<p class="notice" role="status">${notice}</p>` : ''}
${key.clientType === 'public' && request.query.done === 'created' ? noPrivateKeyPanel(key) : ''}
${key.clientType === 'public' && state.rotateError ? html`<p class="error" role="alert">${state.rotateError}</p>` : ''}
${
  revealed
    ? secretPanel(
        revealed.kind === 'rotated' ? 'Your new private key' : 'Your private key',
        revealed.secret,
        html`<p class="small">Use it as <code>X-API-Key</code>, or as the <code>client_secret</code> of client <code>${key.publicKey}</code>.</p>`,
      )
    : ''
}
<dl class="facts">
<dt>Public key (client_id)</dt><dd>${copyable('public-key', key.publicKey, 'the public key')}</dd>
<dt>Client type</dt><dd>${CLIENT_TYPE_NAMES[key.clientType]}</dd>
<dt>Private key</dt><dd>${privateKeyFact(key)}</dd>
<dt>Scope</dt><dd>${scopeName(key, workspaces)}</dd>
<dt>Permissions</dt><dd>${PERMISSION_NAMES[key.permissions]}</dd>
<dt>Post-logout redirect URLs</dt><dd>${urlsFact(key.postLogoutRedirectUris)}</dd>
<dt>ID token algorithm</dt><dd>${key.idTokenSignedResponseAlg}</dd>
<dt>Created</dt><dd>${when(key.createdAt)} by ${creator}</dd>
<dt>Last used</dt><dd>${when(key.lastUsedAt, 'Never')}</dd>
<dt>Expires</dt><dd>${when(key.expiresAt, 'Never')}</dd>
${key.revokedAt !== null ? html`<dt>Revoked</dt><dd>${when(key.revokedAt)}</dd>` : ''}
</dl>
${usage}
${status === 'revoked' ? '' : settingsPanel(context, key, state)}
${status === 'revoked' || key.clientType === 'public' ? '' : rotatePanel(context, key, state)}
${examples(config.issuer, key)}
${status === 'revoked' ? '' : revokePanel(context, key)}`;
  return sendShellPage(reply, context, { title: key.label, section: 'api-keys', body, status: state.status });
}

async function showKey(request: KeyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const context = orgOf(request);
  return renderKeyPage(request, reply, context, await keyOfPath(request, context));
}

/**
 * `GET /o/:tenantId/api-keys/:publicKey`: a key's details, usage, settings, rotation (a confidential
 * key's only) and revocation.
 */
export function keyPageRoute(pages: FastifyInstance): void {
  pages.get<KeyRoute>(
    '/o/:tenantId/api-keys/:publicKey',
    { preHandler: adminPage, schema: { hide: true } },
    showKey,
  );
}
