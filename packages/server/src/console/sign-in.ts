import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { keyStatus } from '../auth/key-cache.ts';
import { endSession, startSession } from '../domain/sessions.ts';
import { signIn } from '../domain/sign-in.ts';
import type { SignInThrottle } from '../domain/sign-in-throttle.ts';
import type { ApiKey } from '../domain/types.ts';
import { findTenant } from '../storage/repositories/tenants.ts';
import { CSRF_FIELD, checkCsrf, csrfFailure, csrfToken, formFields } from './csrf.ts';
import { html, type SafeHtml } from './html.ts';
import { formTargetOf, sendErrorPage, sendPage } from './layout.ts';
import { readSessionCookie, setSessionCookie } from './session-cookie.ts';

export type SignInReason = 'not_member' | 'signed_out';

const NOTICES: Record<SignInReason, string> = {
  not_member:
    'The account you are signed in with is not a member of the organization of this application. Sign in with another account.',
  signed_out: 'You are signed out.',
};

const RETURN_TO_BASE = 'http://gatehouse.invalid';
const MAX_RETURN_TO = 8192;

function hasControlSpaceOrBackslash(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code <= 0x20 || code === 0x7f || code === 0x5c) return true;
  }
  return false;
}

/**
 * Where the sign-in page sends the browser once signed in: our own authorization endpoint or the
 * console only, so that the parameter is no open redirect (DESIGN.md 3 rule 4). The value is
 * re-serialized by the URL parser, percent-encoding anything outside ASCII, so that it is always a
 * valid Location header; anything else (`//evil.example`, `/\evil`, control characters) is the console.
 */
export function safeReturnTo(value: unknown): string {
  if (typeof value !== 'string' || value.length > MAX_RETURN_TO || !value.startsWith('/connect/authorize?'))
    return '/console';
  if (hasControlSpaceOrBackslash(value)) return '/console';
  const url = URL.parse(value, RETURN_TO_BASE);
  if (!url || url.origin !== RETURN_TO_BASE || url.pathname !== '/connect/authorize') return '/console';
  return `${url.pathname}${url.search}`;
}

export function signInPath(returnTo: string, reason?: SignInReason): string {
  const query = new URLSearchParams({ return_to: returnTo });
  if (reason) query.set('reason', reason);
  return `/console/sign-in?${query.toString()}`;
}

/**
 * The application the sign-in is for, read from the authorization request it will return to, with its
 * redirect URI when that is one it registered (byte for byte).
 */
async function clientOf(
  request: FastifyRequest,
  returnTo: string,
): Promise<{ client: ApiKey; redirectUri: string | null } | undefined> {
  if (!returnTo.startsWith('/connect/authorize?')) return undefined;
  const query = new URLSearchParams(returnTo.slice(returnTo.indexOf('?') + 1));
  const clientId = query.get('client_id');
  const client = clientId ? await request.server.services.keys.findClient(clientId) : undefined;
  if (!client || keyStatus(client, Date.now()) !== null) return undefined;
  const redirectUri = query.get('redirect_uri');
  return {
    client,
    redirectUri: redirectUri && client.redirectUris.includes(redirectUri) ? redirectUri : null,
  };
}

interface SignInView {
  email: string;
  returnTo: string;
  csrfToken: string;
  error?: string | undefined;
  notice?: string | undefined;
  context?: { app: string; organization: string } | undefined;
}

export function signInPage(view: SignInView): SafeHtml {
  return html`<h1>Sign in</h1>
${view.context ? html`<p class="lead">to continue to <strong>${view.context.app}</strong> (${view.context.organization})</p>` : ''}
${view.notice ? html`<p class="notice" role="status">${view.notice}</p>` : ''}
${view.error ? html`<p class="error" role="alert" id="sign-in-error">${view.error}</p>` : ''}
<form method="post" action="/console/sign-in">
<input type="hidden" name="${CSRF_FIELD}" value="${view.csrfToken}">
<input type="hidden" name="return_to" value="${view.returnTo}">
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="username" required maxlength="254" value="${view.email}"${view.error ? html` aria-describedby="sign-in-error"` : ''}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required maxlength="1024">
<div class="actions"><button type="submit" class="primary">Sign in</button></div>
</form>`;
}

async function render(
  request: FastifyRequest,
  reply: FastifyReply,
  view: Omit<SignInView, 'csrfToken' | 'context'>,
  status = 200,
): Promise<FastifyReply> {
  const target = await clientOf(request, view.returnTo);
  const tenant = target && (await findTenant(request.server.services.db, target.client.tenantId));
  const context = target && tenant ? { app: target.client.label, organization: tenant.label } : undefined;
  const body = signInPage({ ...view, context, csrfToken: csrfToken(request, reply) });
  // Signing in may lead straight on to the client (consent remembered): see formTargetOf.
  const formTargets = target?.redirectUri ? formTargetOf(target.redirectUri) : [];
  return sendPage(reply, { status, title: 'Sign in', body, formTargets });
}

function field(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  return typeof value === 'string' ? value : '';
}

/** `GET|POST /console/sign-in`: the email and password form (DESIGN.md 3 rule 8). */
export function signInRoutes(app: FastifyInstance, throttle: SignInThrottle): void {
  app.get<{ Querystring: Record<string, unknown> }>(
    '/console/sign-in',
    { schema: { hide: true } },
    (request, reply) => {
      const reason = request.query.reason;
      const notice = reason === 'not_member' || reason === 'signed_out' ? NOTICES[reason] : undefined;
      return render(request, reply, { email: '', returnTo: safeReturnTo(request.query.return_to), notice });
    },
  );

  app.post('/console/sign-in', { schema: { hide: true } }, async (request, reply) => {
    const body = formFields(request.body);
    if (!checkCsrf(request, body[CSRF_FIELD])) return csrfFailure(reply);
    const email = field(body, 'email').trim().slice(0, 254);
    const password = field(body, 'password').slice(0, 1024);
    const returnTo = safeReturnTo(body.return_to);
    const client = (await clientOf(request, returnTo))?.client;
    const { db } = request.server.services;
    const outcome = await signIn(db, throttle, { email, password, ip: request.ip, client });
    switch (outcome.kind) {
      case 'throttled':
        return sendErrorPage(
          reply,
          429,
          'Too many attempts',
          `Too many failed sign-ins. Try again in ${Math.ceil(outcome.retryAfterSeconds / 60)} minutes.`,
          { 'retry-after': String(outcome.retryAfterSeconds) },
        );
      case 'busy':
        return sendErrorPage(
          reply,
          503,
          'Busy',
          'Many people are signing in right now. Try again in a moment.',
          { 'retry-after': String(outcome.retryAfterSeconds) },
        );
      case 'failed':
        // One answer for an unknown account and a wrong password (DESIGN.md 3 rule 8).
        return render(request, reply, { email, returnTo, error: 'Incorrect email or password.' }, 400);
      case 'not_member':
        return render(
          request,
          reply,
          { email, returnTo, error: 'This account is not a member of the organization of this application.' },
          403,
        );
      case 'ok': {
        // A new session on every sign-in (no fixation); the one it replaces ends now.
        const previous = readSessionCookie(request);
        if (previous) await endSession(db, previous);
        const { token } = await startSession(db, outcome.user.id);
        setSessionCookie(reply, token);
        return reply.redirect(returnTo, 303);
      }
    }
  });
}
