import { describe, expect, it } from 'vitest';
import { refusal } from '../../test/helpers/refusal.ts';
import { SCOPES } from '../domain/scopes.ts';
import { resolveScope } from './scope.ts';

const WITH_REFRESH = SCOPES;

describe('resolveScope', () => {
  it('gives api1 when no scope is requested (DESIGN.md 1: a client-credentials request without scope gets api1)', () => {
    expect(resolveScope(undefined)).toBe('api1');
    expect(resolveScope(undefined, WITH_REFRESH)).toBe('api1');
  });

  it('treats a scope of only spaces as no scope', () => {
    expect(resolveScope('   ')).toBe('api1');
  });

  it('accepts api1 alone', () => {
    expect(resolveScope('api1')).toBe('api1');
  });

  it('requires api1: offline_access alone is invalid_scope', () => {
    const error = refusal(() => resolveScope('offline_access', WITH_REFRESH));
    expect(error.error).toBe('invalid_scope');
    expect(error.status).toBe(400);
    expect(error.description).toBe('the api1 scope is required');
  });

  it('refuses offline_access with a grant that does not allow it (client credentials), naming it', () => {
    const error = refusal(() => resolveScope('api1 offline_access'));
    expect(error.error).toBe('invalid_scope');
    expect(error.description).toBe("scope 'offline_access' is not available with this grant");
  });

  it('grants offline_access where the grant allows it', () => {
    expect(resolveScope('api1 offline_access', WITH_REFRESH)).toBe('api1 offline_access');
  });

  it('answers in canonical order whatever the requested order', () => {
    expect(resolveScope('offline_access api1', WITH_REFRESH)).toBe('api1 offline_access');
  });

  it('drops duplicates', () => {
    expect(resolveScope('api1 api1')).toBe('api1');
    expect(resolveScope('offline_access api1 offline_access api1', WITH_REFRESH)).toBe('api1 offline_access');
  });

  it('tolerates extra spaces between, before and after tokens', () => {
    expect(resolveScope('  api1   offline_access ', WITH_REFRESH)).toBe('api1 offline_access');
  });

  it('refuses an unknown scope as not supported, naming a plain name', () => {
    const error = refusal(() => resolveScope('api1 admin'));
    expect(error.error).toBe('invalid_scope');
    expect(error.description).toBe("scope 'admin' is not supported");
  });

  it('compares scopes case-sensitively (RFC 6749 3.3): API1 is not api1', () => {
    expect(refusal(() => resolveScope('API1')).error).toBe('invalid_scope');
  });

  it.each([
    ['a double quote (%x22)', 'api1 "x"'],
    ['a backslash (%x5C)', 'api1 a\\b'],
    ['a tab inside a token', 'api1\toffline_access'],
    ['a control character', 'api1 a\u0000b'],
    ['a non-ASCII character', 'api1 scopé'],
    ['a DEL character (%x7F)', 'api1 a\u007f'],
  ])('refuses a scope token with %s as malformed (RFC 6749 3.3 scope-token)', (_case, requested) => {
    const error = refusal(() => resolveScope(requested, WITH_REFRESH));
    expect(error.error).toBe('invalid_scope');
    expect(error.description).toBe('the scope is malformed');
  });

  it.each([
    ['markup', '<script>alert(1)</script>'],
    ['a URL', 'https://evil.example/x?y=z'],
    ['a 41-character name', 'a'.repeat(41)],
    ['a quote-breaking name', "x'onmouseover=alert(1)"],
  ])('never echoes %s back in the error', (_case, token) => {
    const error = refusal(() => resolveScope(`api1 ${token}`));
    expect(error.error).toBe('invalid_scope');
    expect(error.description).toBe('scope is not supported');
    expect(error.message).not.toContain(token);
  });

  it('echoes a plain name of up to 40 characters', () => {
    const name = 'b'.repeat(40);
    expect(refusal(() => resolveScope(`api1 ${name}`)).description).toBe(`scope '${name}' is not supported`);
  });
});
