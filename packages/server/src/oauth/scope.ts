import { API_SCOPE, missingScope, SCOPES, type Scope } from '../domain/scopes.ts';
import { OAuthError } from '../errors/errors.ts';

/** RFC 6749 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ). */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/**
 * Validates a requested `scope` against the scopes a grant allows and returns it in canonical form
 * (known order, no duplicates). Absent means `api1` (DESIGN.md 1). `api1` or `openid` is mandatory; a scope the
 * grant does not allow (`offline_access` outside the authorization code grant) or an unknown one is
 * `invalid_scope` (RFC 6749 5.2).
 */
export function resolveScope(requested: string | undefined, allowed: readonly Scope[] = [API_SCOPE]): string {
  if (requested === undefined) return API_SCOPE;
  // RFC 6749 3.3 separates tokens with single spaces; extra spaces are tolerated, not meaningful.
  const tokens = requested.split(' ').filter((token) => token !== '');
  if (tokens.length === 0) return API_SCOPE;
  for (const token of tokens) {
    if (!SCOPE_TOKEN.test(token)) throw new OAuthError('invalid_scope', 'the scope is malformed');
    if (!(allowed as readonly string[]).includes(token)) {
      // Only plain names are echoed back: a response never reflects arbitrary input.
      const name = /^[\w.:-]{1,40}$/.test(token) ? `"${token}" ` : '';
      throw new OAuthError(
        'invalid_scope',
        (SCOPES as readonly string[]).includes(token)
          ? `scope ${name}is not available with this grant`
          : `scope ${name}is not supported`,
      );
    }
  }
  const problem = missingScope(tokens);
  if (problem) throw new OAuthError('invalid_scope', problem);
  return SCOPES.filter((scope) => tokens.includes(scope)).join(' ');
}
