import type { FastifyReply, FastifyRequest } from 'fastify';
import { tenantLabel } from '../../domain/tenants.ts';
import { csrfToken } from '../../http/session/csrf.ts';
import type { ApiKey } from '../../model/types.ts';
import { validateAuthorizationRequest } from '../../oauth/authorize/validate-request.ts';
import { formTargetOf, sendPage } from '../layout.ts';
import { authorizationParams } from './return-to.ts';
import { type SignInView, signInPage } from './view.ts';

/** The application a sign-in is for, with its redirect URI once that is trusted. */
export interface SignInTarget {
  client: ApiKey;
  redirectUri: string | null;
}

/**
 * The application the sign-in is for: the live client of the authorization request it will return to,
 * judged by the authorization endpoint's own validation, with the redirect URI only when that is one
 * it registered (byte for byte).
 */
export async function signInTarget(
  request: FastifyRequest,
  returnTo: string,
): Promise<SignInTarget | undefined> {
  const params = authorizationParams(returnTo);
  if (!params) return undefined;
  const validation = await validateAuthorizationRequest(request.server.services, params);
  if (validation.kind === 'ok')
    return { client: validation.request.client, redirectUri: validation.request.redirectUri };
  if (validation.kind === 'redirect')
    return { client: validation.client, redirectUri: validation.redirectUri };
  return validation.client && { client: validation.client, redirectUri: null };
}

/** Renders the sign-in page, naming the application and organization it is for. */
export async function renderSignIn(
  request: FastifyRequest,
  reply: FastifyReply,
  view: Omit<SignInView, 'csrfToken' | 'context'>,
  status = 200,
): Promise<FastifyReply> {
  const target = await signInTarget(request, view.returnTo);
  const organization = target && (await tenantLabel(request.server.services.db, target.client.tenantId));
  const context =
    target && organization !== undefined ? { app: target.client.label, organization } : undefined;
  const body = signInPage({ ...view, context, csrfToken: csrfToken(request, reply) });
  // Signing in may lead straight on to the client (consent remembered): see formTargetOf.
  const formTargets = target?.redirectUri ? formTargetOf(target.redirectUri) : [];
  return sendPage(reply, { status, title: 'Sign in', body, formTargets });
}
