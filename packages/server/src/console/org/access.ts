import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Actor } from '../../domain/audit.ts';
import { userActor } from '../../domain/audit.ts';
import { type OrganizationOfUser, organizationsOf } from '../../domain/users.ts';
import { CSRF_FIELD, checkCsrf, csrfToken, formFields } from '../../http/session/csrf.ts';
import type { User } from '../../model/types.ts';
import { signedInUser } from '../account/signed-in-user.ts';
import { csrfFailure } from '../error-pages.ts';
import { sendErrorPage } from '../layout.ts';
import { signInPath } from '../sign-in/return-to.ts';

/** Who is at the console of an organization, and what they act as. */
export interface OrgContext {
  user: User;
  organization: OrganizationOfUser & { role: 'owner' | 'admin' };
  /** Every organization the user belongs to, for the switcher. */
  organizations: OrganizationOfUser[];
  /** The audit log's record of the user, with the authority of their role. */
  actor: Actor;
  /** The CSRF token of this page's forms. */
  csrf: string;
}

const contexts = new WeakMap<FastifyRequest, OrgContext>();

/** The context `adminPage` or `adminForm` resolved for this request. */
export function orgOf(request: FastifyRequest): OrgContext {
  const context = contexts.get(request);
  if (!context) throw new Error('orgOf() called on a route without the adminPage/adminForm pre-handler');
  return context;
}

const TENANT_ID = /^[1-9]\d{0,9}$/;
const MAX_USER_AGENT = 512;

/** The route types of an organization's pages: the organization in the path, any query. */
export interface OrgRoute {
  Params: { tenantId: string };
  Querystring: Record<string, unknown>;
}

export type OrgRequest = FastifyRequest<OrgRoute>;

function notFound(reply: FastifyReply): FastifyReply {
  return sendErrorPage(reply, 404, 'Not found', 'There is nothing here, or it is not yours to see.');
}

/**
 * Resolves the organization of the URL for its signed-in owner or admin. Signed out: to sign-in, and
 * back here after. Not a member of it (or no such organization): a 404 page, the same for both, so that
 * no one learns which organizations exist. A member without an admin role: a 403 page.
 */
async function resolve(
  request: OrgRequest,
  reply: FastifyReply,
  returnTo: string,
): Promise<FastifyReply | undefined> {
  const user = await signedInUser(request);
  if (!user) return reply.redirect(signInPath(returnTo), 303);
  const { tenantId } = request.params;
  if (!TENANT_ID.test(tenantId)) return notFound(reply);
  const organizations = await organizationsOf(request.server.services.db, user.id);
  const organization = organizations.find((o) => o.tenantId === Number(tenantId));
  if (!organization) return notFound(reply);
  const { role } = organization;
  if (role === 'member')
    return sendErrorPage(
      reply,
      403,
      'Administrators only',
      'Only owners and administrators of this organization manage its API configuration.',
    );
  const userAgent = request.headers['user-agent']?.slice(0, MAX_USER_AGENT) ?? null;
  contexts.set(request, {
    user,
    organization: { ...organization, role },
    organizations,
    actor: { ...userActor(user.id, request.ip), userAgent, authority: { role, keyId: null } },
    csrf: csrfToken(request, reply),
  });
  return undefined;
}

/** Pre-handler of an organization's pages (GET): a signed-in owner or admin of it. */
export async function adminPage(
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply | undefined> {
  // Only what the URL parser keeps: the path and query of this page, to come back to after sign-in.
  return resolve(request as OrgRequest, reply, request.url);
}

/** The section a route of an organization belongs to: `/o/:tenantId/members/:userId` is `members`. */
const SECTION_OF_ROUTE = /^\/o\/:tenantId\/([a-z-]+)/;

/**
 * Pre-handler of an organization's forms (POST): a valid CSRF token first, whoever sends it (a forged
 * form changes nothing and learns nothing), then a signed-in owner or admin of it. A form whose session
 * ended meanwhile leads to sign-in and back to its section's page (a page that exists for a GET: the
 * form's own URL may not, and its fields are not replayed).
 */
export async function adminForm(
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply | undefined> {
  if (!checkCsrf(request, formFields(request.body)[CSRF_FIELD])) return csrfFailure(reply);
  const { tenantId } = (request as OrgRequest).params;
  const section = SECTION_OF_ROUTE.exec(request.routeOptions.url ?? '')?.[1] ?? 'api-keys';
  return resolve(request as OrgRequest, reply, TENANT_ID.test(tenantId) ? `/o/${tenantId}/${section}` : '/');
}

/** The path of a page of the organization. */
export function orgPath(context: OrgContext, rest = ''): string {
  return `/o/${context.organization.tenantId}${rest}`;
}
