import type { FastifyRequest } from 'fastify';
import { getTenantWorkspace } from '../../domain/workspaces.ts';
import { ProblemError } from '../../errors/errors.ts';
import type { Workspace } from '../../model/types.ts';
import { type OrgContext, orgPath } from '../org/access.ts';

/** The route of a workspace's pages and forms. */
export interface WorkspaceRoute {
  Params: { tenantId: string; id: string };
  Querystring: Record<string, unknown>;
}

export type WorkspaceRequest = FastifyRequest<WorkspaceRoute>;

const ID = /^[1-9]\d{0,9}$/;
const MAX_ID = 2_147_483_647;

/** A positive id from a URL, or a 404: `/workspaces/abc` names nothing, like a workspace that does not exist. */
export function idOf(value: string, what: string): number {
  const id = ID.test(value) ? Number(value) : 0;
  if (!id || id > MAX_ID)
    throw new ProblemError('not_found', `There is no such ${what} in this organization.`);
  return id;
}

/**
 * The workspace of the URL in the page's organization. Another organization's workspace is a 404 page,
 * exactly like one that does not exist, so that ids of other organizations reveal nothing.
 */
export async function workspaceOf(request: WorkspaceRequest, context: OrgContext): Promise<Workspace> {
  const id = idOf(request.params.id, 'workspace');
  try {
    return await getTenantWorkspace(request.server.services.db, context.organization.tenantId, id);
  } catch (error) {
    if (error instanceof ProblemError && error.code === 'not_found')
      throw new ProblemError('not_found', 'There is no such workspace in this organization.');
    throw error;
  }
}

/** The path of a workspace's page. */
export function workspacePath(context: OrgContext, id: number): string {
  return orgPath(context, `/workspaces/${id}`);
}

/** A domain message as a sentence: `label must be…` reads `Label must be….` on a page. */
export function sentence(text: string): string {
  const trimmed = text.trim();
  if (!trimmed) return trimmed;
  const first = `${trimmed.charAt(0).toUpperCase()}${trimmed.slice(1)}`;
  return /[.!?]$/.test(first) ? first : `${first}.`;
}

/** The fixed notice of a `?done=` code (never text from the URL), or undefined for any other value. */
export function noticeOf(notices: Readonly<Record<string, string>>, done: unknown): string | undefined {
  return typeof done === 'string' && Object.hasOwn(notices, done) ? notices[done] : undefined;
}
