import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkChallenge, verifyChallenge } from './pkce.ts';

/** RFC 7636 appendix B. */
const RFC_VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
const RFC_CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

const s256 = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');

describe('checkChallenge (authorization request)', () => {
  it('accepts an S256 challenge: the RFC 7636 appendix B one', () => {
    expect(checkChallenge(RFC_CHALLENGE, 'S256')).toEqual({ ok: true, challenge: RFC_CHALLENGE });
  });

  it('accepts a request without PKCE: no challenge and no method', () => {
    expect(checkChallenge(undefined, undefined)).toEqual({ ok: true, challenge: null });
  });

  it('refuses the plain method (DESIGN.md 3 rule 5)', () => {
    const result = checkChallenge(RFC_VERIFIER, 'plain');
    expect(result.ok).toBe(false);
    expect(result).toMatchObject({ reason: expect.stringMatching(/S256/) });
  });

  it('refuses a challenge without a method, which RFC 7636 4.3 would read as plain', () => {
    expect(checkChallenge(RFC_CHALLENGE, undefined)).toEqual({
      ok: false,
      reason: 'code_challenge_method is required and must be S256 (plain is refused)',
    });
  });

  it('refuses a method without a challenge', () => {
    expect(checkChallenge(undefined, 'S256')).toEqual({
      ok: false,
      reason: 'code_challenge_method without code_challenge',
    });
  });

  it.each(['s256', 'S512', 'SHA256', ''])('refuses the method %j: only S256, spelled exactly', (method) => {
    expect(checkChallenge(RFC_CHALLENGE, method).ok).toBe(false);
  });

  it.each([
    ['42 characters', RFC_CHALLENGE.slice(0, 42)],
    ['44 characters', `${RFC_CHALLENGE}A`],
    ['base64 padding', `${RFC_CHALLENGE.slice(0, 42)}=`],
    ['the base64 alphabet (+ and /)', `${RFC_CHALLENGE.slice(0, 41)}+/`],
    ['a space', `${RFC_CHALLENGE.slice(0, 42)} `],
  ])('refuses an S256 challenge of %s: it must be 43 base64url characters', (_case, challenge) => {
    expect(checkChallenge(challenge, 'S256')).toEqual({
      ok: false,
      reason: 'code_challenge must be 43 base64url characters (S256)',
    });
  });
});

describe('verifyChallenge (token request, RFC 7636 4.6)', () => {
  it('matches the RFC 7636 appendix B verifier and challenge', () => {
    expect(s256(RFC_VERIFIER)).toBe(RFC_CHALLENGE);
    expect(verifyChallenge(RFC_VERIFIER, RFC_CHALLENGE)).toBe(true);
  });

  it('refuses a verifier that does not hash to the challenge', () => {
    const other = `${RFC_VERIFIER.slice(0, -1)}l`;
    expect(verifyChallenge(other, RFC_CHALLENGE)).toBe(false);
  });

  it('refuses the challenge itself presented as the verifier (what plain would accept)', () => {
    expect(verifyChallenge(RFC_CHALLENGE, RFC_CHALLENGE)).toBe(false);
  });

  it('accepts verifiers of 43 and 128 characters, the bounds of RFC 7636 4.1', () => {
    for (const verifier of ['a'.repeat(43), 'Z'.repeat(128)])
      expect(verifyChallenge(verifier, s256(verifier)), `${verifier.length}`).toBe(true);
  });

  it('refuses verifiers of 42 and 129 characters even when they hash to the challenge', () => {
    for (const verifier of ['a'.repeat(42), 'Z'.repeat(129)])
      expect(verifyChallenge(verifier, s256(verifier)), `${verifier.length}`).toBe(false);
  });

  it('accepts every unreserved character: letters, digits, - . _ ~', () => {
    const verifier = `${'AZaz09'.repeat(6)}-._~-._~`;
    expect(verifier.length).toBeGreaterThanOrEqual(43);
    expect(verifyChallenge(verifier, s256(verifier))).toBe(true);
  });

  it.each([
    ['+', `${'a'.repeat(42)}+`],
    ['/', `${'a'.repeat(42)}/`],
    ['=', `${'a'.repeat(42)}=`],
    ['a space', `${'a'.repeat(42)} `],
    ['%', `${'a'.repeat(42)}%`],
    ['a non-ASCII letter', `${'a'.repeat(42)}é`],
  ])('refuses a verifier with %s even when it hashes to the challenge', (_case, verifier) => {
    expect(verifyChallenge(verifier, s256(verifier))).toBe(false);
  });

  it('refuses an empty challenge', () => {
    expect(verifyChallenge(RFC_VERIFIER, '')).toBe(false);
  });
});
