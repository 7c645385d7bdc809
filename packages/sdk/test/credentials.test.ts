import { describe, expect, it } from 'vitest';
import { clientCredentials } from '../src/client-credentials.ts';
import { bearerCache } from '../src/credentials.ts';

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

  it('renew() after a 401 drops the cached token', async () => {
    const endpoint = fakeTokenEndpoint(3600);
    const credential = clientCredentials({
      baseUrl: 'http://gatehouse.test',
      clientId: 'gpk_id',
      clientSecret: 'gsk_secret',
      scope: 'api1',
      fetch: endpoint.fetch,
    });
    const sent = await credential.headers();
    expect(credential.renew(sent)).toBe(true);
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

  it('N concurrent callers wait for one token request', async () => {
    const endpoint = fakeTokenEndpoint(3600);
    const credential = clientCredentials({
      baseUrl: 'http://gatehouse.test',
      clientId: 'gpk_id',
      clientSecret: 'gsk_secret',
      scope: 'api1',
      fetch: endpoint.fetch,
    });
    const headers = await Promise.all(Array.from({ length: 10 }, () => credential.headers()));
    expect(new Set(headers.map((h) => h.authorization))).toEqual(new Set(['Bearer t1']));
    expect(endpoint.requests).toHaveLength(1);
  });

  it('a failed token request reaches every waiting caller, and the next call tries again', async () => {
    let calls = 0;
    const credential = clientCredentials({
      baseUrl: 'http://gatehouse.test',
      clientId: 'gpk_id',
      clientSecret: 'gsk_wrong',
      scope: 'api1',
      fetch: async () => {
        calls++;
        const body = { error: 'invalid_client', error_description: 'client authentication failed' };
        return new Response(JSON.stringify(body), { status: 401 });
      },
    });
    const outcomes = await Promise.allSettled([credential.headers(), credential.headers()]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    await expect(credential.headers()).rejects.toMatchObject({ status: 401, code: 'invalid_client' });
    expect(calls).toBe(2);
  });
});

describe('bearer cache', () => {
  it('renew() drops only the token that was refused: N requests refused together renew it once', async () => {
    let issued = 0;
    const credential = bearerCache({
      fetchToken: async () => ({ value: `t${++issued}`, expiresAt: Number.POSITIVE_INFINITY }),
    });
    const refused = await credential.headers();
    expect(credential.renew(refused)).toBe(true);
    const renewed = await credential.headers();
    expect(renewed).toEqual({ authorization: 'Bearer t2' });
    // The other requests refused with t1 learn of it later: t2 stays.
    expect(credential.renew(refused)).toBe(true);
    expect(await credential.headers()).toEqual({ authorization: 'Bearer t2' });
    expect(issued).toBe(2);
  });

  it('without a way to renew, a token is used as it is and a 401 is not retried', async () => {
    const credential = bearerCache({
      initial: { value: 'stale', expiresAt: 0 },
      canRenew: () => false,
      fetchToken: () => Promise.reject(new Error('never called')),
    });
    const sent = await credential.headers();
    expect(sent).toEqual({ authorization: 'Bearer stale' });
    expect(credential.renew(sent)).toBe(false);
  });
});
