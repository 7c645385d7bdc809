import type { Workspace } from '../../model/types.ts';
import { csrfField, errorSummary, type FieldErrors, inputField } from '../forms.ts';
import { html, type SafeHtml } from '../html.ts';
import { type OrgContext, orgPath } from '../org/access.ts';
import { pager } from '../paging.ts';
import { workspacePath } from './common.ts';

/** A workspace's state as a badge. */
export function stateBadge(workspace: Workspace): SafeHtml {
  return workspace.state === 'Archived'
    ? html`<span class="badge archived">Archived</span>`
    : html`<span class="badge active">Active</span>`;
}

/** What archiving means, said the same way wherever it is offered or shown. */
export const ARCHIVED_MEANS =
  'Its data can still be read, by members and by keys, but nothing in it can be changed until it is restored.';

function notice(text: string | undefined): SafeHtml | string {
  return text ? html`<p class="notice" role="status">${text}</p>` : '';
}

export interface WorkspaceList {
  items: readonly Workspace[];
  total: number;
  page: number;
  q: string;
}

function row(context: OrgContext, w: Workspace): SafeHtml {
  return html`<tr>
<td data-label="Name"><a href="${workspacePath(context, w.id)}">${w.label}</a></td>
<td data-label="State">${stateBadge(w)}</td>
<td data-label="Entities">${w.nbEntities.toLocaleString('en')}</td>
<td data-label="ID" class="numeric">${w.id}</td>
</tr>`;
}

function emptyState(context: OrgContext, q: string): SafeHtml {
  if (q)
    return html`<div class="empty"><p>No workspace name contains “${q}”.</p><a href="${orgPath(context, '/workspaces')}">Show all workspaces</a></div>`;
  return html`<div class="empty"><h2>No workspaces yet</h2><p>Workspaces hold the organization's data; keys and members can be limited to one.</p><a class="button primary" href="${orgPath(context, '/workspaces/new')}">Create a workspace</a></div>`;
}

/** The list of workspaces: search by name, 50 a page. */
export function workspaceListPage(context: OrgContext, list: WorkspaceList): SafeHtml {
  const path = orgPath(context, '/workspaces');
  const filters = { q: list.q };
  const searchable = list.total > 0 || list.q !== '' || list.page > 1;
  return html`<div class="page-head">
<h1>Workspaces</h1>
<a class="button primary" href="${orgPath(context, '/workspaces/new')}">New workspace</a>
</div>
${
  searchable
    ? html`<form method="get" action="${path}" class="toolbar" role="search">
${inputField({ name: 'q', label: 'Search by name', type: 'search', value: list.q, maxlength: 200 })}
<button type="submit">Search</button>
</form>`
    : ''
}
${
  list.items.length
    ? html`<div class="table-wrap"><table class="list">
<caption class="visually-hidden">Workspaces${list.q ? html` whose name contains “${list.q}”` : ''}</caption>
<thead><tr><th scope="col">Name</th><th scope="col">State</th><th scope="col">Entities</th><th scope="col">ID</th></tr></thead>
<tbody>${list.items.map((w) => row(context, w))}</tbody>
</table></div>`
    : emptyState(context, list.q)
}
${pager(path, filters, list.page, list.total)}`;
}

export interface NewWorkspaceInput {
  label: string;
}

/** The form that creates a workspace. */
export function newWorkspacePage(
  context: OrgContext,
  input: NewWorkspaceInput,
  errors: FieldErrors,
  general?: string,
): SafeHtml {
  return html`<p class="small"><a href="${orgPath(context, '/workspaces')}">← Workspaces</a></p>
<h1>New workspace</h1>
${errorSummary(errors, general)}
<form method="post" action="${orgPath(context, '/workspaces')}" class="panel" novalidate>
${csrfField(context.csrf)}
${inputField({ name: 'label', label: 'Name', value: input.label, error: errors.label, required: true, maxlength: 200, hint: 'Up to 200 characters, e.g. “Production” or “Customer: Acme”.' })}
<div class="actions"><button type="submit" class="primary">Create workspace</button></div>
</form>`;
}

export interface WorkspaceView {
  workspace: Workspace;
  /** The name as typed in the rename form (after a refused rename), else the workspace's. */
  label?: string;
  errors?: FieldErrors;
  general?: string | undefined;
  notice?: string | undefined;
}

function stateForm(context: OrgContext, workspace: Workspace): SafeHtml {
  const action = workspacePath(context, workspace.id);
  if (workspace.state === 'Archived')
    return html`<section class="panel" aria-labelledby="state-title">
<h2 id="state-title">Restore</h2>
<p>Restoring makes the workspace's data changeable again.</p>
<form method="post" action="${action}/restore">
${csrfField(context.csrf)}
<button type="submit">Restore workspace</button>
</form>
</section>`;
  return html`<section class="panel danger" aria-labelledby="state-title">
<h2 id="state-title">Archive</h2>
<p>Archiving keeps the workspace and everything in it. ${ARCHIVED_MEANS} You can restore it at any time.</p>
<form method="post" action="${action}/archive">
${csrfField(context.csrf)}
<button type="submit" class="danger">Archive workspace</button>
</form>
</section>`;
}

/** A workspace's page: its facts, the rename form, and archive or restore. */
export function workspacePage(context: OrgContext, view: WorkspaceView): SafeHtml {
  const { workspace } = view;
  const errors = view.errors ?? {};
  return html`<p class="small"><a href="${orgPath(context, '/workspaces')}">← Workspaces</a></p>
<div class="title-row">
<h1>${workspace.label}</h1>
${stateBadge(workspace)}
</div>
${notice(view.notice)}
${workspace.state === 'Archived' && !view.notice ? html`<p class="notice">This workspace is archived. ${ARCHIVED_MEANS}</p>` : ''}
${errorSummary(errors, view.general)}
<dl class="facts">
<dt>ID</dt><dd class="numeric">${workspace.id}</dd>
<dt>State</dt><dd>${workspace.state}</dd>
<dt>Entities</dt><dd>${workspace.nbEntities.toLocaleString('en')}</dd>
</dl>
<section class="panel" aria-labelledby="rename-title">
<h2 id="rename-title">Rename</h2>
<form method="post" action="${workspacePath(context, workspace.id)}" novalidate>
${csrfField(context.csrf)}
${inputField({ name: 'label', label: 'Name', value: view.label ?? workspace.label, error: errors.label, required: true, maxlength: 200 })}
<div class="actions"><button type="submit" class="primary">Save name</button></div>
</form>
</section>
${stateForm(context, workspace)}`;
}
