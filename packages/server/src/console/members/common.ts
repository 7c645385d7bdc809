import type { FastifyRequest } from 'fastify';
import { getMember } from '../../domain/members.ts';
import { listTenantWorkspaces, workspacesById } from '../../domain/workspaces.ts';
import { type FieldError, invalidField, ProblemError } from '../../errors/errors.ts';
import type { Member, Workspace } from '../../model/types.ts';
import type { Services } from '../../services.ts';
import { type FieldErrors, fieldErrorsOf } from '../forms.ts';
import { type OrgContext, orgPath } from '../org/access.ts';
import { idOf, sentence } from '../workspaces/common.ts';

/** The route of a member's pages and forms. */
export interface MemberRoute {
  Params: { tenantId: string; userId: string };
  Querystring: Record<string, unknown>;
}

export type MemberRequest = FastifyRequest<MemberRoute>;

/**
 * The member of the URL in the page's organization. A user of another organization (or none) is a 404
 * page, the same for both, so that user ids reveal nothing about other organizations.
 */
export async function memberOfUrl(request: MemberRequest, context: OrgContext): Promise<Member> {
  const userId = idOf(request.params.userId, 'member');
  try {
    return await getMember(request.server.services.db, context.organization.tenantId, userId);
  } catch (error) {
    if (error instanceof ProblemError && error.code === 'not_found')
      throw new ProblemError('not_found', 'There is no such member in this organization.');
    throw error;
  }
}

/** The path of a member's page. */
export function memberPath(context: OrgContext, userId: number): string {
  return orgPath(context, `/members/${userId}`);
}

/** How many workspaces a member's form lists: enough for nearly every organization, bounded for the rest. */
export const MAX_WORKSPACE_CHOICES = 1000;

/** The workspaces a form offers: the first 1,000 by name, plus any of `selected` beyond them. */
export interface WorkspaceChoices {
  workspaces: Workspace[];
  /** Whether the organization has more workspaces than are listed. */
  more: boolean;
}

export async function workspaceChoices(
  db: Services['db'],
  tenantId: number,
  selected: readonly number[],
): Promise<WorkspaceChoices> {
  const page = await listTenantWorkspaces(db, tenantId, {
    page: 1,
    size: MAX_WORKSPACE_CHOICES,
    sortBy: 'label',
  });
  const listed = new Set(page.items.map((w) => w.id));
  // A member limited to a workspace beyond the first 1,000 keeps it ticked, so that saving keeps it.
  const missing = selected.filter((id) => !listed.has(id));
  const extra = missing.length ? [...(await workspacesById(db, tenantId, missing)).values()] : [];
  return { workspaces: [...extra, ...page.items], more: page.total > MAX_WORKSPACE_CHOICES };
}

/** The workspace ids a form's ticked boxes name (a single box posts a string, several an array). */
export function workspaceIdsOf(value: unknown): number[] {
  const values = Array.isArray(value) ? value : value === undefined ? [] : [value];
  const ids = values
    .filter((v): v is string => typeof v === 'string' && /^[1-9]\d{0,9}$/.test(v))
    .map(Number)
    .filter((id) => id <= 2_147_483_647);
  return [...new Set(ids)];
}

/** A domain problem's field errors as the form's, worded as sentences. */
export function formErrorsOf(errors: readonly FieldError[]): FieldErrors {
  return fieldErrorsOf(errors.map((e) => ({ field: e.field, message: sentence(e.message) })));
}

/**
 * At most as many workspaces as a form lists: the domain checks each one, so a forged form naming
 * thousands must not cost thousands of queries.
 */
export function checkWorkspaceCount(ids: readonly number[]): void {
  if (ids.length > MAX_WORKSPACE_CHOICES)
    throw invalidField('workspaceIds', 'Choose at most 1,000 workspaces, or none for every workspace.');
}
