import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { refusal } from '../../test/helpers/refusal.ts';
import { formParams, parseForm } from './form-body.ts';

describe('parseForm (application/x-www-form-urlencoded, RFC 6749 appendix B)', () => {
  it('reads each parameter once, by name', () => {
    expect(parseForm('grant_type=client_credentials&scope=api1')).toEqual(
      new Map([
        ['grant_type', 'client_credentials'],
        ['scope', 'api1'],
      ]),
    );
  });

  it('refuses a parameter sent twice as invalid_request, naming it (RFC 6749 3.1, 3.2)', () => {
    const error = refusal(() => parseForm('scope=api1&grant_type=client_credentials&scope=api1'));
    expect(error.error).toBe('invalid_request');
    expect(error.status).toBe(400);
    expect(error.description).toBe("parameter 'scope' is included more than once");
  });

  it('refuses a parameter sent twice even when one of the values is empty', () => {
    expect(refusal(() => parseForm('code=&code=abc')).error).toBe('invalid_request');
    expect(refusal(() => parseForm('code=abc&code=')).error).toBe('invalid_request');
  });

  it('refuses a duplicate spelled differently: names are compared after decoding', () => {
    expect(refusal(() => parseForm('client_id=a&client%5Fid=b')).error).toBe('invalid_request');
  });

  it('drops a parameter without a value, as omitted (RFC 6749 3.1)', () => {
    const params = parseForm('scope=&state&grant_type=refresh_token');
    expect(params.has('scope')).toBe(false);
    expect(params.has('state')).toBe(false);
    expect([...params]).toEqual([['grant_type', 'refresh_token']]);
  });

  it('ignores empty pairs between separators', () => {
    expect([...parseForm('&&token=t&&')]).toEqual([['token', 't']]);
  });

  it('decodes + as a space, and %2B as a plus', () => {
    expect(parseForm('scope=api1+offline_access').get('scope')).toBe('api1 offline_access');
    expect(parseForm('secret=a%2Bb').get('secret')).toBe('a+b');
  });

  it('percent-decodes names and values as UTF-8', () => {
    const params = parseForm(
      'redirect%5Furi=https%3A%2F%2Fapp.example%2Fcb%3Fa%3D1%26b%3D2&name=%C3%A9t%C3%A9',
    );
    expect(params.get('redirect_uri')).toBe('https://app.example/cb?a=1&b=2');
    expect(params.get('name')).toBe('été');
  });

  it('keeps = inside a value: only the first one separates name and value', () => {
    expect(parseForm('token=abc==').get('token')).toBe('abc==');
  });

  it('gives an empty map for an empty body', () => {
    expect(parseForm('').size).toBe(0);
  });

  it.each([
    ['markup', '<script>'],
    ['a quote', 'a"b'],
    ['a 65-character name', 'n'.repeat(65)],
    ['a space', 'a b'],
  ])('never echoes a duplicated name with %s', (_case, name) => {
    const encoded = encodeURIComponent(name);
    const error = refusal(() => parseForm(`${encoded}=1&${encoded}=2`));
    expect(error.error).toBe('invalid_request');
    expect(error.description).toBe('parameter is included more than once');
  });

  it('echoes a duplicated name of up to 64 parameter characters', () => {
    const name = `a.b-c_${'d'.repeat(58)}`;
    expect(name).toHaveLength(64);
    expect(refusal(() => parseForm(`${name}=1&${name}=2`)).description).toBe(
      `parameter '${name}' is included more than once`,
    );
  });
});

describe('formParams', () => {
  it("gives the parsed body's parameters", () => {
    const body = parseForm('token=t');
    expect(formParams({ body } as FastifyRequest)).toBe(body);
  });

  it('gives no parameters when the request had no form body', () => {
    for (const body of [undefined, null, 'token=t', { token: 't' }])
      expect(formParams({ body } as FastifyRequest).size, String(body)).toBe(0);
  });
});
