import type { FastifyInstance, FastifyReply } from 'fastify';
import { listKeys } from '../../domain/api-keys.ts';
import { type MemberName, membersNamed, nameOf } from '../../domain/audit-names.ts';
import { workspacesById } from '../../domain/workspaces.ts';
import type { ApiKeyListing, Workspace } from '../../model/types.ts';
import { inputField, selectField } from '../forms.ts';
import { html, type SafeHtml } from '../html.ts';
import { adminPage, type OrgContext, type OrgRequest, type OrgRoute, orgOf, orgPath } from '../org/access.ts';
import { PAGE_SIZE, pageOf, pager, when } from '../paging.ts';
import { sendShellPage } from '../shell.ts';
import { clientTypeBadge, copyable, PERMISSION_NAMES, scopeName, statusBadge } from './views.ts';

const STATUSES = ['all', 'active', 'revoked', 'expired'] as const;
type StatusFilter = (typeof STATUSES)[number];

const NOTICES: Record<string, string> = { revoked: 'The key is revoked. It no longer works anywhere.' };

function row(
  key: ApiKeyListing,
  workspaces: ReadonlyMap<number, Workspace>,
  names: ReadonlyMap<number, MemberName>,
  context: OrgContext,
): SafeHtml {
  const creator = nameOf(key.createdBy, names);
  return html`<tr>
<td data-label="Label"><a href="${orgPath(context, `/api-keys/${key.publicKey}`)}">${key.label}</a>${clientTypeBadge(key)}</td>
<td data-label="Public key">${copyable(`pk-${key.publicKey}`, key.publicKey, `the public key of ${key.label}`)}</td>
<td data-label="Scope">${scopeName(key, workspaces)}</td>
<td data-label="Permissions">${PERMISSION_NAMES[key.permissions]}</td>
<td data-label="Private key">${key.clientType === 'public' ? html`<span class="muted">None</span>` : html`<span class="mono">${key.last4 ? `…${key.last4}` : '—'}</span>`}</td>
<td data-label="Created">${when(key.createdAt)}<br><span class="muted small">by ${creator}</span></td>
<td data-label="Last used">${when(key.lastUsedAt, 'Never')}</td>
<td data-label="Expires">${when(key.expiresAt, 'Never')}</td>
<td data-label="Status">${statusBadge(key)}</td>
</tr>`;
}

function filters(context: OrgContext, status: StatusFilter, q: string): SafeHtml {
  return html`<form method="get" action="${orgPath(context, '/api-keys')}" class="toolbar" role="search">
${inputField({ name: 'q', label: 'Search by label', type: 'search', value: q, maxlength: 200 })}
${selectField({
  name: 'status',
  label: 'Status',
  value: status,
  choices: [
    { value: 'all', label: 'All' },
    { value: 'active', label: 'Active' },
    { value: 'revoked', label: 'Revoked' },
    { value: 'expired', label: 'Expired' },
  ],
})}
<button type="submit">Filter</button>
</form>`;
}

async function showKeys(request: OrgRequest, reply: FastifyReply): Promise<FastifyReply> {
  const context = orgOf(request);
  const { db } = request.server.services;
  const { query } = request;
  const status: StatusFilter = STATUSES.find((s) => s === query.status) ?? 'all';
  const q = typeof query.q === 'string' ? query.q.trim().slice(0, 200) : '';
  const page = pageOf(query.page);
  const keys = await listKeys(db, context.organization.tenantId, {
    page,
    size: PAGE_SIZE,
    q: q || undefined,
    status: status === 'all' ? undefined : status,
    sortBy: 'createdAt',
    asc: false,
  });
  const [workspaces, names] = await Promise.all([
    workspacesById(
      db,
      context.organization.tenantId,
      keys.items.flatMap((k) => (k.workspaceId === null ? [] : [k.workspaceId])),
    ),
    membersNamed(
      db,
      context.organization.tenantId,
      keys.items.map((k) => k.createdBy),
    ),
  ]);
  const filtered = q !== '' || status !== 'all';
  const notice = typeof query.done === 'string' ? NOTICES[query.done] : undefined;
  const body = html`<div class="page-head">
<div><h1>API configuration</h1><p class="lead">Keys of ${context.organization.label}: each is an OAuth client (its public key is the client_id) and, unless it is a public client, an X-API-Key credential.</p></div>
<a class="button primary" href="${orgPath(context, '/api-keys/new')}">Create an API key</a>
</div>
${notice ? html`<p class="notice" role="status">${notice}</p>` : ''}
${keys.total || filtered ? filters(context, status, q) : ''}
${
  keys.items.length
    ? html`<div class="table-wrap"><table class="list keys">
<caption class="visually-hidden">API keys</caption>
<thead><tr><th scope="col">Label</th><th scope="col">Public key</th><th scope="col">Scope</th><th scope="col">Permissions</th><th scope="col">Private key</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col">Expires</th><th scope="col">Status</th></tr></thead>
<tbody>${keys.items.map((k) => row(k, workspaces, names, context))}</tbody>
</table></div>
${pager(orgPath(context, '/api-keys'), { q, status: status === 'all' ? undefined : status }, page, keys.total)}`
    : filtered
      ? html`<div class="empty"><p>No key matches these filters.</p><a href="${orgPath(context, '/api-keys')}">Show all keys</a></div>`
      : html`<div class="empty"><h2>No API keys yet</h2><p>Create one to call the API with X-API-Key, or to register an OAuth client.</p><a class="button primary" href="${orgPath(context, '/api-keys/new')}">Create an API key</a></div>`
}`;
  return sendShellPage(reply, context, { title: 'API configuration', section: 'api-keys', body });
}

/** `GET /o/:tenantId/api-keys`: the organization's keys, newest first, filtered and paged. */
export function keyListRoute(pages: FastifyInstance): void {
  pages.get<OrgRoute>('/o/:tenantId/api-keys', { preHandler: adminPage, schema: { hide: true } }, showKeys);
}
