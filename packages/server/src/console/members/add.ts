import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { addMember } from '../../domain/members.ts';
import { signInLinkUrl } from '../../domain/sign-in-links.ts';
import { ProblemError } from '../../errors/errors.ts';
import { formFields } from '../../http/session/csrf.ts';
import { type FieldErrors, textOf } from '../forms.ts';
import { adminForm, orgOf } from '../org/access.ts';
import { stashSecret } from '../reveal.ts';
import { sendShellPage } from '../shell.ts';
import { sentence } from '../workspaces/common.ts';
import { checkWorkspaceCount, formErrorsOf, memberPath, workspaceChoices, workspaceIdsOf } from './common.ts';
import { type NewMemberForm, newMemberPage } from './views.ts';

/** The kind of secret the member's page reveals once. */
export const SIGN_IN_LINK = 'sign-in-link';

function formOf(body: unknown): { form: NewMemberForm; password: string } {
  const fields = formFields(body);
  return {
    form: {
      email: textOf(fields.email, 1000).trim(),
      displayName: textOf(fields.displayName, 1000),
      role: textOf(fields.role, 20),
      workspaceIds: workspaceIdsOf(fields.workspaceIds),
      access: fields.access === 'password' ? 'password' : 'link',
    },
    // One more than the policy's maximum, so that a longer password is refused rather than cut.
    password: textOf(fields.password, 1025),
  };
}

/** Where a refusal shows on the form, and its status: beside the field it concerns when there is one. */
function refusalOf(
  error: ProblemError,
  form: NewMemberForm,
): { status: number; errors: FieldErrors; general?: string } {
  const detail = sentence(error.detail ?? error.message);
  switch (error.code) {
    case 'validation_failed': {
      const errors = formErrorsOf(
        error.errors.map((e) => ({ ...e, message: e.message.replace(/^displayName\b/, 'name') })),
      );
      // The password policy names no field: it is the password's when one was being set.
      if (!error.errors.length && form.access === 'password')
        return { status: 400, errors: { password: detail } };
      return error.errors.length ? { status: 400, errors } : { status: 400, errors, general: detail };
    }
    case 'forbidden':
      // An admin asking for an owner: the admin API's rule, shown beside the role.
      return { status: 403, errors: { role: detail } };
    case 'conflict':
      return { status: 409, errors: { email: 'This person is already a member of this organization.' } };
    default:
      throw error;
  }
}

async function add(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const context = orgOf(request);
  const { db, config } = request.server.services;
  const tenantId = context.organization.tenantId;
  const { form, password } = formOf(request.body);
  try {
    checkWorkspaceCount(form.workspaceIds);
    const added = await addMember(
      db,
      {
        tenantId,
        email: form.email,
        displayName: form.displayName.trim() ? form.displayName : null,
        role: form.role,
        // Workspaces limit members only; ticked boxes left over from choosing another role mean nothing.
        workspaceIds: form.role === 'member' ? form.workspaceIds : [],
        password: form.access === 'password' ? password : undefined,
      },
      context.actor,
    );
    const path = memberPath(context, added.user.id);
    if (added.signInToken) {
      // Shown once on the member's page, to this user only: never in a URL, a log or the database.
      const secret = signInLinkUrl(config.issuer, added.signInToken);
      stashSecret(reply, path, context.user.id, { kind: SIGN_IN_LINK, secret });
    }
    return reply.redirect(`${path}?done=${added.created ? 'added' : 'joined'}`, 303);
  } catch (error) {
    if (!(error instanceof ProblemError)) throw error;
    const { status, errors, general } = refusalOf(error, form);
    const choices = await workspaceChoices(db, tenantId, form.workspaceIds);
    return sendShellPage(reply, context, {
      title: 'Add member',
      section: 'members',
      status,
      body: newMemberPage(context, form, choices, errors, general),
    });
  }
}

/**
 * `POST /o/:tenantId/members`: adds a member (audited). A new account gets the password typed, or by
 * default a one-time sign-in link, which the member's page shows once.
 */
export function addMemberRoute(pages: FastifyInstance): void {
  pages.post('/o/:tenantId/members', { preHandler: adminForm, schema: { hide: true } }, add);
}
