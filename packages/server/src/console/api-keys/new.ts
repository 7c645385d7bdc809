import type { FastifyInstance, FastifyReply } from 'fastify';
import { createApiKey } from '../../domain/api-keys.ts';
import { listTenantWorkspaces } from '../../domain/workspaces.ts';
import { ProblemError } from '../../errors/errors.ts';
import { formFields } from '../../http/session/csrf.ts';
import type { ClientType, Permission } from '../../model/types.ts';
import { csrfField, errorSummary, type FieldErrors, fieldErrorsOf, linesOf, textOf } from '../forms.ts';
import { html } from '../html.ts';
import {
  adminForm,
  adminPage,
  type OrgContext,
  type OrgRequest,
  type OrgRoute,
  orgOf,
  orgPath,
} from '../org/access.ts';
import { stashSecret } from '../reveal.ts';
import { sendShellPage } from '../shell.ts';
import { checkSettings, isIdTokenAlgorithm } from './settings.ts';
import {
  clientTypeField,
  expiryField,
  type NewKeyInput,
  permissionsField,
  scopeField,
  settingsFields,
} from './views.ts';

/** How many workspaces the scope list offers: a page, not an export. */
const SCOPE_CHOICES = 1000;
const BLANK: NewKeyInput = {
  label: '',
  clientType: 'confidential',
  scope: '',
  permissions: 'write',
  redirectUris: '',
  corsOrigins: '',
  postLogoutRedirectUris: '',
  idTokenSignedResponseAlg: 'RS256',
  expiresOn: '',
};

async function renderForm(
  request: OrgRequest,
  reply: FastifyReply,
  context: OrgContext,
  input: NewKeyInput,
  errors: FieldErrors = {},
  general?: string,
  status = 200,
): Promise<FastifyReply> {
  const workspaces = await listTenantWorkspaces(request.server.services.db, context.organization.tenantId, {
    page: 1,
    size: SCOPE_CHOICES,
    sortBy: 'label',
  });
  const body = html`<div class="page-head"><div><p class="small"><a href="${orgPath(context, '/api-keys')}">API configuration</a></p><h1>Create an API key</h1></div></div>
${errorSummary(errors, general)}
<form method="post" action="${orgPath(context, '/api-keys')}" class="panel" novalidate>
${csrfField(context.csrf)}
<div class="form-grid">
<div>
${settingsFields(input, errors)}
</div>
<div>
${clientTypeField(input.clientType, errors.clientType)}
${scopeField(input.scope, workspaces.items, errors.scope, workspaces.total > SCOPE_CHOICES)}
${permissionsField(input.permissions, context.organization.role === 'owner', errors.permissions)}
${expiryField(input.expiresOn, errors.expiresOn)}
</div>
</div>
<div class="actions"><button type="submit" class="primary">Create key</button><a class="button secondary" href="${orgPath(context, '/api-keys')}">Cancel</a></div>
</form>`;
  return sendShellPage(reply, context, { title: 'Create an API key', section: 'api-keys', body, status });
}

function showForm(request: OrgRequest, reply: FastifyReply): Promise<FastifyReply> {
  return renderForm(request, reply, orgOf(request), BLANK);
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** A calendar date as typed: `2099-02-30` is no date (Date.parse would roll it over to March 2). */
function isDate(value: string): boolean {
  const ms = Date.parse(`${value}T00:00:00Z`);
  return DATE.test(value) && !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 10) === value;
}

/** A posted choice, or the form's default when the form did not send it. */
const choiceOf = (value: unknown, absent: string) => (value === undefined ? absent : textOf(value, 20));

function inputOf(body: Record<string, unknown>): NewKeyInput {
  return {
    label: textOf(body.label, 1000),
    clientType: choiceOf(body.clientType, BLANK.clientType),
    scope: textOf(body.scope, 20),
    permissions: textOf(body.permissions, 20),
    redirectUris: textOf(body.redirectUris),
    corsOrigins: textOf(body.corsOrigins),
    postLogoutRedirectUris: textOf(body.postLogoutRedirectUris),
    idTokenSignedResponseAlg: choiceOf(body.idTokenSignedResponseAlg, BLANK.idTokenSignedResponseAlg),
    expiresOn: textOf(body.expiresOn, 20),
  };
}

