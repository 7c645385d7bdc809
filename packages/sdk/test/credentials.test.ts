import { describe, expect, it } from 'vitest';
import { clientCredentials } from '../src/credentials.ts';

/** A token endpoint that counts its calls and answers `expires_in` seconds. */
function fakeTokenEndpoint(expiresIn: number) {
  const requests: { authorization: string | null; body: string }[] = [];
  const fetchImpl: typeof fetch = async (_input, init) => {
    requests.push({
      authorization: new Headers(init?.headers).get('authorization'),
      body: String(init?.body),
    });
    const body = {
      access_token: `t${requests.length}`,
      expires_in: expiresIn,
      token_type: 'Bearer',
      scope: 'api1',
    };
    return new Response(JSON.stringify(body), { headers: { 'content-type': 'application/json' } });
  };
  return { requests, fetch: fetchImpl };
}

describe('client credentials token cache', () => {
  it('reuses the token until a minute before it expires, then fetches a new one', async () => {
    const endpoint = fakeTokenEndpoint(3600);
    let now = 0;
    const credential = clientCredentials({
      baseUrl: 'http://gatehouse.test',
      clientId: 'gpk_id',
      clientSecret: 'gsk_secret',
      scope: 'api1',
      fetch: endpoint.fetch,
      now: () => now,
    });
    expect(await credential.headers()).toEqual({ authorization: 'Bearer t1' });
    now = 3_539_000;
    expect(await credential.headers()).toEqual({ authorization: 'Bearer t1' });
    now = 3_540_000;
    expect(await credential.headers()).toEqual({ authorization: 'Bearer t2' });
    expect(endpoint.requests).toHaveLength(2);
  });

  it('renews a short-lived token a tenth of its lifetime early', async () => {
    const endpoint = fakeTokenEndpoint(60);
    let now = 0;
    const credential = clientCredentials({
      baseUrl: 'http://gatehouse.test',
      clientId: 'gpk_id',
      clientSecret: 'gsk_secret',
      scope: 'api1',
      fetch: endpoint.fetch,
      now: () => now,
    });
    await credential.headers();
    now = 53_999;
    await credential.headers();
    now = 54_000;
    await credential.headers();
    expect(endpoint.requests).toHaveLength(2);
  });

  it('renew() drops the cached token', async () => {
    const endpoint = fakeTokenEndpoint(3600);
    const credential = clientCredentials({
      baseUrl: 'http://gatehouse.test',
      clientId: 'gpk_id',
      clientSecret: 'gsk_secret',
      scope: 'api1',
      fetch: endpoint.fetch,
    });
    await credential.headers();
    expect(credential.renew()).toBe(true);
    expect(await credential.headers()).toEqual({ authorization: 'Bearer t2' });
  });

  it('sends HTTP Basic with form-urlencoded id and secret (RFC 6749 2.3.1) and the client_credentials form', async () => {
    const endpoint = fakeTokenEndpoint(3600);
    const credential = clientCredentials({
      baseUrl: 'http://gatehouse.test',
      clientId: 'id with:colon',
      clientSecret: 'sé cret',
      scope: 'api1',
      fetch: endpoint.fetch,
    });
    await credential.headers();
    const sent = endpoint.requests[0];
    const decoded = atob(sent?.authorization?.replace(/^Basic /, '') ?? '');
    expect(decoded).toBe('id+with%3Acolon:s%C3%A9+cret');
    expect(sent?.body).toBe('grant_type=client_credentials&scope=api1');
  });
});
