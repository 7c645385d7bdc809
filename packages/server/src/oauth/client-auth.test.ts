import { describe, expect, it } from 'vitest';
import { refusal } from '../../test/helpers/refusal.ts';
import type { OAuthError } from '../errors/errors.ts';
import {
  INTROSPECTION_AUTH_METHODS,
  REVOCATION_AUTH_METHODS,
  readBasic,
  readClientCredentials,
  TOKEN_AUTH_METHODS,
} from './client-auth.ts';
import { parseForm } from './form-body.ts';

/** RFC 6749 2.3.1 as a client should send it: each part form-urlencoded, then base64. */
const formEncode = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${formEncode(id)}:${formEncode(secret)}`).toString('base64')}`;
/** Basic over exactly these bytes, encoded or not. */
const rawBasic = (decoded: string | Buffer) => `Basic ${Buffer.from(decoded).toString('base64')}`;

function expectInvalidClient(error: OAuthError, description?: string) {
  expect(error.error).toBe('invalid_client');
  expect(error.status).toBe(401);
  // RFC 6749 5.2: the challenge of the scheme the client used.
  expect(error.headers['www-authenticate']).toMatch(/^Basic realm="gatehouse"/);
  if (description) expect(error.description).toBe(description);
}

describe('readBasic (RFC 7617 with the RFC 6749 2.3.1 encoding)', () => {
  it('reads client_id and client_secret', () => {
    expect(readBasic(basic('gpk_client', 'gsk_secret'))).toEqual({
      clientId: 'gpk_client',
      clientSecret: 'gsk_secret',
      method: 'client_secret_basic',
    });
  });

  it('form-decodes both parts: + is a space, %XX a byte of UTF-8', () => {
    expect(readBasic(rawBasic('my+client:p%C3%A4ss+word%2B'))).toMatchObject({
      clientId: 'my client',
      clientSecret: 'päss word+',
    });
  });

  it('round-trips a colon, a plus, a percent and a space encoded by the client', () => {
    const id = 'id:with+odd %chars';
    const secret = 'sec:ret+%20 x';
    expect(readBasic(basic(id, secret))).toMatchObject({ clientId: id, clientSecret: secret });
  });

  it('splits at the first colon: an unencoded colon belongs to the secret', () => {
    expect(readBasic(rawBasic('client:sec:ret'))).toMatchObject({
      clientId: 'client',
      clientSecret: 'sec:ret',
    });
  });

  it('accepts the scheme in any case, with surrounding spaces', () => {
    const credentials = Buffer.from('client:secret').toString('base64');
    for (const header of [`basic ${credentials}`, `BASIC ${credentials}`, `  Basic   ${credentials}  `])
      expect(readBasic(header).clientId, header).toBe('client');
  });

  it('refuses credentials without the colon separator', () => {
    expectInvalidClient(
      refusal(() => readBasic(rawBasic('client-secret'))),
      "the Basic credentials lack the ':' separator",
    );
  });

  it.each([
    ['an empty client_id', ':secret'],
    ['an empty client_secret', 'client:'],
    ['both parts empty', ':'],
  ])('refuses %s', (_case, decoded) => {
    expectInvalidClient(
      refusal(() => readBasic(rawBasic(decoded))),
      'the Basic credentials lack a client_id or client_secret',
    );
  });

  it('refuses credentials that are not UTF-8', () => {
    const bytes = Buffer.concat([Buffer.from('client:'), Buffer.of(0xff, 0xfe, 0xc3)]);
    expectInvalidClient(
      refusal(() => readBasic(rawBasic(bytes))),
      'the Basic credentials are not valid UTF-8',
    );
  });

  it.each([
    ['a stray percent', 'client:100%'],
    ['a truncated escape', 'client:%4'],
    ['an escape of invalid UTF-8', 'client:%FF'],
  ])('refuses parts that are not correctly form-urlencoded: %s', (_case, decoded) => {
    expectInvalidClient(
      refusal(() => readBasic(rawBasic(decoded))),
      'the Basic credentials are not correctly form-urlencoded',
    );
  });

  it.each([
    ['another scheme', `Bearer ${Buffer.from('client:secret').toString('base64')}`],
    ['no credentials', 'Basic'],
    ['no space after the scheme', `Basic${Buffer.from('client:secret').toString('base64')}`],
    ['characters outside base64', 'Basic client:secret'],
    ['base64url characters', 'Basic Y2xp-_ZW50'],
    ['three padding characters', 'Basic YWJj==='],
    [
      'two credentials',
      `Basic ${Buffer.from('a:b').toString('base64')} ${Buffer.from('c:d').toString('base64')}`,
    ],
    ['an empty header', ''],
  ])('refuses %s as a malformed Basic header', (_case, header) => {
    expectInvalidClient(
      refusal(() => readBasic(header)),
      "the Authorization header must be 'Basic base64(client_id:client_secret)'",
    );
  });
});

