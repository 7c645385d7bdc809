import type { Member, Workspace } from '../../model/types.ts';
import { csrfField, errorSummary, type FieldErrors, inputField } from '../forms.ts';
import { html, type SafeHtml } from '../html.ts';
import { type OrgContext, orgPath } from '../org/access.ts';
import { pager, when } from '../paging.ts';
import { memberPath, type WorkspaceChoices } from './common.ts';
import { ROLE_NAMES, roleBadge, roleField, workspaceNames, workspacesField } from './fields.ts';

function notice(text: string | undefined): SafeHtml | string {
  return text ? html`<p class="notice" role="status">${text}</p>` : '';
}

function back(context: OrgContext): SafeHtml {
  return html`<p class="small"><a href="${orgPath(context, '/members')}">← Members</a></p>`;
}

/** A member's name for headings: their display name, else their email. */
export function nameOf(member: Pick<Member, 'displayName' | 'email'>): string {
  return member.displayName ?? member.email;
}

export interface MemberList {
  items: readonly Member[];
  total: number;
  page: number;
  q: string;
  /** Names of the workspaces the page's members are limited to (the first few of each). */
  names: ReadonlyMap<number, Workspace>;
  notice?: string | undefined;
}

/** How many workspace names a row of the list shows before "and N more". */
export const NAMES_PER_ROW = 3;

function row(context: OrgContext, m: Member, names: ReadonlyMap<number, Workspace>): SafeHtml {
  const you = m.id === context.user.id ? html` <span class="muted small">(you)</span>` : '';
  return html`<tr>
<td data-label="Member"><a href="${memberPath(context, m.id)}">${nameOf(m)}</a>${you}${m.displayName !== null ? html`<br><span class="muted small">${m.email}</span>` : ''}</td>
<td data-label="Role">${roleBadge(m.role)}</td>
<td data-label="Workspaces">${workspaceNames(m.workspaceIds, names, NAMES_PER_ROW)}</td>
<td data-label="Added">${when(m.createdAt)}</td>
</tr>`;
}

function emptyState(context: OrgContext, q: string): SafeHtml {
  // An organization always has its owner, so only a search comes back empty.
  return html`<div class="empty"><p>No member’s name or email contains “${q}”.</p><a href="${orgPath(context, '/members')}">Show all members</a></div>`;
}

/** The organization's members: search by name or email, 50 a page. */
export function memberListPage(context: OrgContext, list: MemberList): SafeHtml {
  const path = orgPath(context, '/members');
  return html`<div class="page-head">
<h1>Members</h1>
<a class="button primary" href="${orgPath(context, '/members/new')}">Add member</a>
</div>
${notice(list.notice)}
<form method="get" action="${path}" class="toolbar" role="search">
${inputField({ name: 'q', label: 'Search by name or email', type: 'search', value: list.q, maxlength: 254 })}
<button type="submit">Search</button>
</form>
${
  list.items.length
    ? html`<div class="table-wrap"><table class="list">
<caption class="visually-hidden">Members${list.q ? html` whose name or email contains “${list.q}”` : ''}</caption>
<thead><tr><th scope="col">Member</th><th scope="col">Role</th><th scope="col">Workspaces</th><th scope="col">Added</th></tr></thead>
<tbody>${list.items.map((m) => row(context, m, list.names))}</tbody>
</table></div>`
    : emptyState(context, list.q)
}
${pager(path, { q: list.q }, list.page, list.total)}`;
}

/** The add-member form as typed (never the password: it is not sent back). */
export interface NewMemberForm {
  email: string;
  displayName: string;
  role: string;
  workspaceIds: number[];
  /** For a new account: a one-time sign-in link (default) or a password set now. */
  access: 'link' | 'password';
}

function accessField(form: NewMemberForm, error: string | undefined): SafeHtml {
  const choice = (value: NewMemberForm['access'], label: string, hint: string) =>
    html`<label class="choice"><input type="radio" name="access" value="${value}"${form.access === value ? html` checked` : ''}><span>${label}<br><span class="muted small">${hint}</span></span></label>`;
  return html`<fieldset class="field" aria-describedby="access-hint">
<legend>If they are new to Gatehouse</legend>
<p class="hint" id="access-hint">Someone who already has an account joins with it, and keeps their own password.</p>
${choice('link', 'Give them a one-time sign-in link', 'Shown once on the next page, for you to send them. It works once, within 24 hours, and lets them choose their password.')}
${choice('password', 'Set their password now', 'Type it below and tell them it safely.')}
${inputField({ name: 'password', label: 'Password (only to set it now)', type: 'password', error, autocomplete: 'new-password', maxlength: 1024, hint: 'At least 12 characters.' })}
</fieldset>`;
}

/** The form that adds a member. */
export function newMemberPage(
  context: OrgContext,
  form: NewMemberForm,
  choices: WorkspaceChoices,
  errors: FieldErrors,
  general?: string,
): SafeHtml {
  return html`${back(context)}
<h1>Add member</h1>
${errorSummary(errors, general)}
<form method="post" action="${orgPath(context, '/members')}" class="panel" novalidate>
${csrfField(context.csrf)}
<div class="form-grid">
${inputField({ name: 'email', label: 'Email', type: 'email', value: form.email, error: errors.email, required: true, maxlength: 254, autocomplete: 'off' })}
${inputField({ name: 'displayName', label: 'Name (optional)', value: form.displayName, error: errors.displayName, maxlength: 200, autocomplete: 'off', hint: 'For a new account; an existing one keeps its own.' })}
</div>
${roleField(form.role, context.organization.role === 'owner', errors.role)}
${workspacesField(choices, form.workspaceIds, errors.workspaceIds)}
${accessField(form, errors.password)}
<div class="actions"><button type="submit" class="primary">Add member</button></div>
</form>`;
}

