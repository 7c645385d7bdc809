export type SignInReason = 'not_member' | 'signed_out';

const RETURN_TO_BASE = 'http://gatehouse.invalid';
const MAX_RETURN_TO = 8192;
const AUTHORIZE_PATH = '/connect/authorize';

function hasControlSpaceOrBackslash(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code <= 0x20 || code === 0x7f || code === 0x5c) return true;
  }
  return false;
}

/** The console's own pages a sign-in may return to: an organization's pages, or the account page. */
const CONSOLE_PATH = /^\/(?:console|o\/[1-9]\d{0,9}(?:\/[A-Za-z0-9_-]+)*)$/;

/**
 * Where the sign-in page sends the browser once signed in: our own authorization endpoint or a console
 * page only, so that the parameter is no open redirect (DESIGN.md 3 rule 4). The value is re-serialized
 * by the URL parser, percent-encoding anything outside ASCII, so that it is always a valid Location
 * header; anything else (`//evil.example`, `/\evil`, control characters) is the console's start, `/`.
 */
export function safeReturnTo(value: unknown): string {
  if (typeof value !== 'string' || value.length > MAX_RETURN_TO || hasControlSpaceOrBackslash(value))
    return '/';
  const url = URL.parse(value, RETURN_TO_BASE);
  if (!url || url.origin !== RETURN_TO_BASE || !value.startsWith('/') || value.startsWith('//')) return '/';
  if (value.startsWith(`${AUTHORIZE_PATH}?`) && url.pathname === AUTHORIZE_PATH)
    return `${url.pathname}${url.search}`;
  if (CONSOLE_PATH.test(url.pathname) && value.startsWith(url.pathname))
    return `${url.pathname}${url.search}`;
  return '/';
}

/** The authorization request a return path repeats, as parameters; none for the console. */
export function authorizationParams(returnTo: string): Record<string, string | string[]> | undefined {
  if (!returnTo.startsWith(`${AUTHORIZE_PATH}?`)) return undefined;
  const params: Record<string, string | string[]> = {};
  for (const [name, value] of new URLSearchParams(returnTo.slice(AUTHORIZE_PATH.length + 1))) {
    const earlier = params[name];
    params[name] = earlier === undefined ? value : [earlier, value].flat();
  }
  return params;
}

/**
 * The email an authorization request suggests (OpenID Connect Core 3.1.2.1 `login_hint`), to pre-fill
 * the sign-in form; only something shaped like an address, and never more than an email field holds.
 */
export function loginHintOf(returnTo: string): string {
  const hint = authorizationParams(returnTo)?.login_hint;
  return typeof hint === 'string' && hint.length <= 254 && /^[^\s@]+@[^\s@]+$/.test(hint) ? hint : '';
}

export function signInPath(returnTo: string, reason?: SignInReason): string {
  const query = new URLSearchParams({ return_to: returnTo });
  if (reason) query.set('reason', reason);
  return `/console/sign-in?${query.toString()}`;
}
