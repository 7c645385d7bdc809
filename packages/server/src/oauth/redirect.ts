import { safeDescription } from '../errors/errors.ts';
/**
 * The URL the browser is sent back to: the registered redirect URI (its own query kept, RFC 6749
 * 3.1.2) with the response parameters added, and always `iss` (RFC 9207 2), so that a client talking
 * to several servers can tell which one answered and a mix-up attack fails.
 * Only ever called with a redirect URI that matched a registered one byte for byte (DESIGN.md 3 rule 4).
 */
export function redirectUrl(
  redirectUri: string,
  issuer: string,
  params: Record<string, string | null | undefined>,
): string {
  const url = new URL(redirectUri);
  for (const [name, value] of Object.entries(params)) {
    if (value !== null && value !== undefined) url.searchParams.append(name, value);
  }
  url.searchParams.append('iss', issuer);
  return url.href;
}

/** An RFC 6749 4.1.2.1 error response, with the client's `state` echoed when it sent one. */
export function errorRedirectUrl(
  redirectUri: string,
  issuer: string,
  error: string,
  description: string,
  state: string | null,
): string {
  return redirectUrl(redirectUri, issuer, { error, error_description: safeDescription(description), state });
}

/** A loopback redirect URI (RFC 8252 7.3): `http://127.0.0.1` or `http://[::1]`, any port, then the rest. */
const LOOPBACK_REDIRECT = /^http:\/\/(127\.0\.0\.1|\[::1\])(?::\d{1,5})?(?=[/?]|$)/;

/**
 * Whether `redirectUri` is registered: byte for byte (DESIGN.md 1, RFC 9700 4.1.1), except that a
 * loopback IP literal matches on any port (RFC 8252 7.3: a native app listens on a port the operating
 * system picks). Only the port may differ; `localhost` gets no such leniency (RFC 8252 8.3).
 */
export function isRegisteredRedirect(registered: readonly string[], redirectUri: string): boolean {
  if (registered.includes(redirectUri)) return true;
  // A port no URL can carry (above 65535) is no redirect URI at all: refused here, not a 500 later.
  if (!LOOPBACK_REDIRECT.test(redirectUri) || !URL.canParse(redirectUri)) return false;
  const portless = (uri: string) => uri.replace(LOOPBACK_REDIRECT, 'http://$1');
  const wanted = portless(redirectUri);
  return registered.some((uri) => LOOPBACK_REDIRECT.test(uri) && portless(uri) === wanted);
}