/** A one-time sign-in link, shown once with a copy button. */
function signInLinkPanel(member: Member, link: string): SafeHtml {
  return html`<section class="secret" aria-labelledby="link-title">
<h2 id="link-title">One-time sign-in link for ${member.email}</h2>
<p><strong>Copy it now and send it to them: you will not see this again.</strong> It works once, within 24 hours; with it they choose their password. Gatehouse keeps only a hash of it.</p>
<div class="copyable"><code id="sign-in-link">${link}</code><button type="button" class="copy" data-copy="sign-in-link" aria-describedby="link-title" hidden>Copy</button></div>
</section>`;
}

export interface MemberView {
  member: Member;
  choices: WorkspaceChoices;
  /** The role and workspaces as typed (after a refused change), else the member's. */
  role?: string;
  workspaceIds?: number[];
  errors?: FieldErrors;
  general?: string | undefined;
  notice?: string | undefined;
  /** The sign-in link of a member just added, shown this once. */
  signInLink?: string | undefined;
}

function changeForm(context: OrgContext, view: MemberView, errors: FieldErrors): SafeHtml {
  const { member } = view;
  const self = member.id === context.user.id;
  return html`<section class="panel" aria-labelledby="change-title">
<h2 id="change-title">Role and workspaces</h2>
${self ? html`<p class="notice">This is you. If you make yourself a member, you can no longer manage this organization here.</p>` : ''}
<form method="post" action="${memberPath(context, member.id)}" novalidate>
${csrfField(context.csrf)}
${roleField(view.role ?? member.role, context.organization.role === 'owner', errors.role)}
${workspacesField(view.choices, view.workspaceIds ?? member.workspaceIds ?? [], errors.workspaceIds)}
<div class="actions"><button type="submit" class="primary">Save changes</button></div>
</form>
</section>`;
}

/** A member's page: who, role and workspaces (to change), and removal. */
export function memberPage(context: OrgContext, view: MemberView): SafeHtml {
  const { member } = view;
  const errors = view.errors ?? {};
  // An admin may neither change nor remove an owner (the domain refuses it): say so rather than offer it.
  const locked = member.role === 'owner' && context.organization.role !== 'owner';
  const names = new Map(view.choices.workspaces.map((w) => [w.id, w]));
  return html`${back(context)}
<div class="title-row">
<h1>${nameOf(member)}</h1>
${roleBadge(member.role)}
</div>
${notice(view.notice)}
${view.signInLink ? signInLinkPanel(member, view.signInLink) : ''}
${errorSummary(errors, view.general)}
<dl class="facts">
<dt>Email</dt><dd>${member.email}</dd>
<dt>Role</dt><dd>${ROLE_NAMES[member.role]}</dd>
<dt>Workspaces</dt><dd>${workspaceNames(member.workspaceIds, names)}</dd>
<dt>Added</dt><dd>${when(member.createdAt)}</dd>
</dl>
${
  locked
    ? html`<p class="notice">Only an owner can change or remove an owner.</p>`
    : html`${changeForm(context, view, errors)}
<section class="panel danger" aria-labelledby="remove-title">
<h2 id="remove-title">Remove from the organization</h2>
<p>${member.id === context.user.id ? 'You lose access to this organization and are signed out.' : 'They lose access to this organization at once.'}</p>
<a class="button secondary" href="${memberPath(context, member.id)}/remove">Remove ${member.id === context.user.id ? 'yourself' : 'member'}…</a>
</section>`
}`;
}

/** The confirmation step of a removal: what it ends, a danger button, a way back. */
export function removeMemberPage(context: OrgContext, member: Member, general?: string): SafeHtml {
  const self = member.id === context.user.id;
  const path = memberPath(context, member.id);
  return html`${back(context)}
<h1>${self ? 'Remove yourself' : `Remove ${nameOf(member)}`}?</h1>
${errorSummary({}, general)}
<div class="panel danger">
<p>${self ? 'You' : member.email} will no longer be a member of ${context.organization.label}. At once:</p>
<ul>
<li>${self ? 'your' : 'their'} sessions end, on every device;</li>
<li>the apps ${self ? 'you' : 'they'} allowed lose access to this organization, and their tokens stop working;</li>
<li>${self ? 'you' : 'they'} keep ${self ? 'your' : 'their'} account, and ${self ? 'your' : 'their'} membership of other organizations.</li>
</ul>
${self ? html`<p><strong>You will be signed out and can no longer manage this organization.</strong></p>` : ''}
<form method="post" action="${path}/remove">
${csrfField(context.csrf)}
<div class="actions"><button type="submit" class="danger">${self ? 'Remove myself' : 'Remove member'}</button><a class="button secondary" href="${path}">Cancel</a></div>
</form>
</div>`;
}
