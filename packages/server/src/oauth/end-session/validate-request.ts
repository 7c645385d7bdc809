import { keyStatus } from '../../domain/api-keys.ts';
import type { ApiKey } from '../../model/types.ts';
import type { Services } from '../../services.ts';
import { type IdTokenHintClaims, verifyIdTokenHint } from '../id-token.ts';

/**
 * The parameters of RP-Initiated Logout 1.0 section 2 this server reads. `logout_hint` and
 * `ui_locales` are accepted and ignored (one account per browser; one language); anything else is
 * ignored, as at the authorization endpoint.
 */
export const END_SESSION_PARAMS = [
  'id_token_hint',
  'client_id',
  'post_logout_redirect_uri',
  'state',
] as const;
const IGNORED_PARAMS = ['logout_hint', 'ui_locales'];

/** An ID token we issue is under 2 KB; a URI or a state this long is not one a client registered or needs. */
const MAX_PARAM_LENGTH = 8192;

/** A validated logout request: everything in it was checked, and may be acted on. */
export interface EndSessionRequest {
  /** The claims of a genuine `id_token_hint`; null without one. */
  hint: IdTokenHintClaims | null;
  /** The live client named by `client_id` or by the hint's `aud`; null when none is named or it is gone. */
  client: ApiKey | null;
  /** A `post_logout_redirect_uri` registered for {@link client}, byte for byte; null without one. */
  redirectUri: string | null;
  /** Echoed to {@link redirectUri} (section 2); null when the client sent none. */
  state: string | null;
  /** The parameters as received, carried by the confirmation page's form and validated again there. */
  params: Record<string, string>;
}

export type EndSessionValidation =
  | { ok: true; request: EndSessionRequest }
  /** Shown on an error page: never a redirect, and the session is left as it is. */
  | { ok: false; message: string };

const refuse = (message: string): EndSessionValidation => ({ ok: false, message });

/**
 * The parameters that matter, each once (RFC 6749 3.1's rule, which RP-Initiated Logout inherits: a
 * repeated parameter is refused, so that no two readings of one request can disagree).
 */
function singleParams(params: Record<string, string | string[]>): Record<string, string> | string {
  const out: Record<string, string> = {};
  for (const name of [...END_SESSION_PARAMS, ...IGNORED_PARAMS]) {
    const value = params[name];
    if (Array.isArray(value)) return `The ${name} parameter is repeated.`;
    if (value !== undefined && value.length > MAX_PARAM_LENGTH) return `The ${name} parameter is too long.`;
    // RFC 6749 3.1: a parameter sent without a value is treated as omitted.
    if (value !== undefined && value !== '' && (END_SESSION_PARAMS as readonly string[]).includes(name))
      out[name] = value;
  }
  return out;
}

/** The client a logout names, if it is still live (not revoked, not expired). */
async function liveClient(services: Services, clientId: string | undefined): Promise<ApiKey | null> {
  if (clientId === undefined) return null;
  const client = await services.keys.findClient(clientId);
  return client && keyStatus(client, Date.now()) === null ? client : null;
}

/**
 * Validates a logout request (RP-Initiated Logout 1.0 sections 2 and 3). A hint that is not one of our
 * genuine ID tokens, a `client_id` that contradicts the hint's `aud`, or a `post_logout_redirect_uri`
 * that is not registered, byte for byte, for a live client is refused on a page: the request could
 * come from anyone, so it may neither end the session on the strength of a forged hint nor send the
 * browser anywhere unregistered (DESIGN.md 3 rule 4: no open redirect on any path).
 */
export async function validateEndSessionRequest(
  services: Services,
  raw: Record<string, string | string[]>,
): Promise<EndSessionValidation> {
  const params = singleParams(raw);
  if (typeof params === 'string') return refuse(params);
  const { id_token_hint: idTokenHint, client_id: clientId, post_logout_redirect_uri: redirectUri } = params;

  let hint: IdTokenHintClaims | null = null;
  if (idTokenHint !== undefined) {
    const checked = await verifyIdTokenHint(services, idTokenHint);
    if (!checked.ok) return refuse(`The id_token_hint is not an ID token from Gatehouse: ${checked.reason}.`);
    hint = checked.claims;
  }
  // Section 2: with both, the OP verifies that client_id is the client the ID token was issued to.
  if (hint && clientId !== undefined && clientId !== hint.aud)
    return refuse('The client_id does not match the application the id_token_hint was issued to.');

  const client = await liveClient(services, clientId ?? hint?.aud);
  if (redirectUri !== undefined) {
    // Section 3: the URI must have been registered by the client; the client is known only from these.
    if (clientId === undefined && !hint)
      return refuse('A post_logout_redirect_uri needs an id_token_hint or a client_id.');
    if (!client) return refuse('This application is unknown or no longer authorized.');
    if (!client.postLogoutRedirectUris.includes(redirectUri))
      return refuse('The post_logout_redirect_uri is not registered for this application.');
  }
  return {
    ok: true,
    request: {
      hint,
      client,
      redirectUri: redirectUri ?? null,
      state: params.state ?? null,
      params,
    },
  };
}
