import type { Role, Workspace } from '../../model/types.ts';
import { html, type SafeHtml } from '../html.ts';
import type { WorkspaceChoices } from './common.ts';

export const ROLE_NAMES: Record<Role, string> = { owner: 'Owner', admin: 'Admin', member: 'Member' };

/** A member's role as a badge. */
export function roleBadge(role: Role): SafeHtml {
  return html`<span class="badge ${role}">${ROLE_NAMES[role]}</span>`;
}

const ROLE_HINTS: Record<Role, string> = {
  member: "Uses the organization's apps and data; can be limited to some workspaces.",
  admin: 'Also manages API keys, workspaces and members, except owners.',
  owner: 'Everything, including owners and admin keys.',
};

function fieldError(id: string, error: string | undefined): SafeHtml | string {
  return error ? html`<p class="field-error" id="${id}">${error}</p>` : '';
}

/**
 * The role, as radio buttons with what each may do. Only an owner is offered `owner` (the domain refuses
 * anyone else anyway, with a 403 the page shows); a refused choice stays selected, as typed.
 */
export function roleField(value: string, mayMakeOwner: boolean, error: string | undefined): SafeHtml {
  const roles: Role[] =
    mayMakeOwner || value === 'owner' ? ['member', 'admin', 'owner'] : ['member', 'admin'];
  const described = ['role-hint', error ? 'role-error' : ''].filter(Boolean).join(' ');
  return html`<fieldset class="field${error ? ' has-error' : ''}" aria-describedby="${described}">
<legend>Role</legend>
<p class="hint" id="role-hint">${mayMakeOwner ? 'What they may do in this organization.' : 'What they may do in this organization. Only an owner can make an owner.'}</p>
${roles.map(
  (role) =>
    html`<label class="choice"><input type="radio" name="role" value="${role}"${role === value ? html` checked` : ''}><span>${ROLE_NAMES[role]}<br><span class="muted small">${ROLE_HINTS[role]}</span></span></label>`,
)}
${fieldError('role-error', error)}
</fieldset>`;
}

function workspaceChoice(workspace: Workspace, checked: boolean): SafeHtml {
  return html`<label class="choice"><input type="checkbox" name="workspaceIds" value="${workspace.id}"${checked ? html` checked` : ''}><span>${workspace.label}${workspace.state === 'Archived' ? html` <span class="muted small">(archived)</span>` : ''}</span></label>`;
}

/**
 * The workspaces a member is limited to: checkboxes in a box that scrolls on its own, so that an
 * organization with 1,000 workspaces still gets a page of normal length (the first 1,000 by name are
 * listed, plus any the member already has; the browser's find-in-page searches them).
 */
export function workspacesField(
  choices: WorkspaceChoices,
  selected: readonly number[],
  error: string | undefined,
): SafeHtml {
  const ticked = new Set(selected);
  const more = choices.more ? ' The first 1,000 workspaces by name are listed.' : '';
  const described = ['workspaces-hint', error ? 'workspaces-error' : ''].filter(Boolean).join(' ');
  return html`<fieldset class="field${error ? ' has-error' : ''}" aria-describedby="${described}">
<legend>Workspaces</legend>
<p class="hint" id="workspaces-hint">For members only: tick the workspaces they may reach, or none for every workspace. Owners and admins always reach every workspace.${more}</p>
${
  choices.workspaces.length
    ? html`<div class="workspace-choices${choices.workspaces.length > 8 ? ' scrolls' : ''}">${choices.workspaces.map((w) => workspaceChoice(w, ticked.has(w.id)))}</div>`
    : html`<p class="muted small">This organization has no workspaces yet.</p>`
}
${fieldError('workspaces-error', error)}
</fieldset>`;
}

/** A member's workspaces in words: the names, or every workspace. */
export function workspaceNames(
  ids: readonly number[] | null,
  names: ReadonlyMap<number, Workspace>,
  shown = ids?.length ?? 0,
): string {
  if (ids === null || !ids.length) return 'All workspaces';
  const listed = ids.slice(0, shown).map((id) => names.get(id)?.label ?? `Workspace ${id}`);
  const rest = ids.length - listed.length;
  return rest > 0 ? `${listed.join(', ')} and ${rest.toLocaleString('en')} more` : listed.join(', ');
}