const isClientType = (value: string): value is ClientType => value === 'confidential' || value === 'public';

/** The form's checks, each wrong field named at once (the domain checks again, and the rest). */
function checkForm(input: NewKeyInput): FieldErrors {
  const errors = checkSettings(input);
  if (!isClientType(input.clientType)) errors.clientType = 'Choose a client type.';
  if (input.scope !== '' && !/^[1-9]\d{0,9}$/.test(input.scope))
    errors.scope = 'Choose a scope from the list.';
  if (!['read', 'write', 'admin'].includes(input.permissions)) errors.permissions = 'Choose the permissions.';
  if (input.expiresOn !== '' && !isDate(input.expiresOn)) errors.expiresOn = 'Give a date as YYYY-MM-DD.';
  return errors;
}

const RENAMED = { workspaceId: 'scope', expiresAt: 'expiresOn', expiresIn: 'expiresOn' };

async function create(request: OrgRequest, reply: FastifyReply): Promise<FastifyReply> {
  const context = orgOf(request);
  const input = inputOf(formFields(request.body));
  const formErrors = checkForm(input);
  if (Object.keys(formErrors).length)
    return renderForm(request, reply, context, input, formErrors, undefined, 400);
  const { db, caches } = request.server.services;
  try {
    const issued = await createApiKey(
      db,
      {
        tenantId: context.organization.tenantId,
        workspaceId: input.scope === '' ? null : Number(input.scope),
        label: input.label,
        permissions: input.permissions as Permission,
        redirectUris: linesOf(input.redirectUris),
        corsOrigins: linesOf(input.corsOrigins),
        // Checked by checkForm; narrowed for the types.
        clientType: isClientType(input.clientType) ? input.clientType : undefined,
        postLogoutRedirectUris: linesOf(input.postLogoutRedirectUris),
        idTokenSignedResponseAlg: isIdTokenAlgorithm(input.idTokenSignedResponseAlg)
          ? input.idTokenSignedResponseAlg
          : undefined,
        expiresAt: input.expiresOn === '' ? undefined : Date.parse(`${input.expiresOn}T00:00:00Z`),
      },
      context.actor,
    );
    // Preflights from the new key's origins are allowed at once on this instance.
    await caches.keyChanged(issued.key.id);
    const page = orgPath(context, `/api-keys/${issued.key.publicKey}`);
    // A public client has no private key to show: its page says so, and how such an app signs in.
    if (issued.privateKey === null) return reply.redirect(`${page}?done=created`, 303);
    stashSecret(reply, page, context.user.id, { kind: 'created', secret: issued.privateKey });
    return reply.redirect(page, 303);
  } catch (error) {
    if (!(error instanceof ProblemError)) throw error;
    if (error.code === 'validation_failed') {
      const errors = fieldErrorsOf(error.errors, RENAMED);
      return renderForm(
        request,
        reply,
        context,
        input,
        errors,
        Object.keys(errors).length ? undefined : error.detail,
        400,
      );
    }
    if (error.code === 'forbidden')
      return renderForm(
        request,
        reply,
        context,
        input,
        { permissions: error.detail ?? 'Not allowed.' },
        undefined,
        403,
      );
    throw error;
  }
}

/**
 * `GET /o/:tenantId/api-keys/new` and `POST /o/:tenantId/api-keys`: a new key, its private key shown
 * once (a public client has none).
 */
export function newKeyRoutes(pages: FastifyInstance): void {
  pages.get<OrgRoute>(
    '/o/:tenantId/api-keys/new',
    { preHandler: adminPage, schema: { hide: true } },
    showForm,
  );
  pages.post<OrgRoute>('/o/:tenantId/api-keys', { preHandler: adminForm, schema: { hide: true } }, create);
}
