import type { FastifyInstance, FastifyReply } from 'fastify';
import { updateKey } from '../../domain/api-keys.ts';
import { ProblemError } from '../../errors/errors.ts';
import { formFields } from '../../http/session/csrf.ts';
import { fieldErrorsOf, linesOf, textOf } from '../forms.ts';
import { adminForm, orgOf, orgPath } from '../org/access.ts';
import { checkSettings, isIdTokenAlgorithm } from './settings.ts';
import { type KeyRequest, type KeyRoute, keyOfPath, renderKeyPage } from './show.ts';
import { type KeySettingsInput, settingsOf } from './views.ts';

/**
 * The settings as posted. A field the form did not send at all keeps the key's current value (as if
 * the form had been sent unchanged); a sent field, even empty, is what the key gets.
 */
function postedSettings(body: Record<string, unknown>, current: KeySettingsInput): KeySettingsInput {
  return {
    label: textOf(body.label, 1000),
    redirectUris: textOf(body.redirectUris),
    corsOrigins: textOf(body.corsOrigins),
    postLogoutRedirectUris:
      body.postLogoutRedirectUris === undefined
        ? current.postLogoutRedirectUris
        : textOf(body.postLogoutRedirectUris),
    idTokenSignedResponseAlg:
      body.idTokenSignedResponseAlg === undefined
        ? current.idTokenSignedResponseAlg
        : textOf(body.idTokenSignedResponseAlg, 20),
  };
}

async function update(request: KeyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const context = orgOf(request);
  const key = await keyOfPath(request, context);
  const settings = postedSettings(formFields(request.body), settingsOf(key));
  const invalid = (settingsErrors: Record<string, string>, status = 400) =>
    renderKeyPage(request, reply, context, key, { settings, settingsErrors, status });
  const errors = checkSettings(settings);
  if (Object.keys(errors).length) return invalid(errors);
  const { db, caches } = request.server.services;
  try {
    await updateKey(
      db,
      key.publicKey,
      {
        label: settings.label,
        redirectUris: linesOf(settings.redirectUris),
        corsOrigins: linesOf(settings.corsOrigins),
        postLogoutRedirectUris: linesOf(settings.postLogoutRedirectUris),
        // Checked by checkSettings; narrowed for the types.
        idTokenSignedResponseAlg: isIdTokenAlgorithm(settings.idTokenSignedResponseAlg)
          ? settings.idTokenSignedResponseAlg
          : undefined,
      },
      context.actor,
      { tenantId: context.organization.tenantId, caches },
    );
  } catch (error) {
    if (!(error instanceof ProblemError)) throw error;
    if (error.code === 'validation_failed') return invalid(fieldErrorsOf(error.errors));
    // An admin changing an admin key, a key revoked meanwhile: said on the form, nothing changed.
    if (error.code === 'forbidden' || error.code === 'conflict')
      return invalid({ label: error.detail ?? 'This key cannot be changed.' }, error.status);
    throw error;
  }
  return reply.redirect(`${orgPath(context, `/api-keys/${key.publicKey}`)}?done=updated`, 303);
}

/**
 * `POST /o/:tenantId/api-keys/:publicKey`: saves a key's label, redirect URLs, post-logout redirect
 * URLs, CORS origins and ID token algorithm (never its client type, fixed at creation).
 */
export function updateKeyRoute(pages: FastifyInstance): void {
  pages.post<KeyRoute>(
    '/o/:tenantId/api-keys/:publicKey',
    { preHandler: adminForm, schema: { hide: true } },
    update,
  );
}