describe('readClientCredentials (RFC 6749 2.3: exactly one method)', () => {
  const form = (body: string) => parseForm(body);

  it('reads client_secret_basic', () => {
    expect(readClientCredentials(basic('client', 'secret'), form('grant_type=client_credentials'))).toEqual({
      clientId: 'client',
      clientSecret: 'secret',
      method: 'client_secret_basic',
    });
  });

  it('reads client_secret_post from the body when there is no Authorization header', () => {
    expect(readClientCredentials(undefined, form('client_id=client&client_secret=s%2Bcret'))).toEqual({
      clientId: 'client',
      clientSecret: 's+cret',
      method: 'client_secret_post',
    });
  });

  it('refuses Basic together with client_secret in the body as invalid_request, even when they agree', () => {
    const error = refusal(() =>
      readClientCredentials(basic('client', 'secret'), form('client_id=client&client_secret=secret')),
    );
    expect(error.error).toBe('invalid_request');
    expect(error.status).toBe(400);
  });

  it('refuses Basic together with a body client_secret before looking at the header', () => {
    // Two methods is the client's mistake whatever the header holds: invalid_request, not invalid_client.
    expect(refusal(() => readClientCredentials('Basic !!!', form('client_secret=secret'))).error).toBe(
      'invalid_request',
    );
  });

  it('accepts a body client_id that names the Basic client (RFC 6749 4.1.3)', () => {
    expect(readClientCredentials(basic('client', 'secret'), form('client_id=client')).method).toBe(
      'client_secret_basic',
    );
  });

  it('compares the body client_id with the decoded Basic one', () => {
    expect(readClientCredentials(rawBasic('my+client:secret'), form('client_id=my+client')).clientId).toBe(
      'my client',
    );
  });

  it('refuses a body client_id that differs from the Basic one as invalid_request', () => {
    const error = refusal(() =>
      readClientCredentials(basic('client', 'secret'), form('client_id=someone-else')),
    );
    expect(error.error).toBe('invalid_request');
    expect(error.description).toBe('client_id differs from the authenticated client');
  });

  it('refuses a malformed Basic header as invalid_client even with a client_id in the body', () => {
    expectInvalidClient(refusal(() => readClientCredentials('Basic %%%', form('client_id=client'))));
  });

  it.each([
    ['no credentials at all', ''],
    ['a client_secret without a client_id', 'client_secret=secret'],
    ['an empty client_id (dropped as omitted)', 'client_id=&client_secret=secret'],
  ])('refuses %s as invalid_client with a Basic challenge', (_case, body) => {
    expectInvalidClient(refusal(() => readClientCredentials(undefined, form(body))));
  });
});

describe('readClientCredentials: method none, a public client by its client_id (RFC 6749 3.2.1)', () => {
  const form = (body: string) => parseForm(body);

  it('reads a client_id without a client_secret as the method none', () => {
    expect(readClientCredentials(undefined, form('grant_type=refresh_token&client_id=client'))).toEqual({
      clientId: 'client',
      method: 'none',
    });
  });

  it('reads an empty client_secret as omitted (RFC 6749 3.1), so as the method none', () => {
    expect(readClientCredentials(undefined, form('client_id=client&client_secret=')).method).toBe('none');
  });

  it('never turns Basic with an empty secret into the method none: it is a malformed Basic header', () => {
    expectInvalidClient(
      refusal(() => readClientCredentials(rawBasic('client:'), form('client_id=client'))),
      'the Basic credentials lack a client_id or client_secret',
    );
  });
});

describe('the authentication methods each endpoint advertises', () => {
  it('lists none for the token and revocation endpoints, not for introspection (RFC 7662 2.1)', () => {
    expect([...TOKEN_AUTH_METHODS]).toEqual(['client_secret_basic', 'client_secret_post', 'none']);
    expect([...REVOCATION_AUTH_METHODS]).toEqual(['client_secret_basic', 'client_secret_post', 'none']);
    expect([...INTROSPECTION_AUTH_METHODS]).toEqual(['client_secret_basic', 'client_secret_post']);
  });
});
